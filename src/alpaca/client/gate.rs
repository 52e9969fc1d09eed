//! The gate every request passes before it is sent: the client's own budget
//! of requests a minute, and the pause Alpaca asks for through its
//! `X-RateLimit-*` headers (a 429, or `X-RateLimit-Remaining: 0`). One gate
//! is shared by all clones of a client, so parallel requests respect the
//! same limits.
//!
//! It only waits; deciding whether a failed request is tried again is the
//! retry loop's job.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::error::Elapsed;
use super::stats::StatCells;

/// Alpaca's limits are per minute: a reset further away than this comes
/// from a skewed clock, and is not waited for in full.
const LONGEST_RESET_WAIT: Duration = Duration::from_secs(61);

/// A `X-RateLimit-Reset` below this is a number of seconds from now rather
/// than a Unix time (no Unix time is that small any more).
const SMALLEST_UNIX_TIME: u64 = 1_000_000_000;

/// The rate-limit headers of one response; the names' case does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RateLimitHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Unix seconds at which the window resets.
    pub reset: Option<u64>,
}

impl RateLimitHeaders {
    pub fn read(headers: &HeaderMap) -> RateLimitHeaders {
        let number = |name: &str| {
            let value = headers.get(name)?.to_str().ok()?;
            value
                .trim()
                .parse::<f64>()
                .ok()
                .map(|n| n.max(0.0).ceil() as u64)
        };
        RateLimitHeaders {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
        }
    }

    /// How long until the window resets, seen from `now`; `None` without a
    /// reset header or when the reset has passed.
    pub fn until_reset(&self, now: SystemTime) -> Option<Duration> {
        let reset = self.reset?;
        let wait = if reset < SMALLEST_UNIX_TIME {
            Duration::from_secs(reset)
        } else {
            let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            Duration::from_secs(reset).checked_sub(since_epoch)?
        };
        (!wait.is_zero()).then_some(wait.min(LONGEST_RESET_WAIT))
    }
}

/// The budget and the pause, shared by every request of a client.
#[derive(Debug)]
pub(crate) struct Gate {
    budget: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

impl Gate {
    pub fn new(requests_per_minute: NonZeroU32) -> Gate {
        Gate {
            budget: RateLimiter::direct(budget_quota(requests_per_minute)),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request may be sent: first for Alpaca's pause, then for
    /// a slot of the budget.
    pub async fn admit(&self, stats: &StatCells) {
        self.wait_out_pause(stats).await;
        self.take_budget_slot(stats).await;
        // Another request may have met a 429 while this one waited.
        self.wait_out_pause(stats).await;
    }

    async fn wait_out_pause(&self, stats: &StatCells) {
        let Some(wait) = self.pause_left() else {
            return;
        };
        stats.rate_limit_wait();
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "waiting {} for alpaca's rate limit window to reset",
            Elapsed(wait)
        );
        tokio::time::sleep(wait).await;
    }

    async fn take_budget_slot(&self, stats: &StatCells) {
        let mut counted = false;
        while let Err(not_until) = self.budget.check() {
            let wait = not_until.wait_time_from(self.budget.clock().now());
            if !counted {
                stats.rate_limit_wait();
                log_budget_wait(wait);
                counted = true;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from a response's headers. A window with nothing left (or a
    /// 429, which says the same) pauses every request until its reset.
    /// Returns the pause, if one began.
    pub fn observe(&self, headers: &HeaderMap, too_many_requests: bool) -> Option<Duration> {
        let limits = RateLimitHeaders::read(headers);
        let exhausted = too_many_requests || limits.remaining == Some(0);
        if !exhausted {
            return None;
        }
        let wait = limits.until_reset(SystemTime::now())?;
        self.pause_for(wait);
        Some(wait)
    }

    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        *paused = Some(paused.map_or(until, |earlier| earlier.max(until)));
    }

    pub fn pause_left(&self) -> Option<Duration> {
        let paused = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        let left = paused?.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}

/// Waits of the budget are routine at full speed; only long ones are news.
fn log_budget_wait(wait: Duration) {
    let wait_ms = wait.as_millis() as u64;
    if wait >= Duration::from_secs(1) {
        tracing::info!(wait_ms, "waiting {} for the request budget", Elapsed(wait));
    } else {
        tracing::debug!(wait_ms, "waiting {} for the request budget", Elapsed(wait));
    }
}

/// A quota that never lets more than `per_minute` requests through in any
/// minute: a tenth of them may go at once, the rest are spread evenly.
pub(crate) fn budget_quota(per_minute: NonZeroU32) -> Quota {
    let burst = (per_minute.get() / 10).max(1);
    let spread = (per_minute.get() - burst).max(1);
    let period = Duration::from_secs(60) / spread;
    Quota::with_period(period)
        .expect("a period of at least 60 s / u32::MAX is not zero")
        .allow_burst(NonZeroU32::new(burst).expect("at least one"))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn headers_are_read_whatever_their_case() {
        let read = RateLimitHeaders::read(&headers(&[
            ("X-RateLimit-Limit", "200"),
            ("x-ratelimit-remaining", "0"),
            ("X-RATELIMIT-RESET", "1700000060"),
        ]));
        let expected = RateLimitHeaders {
            limit: Some(200),
            remaining: Some(0),
            reset: Some(1_700_000_060),
        };
        assert_eq!(read, expected);
        assert_eq!(
            RateLimitHeaders::read(&headers(&[("x-ratelimit-remaining", "many")])),
            RateLimitHeaders::default()
        );
    }

    #[test]
    fn the_wait_until_reset_is_bounded() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let at = |reset: u64| RateLimitHeaders {
            reset: Some(reset),
            ..RateLimitHeaders::default()
        };
        let cases = [
            (at(1_700_000_010), Some(Duration::from_millis(9_750))),
            (at(1_699_999_990), None),
            (at(1_700_009_000), Some(LONGEST_RESET_WAIT)),
            (at(5), Some(Duration::from_secs(5))),
            (RateLimitHeaders::default(), None),
        ];
        for (headers, wait) in cases {
            assert_eq!(headers.until_reset(now), wait, "{headers:?}");
        }
    }

    #[test]
    fn the_budget_never_exceeds_its_minute() {
        for per_minute in [1, 2, 60, 120, 200, 10_000] {
            let quota = budget_quota(NonZeroU32::new(per_minute).unwrap());
            let burst = quota.burst_size().get();
            let refills =
                (Duration::from_secs(60).as_nanos() / quota.replenish_interval().as_nanos()) as u32;
            assert!(
                burst + refills <= per_minute.max(2),
                "{per_minute}: {quota:?}"
            );
            assert!(
                burst + refills >= per_minute * 9 / 10,
                "{per_minute}: {quota:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_429_pauses_until_the_reset() {
        let gate = Gate::new(NonZeroU32::new(10_000).unwrap());
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2;
        let reset = reset.to_string();
        let limits = headers(&[("x-ratelimit-reset", &reset)]);
        assert_eq!(gate.observe(&limits, false), None, "requests were left");
        let pause = gate.observe(&limits, true).expect("a pause");
        assert!(pause > Duration::from_secs(1) && pause <= Duration::from_secs(2));
        assert!(gate.pause_left().is_some());
    }
}

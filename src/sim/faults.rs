//! The moving parts of fault injection and bookkeeping: the rate limiter with
//! its `X-RateLimit-*` headers, the request counters a test reads back, and
//! the body truncation behind the malformed-response fault. Which fault hits
//! which request is decided in `server`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use super::config::RateLimit;

/// A fixed-window request budget on the machine's clock (not the simulated
/// one, which may be frozen).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    window: Mutex<Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    ends: SystemTime,
    used: u32,
}

/// The outcome of asking the limiter for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds, rounded up, at which the window ends.
    pub reset: u64,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            window: Mutex::new(Window {
                ends: UNIX_EPOCH,
                used: 0,
            }),
        }
    }

    pub fn admit(&self, now: SystemTime) -> Quota {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if now >= window.ends {
            *window = Window {
                ends: now + self.limit.window,
                used: 0,
            };
        }
        let allowed = window.used < self.limit.requests;
        if allowed {
            window.used += 1;
        }
        Quota {
            allowed,
            limit: self.limit.requests,
            remaining: self.limit.requests - window.used,
            reset: unix_seconds_rounded_up(window.ends),
        }
    }
}

fn unix_seconds_rounded_up(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

impl Quota {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", self.limit.into()),
            ("x-ratelimit-remaining", self.remaining.into()),
            ("x-ratelimit-reset", self.reset),
        ] {
            headers.insert(name, HeaderValue::from(value));
        }
    }
}

/// What a simulator has done so far, as read by [`Simulator::counters`].
///
/// [`Simulator::counters`]: super::Simulator::counters
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counters {
    /// Every request received, including refused and dropped ones.
    pub requests: u64,
    /// Responses sent, by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Connections closed without a response.
    pub dropped: u64,
    /// Bars in the bodies of successful bars responses.
    pub bars_served: u64,
}

impl Counters {
    /// The number of responses sent with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// The live counters behind [`Counters`], updated without locks.
#[derive(Debug)]
pub(crate) struct CounterCells {
    requests: AtomicU64,
    by_status: [AtomicU64; 600],
    dropped: AtomicU64,
    bars_served: AtomicU64,
}

impl Default for CounterCells {
    fn default() -> Self {
        CounterCells {
            requests: AtomicU64::new(0),
            by_status: std::array::from_fn(|_| AtomicU64::new(0)),
            dropped: AtomicU64::new(0),
            bars_served: AtomicU64::new(0),
        }
    }
}

impl CounterCells {
    /// Counts a new request and returns its number, from 1.
    pub fn begin(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn responded(&self, status: u16) {
        if let Some(cell) = self.by_status.get(usize::from(status)) {
            cell.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }

    pub fn served_bars(&self, count: usize) {
        self.bars_served.fetch_add(count as u64, Ordering::SeqCst);
    }

    pub fn snapshot(&self) -> Counters {
        let by_status = (0..self.by_status.len())
            .map(|status| (status as u16, self.by_status[status].load(Ordering::SeqCst)))
            .filter(|(_, count)| *count > 0)
            .collect();
        Counters {
            requests: self.requests.load(Ordering::SeqCst),
            by_status,
            dropped: self.dropped.load(Ordering::SeqCst),
            bars_served: self.bars_served.load(Ordering::SeqCst),
        }
    }
}

/// Keeps the status and headers of a response but only the first half of
/// its body, so that a JSON body no longer parses.
pub(crate) async fn truncate_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_past_the_budget_until_the_window_ends() {
        let limiter = RateLimiter::new(RateLimit {
            requests: 2,
            window: Duration::from_secs(60),
        });
        let t0 = UNIX_EPOCH + Duration::from_millis(1_000_500);
        let remaining: Vec<(bool, u32)> = (0..3)
            .map(|_| limiter.admit(t0))
            .map(|q| (q.allowed, q.remaining))
            .collect();
        assert_eq!(remaining, [(true, 1), (true, 0), (false, 0)]);
        assert_eq!(limiter.admit(t0).reset, 1_061, "the reset is rounded up");

        let after = limiter.admit(t0 + Duration::from_secs(60));
        assert_eq!(
            (after.allowed, after.remaining, after.reset),
            (true, 1, 1_121)
        );
    }

    #[test]
    fn quotas_write_the_three_headers() {
        let quota = Quota {
            allowed: true,
            limit: 200,
            remaining: 199,
            reset: 1_700_000_000,
        };
        let mut headers = HeaderMap::new();
        quota.write_headers(&mut headers);
        assert_eq!(headers["X-RateLimit-Limit"], "200");
        assert_eq!(headers["X-RateLimit-Remaining"], "199");
        assert_eq!(headers["X-RateLimit-Reset"], "1700000000");
    }

    #[test]
    fn counters_snapshot_only_statuses_seen() {
        let cells = CounterCells::default();
        assert_eq!((cells.begin(), cells.begin()), (1, 2));
        cells.responded(200);
        cells.responded(200);
        cells.responded(429);
        cells.served_bars(7);
        let snapshot = cells.snapshot();
        assert_eq!(snapshot.by_status, BTreeMap::from([(200, 2), (429, 1)]));
        assert_eq!(
            (
                snapshot.requests,
                snapshot.bars_served,
                snapshot.status(500)
            ),
            (2, 7, 0)
        );
    }
}

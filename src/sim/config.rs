//! How one simulator instance behaves: the keys it accepts, its clock, and
//! the faults it injects. Built once with chained calls and then read-only,
//! except for the clock, which a running simulator can be told to move.
//!
//! Faults that pick "the n-th request" count every request the instance
//! receives, from 1, whatever its path and whether or not it was refused.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The simulator's idea of now: it bounds which minutes have bars (none
/// after now) and answers `GET /v2/clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimClock {
    /// The machine's clock.
    #[default]
    System,
    /// A frozen instant.
    Fixed(DateTime<Utc>),
    /// The machine's clock shifted by a constant.
    Offset(TimeDelta),
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            SimClock::System => Utc::now(),
            SimClock::Fixed(at) => *at,
            SimClock::Offset(by) => Utc::now() + *by,
        }
    }
}

/// Which `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` pairs are let in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Keys {
    /// Any pair of non-empty values.
    #[default]
    AnyNonEmpty,
    /// Only these (key id, secret) pairs.
    Only(Vec<(String, String)>),
}

/// A request budget per window, as Alpaca enforces per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// The behaviour of one simulator. `SimConfig::default()` injects no fault,
/// accepts any non-empty keys and follows the machine's clock.
#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    pub(crate) keys: Keys,
    pub(crate) clock: SimClock,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) server_error_every: Option<u64>,
    pub(crate) latency: Duration,
    pub(crate) malformed_body_on: Option<u64>,
    pub(crate) drop_connection_on: Option<u64>,
    pub(crate) free_plan: bool,
}

impl SimConfig {
    /// Accepts this key pair (and the others given the same way) instead of
    /// any non-empty pair. Other keys get 403, missing ones 401.
    pub fn accept_keys(mut self, key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        let pair = (key_id.into(), secret.into());
        match &mut self.keys {
            Keys::Only(pairs) => pairs.push(pair),
            Keys::AnyNonEmpty => self.keys = Keys::Only(vec![pair]),
        }
        self
    }

    pub fn clock(mut self, clock: SimClock) -> Self {
        self.clock = clock;
        self
    }

    /// Allows `requests` per `window` (a fixed window that starts with the
    /// first request after the previous one ended), answering 429 past it.
    /// Every response then carries the `X-RateLimit-*` headers.
    pub fn rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.rate_limit = Some(RateLimit { requests, window });
        self
    }

    /// Fails request `k`, `2k`, `3k`... with 500, 502, 503 and 504 in turn;
    /// the 502 and 504 bodies are HTML, as a proxy would send them.
    pub fn server_error_every(mut self, k: u64) -> Self {
        self.server_error_every = Some(k.max(1));
        self
    }

    /// Delays every response by this much.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Cuts the body of the `n`-th response in half (invalid JSON, with its
    /// status and headers intact).
    pub fn malformed_body_on(mut self, n: u64) -> Self {
        self.malformed_body_on = Some(n);
        self
    }

    /// Closes the connection of the `n`-th request without any response.
    pub fn drop_connection_on(mut self, n: u64) -> Self {
        self.drop_connection_on = Some(n);
        self
    }

    /// Behaves like Alpaca's free plan: SIP bars newer than 15 minutes before
    /// now are refused with 403 and code 42210000.
    pub fn free_plan(mut self) -> Self {
        self.free_plan = true;
        self
    }

    /// The status of the injected server error for the `nth` request, if any.
    pub(crate) fn server_error_at(&self, nth: u64) -> Option<u16> {
        let every = self.server_error_every?;
        let failure = nth.is_multiple_of(every).then_some(nth / every)?;
        Some([500, 502, 503, 504][((failure - 1) % 4) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_cycle_through_the_four_statuses() {
        let config = SimConfig::default().server_error_every(3);
        let statuses: Vec<_> = (1..=15)
            .filter_map(|seq| config.server_error_at(seq))
            .collect();
        assert_eq!(statuses, [500, 502, 503, 504, 500]);
        assert_eq!(SimConfig::default().server_error_at(3), None);
    }

    #[test]
    fn accepting_keys_replaces_the_any_key_policy() {
        let config = SimConfig::default()
            .accept_keys("k1", "s1")
            .accept_keys("k2", "s2");
        let expected = vec![("k1".into(), "s1".into()), ("k2".into(), "s2".into())];
        assert_eq!(config.keys, Keys::Only(expected));
    }
}

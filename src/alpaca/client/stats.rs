//! What a client has done so far, counted without locks so that a progress
//! bar can read it at any moment from another task.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a client's counters, over all its clones and requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were attempts after a failure.
    pub retries: u64,
    /// Times a request was held back by a rate limit: the client's own
    /// budget, or Alpaca's window (a 429 or no requests remaining).
    pub rate_limit_waits: u64,
    /// Pages received whole and readable.
    pub pages: u64,
}

#[derive(Debug, Default)]
pub(crate) struct StatCells {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    pages: AtomicU64,
}

impl StatCells {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rate_limit_wait(&self) {
        self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn page(&self) {
        self.pages.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Ordering::Relaxed),
            pages: self.pages.load(Ordering::Relaxed),
        }
    }
}

//! Getting one page in spite of transient trouble: each attempt passes the
//! rate-limit gate, and a failure worth retrying waits (until Alpaca's
//! window resets after a 429, or an exponential backoff with jitter
//! otherwise) within a bound on the number of retries and on the total
//! time. Refusals end the page at once.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use tokio::time::Instant;

use super::Inner;
use super::error::{CallLabel, Elapsed, FetchError, RequestLabel};
use super::page::{Failure, FinalFailure, WirePage, read_response, transport_failure};

/// Backoff delays stop growing here.
const LONGEST_BACKOFF: Duration = Duration::from_secs(30);

/// What comes before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The gate holds every request until Alpaca's window resets.
    ForReset(Duration),
    /// A backoff delay, slept by the retry loop itself.
    Backoff(Duration),
}

impl Wait {
    fn length(self) -> Duration {
        match self {
            Wait::ForReset(wait) | Wait::Backoff(wait) => wait,
        }
    }
}

/// A 429 that said when the window resets waits for the reset; anything
/// else (a 429 without the header included) takes the next backoff delay.
fn next_wait(
    rate_limited: bool,
    pause: Option<Duration>,
    backoff: &mut impl Iterator<Item = Duration>,
) -> Wait {
    match pause {
        Some(pause) if rate_limited => Wait::ForReset(pause),
        _ => Wait::Backoff(backoff.next().unwrap_or(LONGEST_BACKOFF)),
    }
}

/// Whether another attempt is allowed: retries are left, and the wait
/// before it ends within the time allowed for the page.
fn retries_left(inner: &Inner, retries: u32, spent: Duration, wait: Duration) -> bool {
    retries < inner.config.max_retries && spent + wait <= inner.config.max_retry_time
}

impl Inner {
    /// Fetches one page, retrying what is worth retrying.
    pub(super) async fn fetch_page(
        &self,
        request: &RequestLabel,
        call: &CallLabel,
    ) -> Result<WirePage, FetchError> {
        let started = Instant::now();
        let mut backoff = self.backoff();
        let mut retries = 0;
        loop {
            let (reason, rate_limited) = match self.attempt(call).await {
                Ok(page) => {
                    self.stats.page();
                    return Ok(page);
                }
                Err(Failure::Transient {
                    reason,
                    rate_limited,
                }) => (reason, rate_limited),
                Err(Failure::Final(failure)) => return Err(final_error(failure, request, call)),
            };

            let wait = next_wait(rate_limited, self.gate.pause_left(), &mut backoff);
            if !retries_left(self, retries, started.elapsed(), wait.length()) {
                return Err(FetchError::RetriesExhausted {
                    request: request.clone(),
                    page: call.page,
                    attempts: retries + 1,
                    elapsed: started.elapsed(),
                    last: reason,
                });
            }
            retries += 1;
            self.stats.retry();
            log_retry(call.page, retries, wait, &reason);
            if let Wait::Backoff(delay) = wait {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// One request for one page, through the gate.
    async fn attempt(&self, call: &CallLabel) -> Result<WirePage, Failure> {
        self.gate.admit(&self.stats).await;
        self.stats.request();
        let response = self
            .http
            .get(self.endpoint.clone())
            .query(&call.params)
            .send()
            .await
            .map_err(|e| transport_failure(&e))?;

        let status = response.status();
        self.gate
            .observe(response.headers(), status == StatusCode::TOO_MANY_REQUESTS);
        let body = response.bytes().await.map_err(|e| transport_failure(&e))?;
        read_response(status, &body)
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        let first = self.config.min_retry_delay;
        ExponentialBuilder::new()
            .with_min_delay(first)
            .with_max_delay(LONGEST_BACKOFF.max(first))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

fn final_error(failure: FinalFailure, request: &RequestLabel, call: &CallLabel) -> FetchError {
    let (request, call) = (request.clone(), call.clone());
    match failure {
        FinalFailure::Refused(refusal) => FetchError::Refused {
            request,
            call,
            refusal,
        },
        FinalFailure::Shape(reason) => FetchError::NotAPage {
            request,
            call,
            reason,
        },
        FinalFailure::Unsendable(reason) => FetchError::Unsendable {
            request,
            call,
            reason,
        },
    }
}

fn log_retry(page: u64, retry: u32, wait: Wait, reason: &str) {
    let delay_ms = wait.length().as_millis() as u64;
    match wait {
        Wait::ForReset(_) => tracing::info!(
            page,
            retry,
            delay_ms,
            reason,
            "rate limited; retrying once alpaca's window resets in {}",
            Elapsed(wait.length())
        ),
        Wait::Backoff(_) => tracing::info!(
            page,
            retry,
            delay_ms,
            reason,
            "request failed; retrying in {}",
            Elapsed(wait.length())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_429_with_a_reset_waits_for_the_reset() {
        let second = Duration::from_secs(1);
        let cases = [
            (true, Some(second * 7), Wait::ForReset(second * 7)),
            (true, None, Wait::Backoff(second)),
            (false, Some(second * 7), Wait::Backoff(second)),
            (false, None, Wait::Backoff(second)),
        ];
        for (rate_limited, pause, expected) in cases {
            let mut backoff = [second, second * 2].into_iter();
            assert_eq!(next_wait(rate_limited, pause, &mut backoff), expected);
        }
    }
}

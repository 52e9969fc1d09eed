//! The one request the preflight may make: `GET /v2/clock` on the trading
//! host with the keys, which proves that the host takes them. It is cheap,
//! reads nothing about the account, and follows no redirect, so the keys go
//! to the host that the other checks accepted and nowhere else.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};
use tracing::{Instrument, info_span};

use super::{AUTHENTICATION, Check, Environment, urls};
use crate::alpaca::wire::{ApiError, Clock};
use crate::secret::Secret;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(20);

/// Proves the keys. Called only after every offline check passed, so the
/// URL and both keys are known to be there and acceptable.
pub async fn check_keys(env: &Environment) -> Check {
    let accepted = env
        .base_url
        .as_deref()
        .map(|raw| urls::accept(raw, &urls::TRADING));
    let (Some(Ok(accepted)), Some(key_id), Some(secret_key)) =
        (accepted, env.key_id.as_ref(), env.secret_key.as_ref())
    else {
        return Check::skipped(
            AUTHENTICATION,
            "not tried: the URL or the keys are not usable",
        );
    };

    let url = format!("{}/v2/clock", accepted.origin);
    let span = info_span!("clock request", host = %accepted.origin);
    match request(&url, key_id, secret_key).instrument(span).await {
        Ok(response) => judge(&url, response).await,
        Err(message) => Check::fail(AUTHENTICATION, message),
    }
}

async fn request(url: &str, key_id: &Secret, secret_key: &Secret) -> Result<Response, String> {
    // reqwest is built without a crypto provider so that it and sqlx share
    // ring; installing it twice is harmless, hence the ignored result.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent(concat!("seedctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("could not set up the HTTP client: {}", chain(&e)))?;
    client
        .get(url)
        .headers(key_headers(key_id, secret_key)?)
        .send()
        .await
        .map_err(|e| format!("could not reach {url}: {}", chain(&e)))
}

/// The two key headers, marked sensitive so that no debug output of the
/// request shows them.
fn key_headers(key_id: &Secret, secret_key: &Secret) -> Result<HeaderMap, String> {
    let value = |secret: &Secret| {
        let mut value = HeaderValue::from_str(secret.expose())
            .map_err(|_| "a key holds characters that cannot be sent in a header".to_string())?;
        value.set_sensitive(true);
        Ok::<_, String>(value)
    };
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static("apca-api-key-id"), value(key_id)?);
    headers.insert(
        HeaderName::from_static("apca-api-secret-key"),
        value(secret_key)?,
    );
    Ok(headers)
}

async fn judge(url: &str, response: Response) -> Check {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        return match serde_json::from_str::<Clock>(&body) {
            Ok(clock) => Check::pass(AUTHENTICATION, accepted_message(url, &clock)),
            Err(_) => Check::fail(
                AUTHENTICATION,
                format!(
                    "{url} answered {status} but not with Alpaca's clock; is {} an Alpaca \
                     trading host?",
                    super::BASE_URL
                ),
            ),
        };
    }
    Check::fail(AUTHENTICATION, refusal_message(url, status, &body))
}

fn accepted_message(url: &str, clock: &Clock) -> String {
    let market = if clock.is_open { "open" } else { "closed" };
    format!("{url} accepted the keys (the market is {market})")
}

fn refusal_message(url: &str, status: StatusCode, body: &str) -> String {
    let said = serde_json::from_str::<ApiError>(body)
        .map(|e| format!(": {}", one_line(&e.message)))
        .unwrap_or_default();
    let next = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
            "; check that {} and {} are the paper account's keys (live keys do not work on the \
             paper host)",
            super::KEY_ID,
            super::SECRET_KEY
        ),
        s if s.is_redirection() => "; seedctl follows no redirect with the keys".to_string(),
        _ => String::new(),
    };
    format!("{url} answered {status}{said}{next}")
}

/// A server's message, kept to one short line.
fn one_line(message: &str) -> String {
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(120).collect()
}

/// An error with its causes, on one line: reqwest's own message rarely says
/// why a connection failed.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_to_check() {
        let url = "http://127.0.0.1:9/v2/clock";
        let forbidden = refusal_message(url, StatusCode::FORBIDDEN, r#"{"message":"forbidden."}"#);
        assert_eq!(
            forbidden,
            "http://127.0.0.1:9/v2/clock answered 403 Forbidden: forbidden.; check that \
             APCA_API_KEY_ID and APCA_API_SECRET_KEY are the paper account's keys (live keys \
             do not work on the paper host)"
        );
        let html = refusal_message(url, StatusCode::BAD_GATEWAY, "<html>bad gateway</html>");
        assert_eq!(html, "http://127.0.0.1:9/v2/clock answered 502 Bad Gateway");
        let moved = refusal_message(url, StatusCode::FOUND, "");
        assert!(
            moved.ends_with("seedctl follows no redirect with the keys"),
            "{moved}"
        );
    }

    #[test]
    fn a_key_that_is_not_a_header_value_is_refused_without_showing_it() {
        let bad = Secret::new("PK\nSECRET");
        let error = key_headers(&bad, &Secret::new("ok")).unwrap_err();
        assert!(!error.contains("SECRET"), "{error}");
    }
}

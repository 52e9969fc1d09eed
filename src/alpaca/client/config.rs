//! The settings of the market data client and where they come from: the
//! variables Alpaca's own SDKs read, plus limits with defaults fit for the
//! free plan. Reading them is all this module does; nothing is sent.

use std::num::NonZeroU32;
use std::time::Duration;

use url::Url;

use crate::secret::{Secret, redact_url};

/// Where Alpaca serves market data, for paper and live keys alike.
pub const DEFAULT_DATA_URL: &str = "https://data.alpaca.markets";

pub const DATA_URL_VARIABLE: &str = "APCA_API_DATA_URL";
pub const KEY_ID_VARIABLE: &str = "APCA_API_KEY_ID";
pub const SECRET_KEY_VARIABLE: &str = "APCA_API_SECRET_KEY";

/// How the client talks to Alpaca's market data API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub data_url: Url,
    pub key_id: Secret,
    pub secret_key: Secret,
    /// The client's own request budget. Never more than this many requests
    /// are sent in any minute, retries included.
    pub requests_per_minute: NonZeroU32,
    /// Retries of one page after its first attempt.
    pub max_retries: u32,
    /// The longest one page may take, waits and retries included.
    pub max_retry_time: Duration,
    /// The first retry's delay; each later one doubles it (up to 30 s), plus
    /// jitter.
    pub min_retry_delay: Duration,
    pub connect_timeout: Duration,
    /// The longest wait for the next bytes of a response.
    pub read_timeout: Duration,
}

/// A configuration problem: nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{name} is not set: export the key id and secret key of your Alpaca account")]
    MissingVariable { name: &'static str },
    #[error("{name} `{value}` is not a usable URL: {reason}")]
    InvalidDataUrl {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "{name} holds characters that cannot be sent in an HTTP header; copy the key again \
         without spaces or line breaks"
    )]
    UnsendableKey { name: &'static str },
    #[error("could not set up the HTTP client: {0}")]
    Http(String),
}

impl ClientConfig {
    /// A configuration with the default limits: 200 requests a minute, 8
    /// retries within 5 minutes a page, timeouts of 10 s to connect and 60 s
    /// between reads.
    pub fn new(data_url: Url, key_id: Secret, secret_key: Secret) -> ClientConfig {
        ClientConfig {
            data_url,
            key_id,
            secret_key,
            requests_per_minute: NonZeroU32::new(200).expect("non-zero"),
            max_retries: 8,
            max_retry_time: Duration::from_secs(5 * 60),
            min_retry_delay: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        }
    }

    /// Reads `APCA_API_DATA_URL` (optional), `APCA_API_KEY_ID` and
    /// `APCA_API_SECRET_KEY` through `lookup`; the other settings take their
    /// defaults. An empty variable counts as unset.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientConfig, ClientError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let data_url = match read(DATA_URL_VARIABLE) {
            Some(raw) => parse_data_url(DATA_URL_VARIABLE, raw.trim())?,
            None => Url::parse(DEFAULT_DATA_URL).expect("the default data URL parses"),
        };
        let secret = |name: &'static str| {
            read(name)
                .map(|value| Secret::new(value.trim()))
                .ok_or(ClientError::MissingVariable { name })
        };
        let key_id = secret(KEY_ID_VARIABLE)?;
        let secret_key = secret(SECRET_KEY_VARIABLE)?;
        Ok(ClientConfig::new(data_url, key_id, secret_key))
    }
}

/// Parses a data host URL, refusing what the client could not send to.
pub(crate) fn parse_data_url(name: &'static str, raw: &str) -> Result<Url, ClientError> {
    let refuse = |reason: String| ClientError::InvalidDataUrl {
        name,
        value: hide_userinfo(&redact_url(raw)),
        reason,
    };
    let url = Url::parse(raw).map_err(|e| refuse(e.to_string()))?;
    check_data_url(&url).map_err(refuse)?;
    Ok(url)
}

/// Masks `user:password@` in text that may not parse as a URL, so that a
/// typo does not print the password.
fn hide_userinfo(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => raw.to_string(),
    }
}

pub(crate) fn check_data_url(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("it has no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_data_url_defaults_to_alpacas_host() {
        let lookup = env(&[(KEY_ID_VARIABLE, "PK1"), (SECRET_KEY_VARIABLE, "S1")]);
        let config = ClientConfig::from_env(lookup).unwrap();
        assert_eq!(config.data_url.as_str(), "https://data.alpaca.markets/");
        assert_eq!(config.key_id.expose(), "PK1");
        assert_eq!(config.requests_per_minute.get(), 200);
    }

    #[test]
    fn missing_or_empty_keys_name_the_variable() {
        let cases = [
            (vec![(SECRET_KEY_VARIABLE, "S1")], KEY_ID_VARIABLE),
            (vec![(KEY_ID_VARIABLE, "PK1")], SECRET_KEY_VARIABLE),
            (
                vec![(KEY_ID_VARIABLE, "PK1"), (SECRET_KEY_VARIABLE, "  ")],
                SECRET_KEY_VARIABLE,
            ),
        ];
        for (pairs, missing) in cases {
            let err = ClientConfig::from_env(env(&pairs)).unwrap_err();
            assert!(
                matches!(err, ClientError::MissingVariable { name } if name == missing),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_data_urls_are_refused_without_their_password() {
        let cases = [
            ("not a url", "relative URL without a base"),
            ("ftp://data.example", "the scheme must be http or https"),
            ("https://user:hunter2@", "empty host"),
        ];
        for (raw, reason) in cases {
            let lookup = env(&[
                (DATA_URL_VARIABLE, raw),
                (KEY_ID_VARIABLE, "PK1"),
                (SECRET_KEY_VARIABLE, "S1"),
            ]);
            let message = ClientConfig::from_env(lookup).unwrap_err().to_string();
            assert!(message.contains(reason), "{raw}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}

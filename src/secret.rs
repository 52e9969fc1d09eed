//! Values that must never be shown: API keys and passwords.
//!
//! A [`Secret`] prints as `***` through `Debug` and `Display`, so it can sit
//! in any struct that is logged, put in an error or dumped by a panic without
//! leaking. The value itself is reachable only through
//! [`Secret::expose`], which names the one place it is used on purpose.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A URL fit to show: its password, if any, replaced by `***`. Text that is
/// not a URL is returned as it is.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let key = Secret::new("PKTEST1234");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{key:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&key)), "Some(Secret(***))");
        assert_eq!(key.expose(), "PKTEST1234");
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://seed:hunter2@db.internal:5432/bars"),
            "postgres://seed:***@db.internal:5432/bars"
        );
        assert_eq!(redact_url("postgres://db/bars"), "postgres://db/bars");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}

//! Why fetching bars failed, in words that name the request (its symbols,
//! window and feed) and, for a refusal, the exact call and Alpaca's own code
//! and message, with the next step when one is known.
//!
//! Keys never reach these types: they travel only in request headers.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::{Adjustment, Feed, Symbol};

/// Alpaca's code for a value it will not serve, which is also what the free
/// plan gets when it asks for SIP bars of the last 15 minutes.
pub const UNPROCESSABLE_CODE: u32 = 42210000;

/// How many symbols an error lists before it only counts the rest.
const SYMBOLS_SHOWN: usize = 3;

/// How much of a body that is not Alpaca's JSON error an error quotes.
const SNIPPET_CHARS: usize = 200;

/// A bars request as a person reads it: symbols, window and feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLabel {
    pub symbols: Vec<Symbol>,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    pub feed: Feed,
    pub adjustment: Adjustment,
}

impl fmt::Display for RequestLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bars of {} from {} to {} on feed {}",
            SymbolList(&self.symbols),
            rfc3339(self.start),
            rfc3339(self.end),
            self.feed
        )
    }
}

/// `AAA`, `AAA, BBB`, or `AAA, BBB, CCC and 7 more (10 symbols)`.
struct SymbolList<'a>(&'a [Symbol]);

impl fmt::Display for SymbolList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<&str> = self
            .0
            .iter()
            .take(SYMBOLS_SHOWN)
            .map(Symbol::as_str)
            .collect();
        f.write_str(&shown.join(", "))?;
        let hidden = self.0.len().saturating_sub(SYMBOLS_SHOWN);
        if hidden > 0 {
            write!(f, " and {hidden} more ({} symbols)", self.0.len())?;
        }
        Ok(())
    }
}

pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One HTTP call as sent: method, path and parameters (symbols shortened
/// past a few, the page token replaced by the page's number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLabel {
    pub path: String,
    pub params: Vec<(&'static str, String)>,
    pub page: u64,
}

impl fmt::Display for CallLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET {}", self.path)?;
        let mut separator = '?';
        for (name, value) in &self.params {
            match *name {
                "page_token" => continue,
                "symbols" => write!(f, "{separator}symbols={}", short_symbols(value))?,
                _ => write!(f, "{separator}{name}={value}")?,
            }
            separator = '&';
        }
        write!(f, " (page {})", self.page)
    }
}

fn short_symbols(joined: &str) -> String {
    let all: Vec<&str> = joined.split(',').collect();
    if all.len() <= SYMBOLS_SHOWN {
        return joined.to_string();
    }
    let hidden = all.len() - SYMBOLS_SHOWN;
    format!("{},+{hidden} more", all[..SYMBOLS_SHOWN].join(","))
}

/// Alpaca's answer to a request it will not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// Alpaca's 8-digit code, when the body was its JSON error.
    pub code: Option<u32>,
    /// Alpaca's message, or the start of a body that was not its JSON error.
    pub message: String,
}

impl Refusal {
    /// The free plan asking for SIP bars newer than 15 minutes.
    pub fn is_recent_sip(&self) -> bool {
        let message = self.message.to_ascii_lowercase();
        self.code == Some(UNPROCESSABLE_CODE)
            && (message.contains("sip") || message.contains("subscription"))
    }

    fn hint(&self) -> Option<&'static str> {
        if self.is_recent_sip() {
            return Some(
                "the free plan serves SIP bars only once they are 15 minutes old: use feed \
                 iex, wait 15 minutes past the window's end, or upgrade the market data \
                 subscription",
            );
        }
        match self.status {
            401 | 403 => Some(
                "check APCA_API_KEY_ID and APCA_API_SECRET_KEY: they must be a pair from the \
                 same Alpaca account",
            ),
            404 => Some("check APCA_API_DATA_URL: it should name Alpaca's market data host"),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        write!(f, "{} {reason}", self.status)?;
        match self.code {
            Some(code) => write!(f, ", code {code}: {:?}", self.message)?,
            None => write!(f, ": {:?}", self.message)?,
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// The start of a body, for an error message: at most 200 characters on
/// one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(SNIPPET_CHARS).collect();
    if one_line.chars().count() > SNIPPET_CHARS {
        cut.push('…');
    }
    if cut.is_empty() {
        cut.push_str("(empty body)");
    }
    cut
}

/// A duration as a person reads it: `850 ms`, `4.2 s`, `3 min 12 s`.
pub(crate) struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs < 1.0 {
            write!(f, "{} ms", self.0.as_millis())
        } else if secs < 60.0 {
            write!(f, "{secs:.1} s")
        } else {
            let whole = self.0.as_secs();
            write!(f, "{} min {} s", whole / 60, whole % 60)
        }
    }
}

/// Why a bars request did not complete. Every message starts with the
/// request it is about.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// A client error other than 429: sending it again cannot help.
    #[error("{request}: alpaca refused {call} with {refusal}")]
    Refused {
        request: RequestLabel,
        call: CallLabel,
        refusal: Refusal,
    },
    /// Rate limits, server errors, timeouts, dropped connections or broken
    /// bodies went on past the retry limits.
    #[error(
        "{request}: gave up on page {page} after {attempts} attempts in {}: the last one \
         failed with {last}; alpaca or the network may be having trouble, try again later",
        Elapsed(*.elapsed)
    )]
    RetriesExhausted {
        request: RequestLabel,
        page: u64,
        attempts: u32,
        elapsed: Duration,
        last: String,
    },
    /// Valid JSON that is not a bars page: Alpaca's format may have changed.
    #[error("{request}: the answer to {call} is not a page of bars: {reason}")]
    NotAPage {
        request: RequestLabel,
        call: CallLabel,
        reason: String,
    },
    /// The page tokens do not come to an end.
    #[error("{request}: paging does not end after {pages} pages: {why}")]
    EndlessPaging {
        request: RequestLabel,
        pages: u64,
        why: String,
    },
    #[error("{request}: alpaca sent bars of `{symbol}`, which the request did not ask for")]
    UnexpectedSymbol {
        request: RequestLabel,
        /// As sent: it may not even be a valid ticker.
        symbol: String,
    },
    /// A symbol came back after the pages had moved on to another one.
    #[error(
        "{request}: alpaca sent bars of {symbol} again after those of {after}; bars must \
         come grouped by symbol"
    )]
    SymbolOutOfOrder {
        request: RequestLabel,
        symbol: Symbol,
        after: Symbol,
    },
    #[error(
        "{request}: the bars of {symbol} are not in ascending time: {} follows {}",
        rfc3339(*.at),
        rfc3339(*.previous)
    )]
    TimeOutOfOrder {
        request: RequestLabel,
        symbol: Symbol,
        previous: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The request could not even be built (a data URL the HTTP client
    /// refuses, for example).
    #[error("{request}: could not send {call}: {reason}")]
    Unsendable {
        request: RequestLabel,
        call: CallLabel,
        reason: String,
    },
}

impl FetchError {
    /// The request the error is about.
    pub fn request(&self) -> &RequestLabel {
        match self {
            FetchError::Refused { request, .. }
            | FetchError::RetriesExhausted { request, .. }
            | FetchError::NotAPage { request, .. }
            | FetchError::EndlessPaging { request, .. }
            | FetchError::UnexpectedSymbol { request, .. }
            | FetchError::SymbolOutOfOrder { request, .. }
            | FetchError::TimeOutOfOrder { request, .. }
            | FetchError::Unsendable { request, .. } => request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(names: &[&str]) -> Vec<Symbol> {
        names.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn labels_list_a_few_symbols_and_count_the_rest() {
        let label = |names: &[&str]| RequestLabel {
            symbols: symbols(names),
            start: "2024-03-04T14:30:00Z".parse().unwrap(),
            end: "2024-03-05T21:00:00Z".parse().unwrap(),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
        };
        assert_eq!(
            label(&["SPY"]).to_string(),
            "bars of SPY from 2024-03-04T14:30:00Z to 2024-03-05T21:00:00Z on feed iex"
        );
        let many = label(&["AAA", "BBB", "CCC", "DDD", "EEE"]).to_string();
        assert!(
            many.starts_with("bars of AAA, BBB, CCC and 2 more (5 symbols) from"),
            "{many}"
        );
    }

    #[test]
    fn calls_show_parameters_but_not_the_page_token() {
        let call = CallLabel {
            path: "/v2/stocks/bars".into(),
            params: vec![
                ("symbols", "AAA,BBB,CCC,DDD".into()),
                ("timeframe", "1Min".into()),
                ("page_token", "QUFB".into()),
            ],
            page: 2,
        };
        assert_eq!(
            call.to_string(),
            "GET /v2/stocks/bars?symbols=AAA,BBB,CCC,+1 more&timeframe=1Min (page 2)"
        );
    }

    #[test]
    fn refusals_quote_alpaca_and_add_the_next_step() {
        let cases = [
            (
                Refusal {
                    status: 403,
                    code: Some(42210000),
                    message: "subscription does not permit querying recent SIP data".into(),
                },
                "403 Forbidden, code 42210000: \"subscription does not permit querying recent \
                 SIP data\"; the free plan serves SIP bars only once they are 15 minutes old: \
                 use feed iex",
            ),
            (
                Refusal {
                    status: 422,
                    code: Some(42210000),
                    message: "invalid timeframe".into(),
                },
                "422 Unprocessable Entity, code 42210000: \"invalid timeframe\"",
            ),
            (
                Refusal {
                    status: 401,
                    code: None,
                    message: "Unauthorized".into(),
                },
                "401 Unauthorized: \"Unauthorized\"; check APCA_API_KEY_ID",
            ),
        ];
        for (refusal, expected) in cases {
            let shown = refusal.to_string();
            assert!(shown.starts_with(expected), "{shown}");
        }
    }

    #[test]
    fn snippets_are_one_short_line() {
        let html = format!("<html>\r\n<body>{}</body></html>", "x".repeat(500));
        let cut = snippet(html.as_bytes());
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.starts_with("<html> <body>xxx") && cut.ends_with('…'));
        assert_eq!(snippet(b"Not Found"), "Not Found");
        assert_eq!(snippet(b" \n"), "(empty body)");
    }

    #[test]
    fn elapsed_times_read_naturally() {
        let cases = [(850, "850 ms"), (4_200, "4.2 s"), (192_000, "3 min 12 s")];
        for (millis, shown) in cases {
            assert_eq!(Elapsed(Duration::from_millis(millis)).to_string(), shown);
        }
    }
}

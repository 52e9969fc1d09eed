//! One attempt at one page: send the request, read the whole body, and sort
//! the outcome into a page, a failure worth another attempt, or a refusal.
//! Whether and when to try again is decided by the retry loop.
//!
//! Pages are read into their own shape rather than `wire::MultiBarsPage`
//! because the order of the symbols as sent matters here: it is how the
//! stream knows that a symbol is complete, whatever collation Alpaca uses.

use std::fmt;

use reqwest::StatusCode;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::error::Category;

use super::error::{Refusal, snippet};
use crate::alpaca::wire::{ApiError, Bar};

/// A page of the multi-symbol bars endpoint, symbols in the order sent.
/// A symbol absent from the page, or `"bars": null`, has no bars here.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WirePage {
    pub bars: Vec<(String, Vec<Bar>)>,
    pub next_page_token: Option<String>,
}

impl WirePage {
    pub fn bar_count(&self) -> usize {
        self.bars.iter().map(|(_, bars)| bars.len()).sum()
    }
}

/// Why an attempt did not give a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Worth another attempt: a rate limit, a server error, a timeout, a
    /// dropped connection or a body cut short.
    Transient { reason: String, rate_limited: bool },
    /// Sending the same request again cannot help.
    Final(FinalFailure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FinalFailure {
    /// Alpaca will not serve this request as it is.
    Refused(Refusal),
    /// Valid JSON that is not a bars page.
    Shape(String),
    /// The request could not be built or sent for a reason of our own.
    Unsendable(String),
}

impl Failure {
    fn transient(reason: impl Into<String>) -> Failure {
        Failure::Transient {
            reason: reason.into(),
            rate_limited: false,
        }
    }
}

/// Sorts a complete response into a page or a failure.
pub(crate) fn read_response(status: StatusCode, body: &[u8]) -> Result<WirePage, Failure> {
    if status.is_success() {
        return parse_page(body);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure::Transient {
            reason: format!("{} ({})", describe_status(status), quote_error(body)),
            rate_limited: true,
        });
    }
    if status.is_server_error() {
        let reason = format!("{} ({})", describe_status(status), quote_error(body));
        return Err(Failure::transient(reason));
    }
    Err(Failure::Final(FinalFailure::Refused(refusal(status, body))))
}

fn parse_page(body: &[u8]) -> Result<WirePage, Failure> {
    serde_json::from_slice::<WirePage>(body).map_err(|e| match e.classify() {
        Category::Data => Failure::Final(FinalFailure::Shape(e.to_string())),
        Category::Io | Category::Syntax | Category::Eof => {
            Failure::transient(format!("a body that is not valid JSON ({e})"))
        }
    })
}

fn describe_status(status: StatusCode) -> String {
    let reason = status.canonical_reason().unwrap_or("");
    format!("HTTP {} {reason}", status.as_u16())
}

/// Alpaca's message when the body is its JSON error, or the start of the
/// body otherwise.
fn quote_error(body: &[u8]) -> String {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(ApiError {
            code: Some(code),
            message,
        }) => format!("code {code}: {message:?}"),
        Ok(ApiError {
            code: None,
            message,
        }) => format!("{message:?}"),
        Err(_) => format!("{:?}", snippet(body)),
    }
}

fn refusal(status: StatusCode, body: &[u8]) -> Refusal {
    let (code, message) = match serde_json::from_slice::<ApiError>(body) {
        Ok(error) => (error.code, error.message),
        Err(_) => (None, snippet(body)),
    };
    Refusal {
        status: status.as_u16(),
        code,
        message,
    }
}

/// Why sending or receiving failed, in a few words, with the deepest cause
/// (which names what actually went wrong: a reset, a refused connection).
pub(crate) fn transport_failure(error: &reqwest::Error) -> Failure {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_builder() || error.is_redirect() {
        return Failure::Final(FinalFailure::Unsendable(root_cause(error)));
    } else {
        "the connection failed"
    };
    Failure::transient(format!("{kind} ({})", root_cause(error)))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(source) = deepest.source() {
        deepest = source;
    }
    deepest.to_string()
}

impl<'de> Deserialize<'de> for WirePage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            bars: Option<OrderedBars>,
            #[serde(default)]
            next_page_token: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        Ok(WirePage {
            bars: raw.bars.map(|b| b.0).unwrap_or_default(),
            next_page_token: raw.next_page_token,
        })
    }
}

/// The `bars` object as a list, in the order of its keys on the wire.
struct OrderedBars(Vec<(String, Vec<Bar>)>);

impl<'de> Deserialize<'de> for OrderedBars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OrderedBarsVisitor)
    }
}

struct OrderedBarsVisitor;

impl<'de> Visitor<'de> for OrderedBarsVisitor {
    type Value = OrderedBars;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of bars by symbol")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut bars = Vec::new();
        while let Some((symbol, list)) = map.next_entry::<String, Option<Vec<Bar>>>()? {
            bars.push((symbol, list.unwrap_or_default()));
        }
        Ok(OrderedBars(bars))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAR: &str = r#"{"t":"2024-03-04T14:30:00Z","o":1,"h":1,"l":1,"c":1,"v":5,"n":1,"vw":1}"#;

    #[test]
    fn pages_keep_the_order_of_symbols_as_sent() {
        let body =
            format!(r#"{{"bars":{{"ZZZ":[{BAR}],"AAA":[{BAR},{BAR}]}},"next_page_token":"t"}}"#);
        let page = read_response(StatusCode::OK, body.as_bytes()).unwrap();
        let symbols: Vec<&str> = page.bars.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(symbols, ["ZZZ", "AAA"]);
        assert_eq!(
            (page.bar_count(), page.next_page_token.as_deref()),
            (3, Some("t"))
        );
    }

    #[test]
    fn missing_and_null_bars_are_no_bars() {
        for body in [
            r#"{"bars":null,"next_page_token":null}"#,
            r#"{"bars":{},"next_page_token":null}"#,
            r#"{"next_page_token":null}"#,
        ] {
            let page = read_response(StatusCode::OK, body.as_bytes()).unwrap();
            assert_eq!(page, WirePage::default(), "{body}");
        }
        let page = read_response(StatusCode::OK, br#"{"bars":{"AAA":null}}"#).unwrap();
        assert_eq!(page.bars, [("AAA".to_string(), vec![])]);
    }

    #[test]
    fn responses_sort_into_pages_retries_and_refusals() {
        let transient = |reason: &str, rate_limited| {
            Err(Failure::Transient {
                reason: reason.into(),
                rate_limited,
            })
        };
        let cases: [(u16, &[u8], Result<WirePage, Failure>); 6] = [
            (
                429,
                br#"{"code":42910000,"message":"too many requests"}"#,
                transient(
                    "HTTP 429 Too Many Requests (code 42910000: \"too many requests\")",
                    true,
                ),
            ),
            (
                502,
                b"<html>\r\n<title>502</title></html>",
                transient(
                    "HTTP 502 Bad Gateway (\"<html> <title>502</title></html>\")",
                    false,
                ),
            ),
            (
                200,
                br#"{"bars":{"AAA":[{"t":"2024"#,
                transient(
                    "a body that is not valid JSON (EOF while parsing a string at line 1 \
                     column 26)",
                    false,
                ),
            ),
            (
                200,
                br#"{"bars":[]}"#,
                Err(Failure::Final(FinalFailure::Shape(
                    "invalid type: sequence, expected an object of bars by symbol at line 1 \
                     column 8"
                        .into(),
                ))),
            ),
            (
                403,
                br#"{"code":40310000,"message":"forbidden."}"#,
                Err(Failure::Final(FinalFailure::Refused(Refusal {
                    status: 403,
                    code: Some(40310000),
                    message: "forbidden.".into(),
                }))),
            ),
            (
                404,
                b"Not Found",
                Err(Failure::Final(FinalFailure::Refused(Refusal {
                    status: 404,
                    code: None,
                    message: "Not Found".into(),
                }))),
            ),
        ];
        for (status, body, expected) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(read_response(status, body), expected, "{status}");
        }
    }
}

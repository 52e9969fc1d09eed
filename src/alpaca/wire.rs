//! The JSON bodies of Alpaca's market data and trading-calendar endpoints, as
//! they travel over the wire: historical bars pages, calendar days, the market
//! clock and the error body.
//!
//! Both sides use these types: the client deserializes them, the simulator
//! serializes them, so the two cannot drift apart. They carry no behaviour
//! beyond their serde shape; validation of what they contain (bars outside a
//! window, insane prices) belongs to the code that consumes them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Symbol;

/// The only bar timeframe seedctl asks for, in Alpaca's spelling.
pub const TIMEFRAME_1MIN: &str = "1Min";

/// The largest `limit` Alpaca accepts on historical endpoints.
pub const MAX_LIMIT: u32 = 10_000;

/// The `limit` Alpaca applies when a request gives none.
pub const DEFAULT_LIMIT: u32 = 1_000;

/// One bar: `t` is the start of its minute in UTC, `v` the shares traded,
/// `n` the number of trades, `vw` the volume-weighted average price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub t: DateTime<Utc>,
    pub o: f64,
    pub h: f64,
    pub l: f64,
    pub c: f64,
    pub v: u64,
    pub n: u64,
    pub vw: f64,
}

/// A page of `GET /v2/stocks/bars`. A symbol without bars on this page is
/// absent from the map; `next_page_token == None` is the only sign of the end.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MultiBarsPage {
    #[serde(deserialize_with = "null_as_default")]
    pub bars: BTreeMap<Symbol, Vec<Bar>>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// A page of `GET /v2/stocks/{symbol}/bars`, where a page without bars has
/// `"bars": null` rather than an empty list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleBarsPage {
    pub bars: Option<Vec<Bar>>,
    pub symbol: Symbol,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// The order of bars within each symbol. Symbols themselves always come in
/// ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Asc,
    Desc,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Asc => "asc",
            Sort::Desc => "desc",
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "asc" => Ok(Sort::Asc),
            "desc" => Ok(Sort::Desc),
            _ => Err(format!("unknown sort `{raw}`: expected `asc` or `desc`")),
        }
    }
}

/// One market day of `GET /v2/calendar`. `open` and `close` are New York
/// wall-clock times of the regular session (`"09:30"`); `session_open` and
/// `session_close` bound the extended day in the compact form (`"0400"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    #[serde(with = "hh_colon_mm")]
    pub open: NaiveTime,
    #[serde(with = "hh_colon_mm")]
    pub close: NaiveTime,
    #[serde(with = "hhmm")]
    pub session_open: NaiveTime,
    #[serde(with = "hhmm")]
    pub session_close: NaiveTime,
}

/// `GET /v2/clock`: the market's view of now, with New York offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub timestamp: DateTime<FixedOffset>,
    pub is_open: bool,
    pub next_open: DateTime<FixedOffset>,
    pub next_close: DateTime<FixedOffset>,
}

/// The error body. Alpaca's `code` is an 8-digit number whose first three
/// digits repeat the HTTP status; some error bodies have no code at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    pub message: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Serde for a wall-clock time written `HH:MM`.
mod hh_colon_mm {
    use chrono::NaiveTime;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        super::serialize_time(time, "%H:%M", s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        super::deserialize_time(d, "%H:%M")
    }
}

/// Serde for a wall-clock time written `HHMM`.
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        super::serialize_time(time, "%H%M", s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        super::deserialize_time(d, "%H%M")
    }
}

fn serialize_time<S: serde::Serializer>(
    time: &NaiveTime,
    pattern: &str,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(&time.format(pattern))
}

fn deserialize_time<'de, D: Deserializer<'de>>(d: D, pattern: &str) -> Result<NaiveTime, D::Error> {
    let raw = String::deserialize(d)?;
    NaiveTime::parse_from_str(&raw, pattern)
        .map_err(|e| serde::de::Error::custom(format!("`{raw}` is not a time in {pattern}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_serialize_with_utc_z_timestamps() {
        let bar = Bar {
            t: "2024-03-05T14:31:00Z".parse().unwrap(),
            o: 10.5,
            h: 10.75,
            l: 10.25,
            c: 10.5,
            v: 300,
            n: 4,
            vw: 10.51,
        };
        let json = serde_json::to_string(&bar).unwrap();
        let expected = concat!(
            r#"{"t":"2024-03-05T14:31:00Z","o":10.5,"h":10.75,"l":10.25,"c":10.5,"#,
            r#""v":300,"n":4,"vw":10.51}"#
        );
        assert_eq!(json, expected);
    }

    #[test]
    fn a_multi_page_with_null_bars_reads_as_empty() {
        let page: MultiBarsPage =
            serde_json::from_str(r#"{"bars":null,"next_page_token":null}"#).unwrap();
        assert!(page.bars.is_empty());
        assert_eq!(page.next_page_token, None);
    }

    #[test]
    fn calendar_days_use_alpacas_two_time_spellings() {
        let raw = concat!(
            r#"{"date":"2026-11-27","open":"09:30","close":"13:00","#,
            r#""session_open":"0400","session_close":"1700"}"#
        );
        let day: CalendarDay = serde_json::from_str(raw).unwrap();
        assert_eq!(day.close, NaiveTime::from_hms_opt(13, 0, 0).unwrap());
        assert_eq!(
            day.session_close,
            NaiveTime::from_hms_opt(17, 0, 0).unwrap()
        );
        assert_eq!(serde_json::to_string(&day).unwrap(), raw);
    }

    #[test]
    fn errors_may_lack_a_code() {
        let err: ApiError = serde_json::from_str(r#"{"message":"forbidden."}"#).unwrap();
        assert_eq!(err.code, None);
        let json = serde_json::to_string(&ApiError {
            code: Some(40110000),
            message: "no".into(),
        });
        assert_eq!(json.unwrap(), r#"{"code":40110000,"message":"no"}"#);
    }
}

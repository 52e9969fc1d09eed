//! Reading the query string of a bars request into a [`BarsQuery`], with
//! Alpaca's defaults and Alpaca-style refusals: 422 for a value it does not
//! accept, 400 for a parameter it does not know, a repeated one, or a page
//! token passed with other parameters.
//!
//! Deliberately stricter than Alpaca in two places, to catch client mistakes:
//! unknown parameters are refused rather than ignored, and a bare date means
//! a whole New York day (`start` at its midnight, `end` at its last second).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::America::New_York;

use super::error::Rejection;
use super::hash::fnv1a;
use super::token::{self, Cursor, TokenError};
use crate::alpaca::wire::{DEFAULT_LIMIT, MAX_LIMIT, Sort, TIMEFRAME_1MIN};
use crate::domain::{Adjustment, Feed, Symbol};

/// How far behind now the free plan keeps SIP data.
pub(crate) const FREE_PLAN_SIP_DELAY: TimeDelta = TimeDelta::minutes(15);

/// A validated bars request. `start` and `end` are inclusive bounds on a
/// bar's timestamp; `symbols` are sorted and distinct.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BarsQuery {
    pub symbols: Vec<Symbol>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub limit: usize,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
    /// Identifies the request's parameters other than `limit` and the token.
    pub fingerprint: u64,
}

/// What the server knows besides the query string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The ticker of `/v2/stocks/{symbol}/bars`; `None` on the multi-symbol path.
    pub path_symbol: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub free_plan: bool,
}

const COMMON_PARAMETERS: [&str; 10] = [
    "timeframe",
    "start",
    "end",
    "limit",
    "page_token",
    "feed",
    "adjustment",
    "sort",
    "asof",
    "currency",
];

pub(crate) fn parse(pairs: &[(String, String)], ctx: Context) -> Result<BarsQuery, Rejection> {
    let mut allowed = COMMON_PARAMETERS.to_vec();
    if ctx.path_symbol.is_none() {
        allowed.push("symbols");
    }
    let params = Params::collect(pairs, &allowed)?;
    check_timeframe(params.get("timeframe"))?;
    check_currency(params.get("currency"))?;
    let symbols = symbols(ctx.path_symbol.or(params.get("symbols")))?;
    let feed: Feed = parse_value(&params, "feed")?.unwrap_or(Feed::Sip);
    let adjustment: Adjustment = parse_value(&params, "adjustment")?.unwrap_or_default();
    let sort: Sort = parse_value(&params, "sort")?.unwrap_or_default();
    let limit = limit(params.get("limit"))?;

    let (start, end) = window(&params, feed, ctx)?;
    let fingerprint = fingerprint(&symbols, &params, feed, adjustment, sort);
    let cursor = params
        .get("page_token")
        .map(|t| cursor(t, fingerprint, &symbols))
        .transpose()?;
    Ok(BarsQuery {
        symbols,
        start,
        end,
        limit,
        feed,
        adjustment,
        sort,
        cursor,
        fingerprint,
    })
}

/// The query string as a map, refusing unknown and repeated parameters.
/// Empty values count as absent, as some clients send `page_token=`.
pub(crate) struct Params<'a>(BTreeMap<&'a str, &'a str>);

impl<'a> Params<'a> {
    pub fn collect(pairs: &'a [(String, String)], allowed: &[&str]) -> Result<Self, Rejection> {
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(Rejection::bad_request(format!(
                    "unknown query parameter `{name}`"
                )));
            }
            if map.insert(name.as_str(), value.as_str()).is_some() {
                return Err(Rejection::bad_request(format!(
                    "query parameter `{name}` is repeated"
                )));
            }
        }
        map.retain(|_, value| !value.is_empty());
        Ok(Params(map))
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).copied()
    }
}

fn parse_value<T>(params: &Params, name: &str) -> Result<Option<T>, Rejection>
where
    T: std::str::FromStr<Err = String>,
{
    let parse = |raw: &str| raw.parse::<T>();
    params
        .get(name)
        .map(parse)
        .transpose()
        .map_err(|why| Rejection::unprocessable(format!("invalid {name}: {why}")))
}

fn check_timeframe(raw: Option<&str>) -> Result<(), Rejection> {
    match raw {
        Some(TIMEFRAME_1MIN | "1T") => Ok(()),
        Some(other) => Err(Rejection::unprocessable(format!(
            "unsupported timeframe `{other}`: this simulator serves only `{TIMEFRAME_1MIN}` bars"
        ))),
        None => Err(Rejection::unprocessable(format!(
            "missing timeframe: ask for `timeframe={TIMEFRAME_1MIN}`"
        ))),
    }
}

fn check_currency(raw: Option<&str>) -> Result<(), Rejection> {
    match raw {
        None | Some("USD") => Ok(()),
        Some(other) => Err(Rejection::unprocessable(format!(
            "unsupported currency `{other}`: this simulator prices in USD only"
        ))),
    }
}

fn symbols(raw: Option<&str>) -> Result<Vec<Symbol>, Rejection> {
    let raw = raw.ok_or_else(|| {
        Rejection::unprocessable(
            "missing symbols: give comma-separated tickers, as `symbols=AAPL,SPY`",
        )
    })?;
    let mut symbols = raw
        .split(',')
        .map(|s| s.parse::<Symbol>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| Rejection::unprocessable(format!("invalid symbols: {why}")))?;
    symbols.sort();
    symbols.dedup();
    Ok(symbols)
}

fn limit(raw: Option<&str>) -> Result<usize, Rejection> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT as usize);
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n as usize),
        _ => Err(Rejection::unprocessable(format!(
            "invalid limit `{raw}`: expected a whole number from 1 to {MAX_LIMIT}"
        ))),
    }
}

/// Which end of the window a bound is: a bare date means the first or the
/// last second of that New York day.
#[derive(Clone, Copy)]
enum Bound {
    Start,
    End,
}

/// The inclusive window, with Alpaca's defaults: from the start of today in
/// New York, until now (15 minutes ago for SIP on the free plan, which is
/// refused an explicit `end` later than that).
fn window(
    params: &Params,
    feed: Feed,
    ctx: Context,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Rejection> {
    let recent_sip_refused = ctx.free_plan && feed == Feed::Sip;
    let latest = if recent_sip_refused {
        ctx.now - FREE_PLAN_SIP_DELAY
    } else {
        ctx.now
    };
    let today = ctx.now.with_timezone(&New_York).date_naive();
    let start = match params.get("start") {
        Some(raw) => instant("start", raw, Bound::Start)?,
        None => new_york_midnight(today),
    };
    let end = params
        .get("end")
        .map(|raw| instant("end", raw, Bound::End))
        .transpose()?;
    if recent_sip_refused && end.is_some_and(|end| end > latest) {
        return Err(Rejection::recent_sip());
    }

    let end = end.unwrap_or(latest);
    if end < start {
        return Err(Rejection::unprocessable(format!(
            "end {} is before start {}",
            end.to_rfc3339(),
            start.to_rfc3339()
        )));
    }
    Ok((start, end))
}

fn instant(name: &str, raw: &str, bound: Bound) -> Result<DateTime<Utc>, Rejection> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.to_utc());
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Rejection::unprocessable(format!(
            "invalid {name} `{raw}`: expected RFC 3339 with an offset \
             (2024-01-02T14:30:00Z) or a date (2024-01-02)"
        ))
    })?;
    Ok(match bound {
        Bound::Start => new_york_midnight(date),
        Bound::End => new_york_midnight(date + TimeDelta::days(1)) - TimeDelta::seconds(1),
    })
}

pub(crate) fn new_york_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    let local = naive.and_local_timezone(New_York).earliest();
    local
        .map(|at| at.to_utc())
        .unwrap_or_else(|| naive.and_utc())
}

/// Hashes what a page token must be passed with. `limit` is left out because
/// clients that stop after a total (as alpaca-py does) shrink the last page.
fn fingerprint(
    symbols: &[Symbol],
    params: &Params,
    feed: Feed,
    adjustment: Adjustment,
    sort: Sort,
) -> u64 {
    let symbols: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    let start = params.get("start").unwrap_or_default();
    let end = params.get("end").unwrap_or_default();
    let canonical = format!(
        "{}|{start}|{end}|{feed}|{adjustment}|{sort}",
        symbols.join(",")
    );
    fnv1a(canonical.as_bytes())
}

fn cursor(raw: &str, fingerprint: u64, symbols: &[Symbol]) -> Result<Cursor, Rejection> {
    let refuse = |why: TokenError| {
        Rejection::bad_request(format!(
            "invalid page_token: {why}; pass next_page_token with the other parameters unchanged"
        ))
    };
    let cursor = token::decode(raw, fingerprint).map_err(refuse)?;
    if !symbols.contains(&cursor.symbol) {
        return Err(refuse(TokenError::OtherRequest));
    }
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx() -> Context<'static> {
        let now = "2024-03-05T18:00:00Z".parse().unwrap();
        Context {
            path_symbol: None,
            now,
            free_plan: false,
        }
    }

    fn parse_str(query: &str) -> Result<BarsQuery, Rejection> {
        parse(&pairs(query), ctx())
    }

    #[test]
    fn defaults_follow_alpaca() {
        let q = parse_str("symbols=SPY,aapl,SPY&timeframe=1Min").unwrap();
        assert_eq!(q.symbols, ["AAPL".parse().unwrap(), "SPY".parse().unwrap()]);
        assert_eq!((q.limit, q.feed, q.sort), (1000, Feed::Sip, Sort::Asc));
        assert_eq!(q.adjustment, Adjustment::RAW);
        assert_eq!(
            q.start,
            "2024-03-05T05:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(q.end, ctx().now);
    }

    #[test]
    fn bare_dates_cover_whole_new_york_days() {
        let q = parse_str("symbols=SPY&timeframe=1Min&start=2024-03-04&end=2024-03-04").unwrap();
        assert_eq!(q.start.to_rfc3339(), "2024-03-04T05:00:00+00:00");
        assert_eq!(q.end.to_rfc3339(), "2024-03-05T04:59:59+00:00");
    }

    #[test]
    fn bad_parameters_are_refused_with_the_right_status() {
        let cases = [
            ("symbols=SPY", 422, "missing timeframe"),
            (
                "symbols=SPY&timeframe=5Min",
                422,
                "unsupported timeframe `5Min`",
            ),
            ("timeframe=1Min", 422, "missing symbols"),
            ("symbols=S P&timeframe=1Min", 422, "invalid symbols"),
            (
                "symbols=SPY&timeframe=1Min&limit=0",
                422,
                "invalid limit `0`",
            ),
            (
                "symbols=SPY&timeframe=1Min&limit=10001",
                422,
                "invalid limit",
            ),
            (
                "symbols=SPY&timeframe=1Min&feed=delayed_sip",
                422,
                "invalid feed",
            ),
            (
                "symbols=SPY&timeframe=1Min&adjustment=splits",
                422,
                "invalid adjustment",
            ),
            ("symbols=SPY&timeframe=1Min&sort=up", 422, "invalid sort"),
            (
                "symbols=SPY&timeframe=1Min&start=2024-03-04T10:00:00",
                422,
                "invalid start",
            ),
            (
                "symbols=SPY&timeframe=1Min&start=2024-03-05&end=2024-03-04",
                422,
                "end ",
            ),
            (
                "symbols=SPY&timeframe=1Min&currency=EUR",
                422,
                "unsupported currency",
            ),
            (
                "symbols=SPY&timeframe=1Min&symbol=SPY",
                400,
                "unknown query parameter `symbol`",
            ),
            (
                "symbols=SPY&timeframe=1Min&limit=5&limit=6",
                400,
                "query parameter `limit` is repeated",
            ),
            (
                "symbols=SPY&timeframe=1Min&page_token=QUFQTHwx",
                400,
                "invalid page_token",
            ),
        ];
        for (query, status, message) in cases {
            let refused = parse_str(query).expect_err(query);
            assert_eq!(refused.status.as_u16(), status, "{query}");
            assert!(
                refused.message.starts_with(message),
                "{query}: {}",
                refused.message
            );
        }
    }

    #[test]
    fn the_single_symbol_path_refuses_a_symbols_parameter() {
        let single = Context {
            path_symbol: Some("spy"),
            ..ctx()
        };
        let q = parse(&pairs("timeframe=1Min"), single).unwrap();
        assert_eq!(q.symbols, ["SPY".parse().unwrap()]);
        let refused = parse(&pairs("timeframe=1Min&symbols=SPY"), single).unwrap_err();
        assert_eq!(refused.status.as_u16(), 400);
    }

    #[test]
    fn a_page_token_must_come_with_the_same_parameters() {
        let first = parse_str("symbols=SPY,QQQ&timeframe=1Min&start=2024-03-04").unwrap();
        let cursor = Cursor {
            symbol: "SPY".parse().unwrap(),
            minute: first.start,
        };
        let token = token::encode(&cursor, first.fingerprint);
        let same =
            format!("symbols=QQQ,SPY&timeframe=1Min&start=2024-03-04&limit=7&page_token={token}");
        assert_eq!(parse_str(&same).unwrap().cursor, Some(cursor));
        let other = format!("symbols=SPY,QQQ&timeframe=1Min&start=2024-03-01&page_token={token}");
        assert_eq!(parse_str(&other).unwrap_err().status.as_u16(), 400);
    }

    #[test]
    fn the_free_plan_refuses_recent_sip_but_not_iex() {
        let free = Context {
            free_plan: true,
            ..ctx()
        };
        let recent = pairs("symbols=SPY&timeframe=1Min&end=2024-03-05T17:50:00Z");
        let refused = parse(&recent, free).unwrap_err();
        assert_eq!((refused.status.as_u16(), refused.code), (403, 42210000));
        let mut iex = recent.clone();
        iex.push(("feed".into(), "iex".into()));
        assert!(parse(&iex, free).is_ok());
        let defaulted = parse(&pairs("symbols=SPY&timeframe=1Min"), free).unwrap();
        assert_eq!(defaulted.end, ctx().now - FREE_PLAN_SIP_DELAY);
    }
}

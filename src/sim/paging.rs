//! Cutting the answer to a bars request into pages: bars ordered by symbol,
//! then by time (ascending or descending), at most `limit` bars a page across
//! all symbols, so one symbol may span pages. A page ends with the token of
//! the next bar when there is one, so `next_page_token == null` means exactly
//! that nothing is left.
//!
//! Only minutes that have ended by the simulator's now are served: a session
//! in progress is served up to its last complete minute.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::America::New_York;

use super::data::bar_in_session;
use super::query::BarsQuery;
use super::token::{self, Cursor};
use crate::alpaca::wire::{Bar, Sort};
use crate::calendar::{Calendar, CalendarError, Session};
use crate::domain::{SessionKind, Symbol};

/// One page of bars, symbols in ascending order, each with at least one bar.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Page {
    pub bars: Vec<(Symbol, Vec<Bar>)>,
    pub next_page_token: Option<String>,
}

impl Page {
    pub fn len(&self) -> usize {
        self.bars.iter().map(|(_, bars)| bars.len()).sum()
    }
}

/// The whole minutes of one session that the request may see, inclusive.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    session: &'static Session,
}

const MINUTE: TimeDelta = TimeDelta::minutes(1);

pub(crate) fn page(query: &BarsQuery, now: DateTime<Utc>) -> Result<Page, CalendarError> {
    let spans = spans(query.start, query.end, now)?;
    let mut page = Page::default();
    let mut room = query.limit;
    let resume_symbol = query.cursor.as_ref().map(|c| &c.symbol);
    for symbol in query
        .symbols
        .iter()
        .filter(|s| resume_symbol.is_none_or(|r| *s >= r))
    {
        let resume = query
            .cursor
            .as_ref()
            .filter(|c| c.symbol == *symbol)
            .map(|c| c.minute);
        let (bars, next) = take_bars(symbol, &spans, query, resume, room);
        room -= bars.len();
        if !bars.is_empty() {
            page.bars.push((symbol.clone(), bars));
        }
        if let Some(minute) = next {
            let cursor = Cursor {
                symbol: symbol.clone(),
                minute,
            };
            page.next_page_token = Some(token::encode(&cursor, query.fingerprint));
            break;
        }
    }
    Ok(page)
}

/// Up to `room` bars of one symbol from `resume` on, and the minute of the
/// first bar that did not fit, if any.
fn take_bars(
    symbol: &Symbol,
    spans: &[Span],
    query: &BarsQuery,
    resume: Option<DateTime<Utc>>,
    room: usize,
) -> (Vec<Bar>, Option<DateTime<Utc>>) {
    let mut bars = Vec::new();
    for (minute, session) in minutes(spans, query.sort, resume) {
        let Some(bar) = bar_in_session(symbol, minute, session, query.feed, query.adjustment)
        else {
            continue;
        };
        if bars.len() == room {
            return (bars, Some(minute));
        }
        bars.push(bar);
    }
    (bars, None)
}

/// The sessions' minutes within `[start, end]` that have ended by `now`.
fn spans(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Span>, CalendarError> {
    let last_ended = floor_minute(now - MINUTE);
    let end = end.min(last_ended);
    let first = ceil_minute(start);
    if end < first {
        return Ok(Vec::new());
    }

    // Days outside the calendar's range have no sessions, hence no bars.
    let nyse = Calendar::nyse();
    let from = first
        .with_timezone(&New_York)
        .date_naive()
        .max(nyse.first_date());
    let to = end
        .with_timezone(&New_York)
        .date_naive()
        .min(nyse.last_date());
    if to < from {
        return Ok(Vec::new());
    }
    let sessions = nyse.sessions(from, to)?;
    let clip = |session: &'static Session| {
        let (open, close) = session.bounds(SessionKind::Extended);
        let span = Span {
            first: first.max(open),
            last: end.min(close - MINUTE),
            session,
        };
        (span.first <= span.last).then_some(span)
    };
    Ok(sessions.iter().filter_map(clip).collect())
}

/// Every minute of the spans in the requested order, starting at `resume`
/// when a page token gave one.
fn minutes(
    spans: &[Span],
    sort: Sort,
    resume: Option<DateTime<Utc>>,
) -> impl Iterator<Item = (DateTime<Utc>, &'static Session)> + '_ {
    let ordered: Box<dyn Iterator<Item = &Span>> = match sort {
        Sort::Asc => Box::new(spans.iter()),
        Sort::Desc => Box::new(spans.iter().rev()),
    };
    let not_yet = move |minute: &DateTime<Utc>| match (sort, resume) {
        (_, None) => false,
        (Sort::Asc, Some(resume)) => *minute < resume,
        (Sort::Desc, Some(resume)) => *minute > resume,
    };
    // A span whose two ends both come before the resume point is skipped
    // whole rather than minute by minute.
    ordered
        .filter(move |span| !(not_yet(&span.first) && not_yet(&span.last)))
        .flat_map(move |span| span_minutes(*span, sort))
        .filter(move |(minute, _)| !not_yet(minute))
}

fn span_minutes(span: Span, sort: Sort) -> impl Iterator<Item = (DateTime<Utc>, &'static Session)> {
    let count = (span.last - span.first).num_minutes() + 1;
    (0..count).map(move |i| {
        let minute = match sort {
            Sort::Asc => span.first + MINUTE * i as i32,
            Sort::Desc => span.last - MINUTE * i as i32,
        };
        (minute, span.session)
    })
}

fn floor_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(MINUTE).unwrap_or(at)
}

fn ceil_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_minute(at);
    if floor == at { at } else { floor + MINUTE }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Adjustment, Feed};
    use crate::sim::data::bar_at;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn query(symbols: &[&str], start: &str, end: &str, limit: usize, sort: Sort) -> BarsQuery {
        BarsQuery {
            symbols: symbols.iter().map(|s| s.parse().unwrap()).collect(),
            start: at(start),
            end: at(end),
            limit,
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
            sort,
            cursor: None,
            fingerprint: 7,
        }
    }

    /// Follows the tokens to the end, returning every page.
    fn all_pages(mut query: BarsQuery, now: DateTime<Utc>) -> Vec<Page> {
        let mut pages = Vec::new();
        loop {
            let page = page(&query, now).unwrap();
            let token = page.next_page_token.clone();
            pages.push(page);
            let Some(token) = token else { return pages };
            query.cursor = Some(token::decode(&token, query.fingerprint).unwrap());
        }
    }

    fn flatten(pages: &[Page]) -> Vec<(Symbol, Bar)> {
        let rows = pages.iter().flat_map(|p| p.bars.iter());
        rows.flat_map(|(s, bars)| bars.iter().map(move |b| (s.clone(), *b)))
            .collect()
    }

    /// The expected rows, straight from the data function.
    fn expected(query: &BarsQuery, now: DateTime<Utc>) -> Vec<(Symbol, Bar)> {
        let mut rows = Vec::new();
        for symbol in &query.symbols {
            let mut minute = ceil_minute(query.start);
            let mut bars = Vec::new();
            while minute <= query.end && minute + MINUTE <= now {
                bars.extend(bar_at(symbol, minute, query.feed, query.adjustment));
                minute += MINUTE;
            }
            if query.sort == Sort::Desc {
                bars.reverse();
            }
            rows.extend(bars.into_iter().map(|b| (symbol.clone(), b)));
        }
        rows
    }

    #[test]
    fn pages_concatenate_to_the_whole_answer_in_both_orders() {
        let now = at("2024-03-08T00:00:00Z");
        for sort in [Sort::Asc, Sort::Desc] {
            let q = query(
                &["AAA", "BBB", "THIN"],
                "2024-03-04T14:00:00Z",
                "2024-03-05T16:00:00Z",
                97,
                sort,
            );
            let pages = all_pages(q.clone(), now);
            assert!(pages.len() > 3, "{} pages", pages.len());
            assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == 97));
            assert_eq!(flatten(&pages), expected(&q, now));
        }
    }

    #[test]
    fn the_limit_counts_bars_across_symbols() {
        let q = query(
            &["AAA", "BBB"],
            "2024-03-04T14:30:00Z",
            "2024-03-04T14:39:00Z",
            15,
            Sort::Asc,
        );
        let first = page(&q, at("2024-03-08T00:00:00Z")).unwrap();
        let counts: Vec<usize> = first.bars.iter().map(|(_, b)| b.len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 15);
        assert_eq!(counts.len(), 2, "the page holds both symbols: {counts:?}");
        assert!(first.next_page_token.is_some());
    }

    #[test]
    fn a_page_that_ends_exactly_with_the_data_has_no_token() {
        let now = at("2024-03-08T00:00:00Z");
        let q = query(
            &["AAA"],
            "2024-03-04T14:30:00Z",
            "2024-03-04T15:30:00Z",
            10_000,
            Sort::Asc,
        );
        let total = page(&q, now).unwrap().len();
        let exact = BarsQuery { limit: total, ..q };
        assert_eq!(page(&exact, now).unwrap().next_page_token, None);
        let short = BarsQuery {
            limit: total - 1,
            ..exact
        };
        assert!(page(&short, now).unwrap().next_page_token.is_some());
    }

    #[test]
    fn minutes_that_have_not_ended_are_not_served() {
        let now = at("2024-03-05T15:00:30Z");
        let q = query(
            &["AAA"],
            "2024-03-05T14:00:00Z",
            "2024-03-05T21:00:00Z",
            10_000,
            Sort::Asc,
        );
        let feed_sip = BarsQuery {
            feed: Feed::Sip,
            ..q
        };
        let bars = &page(&feed_sip, now).unwrap().bars[0].1;
        assert_eq!(bars.last().unwrap().t, at("2024-03-05T14:59:00Z"));
    }

    #[test]
    fn a_window_between_sessions_is_empty() {
        // From Friday 20:00 to Monday 03:59 in New York.
        let q = query(
            &["AAA"],
            "2024-03-09T01:00:00Z",
            "2024-03-11T07:59:00Z",
            10,
            Sort::Asc,
        );
        assert_eq!(
            page(&q, at("2024-04-01T00:00:00Z")).unwrap(),
            Page::default()
        );
    }
}

//! From windows to requests: the calls to Alpaca's multi-symbol bars endpoint.
//!
//! Requests are the scarce resource (200 a minute on a free plan), and every
//! page of up to 10,000 bars is one. So symbols that share a window share a
//! request, and long windows are cut into chunks of a bounded number of
//! sessions so that what one request holds in memory stays bounded whatever
//! the plan's size.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{BARS_PER_PAGE, Request, Settings, SymbolPlan, Window};
use crate::calendar::{Calendar, Session};
use crate::domain::{Adjustment, Feed, SessionKind, Symbol};

/// What symbols must have in common to share a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    feed: Feed,
    adjustment: Adjustment,
    session: SessionKind,
}

/// A window's sessions, cut into chunks of at most `max_sessions`.
#[derive(Debug, Clone)]
struct Chunk {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sessions: Vec<Session>,
}

pub fn build(
    symbols: &[SymbolPlan],
    calendar: &Calendar,
    density: &BTreeMap<Symbol, f64>,
    settings: &Settings,
) -> Vec<Request> {
    let mut groups: BTreeMap<Key, (Vec<Symbol>, Vec<Session>)> = BTreeMap::new();
    for plan in symbols {
        for stretch in fetch_stretches(&plan.windows, plan.session, calendar) {
            for chunk in chunks(
                &stretch,
                plan.session,
                calendar,
                settings.max_sessions_per_request,
            ) {
                let key = Key {
                    start: chunk.start,
                    end: chunk.end,
                    feed: plan.feed,
                    adjustment: plan.adjustment,
                    session: plan.session,
                };
                let group = groups
                    .entry(key)
                    .or_insert_with(|| (Vec::new(), chunk.sessions));
                group.0.push(plan.symbol.clone());
            }
        }
    }

    let mut requests = Vec::new();
    for (key, (mut members, sessions)) in groups {
        members.sort();
        for batch in members.chunks(settings.max_symbols_per_request.max(1)) {
            requests.extend(requests_for_batch(&key, batch, &sessions, density));
        }
    }
    requests.sort_by(|a, b| {
        (a.start, a.end, a.feed, a.adjustment, a.session, &a.symbols).cmp(&(
            b.start,
            b.end,
            b.feed,
            b.adjustment,
            b.session,
            &b.symbols,
        ))
    });
    requests
}

/// Minutes of one symbol to fetch in one go: windows that touch, whatever
/// their action (a `~` window next to a `+` window is one fetch).
#[derive(Debug, Clone, Copy)]
struct Stretch {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    first_session: NaiveDate,
    last_session: NaiveDate,
}

fn fetch_stretches(windows: &[Window], kind: SessionKind, calendar: &Calendar) -> Vec<Stretch> {
    let mut stretches: Vec<Stretch> = Vec::new();
    for w in windows {
        let next = Stretch {
            start: w.start,
            end: w.end,
            first_session: w.first_session,
            last_session: w.last_session,
        };
        match stretches.last_mut() {
            Some(stretch) if touches(stretch, &next, kind, calendar) => {
                stretch.end = next.end;
                stretch.last_session = next.last_session;
            }
            _ => stretches.push(next),
        }
    }
    stretches
}

/// Whether `next` starts at the beginning of the session right after the one
/// in which `span` ends at the session's end.
fn touches(stretch: &Stretch, next: &Stretch, kind: SessionKind, calendar: &Calendar) -> bool {
    let sessions = calendar
        .sessions(stretch.last_session, next.first_session)
        .unwrap_or_default();
    match sessions {
        [last, first] => last.bounds(kind).1 == stretch.end && first.bounds(kind).0 == next.start,
        _ => false,
    }
}

fn chunks(
    stretch: &Stretch,
    kind: SessionKind,
    calendar: &Calendar,
    max_sessions: usize,
) -> Vec<Chunk> {
    let sessions = calendar
        .sessions(stretch.first_session, stretch.last_session)
        .expect("a stretch's sessions come from this calendar");
    sessions
        .chunks(max_sessions.max(1))
        .map(|part| {
            let first = part.first().expect("chunks are never empty");
            let last = part.last().expect("chunks are never empty");
            Chunk {
                start: stretch.start.max(first.bounds(kind).0),
                end: stretch.end.min(last.bounds(kind).1),
                sessions: part.to_vec(),
            }
        })
        .collect()
}

/// One request over the whole chunk, or for a regular-session chunk one per
/// session when that takes fewer pages: a request that spans several days
/// also receives the extended hours between their regular sessions.
fn requests_for_batch(
    key: &Key,
    batch: &[Symbol],
    sessions: &[Session],
    density: &BTreeMap<Symbol, f64>,
) -> Vec<Request> {
    let batch_density: f64 = batch
        .iter()
        .map(|s| density.get(s).copied().unwrap_or(1.0))
        .sum();
    let whole = request(
        key,
        key.start,
        key.end,
        batch,
        served_minutes(key, sessions),
        batch_density,
    );
    if key.session == SessionKind::Extended || sessions.len() < 2 {
        return vec![whole];
    }

    let per_session: Vec<Request> = sessions
        .iter()
        .map(|s| {
            let (open, close) = s.bounds(SessionKind::Regular);
            let (start, end) = (key.start.max(open), key.end.min(close));
            request(
                key,
                start,
                end,
                batch,
                (end - start).num_minutes(),
                batch_density,
            )
        })
        .collect();
    let pages = |rs: &[Request]| rs.iter().map(|r| r.estimated_pages).sum::<u64>();
    if pages(&per_session) < whole.estimated_pages {
        per_session
    } else {
        vec![whole]
    }
}

fn request(
    key: &Key,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    batch: &[Symbol],
    minutes: i64,
    batch_density: f64,
) -> Request {
    let estimated_bars = (minutes as f64 * batch_density).ceil() as u64;
    Request {
        symbols: batch.to_vec(),
        feed: key.feed,
        adjustment: key.adjustment,
        session: key.session,
        start,
        end,
        estimated_bars,
        estimated_pages: estimated_bars.div_ceil(BARS_PER_PAGE).max(1),
    }
}

/// Minutes in `[key.start, key.end)` for which Alpaca serves bars: the
/// extended hours of each session.
fn served_minutes(key: &Key, sessions: &[Session]) -> i64 {
    sessions
        .iter()
        .map(|s| {
            let (open, close) = s.bounds(SessionKind::Extended);
            let (start, end) = (key.start.max(open), key.end.min(close));
            (end - start).num_minutes().max(0)
        })
        .sum()
}

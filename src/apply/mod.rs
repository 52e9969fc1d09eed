//! Executing a plan: fetch each request's pages from Alpaca and write each
//! symbol-window, with its ledger entries, in one transaction.
//!
//! Fetching and writing overlap: one task pages through the requests and
//! hands over each symbol's bars as soon as the pages have moved past it;
//! this one checks and writes them. A symbol-window whose bars fail the
//! checks is refused whole and reported; a fetch that fails ends the run,
//! keeping everything written so far, since the next run plans exactly what
//! is still missing.

mod check;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tracing::{debug, error, info};

use crate::alpaca::client::{BarsClient, BarsQuery, FetchError};
use crate::alpaca::wire;
use crate::calendar::Calendar;
use crate::db::{self, WindowWrite};
use crate::domain::Symbol;
use crate::plan::render::rfc3339;
use crate::plan::{Plan, Request, SettleTimes, SymbolPlan};

pub use check::Violation;

/// Symbol-windows fetched ahead of the writer, at most.
const FETCHED_AHEAD: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("writing {symbol} failed: {source}")]
    Write { symbol: Symbol, source: sqlx::Error },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub windows: u64,
    pub bars: u64,
    pub rows_changed: u64,
    pub rows_removed: u64,
    /// Symbol-windows refused by the checks, with the reason.
    pub refused: Vec<String>,
}

/// One symbol's bars from one request.
struct Fetched {
    request: usize,
    symbol: Symbol,
    bars: Vec<wire::Bar>,
}

/// Fetches and writes every request of the plan, in order.
pub async fn execute(
    plan: &Plan,
    pool: &PgPool,
    client: &BarsClient,
    run_id: i64,
    settle: SettleTimes,
    on_progress: impl Fn(&Report),
) -> Result<Report, ApplyError> {
    let by_symbol: BTreeMap<&Symbol, &SymbolPlan> =
        plan.symbols.iter().map(|s| (&s.symbol, s)).collect();
    let (sender, mut receiver) = mpsc::channel(FETCHED_AHEAD);
    let fetcher = tokio::spawn(fetch_all(client.clone(), plan.requests.clone(), sender));

    let mut report = Report::default();
    let started = Instant::now();
    while let Some(fetched) = receiver.recv().await {
        let request = &plan.requests[fetched.request];
        let Some(symbol_plan) = by_symbol.get(&fetched.symbol) else {
            let violation = Violation::UnexpectedSymbol {
                symbol: fetched.symbol.clone(),
            };
            refuse(&mut report, &fetched.symbol, request, &violation);
            continue;
        };
        write(
            pool,
            request,
            symbol_plan,
            &fetched,
            run_id,
            settle,
            &mut report,
        )
        .await?;
        on_progress(&report);
    }
    // The fetcher ends either with every request done or with the error that
    // stopped it; a panic in it is a bug worth surfacing as one.
    fetcher.await.expect("the fetch task does not panic")?;
    debug!(
        seconds = started.elapsed().as_secs_f64(),
        "all requests written"
    );
    Ok(report)
}

async fn fetch_all(
    client: BarsClient,
    requests: Vec<Request>,
    sender: mpsc::Sender<Fetched>,
) -> Result<(), FetchError> {
    for (index, request) in requests.into_iter().enumerate() {
        let query = BarsQuery {
            symbols: request.symbols.clone(),
            feed: request.feed,
            adjustment: request.adjustment,
            start: request.start,
            end: request.end,
        };
        let mut stream = client.bars(query);
        let mut seen = BTreeSet::new();
        while let Some((symbol, bars)) = stream.next_symbol().await? {
            seen.insert(symbol.clone());
            if sender
                .send(Fetched {
                    request: index,
                    symbol,
                    bars,
                })
                .await
                .is_err()
            {
                return Ok(()); // the writer stopped; it reports why
            }
        }
        // A symbol absent from every page had no bars in the window: that
        // is an answer too, and it is recorded.
        for symbol in request.symbols.iter().filter(|s| !seen.contains(*s)) {
            let empty = Fetched {
                request: index,
                symbol: symbol.clone(),
                bars: Vec::new(),
            };
            if sender.send(empty).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

async fn write(
    pool: &PgPool,
    request: &Request,
    symbol_plan: &SymbolPlan,
    fetched: &Fetched,
    run_id: i64,
    settle: SettleTimes,
    report: &mut Report,
) -> Result<(), ApplyError> {
    let symbol = &fetched.symbol;
    let calendar = Calendar::nyse();
    let all = check::pieces(
        &symbol_plan.windows,
        request.session,
        calendar,
        request.start,
        request.end,
    );
    let rows = match check::accept_bars(&fetched.bars, request.start, request.end, &all) {
        Ok(rows) => rows,
        Err(violation) => {
            refuse(report, symbol, request, &violation);
            return Ok(());
        }
    };
    let settle = chrono::Duration::from_std(settle.for_feed(request.feed)).unwrap_or_default();
    let recorded = check::settled(&all, Utc::now() - settle);

    let write = WindowWrite {
        symbol,
        feed: request.feed,
        adjustment: request.adjustment,
        bars: &rows,
        pieces: &recorded,
        run_id,
    };
    let written = db::write_window(pool, &write)
        .await
        .map_err(|source| ApplyError::Write {
            symbol: symbol.clone(),
            source,
        })?;

    report.windows += 1;
    report.bars += rows.len() as u64;
    report.rows_changed += written.upserted;
    report.rows_removed += written.removed;
    match (recorded.first(), recorded.last()) {
        (Some(first), Some(last)) => info!(
            "{symbol}: upserted {} bars from {} to {}",
            rows.len(),
            rfc3339(first.start),
            rfc3339(last.end)
        ),
        _ => info!(
            "{symbol}: upserted {} bars, all too recent to record yet",
            rows.len()
        ),
    }
    debug!(%symbol, changed = written.upserted, removed = written.removed, "window written");
    Ok(())
}

fn refuse(report: &mut Report, symbol: &Symbol, request: &Request, violation: &Violation) {
    let message = format!(
        "{symbol} {} to {} ({} feed): {violation}; nothing of this window was written",
        rfc3339(request.start),
        rfc3339(request.end),
        request.feed
    );
    error!("{message}");
    report.refused.push(message);
}

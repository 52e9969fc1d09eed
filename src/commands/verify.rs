//! `seedctl verify`: fetches a seeded random sample of recorded ledger
//! windows again, compares them with the table value by value, and removes
//! the ledger entries of the windows that differ, so that the next plan
//! shows them as gaps and the next apply fetches them again.
//!
//! Removing the entry, rather than flagging it, keeps the ledger's one
//! promise true (every bar the source has in the window is in the table)
//! without a new column that every reader would have to learn; the bars stay
//! in the table until apply rewrites the window. Verify is not recorded in
//! `seedctl.runs`, which holds the runs that write bars, so that `status`
//! keeps judging the last of those. Like apply, it runs the paper-only
//! preflight first and does nothing when that fails.

use std::num::NonZeroU32;

use anyhow::Context;
use sqlx::PgPool;
use tracing::info;

use super::preflight::gate_fetching;
use super::{Outcome, print};
use crate::alpaca::client::{BarsClient, ClientConfig};
use crate::calendar::Calendar;
use crate::cli::VerifyArgs;
use crate::db::{self, Target};
use crate::domain::Symbol;
use crate::ledger::LedgerEntry;
use crate::plan::{Draft, Settings};
use crate::status::verify::{self, SamplePlan, VerifyReport, WindowCheck};

pub async fn run(args: VerifyArgs, database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let lookup = |name: &str| std::env::var(name).ok();
    // Verify fetches with the account's keys and changes the ledger: it is
    // held to the same paper-only preflight as apply.
    gate_fetching(database_url).await?;
    let (spec, as_of) = super::resolve_coverage(&args.coverage)?;
    let target = Target::resolve(database_url)?;
    let mut config = ClientConfig::from_env(lookup)?;
    config.requests_per_minute =
        NonZeroU32::new(args.rate_limit).context("--rate-limit must be at least 1")?;
    let client = BarsClient::new(config)?;

    let pool = target.connect().await?;
    let symbols: Vec<Symbol> = spec.targets.iter().map(|t| t.symbol.clone()).collect();
    let ledger = db::load_ledger(&pool, &target, &symbols).await?;
    let draft = Draft::new(
        &spec,
        Calendar::nyse(),
        as_of.clone(),
        &ledger,
        Settings::default(),
    )?;
    let candidates = verify::candidates(&spec, &ledger, &draft.drift_probes());
    let seed = args.seed.unwrap_or_else(rand::random);
    let sample = verify::sample(&candidates, args.sample, seed);
    let plan = SamplePlan::new(sample, args.max_requests);
    info!(
        "verifying {} of {} recorded windows in about {} requests",
        plan.windows(),
        candidates.len(),
        plan.estimated_pages()
    );

    let mut checks = fetch_and_compare(&client, &pool, &target, &plan).await?;
    checks.sort_by(|a, b| {
        (&a.window.symbol, a.window.start).cmp(&(&b.window.symbol, b.window.start))
    });
    let differing: Vec<LedgerEntry> = checks
        .iter()
        .filter(|c| !c.matches())
        .map(|c| c.window.clone())
        .collect();
    let forgotten = db::forget_ledger_entries(&pool, &target, &differing).await?;
    pool.close().await;

    let report = VerifyReport {
        as_of,
        seed,
        candidates: candidates.len(),
        left_out: plan.left_out,
        requests: client.stats().requests,
        checks,
        forgotten,
    };
    print(&verify::render(&report))?;
    Ok(if differing.is_empty() {
        Outcome::Success
    } else {
        Outcome::NotReady
    })
}

/// Runs the sample's requests one after the other and compares each window
/// as soon as its symbol's bars are complete.
async fn fetch_and_compare(
    client: &BarsClient,
    pool: &PgPool,
    target: &Target,
    plan: &SamplePlan,
) -> anyhow::Result<Vec<WindowCheck>> {
    let mut checks = Vec::new();
    for request in &plan.requests {
        let mut stream = client.bars(request.query.clone());
        while let Some((symbol, served)) = stream.next_symbol().await? {
            for window in request.windows.iter().filter(|w| w.symbol == symbol) {
                let stored =
                    db::stored_bars(pool, target, &symbol, window.start, window.end).await?;
                checks.push(verify::compare(window, &served, &stored));
            }
        }
    }
    Ok(checks)
}

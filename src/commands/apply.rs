//! `seedctl apply`: preflight, migrate, lock, plan, confirm, then fetch and
//! write only the gaps.
//!
//! The plan is made by the same code as `seedctl plan` (or read from a saved
//! plan and brought up to date), after the lock is taken, so what is shown
//! is what is done.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::Utc;
use tracing::{Instrument, info, warn};
use tracing_indicatif::span_ext::IndicatifSpanExt;
use tracing_indicatif::style::ProgressStyle;

use super::preflight::gate_fetching;
use super::{Outcome, plan::make_plan, print};
use crate::alpaca::client::{BarsClient, ClientConfig};
use crate::apply::{self, Report};
use crate::calendar::{CALENDAR_VERSION, Calendar};
use crate::cli::ApplyArgs;
use crate::db::{self, ApplyLock, RunCounts, RunOutcome, Target};
use crate::domain::Symbol;
use crate::plan::render::{self, duration, thousands};
use crate::plan::{AsOf, FORMAT_VERSION, Plan, Settings, SettleTimes};
use crate::spec;

/// What `apply` was given: coverage to plan, or a plan saved earlier.
enum Input {
    Spec(spec::Spec),
    Saved(PathBuf, Box<Plan>),
}

pub async fn run(args: ApplyArgs, database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let lookup = |name: &str| std::env::var(name).ok();
    gate_fetching(database_url).await?;
    let target = Target::resolve(database_url)?;

    // Bad input is refused before anything is written.
    let input = read_input(&args.paths, &target)?;
    let client = BarsClient::new(client_config(&args, lookup)?)?;
    let settings = Settings {
        rate_limit_per_minute: args.rate_limit,
        refresh: args.refresh,
        settle: SettleTimes {
            iex: args.settle_iex,
            other: args.settle_other,
        },
        ..Settings::default()
    };

    let pool = target.connect().await?;
    db::migrate(&pool, &target).await?;
    let mut lock = ApplyLock::acquire(&pool, &target, args.lock_timeout).await?;
    let plan = current_plan(input, &args, settings.clone(), &target, &pool).await?;
    plan.check_budget(args.max_requests)?;
    print(&render::text(&plan))?;
    if !plan.has_changes() {
        lock.release().await;
        return Ok(Outcome::Success);
    }
    confirm(args.auto_approve)?;

    let windows = plan.symbols.iter().map(|s| s.windows.len() as u64).sum();
    let run_id = db::start_run(&mut lock, "apply", CALENDAR_VERSION, windows).await?;
    info!(
        run = run_id,
        "applying the plan: {} requests planned", plan.summary.requests
    );
    let started = Instant::now();
    let bar = progress_span(&plan);
    let progress = |r: &Report| bar.pb_set_position(r.bars);
    let execution = apply::execute(&plan, &pool, &client, run_id, settings.settle, progress);
    let outcome = tokio::select! {
        result = execution.instrument(bar.clone()) => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };

    let stats = client.stats();
    let finish = |report: &Report| RunCounts {
        windows: report.windows,
        requests: stats.requests,
        bars: report.bars,
        retries: stats.retries,
    };
    match outcome {
        Some(Ok(report)) if report.refused.is_empty() => {
            db::finish_run(
                &mut lock,
                run_id,
                RunOutcome::Succeeded,
                finish(&report),
                None,
            )
            .await?;
            lock.release().await;
            summarize(&report, stats, started.elapsed().as_secs());
            Ok(Outcome::Success)
        }
        Some(Ok(report)) => {
            let error = format!(
                "{} windows refused: {}",
                report.refused.len(),
                report.refused.join("; ")
            );
            db::finish_run(
                &mut lock,
                run_id,
                RunOutcome::Failed,
                finish(&report),
                Some(&error),
            )
            .await?;
            lock.release().await;
            summarize(&report, stats, started.elapsed().as_secs());
            bail!("{error}")
        }
        Some(Err(e)) => {
            let error = e.to_string();
            let counts = RunCounts {
                requests: stats.requests,
                retries: stats.retries,
                ..RunCounts::default()
            };
            db::finish_run(&mut lock, run_id, RunOutcome::Failed, counts, Some(&error)).await?;
            lock.release().await;
            Err(anyhow::Error::from(e).context(
                "apply stopped; what was written is recorded, and a new run fetches the rest",
            ))
        }
        None => {
            let counts = RunCounts {
                requests: stats.requests,
                retries: stats.retries,
                ..RunCounts::default()
            };
            db::finish_run(
                &mut lock,
                run_id,
                RunOutcome::Interrupted,
                counts,
                Some("interrupted"),
            )
            .await?;
            lock.release().await;
            bail!(
                "interrupted; every window written so far is recorded, and a new run fetches the rest"
            )
        }
    }
}

/// A span that shows a progress bar on a terminal: bars written of the
/// plan's estimate.
fn progress_span(plan: &Plan) -> tracing::Span {
    let span = tracing::info_span!("apply", indicatif.pb_show = tracing::field::Empty);
    let style = ProgressStyle::with_template("{bar:30} {pos}/~{len} bars  {elapsed}  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    span.pb_set_style(&style);
    span.pb_set_length(plan.summary.estimated_bars);
    span
}

fn client_config(
    args: &ApplyArgs,
    lookup: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::from_env(lookup)?;
    config.requests_per_minute =
        std::num::NonZeroU32::new(args.rate_limit).context("--rate-limit must be at least 1")?;
    Ok(config)
}

fn read_input(paths: &[PathBuf], target: &Target) -> anyhow::Result<Input> {
    if let [path] = paths
        && path.extension().is_some_and(|e| e == "json")
    {
        let plan = read_saved_plan(path, target)?;
        return Ok(Input::Saved(path.clone(), Box::new(plan)));
    }
    Ok(Input::Spec(spec::resolve(paths, |name| {
        std::env::var(name).ok()
    })?))
}

fn read_saved_plan(path: &Path, target: &Target) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read the saved plan {}", path.display()))?;
    let plan: Plan = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a plan saved by `seedctl plan -o`",
            path.display()
        )
    })?;
    if plan.format_version != FORMAT_VERSION {
        bail!(
            "{} has plan format {}, this seedctl reads format {FORMAT_VERSION}; plan again",
            path.display(),
            plan.format_version
        );
    }
    if plan.calendar_version != CALENDAR_VERSION {
        bail!(
            "{} was made with calendar {}, this seedctl has {CALENDAR_VERSION}; plan again",
            path.display(),
            plan.calendar_version
        );
    }
    if plan.target != target.display() {
        bail!(
            "{} was made for {}, not for {}; plan again against this database",
            path.display(),
            plan.target,
            target.display()
        );
    }
    Ok(plan)
}

async fn current_plan(
    input: Input,
    args: &ApplyArgs,
    settings: Settings,
    target: &Target,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Plan> {
    match input {
        Input::Spec(spec) => {
            let as_of =
                AsOf::parse(args.as_of.as_deref(), Utc::now()).map_err(anyhow::Error::msg)?;
            make_plan(&spec, as_of, settings, target).await
        }
        Input::Saved(path, plan) => {
            info!("applying the plan saved in {}", path.display());
            let symbols: Vec<Symbol> = plan.symbols.iter().map(|s| s.symbol.clone()).collect();
            let ledger = db::load_ledger(pool, target, &symbols).await?;
            let (plan, skipped) = plan.without_covered(Calendar::nyse(), &ledger, &settings);
            skipped.iter().for_each(|s| info!("{s}"));
            Ok(plan)
        }
    }
}

/// Asks on the terminal, as `terraform apply` does; without a terminal only
/// `--auto-approve` goes ahead.
fn confirm(auto_approve: bool) -> anyhow::Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask for confirmation on; pass --auto-approve to apply without asking"
        );
    }
    eprint!("Apply this plan? Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        bail!("apply cancelled; nothing was fetched or written");
    }
    Ok(())
}

fn summarize(report: &Report, stats: crate::alpaca::client::ClientStats, seconds: u64) {
    info!(
        "applied {} windows: {} bars ({} rows changed, {} removed), {} requests, {} retries, in {}",
        report.windows,
        thousands(report.bars),
        thousands(report.rows_changed),
        thousands(report.rows_removed),
        stats.requests,
        stats.retries,
        duration(seconds)
    );
    if !report.refused.is_empty() {
        warn!(
            "{} windows were refused and stay gaps",
            report.refused.len()
        );
    }
}

//! `seedctl plan`: gathers the facts (spec, ledger, bars present), computes
//! the plan, prints it, and optionally saves it for `seedctl apply`.

use std::path::Path;

use anyhow::Context;
use tracing::{info, warn};

use super::{Outcome, print};
use crate::calendar::Calendar;
use crate::cli::{PlanArgs, PlanFormat};
use crate::db::{self, BarsTable, Target};
use crate::domain::Symbol;
use crate::plan::{AsOf, Draft, Plan, Settings, render};
use crate::spec;

pub async fn run(args: PlanArgs, database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let (spec, as_of) = super::resolve_coverage(&args.coverage)?;
    let settings = Settings {
        rate_limit_per_minute: args.rate_limit,
        refresh: args.refresh,
        ..Settings::default()
    };
    let target = Target::resolve(database_url)?;

    let plan = make_plan(&spec, as_of, settings, &target).await?;
    plan.check_budget(args.max_requests)?;
    if let Some(path) = &args.out {
        save(&plan, path)?;
    }
    match args.format {
        PlanFormat::Text => print(&render::text(&plan))?,
        PlanFormat::Json => print(&(serde_json::to_string_pretty(&plan)? + "\n"))?,
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::ChangesPresent
    } else {
        Outcome::Success
    })
}

/// The one path from facts to plan, shared by `plan` and `apply`.
pub async fn make_plan(
    spec: &spec::Spec,
    as_of: AsOf,
    settings: Settings,
    target: &Target,
) -> anyhow::Result<Plan> {
    let pool = target.connect().await?;
    report_database_state(&pool, target).await?;

    let symbols: Vec<Symbol> = spec.targets.iter().map(|t| t.symbol.clone()).collect();
    let ledger = db::load_ledger(&pool, target, &symbols).await?;
    info!(
        "read {} ledger entries for {} symbols",
        ledger.len(),
        symbols.len()
    );

    let calendar = Calendar::nyse();
    let refresh = settings.refresh;
    let mut draft = Draft::new(spec, calendar, as_of, &ledger, settings)?;
    if refresh {
        let drift = db::find_drift(&pool, target, &draft.drift_probes()).await?;
        info!("{} ledger entries drifted from the table", drift.len());
        draft = draft.with_drift(&ledger, &drift);
    }
    let presence = db::count_presence(&pool, target, &draft.presence_probes()).await?;
    let plan = draft.finish(calendar, &presence, target.display());
    pool.close().await;
    Ok(plan)
}

/// Says what a plan should know about the database without refusing to
/// plan: an empty or older database is planned as it is.
async fn report_database_state(pool: &sqlx::PgPool, target: &Target) -> anyhow::Result<()> {
    match db::check_bars_table(pool, target).await? {
        BarsTable::Missing => info!(
            "{} does not exist yet; apply will create it",
            db::BARS_TABLE
        ),
        BarsTable::Fits { notes } => notes.iter().for_each(|note| warn!("{note}")),
        BarsTable::Mismatch(differences) => {
            return Err(db::DbError::Shape {
                table: db::BARS_TABLE,
                differences,
            }
            .into());
        }
    }
    let status = db::migration_status(pool, target).await?;
    if !status.is_current() {
        info!(
            "{} migrations have not run yet; apply will run them first",
            status.pending.len()
        );
    }
    Ok(())
}

fn save(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(plan)? + "\n";
    std::fs::write(path, json)
        .with_context(|| format!("could not save the plan to {}", path.display()))?;
    info!("saved the plan to {}", path.display());
    Ok(())
}

//! Collects a report's facts from Postgres: the ledger (planned as `seedctl
//! plan` plans it), drift, the bars of each symbol's newest sessions, the
//! newest bars and the last runs. Reads only; an empty or unmigrated database
//! is reported as it is rather than refused.

use sqlx::PgPool;

use super::{Facts, Report, recent_probes};
use crate::calendar::Calendar;
use crate::db::{self, BARS_TABLE, BarsTable, DbError, Target};
use crate::domain::Symbol;
use crate::plan::{AsOf, Draft, PlanError, Settings};
use crate::spec::Spec;

/// What to gather beyond the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Compare every ledger entry of the desired sessions with the rows in
    /// the table. The one check whose cost grows with the bars covered.
    pub check_drift: bool,
    /// How many of the newest runs to show.
    pub runs: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            check_drift: true,
            runs: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

pub async fn gather(
    pool: &PgPool,
    target: &Target,
    spec: &Spec,
    as_of: AsOf,
    options: &Options,
) -> Result<Report, StatusError> {
    let notes = database_notes(pool, target).await?;
    let symbols: Vec<Symbol> = spec.targets.iter().map(|t| t.symbol.clone()).collect();
    let ledger = db::load_ledger(pool, target, &symbols).await?;

    let calendar = Calendar::nyse();
    let draft = Draft::new(spec, calendar, as_of, &ledger, Settings::default())?;
    let drift = if options.check_drift {
        Some(db::find_drift(pool, target, &draft.drift_probes()).await?)
    } else {
        None
    };
    let presence = db::count_presence(pool, target, &draft.presence_probes()).await?;
    let plan = draft.finish(calendar, &presence, target.display());

    let recent = db::count_presence(pool, target, &recent_probes(&plan, calendar)).await?;
    let latest_bars = db::latest_bars(pool, target, &symbols).await?;
    let runs = db::recent_runs(pool, target, options.runs).await?;
    let facts = Facts {
        plan,
        drift,
        latest_bars,
        recent,
        runs,
        notes,
    };
    Ok(Report::new(facts, calendar))
}

/// What the reader should know about the database itself. A bars table that
/// seedctl could not write is an error, as it is for `plan`.
async fn database_notes(pool: &PgPool, target: &Target) -> Result<Vec<String>, DbError> {
    let mut notes = Vec::new();
    match db::check_bars_table(pool, target).await? {
        BarsTable::Missing => notes.push(format!(
            "{BARS_TABLE} does not exist yet; `seedctl apply` creates it"
        )),
        BarsTable::Fits { notes: advice } => notes.extend(advice),
        BarsTable::Mismatch(differences) => {
            return Err(DbError::Shape {
                table: BARS_TABLE,
                differences,
            });
        }
    }
    let migrations = db::migration_status(pool, target).await?;
    if migrations.applied.is_empty() {
        notes.push(
            "seedctl's schema is not in this database, so nothing was ever recorded here; \
             `seedctl migrate` or `seedctl apply` creates it"
                .to_string(),
        );
    } else if !migrations.is_current() {
        notes.push(format!(
            "{} migrations have not run yet; `seedctl migrate` runs them",
            migrations.pending.len()
        ));
    }
    Ok(notes)
}

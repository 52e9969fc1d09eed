//! `seedctl status`: the readiness report. Gathers the facts, prints the
//! report, and answers with the exit code: 0 ready, 3 not ready.

use super::{Outcome, print};
use crate::cli::{PlanFormat, StatusArgs};
use crate::db::Target;
use crate::status::{self, Options, render};

pub async fn run(args: StatusArgs, database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let (spec, as_of) = super::resolve_coverage(&args.coverage)?;
    let target = Target::resolve(database_url)?;
    let options = Options {
        check_drift: !args.skip_drift,
        runs: args.runs,
    };

    let pool = target.connect().await?;
    let report = status::gather(&pool, &target, &spec, as_of, &options).await?;
    pool.close().await;

    match args.format {
        PlanFormat::Text => print(&render::text(&report))?,
        PlanFormat::Json => print(&(serde_json::to_string_pretty(&report)? + "\n"))?,
    }
    Ok(if report.is_ready() {
        Outcome::Success
    } else {
        Outcome::NotReady
    })
}

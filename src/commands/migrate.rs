//! `seedctl migrate`: brings the database's schema up to date.

use tracing::info;

use super::Outcome;
use crate::db::{self, BarsTable, Target};

pub async fn run(database_url: Option<&str>) -> anyhow::Result<Outcome> {
    let target = Target::resolve(database_url)?;
    let pool = target.connect().await?;
    let before = db::migration_status(&pool, &target).await?;
    if let BarsTable::Fits { notes } = db::check_bars_table(&pool, &target).await? {
        info!("using the existing {} as it is", db::BARS_TABLE);
        notes.iter().for_each(|note| tracing::warn!("{note}"));
    }
    db::migrate(&pool, &target).await?;
    for (version, description) in &before.pending {
        info!("applied migration {version} ({description})");
    }
    info!(
        "{} is up to date ({} migrations)",
        target.display(),
        db::migrator().iter().count()
    );
    Ok(Outcome::Success)
}

//! The database's part of the preflight: it answers, its bars table fits,
//! and it is not newer than this binary. Only reads; creating or migrating
//! anything is apply's business, after the preflight passed.

use sqlx::PgPool;

use super::{BARS_TABLE, Check, DATABASE, MIGRATIONS};
use crate::db::{self, BarsTable, MigrationStatus, Target};

/// The `database`, `bars table` and `migrations` checks, in that order.
pub async fn check(target: &Target) -> Vec<Check> {
    match connect(target).await {
        Ok(pool) => read_checks(pool, target).await,
        Err(error) => {
            let not_checked = "not checked: the database did not answer";
            vec![
                Check::fail(DATABASE, error.to_string()),
                Check::skipped(BARS_TABLE, not_checked),
                Check::skipped(MIGRATIONS, not_checked),
            ]
        }
    }
}

/// One plain connection first: the pool retries a refused connection until
/// its timeout and then reports only the timeout, while a single attempt
/// fails at once and says why.
async fn connect(target: &Target) -> Result<PgPool, db::DbError> {
    use sqlx::Connection;
    target.connect_one().await?.close().await.ok();
    target.connect().await
}

async fn read_checks(pool: PgPool, target: &Target) -> Vec<Check> {
    let checks = vec![
        Check::pass(DATABASE, format!("{} answers", target.display())),
        bars_table(&pool, target).await,
        migrations(&pool, target).await,
    ];
    pool.close().await;
    checks
}

async fn bars_table(pool: &PgPool, target: &Target) -> Check {
    match db::check_bars_table(pool, target).await {
        Ok(BarsTable::Missing) => Check::pass(
            BARS_TABLE,
            format!(
                "{} does not exist yet; apply's migrations create it",
                db::BARS_TABLE
            ),
        ),
        Ok(BarsTable::Fits { notes }) if notes.is_empty() => {
            Check::pass(BARS_TABLE, format!("{} fits", db::BARS_TABLE))
        }
        Ok(BarsTable::Fits { notes }) => Check::pass(
            BARS_TABLE,
            format!("{} fits; note: {}", db::BARS_TABLE, notes.join("; ")),
        ),
        Ok(BarsTable::Mismatch(differences)) => Check::fail(
            BARS_TABLE,
            format!(
                "{} exists but does not fit what seedctl writes: {}; fix the table or point \
                 seedctl at another database",
                db::BARS_TABLE,
                differences.join("; ")
            ),
        ),
        Err(error) => Check::fail(BARS_TABLE, error.to_string()),
    }
}

async fn migrations(pool: &PgPool, target: &Target) -> Check {
    match db::migration_status(pool, target).await {
        Ok(status) => judge_migrations(&status, &known_versions()),
        Err(error) => Check::fail(MIGRATIONS, error.to_string()),
    }
}

fn known_versions() -> Vec<i64> {
    db::migrator().iter().map(|m| m.version).collect()
}

/// A database that recorded a migration this binary does not carry was set
/// up by a newer seedctl, whose tables this one may misread or damage.
fn judge_migrations(status: &MigrationStatus, known: &[i64]) -> Check {
    let unknown: Vec<String> = status
        .applied
        .iter()
        .filter(|v| !known.contains(v))
        .map(i64::to_string)
        .collect();
    if !unknown.is_empty() {
        return Check::fail(
            MIGRATIONS,
            format!(
                "the database records migrations this seedctl does not know ({}): a newer \
                 seedctl set it up; upgrade seedctl",
                unknown.join(", ")
            ),
        );
    }
    match status.pending.len() {
        0 => Check::pass(
            MIGRATIONS,
            format!("current ({} applied)", status.applied.len()),
        ),
        n => Check::pass(
            MIGRATIONS,
            format!("{n} of {} pending; apply runs them first", known.len()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::CheckOutcome;

    #[test]
    fn migrations_are_judged_against_the_ones_this_binary_knows() {
        let pending = |versions: &[i64]| versions.iter().map(|v| (*v, format!("m{v}"))).collect();
        // Applied versions, pending versions, and the message (Ok: passes
        // with exactly it; Err: fails with one that contains it).
        type Case = (
            &'static [i64],
            &'static [i64],
            Result<&'static str, &'static str>,
        );
        let cases: &[Case] = &[
            (&[1, 2], &[], Ok("current (2 applied)")),
            (&[], &[1, 2], Ok("2 of 2 pending; apply runs them first")),
            (&[1], &[2], Ok("1 of 2 pending; apply runs them first")),
            (&[1, 2, 3], &[], Err("does not know (3): a newer seedctl")),
            (&[1, 7, 9], &[2], Err("does not know (7, 9)")),
        ];
        for (applied, pending_versions, expected) in cases {
            let status = MigrationStatus {
                applied: applied.to_vec(),
                pending: pending(pending_versions),
            };
            let check = judge_migrations(&status, &[1, 2]);
            match (&check.outcome, expected) {
                (CheckOutcome::Pass(message), Ok(text)) => assert_eq!(message, text),
                (CheckOutcome::Fail(message), Err(part)) => {
                    assert!(message.contains(part), "{message}")
                }
                (outcome, _) => panic!("{applied:?}: expected {expected:?}, got {outcome:?}"),
            }
        }
    }
}

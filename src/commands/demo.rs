//! `seedctl demo`: the whole job on this machine with no credentials. It
//! starts a throwaway Postgres and the Alpaca-compatible simulator, then runs
//! the real commands against them, as a user would, printing each one:
//! preflight, plan, apply, plan again (no changes) and the readiness report.
//!
//! The steps are this very binary started again with the paper-only
//! environment pointed at the simulator: the same code paths as real use,
//! with only the URLs changed.

use std::path::Path;
use std::process::ExitStatus;

use anyhow::{Context, bail};
use tokio::process::Command;

use super::Outcome;
use crate::cli::DemoArgs;
use crate::sim::{SimConfig, Simulator};
use crate::throwaway::{Options, ThrowawayPostgres};

/// Made-up keys that only the demo's simulator accepts.
const DEMO_KEY_ID: &str = "DEMOKEYID";
const DEMO_SECRET_KEY: &str = "demo-secret-key";

/// The runbook's coverage, as shipped in `plans/paper-seed.yaml`.
const PAPER_SEED: &str = include_str!("../../plans/paper-seed.yaml");

/// Variables of the caller's environment that must not reach the demo: it
/// talks only to what it started.
const SCRUBBED: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
    "APCA_API_BASE_URL",
    "APCA_API_DATA_URL",
    "TRADING_MODE",
    "AGENT_MODE",
    "ALPACA_SYMBOLS",
    "ALPACA_FEED",
    "ALPACA_BACKFILL_TRADING_DAYS",
];

pub async fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    println!("== starting a throwaway PostgreSQL from the system's server binaries");
    let options = Options {
        durable: false,
        outlive_process: args.keep,
    };
    let cluster = tokio::task::spawn_blocking(move || ThrowawayPostgres::start(&options))
        .await
        .context("the Postgres start-up task failed")??;
    let database_url = cluster.url("postgres");
    println!("   {database_url}");

    println!("== starting the Alpaca-compatible simulator");
    let sim = Simulator::start(SimConfig::default().accept_keys(DEMO_KEY_ID, DEMO_SECRET_KEY))
        .await
        .context("could not start the simulator on 127.0.0.1")?;
    println!("   {}", sim.url());

    let workdir = tempfile::tempdir().context("could not make a working directory")?;
    let sim_url = sim.url();
    let result = tokio::select! {
        result = steps(workdir.path(), &database_url, &sim_url) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };

    sim.shutdown().await;
    if args.keep {
        let dir = cluster.detach();
        println!("== the database is still running: {database_url}");
        println!(
            "   stop it with: pg_ctl stop -D {}/data (as the postgres user when root)",
            dir.display()
        );
    } else {
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .ok();
        println!("== stopped the simulator and removed the throwaway database");
    }
    result.map(|()| Outcome::Success)
}

async fn steps(workdir: &Path, database_url: &str, sim_url: &str) -> anyhow::Result<()> {
    std::fs::create_dir(workdir.join("plans"))?;
    std::fs::write(workdir.join("plans/paper-seed.yaml"), PAPER_SEED)?;
    let env = [
        ("TRADING_MODE", "paper"),
        ("AGENT_MODE", "OFF"),
        ("APCA_API_BASE_URL", sim_url),
        ("APCA_API_DATA_URL", sim_url),
        ("APCA_API_KEY_ID", DEMO_KEY_ID),
        ("APCA_API_SECRET_KEY", DEMO_SECRET_KEY),
        ("DATABASE_URL", database_url),
    ];
    println!("== the paper-only environment:");
    for (name, value) in env
        .iter()
        .filter(|(n, _)| !n.contains("SECRET") && *n != "APCA_API_KEY_ID")
    {
        println!("   {name}={value}");
    }
    println!("   APCA_API_KEY_ID, APCA_API_SECRET_KEY: the simulator's demo keys");

    let seed = "plans/paper-seed.yaml";
    step(workdir, &env, &["preflight"], &[0]).await?;
    step(workdir, &env, &["plan", seed], &[0]).await?;
    step(workdir, &env, &["apply", "--auto-approve", seed], &[0]).await?;
    step(workdir, &env, &["plan", "--detailed-exitcode", seed], &[0]).await?;
    step(workdir, &env, &["status", seed], &[0]).await?;
    Ok(())
}

/// Runs `seedctl ARGS` as a user would, with its output on our terminal.
async fn step(
    workdir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    expected: &[i32],
) -> anyhow::Result<()> {
    println!("\n$ seedctl {}", args.join(" "));
    let exe = std::env::current_exe().context("could not find the seedctl binary")?;
    let mut command = Command::new(exe);
    command.current_dir(workdir).args(args).kill_on_drop(true);
    for name in SCRUBBED {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let status: ExitStatus = command.status().await.context("could not run seedctl")?;
    match status.code() {
        Some(code) if expected.contains(&code) => Ok(()),
        Some(code) => bail!(
            "`seedctl {}` exited with {code}; the demo stops here",
            args.join(" ")
        ),
        None => bail!("`seedctl {}` was stopped by a signal", args.join(" ")),
    }
}

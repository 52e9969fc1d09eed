//! `seedctl sim`: the Alpaca-compatible simulator as a server of its own, for
//! trying seedctl (or any Alpaca client) without an account.

use anyhow::{Context, bail};
use tracing::info;

use super::Outcome;
use crate::cli::SimArgs;
use crate::sim::{SimConfig, Simulator};

pub async fn run(args: SimArgs) -> anyhow::Result<Outcome> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {} is not a loopback address; the simulator serves this machine only",
            args.listen
        );
    }
    let mut config = SimConfig::default();
    if let (Some(key_id), Some(secret_key)) = (args.key_id, args.secret_key) {
        config = config.accept_keys(key_id, secret_key);
    }
    let sim = Simulator::bind(args.listen, config)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    info!("simulator serving on {} (Ctrl-C to stop)", sim.url());
    println!("{}", sim.url());
    tokio::select! {
        () = sim.serve_forever() => {}
        _ = tokio::signal::ctrl_c() => info!("stopping the simulator"),
    }
    Ok(Outcome::Success)
}

//! An in-process HTTP server that speaks Alpaca's market data protocol (1-minute
//! historical stock bars) and the calendar and clock of its trading API, with
//! deterministic made-up data and faults injected on demand. Integration tests
//! start one on an ephemeral port; `seedctl sim` and `seedctl demo` serve one
//! so the whole job runs without an Alpaca account.
//!
//! It is a test double, not a market: no trades, quotes, orders or accounts,
//! only the `1Min` timeframe, and data that follows [`data`]'s rules rather
//! than any real prices. Both the data host's paths (`/v2/stocks/...`) and the
//! trading host's (`/v2/calendar`, `/v2/clock`) are served from one address.

mod config;
pub mod data;
mod error;
mod faults;
mod hash;
mod listener;
mod paging;
mod query;
mod server;
mod token;
mod trading;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{SimClock, SimConfig};
pub use data::{CorporateActions, THIN_SYMBOL, bar_at, corporate_actions, is_thin};
pub use faults::Counters;

use listener::{Connection, SeverableListener};
use server::Shared;

/// A running simulator. Dropping it without [`Simulator::shutdown`] stops
/// the server too, in the background.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Simulator {
    /// Serves on an ephemeral port of 127.0.0.1, from a task of the current
    /// tokio runtime.
    pub async fn start(config: SimConfig) -> io::Result<Simulator> {
        Self::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn bind(addr: SocketAddr, config: SimConfig) -> io::Result<Simulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let app =
            server::router(shared.clone()).into_make_service_with_connect_info::<Connection>();
        let (stop, stopped) = oneshot::channel::<()>();
        let serve = axum::serve(SeverableListener(listener), app)
            .with_graceful_shutdown(async move { stopped.await.unwrap_or(()) });
        let task = tokio::spawn(async move { serve.await });
        tracing::debug!(%addr, "simulator listening");
        Ok(Simulator {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// The base URL for both the data and the trading API, without a slash
    /// at the end: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of what the simulator has done so far.
    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    /// Moves the simulator's clock, for example to let a session in progress
    /// finish between two runs.
    pub fn set_clock(&self, clock: SimClock) {
        *self
            .shared
            .clock
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = clock;
    }

    /// Stops accepting connections and waits for requests in flight.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "simulator stopped with an error"),
            Err(error) => tracing::warn!(%error, "simulator task failed"),
        }
    }

    /// Serves until the process ends (or the server fails).
    pub async fn serve_forever(self) {
        // Holding `stop` keeps the shutdown signal from firing.
        let Simulator {
            stop: _keep_serving,
            task,
            ..
        } = self;
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "simulator stopped with an error"),
            Err(error) => tracing::error!(%error, "simulator task failed"),
        }
    }
}

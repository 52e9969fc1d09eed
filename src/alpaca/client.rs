//! The client of Alpaca's historical bars endpoint (`GET /v2/stocks/bars`):
//! it pages through multi-symbol requests and hands the bars out symbol by
//! symbol, within a request budget of its own and Alpaca's rate-limit
//! headers, retrying what is worth retrying and refusing to guess about the
//! rest.
//!
//! It knows nothing of plans, the calendar or the database: it fetches what
//! a [`BarsQuery`] names, and checking the bars against a session is the
//! caller's job. Keys live only in the headers of the HTTP client; no log
//! line or error can show them.

mod assemble;
mod config;
mod error;
mod gate;
mod page;
mod retry;
mod stats;
mod stream;

use std::sync::{Arc, Once};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::domain::{Adjustment, Feed, Symbol};
use crate::secret::Secret;

pub use assemble::SymbolBars;
pub use config::{
    ClientConfig, ClientError, DATA_URL_VARIABLE, DEFAULT_DATA_URL, KEY_ID_VARIABLE,
    SECRET_KEY_VARIABLE,
};
pub use error::{CallLabel, FetchError, Refusal, RequestLabel, UNPROCESSABLE_CODE};
pub use stats::ClientStats;
pub use stream::BarStream;

use gate::Gate;
use stats::StatCells;

/// The bars to fetch: every minute in `[start, end)` of these symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarsQuery {
    pub symbols: Vec<Symbol>,
    pub feed: Feed,
    pub adjustment: Adjustment,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
}

/// A client of Alpaca's market data API. Clones share one connection pool,
/// one request budget and one set of counters.
#[derive(Debug, Clone)]
pub struct BarsClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// `{data_url}/v2/stocks/bars`.
    endpoint: Url,
    config: ClientConfig,
    gate: Gate,
    stats: StatCells,
}

impl BarsClient {
    pub fn new(config: ClientConfig) -> Result<BarsClient, ClientError> {
        install_crypto_provider();
        config::check_data_url(&config.data_url).map_err(|reason| ClientError::InvalidDataUrl {
            name: DATA_URL_VARIABLE,
            value: crate::secret::redact_url(config.data_url.as_str()),
            reason,
        })?;
        let http = reqwest::Client::builder()
            .default_headers(auth_headers(&config)?)
            .user_agent(concat!("seedctl/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;

        let inner = Inner {
            http,
            endpoint: bars_endpoint(&config.data_url),
            gate: Gate::new(config.requests_per_minute),
            stats: StatCells::default(),
            config,
        };
        Ok(BarsClient {
            inner: Arc::new(inner),
        })
    }

    /// The bars of a query, as a stream of complete symbols. Nothing is sent
    /// until the stream is polled. Symbols are sorted and deduplicated.
    pub fn bars(&self, query: BarsQuery) -> BarStream {
        let mut symbols = query.symbols;
        symbols.sort();
        symbols.dedup();
        let label = RequestLabel {
            symbols,
            start: query.start,
            end: query.end,
            feed: query.feed,
            adjustment: query.adjustment,
        };
        BarStream::new(self.inner.clone(), label)
    }

    /// What the client and its clones have done so far.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }
}

/// reqwest is built without a default crypto provider so that it shares
/// ring with sqlx; it must be installed before the first TLS client.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means a provider is installed already, which serves too.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn auth_headers(config: &ClientConfig) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    let keys = [
        ("apca-api-key-id", KEY_ID_VARIABLE, &config.key_id),
        (
            "apca-api-secret-key",
            SECRET_KEY_VARIABLE,
            &config.secret_key,
        ),
    ];
    for (header, variable, key) in keys {
        headers.insert(HeaderName::from_static(header), sensitive(variable, key)?);
    }
    Ok(headers)
}

/// A header value that HTTP libraries will not print in their own logs.
fn sensitive(variable: &'static str, key: &Secret) -> Result<HeaderValue, ClientError> {
    let mut value = HeaderValue::from_str(key.expose())
        .map_err(|_| ClientError::UnsendableKey { name: variable })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The bars endpoint under the data URL, keeping any path prefix (a proxy's).
fn bars_endpoint(data_url: &Url) -> Url {
    let mut endpoint = data_url.clone();
    let prefix = data_url.path().trim_end_matches('/').to_string();
    endpoint.set_path(&format!("{prefix}/v2/stocks/bars"));
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    endpoint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_a_path_prefix() {
        let cases = [
            (
                "https://data.alpaca.markets",
                "https://data.alpaca.markets/v2/stocks/bars",
            ),
            (
                "http://127.0.0.1:9000/",
                "http://127.0.0.1:9000/v2/stocks/bars",
            ),
            (
                "http://proxy/alpaca/?x=1",
                "http://proxy/alpaca/v2/stocks/bars",
            ),
        ];
        for (data_url, endpoint) in cases {
            assert_eq!(bars_endpoint(&data_url.parse().unwrap()).as_str(), endpoint);
        }
    }

    #[test]
    fn keys_that_cannot_be_headers_are_refused_without_being_shown() {
        let url: Url = "http://127.0.0.1:1".parse().unwrap();
        let config = ClientConfig::new(url, Secret::new("PK\nLEAK"), Secret::new("S"));
        let message = BarsClient::new(config).unwrap_err().to_string();
        assert!(
            message.starts_with("APCA_API_KEY_ID holds characters"),
            "{message}"
        );
        assert!(!message.contains("LEAK"));
    }

    #[test]
    fn clients_are_cheap_to_share_between_tasks() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        fn sendable<T: Send + 'static>() {}
        shareable::<BarsClient>();
        sendable::<BarStream>();
    }
}

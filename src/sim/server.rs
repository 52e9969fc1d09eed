//! The HTTP face of the simulator: routes, the key check, and the layer that
//! decides which injected fault (if any) answers each request. Requests pass,
//! from the outside in: gzip compression, fault injection and counting, the
//! key check, then the endpoint.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use tower_http::compression::CompressionLayer;

use super::config::{Keys, SimClock, SimConfig};
use super::error::Rejection;
use super::faults::{CounterCells, RateLimiter, truncate_body};
use super::listener::Connection;
use super::paging::{self, Page};
use super::query::{self, BarsQuery, Context, Params};
use super::trading;
use crate::alpaca::wire::{CalendarDay, Clock, MultiBarsPage, SingleBarsPage};
use crate::calendar::Calendar;

/// The state every request sees.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SimConfig,
    pub clock: RwLock<SimClock>,
    pub limiter: Option<RateLimiter>,
    pub counters: CounterCells,
}

impl Shared {
    pub fn new(config: SimConfig) -> Self {
        Shared {
            clock: RwLock::new(config.clock),
            limiter: config.rate_limit.map(RateLimiter::new),
            counters: CounterCells::default(),
            config,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .now()
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v2/stocks/bars", get(multi_bars))
        .route("/v2/stocks/{symbol}/bars", get(single_bars))
        .route("/v2/calendar", get(calendar))
        .route("/v2/clock", get(clock))
        .fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), authenticate))
        .layer(from_fn_with_state(shared.clone(), inject_faults))
        .layer(CompressionLayer::new())
        .with_state(shared)
}

/// Counts the request, applies the configured faults in a fixed order
/// (latency, dropped connection, rate limit, server error, truncated body)
/// and counts the response.
async fn inject_faults(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let nth = shared.counters.begin();
    let config = &shared.config;
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    if config.drop_connection_on == Some(nth) {
        return sever(&shared, &request);
    }

    let quota = shared
        .limiter
        .as_ref()
        .map(|limiter| limiter.admit(SystemTime::now()));
    let mut response = match (quota, config.server_error_at(nth)) {
        (Some(quota), _) if !quota.allowed => Rejection::too_many_requests().into_response(),
        (_, Some(status)) => server_error(status),
        _ => next.run(request).await,
    };
    if config.malformed_body_on == Some(nth) {
        response = truncate_body(response).await;
    }
    if let Some(quota) = quota {
        quota.write_headers(response.headers_mut());
    }
    shared.counters.responded(response.status().as_u16());
    response
}

/// Throws the connection's switch; the response returned here is never
/// written because every write on the connection now fails.
fn sever(shared: &Shared, request: &Request) -> Response {
    if let Some(ConnectInfo(connection)) = request.extensions().get::<ConnectInfo<Connection>>() {
        tracing::debug!(peer = %connection.peer, "severing the connection as configured");
        connection.sever();
    }
    shared.counters.dropped();
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// An injected server error: JSON from the service for 500 and 503, an HTML
/// page as a proxy in front of it would send for 502 and 504.
fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Server Error");
    if matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
    ) {
        let title = format!("{} {reason}", status.as_u16());
        let html = format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n\
             <body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
        );
        return (status, [(header::CONTENT_TYPE, "text/html")], html).into_response();
    }
    let code = u32::from(status.as_u16()) * 100_000 + 10_000;
    let message = reason.to_lowercase();
    Rejection {
        status,
        code,
        message,
    }
    .into_response()
}

/// Lets a request through when its key pair is accepted.
async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    match check_keys(&shared.config.keys, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => rejection.into_response(),
    }
}

fn check_keys(keys: &Keys, headers: &HeaderMap) -> Result<(), Rejection> {
    let header = |name: &str| {
        let value = headers.get(name)?.to_str().ok()?;
        (!value.is_empty()).then_some(value)
    };
    match (header("apca-api-key-id"), header("apca-api-secret-key")) {
        (Some(id), Some(secret)) if accepts(keys, id, secret) => Ok(()),
        (Some(_), Some(_)) => Err(Rejection::wrong_keys()),
        _ => Err(Rejection::missing_keys()),
    }
}

fn accepts(keys: &Keys, id: &str, secret: &str) -> bool {
    match keys {
        Keys::AnyNonEmpty => true,
        Keys::Only(pairs) => pairs.iter().any(|(i, s)| i == id && s == secret),
    }
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs(query: Pairs) -> Result<Vec<(String, String)>, Rejection> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| Rejection::bad_request(e.body_text()))
}

async fn multi_bars(
    State(shared): State<Arc<Shared>>,
    query: Pairs,
) -> Result<Json<MultiBarsPage>, Rejection> {
    let (_, page) = serve_bars(&shared, &pairs(query)?, None)?;
    let bars = page.bars.into_iter().collect();
    Ok(Json(MultiBarsPage {
        bars,
        next_page_token: page.next_page_token,
    }))
}

async fn single_bars(
    State(shared): State<Arc<Shared>>,
    Path(symbol): Path<String>,
    query: Pairs,
) -> Result<Json<SingleBarsPage>, Rejection> {
    let (bars_query, page) = serve_bars(&shared, &pairs(query)?, Some(&symbol))?;
    let bars = page.bars.into_iter().next().map(|(_, bars)| bars);
    let symbol = bars_query
        .symbols
        .into_iter()
        .next()
        .ok_or_else(|| Rejection::internal("the single-symbol request lost its symbol"))?;
    Ok(Json(SingleBarsPage {
        bars,
        symbol,
        next_page_token: page.next_page_token,
    }))
}

fn serve_bars(
    shared: &Shared,
    pairs: &[(String, String)],
    path_symbol: Option<&str>,
) -> Result<(BarsQuery, Page), Rejection> {
    let now = shared.now();
    let ctx = Context {
        path_symbol,
        now,
        free_plan: shared.config.free_plan,
    };
    let bars_query = query::parse(pairs, ctx)?;
    let page = paging::page(&bars_query, now)
        .map_err(|e| Rejection::unprocessable(format!("invalid window: {e}")))?;
    shared.counters.served_bars(page.len());
    Ok((bars_query, page))
}

async fn calendar(query: Pairs) -> Result<Json<Vec<CalendarDay>>, Rejection> {
    let pairs = pairs(query)?;
    let params = Params::collect(&pairs, &["start", "end", "date_type"])?;
    let (from, to) = calendar_range(&params)?;
    let days = trading::calendar_days(from, to);
    Ok(Json(
        days.map_err(|e| Rejection::unprocessable(e.to_string()))?,
    ))
}

/// The dates a calendar request asks for. Without bounds Alpaca answers with
/// its whole calendar, and so does the simulator.
fn calendar_range(params: &Params) -> Result<(NaiveDate, NaiveDate), Rejection> {
    if params.get("date_type").is_some_and(|t| t != "TRADING") {
        let message = "unsupported date_type: only TRADING is simulated";
        return Err(Rejection::unprocessable(message));
    }
    let nyse = Calendar::nyse();
    let from = calendar_date(params, "start", nyse.first_date())?;
    let to = calendar_date(params, "end", nyse.last_date())?;
    Ok((from, to))
}

fn calendar_date(params: &Params, name: &str, default: NaiveDate) -> Result<NaiveDate, Rejection> {
    let Some(raw) = params.get(name) else {
        return Ok(default);
    };
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Rejection::unprocessable(format!(
            "invalid {name} `{raw}`: expected a date, as 2024-01-02"
        ))
    })
}

async fn clock(State(shared): State<Arc<Shared>>) -> Result<Json<Clock>, Rejection> {
    let clock = trading::clock_at(shared.now()).map_err(|e| Rejection::internal(e.to_string()))?;
    Ok(Json(clock))
}

async fn not_found(request: Request) -> Rejection {
    let path = request.uri().path().to_string();
    Rejection {
        status: StatusCode::NOT_FOUND,
        code: 40410000,
        message: format!("endpoint not found: {path}"),
    }
}

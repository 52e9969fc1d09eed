//! The market data client against the simulator over real HTTP on
//! 127.0.0.1: paging, symbols without bars, rate limits, retries of every
//! transient failure, refusals that are not retried, and keys that never
//! show in an error.

use std::fmt::{Debug, Display};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use seedctl::alpaca::client::{
    BarsClient, BarsQuery, ClientConfig, ClientError, FetchError, SymbolBars,
};
use seedctl::alpaca::wire::Bar;
use seedctl::domain::{Adjustment, Feed, Symbol};
use seedctl::secret::Secret;
use seedctl::sim::{SimClock, SimConfig, Simulator, bar_at};

const KEY_ID: &str = "PKSECRETKEYID";
const SECRET_KEY: &str = "SECRETSECRETSECRET";

async fn simulator(config: SimConfig) -> Simulator {
    Simulator::start(config)
        .await
        .expect("the simulator starts")
}

/// Quick retries and no budget to speak of, so that tests stay fast.
fn config(sim: &Simulator) -> ClientConfig {
    let mut config = ClientConfig::new(
        sim.url().parse().unwrap(),
        Secret::new(KEY_ID),
        Secret::new(SECRET_KEY),
    );
    config.requests_per_minute = NonZeroU32::new(100_000).unwrap();
    config.max_retries = 4;
    config.max_retry_time = Duration::from_secs(5);
    config.min_retry_delay = Duration::from_millis(10);
    config.read_timeout = Duration::from_secs(5);
    config
}

fn client(config: ClientConfig) -> BarsClient {
    BarsClient::new(config).expect("the client starts")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn symbols(names: &[&str]) -> Vec<Symbol> {
    names.iter().map(|s| s.parse().unwrap()).collect()
}

fn query(names: &[&str], feed: Feed, start: &str, end: &str) -> BarsQuery {
    query_at(names, feed, at(start), at(end))
}

fn query_at(names: &[&str], feed: Feed, start: DateTime<Utc>, end: DateTime<Utc>) -> BarsQuery {
    BarsQuery {
        symbols: symbols(names),
        feed,
        adjustment: Adjustment::RAW,
        start,
        end,
    }
}

/// One regular-session hour of one symbol: a single page.
fn small_query(name: &str) -> BarsQuery {
    query(
        &[name],
        Feed::Iex,
        "2024-03-05T15:00:00Z",
        "2024-03-05T16:00:00Z",
    )
}

async fn fetch_all(client: &BarsClient, query: BarsQuery) -> Result<Vec<SymbolBars>, FetchError> {
    let mut stream = client.bars(query);
    let mut all = Vec::new();
    while let Some(symbol) = stream.next_symbol().await? {
        all.push(symbol);
    }
    Ok(all)
}

/// What the simulator's data says for every minute of the query: symbols
/// with bars first, then those without, as the stream hands them out.
fn expected(query: &BarsQuery) -> Vec<SymbolBars> {
    let mut with_bars = Vec::new();
    let mut without = Vec::new();
    let mut sorted = query.symbols.clone();
    sorted.sort();
    for symbol in &sorted {
        let bars = minute_bars(symbol, query);
        if bars.is_empty() {
            without.push((symbol.clone(), bars));
        } else {
            with_bars.push((symbol.clone(), bars));
        }
    }
    with_bars.extend(without);
    with_bars
}

fn minute_bars(symbol: &Symbol, query: &BarsQuery) -> Vec<Bar> {
    let mut bars = Vec::new();
    let mut minute = query.start;
    while minute < query.end {
        bars.extend(bar_at(symbol, minute, query.feed, query.adjustment));
        minute += TimeDelta::minutes(1);
    }
    bars
}

fn bar_total(symbols: &[SymbolBars]) -> u64 {
    symbols.iter().map(|(_, bars)| bars.len() as u64).sum()
}

/// Neither way of printing an error may show a key.
fn assert_no_keys(shown: &(impl Display + Debug)) {
    for text in [shown.to_string(), format!("{shown:?}")] {
        assert!(!text.contains(KEY_ID), "the key id leaked: {text}");
        assert!(!text.contains(SECRET_KEY), "the secret key leaked: {text}");
    }
}

/// An error message with its elapsed time (`in 123 ms`) replaced, for a
/// snapshot.
fn without_elapsed(error: &FetchError) -> String {
    let text = error.to_string();
    let marker = " attempts in ";
    let Some(found) = text.find(marker) else {
        return text;
    };
    let from = found + marker.len();
    let to = text[from..].find(':').map_or(text.len(), |i| from + i);
    format!("{}[elapsed]{}", &text[..from], &text[to..])
}

#[tokio::test]
async fn pages_concatenate_to_every_bar_of_every_symbol() {
    let sim = simulator(SimConfig::default()).await;
    let client = client(config(&sim));
    let mut query = query(
        &["CCC", "AAA", "BBB"],
        Feed::Sip,
        "2024-03-04T09:00:00Z",
        "2024-03-20T00:00:00Z",
    );
    query.adjustment = "all".parse().unwrap();

    let got = fetch_all(&client, query.clone()).await.unwrap();
    let want = expected(&query);
    let names: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(names, ["AAA", "BBB", "CCC"]);
    assert!(got == want, "the bars differ from the simulator's data");

    let stats = client.stats();
    let total = bar_total(&got);
    assert!(stats.pages >= 3, "{total} bars in {} pages", stats.pages);
    assert_eq!(stats.pages, total.div_ceil(10_000));
    assert_eq!((stats.requests, stats.retries), (stats.pages, 0));
    assert_eq!(sim.counters().requests, stats.requests);
    assert_eq!(sim.counters().bars_served, total);
}

#[tokio::test]
async fn a_symbol_without_bars_comes_out_empty_after_the_others() {
    let sim = simulator(SimConfig::default()).await;
    let client = client(config(&sim));

    // A pre-market half hour in which THIN never traded on IEX and AAA did.
    let day_start = at("2024-03-05T09:00:00Z");
    let window = (0..11)
        .map(|i| {
            let start = day_start + TimeDelta::minutes(30 * i);
            query_at(
                &["THIN", "AAA"],
                Feed::Iex,
                start,
                start + TimeDelta::minutes(30),
            )
        })
        .find(|q| {
            let [thin, aaa] = [&q.symbols[0], &q.symbols[1]].map(|s| minute_bars(s, q).len());
            aaa > 0 && thin == 0
        })
        .expect("some pre-market half hour has AAA bars and no THIN bar");

    let got = fetch_all(&client, window.clone()).await.unwrap();
    let names: Vec<(&str, bool)> = got
        .iter()
        .map(|(s, b)| (s.as_str(), b.is_empty()))
        .collect();
    assert_eq!(names, [("AAA", false), ("THIN", true)]);
    assert!(got == expected(&window));
    assert_eq!(client.stats().requests, 1);
}

#[tokio::test]
async fn a_weekend_gives_every_symbol_empty_in_one_request() {
    let sim = simulator(SimConfig::default()).await;
    let client = client(config(&sim));
    let weekend = query(
        &["BBB", "AAA"],
        Feed::Sip,
        "2024-03-09T01:00:00Z",
        "2024-03-11T08:00:00Z",
    );

    let got = fetch_all(&client, weekend).await.unwrap();
    assert_eq!(
        got,
        [
            (symbols(&["AAA"])[0].clone(), vec![]),
            (symbols(&["BBB"])[0].clone(), vec![])
        ]
    );
    assert_eq!((client.stats().requests, sim.counters().requests), (1, 1));
}

#[tokio::test]
async fn an_empty_window_sends_nothing() {
    let sim = simulator(SimConfig::default()).await;
    let client = client(config(&sim));
    let empty = query(
        &["AAA"],
        Feed::Iex,
        "2024-03-05T15:00:00Z",
        "2024-03-05T15:00:00Z",
    );
    let got = fetch_all(&client, empty).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(sim.counters().requests, 0);
}

#[tokio::test]
async fn a_429_waits_for_the_reset_instead_of_hammering() {
    let sim = simulator(SimConfig::default().rate_limit(1, Duration::from_secs(1))).await;
    // Another process with the same account has just used the window up.
    let other = client(config(&sim));
    fetch_all(&other, small_query("AAA")).await.unwrap();

    let client = client(config(&sim));
    let got = fetch_all(&client, small_query("BBB")).await.unwrap();
    assert!(got == expected(&small_query("BBB")));

    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.pages), (2, 1, 1));
    assert!(stats.rate_limit_waits >= 1, "{stats:?}");
    let counters = sim.counters();
    assert_eq!((counters.requests, counters.status(429)), (3, 1));
}

#[tokio::test]
async fn no_requests_remaining_holds_the_next_one_until_the_reset() {
    let sim = simulator(SimConfig::default().rate_limit(2, Duration::from_secs(1))).await;
    let client = client(config(&sim));
    for name in ["AAA", "BBB", "CCC"] {
        fetch_all(&client, small_query(name)).await.unwrap();
    }
    let stats = client.stats();
    assert_eq!(
        (stats.requests, stats.retries, stats.rate_limit_waits),
        (3, 0, 1)
    );
    assert_eq!(sim.counters().status(429), 0);
}

#[tokio::test]
async fn server_errors_are_retried_until_the_page_comes() {
    let sim = simulator(SimConfig::default().server_error_every(2)).await;
    let client = client(config(&sim));
    for name in ["AAA", "BBB", "CCC", "DDD"] {
        let got = fetch_all(&client, small_query(name)).await.unwrap();
        assert!(got == expected(&small_query(name)), "{name}");
    }
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.pages), (7, 3, 4));
    let counters = sim.counters();
    let errors = [500, 502, 503].map(|status| counters.status(status));
    assert_eq!(errors, [1, 1, 1], "JSON and HTML error bodies alike");
}

#[tokio::test]
async fn retries_stop_at_their_count_with_a_clear_error() {
    let sim = simulator(SimConfig::default().server_error_every(1)).await;
    let mut config = config(&sim);
    config.max_retries = 3;
    let client = client(config);

    let error = fetch_all(&client, small_query("AAA")).await.unwrap_err();
    assert!(
        matches!(error, FetchError::RetriesExhausted { attempts: 4, .. }),
        "{error:?}"
    );
    assert_eq!(sim.counters().requests, 4);
    assert_no_keys(&error);
    insta::assert_snapshot!(without_elapsed(&error), @r#"bars of AAA from 2024-03-05T15:00:00Z to 2024-03-05T16:00:00Z on feed iex: gave up on page 1 after 4 attempts in [elapsed]: the last one failed with HTTP 504 Gateway Timeout ("<html> <head><title>504 Gateway Timeout</title></head> <body> <center><h1>504 Gateway Timeout</h1></center> </body> </html>"); alpaca or the network may be having trouble, try again later"#);
}

#[tokio::test]
async fn retries_stop_at_their_time_limit() {
    let sim = simulator(SimConfig::default().server_error_every(1)).await;
    let mut config = config(&sim);
    config.max_retries = 1_000;
    config.min_retry_delay = Duration::from_millis(40);
    config.max_retry_time = Duration::from_millis(300);
    let client = client(config);

    let started = Instant::now();
    let error = fetch_all(&client, small_query("AAA")).await.unwrap_err();
    let FetchError::RetriesExhausted { attempts, .. } = error else {
        panic!("{error:?}");
    };
    assert!(attempts < 10, "{attempts} attempts");
    assert_eq!(sim.counters().requests, u64::from(attempts));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let sim = simulator(SimConfig::default().latency(Duration::from_millis(400))).await;
    let mut config = config(&sim);
    config.read_timeout = Duration::from_millis(100);
    config.max_retries = 1;
    let client = client(config);

    let error = fetch_all(&client, small_query("AAA")).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("after 2 attempts") && text.contains("timed out"),
        "{text}"
    );
    assert_eq!(client.stats().requests, 2);
}

#[tokio::test]
async fn a_malformed_body_is_retried() {
    let sim = simulator(SimConfig::default().malformed_body_on(1)).await;
    let client = client(config(&sim));
    let got = fetch_all(&client, small_query("AAA")).await.unwrap();
    assert!(got == expected(&small_query("AAA")));
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.pages), (2, 1, 1));
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let sim = simulator(SimConfig::default().drop_connection_on(1)).await;
    let client = client(config(&sim));
    let got = fetch_all(&client, small_query("AAA")).await.unwrap();
    assert!(got == expected(&small_query("AAA")));
    assert_eq!(sim.counters().dropped, 1);
    assert_eq!((client.stats().retries, client.stats().pages), (1, 1));
}

#[tokio::test]
async fn wrong_keys_are_refused_at_once_with_alpacas_words() {
    let sim = simulator(SimConfig::default().accept_keys("PKOTHER", "OTHERSECRET")).await;
    let client = client(config(&sim));

    let error = fetch_all(&client, small_query("AAA")).await.unwrap_err();
    let FetchError::Refused { refusal, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!((refusal.status, refusal.code), (403, Some(40310000)));
    assert_eq!(sim.counters().requests, 1, "a refusal is not retried");
    assert_no_keys(&error);
    insta::assert_snapshot!(error.to_string(), @r#"bars of AAA from 2024-03-05T15:00:00Z to 2024-03-05T16:00:00Z on feed iex: alpaca refused GET /v2/stocks/bars?symbols=AAA&timeframe=1Min&start=2024-03-05T15:00:00Z&end=2024-03-05T15:59:59Z&limit=10000&feed=iex&adjustment=raw&sort=asc (page 1) with 403 Forbidden, code 40310000: "forbidden: the key id and secret key are not valid for this endpoint"; check APCA_API_KEY_ID and APCA_API_SECRET_KEY: they must be a pair from the same Alpaca account"#);

    assert_no_keys(&format_args!("{client:?}"));
}

#[tokio::test]
async fn the_free_plans_refusal_of_recent_sip_says_what_to_do() {
    let now = at("2024-03-05T15:00:00Z");
    let sim = simulator(SimConfig::default().free_plan().clock(SimClock::Fixed(now))).await;
    let client = client(config(&sim));
    let recent = query(
        &["SPY", "QQQ", "AAPL", "MSFT"],
        Feed::Sip,
        "2024-03-05T14:30:00Z",
        "2024-03-05T15:00:00Z",
    );

    let error = fetch_all(&client, recent).await.unwrap_err();
    let FetchError::Refused { refusal, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(refusal.is_recent_sip());
    assert_eq!(sim.counters().requests, 1);
    assert_no_keys(&error);
    insta::assert_snapshot!(error.to_string(), @r#"bars of AAPL, MSFT, QQQ and 1 more (4 symbols) from 2024-03-05T14:30:00Z to 2024-03-05T15:00:00Z on feed sip: alpaca refused GET /v2/stocks/bars?symbols=AAPL,MSFT,QQQ,+1 more&timeframe=1Min&start=2024-03-05T14:30:00Z&end=2024-03-05T14:59:59Z&limit=10000&feed=sip&adjustment=raw&sort=asc (page 1) with 403 Forbidden, code 42210000: "subscription does not permit querying recent SIP data"; the free plan serves SIP bars only once they are 15 minutes old: use feed iex, wait 15 minutes past the window's end, or upgrade the market data subscription"#);
}

#[tokio::test]
async fn the_budget_lets_a_burst_through_then_spreads_the_rest() {
    let sim = simulator(SimConfig::default()).await;
    let mut config = config(&sim);
    // A burst of 12, then one request every 60 s / 108.
    config.requests_per_minute = NonZeroU32::new(120).unwrap();
    let client = client(config);

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..14 {
        let client = client.clone();
        let name = format!("S{i}");
        tasks.spawn(async move { fetch_all(&client, small_query(&name)).await });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sim.counters().requests <= 12, "{:?}", sim.counters());

    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap().unwrap().len(), 1);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1_100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((client.stats().requests, sim.counters().requests), (14, 14));
}

#[tokio::test]
async fn the_environment_gives_the_keys_and_the_host() {
    let sim = simulator(SimConfig::default().accept_keys(KEY_ID, SECRET_KEY)).await;
    let url = sim.url();
    let env = |name: &str| match name {
        "APCA_API_DATA_URL" => Some(url.clone()),
        "APCA_API_KEY_ID" => Some(KEY_ID.to_string()),
        "APCA_API_SECRET_KEY" => Some(SECRET_KEY.to_string()),
        _ => None,
    };
    let config = ClientConfig::from_env(env).unwrap();
    assert_no_keys(&format_args!("{config:?}"));
    let got = fetch_all(&client(config), small_query("AAA"))
        .await
        .unwrap();
    assert!(got == expected(&small_query("AAA")));

    let missing = ClientConfig::from_env(|name| (name == "APCA_API_KEY_ID").then(|| KEY_ID.into()));
    let error = missing.unwrap_err();
    assert!(matches!(
        error,
        ClientError::MissingVariable {
            name: "APCA_API_SECRET_KEY"
        }
    ));
    assert_no_keys(&error);
    insta::assert_snapshot!(error.to_string(), @"APCA_API_SECRET_KEY is not set: export the key id and secret key of your Alpaca account");
}

/// A server that answers from a script, for what the simulator never does
/// wrong: a 429 without headers, symbols out of order, tokens that repeat.
mod scripted {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{RawQuery, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use tokio::net::TcpListener;

    use super::*;

    /// What the server saw of one request.
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub headers: HeaderMap,
        pub query: String,
    }

    #[derive(Default)]
    struct Script {
        answers: Mutex<VecDeque<(u16, String)>>,
        seen: Mutex<Vec<Seen>>,
    }

    pub struct Server {
        pub url: String,
        script: Arc<Script>,
    }

    impl Server {
        pub async fn start(answers: &[(u16, &str)]) -> Server {
            let script = Arc::new(Script::default());
            let queued = answers.iter().map(|(s, b)| (*s, b.to_string()));
            script.answers.lock().unwrap().extend(queued);
            let app = Router::new()
                .route("/v2/stocks/bars", get(answer))
                .with_state(script.clone());
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Server { url, script }
        }

        pub fn seen(&self) -> Vec<Seen> {
            self.script.seen.lock().unwrap().clone()
        }
    }

    async fn answer(
        State(script): State<Arc<Script>>,
        headers: HeaderMap,
        RawQuery(query): RawQuery,
    ) -> (StatusCode, String) {
        let query = query.unwrap_or_default();
        script.seen.lock().unwrap().push(Seen { headers, query });
        let next = script.answers.lock().unwrap().pop_front();
        let (status, body) = next.unwrap_or((500, "the script has ended".into()));
        (StatusCode::from_u16(status).unwrap(), body)
    }

    pub fn client_of(server: &Server) -> BarsClient {
        let mut config = ClientConfig::new(
            server.url.parse().unwrap(),
            Secret::new(KEY_ID),
            Secret::new(SECRET_KEY),
        );
        config.min_retry_delay = Duration::from_millis(10);
        config.max_retries = 2;
        BarsClient::new(config).unwrap()
    }

    pub fn page(symbols: &[&str], token: Option<&str>) -> String {
        let bar = r#"[{"t":"2024-03-05T15:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1,"n":1,"vw":1}]"#;
        let bars: Vec<String> = symbols.iter().map(|s| format!("\"{s}\":{bar}")).collect();
        let token = token.map_or("null".to_string(), |t| format!("\"{t}\""));
        format!(
            r#"{{"bars":{{{}}},"next_page_token":{token}}}"#,
            bars.join(",")
        )
    }
}

#[tokio::test]
async fn requests_carry_the_keys_gzip_and_every_parameter() {
    let server = scripted::Server::start(&[
        (200, &scripted::page(&["AAA"], Some("NEXT"))),
        (200, &scripted::page(&[], None)),
    ])
    .await;
    let client = scripted::client_of(&server);
    let q = query(
        &["BBB", "AAA"],
        Feed::Iex,
        "2024-03-05T14:30:00Z",
        "2024-03-05T21:00:00Z",
    );
    fetch_all(&client, q).await.unwrap();

    let seen = server.seen();
    let header = |name: &str| seen[0].headers[name].to_str().unwrap().to_string();
    assert_eq!(
        (header("apca-api-key-id"), header("apca-api-secret-key")),
        (KEY_ID.into(), SECRET_KEY.into())
    );
    assert!(header("accept-encoding").contains("gzip"));
    let first = "symbols=AAA%2CBBB&timeframe=1Min&start=2024-03-05T14%3A30%3A00Z\
                 &end=2024-03-05T20%3A59%3A59Z&limit=10000&feed=iex&adjustment=raw&sort=asc";
    assert_eq!(seen[0].query, first);
    assert_eq!(seen[1].query, format!("{first}&page_token=NEXT"));
}

#[tokio::test]
async fn a_429_without_a_reset_backs_off() {
    let too_many = r#"{"code":42910000,"message":"too many requests"}"#;
    let server =
        scripted::Server::start(&[(429, too_many), (200, &scripted::page(&["AAA"], None))]).await;
    let client = scripted::client_of(&server);
    let got = fetch_all(&client, small_query("AAA")).await.unwrap();
    assert_eq!(got.len(), 1);
    let stats = client.stats();
    assert_eq!(
        (stats.requests, stats.retries, stats.rate_limit_waits),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn pages_that_break_the_order_are_errors() {
    let two = |first: String, second: String| [(200, first), (200, second)];
    let cases = [
        (
            two(scripted::page(&["ZZZ"], None), String::new()),
            "alpaca sent bars of `ZZZ`, which the request did not ask for",
        ),
        (
            two(
                scripted::page(&["AAA", "BBB"], Some("T1")),
                scripted::page(&["AAA"], None),
            ),
            "alpaca sent bars of AAA again after those of BBB; bars must come grouped by symbol",
        ),
        (
            two(
                scripted::page(&["AAA"], Some("T1")),
                scripted::page(&["AAA"], Some("T1")),
            ),
            "the bars of AAA are not in ascending time",
        ),
        (
            two(
                scripted::page(&[], Some("T1")),
                scripted::page(&[], Some("T1")),
            ),
            "paging does not end after 2 pages: alpaca sent a page token it had sent before",
        ),
        (
            two(r#"{"bars":[1,2]}"#.into(), String::new()),
            "is not a page of bars: invalid type: sequence",
        ),
    ];
    for (answers, message) in cases {
        let answers: Vec<(u16, &str)> = answers.iter().map(|(s, b)| (*s, b.as_str())).collect();
        let server = scripted::Server::start(&answers).await;
        let client = scripted::client_of(&server);
        let q = query(
            &["AAA", "BBB"],
            Feed::Iex,
            "2024-03-05T15:00:00Z",
            "2024-03-05T16:00:00Z",
        );
        let mut stream = client.bars(q);
        let error = loop {
            match stream.next_symbol().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{message}: the stream ended without an error"),
                Err(error) => break error,
            }
        };
        assert!(error.to_string().contains(message), "{error}");
        assert_no_keys(&error);
        assert_eq!(client.stats().retries, 0, "{message}: not retried");
        let again = stream.next_symbol().await.unwrap_err();
        assert_eq!(
            again.to_string(),
            error.to_string(),
            "the stream stays failed"
        );
    }
}

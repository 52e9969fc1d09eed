//! The simulator over real HTTP: protocol, pagination, every injected fault,
//! and the data rules, checked against tables computed with `sim::bar_at`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::America::New_York;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use seedctl::alpaca::wire::{ApiError, Bar, MultiBarsPage, SingleBarsPage};
use seedctl::domain::{Adjustment, Feed, Symbol};
use seedctl::sim::{SimClock, SimConfig, Simulator, THIN_SYMBOL, bar_at};

const KEY_ID: &str = "PKSIMTEST";
const SECRET: &str = "sim-secret";

/// After the close of Friday 2024-03-08, so the week before is complete.
const FRIDAY_EVENING: &str = "2024-03-08T23:00:00Z";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn symbol(text: &str) -> Symbol {
    text.parse().unwrap()
}

fn frozen(now: &str) -> SimConfig {
    SimConfig::default().clock(SimClock::Fixed(at(now)))
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().unwrap()
}

async fn get_with(client: &Client, sim: &Simulator, path: &str) -> reqwest::Result<Response> {
    let url = format!("{}{path}", sim.url());
    let request = client.get(url).header("APCA-API-KEY-ID", KEY_ID);
    request.header("APCA-API-SECRET-KEY", SECRET).send().await
}

async fn get(sim: &Simulator, path: &str) -> Response {
    get_with(&client(), sim, path).await.unwrap()
}

async fn error_body(response: Response) -> ApiError {
    response.json().await.unwrap()
}

/// The bars a request must return, computed minute by minute.
fn expected(
    symbols: &[&str],
    (start, end): (&str, &str),
    feed: Feed,
    now: &str,
) -> BTreeMap<Symbol, Vec<Bar>> {
    let (start, end, now) = (at(start), at(end), at(now));
    let mut table = BTreeMap::new();
    for s in symbols {
        let mut bars = Vec::new();
        let mut minute = start;
        while minute <= end && minute + TimeDelta::minutes(1) <= now {
            bars.extend(bar_at(&symbol(s), minute, feed, Adjustment::RAW));
            minute += TimeDelta::minutes(1);
        }
        if !bars.is_empty() {
            table.insert(symbol(s), bars);
        }
    }
    table
}

/// Follows `next_page_token` to the end.
async fn all_pages(sim: &Simulator, query: &str) -> Vec<MultiBarsPage> {
    let mut pages: Vec<MultiBarsPage> = Vec::new();
    loop {
        let token = pages.last().and_then(|p| p.next_page_token.clone());
        if !pages.is_empty() && token.is_none() {
            return pages;
        }
        let token = token
            .map(|t| format!("&page_token={t}"))
            .unwrap_or_default();
        let response = get(sim, &format!("/v2/stocks/bars?{query}{token}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        pages.push(response.json().await.unwrap());
    }
}

fn merged(pages: &[MultiBarsPage]) -> BTreeMap<Symbol, Vec<Bar>> {
    let mut table: BTreeMap<Symbol, Vec<Bar>> = BTreeMap::new();
    for page in pages {
        for (symbol, bars) in &page.bars {
            table.entry(symbol.clone()).or_default().extend(bars);
        }
    }
    table
}

fn page_len(page: &MultiBarsPage) -> usize {
    page.bars.values().map(Vec::len).sum()
}

const WINDOW: (&str, &str) = ("2024-03-04T09:00:00Z", "2024-03-06T01:00:00Z");
const SYMBOLS: [&str; 3] = ["MSFT", "AAPL", THIN_SYMBOL];

fn window_query(extra: &str) -> String {
    let (start, end) = WINDOW;
    format!("symbols=MSFT,AAPL,THIN&timeframe=1Min&start={start}&end={end}&feed=iex{extra}")
}

#[tokio::test]
async fn pages_concatenate_to_the_unpaged_answer() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let table = expected(&SYMBOLS, WINDOW, Feed::Iex, FRIDAY_EVENING);
    let total: usize = table.values().map(Vec::len).sum();

    let whole = all_pages(&sim, &window_query("&limit=10000")).await;
    assert_eq!(whole.len(), 1, "{total} bars fit one page");
    assert_eq!(merged(&whole), table);

    let pages = all_pages(&sim, &window_query("&limit=137")).await;
    assert_eq!(pages.len(), total.div_ceil(137));
    assert!(pages[..pages.len() - 1].iter().all(|p| page_len(p) == 137));
    assert!(
        pages.iter().any(|p| p.bars.len() > 1),
        "a page holds two symbols"
    );
    let spans = |s: &str| {
        pages
            .iter()
            .filter(|p| p.bars.contains_key(&symbol(s)))
            .count()
    };
    assert!(spans("AAPL") > 1, "a symbol spans pages");
    assert_eq!(merged(&pages), table);
    assert_eq!(sim.counters().bars_served as usize, 2 * total);
}

#[tokio::test]
async fn sort_desc_reverses_time_within_each_symbol() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let mut table = expected(&SYMBOLS, WINDOW, Feed::Iex, FRIDAY_EVENING);
    table.values_mut().for_each(|bars| bars.reverse());

    let pages = all_pages(&sim, &window_query("&limit=200&sort=desc")).await;
    assert!(pages.len() > 2);
    assert_eq!(merged(&pages), table);
}

#[tokio::test]
async fn the_default_limit_is_1000() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let page: MultiBarsPage = get(&sim, &format!("/v2/stocks/bars?{}", window_query("")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page_len(&page), 1000);
    assert!(page.next_page_token.is_some());
}

#[tokio::test]
async fn the_single_symbol_endpoint_pages_and_says_null_when_empty() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let (start, end) = WINDOW;
    let base = format!("/v2/stocks/aapl/bars?timeframe=1Min&start={start}&end={end}&feed=iex");
    let first: SingleBarsPage = get(&sim, &format!("{base}&limit=50"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first.symbol, symbol("AAPL"));
    assert_eq!(first.bars.as_ref().map(Vec::len), Some(50));
    let token = first.next_page_token.unwrap();
    let second: SingleBarsPage = get(&sim, &format!("{base}&limit=50&page_token={token}"))
        .await
        .json()
        .await
        .unwrap();
    let table = expected(&["AAPL"], WINDOW, Feed::Iex, FRIDAY_EVENING);
    assert_eq!(second.bars.unwrap()[..], table[&symbol("AAPL")][50..100]);

    let weekend = "timeframe=1Min&start=2024-03-09&end=2024-03-10";
    let body: Value = get(&sim, &format!("/v2/stocks/AAPL/bars?{weekend}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"bars": null, "symbol": "AAPL", "next_page_token": null})
    );
    let multi: Value = get(&sim, &format!("/v2/stocks/bars?symbols=AAPL&{weekend}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(multi, json!({"bars": {}, "next_page_token": null}));
}

#[tokio::test]
async fn bar_json_has_alpacas_field_names_and_utc_timestamps() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let query = "symbols=AAPL&timeframe=1Min&start=2024-03-05T15:00:00Z&limit=1";
    let body: Value = get(&sim, &format!("/v2/stocks/bars?{query}"))
        .await
        .json()
        .await
        .unwrap();
    let bar = &body["bars"]["AAPL"][0];
    let fields: Vec<&str> = bar
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["c", "h", "l", "n", "o", "t", "v", "vw"]);
    assert!(bar["t"].as_str().unwrap().ends_with('Z'));
    assert!(bar["v"].is_u64() && bar["n"].is_u64() && bar["vw"].is_f64());
}

#[tokio::test]
async fn bad_parameters_get_alpaca_error_bodies() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let first = "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=5&start=2024-03-05";
    let first: MultiBarsPage = get(&sim, first).await.json().await.unwrap();
    let token = first.next_page_token.unwrap();
    let cases = [
        ("symbols=AAPL&timeframe=1Hour".to_string(), 422, 42210000),
        (
            "symbols=AAPL&timeframe=1Min&limit=10001".into(),
            422,
            42210000,
        ),
        (
            "symbols=AAPL&timeframe=1Min&start=yesterday".into(),
            422,
            42210000,
        ),
        (
            "symbols=AAPL&timeframe=1Min&feed=delayed_sip".into(),
            422,
            42210000,
        ),
        (
            "symbols=AAPL&timeframe=1Min&adjustment=none".into(),
            422,
            42210000,
        ),
        (
            "symbols=AAPL&timeframe=1Min&page_token=garbage".into(),
            400,
            40010001,
        ),
        (
            format!("symbols=AAPL&timeframe=1Min&limit=5&start=2024-03-04&page_token={token}"),
            400,
            40010001,
        ),
        (
            format!("symbols=MSFT&timeframe=1Min&limit=5&start=2024-03-05&page_token={token}"),
            400,
            40010001,
        ),
    ];
    for (query, status, code) in cases {
        let response = get(&sim, &format!("/v2/stocks/bars?{query}")).await;
        assert_eq!(response.status().as_u16(), status, "{query}");
        let body = error_body(response).await;
        assert_eq!(body.code, Some(code), "{query}");
        assert!(!body.message.is_empty());
    }
}

#[tokio::test]
async fn keys_are_checked_on_every_endpoint() {
    let sim = Simulator::start(SimConfig::default().accept_keys(KEY_ID, SECRET))
        .await
        .unwrap();
    let url = format!("{}/v2/clock", sim.url());
    let missing = client()
        .get(&url)
        .header("APCA-API-KEY-ID", KEY_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_body(missing).await.code, Some(40110000));

    let wrong = client().get(&url).header("APCA-API-KEY-ID", KEY_ID);
    let wrong = wrong
        .header("APCA-API-SECRET-KEY", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_body(wrong).await.code, Some(40310000));

    assert_eq!(get(&sim, "/v2/clock").await.status(), StatusCode::OK);
    let bars = get(&sim, "/v2/stocks/bars?symbols=SPY&timeframe=1Min").await;
    assert_eq!(bars.status(), StatusCode::OK);

    let any = Simulator::start(SimConfig::default()).await.unwrap();
    let empty = client()
        .get(format!("{}/v2/clock", any.url()))
        .header("APCA-API-KEY-ID", "");
    let empty = empty
        .header("APCA-API-SECRET-KEY", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(get(&any, "/v2/clock").await.status(), StatusCode::OK);
}

fn header_u64(response: &Response, name: &str) -> u64 {
    response.headers()[name].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_rate_limit_answers_429_until_the_reset() {
    let config = frozen(FRIDAY_EVENING).rate_limit(2, Duration::from_millis(1500));
    let sim = Simulator::start(config).await.unwrap();
    for remaining in [1, 0] {
        let ok = get(&sim, "/v2/clock").await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(header_u64(&ok, "x-ratelimit-limit"), 2);
        assert_eq!(header_u64(&ok, "x-ratelimit-remaining"), remaining);
    }

    let refused = get(&sim, "/v2/clock").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_u64(&refused, "x-ratelimit-remaining"), 0);
    let reset = header_u64(&refused, "x-ratelimit-reset");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now..now + 3.0).contains(&(reset as f64)),
        "reset {reset} now {now}"
    );
    assert_eq!(error_body(refused).await.code, Some(42910000));

    let wait = UNIX_EPOCH + Duration::from_secs(reset);
    tokio::time::sleep(wait.duration_since(SystemTime::now()).unwrap_or_default()).await;
    let recovered = get(&sim, "/v2/clock").await;
    assert_eq!(recovered.status(), StatusCode::OK);
    assert_eq!(header_u64(&recovered, "x-ratelimit-remaining"), 1);
    let counters = sim.counters();
    assert_eq!((counters.status(200), counters.status(429)), (3, 1));
}

#[tokio::test]
async fn every_kth_request_fails_with_a_server_error() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING).server_error_every(2))
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = get(&sim, "/v2/clock").await;
        let html = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html");
        statuses.push((response.status().as_u16(), html));
    }
    let expected = [200, 500, 200, 502, 200, 503, 200, 504];
    let html = [false, false, false, true, false, false, false, true];
    assert_eq!(statuses, expected.into_iter().zip(html).collect::<Vec<_>>());
    assert_eq!(sim.counters().requests, 8);
}

#[tokio::test]
async fn latency_delays_every_response() {
    let config = frozen(FRIDAY_EVENING).latency(Duration::from_millis(300));
    let sim = Simulator::start(config).await.unwrap();
    let started = Instant::now();
    assert_eq!(get(&sim, "/v2/clock").await.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn one_body_is_malformed_and_the_next_is_whole() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING).malformed_body_on(2))
        .await
        .unwrap();
    let path = "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&start=2024-03-05";
    let whole = get(&sim, path).await.text().await.unwrap();
    assert!(serde_json::from_str::<MultiBarsPage>(&whole).is_ok());

    let broken = get(&sim, path).await;
    assert_eq!(broken.status(), StatusCode::OK);
    let text = broken.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(whole.starts_with(&text) && text.len() == whole.len() / 2);

    assert_eq!(get(&sim, path).await.text().await.unwrap(), whole);
}

#[tokio::test]
async fn one_connection_is_dropped_without_a_response() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING).drop_connection_on(2))
        .await
        .unwrap();
    let http = client();
    assert!(
        get_with(&http, &sim, "/v2/clock")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let dropped = get_with(&http, &sim, "/v2/clock").await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert!(
        get_with(&http, &sim, "/v2/clock")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let counters = sim.counters();
    assert_eq!(
        (counters.requests, counters.dropped, counters.status(200)),
        (3, 1, 2)
    );
}

#[tokio::test]
async fn minutes_after_the_clock_are_not_served() {
    let now = "2024-03-05T15:00:30Z";
    let sim = Simulator::start(frozen(now)).await.unwrap();
    let day = ("2024-03-05T05:00:00Z", "2024-03-06T04:59:00Z");
    let query = format!(
        "symbols=AAPL&timeframe=1Min&start={}&end={}&limit=10000",
        day.0, day.1
    );
    let early = merged(&all_pages(&sim, &query).await);
    assert_eq!(early, expected(&["AAPL"], day, Feed::Sip, now));
    let last = early[&symbol("AAPL")].last().unwrap().t;
    assert!(last <= at("2024-03-05T14:59:00Z"), "{last}");

    let clock: Value = get(&sim, "/v2/clock").await.json().await.unwrap();
    assert_eq!(clock["timestamp"], "2024-03-05T10:00:30-05:00");
    assert_eq!(clock["is_open"], true);

    sim.set_clock(SimClock::Fixed(at(FRIDAY_EVENING)));
    let later = merged(&all_pages(&sim, &query).await);
    let (early, later) = (&early[&symbol("AAPL")], &later[&symbol("AAPL")]);
    assert!(later.len() > early.len() + 300);
    assert_eq!(&later[..early.len()], &early[..]);
}

#[tokio::test]
async fn the_free_plan_refuses_recent_sip_data() {
    let sim = Simulator::start(frozen("2024-03-05T18:00:00Z").free_plan())
        .await
        .unwrap();
    let recent = "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&end=2024-03-05T17:50:00Z";
    let refused = get(&sim, recent).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = error_body(refused).await;
    assert_eq!(body.code, Some(42210000));
    assert_eq!(
        body.message,
        "subscription does not permit querying recent SIP data"
    );

    assert_eq!(
        get(&sim, &format!("{recent}&feed=iex")).await.status(),
        StatusCode::OK
    );
    let older = "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&end=2024-03-05T17:40:00Z";
    assert_eq!(get(&sim, older).await.status(), StatusCode::OK);
    let defaulted = "/v2/stocks/bars?symbols=AAPL&timeframe=1Min&limit=10000";
    let page: MultiBarsPage = get(&sim, defaulted).await.json().await.unwrap();
    let last = page.bars[&symbol("AAPL")].last().unwrap().t;
    assert!(last <= at("2024-03-05T17:45:00Z"), "{last}");
}

#[tokio::test]
async fn calendar_and_clock_have_alpacas_shapes() {
    let sim = Simulator::start(frozen("2026-11-26T17:00:00Z"))
        .await
        .unwrap();
    let calendar: Value = get(&sim, "/v2/calendar?start=2026-11-25&end=2026-11-30")
        .await
        .json()
        .await
        .unwrap();
    let day = |date, close, session_close| {
        json!({"date": date, "open": "09:30", "close": close,
               "session_open": "0400", "session_close": session_close})
    };
    let expected = json!([
        day("2026-11-25", "16:00", "2000"),
        day("2026-11-27", "13:00", "1700"),
        day("2026-11-30", "16:00", "2000"),
    ]);
    assert_eq!(calendar, expected);

    let clock: Value = get(&sim, "/v2/clock").await.json().await.unwrap();
    let expected = json!({
        "timestamp": "2026-11-26T12:00:00-05:00",
        "is_open": false,
        "next_open": "2026-11-27T09:30:00-05:00",
        "next_close": "2026-11-27T13:00:00-05:00",
    });
    assert_eq!(clock, expected);

    let refused = get(&sim, "/v2/calendar?start=1999-12-01&end=2000-01-31").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn holidays_have_no_bars_and_early_closes_end_at_17() {
    let sim = Simulator::start(frozen("2024-07-10T00:00:00Z"))
        .await
        .unwrap();
    let week = "symbols=AAPL&timeframe=1Min&start=2024-07-03&end=2024-07-05&limit=10000";
    let page: MultiBarsPage = get(&sim, &format!("/v2/stocks/bars?{week}"))
        .await
        .json()
        .await
        .unwrap();
    let by_day = |date: &str| -> Vec<String> {
        let bars = page.bars[&symbol("AAPL")]
            .iter()
            .map(|b| b.t.with_timezone(&New_York));
        let on_day = bars.filter(|t| t.date_naive().to_string() == date);
        on_day.map(|t| t.format("%H:%M").to_string()).collect()
    };
    assert!(by_day("2024-07-04").is_empty(), "Independence Day");
    let early = by_day("2024-07-03");
    assert!(early.last().unwrap().as_str() < "17:00" && early.last().unwrap().as_str() > "16:00");
    assert!(
        early
            .iter()
            .filter(|t| ("13:00".."17:00").contains(&t.as_str()))
            .count()
            > 50
    );
    assert!(by_day("2024-07-05").last().unwrap().as_str() > "19:00");
}

#[tokio::test]
async fn the_thin_symbol_misses_most_regular_minutes() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let regular = "timeframe=1Min&start=2024-03-05T14:30:00Z&end=2024-03-05T20:59:00Z";
    let query = format!("/v2/stocks/bars?symbols=AAPL,THIN&{regular}&limit=10000");
    let page: MultiBarsPage = get(&sim, &query).await.json().await.unwrap();
    let thin = page.bars[&symbol(THIN_SYMBOL)].len();
    let normal = page.bars[&symbol("AAPL")].len();
    assert!(thin < 390 / 4, "THIN has {thin} of 390 regular minutes");
    assert!(normal > 350, "AAPL has {normal} of 390 regular minutes");
}

#[tokio::test]
async fn adjusted_prices_differ_from_raw_before_a_split() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let actions = seedctl::sim::corporate_actions(&symbol("AAPL"));
    let before = actions.split_date - TimeDelta::days(30);
    let query = |adjustment: &str| {
        let window = format!("start={before}&end={before}");
        format!("/v2/stocks/AAPL/bars?timeframe=1Min&{window}&adjustment={adjustment}")
    };
    let fetch = async |adjustment| -> Vec<Bar> {
        let page: SingleBarsPage = get(&sim, &query(adjustment)).await.json().await.unwrap();
        page.bars.unwrap_or_default()
    };
    let (raw, split) = (fetch("raw").await, fetch("split").await);
    let ratio = f64::from(actions.split_ratio);
    assert_eq!(raw.len(), split.len());
    assert!(
        raw.iter()
            .zip(&split)
            .all(|(r, s)| (s.c * ratio - r.c).abs() < 0.001 * ratio)
    );
    let day = before.and_hms_opt(15, 0, 0).unwrap().and_utc();
    let is_session = bar_at(&symbol("AAPL"), day, Feed::Sip, Adjustment::RAW).is_some();
    assert_eq!(raw.is_empty(), !is_session);
}

#[tokio::test]
async fn gzip_is_served_when_asked() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    let path = format!(
        "{}/v2/stocks/bars?{}",
        sim.url(),
        window_query("&limit=500")
    );
    let plain_client = Client::builder().no_gzip().build().unwrap();
    let request = |accept: Option<&str>| {
        let builder = plain_client.get(&path).header("APCA-API-KEY-ID", KEY_ID);
        let builder = builder.header("APCA-API-SECRET-KEY", SECRET);
        match accept {
            Some(encoding) => builder.header(ACCEPT_ENCODING, encoding),
            None => builder,
        }
    };

    let zipped = request(Some("gzip")).send().await.unwrap();
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    let bytes = zipped.bytes().await.unwrap();
    assert_eq!(bytes[..2], [0x1f, 0x8b]);

    let plain = request(None).send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(
        plain.len() > 4 * bytes.len(),
        "{} vs {} bytes",
        plain.len(),
        bytes.len()
    );

    let decoded: MultiBarsPage = get(&sim, &path[sim.url().len()..])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decoded, serde_json::from_slice(&plain).unwrap());
}

#[tokio::test]
async fn counters_count_requests_statuses_and_bars() {
    let sim = Simulator::start(frozen(FRIDAY_EVENING)).await.unwrap();
    assert_eq!(sim.counters(), Default::default());
    let page: MultiBarsPage = get(
        &sim,
        &format!("/v2/stocks/bars?{}", window_query("&limit=321")),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page_len(&page), 321);
    get(&sim, "/v2/stocks/bars?symbols=AAPL&timeframe=5Min").await;
    get(&sim, "/v2/nothing-here").await;

    let counters = sim.counters();
    assert_eq!(counters.requests, 3);
    assert_eq!(
        counters.by_status,
        BTreeMap::from([(200, 1), (404, 1), (422, 1)])
    );
    assert_eq!(counters.bars_served, 321);
    sim.shutdown().await;
}

/// The request `tests/compat/alpaca_py_check.py` makes through alpaca-py:
/// four symbols over three weeks of SIP bars, about 30,000 bars, so the SDK
/// has to follow page tokens.
const PY_CHECK_SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "SPY", THIN_SYMBOL];
const PY_CHECK_WINDOW: (&str, &str) = ("2024-02-12T00:00:00Z", "2024-03-01T23:59:00Z");

/// Serves a simulator for `tests/compat/alpaca_py_check.py` (see the script
/// for how to run both), writes the address and the expected bars to the
/// file named by `SIM_CHECK_FILE`, and prints the counters as they change.
#[tokio::test]
#[ignore = "serves until SIM_SERVE_SECONDS (default 600) pass; run by hand"]
async fn serve_for_the_alpaca_py_check() {
    let path = std::env::var("SIM_CHECK_FILE").unwrap_or_else(|_| "sim-check.json".into());
    let seconds = std::env::var("SIM_SERVE_SECONDS").map_or(600, |s| s.parse().unwrap());
    let sim = Simulator::start(frozen(FRIDAY_EVENING).accept_keys(KEY_ID, SECRET))
        .await
        .unwrap();

    let table = expected(
        &PY_CHECK_SYMBOLS,
        PY_CHECK_WINDOW,
        Feed::Sip,
        FRIDAY_EVENING,
    );
    let summary = |bars: &Vec<Bar>| {
        let volume: u64 = bars.iter().map(|b| b.v).sum();
        let (first, last) = (bars[0], bars[bars.len() - 1]);
        json!({"count": bars.len(), "volume": volume, "first": first, "last": last})
    };
    let expected: BTreeMap<&str, Value> = table
        .iter()
        .map(|(s, bars)| (s.as_str(), summary(bars)))
        .collect();
    let check = json!({
        "url": sim.url(),
        "key_id": KEY_ID,
        "secret_key": SECRET,
        "symbols": PY_CHECK_SYMBOLS,
        "start": PY_CHECK_WINDOW.0,
        "end": PY_CHECK_WINDOW.1,
        "now": FRIDAY_EVENING,
        "expected": expected,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&check).unwrap()).unwrap();
    eprintln!("simulator at {}; expectations written to {path}", sim.url());

    // Report what the client did, as it happens.
    let mut reported = sim.counters();
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let counters = sim.counters();
        if counters != reported {
            eprintln!("{counters:?}");
            reported = counters;
        }
    }
    sim.shutdown().await;
}

use super::*;

const PAPER: &str = "https://paper-api.alpaca.markets";
const KEYS: PreflightOptions = PreflightOptions {
    require_keys: true,
    online: false,
};

/// An environment that passes every offline check, with one variable changed.
fn env_with(name: &str, value: Option<&str>) -> Environment {
    let mut vars = vec![
        (TRADING_MODE, "paper"),
        (BASE_URL, PAPER),
        (AGENT_MODE, "OFF"),
        (KEY_ID, "PKTESTKEYID"),
        (SECRET_KEY, "secret-value"),
    ];
    vars.retain(|(n, _)| *n != name);
    let value = value.map(str::to_owned);
    Environment::from_lookup(|wanted| match wanted == name {
        true => value.clone(),
        false => vars
            .iter()
            .find(|(n, _)| *n == wanted)
            .map(|(_, v)| v.to_string()),
    })
}

fn outcome(checks: &[Check], name: &str) -> CheckOutcome {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check"))
        .outcome
        .clone()
}

/// Runs the environment's checks with `name` set to each value and compares
/// that check's outcome: `Ok(message)` passes with exactly that message,
/// `Err(part)` fails with a message that contains `part`. The other checks
/// must all pass.
fn run_table(name: &str, cases: &[(Option<&str>, Result<&str, &str>)]) {
    for (value, expected) in cases {
        let checks = check_environment(&env_with(name, *value), KEYS);
        let others_failed: Vec<_> = checks
            .iter()
            .filter(|c| c.name != name && c.failed())
            .collect();
        assert!(others_failed.is_empty(), "{value:?}: {others_failed:?}");
        match (outcome(&checks, name), expected) {
            (CheckOutcome::Pass(message), Ok(text)) => assert_eq!(message, *text, "{value:?}"),
            (CheckOutcome::Fail(message), Err(part)) => {
                assert!(message.contains(part), "{value:?}: {message}")
            }
            (got, _) => panic!("{name}={value:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn trading_mode_must_be_exactly_paper() {
    run_table(
        TRADING_MODE,
        &[
            (Some("paper"), Ok("paper")),
            (None, Err("not set; set TRADING_MODE=paper")),
            (Some(""), Err("is \"\"; it must be exactly \"paper\"")),
            (
                Some("live"),
                Err("is \"live\"; it must be exactly \"paper\""),
            ),
            (Some("Paper"), Err("is \"Paper\"")),
            (Some(" paper"), Err("is \" paper\"")),
            (Some("paper\n"), Err("is \"paper\\n\"")),
            (Some("papers"), Err("is \"papers\"")),
        ],
    );
}

#[test]
fn the_trading_host_is_paper_or_loopback() {
    let paper = Ok("https://paper-api.alpaca.markets (Alpaca's paper trading host)");
    run_table(
        BASE_URL,
        &[
            (Some(PAPER), paper),
            (Some("https://paper-api.alpaca.markets/"), paper),
            (Some("https://paper-api.alpaca.markets/v2"), paper),
            (
                Some("http://127.0.0.1:4000"),
                Ok("http://127.0.0.1:4000 (loopback: a local simulator)"),
            ),
            (
                Some("http://127.0.0.2"),
                Ok("http://127.0.0.2 (loopback: a local simulator)"),
            ),
            (
                Some("http://[::1]:4000/"),
                Ok("http://[::1]:4000 (loopback: a local simulator)"),
            ),
            (
                Some("https://localhost:4000"),
                Ok("https://localhost:4000 (loopback: a local simulator)"),
            ),
            (
                None,
                Err("not set; set APCA_API_BASE_URL=https://paper-api"),
            ),
            (Some(""), Err("not set")),
            (Some("  "), Err("not set")),
            (
                Some("https://api.alpaca.markets"),
                Err(
                    "https://api.alpaca.markets is Alpaca's LIVE trading host; seeding runs on \
                     paper only",
                ),
            ),
            (
                Some("https://api.alpaca.markets/v2/"),
                Err("LIVE trading host"),
            ),
            (Some("http://192.0.2.7:4000"), Err("is neither")),
            (
                Some("https://paper-api.alpaca.markets.evil.example"),
                Err(
                    "https://paper-api.alpaca.markets.evil.example is neither Alpaca's paper \
                     trading host nor a loopback address",
                ),
            ),
            (
                Some("http://paper-api.alpaca.markets"),
                Err("uses http:, not https"),
            ),
            (
                Some("ws://127.0.0.1:4000"),
                Err("uses ws:, not http or https"),
            ),
        ],
    );
}

#[test]
fn the_data_host_when_set_is_alpacas_or_loopback() {
    run_table(
        DATA_URL,
        &[
            (None, Ok("not set: https://data.alpaca.markets is used")),
            (
                Some("https://data.alpaca.markets/"),
                Ok("https://data.alpaca.markets (Alpaca's market data host)"),
            ),
            (
                Some("http://localhost:9"),
                Ok("http://localhost:9 (loopback: a local simulator)"),
            ),
            (Some(""), Err("is set but empty; unset it or set it to")),
            (Some("https://api.alpaca.markets"), Err("LIVE trading host")),
            (
                Some("https://data.alpaca.markets.evil.example"),
                Err("is neither"),
            ),
            (Some("http://8.8.8.8"), Err("is neither")),
            (Some("http://data.alpaca.markets"), Err("uses http:")),
        ],
    );
}

#[test]
fn agent_mode_must_be_one_that_cannot_place_orders() {
    let refused = "only OFF or READ_ONLY are accepted";
    run_table(
        AGENT_MODE,
        &[
            (Some("OFF"), Ok("OFF")),
            (Some("off"), Ok("OFF")),
            (Some(" Off \n"), Ok("OFF")),
            (Some("READ_ONLY"), Ok("READ_ONLY")),
            (Some("read_only"), Ok("READ_ONLY")),
            (Some("\tRead_Only "), Ok("READ_ONLY")),
            (None, Err("not set; set AGENT_MODE to OFF or READ_ONLY")),
            (Some(""), Err("not set; set AGENT_MODE to OFF or READ_ONLY")),
            (Some("   "), Err("not set")),
            (Some("EXECUTE"), Err(refused)),
            (Some("LIVE"), Err(refused)),
            (Some("PAPER"), Err(refused)),
            (Some("ON"), Err(refused)),
            (Some("READ-ONLY"), Err(refused)),
            (Some("READONLY"), Err(refused)),
            (Some("OFF,EXECUTE"), Err(refused)),
            (Some("0"), Err(refused)),
        ],
    );
}

#[test]
fn keys_must_be_set_and_sendable() {
    for name in [KEY_ID, SECRET_KEY] {
        run_table(
            name,
            &[
                (Some("PKA1B2C3"), Ok("set (value hidden)")),
                (None, Err("not set; set")),
                (Some(""), Err("is set but empty")),
                (Some(" \t"), Err("is set but empty")),
                (
                    Some("PKA1B2C3\n"),
                    Err("has spaces or line breaks around it"),
                ),
                (Some("PKA1 B2C3"), Err("cannot be sent in a header")),
                (Some("PKA1B2C3\u{e9}"), Err("cannot be sent in a header")),
            ],
        );
    }
}

#[test]
fn key_messages_never_hold_the_key() {
    for value in ["PKHIDDEN1 ", " PKHIDDEN1", "PKHIDDEN1\u{7f}", "PK HIDDEN1"] {
        for name in [KEY_ID, SECRET_KEY] {
            let report = PreflightReport {
                checks: check_environment(&env_with(name, Some(value)), KEYS),
            };
            let shown = format!("{report:?}{}", report.render());
            assert!(!shown.contains("HIDDEN1"), "{shown}");
        }
    }
}

#[test]
fn keys_are_checked_only_when_required_or_online() {
    let env = env_with(KEY_ID, None);
    let names = |options| -> Vec<&str> {
        check_environment(&env, options)
            .iter()
            .map(|c| c.name)
            .collect()
    };
    let offline = PreflightOptions {
        require_keys: false,
        online: false,
    };
    let online = PreflightOptions {
        require_keys: false,
        online: true,
    };
    let base = [TRADING_MODE, BASE_URL, DATA_URL, AGENT_MODE];
    assert_eq!(names(offline), base);
    assert_eq!(names(KEYS), [&base[..], &[KEY_ID, SECRET_KEY]].concat());
    assert_eq!(names(online), names(KEYS));
}

#[test]
fn every_check_runs_after_a_failure() {
    let env = Environment::default();
    let checks = check_environment(&env, KEYS);
    let report = PreflightReport { checks };
    assert_eq!(
        report.failed_names(),
        [TRADING_MODE, BASE_URL, AGENT_MODE, KEY_ID, SECRET_KEY]
    );
    assert!(!report.passed());
}

#[test]
fn a_long_value_is_cut_short() {
    let long = "x".repeat(100);
    let checks = check_environment(&env_with(TRADING_MODE, Some(&long)), KEYS);
    let CheckOutcome::Fail(message) = outcome(&checks, TRADING_MODE) else {
        panic!("a long value is refused");
    };
    assert!(
        message.starts_with(&format!("is {:?}...;", "x".repeat(40))),
        "{message}"
    );
}

fn sample_database_checks() -> Vec<Check> {
    vec![
        Check::pass(
            DATABASE,
            "postgres://seed@db:5432/bars public.market_data_1m answers",
        ),
        Check::pass(
            BARS_TABLE,
            "public.market_data_1m does not exist yet; apply's migrations create it",
        ),
        Check::pass(MIGRATIONS, "2 of 2 pending; apply runs them first"),
    ]
}

#[test]
fn a_passing_report_ends_with_what_it_found() {
    let mut checks = check_environment(&env_with(AGENT_MODE, Some("read_only")), KEYS);
    checks.extend(sample_database_checks());
    checks.push(Check::pass(
        AUTHENTICATION,
        "https://paper-api.alpaca.markets/v2/clock accepted the keys (the market is open)",
    ));
    let report = PreflightReport { checks };
    assert!(report.passed());
    assert!(report.clone().into_result().is_ok());
    insta::assert_snapshot!(report.render(), @r"
    pass  TRADING_MODE         paper
    pass  APCA_API_BASE_URL    https://paper-api.alpaca.markets (Alpaca's paper trading host)
    pass  APCA_API_DATA_URL    not set: https://data.alpaca.markets is used
    pass  AGENT_MODE           READ_ONLY
    pass  APCA_API_KEY_ID      set (value hidden)
    pass  APCA_API_SECRET_KEY  set (value hidden)
    pass  database             postgres://seed@db:5432/bars public.market_data_1m answers
    pass  bars table           public.market_data_1m does not exist yet; apply's migrations create it
    pass  migrations           2 of 2 pending; apply runs them first
    pass  authentication       https://paper-api.alpaca.markets/v2/clock accepted the keys (the market is open)
    preflight passed: paper mode, AGENT_MODE=READ_ONLY, trading host https://paper-api.alpaca.markets (Alpaca's paper trading host), keys accepted, 10 checks
    ");
}

#[test]
fn a_failing_report_lists_every_failure_and_the_skipped_request() {
    let env = Environment::from_lookup(|name| match name {
        TRADING_MODE => Some("live".into()),
        BASE_URL => Some("https://api.alpaca.markets".into()),
        AGENT_MODE => Some("EXECUTE".into()),
        KEY_ID => Some("PKTESTKEYID".into()),
        _ => None,
    });
    let mut checks = check_environment(&env, KEYS);
    checks.push(Check::fail(
        DATABASE,
        "could not connect to postgres://seed@db:5432/bars public.market_data_1m: refused",
    ));
    checks.push(Check::skipped(
        BARS_TABLE,
        "not checked: the database did not answer",
    ));
    checks.push(Check::skipped(
        MIGRATIONS,
        "not checked: the database did not answer",
    ));
    checks.push(skip_online());
    let report = PreflightReport { checks };
    let error = report.clone().into_result().unwrap_err();
    assert_eq!(
        error.failed,
        [TRADING_MODE, BASE_URL, AGENT_MODE, SECRET_KEY, DATABASE]
    );
    insta::assert_snapshot!(report.render(), @r#"
    FAIL  TRADING_MODE         is "live"; it must be exactly "paper": seeding never runs in any other mode
    FAIL  APCA_API_BASE_URL    https://api.alpaca.markets is Alpaca's LIVE trading host; seeding runs on paper only: set APCA_API_BASE_URL=https://paper-api.alpaca.markets (or an http URL on a loopback address for the simulator)
    pass  APCA_API_DATA_URL    not set: https://data.alpaca.markets is used
    FAIL  AGENT_MODE           is "EXECUTE"; only OFF or READ_ONLY are accepted: seeding refuses to run beside an agent that can place orders
    pass  APCA_API_KEY_ID      set (value hidden)
    FAIL  APCA_API_SECRET_KEY  not set; set APCA_API_SECRET_KEY to the paper account's key
    FAIL  database             could not connect to postgres://seed@db:5432/bars public.market_data_1m: refused
    skip  bars table           not checked: the database did not answer
    skip  migrations           not checked: the database did not answer
    skip  authentication       not tried: the request is made only when every other check passed
    PREFLIGHT_FAILED: TRADING_MODE, APCA_API_BASE_URL, AGENT_MODE, APCA_API_SECRET_KEY, database
    "#);
    insta::assert_snapshot!(error, @"preflight failed (TRADING_MODE, APCA_API_BASE_URL, AGENT_MODE, APCA_API_SECRET_KEY, database): nothing was fetched or written; fix what the FAIL lines on stdout say and run again");
}

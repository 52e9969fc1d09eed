//! Which hosts seeding may talk to, decided from the URLs in the environment.
//!
//! The trading API must be Alpaca's paper host and the data API Alpaca's data
//! host, or either one a server on this machine (the simulator). Everything
//! else is refused, and Alpaca's live trading host by name. This is pure
//! parsing: nothing here opens a connection.

use std::net::IpAddr;

use url::{Host, Url};

pub const PAPER_TRADING_URL: &str = "https://paper-api.alpaca.markets";
pub const LIVE_TRADING_HOST: &str = "api.alpaca.markets";
pub const DATA_URL: &str = "https://data.alpaca.markets";

/// What one environment variable's URL may point at.
#[derive(Debug, Clone, Copy)]
pub struct Role {
    pub variable: &'static str,
    /// The one Alpaca URL accepted, as scheme and host.
    pub alpaca_url: &'static str,
    pub what: &'static str,
    /// Paths tolerated after the host (the URL parser turns none into `/`).
    pub paths: &'static [&'static str],
}

pub const TRADING: Role = Role {
    variable: "APCA_API_BASE_URL",
    alpaca_url: PAPER_TRADING_URL,
    what: "Alpaca's paper trading host",
    paths: &["/", "/v2", "/v2/"],
};

pub const DATA: Role = Role {
    variable: "APCA_API_DATA_URL",
    alpaca_url: DATA_URL,
    what: "Alpaca's market data host",
    paths: &["/"],
};

/// A URL that passed: where requests go, without any path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Scheme, host and port, with no slash at the end.
    pub origin: String,
    pub loopback: bool,
}

impl Accepted {
    /// What the check's line says about it.
    pub fn describe(&self, role: &Role) -> String {
        match self.loopback {
            true => format!("{} (loopback: a local simulator)", self.origin),
            false => format!("{} ({})", self.origin, role.what),
        }
    }
}

/// Accepts `raw` for `role`, or says why not. The message never repeats a
/// user name or password that the URL carried.
pub fn accept(raw: &str, role: &Role) -> Result<Accepted, String> {
    let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e}); {}", fix(role)))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "carries a user name or password; remove it (the keys belong in APCA_API_KEY_ID and \
             APCA_API_SECRET_KEY); {}",
            fix(role)
        ));
    }
    let host = url
        .host()
        .ok_or_else(|| format!("has no host; {}", fix(role)))?;
    let shown = origin(&url);
    let loopback = is_loopback(&host);

    if url
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case(LIVE_TRADING_HOST))
    {
        return Err(format!(
            "{shown} is Alpaca's LIVE trading host; seeding runs on paper only: {}",
            fix(role)
        ));
    }
    if loopback {
        check_loopback_scheme(&url, &shown, role)?;
    } else if shown != role.alpaca_url {
        return Err(refuse_other(&url, &shown, role));
    }
    check_rest(&url, &shown, role)?;
    Ok(Accepted {
        origin: shown,
        loopback,
    })
}

/// Scheme, host and port. Unlike `Url::origin`, it is spelled out for any
/// scheme, so that a refusal can name what it refused.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

fn fix(role: &Role) -> String {
    format!(
        "set {}={} (or an http URL on a loopback address for the simulator)",
        role.variable, role.alpaca_url
    )
}

/// 127.0.0.0/8, ::1 and `localhost`. IPv4 addresses mapped into IPv6 are
/// not accepted: nothing needs them, and they are a way to hide an address.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

fn check_loopback_scheme(url: &Url, shown: &str, role: &Role) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!(
            "{shown} uses {other}:, not http or https; {}",
            fix(role)
        )),
    }
}

/// Names the near miss when there is one: the right host over the wrong
/// scheme or port, or a host that only looks like Alpaca's.
fn refuse_other(url: &Url, shown: &str, role: &Role) -> String {
    let alpaca = Url::parse(role.alpaca_url).expect("the constant is a URL");
    let why = if url.host_str() != alpaca.host_str() {
        format!("{shown} is neither {} nor a loopback address", role.what)
    } else if url.scheme() != alpaca.scheme() {
        format!("{shown} uses {}:, not https", url.scheme())
    } else {
        format!("{shown} names a port; {} has none", role.what)
    };
    format!("{why}; {}", fix(role))
}

/// The path, query and fragment: only the tolerated paths, nothing else.
fn check_rest(url: &Url, shown: &str, role: &Role) -> Result<(), String> {
    if !role.paths.contains(&url.path()) {
        let tolerated = role.paths.join(" or ");
        return Err(format!(
            "{shown} is followed by the path {:?}; only {tolerated} may follow the host; {}",
            url.path(),
            fix(role)
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{shown} is followed by a query or fragment; {}",
            fix(role)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trading_urls() {
        let paper = Ok("https://paper-api.alpaca.markets");
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("https://paper-api.alpaca.markets", paper),
            ("https://paper-api.alpaca.markets/", paper),
            ("https://paper-api.alpaca.markets/v2", paper),
            ("https://paper-api.alpaca.markets/v2/", paper),
            ("https://PAPER-API.alpaca.markets", paper),
            ("https://paper-api.alpaca.markets:443", paper),
            ("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080")),
            ("http://127.0.0.1:8080/v2", Ok("http://127.0.0.1:8080")),
            ("https://127.0.0.1", Ok("https://127.0.0.1")),
            ("http://127.0.0.2:9", Ok("http://127.0.0.2:9")),
            ("http://127.255.255.254", Ok("http://127.255.255.254")),
            ("http://[::1]:8080", Ok("http://[::1]:8080")),
            ("http://localhost:8080/", Ok("http://localhost:8080")),
            ("http://LocalHost:8080", Ok("http://localhost:8080")),
            (
                "https://api.alpaca.markets",
                Err("is Alpaca's LIVE trading host"),
            ),
            (
                "https://api.alpaca.markets/v2",
                Err("is Alpaca's LIVE trading host"),
            ),
            (
                "http://api.alpaca.markets",
                Err("is Alpaca's LIVE trading host"),
            ),
            (
                "https://API.Alpaca.Markets/",
                Err("is Alpaca's LIVE trading host"),
            ),
            (
                "https://paper-api.alpaca.markets.evil.example",
                Err("is neither"),
            ),
            (
                "https://evil.example/paper-api.alpaca.markets",
                Err("is neither"),
            ),
            ("https://paper-api.alpaca.markets.", Err("is neither")),
            ("https://data.alpaca.markets", Err("is neither")),
            ("http://10.0.0.1:8080", Err("is neither")),
            ("http://192.168.1.20", Err("is neither")),
            ("http://0.0.0.0:8080", Err("is neither")),
            ("http://[::ffff:127.0.0.1]", Err("is neither")),
            ("http://localhost.evil.example", Err("is neither")),
            (
                "http://paper-api.alpaca.markets",
                Err("uses http:, not https"),
            ),
            (
                "ftp://paper-api.alpaca.markets",
                Err("uses ftp:, not https"),
            ),
            ("https://paper-api.alpaca.markets:8443", Err("names a port")),
            ("ftp://127.0.0.1", Err("uses ftp:, not http or https")),
            (
                "foo://API.alpaca.markets",
                Err("foo://API.alpaca.markets is Alpaca's LIVE"),
            ),
            (
                "https://paper-api.alpaca.markets/v1",
                Err("the path \"/v1\""),
            ),
            (
                "https://paper-api.alpaca.markets/v2/orders",
                Err("the path"),
            ),
            (
                "https://paper-api.alpaca.markets?x=1",
                Err("query or fragment"),
            ),
            ("paper-api.alpaca.markets", Err("is not a URL")),
            ("", Err("is not a URL")),
            (
                "https://u:hunter2@paper-api.alpaca.markets",
                Err("user name or password"),
            ),
            ("http://k@127.0.0.1", Err("user name or password")),
            ("unix:/tmp/sim.sock", Err("has no host")),
        ];
        run_table(&TRADING, cases);
    }

    #[test]
    fn data_urls() {
        let data = Ok("https://data.alpaca.markets");
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("https://data.alpaca.markets", data),
            ("https://data.alpaca.markets/", data),
            ("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080")),
            ("http://localhost:1/", Ok("http://localhost:1")),
            ("http://[::1]:2", Ok("http://[::1]:2")),
            ("https://data.alpaca.markets/v2", Err("the path \"/v2\"")),
            ("http://data.alpaca.markets", Err("uses http:, not https")),
            (
                "https://api.alpaca.markets",
                Err("is Alpaca's LIVE trading host"),
            ),
            ("https://paper-api.alpaca.markets", Err("is neither")),
            (
                "https://data.alpaca.markets.evil.example",
                Err("is neither"),
            ),
            ("https://data.sandbox.alpaca.markets", Err("is neither")),
            ("http://172.16.0.1", Err("is neither")),
        ];
        run_table(&DATA, cases);
    }

    fn run_table(role: &Role, cases: &[(&str, Result<&str, &str>)]) {
        for (raw, expected) in cases {
            match (accept(raw, role), expected) {
                (Ok(accepted), Ok(origin)) => assert_eq!(accepted.origin, *origin, "{raw}"),
                (Err(message), Err(part)) => {
                    assert!(message.contains(part), "{raw}: {message}");
                    assert!(message.contains(role.variable), "{raw} names the variable");
                }
                (got, _) => panic!("{raw}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn only_loopback_hosts_are_marked_loopback() {
        assert!(accept("http://127.0.0.9", &TRADING).unwrap().loopback);
        assert!(!accept(PAPER_TRADING_URL, &TRADING).unwrap().loopback);
    }

    #[test]
    fn a_refused_url_never_repeats_its_password() {
        for raw in [
            "https://seed:hunter2@api.alpaca.markets",
            "http://seed:hunter2@10.0.0.1",
            "http://seed:hunter2@127.0.0.1",
        ] {
            let message = accept(raw, &TRADING).unwrap_err();
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!message.contains("seed"), "{message}");
        }
    }
}

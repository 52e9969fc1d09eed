//! The vocabulary shared by every part of seedctl: symbols, feeds, adjustments
//! and session kinds, each validated once at the edge so that the rest of the
//! code can trust them.
//!
//! The string forms are exactly the ones Alpaca's market data API accepts, so
//! a value can be sent in a request or stored in the ledger as it is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A ticker as Alpaca spells it: upper-case letters and digits, with at most
/// one `.` or `/` separating a class suffix (`BRK.B`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Symbol(String);

impl Symbol {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = String;

    /// Upper-cases and validates a ticker. The error is a sentence fragment
    /// that says what is expected.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let upper = raw.trim().to_ascii_uppercase();
        let expected = "a ticker of 1 to 10 letters or digits, optionally with one `.` \
                        or `/` class suffix (for example `SPY` or `BRK.B`)";
        let mut parts = upper.split(['.', '/']);
        let head = parts.next().unwrap_or_default();
        let tail = parts.next();
        let valid_part = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric());
        let ok = upper.len() <= 10
            && valid_part(head)
            && head.starts_with(|c: char| c.is_ascii_alphabetic())
            && tail.is_none_or(valid_part)
            && parts.next().is_none();
        if ok {
            Ok(Symbol(upper))
        } else {
            Err(format!(
                "`{raw}` is not a valid symbol: expected {expected}"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// The source of historical stock bars. Only the feeds that Alpaca serves for
/// historical bars are accepted (`delayed_sip` and `overnight` exist only on
/// the latest and snapshot endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Feed {
    /// The IEX exchange alone: free, and thin (many minutes have no bar).
    Iex,
    /// All US exchanges (the consolidated tape).
    Sip,
    /// Over-the-counter securities.
    Otc,
    /// Blue Ocean ATS, the overnight venue.
    Boats,
}

impl Feed {
    pub const ALL: [Feed; 4] = [Feed::Iex, Feed::Sip, Feed::Otc, Feed::Boats];

    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Iex => "iex",
            Feed::Sip => "sip",
            Feed::Otc => "otc",
            Feed::Boats => "boats",
        }
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Feed {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Feed::ALL
            .into_iter()
            .find(|feed| feed.as_str() == raw)
            .ok_or_else(|| {
                format!("unknown feed `{raw}`: expected one of `iex`, `sip`, `otc`, `boats`")
            })
    }
}

/// One kind of corporate-action adjustment that Alpaca can apply to prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum AdjustmentKind {
    Split,
    Dividend,
    SpinOff,
}

impl AdjustmentKind {
    const ALL: [AdjustmentKind; 3] = [
        AdjustmentKind::Split,
        AdjustmentKind::Dividend,
        AdjustmentKind::SpinOff,
    ];

    fn as_str(self) -> &'static str {
        match self {
            AdjustmentKind::Split => "split",
            AdjustmentKind::Dividend => "dividend",
            AdjustmentKind::SpinOff => "spin-off",
        }
    }
}

/// The price adjustment bars are fetched with: `raw`, `all`, or a
/// comma-separated combination of `split`, `dividend` and `spin-off`.
///
/// Stored in canonical form, so `dividend,split` and `split,dividend` are the
/// same adjustment and a combination of all three is `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Adjustment {
    split: bool,
    dividend: bool,
    spin_off: bool,
}

impl Adjustment {
    pub const RAW: Adjustment = Adjustment {
        split: false,
        dividend: false,
        spin_off: false,
    };

    fn has(self, kind: AdjustmentKind) -> bool {
        match kind {
            AdjustmentKind::Split => self.split,
            AdjustmentKind::Dividend => self.dividend,
            AdjustmentKind::SpinOff => self.spin_off,
        }
    }

    fn with(mut self, kind: AdjustmentKind) -> Self {
        match kind {
            AdjustmentKind::Split => self.split = true,
            AdjustmentKind::Dividend => self.dividend = true,
            AdjustmentKind::SpinOff => self.spin_off = true,
        }
        self
    }
}

impl fmt::Display for Adjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<&str> = AdjustmentKind::ALL
            .into_iter()
            .filter(|k| self.has(*k))
            .map(AdjustmentKind::as_str)
            .collect();
        match kinds.len() {
            0 => f.write_str("raw"),
            3 => f.write_str("all"),
            _ => f.write_str(&kinds.join(",")),
        }
    }
}

impl FromStr for Adjustment {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let expected = "expected `raw`, `all`, or a comma-separated combination of \
                        `split`, `dividend` and `spin-off`";
        match raw.trim() {
            "raw" => return Ok(Adjustment::RAW),
            "all" => {
                return Ok(AdjustmentKind::ALL
                    .into_iter()
                    .fold(Adjustment::RAW, Adjustment::with));
            }
            _ => {}
        }
        raw.split(',')
            .map(str::trim)
            .try_fold(Adjustment::RAW, |acc, part| {
                AdjustmentKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == part)
                    .map(|k| acc.with(k))
                    .ok_or_else(|| format!("unknown adjustment `{part}` in `{raw}`: {expected}"))
            })
    }
}

impl Serialize for Adjustment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Adjustment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Which part of a trading day is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    /// The regular session, 09:30 to 16:00 New York time (13:00 on an early
    /// close).
    Regular,
    /// Everything Alpaca serves for the day: 04:00 to 20:00 New York time
    /// (17:00 on an early close).
    Extended,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Regular => "regular",
            SessionKind::Extended => "extended",
        }
    }
}

impl fmt::Display for SessionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionKind {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "regular" => Ok(SessionKind::Regular),
            "extended" => Ok(SessionKind::Extended),
            _ => Err(format!(
                "unknown session `{raw}`: expected `regular` or `extended`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_upper_cased_and_validated() {
        assert_eq!("brk.b".parse::<Symbol>().unwrap().as_str(), "BRK.B");
        assert_eq!("spy".parse::<Symbol>().unwrap().as_str(), "SPY");
        for bad in [
            "",
            "S P",
            "1AB",
            "BRK..B",
            "BRK.B.C",
            "TOOLONGNAME1",
            "ÄPL",
            ".B",
        ] {
            assert!(bad.parse::<Symbol>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn adjustments_have_one_canonical_spelling() {
        let parse = |s: &str| s.parse::<Adjustment>().unwrap().to_string();
        assert_eq!(parse("raw"), "raw");
        assert_eq!(parse("dividend,split"), "split,dividend");
        assert_eq!(parse("split,dividend,spin-off"), "all");
        assert_eq!(parse("all"), "all");
        assert!("splits".parse::<Adjustment>().is_err());
        assert!("raw,split".parse::<Adjustment>().is_err());
    }

    #[test]
    fn feeds_accept_only_historical_feeds() {
        assert_eq!("iex".parse::<Feed>(), Ok(Feed::Iex));
        assert!("delayed_sip".parse::<Feed>().is_err());
        assert!("IEX".parse::<Feed>().is_err());
    }
}

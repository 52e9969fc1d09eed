//! Turning pages into complete symbols: bars arrive grouped by symbol, then
//! by time, and one symbol may run over several pages, so a symbol is
//! complete once another one follows it or the last page is in. The order
//! as sent decides, not our own sorting of tickers, so Alpaca's collation
//! cannot split a symbol in two.
//!
//! Anything that breaks that order (a symbol not asked for, a symbol coming
//! back, time going backwards) is an error for the caller to judge.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Utc};

use super::error::{FetchError, RequestLabel};
use crate::alpaca::wire::Bar;
use crate::domain::Symbol;

/// A symbol with all its bars in the request's window, time ascending.
pub type SymbolBars = (Symbol, Vec<Bar>);

/// Bars of pages in, complete symbols out.
#[derive(Debug)]
pub(crate) struct Assembler {
    requested: BTreeMap<String, Symbol>,
    seen: BTreeSet<Symbol>,
    current: Option<SymbolBars>,
    ready: VecDeque<SymbolBars>,
}

/// A page that breaks the promised order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrderError {
    Unexpected(String),
    SymbolAgain {
        symbol: Symbol,
        after: Symbol,
    },
    TimeBackwards {
        symbol: Symbol,
        previous: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

impl OrderError {
    pub fn into_fetch_error(self, request: &RequestLabel) -> FetchError {
        let request = request.clone();
        match self {
            OrderError::Unexpected(symbol) => FetchError::UnexpectedSymbol { request, symbol },
            OrderError::SymbolAgain { symbol, after } => FetchError::SymbolOutOfOrder {
                request,
                symbol,
                after,
            },
            OrderError::TimeBackwards {
                symbol,
                previous,
                at,
            } => FetchError::TimeOutOfOrder {
                request,
                symbol,
                previous,
                at,
            },
        }
    }
}

impl Assembler {
    pub fn new(symbols: &[Symbol]) -> Assembler {
        Assembler {
            requested: symbols
                .iter()
                .map(|s| (s.as_str().to_string(), s.clone()))
                .collect(),
            seen: BTreeSet::new(),
            current: None,
            ready: VecDeque::new(),
        }
    }

    /// Takes in one page's bars, in the order they were sent.
    pub fn absorb(&mut self, page: Vec<(String, Vec<Bar>)>) -> Result<(), OrderError> {
        for (name, bars) in page.into_iter().filter(|(_, bars)| !bars.is_empty()) {
            let symbol = self
                .requested
                .get(&name)
                .cloned()
                .ok_or(OrderError::Unexpected(name))?;
            check_ascending(&symbol, None, &bars)?;
            self.add(symbol, bars)?;
        }
        Ok(())
    }

    fn add(&mut self, symbol: Symbol, bars: Vec<Bar>) -> Result<(), OrderError> {
        if let Some((current, held)) = &mut self.current {
            if *current == symbol {
                check_ascending(&symbol, held.last(), &bars)?;
                held.extend(bars);
                return Ok(());
            }
            if self.seen.contains(&symbol) {
                let after = current.clone();
                return Err(OrderError::SymbolAgain { symbol, after });
            }
        }
        self.seen.insert(symbol.clone());
        self.ready.extend(self.current.replace((symbol, bars)));
        Ok(())
    }

    /// The last page is in: the symbol being filled is complete, and the
    /// symbols never seen have no bars.
    pub fn finish(&mut self) {
        self.ready.extend(self.current.take());
        let unseen = self.requested.values().filter(|s| !self.seen.contains(*s));
        let empty: Vec<SymbolBars> = unseen.map(|s| (s.clone(), Vec::new())).collect();
        self.seen.extend(empty.iter().map(|(s, _)| s.clone()));
        self.ready.extend(empty);
    }

    pub fn pop(&mut self) -> Option<SymbolBars> {
        self.ready.pop_front()
    }
}

fn check_ascending(symbol: &Symbol, before: Option<&Bar>, bars: &[Bar]) -> Result<(), OrderError> {
    let times = before.into_iter().chain(bars).map(|bar| bar.t);
    let mut previous: Option<DateTime<Utc>> = None;
    for at in times {
        if let Some(previous) = previous.filter(|p| at <= *p) {
            return Err(OrderError::TimeBackwards {
                symbol: symbol.clone(),
                previous,
                at,
            });
        }
        previous = Some(at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn symbol(name: &str) -> Symbol {
        name.parse().unwrap()
    }

    fn bar(minute: u32) -> Bar {
        Bar {
            t: Utc.with_ymd_and_hms(2024, 3, 4, 14, minute, 0).unwrap(),
            o: 1.0,
            h: 1.0,
            l: 1.0,
            c: 1.0,
            v: 1,
            n: 1,
            vw: 1.0,
        }
    }

    /// A page written as `("AAA", [30, 31])`: a symbol and its minutes.
    fn page(rows: &[(&str, &[u32])]) -> Vec<(String, Vec<Bar>)> {
        let bars = |minutes: &[u32]| minutes.iter().map(|m| bar(*m)).collect();
        rows.iter().map(|(s, m)| (s.to_string(), bars(m))).collect()
    }

    /// Feeds the pages in and returns what comes out, as (symbol, minutes).
    fn assemble(
        symbols: &[&str],
        pages: &[Vec<(String, Vec<Bar>)>],
    ) -> Result<Vec<(String, Vec<u32>)>, OrderError> {
        let symbols: Vec<Symbol> = symbols.iter().map(|s| symbol(s)).collect();
        let mut assembler = Assembler::new(&symbols);
        let mut out = Vec::new();
        let mut drain = |assembler: &mut Assembler| {
            while let Some((s, bars)) = assembler.pop() {
                let minutes = bars
                    .iter()
                    .map(|b| b.t.format("%M").to_string().parse().unwrap());
                out.push((s.to_string(), minutes.collect()));
            }
        };
        for p in pages {
            assembler.absorb(p.clone())?;
            drain(&mut assembler);
        }
        assembler.finish();
        drain(&mut assembler);
        Ok(out)
    }

    fn yielded(rows: &[(&str, &[u32])]) -> Vec<(String, Vec<u32>)> {
        rows.iter()
            .map(|(s, m)| (s.to_string(), m.to_vec()))
            .collect()
    }

    #[test]
    fn symbols_come_out_whole_in_the_order_sent_then_the_empty_ones() {
        let pages = [
            page(&[("AAA", &[30, 31]), ("BBB", &[30])]),
            page(&[("BBB", &[32, 33])]),
            page(&[("BBB", &[34]), ("DDD", &[31])]),
        ];
        let out = assemble(&["AAA", "BBB", "CCC", "DDD"], &pages).unwrap();
        let expected = yielded(&[
            ("AAA", &[30, 31]),
            ("BBB", &[30, 32, 33, 34]),
            ("DDD", &[31]),
            ("CCC", &[]),
        ]);
        assert_eq!(out, expected);
    }

    #[test]
    fn a_symbol_is_held_until_the_pages_move_past_it() {
        let symbols = [symbol("AAA"), symbol("BBB")];
        let mut assembler = Assembler::new(&symbols);
        assembler
            .absorb(page(&[("AAA", &[30]), ("BBB", &[30])]))
            .unwrap();
        assert_eq!(assembler.pop().map(|(s, _)| s), Some(symbol("AAA")));
        assert_eq!(assembler.pop(), None, "BBB may continue on the next page");
        assembler.absorb(page(&[("BBB", &[31])])).unwrap();
        assembler.finish();
        assert_eq!(
            assembler.pop().map(|(s, b)| (s, b.len())),
            Some((symbol("BBB"), 2))
        );
    }

    #[test]
    fn broken_orders_are_errors() {
        let cases = [
            (
                vec![page(&[("ZZZ", &[30])])],
                OrderError::Unexpected("ZZZ".into()),
            ),
            (
                vec![
                    page(&[("AAA", &[30]), ("BBB", &[30])]),
                    page(&[("AAA", &[31])]),
                ],
                OrderError::SymbolAgain {
                    symbol: symbol("AAA"),
                    after: symbol("BBB"),
                },
            ),
            (
                vec![page(&[("AAA", &[31])]), page(&[("AAA", &[31])])],
                OrderError::TimeBackwards {
                    symbol: symbol("AAA"),
                    previous: bar(31).t,
                    at: bar(31).t,
                },
            ),
            (
                vec![page(&[("BBB", &[33, 32])])],
                OrderError::TimeBackwards {
                    symbol: symbol("BBB"),
                    previous: bar(33).t,
                    at: bar(32).t,
                },
            ),
        ];
        for (pages, expected) in cases {
            assert_eq!(assemble(&["AAA", "BBB"], &pages), Err(expected));
        }
    }

    #[test]
    fn empty_lists_say_nothing_about_order() {
        let pages = [
            page(&[("AAA", &[30]), ("BBB", &[30])]),
            page(&[("AAA", &[]), ("BBB", &[31])]),
        ];
        let out = assemble(&["AAA", "BBB"], &pages).unwrap();
        assert_eq!(out, yielded(&[("AAA", &[30]), ("BBB", &[30, 31])]));
    }
}

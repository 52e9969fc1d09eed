//! Paging through one bars request and handing its bars out symbol by
//! symbol (see `assemble`), so that memory holds one page and one symbol
//! rather than the whole answer.
//!
//! The pages end only with the one without `next_page_token`, however short
//! a page is; a guard stops tokens that repeat or outnumber what the window
//! could possibly hold. Checking that the bars lie in the window is left to
//! the caller.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::TimeDelta;
use tracing::Instrument;

use super::Inner;
use super::assemble::{Assembler, SymbolBars};
use super::error::{CallLabel, FetchError, RequestLabel, rfc3339};
use super::page::WirePage;
use crate::alpaca::wire::{MAX_LIMIT, Sort, TIMEFRAME_1MIN};
use crate::domain::Symbol;

/// The bars of one request, symbol by symbol. Created by
/// [`BarsClient::bars`](super::BarsClient::bars); nothing is sent before the
/// first call to [`BarStream::next_symbol`].
pub struct BarStream {
    inner: Arc<Inner>,
    label: RequestLabel,
    params: Vec<(&'static str, String)>,
    paging: Paging,
    assembler: Assembler,
    /// Set by the first error, which every later call returns again.
    failed: Option<FetchError>,
    span: tracing::Span,
}

impl BarStream {
    pub(super) fn new(inner: Arc<Inner>, label: RequestLabel) -> BarStream {
        let span = tracing::info_span!(
            "bars",
            symbols = label.symbols.len(),
            first = %label.symbols.first().map(Symbol::as_str).unwrap_or(""),
            feed = %label.feed,
            start = %rfc3339(label.start),
            end = %rfc3339(label.end),
        );
        let mut paging = Paging::new(max_pages(&label));
        if label.symbols.is_empty() || label.start >= label.end {
            paging.finished = true;
        }
        let mut assembler = Assembler::new(&label.symbols);
        if paging.finished {
            assembler.finish();
        }
        BarStream {
            params: wire_params(&label),
            inner,
            label,
            paging,
            assembler,
            failed: None,
            span,
        }
    }

    /// The next symbol's complete bars (time ascending), once the pages have
    /// moved past it; `None` when the request is done.
    ///
    /// Every requested symbol comes exactly once: those with bars in the
    /// order Alpaca sends them (by symbol), then those without any bar in
    /// the window, with an empty list, after the last page. After an error,
    /// every later call returns the same error.
    ///
    /// Dropping the returned future part-way loses nothing: the page it was
    /// fetching is asked for again by the next call.
    pub async fn next_symbol(&mut self) -> Result<Option<SymbolBars>, FetchError> {
        let span = self.span.clone();
        self.next_symbol_in_span().instrument(span).await
    }

    async fn next_symbol_in_span(&mut self) -> Result<Option<SymbolBars>, FetchError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        loop {
            if let Some(complete) = self.assembler.pop() {
                return Ok(Some(complete));
            }
            if self.paging.finished {
                return Ok(None);
            }
            if let Err(error) = self.next_page().await {
                self.failed = Some(error.clone());
                return Err(error);
            }
        }
    }

    async fn next_page(&mut self) -> Result<(), FetchError> {
        let call = self
            .paging
            .next_call(self.inner.endpoint.path(), &self.params);
        let call = call.map_err(|why| self.endless(why))?;
        let page = self.inner.fetch_page(&self.label, &call).await?;
        self.paging.received(&call);
        log_page(call.page, &page);

        self.assembler
            .absorb(page.bars)
            .map_err(|e| e.into_fetch_error(&self.label))?;
        match page.next_page_token {
            Some(token) => self
                .paging
                .continue_with(token)
                .map_err(|why| self.endless(why)),
            None => {
                self.paging.finished = true;
                self.assembler.finish();
                Ok(())
            }
        }
    }

    fn endless(&self, why: String) -> FetchError {
        FetchError::EndlessPaging {
            request: self.label.clone(),
            pages: self.paging.pages,
            why,
        }
    }
}

fn log_page(number: u64, page: &WirePage) {
    let symbols: Vec<&str> = page.bars.iter().map(|(s, _)| s.as_str()).collect();
    tracing::debug!(
        page = number,
        symbols = %symbols.join(","),
        bars = page.bar_count(),
        more = page.next_page_token.is_some(),
        "received a page of bars"
    );
}

/// The query parameters of every page, all given explicitly since Alpaca's
/// defaults differ between plans. `end` goes one second early because
/// Alpaca's `end` is inclusive and the label's is not.
fn wire_params(label: &RequestLabel) -> Vec<(&'static str, String)> {
    let symbols: Vec<&str> = label.symbols.iter().map(Symbol::as_str).collect();
    vec![
        ("symbols", symbols.join(",")),
        ("timeframe", TIMEFRAME_1MIN.to_string()),
        ("start", rfc3339(label.start)),
        ("end", rfc3339(label.end - TimeDelta::seconds(1))),
        ("limit", MAX_LIMIT.to_string()),
        ("feed", label.feed.to_string()),
        ("adjustment", label.adjustment.to_string()),
        ("sort", Sort::Asc.to_string()),
    ]
}

/// The most pages a request can need: every symbol with a bar every minute
/// of the window, in full pages, plus a last page that may come back empty.
fn max_pages(label: &RequestLabel) -> u64 {
    let seconds = (label.end - label.start).num_seconds().max(0) as u64;
    let bars = label.symbols.len() as u64 * seconds.div_ceil(60);
    bars.div_ceil(u64::from(MAX_LIMIT)) + 1
}

/// Where the request stands in its pages.
#[derive(Debug)]
struct Paging {
    pages: u64,
    max_pages: u64,
    token: Option<String>,
    tokens_seen: HashSet<String>,
    finished: bool,
}

impl Paging {
    fn new(max_pages: u64) -> Paging {
        Paging {
            pages: 0,
            max_pages,
            token: None,
            tokens_seen: HashSet::new(),
            finished: false,
        }
    }

    /// The call for the next page, unless it would be one too many.
    fn next_call(
        &self,
        path: &str,
        params: &[(&'static str, String)],
    ) -> Result<CallLabel, String> {
        if self.pages >= self.max_pages {
            return Err(format!(
                "the window cannot hold more than {} pages of bars, yet alpaca still sends a \
                 next page token",
                self.max_pages
            ));
        }
        let mut params = params.to_vec();
        params.extend(self.token.clone().map(|t| ("page_token", t)));
        Ok(CallLabel {
            path: path.to_string(),
            params,
            page: self.pages + 1,
        })
    }

    /// Counts a page once it has arrived, so that a call given up half-way
    /// is asked for again as the same page.
    fn received(&mut self, call: &CallLabel) {
        self.pages = call.page;
    }

    fn continue_with(&mut self, token: String) -> Result<(), String> {
        if !self.tokens_seen.insert(token.clone()) {
            return Err("alpaca sent a page token it had sent before".into());
        }
        self.token = Some(token);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Adjustment, Feed};

    fn symbol(name: &str) -> Symbol {
        name.parse().unwrap()
    }

    fn label(symbols: usize, start: &str, end: &str) -> RequestLabel {
        RequestLabel {
            symbols: (0..symbols).map(|i| symbol(&format!("S{i}"))).collect(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            feed: Feed::Iex,
            adjustment: Adjustment::RAW,
        }
    }

    #[test]
    fn the_page_guard_allows_every_bar_of_the_window_and_one_more_page() {
        let cases = [
            (1, "2024-03-04T09:00:00Z", "2024-03-04T10:00:00Z", 2),
            (100, "2024-03-04T09:00:00Z", "2024-03-05T09:00:00Z", 16),
            (3, "2024-03-04T09:00:30Z", "2024-03-04T09:01:31Z", 2),
            (3, "2024-03-04T09:00:00Z", "2024-03-04T09:00:00Z", 1),
        ];
        for (symbols, start, end, pages) in cases {
            assert_eq!(
                max_pages(&label(symbols, start, end)),
                pages,
                "{symbols} {start}"
            );
        }
    }

    #[test]
    fn every_parameter_is_sent_and_end_is_made_inclusive() {
        let params = wire_params(&label(2, "2024-03-04T14:30:00Z", "2024-03-04T21:00:00Z"));
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            query.join("&"),
            "symbols=S0,S1&timeframe=1Min&start=2024-03-04T14:30:00Z&end=2024-03-04T20:59:59Z\
             &limit=10000&feed=iex&adjustment=raw&sort=asc"
        );
    }

    #[test]
    fn repeated_tokens_and_too_many_pages_stop_the_paging() {
        let mut paging = Paging::new(3);
        let next = |paging: &mut Paging| {
            let call = paging.next_call("/v2/stocks/bars", &[]);
            if let Ok(call) = &call {
                paging.received(call);
            }
            call
        };
        assert_eq!(next(&mut paging).unwrap().params, []);
        paging.continue_with("a".into()).unwrap();
        assert_eq!(
            next(&mut paging).unwrap().params,
            [("page_token", "a".to_string())]
        );
        paging.continue_with("b".into()).unwrap();
        assert!(paging.continue_with("a".into()).is_err());
        assert_eq!(next(&mut paging).unwrap().page, 3);
        assert!(next(&mut paging).unwrap_err().contains("more than 3 pages"));
    }
}

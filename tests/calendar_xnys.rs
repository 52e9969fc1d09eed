//! Compares seedctl's NYSE calendar with an independent reference, every
//! session from 2000 to 2035: the fixture is the XNYS calendar of Python's
//! exchange_calendars, written by `tests/fixtures/make-xnys-fixture.py` (its
//! header says how to regenerate it). The test itself needs no Python.

use std::cmp::Ordering;

use seedctl::calendar::{Calendar, CalendarFormat, render};

const FIXTURE: &str = include_str!("fixtures/xnys-2000-2035.csv");

/// How many differences to spell out before only counting the rest.
const SHOWN: usize = 10;

#[test]
fn sessions_match_exchange_calendars_xnys_from_2000_to_2035() {
    let calendar = Calendar::nyse();
    let ours = render(
        calendar,
        calendar.first_date(),
        calendar.last_date(),
        CalendarFormat::Csv,
    )
    .expect("the whole range renders");

    let differences = differences(&ours, FIXTURE);
    assert!(
        differences.is_empty(),
        "the calendar differs from tests/fixtures/xnys-2000-2035.csv on {} dates; the first:\n{}",
        differences.len(),
        differences
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// Walks both CSVs in date order and describes each date on which they
/// disagree, so that one missing session reads as one difference rather
/// than shifting every line after it.
fn differences(ours: &str, reference: &str) -> Vec<String> {
    let (mut ours, mut reference) = (ours.lines().peekable(), reference.lines().peekable());
    assert_eq!(ours.next(), reference.next(), "the headers differ");

    let mut found = Vec::new();
    loop {
        let (mine, theirs) = (ours.peek().copied(), reference.peek().copied());
        let order = match (mine, theirs) {
            (None, None) => return found,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(mine), Some(theirs)) => date_of(mine).cmp(date_of(theirs)),
        };
        match order {
            Ordering::Less => found.push(format!("  only in seedctl:   {}", ours.next().unwrap())),
            Ordering::Greater => found.push(format!(
                "  only in reference: {}",
                reference.next().unwrap()
            )),
            Ordering::Equal => {
                let (mine, theirs) = (ours.next().unwrap(), reference.next().unwrap());
                if mine != theirs {
                    found.push(format!("  seedctl {mine}\n  ref     {theirs}"));
                }
            }
        }
    }
}

fn date_of(line: &str) -> &str {
    line.split(',').next().unwrap_or_default()
}

#[test]
fn the_comparison_reports_each_differing_date_once() {
    let reference = "date,open,close\n\
        2026-11-25,2026-11-25T14:30:00Z,2026-11-25T21:00:00Z\n\
        2026-11-27,2026-11-27T14:30:00Z,2026-11-27T18:00:00Z\n\
        2026-11-30,2026-11-30T14:30:00Z,2026-11-30T21:00:00Z\n";
    let ours = "date,open,close\n\
        2026-11-26,2026-11-26T14:30:00Z,2026-11-26T21:00:00Z\n\
        2026-11-27,2026-11-27T14:30:00Z,2026-11-27T21:00:00Z\n\
        2026-11-30,2026-11-30T14:30:00Z,2026-11-30T21:00:00Z\n";
    let found = differences(ours, reference);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("only in reference: 2026-11-25"));
    assert!(found[1].contains("only in seedctl:   2026-11-26"));
    assert!(found[2].contains("2026-11-27T18:00:00Z"));
}

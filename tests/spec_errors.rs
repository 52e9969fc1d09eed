//! What a user sees for each kind of bad coverage: the rendered error, with
//! the offending line and a caret, snapshotted per kind. Paths are relative,
//! as a user would type them, so the snapshots hold no machine's layout.

use std::path::PathBuf;

use seedctl::spec::{self, SpecError};

const BAD: &str = "tests/fixtures/bad-specs";

fn load_error(case: &str) -> SpecError {
    let path = PathBuf::from(format!("{BAD}/{case}"));
    spec::load(&[path]).expect_err("a bad coverage file must be refused")
}

/// One snapshot test per kind of bad coverage file or directory.
macro_rules! bad_specs {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!(load_error($case).render());
            }
        )*

        /// Every one-line message together, as they read in a log.
        #[test]
        fn one_line_messages() {
            let lines: Vec<String> = [$($case),*]
                .iter()
                .map(|case| load_error(case).to_string())
                .collect();
            insta::assert_snapshot!(lines.join("\n"));
        }
    };
}

bad_specs! {
    syntax_error => "syntax-error.yaml",
    missing_version => "missing-version.yaml",
    wrong_version => "wrong-version.yaml",
    unknown_top_level_key => "unknown-top-level-key.yaml",
    unknown_entry_key => "unknown-entry-key.yaml",
    bad_symbol => "bad-symbol.yaml",
    bad_feed => "bad-feed.yaml",
    bad_adjustment => "bad-adjustment.yaml",
    bad_session => "bad-session.yaml",
    trading_days_and_from => "trading-days-and-from.yaml",
    no_span => "no-span.yaml",
    from_after_to => "from-after-to.yaml",
    bad_date => "bad-date.yaml",
    unknown_group => "unknown-group.yaml",
    group_cycle => "group-cycle.yaml",
    duplicate_group => "duplicate-group",
    conflicting_symbol => "conflicting-symbol",
    empty_coverage => "empty-coverage.yaml",
    no_files_in_directory => "no-files",
}

#[test]
fn bad_environment_variables() {
    let lookup = |name: &str| match name {
        "ALPACA_SYMBOLS" => Some("SPY,QQQ".to_string()),
        "ALPACA_FEED" => Some("IEX".to_string()),
        _ => None,
    };
    let error = spec::resolve(&[], lookup).expect_err("an unknown feed must be refused");
    insta::assert_snapshot!(error.render());
}

/// A compact, stable listing of a spec for snapshots.
fn listing(spec: &spec::Spec) -> String {
    let rows: Vec<String> = spec
        .targets
        .iter()
        .map(|t| {
            let current = if t.include_current {
                "with current session"
            } else {
                "completed only"
            };
            format!(
                "{:<6} {:<5} {:<14} {:<8} {:<26} {:<20} {}",
                t.symbol.to_string(),
                t.feed.to_string(),
                t.adjustment.to_string(),
                t.session.to_string(),
                t.span.to_string(),
                current,
                t.origin
            )
        })
        .collect();
    rows.join("\n")
}

#[test]
fn the_example_specs_merge_into_one_target_per_symbol() {
    let spec = spec::load(&[PathBuf::from("tests/fixtures/specs")]).unwrap();
    insta::assert_snapshot!(listing(&spec));
}

#[test]
fn the_paper_seed_is_what_plan_reads_by_default() {
    let spec = spec::resolve(&[], |_| None).unwrap();
    assert_eq!(
        spec,
        spec::load(&[PathBuf::from("plans/paper-seed.yaml")]).unwrap()
    );
    insta::assert_snapshot!(listing(&spec));
}

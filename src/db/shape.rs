//! Whether `public.market_data_1m` can be written as seedctl writes it. A
//! table that an older loader created is used as it is when it fits, and
//! refused with the list of differences when it does not.

use sqlx::PgPool;

use super::{BARS_TABLE, DbError, Target};

/// What the bars table looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarsTable {
    /// Not there yet; the first migration creates it.
    Missing,
    /// Usable as it is. The notes are advice (a missing index), not errors.
    Fits { notes: Vec<String> },
    /// An older loader created it in a shape seedctl cannot write to.
    Mismatch(Vec<String>),
}

/// The column types each column may have for seedctl's writes to work.
const EXPECTED_COLUMNS: &[(&str, &[&str])] = &[
    ("ts", &["timestamp with time zone"]),
    ("symbol", &["text", "character varying"]),
    ("open", &["double precision", "real", "numeric"]),
    ("high", &["double precision", "real", "numeric"]),
    ("low", &["double precision", "real", "numeric"]),
    ("close", &["double precision", "real", "numeric"]),
    ("volume", &["bigint", "numeric", "double precision"]),
    ("trade_count", &["bigint", "integer", "numeric"]),
    ("vwap", &["double precision", "real", "numeric"]),
];

pub async fn check_bars_table(pool: &PgPool, target: &Target) -> Result<BarsTable, DbError> {
    let query_error = target.query_error("reading the bars table's shape");
    let columns: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable = 'YES', column_default IS NOT NULL
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = 'market_data_1m'
          ORDER BY ordinal_position",
    )
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    if columns.is_empty() {
        return Ok(BarsTable::Missing);
    }
    let indexes: Vec<(bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT i.indisunique, i.indpred IS NULL,
                array(SELECT a.attname::text
                        FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                       ORDER BY k.n)
           FROM pg_index i
          WHERE i.indrelid = 'public.market_data_1m'::regclass",
    )
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    Ok(judge_shape(&columns, &indexes))
}

/// The shape rules, apart from the queries that gather the facts.
fn judge_shape(
    columns: &[(String, String, bool, bool)],
    indexes: &[(bool, bool, Vec<String>)],
) -> BarsTable {
    let mut differences = Vec::new();
    for (name, allowed) in EXPECTED_COLUMNS {
        match columns.iter().find(|c| c.0 == *name) {
            None => differences.push(format!(
                "column `{name}` is missing (expected {})",
                allowed[0]
            )),
            Some((_, actual, _, _)) if !allowed.contains(&actual.as_str()) => {
                differences.push(format!(
                    "column `{name}` is {actual}; expected one of: {}",
                    allowed.join(", ")
                ))
            }
            Some(_) => {}
        }
    }
    for (name, _, nullable, has_default) in columns {
        let ours = EXPECTED_COLUMNS.iter().any(|(n, _)| n == name);
        if !ours && !nullable && !has_default {
            differences.push(format!(
                "column `{name}` is NOT NULL without a default, and seedctl does not fill it"
            ));
        }
    }

    let key = |cols: &Vec<String>| {
        let mut sorted = cols.clone();
        sorted.sort();
        sorted == ["symbol", "ts"]
    };
    if !indexes
        .iter()
        .any(|(unique, full, cols)| *unique && *full && key(cols))
    {
        differences.push(
            "no unique index over (ts, symbol): the upsert's ON CONFLICT (ts, symbol) needs one"
                .to_string(),
        );
    }
    if !differences.is_empty() {
        return BarsTable::Mismatch(differences);
    }

    let mut notes = Vec::new();
    if !indexes
        .iter()
        .any(|(_, _, cols)| cols.first().is_some_and(|c| c == "symbol"))
    {
        notes.push(format!(
            "{BARS_TABLE} has no index that starts with `symbol`; per-symbol reads scan more \
             than they need to (CREATE INDEX ON {BARS_TABLE} (symbol, ts) would help)"
        ));
    }
    BarsTable::Fits { notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, ty: &str) -> (String, String, bool, bool) {
        (name.to_string(), ty.to_string(), false, false)
    }

    fn good_columns() -> Vec<(String, String, bool, bool)> {
        EXPECTED_COLUMNS
            .iter()
            .map(|(n, t)| column(n, t[0]))
            .collect()
    }

    fn index(unique: bool, cols: &[&str]) -> (bool, bool, Vec<String>) {
        (unique, true, cols.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn a_table_keyed_either_way_fits() {
        let by_symbol = judge_shape(&good_columns(), &[index(true, &["symbol", "ts"])]);
        assert_eq!(by_symbol, BarsTable::Fits { notes: vec![] });
        let by_time = judge_shape(&good_columns(), &[index(true, &["ts", "symbol"])]);
        assert!(matches!(by_time, BarsTable::Fits { notes } if notes.len() == 1));
    }

    #[test]
    fn every_difference_is_listed() {
        let mut columns = good_columns();
        columns.retain(|c| c.0 != "vwap");
        columns[0] = column("ts", "timestamp without time zone");
        columns.push(column("source", "text"));
        let BarsTable::Mismatch(differences) =
            judge_shape(&columns, &[index(false, &["ts", "symbol"])])
        else {
            panic!("the shape should not fit");
        };
        assert_eq!(differences.len(), 4, "{differences:#?}");
        assert!(differences[0].contains("`ts` is timestamp without time zone"));
        assert!(differences[1].contains("`vwap` is missing"));
        assert!(differences[2].contains("`source` is NOT NULL"));
        assert!(differences[3].contains("no unique index"));
    }
}

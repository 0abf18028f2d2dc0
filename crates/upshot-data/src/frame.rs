//! Reading aggregated polars frames into Rust vectors, and days since 1970-01-01: the small
//! plumbing every analysis's prepare layer needs, written once. Nulls read as the documented
//! neutral value (0, the empty string, `false`) because these helpers read aggregates the
//! analysis built itself; input rows with nulls are excluded and counted by validation before.

use chrono::NaiveDate;
use polars::prelude::*;

/// A text column, nulls as `None`.
pub fn strings(frame: &DataFrame, column: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame.column(column)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// A text column, nulls as the empty string.
pub fn texts(frame: &DataFrame, column: &str) -> PolarsResult<Vec<String>> {
    Ok(frame.column(column)?.str()?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
}

/// A numeric column as f64 (any numeric type is cast), nulls as 0.
pub fn numbers(frame: &DataFrame, column: &str) -> PolarsResult<Vec<f64>> {
    let values = frame.column(column)?.cast(&DataType::Float64)?;
    Ok(values.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// An integer column as i32 (cast), nulls as 0.
pub fn integers(frame: &DataFrame, column: &str) -> PolarsResult<Vec<i32>> {
    let values = frame.column(column)?.cast(&DataType::Int32)?;
    Ok(values.i32()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// A boolean column, nulls as `false`.
pub fn flags(frame: &DataFrame, column: &str) -> PolarsResult<Vec<bool>> {
    Ok(frame.column(column)?.bool()?.iter().map(|v| v.unwrap_or(false)).collect())
}

/// Per row, the values of `keys` (text columns), nulls as the empty string.
pub fn key_rows<S: AsRef<str>>(frame: &DataFrame, keys: &[S]) -> PolarsResult<Vec<Vec<String>>> {
    let columns: Vec<Vec<String>> = keys.iter().map(|k| texts(frame, k.as_ref())).collect::<PolarsResult<_>>()?;
    Ok((0..frame.height()).map(|r| columns.iter().map(|c| c[r].clone()).collect()).collect())
}

/// Collects with the streaming engine (order-free aggregations, joins that keep the left order).
pub fn streaming(frame: LazyFrame) -> PolarsResult<DataFrame> {
    Ok(frame.collect_with_engine(Engine::Streaming)?.unwrap_single())
}

/// A Date or Datetime column as whole days since 1970-01-01 (Int32).
pub fn day_expr(column: &str) -> Expr {
    col(column).cast(DataType::Date).cast(DataType::Int32)
}

/// 1970-01-01, day 0 of [`day_expr`].
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// The date `days` after 1970-01-01.
pub fn date_of(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(i64::from(days))
}

/// Days since 1970-01-01.
pub fn days_of(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_with_their_neutral_values() {
        let frame = df! {
            "name" => [Some("a"), None],
            "n" => [Some(2i64), None],
            "on" => [Some(true), None],
        }
        .expect("frame");
        assert_eq!(strings(&frame, "name").expect("s"), [Some("a".to_string()), None]);
        assert_eq!(texts(&frame, "name").expect("t"), ["a", ""]);
        assert_eq!(numbers(&frame, "n").expect("n"), [2.0, 0.0]);
        assert_eq!(integers(&frame, "n").expect("i"), [2, 0]);
        assert_eq!(flags(&frame, "on").expect("f"), [true, false]);
        assert_eq!(key_rows(&frame, &["name", "name"]).expect("k"), [vec!["a", "a"], vec!["", ""]]);
        assert!(strings(&frame, "n").is_err(), "a number column is not text");
    }

    #[test]
    fn days_round_trip() {
        let day = NaiveDate::from_ymd_opt(2025, 12, 20).expect("date");
        assert_eq!(date_of(days_of(day)), day);
        assert_eq!(days_of(epoch()), 0);
    }
}

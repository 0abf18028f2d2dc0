//! Pacing: month-to-date plan vs fact per channel and campaign for every
//! funnel metric, the month-end run rate with an interval, flags a head of
//! acquisition can act on, and the daily digest.
//!
//! - [`runrate`]: the engine, a month-end projection from the trailing days
//!   with day-of-week weights and an over-dispersed count interval;
//! - [`analyze`]: the `pacing` analysis, a pure function of the validated
//!   tables and the params;
//! - [`digest`]: the chat-sized message of the last day, built from the same
//!   computed numbers as the analysis.
#![deny(missing_docs)]

mod analysis;
mod digest;
mod report;
pub mod runrate;

use chrono::NaiveDate;
use serde::Deserialize;
use upshot_data::{Dataset, TableKind};
use upshot_result::Analysis;

pub use analysis::{Computed, Line, Pace};
pub use digest::digest;
pub use runrate::{RunRate, RunRateError, run_rate, weekday_weights};

/// Errors of the pacing analysis: the analysis error every analysis crate shares.
pub type PacingError = upshot_data::AnalysisError;

/// The tables the analysis reads.
pub const INPUTS: [TableKind; 4] = [TableKind::Plan, TableKind::Spend, TableKind::Leads, TableKind::Orders];

/// Plan metrics in funnel order; the stages between `lead` and `purchase` come from the leads' `<stage>_at`.
pub const METRICS: [&str; 8] = ["cost", "lead", "target_lead", "call", "proposal", "negotiation", "purchase", "revenue"];

/// The columns the analysis reads from each table (the rest are validated, not loaded).
pub fn columns(table: TableKind) -> Option<&'static [&'static str]> {
    match table {
        TableKind::Plan => Some(&["month", "channel", "campaign", "metric", "value"]),
        TableKind::Spend => Some(&["date", "channel", "campaign", "cost"]),
        TableKind::Leads => Some(&[
            "created_at",
            "channel",
            "campaign",
            "target_lead_at",
            "call_at",
            "proposal_at",
            "negotiation_at",
            "purchase_at",
        ]),
        TableKind::Orders => Some(&["order_id", "customer_id", "paid_at", "revenue", "channel", "campaign"]),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    as_of: Option<toml::Value>,
    window_days: Option<i64>,
    level: Option<f64>,
}

/// `[params]` of `kind = "pacing"`, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The last day counted [the last date in the data].
    pub as_of: Option<NaiveDate>,
    /// Trailing days the run rate is taken from [5].
    pub window_days: usize,
    /// Interval level [0.8].
    pub level: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { as_of: None, window_days: 5, level: 0.8 }
    }
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, PacingError> {
        let raw: RawParams =
            toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| PacingError::Params(e.to_string()))?;
        let as_of = raw.as_of.map(|v| upshot_data::config::parse_date("as_of", &v)).transpose().map_err(PacingError::Params)?;
        let window_days = match raw.window_days {
            None => 5,
            Some(n) if (1..=28).contains(&n) => n as usize,
            Some(n) => return Err(PacingError::Params(format!("`window_days = {n}` must be between 1 and 28"))),
        };
        let level = raw.level.unwrap_or(0.8);
        if !(0.5..1.0).contains(&level) {
            return Err(PacingError::Params(format!("`level = {level}` must be in [0.5, 1)")));
        }
        Ok(Params { as_of, window_days, level })
    }
}

/// Exclusions the analysis adds to the validation's row accounting.
pub type Exclusions = std::collections::BTreeMap<(TableKind, String), u64>;

/// Computes the pacing numbers: a pure function of the validated tables and the params.
pub fn compute(data: &Dataset, params: &Params) -> Result<Computed, PacingError> {
    analysis::compute(data, params)
}

/// Runs the analysis.
pub fn analyze(data: &Dataset, params: &Params) -> Result<(Analysis, Exclusions), PacingError> {
    let computed = compute(data, params)?;
    let exclusions = computed.exclusions.clone();
    Ok((report::build(&computed, &data.currency), exclusions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Result<Params, PacingError> {
        let table: toml::Table = toml::from_str(text).expect("toml");
        Params::from_table(&table)
    }

    #[test]
    fn defaults_and_errors() {
        assert_eq!(params("").expect("valid"), Params::default());
        let p = params("as_of = \"2025-02-20\"\nwindow_days = 7\nlevel = 0.9").expect("valid");
        assert_eq!(p.as_of, NaiveDate::from_ymd_opt(2025, 2, 20));
        assert_eq!((p.window_days, p.level), (7, 0.9));
        for (text, needle) in
            [("window_days = 0", "window_days"), ("level = 2", "level"), ("as_of = \"Feb 20\"", "as_of"), ("x = 1", "x")]
        {
            let err = params(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}

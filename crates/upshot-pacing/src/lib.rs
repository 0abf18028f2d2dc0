//! Pacing: month-to-date plan vs fact per channel and campaign for every
//! funnel metric, the month-end run rate with an interval, flags a head of
//! acquisition can act on, and the daily digest.
//!
//! - [`runrate`]: the engine, a month-end projection from the trailing days
//!   with day-of-week weights and an over-dispersed count interval;
//! - [`Pacing`]: the `pacing` analysis, a pure function of the validated
//!   tables and the params;
//! - [`digest`]: the chat-sized message of the last day, built from the same
//!   computed numbers as the analysis.
//!
//! The four layers every analysis crate has: `prepare` (the only module that touches polars:
//! daily facts and the month's plan), `model` (paces and run rates, with [`runrate`]),
//! [`decide`] (behind / over cost / room to scale, the thresholds in one place) and `present`
//! (metrics, flags, decisions, tables, charts); `digest` is the morning digest's view.
#![deny(missing_docs)]

pub mod decide;
mod digest;
mod model;
mod prepare;
mod present;
pub mod runrate;

use chrono::NaiveDate;
use serde::Deserialize;
use upshot_analysis::params::check_level;
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

pub use digest::digest;
pub use model::{Computed, Line, Pace};
pub use runrate::{RunRate, RunRateError, run_rate, weekday_weights};

/// Errors of the pacing analysis: the analysis error every analysis crate shares.
pub type PacingError = upshot_data::AnalysisError;

/// Plan vs fact pacing, `kind = "pacing"`.
pub struct Pacing;

impl Kind for Pacing {
    const NAME: &'static str = "pacing";
    const INPUTS: &'static [TableKind] = &[TableKind::Plan, TableKind::Spend, TableKind::Leads, TableKind::Orders];
    type Params = Params;

    fn params(table: &toml::Table) -> Result<Params, AnalysisError> {
        Params::from_table(table)
    }

    /// The columns the analysis reads from each table (the rest are validated, not loaded).
    fn columns(_: &Params, table: TableKind) -> Option<&'static [&'static str]> {
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

    /// A pure function of the validated tables and the params (pacing draws nothing at random).
    fn run(data: &Dataset, params: &Params, _: Seed) -> Result<Outcome, AnalysisError> {
        let computed = compute(data, params)?;
        let exclusions = computed.exclusions.clone();
        Ok(Outcome { analysis: present::build(&computed, &data.currency), exclusions })
    }
}

/// Plan metrics in funnel order; the stages between `lead` and `purchase` come from the leads' `<stage>_at`.
pub const METRICS: [&str; 8] = ["cost", "lead", "target_lead", "call", "proposal", "negotiation", "purchase", "revenue"];

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
    /// Trailing days the run rate is taken from \[5\].
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
        let raw: RawParams = upshot_analysis::params::read(table)?;
        let as_of = raw.as_of.map(|v| upshot_data::config::parse_date("as_of", &v)).transpose().map_err(PacingError::Params)?;
        let window_days = match raw.window_days {
            None => 5,
            Some(n) if (1..=28).contains(&n) => n as usize,
            Some(n) => return Err(PacingError::Params(format!("`window_days = {n}` must be between 1 and 28"))),
        };
        let level = check_level(raw.level.unwrap_or(0.8))?;
        Ok(Params { as_of, window_days, level })
    }
}

pub use upshot_analysis::Exclusions;

/// Computes the pacing numbers: a pure function of the validated tables and the params.
pub fn compute(data: &Dataset, params: &Params) -> Result<Computed, PacingError> {
    model::compute(data, params)
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

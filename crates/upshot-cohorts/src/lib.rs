//! Cohort LTV / CAC: the cohort engine and the `cohorts` analysis.
//!
//! Purchases arrive months after the lead, so a young cohort's raw CAC is
//! biased upward. The engine:
//!
//! 1. aggregates leads, orders and spend into lead-cohort and customer-cohort
//!    tables per segment ([`prepare`]);
//! 2. completes the lead-cohort triangles of purchases and revenue with a
//!    Bayesian over-dispersed Poisson model: chain ladder for cohorts past half
//!    of their development, Bornhuetter-Ferguson (leads x the conversion of
//!    mature cohorts) for younger ones, intervals from the posterior
//!    predictive ([`upshot_development::projection`]); the classic chain ladder with Mack standard
//!    errors is kept beside it and reproduces the published RAA numbers
//!    ([`upshot_development::chainladder`]);
//! 3. turns them into CAC, LTV at 1/3/6/12 months, LTV/CAC, payback and the
//!    maximum CAC per cohort and segment, with a scale / keep / optimize
//!    decision per segment.
//!
//! The analysis is a pure function of the validated tables, the params and
//! the seed: [`Cohorts`]. The development engine (`upshot-development`) is shared with
//! segmentation, which weights recent clicks by the purchases still to come.
//!
//! The four layers every analysis crate has: [`prepare`] (the only module that builds tables
//! with polars: the cohort triangles from raw rows), `model` (projection, LTV, CAC, payback),
//! [`decide`] (the call and its threshold) and `present` (metrics, decisions, tables, charts).
#![deny(missing_docs)]

pub mod decide;
mod model;
pub mod prepare;
mod present;

use serde::Deserialize;
use upshot_analysis::params::{check_draws, check_level, check_margin};
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

pub use prepare::Grain;
pub use upshot_development::LastSigma;

/// Errors of the cohort analysis: the analysis error every analysis crate shares.
pub type CohortsError = upshot_data::AnalysisError;

/// Cohort LTV / CAC, `kind = "cohorts"`.
pub struct Cohorts;

impl Kind for Cohorts {
    const NAME: &'static str = "cohorts";
    const INPUTS: &'static [TableKind] = &[TableKind::Leads, TableKind::Orders, TableKind::Spend];
    type Params = Params;
    const SHARED: &'static [(&'static str, &'static str)] = &[
        ("margin", "margin"),
        ("target_ltv_to_cac", "target_ltv_to_cac"),
        ("horizon_months", "horizon_months"),
        ("discount_rate", "discount_rate"),
    ];

    fn params(table: &toml::Table) -> Result<Params, AnalysisError> {
        Params::from_table(table)
    }

    /// Ad groups and ads are loaded only when `by` names them.
    fn columns(params: &Params, table: TableKind) -> Option<&'static [&'static str]> {
        columns(table, &params.by)
    }

    /// A pure function of the validated tables, the params and the seed.
    fn run(data: &Dataset, params: &Params, seed: Seed) -> Result<Outcome, AnalysisError> {
        let computed = model::compute(data, params, seed.0)?;
        let exclusions = computed.exclusions();
        Ok(Outcome { analysis: present::build(&computed, params, &data.currency), exclusions })
    }
}

/// Segment keys `by` may name: the columns leads, orders and spend share.
pub const BY_KEYS: [&str; 4] = ["channel", "campaign", "ad_group", "ad"];

/// The columns the analysis reads from each table (the rest are validated, not loaded), for
/// segment keys `by`: ad groups and ads are loaded only when `by` names them.
fn columns(table: TableKind, by: &[String]) -> Option<&'static [&'static str]> {
    let fine = by.iter().any(|k| k == "ad_group" || k == "ad");
    match (table, fine) {
        (TableKind::Leads, true) => Some(&[
            "lead_id",
            "created_at",
            "channel",
            "campaign",
            "ad_group",
            "ad",
            "proposal_at",
            "negotiation_at",
            "purchase_at",
        ]),
        (TableKind::Leads, false) => {
            Some(&["lead_id", "created_at", "channel", "campaign", "proposal_at", "negotiation_at", "purchase_at"])
        }
        (TableKind::Orders, true) => {
            Some(&["order_id", "customer_id", "lead_id", "paid_at", "revenue", "channel", "campaign", "ad_group", "ad"])
        }
        (TableKind::Orders, false) => Some(&["order_id", "customer_id", "lead_id", "paid_at", "revenue", "channel", "campaign"]),
        (TableKind::Spend, true) => Some(&["date", "channel", "campaign", "ad_group", "ad", "cost"]),
        (TableKind::Spend, false) => Some(&["date", "channel", "campaign", "cost"]),
        _ => None,
    }
}

/// Lower-funnel stages counted weekly, those of the run's stages.
pub const LOWER_FUNNEL: [&str; 3] = ["proposal", "negotiation", "purchase"];

/// How immature cohorts are projected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionRule {
    /// Chain ladder for cohorts past half of their development (by the pooled
    /// lag profile), Bornhuetter-Ferguson for younger ones.
    Auto,
    /// Chain ladder for every cohort.
    ChainLadder,
    /// Bornhuetter-Ferguson for every immature cohort.
    BornhuetterFerguson,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    grain: Option<String>,
    horizon_months: Option<i64>,
    projection: Option<String>,
    margin: Option<f64>,
    target_ltv_to_cac: Option<f64>,
    discount_rate: Option<f64>,
    by: Option<Vec<String>>,
    level: Option<f64>,
    draws: Option<usize>,
    mack_last_sigma: Option<String>,
}

/// `[params]` of `kind = "cohorts"`, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Cohort period \[month\].
    pub grain: Grain,
    /// Horizon in months \[12\]: ages 0..h-1 (weeks: ceil(h x 52 / 12)).
    pub horizon_months: usize,
    /// Projection rule \[auto\].
    pub projection: ProjectionRule,
    /// Share of revenue that is profit [1.0].
    pub margin: f64,
    /// Target LTV/CAC ratio [3.0]: the maximum CAC is LTV x margin / target.
    pub target_ltv_to_cac: f64,
    /// Yearly rate the payback discounts future margin at, from the month of the spend \[0\].
    pub discount_rate: f64,
    /// Segment keys [`["channel"]`].
    pub by: Vec<String>,
    /// Interval level [0.9].
    pub level: f64,
    /// Posterior draws \[1000\].
    pub draws: usize,
    /// How Mack's last sigma is set [log-linear].
    pub mack_last_sigma: LastSigma,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            grain: Grain::Month,
            horizon_months: 12,
            projection: ProjectionRule::Auto,
            margin: 1.0,
            target_ltv_to_cac: 3.0,
            discount_rate: 0.0,
            by: vec!["channel".into()],
            level: 0.9,
            draws: 1000,
            mack_last_sigma: LastSigma::LogLinear,
        }
    }
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, CohortsError> {
        let raw: RawParams = upshot_analysis::params::read(table)?;
        let defaults = Params::default();
        let grain = match raw.grain.as_deref() {
            None | Some("month") => Grain::Month,
            Some("week") => Grain::Week,
            Some(other) => return Err(CohortsError::Params(format!("`grain = \"{other}\"`: expected \"week\" or \"month\""))),
        };
        let horizon_months = match raw.horizon_months {
            None => defaults.horizon_months,
            Some(h) if (1..=60).contains(&h) => h as usize,
            Some(h) => return Err(CohortsError::Params(format!("`horizon_months = {h}` must be between 1 and 60"))),
        };
        let projection = match raw.projection.as_deref() {
            None | Some("auto") => ProjectionRule::Auto,
            Some("chain-ladder") => ProjectionRule::ChainLadder,
            Some("bornhuetter-ferguson") => ProjectionRule::BornhuetterFerguson,
            Some(other) => {
                return Err(CohortsError::Params(format!(
                    "`projection = \"{other}\"`: expected \"auto\", \"chain-ladder\" or \"bornhuetter-ferguson\""
                )));
            }
        };
        let mack_last_sigma = match raw.mack_last_sigma.as_deref() {
            None | Some("log-linear") => LastSigma::LogLinear,
            Some("mack-1993") => LastSigma::Mack1993,
            Some(other) => {
                return Err(CohortsError::Params(format!(
                    "`mack_last_sigma = \"{other}\"`: expected \"log-linear\" or \"mack-1993\""
                )));
            }
        };
        let by = raw.by.unwrap_or(defaults.by);
        for (i, key) in by.iter().enumerate() {
            if !BY_KEYS.contains(&key.as_str()) {
                return Err(CohortsError::Params(format!(
                    "`by` names `{key}`; expected some of {} (columns leads, orders and spend share)",
                    BY_KEYS.map(|k| format!("\"{k}\"")).join(", ")
                )));
            }
            if by[..i].contains(key) {
                return Err(CohortsError::Params(format!("`by` names `{key}` twice")));
            }
        }
        let params = Params {
            grain,
            horizon_months,
            projection,
            margin: raw.margin.unwrap_or(defaults.margin),
            target_ltv_to_cac: raw.target_ltv_to_cac.unwrap_or(defaults.target_ltv_to_cac),
            discount_rate: raw.discount_rate.unwrap_or(defaults.discount_rate),
            by,
            level: raw.level.unwrap_or(defaults.level),
            draws: raw.draws.unwrap_or(defaults.draws),
            mack_last_sigma,
        };
        check_margin(params.margin)?;
        if !(params.target_ltv_to_cac > 0.0 && params.target_ltv_to_cac.is_finite()) {
            return Err(CohortsError::Params(format!("`target_ltv_to_cac = {}` must be positive", params.target_ltv_to_cac)));
        }
        if !(params.discount_rate >= 0.0 && params.discount_rate < 1.0) {
            return Err(CohortsError::Params(format!(
                "`discount_rate = {}` must be from 0 to under 1: the yearly rate future margin is discounted at (0.1 = 10% a year)",
                params.discount_rate
            )));
        }
        check_level(params.level)?;
        check_draws(params.draws, 200, 1000)?;
        Ok(params)
    }

    /// Ages per cohort: the horizon in grain periods.
    pub fn ages(&self) -> usize {
        self.grain.periods_in_months(self.horizon_months)
    }
}

pub use upshot_analysis::Exclusions;

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Result<Params, CohortsError> {
        let table: toml::Table = toml::from_str(text).expect("toml");
        Params::from_table(&table)
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = params("").expect("valid");
        assert_eq!(p, Params::default());
        assert_eq!(p.ages(), 12);
        let weekly = params("grain = \"week\"\nhorizon_months = 6").expect("valid");
        assert_eq!(weekly.ages(), 26);
    }

    #[test]
    fn bad_params_are_named() {
        for (text, needle) in [
            ("grain = \"day\"", "grain"),
            ("horizon_months = 0", "horizon_months"),
            ("projection = \"magic\"", "projection"),
            ("margin = 1.5", "margin"),
            ("target_ltv_to_cac = 0", "target_ltv_to_cac"),
            ("discount_rate = 1.5", "discount_rate"),
            ("by = [\"region\"]", "region"),
            ("by = [\"channel\", \"channel\"]", "twice"),
            ("level = 1.2", "level"),
            ("draws = 10", "draws"),
            ("colour = 1", "colour"),
            ("mack_last_sigma = \"x\"", "mack_last_sigma"),
        ] {
            let err = params(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert_eq!(params("by = []").expect("empty by is legal").by, Vec::<String>::new());
    }
}

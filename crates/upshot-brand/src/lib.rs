//! Brand incrementality on/off tests.
//!
//! The brand search campaign is switched on and off in a randomised
//! checkerboard of days (or regions x days). This crate designs such a
//! schedule ([`design`]), estimates how many purchases the campaign really
//! adds with exact re-randomization inference under the design actually used
//! (interval by test inversion, so p-value and interval agree), cross-checks
//! with cluster-robust errors and a carry-over regression, and turns the
//! effect into money: incremental cost, iCPA, iROAS, ROI and a keep / cut /
//! scale decision with the probability that the call is wrong.
//!
//! The estimand is the additive effect of the campaign being on, per unit, on
//! all new customers (every channel): paid-brand purchases that would have
//! come through organic anyway cancel out, which is the point.
//!
//! The four layers every analysis crate has: [`prepare`] (the only module that touches polars:
//! schedule, orders and brand spend to test units), [`model`] (re-randomization inference, the
//! regressions), [`decide`] (the call and its confidence) and `present` (money, metrics,
//! sentences, tables, charts); [`design`] and [`power`] serve `upshot brand design` and the
//! power table.
#![deny(missing_docs)]

pub mod decide;
pub mod design;
pub mod model;
pub mod power;
pub mod prepare;
mod present;

use serde::Deserialize;
use upshot_analysis::params::{check_draws, check_level, check_margin};
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

/// Errors of the brand-test analysis: the analysis error every analysis crate shares.
pub type BrandError = upshot_data::AnalysisError;

/// The brand on/off test, `kind = "brand-test"`.
pub struct BrandTest;

impl Kind for BrandTest {
    const NAME: &'static str = "brand-test";
    const INPUTS: &'static [TableKind] = &[TableKind::Orders, TableKind::Spend, TableKind::Schedule];
    type Params = Params;
    const SHARED: &'static [(&'static str, &'static str)] = &[("margin", "margin"), ("brand_campaigns", "brand_campaigns")];

    fn params(table: &toml::Table) -> Result<Params, AnalysisError> {
        Params::from_table(table)
    }

    /// The columns the analysis reads from each table (the rest are validated, not loaded).
    fn columns(_: &Params, table: TableKind) -> Option<&'static [&'static str]> {
        match table {
            TableKind::Orders => Some(&["order_id", "customer_id", "paid_at", "revenue", "channel", "campaign", "region"]),
            TableKind::Spend => Some(&["date", "campaign", "region", "cost"]),
            _ => None,
        }
    }

    /// A pure function of the validated tables, the params and the seed.
    fn run(data: &Dataset, params: &Params, seed: Seed) -> Result<Outcome, AnalysisError> {
        let matcher = upshot_analysis::params::brand_matcher(&params.brand_campaigns)?;
        let test = prepare::assemble(data, &matcher, params.covariate_lag_days)?;
        let inference = model::rerandomize(&test.units, params.draws, seed.0);
        let analysis = present::build(&test, &inference, params, &data.currency, seed.0);
        Ok(Outcome { analysis, exclusions: test.exclusions })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    brand_campaigns: Option<Vec<String>>,
    draws: Option<usize>,
    level: Option<f64>,
    margin: Option<f64>,
    break_even_cpa: Option<f64>,
    covariate_lag_days: Option<usize>,
}

/// `[params]` of `kind = "brand-test"`, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Glob patterns of brand campaign names, case-insensitive [`["*brand*"]`].
    pub brand_campaigns: Vec<String>,
    /// Re-randomization draws \[10000\].
    pub draws: usize,
    /// Interval level [0.95].
    pub level: f64,
    /// Share of revenue that is profit [1.0].
    pub margin: f64,
    /// Break-even CPA [average revenue per purchase x margin].
    pub break_even_cpa: Option<f64>,
    /// A region design's covariate (CUPED-style): each unit's region's new customers this many
    /// days earlier, e.g. 364 for last year's same weekday; at least the test's length \[0: none\].
    pub covariate_lag_days: usize,
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, BrandError> {
        let raw: RawParams = upshot_analysis::params::read(table)?;
        let params = Params {
            brand_campaigns: raw.brand_campaigns.unwrap_or_else(|| vec!["*brand*".to_string()]),
            draws: raw.draws.unwrap_or(10_000),
            level: raw.level.unwrap_or(0.95),
            margin: raw.margin.unwrap_or(1.0),
            break_even_cpa: raw.break_even_cpa,
            covariate_lag_days: raw.covariate_lag_days.unwrap_or(0),
        };
        if params.covariate_lag_days != 0 && !(params.covariate_lag_days.is_multiple_of(7) && params.covariate_lag_days <= 728) {
            return Err(BrandError::Params(
                "`covariate_lag_days` must be a whole number of weeks up to 728 (364: last year's same weekday), or 0 for none"
                    .into(),
            ));
        }
        if params.brand_campaigns.is_empty() {
            return Err(BrandError::Params("`brand_campaigns` must list at least one pattern".into()));
        }
        check_level(params.level)?;
        check_draws(params.draws, 100, 10_000)?;
        check_margin(params.margin)?;
        if params.break_even_cpa.is_some_and(|b| b <= 0.0) {
            return Err(BrandError::Params("`break_even_cpa` must be positive".into()));
        }
        Ok(params)
    }
}

pub use upshot_analysis::Exclusions;

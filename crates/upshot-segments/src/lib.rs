//! Ad-group segmentation (`kind = "segments"`): the drill-down channel ->
//! campaign -> ad group -> ad, empirical-Bayes shrinkage of purchase rates
//! toward the parent level, CAC posteriors with purchases still to come
//! projected by the cohort engine, and scale / optimize / pause / needs-data
//! per ad with Bayesian FDR control ([`decide`], [`Segments`]).
//!
//! The statistical core:
//!
//! Each segment (an ad, say) has `trials` (clicks) and `successes`
//! (purchases). Their rates are modelled as draws from a Beta(alpha, beta)
//! prior fitted by maximum likelihood on the beta-binomial marginal of the
//! sibling segments (the parent level: the ads of one ad group). A segment's
//! posterior is Beta(alpha + successes, beta + trials - successes): a keyword
//! with 2 purchases in 20 clicks no longer looks like a 10% converter when its
//! siblings convert at 3%.
#![deny(missing_docs)]

pub mod decide;
mod model;
mod prepare;
mod present;

use serde::Deserialize;
use statrs::distribution::{Beta, ContinuousCDF};
use upshot_analysis::params::check_level;
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

pub use model::{Computed, LEVELS, Measures, Segment};

/// Errors of the segmentation analysis: the analysis error every analysis crate shares.
pub type SegmentsError = upshot_data::AnalysisError;

/// Ad-group segmentation, `kind = "segments"`.
pub struct Segments;

impl Kind for Segments {
    const NAME: &'static str = "segments";
    const INPUTS: &'static [TableKind] = &[TableKind::Spend, TableKind::Leads, TableKind::Orders];
    type Params = Params;
    const SHARED: &'static [(&'static str, &'static str)] = &[
        ("target_cac", "target_cac"),
        ("decision_probability", "scale_probability"),
        ("brand_campaigns", "brand_campaigns"),
        ("incrementality", "incrementality"),
    ];

    fn params(table: &toml::Table) -> Result<Params, AnalysisError> {
        Params::from_table(table)
    }

    /// The columns the analysis reads from each table (the rest are validated, not loaded).
    fn columns(_: &Params, table: TableKind) -> Option<&'static [&'static str]> {
        match table {
            TableKind::Spend => Some(&["date", "channel", "campaign", "ad_group", "ad", "impressions", "clicks", "cost"]),
            TableKind::Leads => Some(&[
                "lead_id",
                "created_at",
                "channel",
                "campaign",
                "ad_group",
                "ad",
                "target_lead_at",
                "call_at",
                "proposal_at",
                "negotiation_at",
            ]),
            TableKind::Orders => {
                Some(&["order_id", "customer_id", "lead_id", "paid_at", "revenue", "channel", "campaign", "ad_group", "ad"])
            }
            _ => None,
        }
    }

    /// A pure function of the validated tables and the params (exact posteriors: no draws).
    fn run(data: &Dataset, params: &Params, seed: Seed) -> Result<Outcome, AnalysisError> {
        let computed = model::compute(data, params, seed.0)?;
        let exclusions = computed.exclusions.clone();
        Ok(Outcome { analysis: present::build(&computed, params, &data.currency), exclusions })
    }
}

pub use upshot_analysis::TargetCac;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    target_cac: Option<toml::Value>,
    pause_multiple: Option<f64>,
    scale_probability: Option<f64>,
    fdr: Option<f64>,
    start: Option<toml::Value>,
    end: Option<toml::Value>,
    level: Option<f64>,
    brand_campaigns: Option<Vec<String>>,
    incrementality: Option<Vec<upshot_analysis::params::RawFactor>>,
}

/// `[params]` of `kind = "segments"`, with documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Target CAC [none: no decisions].
    pub target_cac: TargetCac,
    /// Pause when P(CAC > k x target) >= `scale_probability` [2.0].
    pub pause_multiple: f64,
    /// Probability for scale and pause [0.9].
    pub scale_probability: f64,
    /// Bayesian FDR ceiling on the scale set [0.1].
    pub fdr: f64,
    /// First day [the spend's first].
    pub start: Option<chrono::NaiveDate>,
    /// Last day [the spend's last].
    pub end: Option<chrono::NaiveDate>,
    /// Credible interval level [0.9].
    pub level: f64,
    /// Brand campaigns (case-insensitive globs) (default: none): their ads are never scaled on attributed
    /// CAC alone (they need an on/off test).
    pub brand_campaigns: Option<upshot_analysis::params::BrandMatcher>,
    /// Incrementality factors measured elsewhere, per campaign pattern (default: none): an ad of a
    /// matching campaign is judged on attributed CAC / factor, across the factor's interval, and a
    /// brand campaign with one no longer waits for an on/off test.
    pub incrementality: Vec<upshot_analysis::params::Incrementality>,
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, SegmentsError> {
        let raw: RawParams = upshot_analysis::params::read(table)?;
        let target_cac = TargetCac::parse(raw.target_cac)?;
        let date = |key: &str, v: Option<toml::Value>| {
            v.map(|v| upshot_data::config::parse_date(key, &v)).transpose().map_err(SegmentsError::Params)
        };
        let params = Params {
            target_cac,
            pause_multiple: raw.pause_multiple.unwrap_or(2.0),
            scale_probability: raw.scale_probability.unwrap_or(0.9),
            fdr: raw.fdr.unwrap_or(0.1),
            start: date("start", raw.start)?,
            end: date("end", raw.end)?,
            level: raw.level.unwrap_or(0.9),
            brand_campaigns: raw.brand_campaigns.map(|p| upshot_analysis::params::brand_matcher(&p)).transpose()?,
            incrementality: upshot_analysis::params::incrementality(raw.incrementality.unwrap_or_default())?,
        };
        if params.pause_multiple.is_nan() || params.pause_multiple < 1.0 {
            return Err(SegmentsError::Params(format!("`pause_multiple = {}` must be at least 1", params.pause_multiple)));
        }
        if !(0.5..1.0).contains(&params.scale_probability) {
            return Err(SegmentsError::Params(format!("`scale_probability = {}` must be in [0.5, 1)", params.scale_probability)));
        }
        if !(params.fdr > 0.0 && params.fdr < 1.0) {
            return Err(SegmentsError::Params(format!("`fdr = {}` must be in (0, 1)", params.fdr)));
        }
        check_level(params.level)?;
        if let (Some(s), Some(e)) = (params.start, params.end)
            && s > e
        {
            return Err(SegmentsError::Params(format!("`start = {s}` is after `end = {e}`")));
        }
        Ok(params)
    }
}

pub use upshot_analysis::Exclusions;

/// A segment's posterior rate, Beta(alpha, beta).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior {
    /// Alpha.
    pub alpha: f64,
    /// Beta.
    pub beta: f64,
}

impl Posterior {
    /// Posterior mean: the shrunk rate.
    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// Posterior variance.
    pub fn variance(&self) -> f64 {
        let n = self.alpha + self.beta;
        self.alpha * self.beta / (n * n * (n + 1.0))
    }

    /// Equal-tailed credible interval at `level`.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        match Beta::new(self.alpha, self.beta) {
            Ok(beta) => (beta.inverse_cdf((1.0 - level) / 2.0), beta.inverse_cdf(0.5 + level / 2.0)),
            Err(_) => (f64::NAN, f64::NAN),
        }
    }

    /// P(rate >= threshold).
    pub fn prob_at_least(&self, threshold: f64) -> f64 {
        match Beta::new(self.alpha, self.beta) {
            Ok(beta) => 1.0 - beta.cdf(threshold.clamp(0.0, 1.0)),
            Err(_) => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_shrinkage() {
        // Prior Beta(3, 97): mean 3%. A keyword with 2 purchases in 20 clicks: (3 + 2) / (100 + 20) = 4.17%.
        let post = Posterior { alpha: 3.0 + 2.0, beta: 97.0 + 18.0 };
        assert!((post.mean() - 5.0 / 120.0).abs() < 1e-12);
        assert!((post.variance() - 5.0 * 115.0 / (120.0 * 120.0 * 121.0)).abs() < 1e-15);
        let (lo, hi) = post.interval(0.9);
        assert!(lo < post.mean() && post.mean() < hi && lo > 0.0 && hi < 0.1, "{lo} {hi}");
        // The raw rate, 10%, is far out in the posterior's upper tail.
        assert!(post.prob_at_least(0.10) < 0.02);
    }
}

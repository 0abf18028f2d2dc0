//! Ad-group segmentation (`kind = "segments"`): the drill-down channel ->
//! campaign -> ad group -> ad, empirical-Bayes shrinkage of purchase rates
//! toward the parent level, CAC posteriors with purchases still to come
//! projected by the cohort engine, and scale / optimize / pause / needs-data
//! per ad with Bayesian FDR control ([`decide`], [`analyze`]).
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

mod analysis;
pub mod decide;
mod report;

use std::collections::BTreeMap;

use serde::Deserialize;
use upshot_data::{Dataset, TableKind};
use upshot_result::Analysis;

pub use analysis::{Computed, LEVELS, Measures, Segment};

/// Errors of the segmentation analysis: the analysis error every analysis crate shares.
pub type SegmentsError = upshot_data::AnalysisError;

/// The tables the analysis reads.
pub const INPUTS: [TableKind; 3] = [TableKind::Spend, TableKind::Leads, TableKind::Orders];

/// The columns the analysis reads from each table (the rest are validated, not loaded).
pub fn columns(table: TableKind) -> Option<&'static [&'static str]> {
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

pub use upshot_data::config::TargetCac;

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
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, SegmentsError> {
        let raw: RawParams =
            toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| SegmentsError::Params(e.to_string()))?;
        let target_cac = TargetCac::parse(raw.target_cac).map_err(SegmentsError::Params)?;
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
        if !(0.5..1.0).contains(&params.level) {
            return Err(SegmentsError::Params(format!("`level = {}` must be in [0.5, 1)", params.level)));
        }
        if let (Some(s), Some(e)) = (params.start, params.end)
            && s > e
        {
            return Err(SegmentsError::Params(format!("`start = {s}` is after `end = {e}`")));
        }
        Ok(params)
    }
}

/// Exclusions the analysis adds to the validation's row accounting.
pub type Exclusions = BTreeMap<(TableKind, String), u64>;

/// Runs the analysis: a pure function of the validated tables and the params.
pub fn analyze(data: &Dataset, params: &Params) -> Result<(Analysis, Exclusions), SegmentsError> {
    let computed = analysis::compute(data, params)?;
    let exclusions = computed.exclusions.clone();
    Ok((report::build(&computed, params, &data.currency), exclusions))
}

use argmin::core::{CostFunction, Executor};
use argmin::solver::neldermead::NelderMead;
use statrs::distribution::{Beta, ContinuousCDF};
use statrs::function::gamma::ln_gamma;

/// A fitted Beta prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPrior {
    /// Alpha (prior successes).
    pub alpha: f64,
    /// Beta (prior failures).
    pub beta: f64,
}

impl BetaPrior {
    /// Prior mean rate.
    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// The posterior of a segment with `successes` in `trials`.
    pub fn posterior(&self, successes: f64, trials: f64) -> Posterior {
        Posterior { alpha: self.alpha + successes, beta: self.beta + (trials - successes).max(0.0) }
    }
}

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

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Negative beta-binomial log-likelihood in (ln alpha, ln beta), without the
/// binomial coefficients (they do not depend on the prior).
struct MarginalLikelihood<'a> {
    data: &'a [(f64, f64)],
}

impl CostFunction for MarginalLikelihood<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> Result<Self::Output, argmin::core::Error> {
        let (a, b) = (p[0].exp(), p[1].exp());
        let base = ln_beta(a, b);
        Ok(-self.data.iter().map(|(s, n)| ln_beta(a + s, b + n - s) - base).sum::<f64>())
    }
}

/// Why a prior cannot be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorError {
    /// No segment with trials.
    NoData,
    /// The optimiser failed.
    Optimiser(String),
}

impl std::fmt::Display for PriorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriorError::NoData => f.write_str("no segment has any trials"),
            PriorError::Optimiser(msg) => write!(f, "prior fit failed: {msg}"),
        }
    }
}

impl std::error::Error for PriorError {}

/// Fits Beta(alpha, beta) by maximum likelihood on `(successes, trials)` pairs
/// (Nelder-Mead on the log parameters, started from the method of moments).
pub fn fit_prior(segments: &[(f64, f64)]) -> Result<BetaPrior, PriorError> {
    let data: Vec<(f64, f64)> = segments.iter().copied().filter(|(_, n)| *n > 0.0).collect();
    if data.is_empty() {
        return Err(PriorError::NoData);
    }
    let total_s: f64 = data.iter().map(|(s, _)| s).sum();
    let total_n: f64 = data.iter().map(|(_, n)| n).sum();
    let mean = ((total_s + 0.5) / (total_n + 1.0)).clamp(1e-6, 1.0 - 1e-6);
    let start = [(mean * 10.0).ln(), ((1.0 - mean) * 10.0).ln()];
    let simplex = vec![start.to_vec(), vec![start[0] + 0.7, start[1]], vec![start[0], start[1] + 0.7]];
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10).map_err(|e| PriorError::Optimiser(e.to_string()))?;
    let result = Executor::new(MarginalLikelihood { data: &data }, solver)
        .configure(|state| state.max_iters(2000))
        .run()
        .map_err(|e| PriorError::Optimiser(e.to_string()))?;
    let best = result.state.best_param.ok_or_else(|| PriorError::Optimiser("no parameters".into()))?;
    Ok(BetaPrior { alpha: best[0].exp(), beta: best[1].exp() })
}

#[cfg(test)]
mod tests {
    use rand::Rng;
    use rand_distr::{Binomial, Distribution};

    use super::*;

    #[test]
    fn hand_computed_shrinkage() {
        // Prior Beta(3, 97): mean 3%. A keyword with 2 purchases in 20 clicks: (3 + 2) / (100 + 20) = 4.17%.
        let prior = BetaPrior { alpha: 3.0, beta: 97.0 };
        let post = prior.posterior(2.0, 20.0);
        assert_eq!((post.alpha, post.beta), (5.0, 115.0));
        assert!((post.mean() - 5.0 / 120.0).abs() < 1e-12);
        let (lo, hi) = post.interval(0.9);
        assert!(lo < post.mean() && post.mean() < hi && lo > 0.0 && hi < 0.1, "{lo} {hi}");
        // The raw rate, 10%, is far out in the posterior's upper tail.
        assert!(post.prob_at_least(0.10) < 0.02);
    }

    #[test]
    fn prior_fit_recovers_a_known_beta() {
        // 3,000 segments with rates from Beta(2, 38) (mean 5%) and 50 to 500 trials each.
        let mut rng = upshot_stats::rng::stream(3, "beta-prior", 0);
        let truth = statrs::distribution::Beta::new(2.0, 38.0).expect("beta");
        let segments: Vec<(f64, f64)> = (0..3000)
            .map(|_| {
                let p = truth.inverse_cdf(rng.random::<f64>());
                let n: u64 = rng.random_range(50..=500);
                (Binomial::new(n, p).expect("binomial").sample(&mut rng) as f64, n as f64)
            })
            .collect();
        let prior = fit_prior(&segments).expect("fits");
        assert!((prior.mean() - 0.05).abs() < 0.003, "{prior:?}");
        assert!((prior.alpha - 2.0).abs() < 0.3 && (prior.beta - 38.0).abs() < 6.0, "{prior:?}");
    }

    #[test]
    fn no_trials_is_an_error() {
        assert_eq!(fit_prior(&[(0.0, 0.0)]), Err(PriorError::NoData));
    }
}

//! Post-purchase survey attribution ("How did you hear about us?").
//!
//! About half of new customers answer the survey; where both signals exist the
//! answer usually agrees with the click (UTM) channel, and many customers that
//! click data calls organic or direct name YouTube or an influencer. This crate
//! re-attributes new customers and their first-order revenue to channels and
//! judges each channel on a blended CAC:
//!
//! 1. answers are mapped to channels by the config's answer map ([`mapping`]);
//! 2. every new customer gets the highest-precedence signal it has (promo code,
//!    survey answer, click channel; configurable);
//! 3. customers whose only signal is the click are *extrapolated*: they take the
//!    answer distribution of respondents with the same click channel (and
//!    optionally the same order-value quartile), which corrects for who answers
//!    (post-stratification; Fairing's "count / response rate" is the naive
//!    baseline, reported beside it);
//! 4. intervals come from a Bayesian bootstrap over customers, run exactly on
//!    the customer cells the estimate depends on ([`model`]), so 1,000 draws
//!    over ten million orders take milliseconds;
//! 5. each paid channel gets a scale / keep / optimize / pause decision from
//!    P(blended CAC <= target).
//!
//! The analysis is a pure function of the validated tables, the params and the
//! seed: [`Survey`] (its `Kind::run`), in the four layers every analysis crate has:
//! `prepare` (the only module that touches polars: tables to the customer population),
//! [`model`] (the attribution and its bootstrap, pure), [`decide`] (the calls and their
//! thresholds) and `present` (metrics, tables, charts, sentences); [`mapping`] reads the
//! config's answer map.
#![deny(missing_docs)]

pub mod decide;
pub mod mapping;
pub mod measurement;
pub mod model;
mod prepare;
mod present;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use upshot_analysis::params::{check_draws, check_level};
use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

pub use mapping::{AnswerMap, AnswerRule, PromoMap};
pub use model::{Answer, Cell, Population, Rules};

/// Errors of the survey analysis: the analysis error every analysis crate shares.
pub type SurveyError = upshot_data::AnalysisError;

/// Post-purchase survey attribution, `kind = "survey"`.
pub struct Survey;

impl Kind for Survey {
    const NAME: &'static str = "survey";
    const INPUTS: &'static [TableKind] = &[TableKind::Orders, TableKind::Spend, TableKind::Survey];
    type Params = Params;
    const SHARED: &'static [(&'static str, &'static str)] = &[("target_cac", "target_cac")];

    fn params(table: &toml::Table) -> Result<Params, AnalysisError> {
        Params::from_table(table)
    }

    /// The columns the analysis reads from each table (the rest are validated, not loaded).
    fn columns(_: &Params, table: TableKind) -> Option<&'static [&'static str]> {
        match table {
            TableKind::Orders => Some(&["order_id", "customer_id", "paid_at", "revenue", "promo_code", "channel"]),
            TableKind::Spend => Some(&["date", "channel", "cost"]),
            TableKind::Survey => Some(&["order_id", "sent_at", "answered_at", "answer"]),
            _ => None,
        }
    }

    /// A pure function of the validated tables, the params and the seed.
    fn run(data: &Dataset, params: &Params, seed: Seed) -> Result<Outcome, AnalysisError> {
        let prepared = prepare::prepare(data, params)?;
        let estimates = estimate(&prepared.population, params, seed);
        let analysis = present::build(&prepared, &estimates, params, &data.currency);
        Ok(Outcome { analysis, exclusions: prepared.exclusions })
    }
}

/// Every estimator's point estimate and bootstrap draws, and which of them the page reports.
pub(crate) struct Estimates {
    /// Point estimates, one per rule set: the reported estimator first, the naive one second,
    /// the post-stratified one third (with the model), then further model variants.
    pub points: Vec<model::Attribution>,
    /// Bootstrap draws: per draw, one attribution per rule set.
    pub draws: Vec<Vec<model::Attribution>>,
    /// Rule sets whose intervals are joined for the reported estimate (0 and the model's other
    /// variants).
    pub reported: Vec<usize>,
    /// Rule sets of the wrong-answer bound's corners (their span with `reported` is the bound).
    pub bound: Vec<usize>,
    /// Rule set of the post-stratified estimate, when it is not the reported one.
    pub stratified: Option<usize>,
    /// The measurement model's fit, when it was asked for.
    pub model: Option<measurement::Chosen>,
    /// Why the model is not the reported estimate although asked for.
    pub fallback: Option<String>,
}

/// The default bound on the response ratio between customers without and with a paid click:
/// off (response by true origin alone, unless known-origin customers identify the ratio).
pub const DEFAULT_RESPONSE_RATIO: f64 = 1.0;

/// The default wrong-answer bound: accuracy by origin within 10 points of the fitted one, at most
/// half of one origin's wrong answers naming one other origin (twice the even share with five).
pub const DEFAULT_ANSWER_BOUND: measurement::AnswerBound = measurement::AnswerBound { spread: 0.1, share: 0.5 };

/// Rule set 1 is always the naive estimate.
pub(crate) const NAIVE: usize = 1;

/// The point estimates and the bootstrap of the configured estimator and the baselines beside it.
fn estimate(population: &Population, params: &Params, seed: Seed) -> Estimates {
    let rules = Rules {
        precedence: params.precedence.clone(),
        extrapolation: params.extrapolation,
        by_order_value: params.by_order_value,
    };
    let naive = Rules { extrapolation: Extrapolation::Naive, ..rules.clone() };
    let stratified = Rules { extrapolation: Extrapolation::Reweighted, ..rules.clone() };
    let attribute = |r: &Rules| model::attribute(population, &population.counts(), &population.revenues(), r);
    if params.extrapolation != Extrapolation::Model {
        let rule_sets = [rules, naive];
        let points = rule_sets.iter().map(attribute).collect();
        let draws = model::bootstrap(population, &rule_sets, params.draws, seed.0);
        return Estimates { points, draws, reported: vec![0], bound: Vec::new(), stratified: None, model: None, fallback: None };
    }
    let uses_promo = params.precedence.contains(&Source::Promo);
    let chosen = measurement::choose(
        population,
        origins(population, uses_promo),
        params.answer_accuracy,
        params.by_order_value,
        uses_promo,
        params.response_ratio,
        params.answer_bound,
    );
    if !chosen.converged {
        let rule_sets = [stratified, naive];
        let points = rule_sets.iter().map(attribute).collect();
        let draws = model::bootstrap(population, &rule_sets, params.draws, seed.0);
        let iterations = chosen.variants.iter().map(|(_, f)| f.iterations).max().unwrap_or(0);
        return Estimates {
            points,
            draws,
            reported: vec![0],
            bound: Vec::new(),
            stratified: None,
            model: Some(chosen),
            fallback: Some(format!(
                "the measurement model did not converge in {iterations} EM iterations, so the post-stratified estimate is reported instead"
            )),
        };
    }
    let cells = &chosen.cells;
    let model_point = |(spec, fit): &(measurement::Spec, measurement::Fit)| {
        measurement::attribution(population, cells, spec, fit, &population.counts(), &population.revenues())
    };
    let mut points = vec![model_point(&chosen.variants[0]), attribute(&naive), attribute(&stratified)];
    points.extend(chosen.variants[1..].iter().map(model_point));
    let baselines = [naive, stratified];
    let draws = model::bootstrap_with(population, params.draws, seed.0, |weights, revenue| {
        let refit = |(spec, point): &(measurement::Spec, measurement::Fit)| {
            let f = measurement::refit(cells, weights, spec, point);
            measurement::attribution(population, cells, spec, &f, weights, revenue)
        };
        let mut out = vec![refit(&chosen.variants[0])];
        out.extend(baselines.iter().map(|r| model::attribute(population, weights, revenue, r)));
        out.extend(chosen.variants[1..].iter().map(refit));
        out
    });
    // The bound's corners: fitted at the point, their draws the point variant's moved by the
    // corner's shift (what the data cannot tell adds to sampling error, it does not resample).
    let corners: Vec<model::Attribution> = chosen.corners.iter().map(model_point).collect();
    let mut draws = draws;
    for draw in &mut draws {
        let moved: Vec<model::Attribution> = corners.iter().map(|c| model::moved(&draw[0], &points[0], c)).collect();
        draw.extend(moved);
    }
    let reported = std::iter::once(0).chain(3..points.len()).collect();
    let bound = (points.len()..points.len() + corners.len()).collect();
    points.extend(corners);
    Estimates { points, draws, reported, bound, stratified: Some(2), model: Some(chosen), fallback: None }
}

/// The channels a customer can truly come from: every channel an answer names, and every
/// promo code's channel when promo codes are used.
fn origins(population: &Population, uses_promo: bool) -> Vec<usize> {
    let mut origins: Vec<usize> = population
        .cells
        .iter()
        .filter_map(|c| match c.answer {
            Answer::Channel(k) => Some(k),
            _ => None,
        })
        .chain(population.cells.iter().filter(|_| uses_promo).filter_map(|c| c.promo))
        .collect();
    origins.sort_unstable();
    origins.dedup();
    origins
}

/// A signal a customer's channel can come from, in `precedence` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A promo code mapped to a channel.
    Promo,
    /// A survey answer mapped to a channel.
    Survey,
    /// The click (UTM) channel of the first order; `organic` when null.
    Click,
}

impl Source {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "promo" => Some(Source::Promo),
            "survey" => Some(Source::Survey),
            "click" => Some(Source::Click),
            _ => None,
        }
    }
}

/// How customers without a survey answer are extrapolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extrapolation {
    /// The measurement model ([`measurement`]): every customer's true origin is a latent class,
    /// answers can be wrong, response depends on the true origin (or the click channel, as the
    /// data favour).
    Model,
    /// Post-stratified by click channel (and order value when asked): each
    /// customer without an answer takes the answer mix of respondents like them.
    Reweighted,
    /// Fairing's rule: every customer without an answer takes the overall
    /// answer mix (extrapolated count = count / response rate).
    Naive,
}

pub use upshot_analysis::TargetCac;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    answer_map: Option<Vec<RawAnswerRule>>,
    promo_codes: Option<BTreeMap<String, String>>,
    precedence: Option<Vec<String>>,
    extrapolation: Option<String>,
    answer_accuracy: Option<toml::Value>,
    response_ratio: Option<f64>,
    accuracy_spread: Option<f64>,
    confusion_share: Option<f64>,
    reweight_by: Option<Vec<String>>,
    draws: Option<usize>,
    level: Option<f64>,
    target_cac: Option<toml::Value>,
    pause_multiple: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswerRule {
    #[serde(rename = "match")]
    exact: Option<String>,
    pattern: Option<String>,
    channel: String,
}

/// `[params]` of `kind = "survey"`, with documented defaults.
#[derive(Debug, Clone)]
pub struct Params {
    /// Answer label or pattern -> channel.
    pub answer_map: AnswerMap,
    /// Promo code -> channel, case-insensitive.
    pub promo_codes: PromoMap,
    /// Which signal wins [`["promo", "survey", "click"]`]; always ends with `click`.
    pub precedence: Vec<Source>,
    /// How customers without an answer are extrapolated \[model\].
    pub extrapolation: Extrapolation,
    /// P(a mapped answer names the true origin), from an audit: a value or a `[low, high]` range
    /// \[unset: estimated from promo-code customers, else the range 0.6 to 1\].
    pub answer_accuracy: measurement::AccuracyConfig,
    /// The sensitivity bound on response: customers of one origin without a paid click may answer
    /// up to this factor more or less often than those with one; both ends are fitted and the
    /// intervals span them, when the known-origin customers do not identify the ratio \[1: off\].
    pub response_ratio: f64,
    /// The wrong-answer bound: each origin's accuracy may differ from the fitted one by up to
    /// `spread` either way, and up to `share` of one origin's wrong answers may name one other
    /// origin; both corners are fitted for every origin and the intervals span them \[0.1 and
    /// 0.5; 0 and 0 turn it off\].
    pub answer_bound: measurement::AnswerBound,
    /// Post-stratify by order-value quartile as well as click channel [false].
    pub by_order_value: bool,
    /// Bootstrap draws \[1000\].
    pub draws: usize,
    /// Interval level [0.95].
    pub level: f64,
    /// Target CAC [none: no decisions].
    pub target_cac: TargetCac,
    /// Pause when P(blended CAC > pause_multiple x target) >= 0.9 [2.0].
    pub pause_multiple: f64,
}

impl Params {
    /// Reads `[params]`; unknown keys are errors that name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self, SurveyError> {
        let raw: RawParams = upshot_analysis::params::read(table)?;
        let rules = raw
            .answer_map
            .ok_or_else(|| {
                SurveyError::Params(
                    "`answer_map` is required: list how answers map to channels, e.g. answer_map = [{ match = \"YouTube\", channel = \"youtube\" }, { pattern = \"insta|facebook\", channel = \"meta\" }]".into(),
                )
            })?
            .into_iter()
            .enumerate()
            .map(|(i, rule)| match (rule.exact, rule.pattern) {
                (Some(label), None) => Ok(AnswerRule::Exact { label, channel: rule.channel }),
                (None, Some(pattern)) => Ok(AnswerRule::Pattern { pattern, channel: rule.channel }),
                _ => Err(SurveyError::Params(format!(
                    "`answer_map` entry {} must have exactly one of `match` or `pattern` (and `channel`)",
                    i + 1
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answer_map = AnswerMap::new(rules)?;
        let promo_codes = PromoMap::new(raw.promo_codes.unwrap_or_default())?;
        let precedence = parse_precedence(raw.precedence)?;
        let extrapolation = match raw.extrapolation.as_deref() {
            None | Some("model") => Extrapolation::Model,
            Some("reweighted") => Extrapolation::Reweighted,
            Some("naive") => Extrapolation::Naive,
            Some(other) => {
                return Err(SurveyError::Params(format!(
                    "`extrapolation = \"{other}\"`: expected \"model\", \"reweighted\" or \"naive\""
                )));
            }
        };
        let answer_accuracy = parse_accuracy(raw.answer_accuracy)?;
        let answer_channels: BTreeSet<&str> = answer_map.rules().iter().map(|r| r.channel()).collect();
        if let Some((code, channel)) = promo_codes.entries().find(|(_, channel)| !answer_channels.contains(channel)) {
            return Err(SurveyError::Params(format!(
                "`promo_codes.{code} = \"{channel}\"`: no `answer_map` rule maps an answer to {channel}; a promo code's channel must be one a survey answer can name (add a rule, or fix the channel)"
            )));
        }
        let reweight_by = raw.reweight_by.unwrap_or_else(|| vec!["click_channel".to_string()]);
        for key in &reweight_by {
            if key != "click_channel" && key != "order_value" {
                return Err(SurveyError::Params(format!(
                    "`reweight_by` names `{key}`; expected \"click_channel\" and optionally \"order_value\""
                )));
            }
        }
        if !reweight_by.iter().any(|k| k == "click_channel") {
            return Err(SurveyError::Params(
                "`reweight_by` must include \"click_channel\": strata are always within click channel".into(),
            ));
        }
        let target_cac = TargetCac::parse(raw.target_cac)?;
        let params = Params {
            answer_map,
            promo_codes,
            precedence,
            extrapolation,
            answer_accuracy,
            response_ratio: raw.response_ratio.unwrap_or(DEFAULT_RESPONSE_RATIO),
            answer_bound: measurement::AnswerBound {
                spread: raw.accuracy_spread.unwrap_or(DEFAULT_ANSWER_BOUND.spread),
                share: raw.confusion_share.unwrap_or(DEFAULT_ANSWER_BOUND.share),
            },
            by_order_value: reweight_by.iter().any(|k| k == "order_value"),
            draws: raw.draws.unwrap_or(1000),
            level: raw.level.unwrap_or(0.95),
            target_cac,
            pause_multiple: raw.pause_multiple.unwrap_or(2.0),
        };
        check_level(params.level)?;
        if !(params.response_ratio >= 1.0 && params.response_ratio <= 4.0) {
            return Err(SurveyError::Params(format!(
                "`response_ratio = {}` must be from 1 (off) to 4: how many times more (or less) often customers without a paid click may answer than those of the same origin with one",
                params.response_ratio
            )));
        }
        let bound = params.answer_bound;
        if !(bound.spread >= 0.0 && bound.spread <= 0.3) {
            return Err(SurveyError::Params(format!(
                "`accuracy_spread = {}` must be from 0 (off) to 0.3: how far one origin's answer accuracy may sit from the fitted one",
                bound.spread
            )));
        }
        if !(bound.share >= 0.0 && bound.share <= 1.0) {
            return Err(SurveyError::Params(format!(
                "`confusion_share = {}` must be from 0 to 1: the largest share of one origin's wrong answers that may name one other channel (at or below an even spread it is off)",
                bound.share
            )));
        }
        check_draws(params.draws, 200, 1000)?;
        if params.pause_multiple.is_nan() || params.pause_multiple < 1.0 {
            return Err(SurveyError::Params(format!("`pause_multiple = {}` must be at least 1", params.pause_multiple)));
        }
        Ok(params)
    }
}

/// `answer_accuracy`: a value or a `[low, high]` range, each in (0.5, 1].
fn parse_accuracy(raw: Option<toml::Value>) -> Result<measurement::AccuracyConfig, SurveyError> {
    let value = |v: &toml::Value| match v {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    };
    let check = |a: f64| {
        if a.is_finite() && a > 0.5 && a <= 1.0 {
            Ok(a)
        } else {
            Err(SurveyError::Params(format!(
                "`answer_accuracy = {a}` must be above 0.5 and at most 1: it is P(a mapped answer names the true origin), from an audit"
            )))
        }
    };
    let shape = || {
        SurveyError::Params(
            "`answer_accuracy` must be a number (e.g. 0.85) or a range [low, high] (e.g. [0.75, 0.95]) from an audit".into(),
        )
    };
    match raw {
        None => Ok(measurement::AccuracyConfig::Unset),
        Some(toml::Value::Array(items)) => match items.as_slice() {
            [low, high] => {
                let (low, high) = (check(value(low).ok_or_else(shape)?)?, check(value(high).ok_or_else(shape)?)?);
                if low >= high {
                    return Err(SurveyError::Params(format!(
                        "`answer_accuracy = [{low}, {high}]`: the low end must be below the high end"
                    )));
                }
                Ok(measurement::AccuracyConfig::Range(low, high))
            }
            _ => Err(shape()),
        },
        Some(v) => Ok(measurement::AccuracyConfig::Value(check(value(&v).ok_or_else(shape)?)?)),
    }
}

fn parse_precedence(raw: Option<Vec<String>>) -> Result<Vec<Source>, SurveyError> {
    let names = raw.unwrap_or_else(|| vec!["promo".into(), "survey".into(), "click".into()]);
    let mut sources = Vec::new();
    for name in &names {
        let source = Source::parse(name).ok_or_else(|| {
            SurveyError::Params(format!("`precedence` names `{name}`; expected \"promo\", \"survey\" and \"click\""))
        })?;
        if sources.contains(&source) {
            return Err(SurveyError::Params(format!("`precedence` names `{name}` twice")));
        }
        sources.push(source);
    }
    if sources.last() != Some(&Source::Click) {
        return Err(SurveyError::Params(
            "`precedence` must end with \"click\": every customer has a click channel (organic when null), so a source after it would never be used".into(),
        ));
    }
    if !sources.contains(&Source::Survey) {
        return Err(SurveyError::Params("`precedence` must include \"survey\": it is a survey analysis".into()));
    }
    Ok(sources)
}

pub use upshot_analysis::Exclusions;

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Result<Params, SurveyError> {
        let table: toml::Table = toml::from_str(text).expect("toml");
        Params::from_table(&table)
    }

    const MAP: &str = "answer_map = [{ match = \"YouTube\", channel = \"youtube\" }]\n";

    #[test]
    fn defaults_are_documented_ones() {
        let p = params(MAP).expect("valid");
        assert_eq!(p.precedence, [Source::Promo, Source::Survey, Source::Click]);
        assert_eq!(p.extrapolation, Extrapolation::Model);
        assert_eq!(p.answer_accuracy, measurement::AccuracyConfig::Unset);
        assert_eq!((p.draws, p.level, p.pause_multiple, p.by_order_value), (1000, 0.95, 2.0, false));
        assert_eq!(p.target_cac, TargetCac::None);
        assert_eq!(p.answer_bound, measurement::AnswerBound { spread: 0.1, share: 0.5 });
    }

    #[test]
    fn target_cac_is_a_number_or_a_table() {
        assert_eq!(params(&format!("{MAP}target_cac = 150")).expect("valid").target_cac, TargetCac::All(150.0));
        let p = params(&format!("{MAP}[target_cac]\nmeta = 120.0\nyoutube = 90\n")).expect("valid");
        assert_eq!(p.target_cac.of("youtube"), Some(90.0));
        assert_eq!(p.target_cac.of("google_search"), None);
        assert!(params(&format!("{MAP}target_cac = -5")).is_err());
    }

    #[test]
    fn bad_params_are_named() {
        let err = params("").expect_err("answer_map required").to_string();
        assert!(err.contains("answer_map"), "{err}");
        let err = params(&format!("{MAP}precedence = [\"click\", \"survey\"]")).expect_err("click last").to_string();
        assert!(err.contains("end with \"click\""), "{err}");
        let err = params(&format!("{MAP}precedence = [\"promo\", \"click\"]")).expect_err("survey needed").to_string();
        assert!(err.contains("survey"), "{err}");
        let err = params("answer_map = [{ match = \"a\", pattern = \"b\", channel = \"x\" }]").expect_err("one of").to_string();
        assert!(err.contains("exactly one"), "{err}");
        let err = params(&format!("{MAP}colour = 1")).expect_err("unknown key").to_string();
        assert!(err.contains("colour"), "{err}");
        assert!(params(&format!("{MAP}draws = 10")).is_err());
        assert!(params(&format!("{MAP}reweight_by = [\"order_value\"]")).is_err());
        let err = params(&format!("{MAP}answer_accuracy = 0.4")).expect_err("accuracy range").to_string();
        assert!(err.contains("answer_accuracy = 0.4") && err.contains("above 0.5"), "{err}");
        assert!(params(&format!("{MAP}answer_accuracy = [0.9, 0.8]")).is_err());
        assert!(params(&format!("{MAP}answer_accuracy = \"high\"")).is_err());
        let err = params(&format!("{MAP}accuracy_spread = 0.5")).expect_err("spread").to_string();
        assert!(err.contains("accuracy_spread = 0.5") && err.contains("0.3"), "{err}");
        let err = params(&format!("{MAP}confusion_share = 1.2")).expect_err("share").to_string();
        assert!(err.contains("confusion_share = 1.2"), "{err}");
        let err = params(&format!("{MAP}[promo_codes]\nANNA10 = \"influencers\"\n")).expect_err("promo channel").to_string();
        assert!(err.contains("promo_codes.ANNA10") && err.contains("influencers"), "{err}");
    }

    #[test]
    fn accuracy_is_a_value_or_a_range() {
        use measurement::AccuracyConfig;
        assert_eq!(params(&format!("{MAP}answer_accuracy = 0.85")).expect("valid").answer_accuracy, AccuracyConfig::Value(0.85));
        assert_eq!(params(&format!("{MAP}answer_accuracy = 1")).expect("valid").answer_accuracy, AccuracyConfig::Value(1.0));
        assert_eq!(
            params(&format!("{MAP}answer_accuracy = [0.75, 0.95]")).expect("valid").answer_accuracy,
            AccuracyConfig::Range(0.75, 0.95)
        );
    }
}

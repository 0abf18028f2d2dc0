//! The plan: the `result.json` files of a report folder reconciled into one call per paid
//! channel, with brand search apart, one CAC per row, and the money at stake on one horizon.
//!
//! Evidence is used in a stated order: an on/off experiment's incremental CAC; else the
//! survey-blended new customers grown by the purchases the cohort engine projects still to
//! come; else survey-blended customers alone; else last-click customers with the lag
//! projection of segmentation. Every other analysis's number is listed under the row it
//! concerns, and where an analysis's own call differs from the plan's, a sentence says why.
//! Pure: `result.json` documents in, a typed [`Plan`] out; `upshot-report` renders it.
//!
//! ```
//! # use upshot_plan::{reconcile, Source};
//! # fn demo(sources: &[Source]) -> Result<(), upshot_plan::PlanError> {
//! let plan = reconcile(sources)?;
//! for call in &plan.calls {
//!     println!("{} {}", call.action.label(), call.label());
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod decide;
mod evidence;
mod rows;
mod words;

pub use decide::{Basis, DEFAULT_PROBABILITY, DISAGREE_RATIO, PAUSE_MULTIPLE, PLAN_LEVEL};
pub use words::cac_text;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use upshot_result::{Action, ResultJson};

/// One analysis's output in a report folder. The result is borrowed where the caller holds it
/// (a 100k-ad segmentation result is a quarter of a gigabyte: never copied to be read).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The experiment's folder name in the report folder.
    pub folder: String,
    /// Its `result.json`.
    pub result: Cow<'a, ResultJson>,
}

/// Evidence the plan cannot combine.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Two results of one kind in a folder whose periods overlap (or are not recorded).
    #[error(
        "{first}/result.json and {second}/result.json are both `{kind}` results, and their `period`s overlap ({first_period}; {second_period}): the plan takes one of each kind, so it cannot tell which to act on; report them from separate folders (results of disjoint periods are fine: the latest is used)"
    )]
    Duplicate {
        /// The kind.
        kind: String,
        /// The first folder.
        first: String,
        /// Its period, or "not recorded".
        first_period: String,
        /// The second folder.
        second: String,
        /// Its period, or "not recorded".
        second_period: String,
    },
    /// A field that does not fit the other evidence.
    #[error("{folder}/result.json: `{field}` {message}")]
    Evidence {
        /// The experiment folder.
        folder: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// The CAC a call rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cac {
    /// Which customers it counts, by which attribution.
    pub basis: Basis,
    /// Spend over customers.
    pub estimate: f64,
    /// Lower end at [`PLAN_LEVEL`]; `None` when unbounded.
    pub ci_low: Option<f64>,
    /// Upper end at [`PLAN_LEVEL`]; `None` when unbounded.
    pub ci_high: Option<f64>,
    /// The interval's level.
    pub level: f64,
    /// The spend it divides, over the evidence's own period.
    pub spend: f64,
    /// The customers (or incremental purchases) it divides by; `None` for a stated iCPA.
    pub customers: Option<f64>,
}

/// One number from one analysis, listed under the row it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The analysis's folder in the report folder (its page is `<folder>/summary.html`).
    pub folder: String,
    /// The analysis kind.
    pub kind: String,
    /// The number in words, with its interval.
    pub text: String,
    /// Whether the row's CAC is built from it.
    pub used: bool,
}

/// One row of the plan: a paid channel's non-brand campaigns, or its brand campaigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The channel.
    pub channel: String,
    /// Whether the row holds the channel's brand campaigns (`brand_campaigns`) rather than the rest.
    pub brand: bool,
    /// The one call.
    pub action: Action,
    /// Probability that the call is right (for NEEDS DATA, 1: the rule makes it).
    pub confidence: f64,
    /// Money at stake on the plan's horizon: the row's spend there. The rows partition it.
    pub stake: f64,
    /// The CAC the call rests on; `None` when the folder holds no evidence for one.
    pub cac: Option<Cac>,
    /// The target CAC it is judged against.
    pub target: Option<f64>,
    /// One sentence with the numbers.
    pub reason: String,
    /// Every analysis's number on the row, the evidence used first.
    pub evidence: Vec<Evidence>,
}

impl Call {
    /// The row's name: the channel, or `<channel> brand` for its brand campaigns.
    pub fn label(&self) -> String {
        if self.brand { format!("{} brand", self.channel) } else { self.channel.clone() }
    }
}

/// The reconciled plan of a report folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The calls in one sentence.
    pub headline: String,
    /// Currency of every money figure.
    pub currency: String,
    /// What the stakes are: the spend of which period.
    pub horizon: String,
    /// The sum of the stakes: the horizon's spend, each dollar counted once.
    pub total_stake: f64,
    /// The probability a SCALE, OPTIMIZE or PAUSE needs.
    pub decision_probability: f64,
    /// One row per paid channel, brand campaigns apart, the largest stake first.
    pub calls: Vec<Call>,
    /// Where analyses disagree, and which the call follows and why.
    pub disagreements: Vec<String>,
    /// How the numbers were put together (splits, missing evidence, method limits).
    pub notes: Vec<String>,
}

/// Reconciles a folder's results into one plan.
pub fn reconcile(sources: &[Source<'_>]) -> Result<Plan, PlanError> {
    let folder = evidence::read(sources)?;
    let probability = folder.economics.decision_probability.unwrap_or(DEFAULT_PROBABILITY);
    let horizon = rows::horizon(&folder);
    let mut calls = rows::calls(&folder, &horizon, probability);
    calls.sort_by(|a, b| b.stake.total_cmp(&a.stake).then_with(|| a.label().cmp(&b.label())));
    let total_stake = calls.iter().map(|c| c.stake).sum();
    let disagreements = words::disagreements(&folder, &calls);
    let notes = words::notes(&folder, &horizon);
    let headline = words::headline(&calls, total_stake, &folder.currency);
    Ok(Plan {
        headline,
        currency: folder.currency.clone(),
        horizon: horizon.label.clone(),
        total_stake,
        decision_probability: probability,
        calls,
        disagreements,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use upshot_result::{Decision, Metric, Segment, Unit, names};

    use super::*;

    fn result(kind: &str, metrics: Vec<Metric>, decisions: Vec<Decision>) -> ResultJson {
        let mut economics = BTreeMap::new();
        economics.insert("target_cac".to_string(), serde_json::json!(150.0));
        economics.insert("brand_campaigns".to_string(), serde_json::json!(["brand_*"]));
        ResultJson {
            upshot_version: "0".into(),
            experiment: format!("{kind}-x"),
            kind: kind.into(),
            headline: String::new(),
            currency: "USD".into(),
            economics,
            period: None,
            inputs: vec![],
            config_sha256: String::new(),
            seed: 1,
            metrics,
            decisions,
            warnings: vec![],
        }
    }

    fn usd() -> Unit {
        Unit::money("USD")
    }

    fn on(m: Metric, keys: &[(&str, &str)]) -> Metric {
        m.with_segment(keys.iter().fold(Segment::all(), |s, (k, v)| s.and(k, v)))
    }

    fn decision(subject: Segment, action: Action) -> Decision {
        Decision { subject, action, confidence: 0.95, reason: "own".into(), stake: Some(1.0) }
    }

    fn survey() -> Source<'static> {
        let mut m = vec![];
        for (ch, blended, lo, hi, click, spend) in
            [("youtube", 1000.0, 900.0, 1100.0, 100.0, 50_000.0), ("google_search", 3000.0, 2800.0, 3200.0, 3000.0, 180_000.0)]
        {
            m.push(on(Metric::interval(names::BLENDED_CUSTOMERS, Unit::Customers, blended, lo, hi, 0.95), &[("channel", ch)]));
            m.push(on(Metric::point(names::CLICK_CUSTOMERS, Unit::Customers, click), &[("channel", ch)]));
            m.push(on(Metric::point(names::SPEND, usd(), spend), &[("channel", ch)]));
        }
        m.push(on(
            Metric::interval(names::BLENDED_CUSTOMERS, Unit::Customers, 9.0, 1.0, 20.0, 0.95),
            &[("channel", "youtube"), ("estimator", "naive")],
        ));
        let d = vec![decision(Segment::one("channel", "youtube"), Action::Scale)];
        Source { folder: "survey".into(), result: Cow::Owned(result("survey", m, d)) }
    }

    fn segments() -> Source<'static> {
        let mut m = vec![];
        for (ch, campaign, cost, purchases) in [
            ("google_search", "brand_search", 60_000.0, 1500.0),
            ("google_search", "generic", 120_000.0, 1500.0),
            ("youtube", "video", 50_000.0, 100.0),
        ] {
            let keys = [("channel", ch), ("campaign", campaign)];
            m.push(on(Metric::point(names::COST, usd(), cost), &keys));
            m.push(on(Metric::point(names::PURCHASES, Unit::Purchases, purchases), &keys));
            m.push(on(Metric::interval(names::PURCHASES_PROJECTED, Unit::Purchases, purchases * 1.1, 1.0, 2.0, 0.9), &keys));
            // Ad rows are not campaign rows.
            m.push(on(Metric::point(names::COST, usd(), 1e9), &[keys[0], keys[1], ("ad_group", "g"), ("ad", "a")]));
        }
        let ad = Segment::one("channel", "google_search").and("campaign", "generic").and("ad_group", "g").and("ad", "a");
        Source { folder: "segments".into(), result: Cow::Owned(result("segments", m, vec![decision(ad, Action::Pause)])) }
    }

    fn cohorts() -> Source<'static> {
        let m = vec![
            on(Metric::point(names::PURCHASES_OBSERVED, Unit::Purchases, 50.0), &[("channel", "youtube")]),
            on(Metric::interval(names::PURCHASES_PROJECTED, Unit::Purchases, 60.0, 55.0, 70.0, 0.9), &[("channel", "youtube")]),
            on(Metric::point(names::CAC, usd(), 833.0), &[("channel", "youtube")]),
        ];
        let d = vec![decision(Segment::one("channel", "youtube"), Action::Optimize)];
        Source { folder: "cohorts".into(), result: Cow::Owned(result("cohorts", m, d)) }
    }

    fn pacing() -> Source<'static> {
        let run = |v: f64| Metric::interval(names::RUN_RATE, usd(), v, v * 0.9, v * 1.1, 0.8);
        let m = vec![
            on(run(30_000.0), &[("channel", "google_search"), ("metric", "cost")]),
            on(run(10_000.0), &[("channel", "google_search"), ("campaign", "brand_search"), ("metric", "cost")]),
            on(run(20_000.0), &[("channel", "google_search"), ("campaign", "generic"), ("metric", "cost")]),
            on(run(8_000.0), &[("channel", "youtube"), ("metric", "cost")]),
            // Pacing's all-channel line, projected on its own, is 2% above the channels' sum.
            on(run(38_760.0), &[("channel", "all"), ("metric", "cost")]),
        ];
        Source { folder: "pacing".into(), result: Cow::Owned(result("pacing", m, vec![])) }
    }

    fn brand() -> Source<'static> {
        let icpa =
            Metric { ci_low: Some(29.0), ci_high: Some(121.0), level: Some(0.95), ..Metric::point(names::ICPA, usd(), 47.0) };
        let m = vec![icpa, Metric::point(names::INCREMENTAL_COST_TOTAL, usd(), 9_000.0)];
        let d = vec![decision(Segment::one("campaign", "brand_search"), Action::Keep)];
        Source { folder: "brand".into(), result: Cow::Owned(result("brand-test", m, d)) }
    }

    fn row<'a>(plan: &'a Plan, channel: &str, brand: bool) -> &'a Call {
        plan.calls.iter().find(|c| c.channel == channel && c.brand == brand).expect("row")
    }

    #[test]
    fn one_row_per_paid_channel_brand_apart_and_stakes_partition_the_run_rate() {
        let plan = reconcile(&[survey(), segments(), cohorts(), pacing(), brand()]).expect("reconciles");
        let labels: Vec<String> = plan.calls.iter().map(Call::label).collect();
        assert_eq!(labels, ["google_search", "google_search brand", "youtube"]);
        assert!((plan.total_stake - 38_760.0).abs() < 1e-6, "{}", plan.total_stake);
        assert!((row(&plan, "google_search", true).stake - 10_200.0).abs() < 1e-6);
        assert!((row(&plan, "google_search", false).stake - 20_400.0).abs() < 1e-6);
        assert!(plan.horizon.contains("run rate"), "{}", plan.horizon);
    }

    #[test]
    fn each_row_rests_on_the_best_evidence() {
        let plan = reconcile(&[survey(), segments(), cohorts(), pacing(), brand()]).expect("reconciles");
        // youtube: 1,000 blended customers and 60 - 50 = 10 purchases still to come for $50,000.
        let yt = row(&plan, "youtube", false).cac.clone().expect("cac");
        assert_eq!(yt.basis, Basis::BlendedProjected);
        assert!((yt.estimate - 50_000.0 / 1010.0).abs() < 1e-9, "{}", yt.estimate);
        // google_search without brand: half the click customers and a third of the spend are brand.
        let g = row(&plan, "google_search", false).cac.clone().expect("cac");
        assert_eq!(g.basis, Basis::Blended);
        assert!((g.estimate - 120_000.0 / 1500.0).abs() < 1e-9, "{}", g.estimate);
        let b = row(&plan, "google_search", true);
        assert_eq!(b.cac.as_ref().map(|c| (c.basis, c.estimate)), Some((Basis::Incremental, 47.0)));
        assert!(b.evidence[0].used && b.evidence[0].kind == "brand-test");
        // Cohorts said OPTIMIZE youtube; the plan scales it and says why.
        assert_eq!(row(&plan, "youtube", false).action, Action::Scale);
        assert!(
            plan.disagreements.iter().any(|d| d.starts_with("Cohorts says OPTIMIZE on youtube (cohort CAC $833)")),
            "{:?}",
            plan.disagreements
        );
        assert!(
            plan.disagreements.iter().any(|d| d.contains("youtube 1,000 customers, click data 100")),
            "{:?}",
            plan.disagreements
        );
    }

    #[test]
    fn brand_campaigns_without_a_test_wait_for_one() {
        let plan = reconcile(&[survey(), segments()]).expect("reconciles");
        let b = row(&plan, "google_search", true);
        assert_eq!((b.action, b.cac.is_none()), (Action::NeedsData, true));
        assert!(b.reason.contains("upshot brand-test design"), "{}", b.reason);
        // Without pacing the horizon is the survey's period, split by segmentation's spend share.
        assert!((plan.total_stake - 230_000.0).abs() < 1e-6);
        assert!((b.stake - 60_000.0).abs() < 1e-6);
    }

    #[test]
    fn a_brand_row_without_a_test_says_how_long_the_test_would_run() {
        let mut seg = segments();
        let metrics = &mut seg.result.to_mut().metrics;
        metrics.push(on(Metric::point(names::BRAND_TEST_DAYS_NEEDED, Unit::Days, 84.0), &[("channel", "google_search")]));
        metrics.push(on(Metric::point(names::BRAND_TEST_EFFECT, Unit::Customers, 4.2), &[("channel", "google_search")]));
        let plan = reconcile(&[survey(), seg]).expect("reconciles");
        let b = row(&plan, "google_search", true);
        assert!(b.reason.contains("a daily switchback of about 84 days"), "{}", b.reason);
        assert!(b.reason.contains("adds the 4.2 new customers a day"), "{}", b.reason);
        // Effect alone: no length of those simulated detects it.
        let mut seg = segments();
        seg.result
            .to_mut()
            .metrics
            .push(on(Metric::point(names::BRAND_TEST_EFFECT, Unit::Customers, 0.4), &[("channel", "google_search")]));
        let plan = reconcile(&[survey(), seg]).expect("reconciles");
        let b = row(&plan, "google_search", true);
        assert!(b.reason.contains("even a year-long daily switchback would not tell"), "{}", b.reason);
    }

    #[test]
    fn a_configured_factor_stands_in_for_a_missing_brand_test() {
        let mut seg = segments();
        seg.result.to_mut().economics.insert(
            "incrementality".into(),
            serde_json::json!([{ "campaigns": "brand_*", "factor": 0.5, "low": 0.3, "high": 0.7, "source": "geo test" }]),
        );
        let plan = reconcile(&[survey(), seg.clone()]).expect("reconciles");
        let b = row(&plan, "google_search", true);
        let cac = b.cac.clone().expect("a CAC from the factor");
        // $60,000 over 1,650 lag-projected click customers x 0.5.
        assert_eq!(cac.basis, Basis::ClickFactor);
        assert!((cac.estimate - 60_000.0 / (1650.0 * 0.5)).abs() < 1e-9, "{}", cac.estimate);
        assert!(cac.ci_high.expect("high") > 60_000.0 / (1650.0 * 0.3) * 0.95, "the factor's low end widens the interval");
        assert!(b.evidence[0].used && b.evidence[0].text.contains("geo test"), "{:?}", b.evidence);
        // A brand test, when there is one, comes first.
        let plan = reconcile(&[survey(), seg.clone(), brand()]).expect("reconciles");
        assert_eq!(row(&plan, "google_search", true).cac.as_ref().map(|c| c.basis), Some(Basis::Incremental));
        // A factor out of range is refused, naming the field.
        seg.result.to_mut().economics.insert(
            "incrementality".into(),
            serde_json::json!([{ "campaigns": "brand_*", "factor": 2.0, "low": 1.0, "high": 2.0 }]),
        );
        let e = reconcile(&[survey(), seg]).expect_err("out of range");
        assert!(e.to_string().contains("`economics.incrementality` entry `brand_*`"), "{e}");
    }

    #[test]
    fn without_a_survey_the_click_customers_with_their_lag_decide() {
        let plan = reconcile(&[segments()]).expect("reconciles");
        let g = row(&plan, "google_search", false).cac.clone().expect("cac");
        assert_eq!(g.basis, Basis::ClickProjected);
        assert!((g.estimate - 120_000.0 / 1650.0).abs() < 1e-9);
    }

    #[test]
    fn evidence_that_does_not_fit_is_named() {
        let e = reconcile(&[survey(), Source { folder: "survey-2".into(), ..survey() }]).expect_err("two surveys");
        assert!(e.to_string().starts_with("survey/result.json and survey-2/result.json are both `survey` results"), "{e}");
        assert!(e.to_string().contains("(not recorded; not recorded)"), "{e}");
        // Two surveys of disjoint periods: the latest is used and the earlier one is named.
        let dated = |folder: &str, start: &str, end: &str| {
            let mut s = Source { folder: folder.into(), ..survey() };
            s.result.to_mut().period = Some(upshot_result::Period { start: start.into(), end: end.into() });
            s
        };
        let plan =
            reconcile(&[dated("survey-2025", "2025-01-01", "2025-12-31"), dated("survey-2024", "2024-01-01", "2024-12-31")])
                .expect("disjoint periods reconcile");
        assert!(
            plan.notes.iter().any(|n| n.starts_with("survey-2024 (") && n.contains("the plan acts on the latest")),
            "{:?}",
            plan.notes
        );
        let e =
            reconcile(&[dated("a", "2025-01-01", "2025-06-30"), dated("b", "2025-06-01", "2025-12-31")]).expect_err("overlap");
        assert!(e.to_string().contains("2025-01-01 to 2025-06-30; 2025-06-01 to 2025-12-31"), "{e}");
        // A brand test of another time than the survey's.
        let mut old_test = brand();
        old_test.result.to_mut().period = Some(upshot_result::Period { start: "2024-09-01".into(), end: "2024-10-31".into() });
        let e = reconcile(&[dated("survey", "2025-01-01", "2025-12-31"), old_test.clone()]).expect_err("another time");
        assert!(e.to_string().contains("result.json: `period` is 2024-09-01 to 2024-10-31, which overlaps none"), "{e}");
        assert!(reconcile(&[dated("survey", "2024-01-01", "2024-12-31"), old_test]).is_ok());
        let mut eur = pacing();
        eur.result.to_mut().currency = "EUR".into();
        let e = reconcile(&[survey(), eur]).expect_err("two currencies");
        assert!(e.to_string().contains("pacing/result.json: `currency` is EUR"), "{e}");
        let mut bad = survey();
        bad.result.to_mut().economics.insert("target_cac".into(), serde_json::json!("cheap"));
        let e = reconcile(&[bad]).expect_err("bad target");
        assert!(e.to_string().contains("`economics.target_cac`"), "{e}");
        let mut other = brand();
        other.result.to_mut().decisions[0].subject = Segment::one("campaign", "shopping");
        let e = reconcile(&[survey(), other]).expect_err("another campaign");
        assert!(e.to_string().contains("brand/result.json: `decisions[0].subject.campaign` is `shopping`"), "{e}");
    }
}

//! The rows of the plan: which paid channels there are, each one's spend on the horizon split
//! into brand and non-brand campaigns, the CAC from the best evidence, and the call.

use std::collections::{BTreeMap, BTreeSet};

use upshot_result::Action;

use crate::decide::{self, Basis, LogCac, PLAN_LEVEL};
use crate::evidence::{Est, Folder};
use crate::{Cac, Call, words};

/// The horizon every stake is on, and each channel's spend there.
#[derive(Debug, Clone)]
pub(crate) struct Horizon {
    pub label: String,
    /// Channel -> its spend on the horizon.
    pub spend: BTreeMap<String, f64>,
}

/// The share of a channel's spend in its brand campaigns over the analysed period
/// (segmentation's campaign costs), else over the horizon (pacing's campaign lines).
pub(crate) fn period_brand_share(f: &Folder, channel: &str) -> f64 {
    let seg = f.segments.as_ref().and_then(|s| s.by_channel.get(channel));
    match seg {
        Some(s) if s.brand.cost + s.non_brand.cost > 0.0 => s.brand.cost / (s.brand.cost + s.non_brand.cost),
        _ => horizon_brand_share(f, channel).unwrap_or(0.0),
    }
}

/// The share of the channel's run-rate spend in brand campaigns, when pacing has campaign lines.
fn horizon_brand_share(f: &Folder, channel: &str) -> Option<f64> {
    let p = f.pacing.as_ref()?.by_channel.get(channel)?;
    let total = p.cost?.estimate;
    (total > 0.0).then(|| p.brand_cost.map(|b| (b / total).clamp(0.0, 1.0))).flatten()
}

/// The share of the channel's click customers that came through brand campaigns.
pub(crate) fn brand_click_share(f: &Folder, channel: &str) -> f64 {
    let seg = f.segments.as_ref().and_then(|s| s.by_channel.get(channel));
    match seg {
        Some(s) if s.brand.purchases + s.non_brand.purchases > 0.0 => {
            s.brand.purchases / (s.brand.purchases + s.non_brand.purchases)
        }
        _ => 0.0,
    }
}

/// The name pacing gives its all-channel lines.
const ALL_CHANNELS: &str = "all";

/// The paid channels of the folder: spend in the survey, segmentation or pacing.
fn paid_channels(f: &Folder) -> BTreeSet<String> {
    let mut out = spending_channels(f);
    out.remove(ALL_CHANNELS);
    out
}

fn spending_channels(f: &Folder) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(s) = &f.survey {
        out.extend(s.by_channel.iter().filter(|(_, c)| c.spend > 0.0).map(|(k, _)| k.clone()));
    }
    if let Some(s) = &f.segments {
        out.extend(s.by_channel.iter().filter(|(_, c)| c.brand.cost + c.non_brand.cost > 0.0).map(|(k, _)| k.clone()));
    }
    if let Some(p) = &f.pacing {
        out.extend(p.by_channel.iter().filter(|(_, c)| c.cost.is_some_and(|e| e.estimate > 0.0)).map(|(k, _)| k.clone()));
    }
    out
}

/// The horizon: this month at pacing's run rate when the folder has pacing, else the period the
/// survey (or segmentation) analysed.
pub(crate) fn horizon(f: &Folder) -> Horizon {
    let channels = paid_channels(f);
    let spend_of = |channel: &String| -> f64 {
        if let Some(p) = &f.pacing {
            return p.by_channel.get(channel).and_then(|c| c.cost).map_or(0.0, |e| e.estimate);
        }
        if let Some(s) = f.survey.as_ref().and_then(|s| s.by_channel.get(channel)).filter(|c| c.spend > 0.0) {
            return s.spend;
        }
        f.segments.as_ref().and_then(|s| s.by_channel.get(channel)).map_or(0.0, |c| c.brand.cost + c.non_brand.cost)
    };
    let mut spend: BTreeMap<String, f64> = channels.iter().map(|c| (c.clone(), spend_of(c))).collect();
    // Pacing projects its all-channel line on its own; the channels' shares of it are their own
    // lines' shares, so the stakes add up to the one month-end figure pacing states.
    let all = f.pacing.as_ref().and_then(|p| p.by_channel.get(ALL_CHANNELS)).and_then(|c| c.cost).map(|e| e.estimate);
    let sum: f64 = spend.values().sum();
    if let Some(all) = all.filter(|a| *a > 0.0 && sum > 0.0) {
        spend.values_mut().for_each(|v| *v *= all / sum);
    }
    let label = match (&f.pacing, &f.survey, &f.segments) {
        (Some(p), _, _) => format!("this month's spend at the current run rate ({})", p.experiment),
        (None, Some(s), _) => format!("the spend of the period {} analysed", s.experiment),
        (None, None, Some(s)) => format!("the spend of the period {} analysed", s.experiment),
        _ => "no spend in this folder".to_string(),
    };
    Horizon { label, spend }
}

/// A row's stake: its part of the channel's horizon spend (brand by pacing's campaign lines when
/// it has them, else by the analysed period's brand share).
fn stakes(f: &Folder, h: &Horizon, channel: &str) -> (f64, f64) {
    let total = h.spend.get(channel).copied().unwrap_or(0.0);
    let share = horizon_brand_share(f, channel).unwrap_or_else(|| period_brand_share(f, channel));
    (total * (1.0 - share), total * share)
}

fn scaled(e: &Est, by: f64) -> Est {
    Est { estimate: e.estimate * by, low: e.low.map(|v| v * by), high: e.high.map(|v| v * by), level: e.level }
}

/// The non-brand CAC: survey-blended (brand campaigns' click share taken out), projected by the
/// cohort engine when the folder has cohorts; else last click with segmentation's lag projection.
pub(crate) fn non_brand_cac(f: &Folder, channel: &str) -> Option<(LogCac, Basis, f64, f64)> {
    let survey = f.survey.as_ref().and_then(|s| s.by_channel.get(channel));
    if let Some((s, blended)) = survey.and_then(|s| s.blended.map(|b| (s, b))).filter(|(s, _)| s.spend > 0.0) {
        let customers = scaled(&blended, 1.0 - brand_click_share(f, channel));
        let spend = s.spend * (1.0 - period_brand_share(f, channel));
        let cohort = f.cohorts.as_ref().and_then(|c| c.by_channel.get(channel));
        let factor = cohort.and_then(|c| c.projected.and_then(|p| decide::projection_factor(customers.estimate, c.observed, &p)));
        let basis = if factor.is_some() { Basis::BlendedProjected } else { Basis::Blended };
        let n = customers.estimate * factor.map_or(1.0, |f| f.estimate);
        return LogCac::from_count(spend, &customers, factor.as_ref()).map(|c| (c, basis, spend, n));
    }
    let seg = f.segments.as_ref()?.by_channel.get(channel)?;
    let clicks = &seg.non_brand;
    LogCac::poisson(clicks.cost, clicks.projected).map(|c| (c, Basis::ClickProjected, clicks.cost, clicks.projected))
}

fn cac(c: &LogCac, basis: Basis, spend: f64, customers: Option<f64>) -> Cac {
    let (ci_low, ci_high) = c.interval(PLAN_LEVEL);
    Cac { basis, estimate: c.estimate, ci_low, ci_high, level: PLAN_LEVEL, spend, customers }
}

/// A row's call from its CAC against the target (NEEDS DATA without either), with its reason and
/// evidence.
fn row(f: &Folder, channel: &str, brand: bool, stake: f64, found: Option<(LogCac, Cac)>, probability: f64) -> Call {
    let target = f.economics.target(channel);
    let (action, confidence) = match (&found, target) {
        (Some((c, _)), Some(t)) => {
            let v = decide::call(c, t, probability);
            (v.action, v.confidence)
        }
        _ => (Action::NeedsData, 1.0),
    };
    let cac = found.map(|(_, c)| c);
    let mut call = Call {
        channel: channel.to_string(),
        brand,
        action,
        confidence,
        stake,
        cac,
        target,
        reason: String::new(),
        evidence: vec![],
    };
    let sizing = f.segments.as_ref().and_then(|s| s.by_channel.get(channel)).and_then(|s| s.brand_test);
    call.reason = words::reason(&call, &f.currency, probability, sizing);
    call.evidence = words::evidence(f, &call);
    call
}

fn non_brand_row(f: &Folder, channel: &str, stake: f64, probability: f64) -> Call {
    let found = non_brand_cac(f, channel).map(|(c, basis, spend, n)| (c, cac(&c, basis, spend, Some(n))));
    row(f, channel, false, stake, found, probability)
}

/// The factor that covers a channel's brand campaigns, if the economics configure one.
pub(crate) fn brand_factor<'a>(f: &'a Folder, channel: &str) -> Option<&'a upshot_result::Incrementality> {
    let seg = f.segments.as_ref()?.by_channel.get(channel)?;
    f.economics.factors.iter().find(|x| seg.brand_campaigns.iter().any(|c| x.matches(c)))
}

/// Brand campaigns: the on/off test's iCPA; without a test, a configured incrementality factor
/// times the lag-projected last-click customers (Poisson and the factor's interval combined).
fn brand_row(f: &Folder, channel: &str, stake: f64, probability: f64) -> Call {
    let spend = f.brand.as_ref().and_then(|(_, _, t)| t.cost).unwrap_or(0.0);
    let test =
        f.brand.as_ref().and_then(|(_, _, t)| LogCac::stated(&t.icpa)).map(|c| (c, cac(&c, Basis::Incremental, spend, None)));
    let factored = || {
        let factor = brand_factor(f, channel)?;
        let clicks = &f.segments.as_ref()?.by_channel.get(channel)?.brand;
        let n = clicks.projected;
        let z = upshot_stats::normal_quantile(0.5 + PLAN_LEVEL / 2.0);
        let sd = 1.0 / n.max(1.0).sqrt();
        let customers =
            Est { estimate: n, low: Some(n * (-z * sd).exp()), high: Some(n * (z * sd).exp()), level: Some(PLAN_LEVEL) };
        // The configured interval is read at the plan's level.
        let f = Est { estimate: factor.factor, low: Some(factor.low), high: Some(factor.high), level: Some(PLAN_LEVEL) };
        let c = LogCac::from_count(clicks.cost, &customers, Some(&f))?;
        Some((c, cac(&c, Basis::ClickFactor, clicks.cost, Some(n * factor.factor))))
    };
    let found = test.or_else(factored);
    row(f, channel, true, stake, found, probability)
}

/// Whether a channel has brand campaigns: spend in them in segmentation or pacing.
fn has_brand(f: &Folder, channel: &str) -> bool {
    period_brand_share(f, channel) > 0.0 || horizon_brand_share(f, channel).is_some_and(|s| s > 0.0)
}

/// Every row: a paid channel's non-brand campaigns and, when it has any, its brand campaigns.
pub(crate) fn calls(f: &Folder, h: &Horizon, probability: f64) -> Vec<Call> {
    let mut out = Vec::new();
    for channel in h.spend.keys() {
        let (non_brand, brand) = stakes(f, h, channel);
        out.push(non_brand_row(f, channel, non_brand, probability));
        if has_brand(f, channel) {
            out.push(brand_row(f, channel, brand, probability));
        }
    }
    out
}

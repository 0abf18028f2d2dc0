//! The plan's sentences: each row's reason and evidence, where analyses disagree, the notes and
//! the headline. Numbers come from the evidence and decide layers; nothing is computed here
//! beyond ratios for the text.

use upshot_result::Action;
use upshot_result::format::{count, level_text, money, number, percent, probability, range, with_interval};

use crate::decide::{Basis, DISAGREE_RATIO, PAUSE_MULTIPLE, PLAN_LEVEL};
use crate::evidence::{Est, Folder, OwnCall};
use crate::rows::{Horizon, brand_click_share, period_brand_share};
use crate::{Call, Evidence};

fn interval(e: &Est) -> Option<(f64, f64)> {
    match (e.low, e.high) {
        (Some(l), Some(h)) => Some((l, h)),
        _ => None,
    }
}

fn stated(e: &Est, fmt: impl Fn(f64) -> String) -> String {
    let level = e.level.unwrap_or(PLAN_LEVEL);
    match (e.low, e.high) {
        (Some(l), None) => format!("{} ({} interval from {}, unbounded above)", fmt(e.estimate), level_text(level), fmt(l)),
        _ => with_interval(e.estimate, interval(e), level, fmt),
    }
}

fn own(call: Option<&OwnCall>) -> String {
    call.map_or_else(String::new, |c| format!("; its own call: {}", c.action.label()))
}

/// The row's CAC as a cell: `$63 (survey-blended, cohort-projected) $55 to $72`.
pub fn cac_text(call: &Call, currency: &str) -> String {
    let usd = |v: f64| money(v, currency);
    match &call.cac {
        Some(c) => {
            let ends = match (c.ci_low, c.ci_high) {
                (Some(l), Some(h)) => format!(", {} {}", level_text(c.level), range(Some((l, h)), usd)),
                (Some(l), None) => format!(", {} from {}, unbounded above", level_text(c.level), usd(l)),
                _ => String::new(),
            };
            format!("{} ({}{ends})", usd(c.estimate), c.basis.label())
        }
        None => "none".into(),
    }
}

/// The one-sentence reason of a row.
/// `sizing`: the brand test segments sized for the row's channel (days at 80% power, `None` past
/// the longest simulated; the new customers a day to detect).
pub(crate) fn reason(call: &Call, currency: &str, p: f64, sizing: Option<(Option<f64>, f64)>) -> String {
    let usd = |v: f64| money(v, currency);
    let (Some(_), Some(target)) = (&call.cac, call.target) else {
        return if call.brand && call.cac.is_none() && call.target.is_some() {
            let how_long = match sizing {
                Some((Some(days), effect)) => format!(
                    ": a daily switchback of about {} days tells whether brand adds the {} new customers a day its spend needs to meet the target, with 80% power (segments' sizing on the window's daily new customers)",
                    count(days),
                    number(effect, 1)
                ),
                Some((None, effect)) => format!(
                    ": even a year-long daily switchback would not tell whether brand adds the {} new customers a day its spend needs, with 80% power; a region design is needed",
                    number(effect, 1)
                ),
                None => String::new(),
            };
            format!(
                "no on/off test of the brand campaigns in this folder: part of their attributed buyers would come back through organic search when they are off, so attributed CAC cannot scale them; plan a test with `upshot brand-test design`{how_long}"
            )
        } else if call.target.is_none() {
            "no `target_cac` in economics.toml or the configs to judge the CAC against".into()
        } else {
            "no survey or segmentation result with this channel's customers, so no CAC".into()
        };
    };
    let vs = format!("{} vs target {}", cac_text(call, currency), usd(target));
    let why = match call.action {
        Action::Scale => format!("P(CAC <= target) {}: scale", probability(call.confidence)),
        Action::Pause => {
            format!("P(CAC > {PAUSE_MULTIPLE} x target) {}: pause", probability(call.confidence))
        }
        Action::Optimize => format!("P(CAC > target) {}: optimize before adding budget", probability(call.confidence)),
        _ => format!("the interval straddles the target (a call needs probability {p}): keep as is"),
    };
    format!("{vs}; {why}")
}

fn survey_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    let Some(s) = &f.survey else { return };
    let Some(row) = s.by_channel.get(&call.channel) else { return };
    let Some(blended) = row.blended else { return };
    let usd = |v: f64| money(v, &f.currency);
    let used = matches!(call.cac.as_ref().map(|c| c.basis), Some(Basis::Blended | Basis::BlendedProjected));
    let share = brand_click_share(f, &call.channel);
    let text = if call.brand {
        format!(
            "survey: {} of the channel's {} blended customers by the brand campaigns' click share ({}); not incremental",
            count(blended.estimate * share),
            count(blended.estimate),
            percent(share)
        )
    } else {
        let cac = row.cac.map_or_else(|| "no blended CAC".to_string(), |c| format!("blended CAC {}", stated(&c, usd)));
        let split = if share > 0.0 {
            format!(" ({} of them by non-brand campaigns' click share)", percent(1.0 - share))
        } else {
            String::new()
        };
        let method = if row.model {
            "survey (measurement model: wrong answers and response by true origin corrected)"
        } else {
            "survey (answers taken at face value)"
        };
        format!(
            "{method}: {} blended customers{split} vs {} by last click; {cac}{}",
            stated(&blended, count),
            count(row.click),
            own(row.call.as_ref())
        )
    };
    out.push(Evidence { folder: s.folder.clone(), kind: "survey".into(), text, used: used && !call.brand });
}

fn cohort_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    let Some(c) = &f.cohorts else { return };
    let Some(row) = c.by_channel.get(&call.channel) else { return };
    if call.brand {
        return;
    }
    let usd = |v: f64| money(v, &f.currency);
    let projected = row.projected.map_or_else(String::new, |p| {
        format!(", {} projected ({} still to come)", stated(&p, count), count((p.estimate - row.observed).max(0.0)))
    });
    let cac = match (row.cac, row.cac_max) {
        (Some(cac), Some(max)) => {
            format!("; cohort CAC {} (click customers, all spend) vs LTV-based maximum {}", usd(cac.estimate), usd(max.estimate))
        }
        (Some(cac), None) => format!("; cohort CAC {} (click customers, all spend)", usd(cac.estimate)),
        _ => String::new(),
    };
    let text = format!(
        "cohorts: {} lead-linked purchases observed{projected}, {} new customers without a lead{cac}{}",
        count(row.observed),
        count(row.direct),
        own(row.call.as_ref())
    );
    let used = call.cac.as_ref().is_some_and(|c| c.basis == Basis::BlendedProjected);
    out.push(Evidence { folder: c.folder.clone(), kind: "cohorts".into(), text, used });
}

fn ad_calls(ads: &std::collections::BTreeMap<Action, (usize, f64)>, currency: &str) -> String {
    let parts: Vec<String> =
        ads.iter().map(|(a, (n, stake))| format!("{n} {} ({})", a.label(), money(*stake, currency))).collect();
    if parts.is_empty() { String::new() } else { format!("; per-ad calls on its page: {}", parts.join(", ")) }
}

fn segment_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    let Some(s) = &f.segments else { return };
    let Some(row) = s.by_channel.get(&call.channel) else { return };
    let clicks = if call.brand { &row.brand } else { &row.non_brand };
    if clicks.cost <= 0.0 && clicks.purchases <= 0.0 {
        return;
    }
    let usd = |v: f64| money(v, &f.currency);
    let which = if call.brand {
        "brand campaigns"
    } else if row.brand.cost > 0.0 {
        "non-brand campaigns"
    } else {
        "all campaigns"
    };
    let cac = if clicks.purchases > 0.0 { usd(clicks.cost / clicks.purchases) } else { "undefined".into() };
    let caveat = if call.brand { ", not incremental," } else { "" };
    let text = format!(
        "segments: {which} click CAC {cac}{caveat} on {} last-click customers ({} with the lag projection) for {}{}",
        count(clicks.purchases),
        count(clicks.projected),
        usd(clicks.cost),
        if call.brand { String::new() } else { ad_calls(&row.ads, &f.currency) }
    );
    let used = call.cac.as_ref().is_some_and(|c| matches!(c.basis, Basis::ClickProjected | Basis::ClickFactor));
    out.push(Evidence { folder: s.folder.clone(), kind: "segments".into(), text, used });
}

fn pacing_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    let Some(p) = &f.pacing else { return };
    let Some(row) = p.by_channel.get(&call.channel) else { return };
    let usd = |v: f64| money(v, &f.currency);
    let text = if call.brand {
        match row.brand_cost {
            Some(b) => format!("pacing: brand campaigns' spend run rate {} this month", usd(b)),
            None => return,
        }
    } else {
        let cost = row.cost.map_or_else(String::new, |c| format!("channel spend run rate {} this month", stated(&c, usd)));
        let completion = row.completion.as_ref().map_or_else(String::new, |(metric, e)| {
            format!("; {}s on course for {} of plan", metric.replace('_', " "), stated(e, percent))
        });
        format!("pacing: {cost}{completion}{}", own(row.call.as_ref()))
    };
    out.push(Evidence { folder: p.folder.clone(), kind: "pacing".into(), text, used: false });
}

fn factor_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    let (Some(factor), Some(s)) = (crate::rows::brand_factor(f, &call.channel), &f.segments) else { return };
    if !call.brand {
        return;
    }
    let text = format!(
        "incrementality factor {} ({} to {}) for campaigns `{}`, {}: incremental customers = last-click customers x factor",
        factor.factor, factor.low, factor.high, factor.campaigns, factor.source
    );
    let used = call.cac.as_ref().is_some_and(|c| c.basis == Basis::ClickFactor);
    out.push(Evidence { folder: s.folder.clone(), kind: "economics".into(), text, used });
}

fn brand_evidence(f: &Folder, call: &Call, out: &mut Vec<Evidence>) {
    factor_evidence(f, call, out);
    let Some((folder, experiment, t)) = &f.brand else { return };
    if !call.brand {
        return;
    }
    let usd = |v: f64| money(v, &f.currency);
    let per_unit = t
        .per_unit
        .map_or_else(String::new, |e| format!("{} incremental purchases per on-unit; ", stated(&e, |v| format!("{v:+.2}"))));
    let cannibal = t
        .cannibalization
        .map_or_else(String::new, |c| format!("; {} of paid-brand buyers come back organically when off", percent(c)));
    let text = format!(
        "brand test {experiment} (purchases counted on the day paid): {per_unit}iCPA {}{cannibal}{}",
        stated(&t.icpa, usd),
        own(t.call.as_ref())
    );
    out.push(Evidence { folder: folder.clone(), kind: "brand-test".into(), text, used: call.cac.is_some() });
}

/// Every analysis's number on a row, the evidence the CAC is built from first (experiments,
/// survey, cohorts, click), then the rest in the same order.
pub(crate) fn evidence(f: &Folder, call: &Call) -> Vec<Evidence> {
    let mut out = Vec::new();
    brand_evidence(f, call, &mut out);
    survey_evidence(f, call, &mut out);
    cohort_evidence(f, call, &mut out);
    segment_evidence(f, call, &mut out);
    pacing_evidence(f, call, &mut out);
    out.sort_by_key(|e| !e.used);
    out
}

/// The channels where the survey and click data differ by [`DISAGREE_RATIO`] or more, in one
/// sentence.
fn survey_vs_click(f: &Folder, calls: &[Call]) -> Option<String> {
    let survey = f.survey.as_ref()?;
    let mut parts = Vec::new();
    for call in calls.iter().filter(|c| !c.brand) {
        let Some(s) = survey.by_channel.get(&call.channel) else { continue };
        let Some(blended) = s.blended.map(|b| b.estimate) else { continue };
        let ratio = if s.click > 0.0 { blended / s.click } else { f64::INFINITY };
        if ratio < DISAGREE_RATIO && ratio > 1.0 / DISAGREE_RATIO {
            continue;
        }
        let agreement = s.agreement.map_or_else(String::new, |a| {
            format!("; {} of its answers name the click channel where there is one", percent(a.estimate))
        });
        parts.push(format!("{} {} customers, click data {}{agreement}", call.channel, count(blended), count(s.click)));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "The survey and click data disagree: {}. The calls use the survey, because answers reach buyers that clicks never see (views, word of mouth, other devices), and the agreement where both exist says the answers are mostly right.",
            parts.join("; ")
        )
    })
}

/// Channels, each with the other analysis's call and a number, where that call is not the plan's.
type Dissent = Vec<(String, Action, String)>;

fn dissent_text(dissent: &Dissent) -> String {
    let mut by_action: Vec<(Action, Vec<String>)> = Vec::new();
    for (channel, action, number) in dissent {
        let name = if number.is_empty() { channel.clone() } else { format!("{channel} ({number})") };
        match by_action.iter_mut().find(|(a, _)| a == action) {
            Some((_, names)) => names.push(name),
            None => by_action.push((*action, vec![name])),
        }
    }
    by_action.iter().map(|(a, names)| format!("{} on {}", a.label(), joined(names))).collect::<Vec<_>>().join(", ")
}

fn dissents(f: &Folder, calls: &[Call]) -> (Dissent, Dissent, Dissent) {
    let usd = |v: f64| money(v, &f.currency);
    let (mut survey, mut cohorts, mut pacing) = (vec![], vec![], vec![]);
    for call in calls.iter().filter(|c| !c.brand) {
        let ch = &call.channel;
        let s = f.survey.as_ref().and_then(|s| s.by_channel.get(ch));
        if let Some(a) = differs(s.and_then(|s| s.call.as_ref()), call) {
            survey.push((ch.clone(), a, format!("the plan: {}", call.action.label())));
        }
        let c = f.cohorts.as_ref().and_then(|c| c.by_channel.get(ch));
        if let (Some(a), Some(row)) = (differs(c.and_then(|c| c.call.as_ref()), call), c) {
            cohorts.push((ch.clone(), a, row.cac.map_or_else(String::new, |x| format!("cohort CAC {}", usd(x.estimate)))));
        }
        let p = f.pacing.as_ref().and_then(|p| p.by_channel.get(ch));
        if let Some(a) = differs(p.and_then(|p| p.call.as_ref()), call) {
            pacing.push((ch.clone(), a, String::new()));
        }
    }
    (survey, cohorts, pacing)
}

/// Where analyses disagree, and which one the calls follow: one sentence per analysis.
pub(crate) fn disagreements(f: &Folder, calls: &[Call]) -> Vec<String> {
    let mut out: Vec<String> = survey_vs_click(f, calls).into_iter().collect();
    let (survey, cohorts, pacing) = dissents(f, calls);
    if !survey.is_empty() {
        out.push(format!(
            "Survey attribution says {}: the plan takes brand campaigns out of a channel (their buyers need an on/off test's incremental CAC), adds the purchases still to come that the cohort engine projects, and judges at the folder's decision probability.",
            dissent_text(&survey)
        ));
    }
    if !cohorts.is_empty() {
        out.push(format!(
            "Cohorts says {}: the plan does not follow it, because cohort CAC counts a channel's customers by click (its leads' purchases, projected, and its buyers without a lead) over all of its spend, brand campaigns included, and none of the buyers the survey re-attributes; its projection of purchases still to come is used.",
            dissent_text(&cohorts)
        ));
    }
    if !pacing.is_empty() {
        out.push(format!(
            "Pacing says {}: it judges this month against the plan's volumes and cost per purchase, not the target CAC, so the plan lists it as evidence.",
            dissent_text(&pacing)
        ));
    }
    for call in calls.iter().filter(|c| c.brand) {
        if let Some(a) = f.brand.as_ref().and_then(|(_, _, t)| differs(t.call.as_ref(), call)) {
            out.push(format!(
                "The brand test says {}, the plan {} {}: the plan judges its iCPA against the target CAC, the test against break-even revenue at its own margin.",
                a.label(),
                call.action.label(),
                call.label()
            ));
        }
    }
    out
}

fn differs(own: Option<&OwnCall>, call: &Call) -> Option<Action> {
    own.map(|o| o.action).filter(|a| *a != call.action)
}

/// How the plan was put together.
pub(crate) fn notes(f: &Folder, h: &Horizon) -> Vec<String> {
    let mut out = vec![format!(
        "Money at stake: {}; a channel's brand and non-brand rows split its spend, so the stakes add up to that spend, each dollar once.",
        h.label
    )];
    out.extend(f.superseded.iter().cloned());
    if f.survey.is_some() {
        for channel in h.spend.keys() {
            let share = brand_click_share(f, channel);
            if share > 0.0 {
                out.push(format!(
                    "The survey cannot tell brand from generic search: {channel}'s blended customers are split by the click campaign (brand campaigns carry {} of its last-click customers and {} of its spend).",
                    percent(share),
                    percent(period_brand_share(f, channel))
                ));
            }
        }
        let model = f.survey.as_ref().is_some_and(|s| s.by_channel.values().any(|r| r.model));
        out.push(if model {
            "The survey numbers are its measurement model's: wrong answers and response that depends on the true origin are corrected, and the intervals carry that estimation (docs/survey.md).".into()
        } else {
            "The survey numbers take every answer as the truth, non-response reweighted by the click channel: with wrong answers or response that depends on the true origin they are biased (`extrapolation = \"model\"` corrects both).".into()
        });
    }
    if f.cohorts.is_none() && f.survey.is_some() {
        out.push("No cohorts result in this folder: purchases still to come are not counted, so CACs are of customers who already paid.".into());
    }
    if f.brand.is_some() {
        out.push("The brand test counts purchases on the day they are paid: with a deal cycle, brand clicks that pay later are missed and its iCPA overstates the cost.".into());
    }
    out.push(format!(
        "Intervals are at {}, each part's interval combined on the log scale; SCALE, OPTIMIZE and PAUSE need probability {} (`decision_probability`).",
        level_text(PLAN_LEVEL),
        f.economics.decision_probability.unwrap_or(crate::DEFAULT_PROBABILITY)
    ));
    out
}

fn joined(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The calls in one sentence: `Scale youtube and meta; optimize influencers; ...`.
pub(crate) fn headline(calls: &[Call], total: f64, currency: &str) -> String {
    let verbs = [
        (Action::Scale, "scale"),
        (Action::Pause, "pause"),
        (Action::Cut, "cut"),
        (Action::Optimize, "optimize"),
        (Action::Keep, "keep"),
        (Action::NeedsData, "get data on"),
    ];
    let parts: Vec<String> = verbs
        .iter()
        .filter_map(|(action, verb)| {
            let names: Vec<String> = calls.iter().filter(|c| c.action == *action).map(Call::label).collect();
            (!names.is_empty()).then(|| format!("{verb} {}", joined(&names)))
        })
        .collect();
    if parts.is_empty() {
        return "No paid channel in this folder's results".into();
    }
    let mut text = parts.join("; ");
    text[..1].make_ascii_uppercase();
    format!("{text}: {} at stake", money(total, currency))
}

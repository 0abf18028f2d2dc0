//! From the shrunk hierarchy to metrics, decisions, tables and charts.

use std::collections::BTreeMap;

use rayon::prelude::*;

use upshot_result::format::{count, level_text, money, number, percent, probability, with_interval};
use upshot_result::{
    Action, Analysis, Cell, Chart, ChartKind, Decision, Format, Metric, Segment as Seg, Series, Table, Unit, names,
};

use crate::Params;
use crate::decide::Verdict;
use crate::model::{AdDecision, BRAND_TEST_LENGTHS, BrandSizing, Computed, LEVELS, Segment};

/// Ads drawn in the CAC chart.
const CHART_ADS: usize = 30;
/// Campaigns drawn in the decisions chart.
const CHART_CAMPAIGNS: usize = 12;

fn subject(keys: &[String]) -> Seg {
    LEVELS.iter().zip(keys).fold(Seg::all(), |s, (k, v)| s.and(k, v))
}

fn label(keys: &[String]) -> String {
    keys.join(" / ")
}

/// CAC = cost / (clicks x p) at the posterior mean, with the interval from the rate's interval.
fn cac(s: &Segment) -> Option<(f64, f64, f64)> {
    let m = &s.measures;
    if m.clicks <= 0.0 || m.cost <= 0.0 {
        return None;
    }
    let (lo, hi) = s.interval;
    let per = |p: f64| if p > 0.0 { m.cost / (m.clicks * p) } else { f64::INFINITY };
    Some((per(s.posterior.mean()), per(hi), per(lo)))
}

/// Projected purchases at the posterior mean rate, with the ends at the rate's interval ends.
fn projected_interval(s: &Segment) -> (f64, f64, f64) {
    let (lo, hi) = s.interval;
    (s.projected_purchases(s.posterior.mean()), s.projected_purchases(lo), s.projected_purchases(hi))
}

fn metrics_of(s: &Segment, currency: &str, level: f64, out: &mut Vec<Metric>) {
    let seg = subject(&s.keys);
    let m = &s.measures;
    let push = |out: &mut Vec<Metric>, metric: Metric| out.push(metric.with_segment(seg.clone()));
    push(out, Metric::point(names::COST, Unit::money(currency), m.cost));
    push(out, Metric::point(names::PURCHASES, Unit::Purchases, m.purchases));
    let (p, lo, hi) = projected_interval(s);
    push(out, Metric::interval(names::PURCHASES_PROJECTED, Unit::Purchases, p, lo, hi, level));
    if m.purchases > 0.0 && m.cost > 0.0 {
        push(out, Metric::point(names::CAC, Unit::money(currency), m.cost / m.purchases));
    }
    if let Some((c, lo, hi)) = cac(s) {
        if hi.is_finite() && hi < 100.0 * c {
            push(out, Metric::interval(names::CAC_SHRUNK, Unit::money(currency), c, lo, hi, level));
        } else {
            push(out, Metric::point(names::CAC_SHRUNK, Unit::money(currency), c));
        }
    }
    let (lo, hi) = s.interval;
    push(out, Metric::interval(names::CONVERSION_RATE_SHRUNK, Unit::Share, s.posterior.mean(), lo, hi, level));
}

fn action(v: &Verdict) -> Action {
    match v {
        Verdict::Scale => Action::Scale,
        Verdict::Pause => Action::Pause,
        Verdict::Optimize => Action::Optimize,
        Verdict::NeedsData(_) | Verdict::NeedsTest => Action::NeedsData,
    }
}

/// "1 more click", "2,795 more clicks" (three decimals on the odds beside it: 0.896 must not read as 0.90).
fn more_clicks(more: f64) -> String {
    let n = more.ceil().max(1.0);
    if n == 1.0 { "1 more click".into() } else { format!("{} more clicks", count(n)) }
}

/// The brand test a channel's brand ads wait for, in words.
fn brand_test_text(sizing: Option<&BrandSizing>, currency: &str) -> String {
    let Some(b) = sizing else { return "(`upshot brand-test design`)".into() };
    let effect = format!(
        "the {} new customers a day its spend of {} a day needs to meet the target",
        number(b.effect, 1),
        money(b.spend_per_day, currency)
    );
    match b.days {
        Some(days) => format!(
            "(`upshot brand-test design`): a daily on/off switchback of about {days} days tells whether brand adds {effect}, with 80% power (simulated on this window's daily new customers)"
        ),
        None => format!(
            "(`upshot brand-test design`): even a {}-day daily switchback would not tell whether brand adds {effect} with 80% power; a region design or a longer test is needed",
            BRAND_TEST_LENGTHS[BRAND_TEST_LENGTHS.len() - 1]
        ),
    }
}

fn decision(d: &AdDecision, s: &Segment, params: &Params, currency: &str, brand_tests: &[BrandSizing]) -> Decision {
    let (c, lo, hi) = cac(s).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
    let m = &s.measures;
    let interval = if hi.is_finite() && hi < 100.0 * c {
        with_interval(c, Some((lo, hi)), params.level, |v| money(v, currency))
    } else {
        format!("{} (upper end unbounded)", money(c, currency))
    };
    let observed = if m.purchases > 0.0 { money(m.cost / m.purchases, currency) } else { "none (no purchase yet)".into() };
    let base = format!(
        "shrunk CAC {interval} vs target {}; observed CAC {observed} from {} purchases so far (more to come from recent clicks) in {} clicks for {}",
        money(d.target, currency),
        count(m.purchases),
        count(m.clicks),
        money(m.cost, currency)
    );
    let (confidence, why) = match d.verdict {
        Verdict::Scale => {
            (d.odds.p_within, format!("P(CAC <= target) {}, q-value {:.3}: scale", probability(d.odds.p_within), d.q))
        }
        Verdict::Pause => {
            (d.odds.p_above, format!("P(CAC > {} x target) {}: pause", params.pause_multiple, probability(d.odds.p_above)))
        }
        Verdict::Optimize => (
            1.0 - d.odds.p_within - d.odds.p_above,
            format!(
                "CAC most likely between target and {} x target (P(CAC <= target) {}): optimize",
                params.pause_multiple,
                probability(d.odds.p_within)
            ),
        ),
        Verdict::NeedsData(more) if d.odds.p_above > d.odds.p_within => (
            1.0 - d.odds.p_above,
            format!(
                "P(CAC > {} x target) {}: about {} to confirm a pause at this rate",
                params.pause_multiple,
                probability(d.odds.p_above),
                more_clicks(more)
            ),
        ),
        // The rule, not the posterior, makes this call: without incrementality evidence attributed
        // CAC cannot decide a brand ad, whatever its P(CAC <= target); 1 - P would read as "0% sure".
        Verdict::NeedsTest => (
            1.0,
            format!(
                "P(CAC <= target) {} by attribution, but a brand campaign's attributed buyers include those who would have come anyway: scale only on an on/off test's incremental CAC {}",
                probability(d.odds.p_within),
                brand_test_text(brand_tests.iter().find(|b| b.channel == s.keys[0]), currency)
            ),
        ),
        Verdict::NeedsData(more) => (
            1.0 - d.odds.p_within,
            format!(
                "P(CAC <= target) {}: about {} to confirm a scale at this rate",
                probability(d.odds.p_within),
                more_clicks(more)
            ),
        ),
    };
    let incremental = d.incrementality.map(|i| &params.incrementality[i]).map_or_else(String::new, |f| {
        format!(
            "; judged on incremental CAC = attributed CAC / {} ({} to {}, {}, campaigns `{}`), across the factor's interval",
            number(f.factor, 2),
            number(f.low, 2),
            number(f.high, 2),
            f.source,
            f.campaigns
        )
    });
    Decision {
        subject: subject(&s.keys),
        action: action(&d.verdict),
        confidence: confidence.clamp(0.0, 1.0),
        reason: format!("{base}{incremental}; {why}"),
        stake: Some(m.cost),
    }
}

/// The page's lead table: per channel, spend, purchases (observed and projected), CAC and shrunk
/// CAC with its interval, and how its ads were called.
fn overview(c: &Computed, params: &Params) -> Table {
    let mut table = Table::new(
        "overview",
        &format!("By channel: CAC and the calls on its ads ({} intervals)", level_text(params.level)),
        &[
            ("channel", Format::Text),
            ("cost", Format::Money),
            ("clicks", Format::Count),
            ("purchases", Format::Count),
            ("purchases_projected", Format::Count),
            ("cac", Format::Money),
            ("cac_shrunk", Format::Money),
            ("cac_shrunk_low", Format::Money),
            ("cac_shrunk_high", Format::Money),
            ("ads", Format::Count),
            ("scale", Format::Count),
            ("optimize", Format::Count),
            ("pause", Format::Count),
            ("needs_data", Format::Count),
        ],
    )
    .interval("cac_shrunk", "cac_shrunk_low", "cac_shrunk_high")
    .lead();
    let ads = &c.levels[LEVELS.len() - 1];
    for channel in &c.levels[0] {
        let m = &channel.measures;
        let shrunk = cac(channel);
        let of_channel = |d: &&AdDecision| ads[d.index].keys[0] == channel.keys[0];
        let calls = |a: Action| c.decisions.iter().filter(of_channel).filter(|d| action(&d.verdict) == a).count() as u64;
        table.push(vec![
            channel.keys[0].as_str().into(),
            m.cost.into(),
            m.clicks.into(),
            m.purchases.into(),
            channel.projected_purchases(channel.posterior.mean()).into(),
            (m.purchases > 0.0 && m.cost > 0.0).then(|| m.cost / m.purchases).into(),
            shrunk.map(|s| s.0).into(),
            shrunk.map(|s| s.1).into(),
            shrunk.map(|s| s.2).into(),
            (ads.iter().filter(|a| a.keys[0] == channel.keys[0]).count() as u64).into(),
            calls(Action::Scale).into(),
            calls(Action::Optimize).into(),
            calls(Action::Pause).into(),
            calls(Action::NeedsData).into(),
        ]);
    }
    table
}

fn tables(c: &Computed, params: &Params) -> Vec<Table> {
    let mut drill = Table::new(
        "drilldown",
        &format!(
            "Channel -> campaign -> ad group -> ad: cost, funnel, CAC and shrunk CAC ({:.0}% intervals); parents are exact sums",
            params.level * 100.0
        ),
        &[
            ("level", Format::Text),
            ("channel", Format::Text),
            ("campaign", Format::Text),
            ("ad_group", Format::Text),
            ("ad", Format::Text),
            ("cost", Format::Money),
            ("impressions", Format::Count),
            ("clicks", Format::Count),
            ("leads", Format::Count),
            ("target_leads", Format::Count),
            ("calls", Format::Count),
            ("proposals", Format::Count),
            ("negotiations", Format::Count),
            ("purchases", Format::Count),
            ("purchases_projected", Format::Number),
            ("revenue", Format::Money),
            ("cpc", Format::Money),
            ("cost_per_lead", Format::Money),
            ("cost_per_target_lead", Format::Money),
            ("click_to_lead", Format::Percent),
            ("lead_to_purchase", Format::Percent),
            ("cac", Format::Money),
            ("cac_shrunk", Format::Money),
            ("cac_shrunk_low", Format::Money),
            ("cac_shrunk_high", Format::Money),
            ("conversion_rate_shrunk", Format::Percent),
            ("romi", Format::Percent),
        ],
    );
    drill.in_summary = false;
    let div = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    for level in &c.levels {
        for s in level {
            let m = &s.measures;
            let mut keys: Vec<Cell> = (0..LEVELS.len()).map(|i| Cell::from(s.keys.get(i).cloned().unwrap_or_default())).collect();
            let shrunk = cac(s);
            let mut row = vec![Cell::from(LEVELS[s.level])];
            row.append(&mut keys);
            row.extend([
                Cell::from(m.cost),
                m.impressions.into(),
                m.clicks.into(),
                m.leads.into(),
                m.stages[0].into(),
                m.stages[1].into(),
                m.stages[2].into(),
                m.stages[3].into(),
                m.purchases.into(),
                s.projected_purchases(s.posterior.mean()).into(),
                m.revenue.into(),
                div(m.cost, m.clicks).into(),
                div(m.cost, m.leads).into(),
                div(m.cost, m.stages[0]).into(),
                div(m.leads, m.clicks).into(),
                div(m.purchases, m.leads).into(),
                div(m.cost, m.purchases).into(),
                shrunk.map(|x| x.0).into(),
                shrunk.map(|x| x.1).into(),
                shrunk.map(|x| x.2).filter(|v| v.is_finite()).into(),
                s.posterior.mean().into(),
                div(m.revenue - m.cost, m.cost).into(),
            ]);
            drill.push(row);
        }
    }
    let ads = &c.levels[LEVELS.len() - 1];
    let mut decided = Table::new(
        "ads",
        "Decision per ad: probabilities, q-value, clicks still needed, and what the naive rule (observed CAC < target) would say",
        &[
            ("channel", Format::Text),
            ("campaign", Format::Text),
            ("ad_group", Format::Text),
            ("ad", Format::Text),
            ("decision", Format::Text),
            ("p_cac_within_target", Format::Percent),
            ("p_cac_above_pause", Format::Percent),
            ("q_value", Format::Number),
            ("clicks_needed", Format::Count),
            ("naive_pick", Format::Text),
            ("target_cac", Format::Money),
            ("cost", Format::Money),
        ],
    );
    decided.in_summary = false;
    for d in &c.decisions {
        let s = &ads[d.index];
        let mut row: Vec<Cell> = s.keys.iter().map(|k| Cell::from(k.as_str())).collect();
        row.extend([
            Cell::from(action(&d.verdict).label()),
            d.odds.p_within.into(),
            d.odds.p_above.into(),
            d.q.into(),
            match d.verdict {
                Verdict::NeedsData(n) => Cell::from(n.ceil()),
                _ => Cell::Empty,
            },
            (if d.naive { "yes" } else { "" }).into(),
            d.target.into(),
            s.measures.cost.into(),
        ]);
        decided.push(row);
    }
    let naive = c.decisions.iter().filter(|d| d.naive).count();
    let survive = c.decisions.iter().filter(|d| d.naive && d.verdict == Verdict::Scale).count();
    let scaled = c.decisions.iter().filter(|d| d.verdict == Verdict::Scale).count();
    let mut comparison = Table::new(
        "naive_rule",
        "Winners by the naive rule (observed CAC < target) and by upshot (the Bayesian FDR set)",
        &[("rule", Format::Text), ("ads_picked", Format::Count), ("of_them_scaled_by_upshot", Format::Count)],
    );
    comparison.push(vec![Cell::from("naive: observed CAC < target"), (naive as u64).into(), (survive as u64).into()]);
    comparison.push(vec![Cell::from("upshot: scale"), (scaled as u64).into(), (scaled as u64).into()]);
    let mut concentrations = Table::new(
        "concentrations",
        "How alike siblings are, per level and group (a channel, its brand campaigns apart): the fitted beta concentration; groups of fewer than 5 nodes take the level's pooled value",
        &[
            ("level", Format::Text),
            ("group", Format::Text),
            ("nodes", Format::Count),
            ("concentration", Format::Number),
            ("pooled", Format::Text),
        ],
    );
    concentrations.in_summary = false;
    for (depth, ks) in c.concentrations.iter().enumerate() {
        for (name, k) in ks {
            concentrations.push(vec![
                Cell::from(LEVELS[depth]),
                Cell::from(name.as_str()),
                (k.units as u64).into(),
                Cell::Num(k.kappa),
                Cell::from(if k.pooled { "yes" } else { "no" }),
            ]);
        }
    }
    let mut unmatched = Table::new(
        "unmatched",
        "Leads and purchases without spend, and purchases without cost: reported, not decided",
        &[("keys", Format::Text), ("leads", Format::Count), ("purchases", Format::Count), ("why", Format::Text)],
    );
    unmatched.in_summary = false;
    for (keys, leads, purchases) in &c.leads_without_spend {
        unmatched.push(vec![Cell::from(label(keys)), (*leads).into(), (*purchases).into(), "no spend row in the window".into()]);
    }
    for (keys, purchases) in &c.free_conversions {
        unmatched.push(vec![Cell::from(label(keys)), Cell::Empty, (*purchases).into(), "purchases without cost".into()]);
    }
    vec![comparison, drill, decided, concentrations, unmatched]
}

fn charts(c: &Computed, params: &Params, currency: &str) -> Vec<Chart> {
    let note = format!("Source: spend, leads, orders; {} to {}; {:.0}% intervals", c.window.0, c.window.1, params.level * 100.0);
    let ads = &c.levels[LEVELS.len() - 1];
    let mut charts = Vec::new();
    // 1. Shrunk CAC of the ads with the most cost, with the target.
    let mut by_cost: Vec<&Segment> = ads.iter().filter(|s| cac(s).is_some()).collect();
    by_cost.sort_by(|a, b| b.measures.cost.total_cmp(&a.measures.cost).then_with(|| a.keys.cmp(&b.keys)));
    by_cost.truncate(CHART_ADS);
    let target = params.target_cac.of(by_cost.first().map_or("", |s| s.keys[0].as_str()));
    if !by_cost.is_empty() {
        let values: Vec<(f64, f64, f64)> = by_cost.iter().filter_map(|s| cac(s)).collect();
        let cap = values.iter().map(|v| v.0).fold(0.0f64, f64::max) * 3.0;
        let under = target.map_or(0, |t| values.iter().filter(|v| v.2 <= t).count());
        charts.push(
            Chart::new(
                ChartKind::Intervals,
                "cac_by_ad",
                match target {
                    Some(t) => format!(
                        "{under} of the {} costliest ads are under the {} target even at the top of their interval",
                        by_cost.len(),
                        money(t, currency)
                    ),
                    None => format!("Shrunk CAC of the {} costliest ads", by_cost.len()),
                },
            )
            .note(format!("{note}; ads ordered by cost, most first; upper ends capped at 3x the largest estimate"))
            .axes("ads by cost", format!("CAC ({currency})"), Format::Money)
            // An ad's name when it is unique among those shown, else its campaign's (influencer "post"s).
            .categories(
                by_cost
                    .iter()
                    .map(|s| {
                        let unique = by_cost.iter().filter(|o| o.keys[3] == s.keys[3]).count() == 1;
                        if unique { s.keys[3].clone() } else { format!("{} ({})", s.keys[1], s.keys[3]) }
                    })
                    .collect(),
            )
            .series(vec![
                Series::new("shrunk CAC", values.iter().map(|v| Some(v.0)).collect()),
                Series::new("low", values.iter().map(|v| Some(v.1)).collect()),
                Series::new("high", values.iter().map(|v| Some(v.2.min(cap))).collect()),
            ])
            .table("drilldown")
            .reference(target.map(|t| ("target CAC".to_string(), t))),
        );
    }
    // 2. Pareto: share of spend and of purchases over ads ranked by purchases.
    let mut ranked: Vec<&Segment> = ads.iter().filter(|s| s.measures.cost > 0.0).collect();
    ranked.sort_by(|a, b| {
        b.projected_purchases(b.posterior.mean())
            .total_cmp(&a.projected_purchases(a.posterior.mean()))
            .then_with(|| a.keys.cmp(&b.keys))
    });
    let (total_cost, total_purchases): (f64, f64) =
        ranked.iter().fold((0.0, 0.0), |(c, p), s| (c + s.measures.cost, p + s.projected_purchases(s.posterior.mean())));
    if !ranked.is_empty() && total_cost > 0.0 && total_purchases > 0.0 {
        let steps = 20;
        let (mut cost_share, mut purchase_share) = (Vec::new(), Vec::new());
        for k in 1..=steps {
            let n = (ranked.len() * k).div_ceil(steps);
            cost_share.push(Some(ranked[..n].iter().map(|s| s.measures.cost).sum::<f64>() / total_cost));
            purchase_share
                .push(Some(ranked[..n].iter().map(|s| s.projected_purchases(s.posterior.mean())).sum::<f64>() / total_purchases));
        }
        let fifth = (ranked.len() / 5).max(1);
        let top_purchases =
            ranked[..fifth].iter().map(|s| s.projected_purchases(s.posterior.mean())).sum::<f64>() / total_purchases;
        let top_cost = ranked[..fifth].iter().map(|s| s.measures.cost).sum::<f64>() / total_cost;
        charts.push(
            Chart::new(
                ChartKind::Lines,
                "pareto",
                format!(
                    "The best fifth of ads brings {} of purchases for {} of spend",
                    percent(top_purchases),
                    percent(top_cost)
                ),
            )
            .note(format!("{note}; ads ranked by projected purchases"))
            .axes("share of ads, best first", "cumulative share", Format::Percent)
            .categories((1..=steps).map(|k| percent(k as f64 / steps as f64)).collect())
            .series(vec![Series::new("purchases", purchase_share), Series::new("spend", cost_share)])
            .table("drilldown"),
        );
    }
    // 3. Decisions by campaign.
    if !c.decisions.is_empty() {
        let mut by_campaign: BTreeMap<String, ([f64; 4], f64)> = BTreeMap::new();
        for d in &c.decisions {
            let s = &ads[d.index];
            let entry = by_campaign.entry(format!("{} / {}", s.keys[0], s.keys[1])).or_default();
            let slot = match d.verdict {
                Verdict::Scale => 0,
                Verdict::Optimize => 1,
                Verdict::NeedsData(_) | Verdict::NeedsTest => 2,
                Verdict::Pause => 3,
            };
            entry.0[slot] += 1.0;
            entry.1 += s.measures.cost;
        }
        let mut campaigns: Vec<(String, [f64; 4], f64)> = by_campaign.into_iter().map(|(k, (v, c))| (k, v, c)).collect();
        campaigns.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        campaigns.truncate(CHART_CAMPAIGNS);
        let names = ["scale", "optimize", "needs data", "pause"];
        let scale_total: f64 = campaigns.iter().map(|c| c.1[0]).sum();
        let pause_total: f64 = campaigns.iter().map(|c| c.1[3]).sum();
        charts.push(
            Chart::new(
                ChartKind::StackedBars,
                "decisions_by_campaign",
                format!(
                    "{} ads to scale and {} to pause across the {} campaigns with the most spend",
                    count(scale_total),
                    count(pause_total),
                    campaigns.len()
                ),
            )
            .note(note.clone())
            .axes("campaign", "ads", Format::Count)
            .categories(campaigns.iter().map(|c| c.0.clone()).collect())
            .series(
                names.iter().enumerate().map(|(i, n)| Series::new(n, campaigns.iter().map(|c| Some(c.1[i])).collect())).collect(),
            )
            .table("ads"),
        );
    }
    charts
}

/// Builds the analysis.
pub(crate) fn build(c: &Computed, params: &Params, currency: &str) -> Analysis {
    // Built in parallel, collected in node order: 100k ads make half a million metrics.
    let nodes: Vec<&Segment> = c.levels.iter().flatten().collect();
    let mut metrics: Vec<Metric> = nodes
        .par_iter()
        .map(|s| {
            let mut out = Vec::with_capacity(6);
            metrics_of(s, currency, params.level, &mut out);
            out
        })
        .flatten_iter()
        .collect();
    for b in &c.brand_tests {
        let channel = Seg::one("channel", &b.channel);
        if let Some(days) = b.days {
            metrics.push(Metric::point(names::BRAND_TEST_DAYS_NEEDED, Unit::Days, days as f64).with_segment(channel.clone()));
        }
        metrics.push(Metric::point(names::BRAND_TEST_EFFECT, Unit::Customers, b.effect).with_segment(channel));
    }
    let ads = &c.levels[LEVELS.len() - 1];
    let mut decisions: Vec<Decision> =
        c.decisions.par_iter().map(|d| decision(d, &ads[d.index], params, currency, &c.brand_tests)).collect();
    decisions.sort_by(Decision::order);
    let count_of = |v: fn(&Verdict) -> bool| c.decisions.iter().filter(|d| v(&d.verdict)).count();
    let scaled = count_of(|v| *v == Verdict::Scale);
    let paused = count_of(|v| *v == Verdict::Pause);
    let naive = c.decisions.iter().filter(|d| d.naive).count();
    let survive = c.decisions.iter().filter(|d| d.naive && d.verdict == Verdict::Scale).count();
    let headline = if c.decisions.is_empty() {
        format!("{} ads in {} campaigns: shrunk CAC and conversion per ad (no target CAC set)", ads.len(), c.levels[1].len())
    } else {
        format!(
            "{scaled} of {} ads are real winners (scale), {paused} to pause; the naive rule would pick {naive}, of which {survive} survive",
            c.decisions.len()
        )
    };
    let context = vec![
        format!(
            "{} to {}: {} channels, {} campaigns, {} ad groups, {} ads; {} spend, {} purchases so far.",
            c.window.0,
            c.window.1,
            c.levels[0].len(),
            c.levels[1].len(),
            c.levels[2].len(),
            ads.len(),
            money(c.levels[0].iter().map(|s| s.measures.cost).sum(), currency),
            count(c.levels[0].iter().map(|s| s.measures.purchases).sum())
        ),
        format!(
            "Purchase rates per click shrink toward the parent level (ad -> ad group -> campaign -> channel), with one concentration per level and channel, brand campaigns apart (ad level: {}; table `concentrations`), and purchases still to come from recent clicks projected by the cohort engine's lag profile ({} of a lead's purchases arrive in its first 4 weeks).",
            c.concentrations.last().map_or_else(String::new, |ks| ks
                .iter()
                .map(|(name, k)| format!("{name} {}{}", number(k.kappa, 0), if k.pooled { " (pooled)" } else { "" }))
                .collect::<Vec<_>>()
                .join(", ")),
            percent(c.developed.get(3).copied().unwrap_or(1.0))
        ),
        format!(
            "Scale the Bayesian FDR set: the most certain ads (P(CAC <= target) above one half) up to the largest set whose expected share of wrong calls is at most {} (q <= {}); pause when P(CAC > {} x target) >= {}; needs data with the clicks still needed for {} power.",
            percent(params.fdr),
            params.fdr,
            params.pause_multiple,
            params.scale_probability,
            percent(crate::decide::POWER)
        ),
    ];
    Analysis {
        headline,
        context,
        metrics,
        decisions,
        warnings: c.warnings.clone(),
        tables: std::iter::once(overview(c, params)).chain(tables(c, params)).collect(),
        charts: charts(c, params, currency),
        period: None,
    }
}

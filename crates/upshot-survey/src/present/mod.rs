//! The present layer: from the model's estimates and the decide layer's verdicts to what a
//! reader sees (metrics, decisions with their sentences, tables, chart specifications, words).
//! `build` only orders the sections; each lives in its own module.

mod channels;
mod charts;
mod measurement;
mod sections;
mod words;

use upshot_result::format::money;
use upshot_result::{Analysis, Metric, Unit, names};
use upshot_stats::percentile_interval;

use crate::model::{Answer, Attribution};
use crate::prepare::Prepared;
use crate::{Estimates, NAIVE, Params};

/// Below this response rate the survey speaks for too few customers.
const LOW_RESPONSE: f64 = 0.35;
/// A stratum with fewer donors than this extrapolates from thin evidence.
const FEW_DONORS: f64 = 30.0;

type Interval = Option<(f64, f64)>;

/// The percentile interval of a quantity over the draws of rule set `rule`.
fn interval(draws: &[Vec<Attribution>], rule: usize, level: f64, f: impl Fn(&Attribution) -> f64) -> Interval {
    let mut values: Vec<f64> = draws.iter().filter_map(|d| d.get(rule)).map(f).filter(|v| v.is_finite()).collect();
    if values.len() < draws.len() / 2 {
        return None;
    }
    percentile_interval(&mut values, level)
}

/// The interval of the reported estimate: one rule set's percentile interval, or, when the
/// model keeps several variants (an accuracy range, two response models), the span of theirs.
fn reported_interval(ctx: &Ctx<'_>, f: impl Fn(&Attribution) -> f64 + Copy) -> Interval {
    let mut joined: Interval = None;
    for &rule in &ctx.estimates.reported {
        let (low, high) = interval(ctx.draws, rule, ctx.level, f)?;
        joined = Some(joined.map_or((low, high), |(l, h): (f64, f64)| (l.min(low), h.max(high))));
    }
    joined
}

/// The wrong-answer bound on a quantity: the reported interval joined with every corner's
/// (`None` when the bound is off or the model not reported).
fn bound_interval(ctx: &Ctx<'_>, f: impl Fn(&Attribution) -> f64 + Copy) -> Interval {
    if ctx.estimates.bound.is_empty() {
        return None;
    }
    let mut joined = reported_interval(ctx, f)?;
    for &rule in &ctx.estimates.bound {
        let (low, high) = interval(ctx.draws, rule, ctx.level, f)?;
        joined = (joined.0.min(low), joined.1.max(high));
    }
    Some(joined)
}

/// A quantity's draws pooled over the reported rule sets (the decisions' odds).
fn reported_draws(ctx: &Ctx<'_>, f: impl Fn(&Attribution) -> f64) -> Vec<f64> {
    ctx.draws.iter().flat_map(|d| ctx.estimates.reported.iter().filter_map(|&r| d.get(r)).map(&f).collect::<Vec<_>>()).collect()
}

fn metric(name: &str, unit: Unit, estimate: f64, ci: Interval, level: f64) -> Metric {
    match ci {
        Some((low, high)) => Metric::interval(name, unit, estimate, low, high, level),
        None => Metric::point(name, unit, estimate),
    }
}

fn band_labels(edges: &[f64], currency: &str) -> Vec<String> {
    let mut labels = Vec::new();
    for b in 0..=edges.len() {
        labels.push(match (b.checked_sub(1).map(|i| edges[i]), edges.get(b)) {
            (None, Some(high)) => format!("up to {}", money(*high, currency)),
            (Some(low), Some(high)) => format!("{} to {}", money(low, currency), money(*high, currency)),
            (Some(low), None) => format!("over {}", money(low, currency)),
            (None, None) => "all".into(),
        });
    }
    labels
}

/// What every section of the page reads.
struct Ctx<'a> {
    prepared: &'a Prepared,
    params: &'a Params,
    currency: &'a str,
    level: f64,
    pop: &'a crate::Population,
    channels: &'a [String],
    n: usize,
    organic: usize,
    total: f64,
    surveyed: f64,
    responded: f64,
    mapped: f64,
    unmapped: f64,
    response_rate: f64,
    /// The point estimate under the configured rules, and under the naive extrapolation.
    point: &'a Attribution,
    naive_point: &'a Attribution,
    /// The post-stratified estimate, when the model is reported.
    stratified_point: Option<&'a Attribution>,
    draws: &'a [Vec<Attribution>],
    estimates: &'a Estimates,
}

pub(crate) fn build(prepared: &Prepared, estimates: &Estimates, params: &Params, currency: &str) -> Analysis {
    let pop = &prepared.population;
    let (points, draws) = (&estimates.points, &estimates.draws);
    let point = &points[0];
    let surveyed = pop.sum(|c| c.answer.surveyed());
    let responded = pop.sum(|c| c.answer.responded());
    let mapped = pop.sum(|c| matches!(c.answer, Answer::Channel(_)));
    let ctx = Ctx {
        prepared,
        params,
        currency,
        level: params.level,
        pop,
        channels: &pop.channels,
        n: pop.channels.len(),
        organic: pop.channels.len() - 1,
        total: pop.total(),
        surveyed,
        responded,
        mapped,
        unmapped: responded - mapped,
        response_rate: if surveyed > 0.0 { responded / surveyed } else { 0.0 },
        point,
        naive_point: points.get(NAIVE).unwrap_or(point),
        stratified_point: estimates.stratified.and_then(|s| points.get(s)),
        draws,
        estimates,
    };
    let mut metrics = Vec::new();
    let mut warnings = Vec::new();

    let [response_table, band_table, week_table] = sections::response(&ctx, &mut metrics, &mut warnings);
    let agreement = sections::agreement(&ctx, &mut metrics);
    let model_table = measurement::section(&ctx, &mut metrics, &mut warnings);
    let rows = channels::rows(&ctx);
    let decisions = channels::decisions(&ctx, &rows);
    channels::metrics(&ctx, &rows, &mut metrics);
    channels::warnings(&ctx, &rows, &mut warnings);
    let overview = channels::overview(&ctx, &rows, &decisions);
    let [channel_table, source_table] = channels::tables(&ctx, &rows, &decisions);
    let dark = sections::dark(&ctx, &agreement.confusion);
    if dark.estimated_paid.is_finite() {
        metrics.push(metric(names::DARK_PAID_SHARE, Unit::Share, dark.estimated_paid, dark.estimated_paid_ci, ctx.level));
    }
    let answers = sections::answers(&ctx, &mut warnings);
    let charts = charts::charts(&ctx, &rows, &agreement, &dark);
    let headline = words::headline(&ctx, &rows, &dark);
    let mut context = words::context(&ctx, &agreement, answers.other_total);
    context.extend(measurement::context(&ctx));
    warnings.extend(words::naive_gap_warning(&ctx, &rows));

    // The headline response rate and the channel numbers first; diagnostics by segment after them.
    let diagnostic = |m: &Metric| {
        m.name == names::AGREEMENT || m.name == names::ANSWER_ACCURACY || (m.name == names::RESPONSE_RATE && !m.segment.is_all())
    };
    let (diagnostics, mut metrics): (Vec<Metric>, Vec<Metric>) = metrics.into_iter().partition(diagnostic);
    metrics.extend(diagnostics);
    Analysis {
        headline,
        context,
        metrics,
        decisions,
        warnings,
        tables: [overview, channel_table]
            .into_iter()
            .chain(model_table)
            .chain([
                response_table,
                agreement.agreement_table,
                dark.table,
                answers.unmapped_table,
                band_table,
                source_table,
                agreement.confusion_table,
                week_table,
                answers.month_table,
                answers.answers_table,
                answers.promo_table,
            ])
            .collect(),
        charts,
        period: None,
    }
}

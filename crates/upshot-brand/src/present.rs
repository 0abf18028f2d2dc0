//! The present layer of the brand test: from the model's estimates and the decide layer's call
//! to money, metrics, the decision with its sentence, tables and charts.

use upshot_result::format::{count, level_text, money, number, percent, probability, range, signed_percent, with_interval};
use upshot_result::{Action, Analysis, Cell, Chart, ChartKind, Decision, Format, Metric, Segment, Series, Table, Unit, names};
use upshot_stats::regression::RobustEstimate;
use upshot_stats::{normal_cdf, normal_quantile};

use crate::Params;
use crate::decide::{Call, DECISION_CONFIDENCE, Sizing};
use crate::model::{self, Inference};
use crate::power::TARGET_POWER;
use crate::prepare::TestData;

/// The money side of the test, with intervals.
#[derive(Debug, Clone)]
pub(crate) struct Economics {
    pub per_unit: (f64, f64, f64),
    pub on_units: usize,
    pub revenue_per_unit: (f64, f64, f64),
    pub cost: f64,
    pub break_even_cpa: f64,
    pub break_even_per_unit: f64,
    pub p_at_most_break_even: f64,
}

fn ratio_interval(cost: f64, low: f64, high: f64) -> (Option<f64>, Option<f64>) {
    // iCPA = cost / purchases falls as purchases rise: the purchase interval's
    // top gives the iCPA interval's bottom. A purchase bound at or below zero
    // leaves the iCPA unbounded on that side.
    let lo = if high > 0.0 { Some(cost / high) } else { None };
    let hi = if low > 0.0 { Some(cost / low) } else { None };
    (lo, hi)
}

/// Everything the page says, computed once from the test and its inference.
struct Estimates {
    level: f64,
    unit_word: &'static str,
    econ: Economics,
    off_units: usize,
    n_on: f64,
    cost_off: f64,
    /// Incremental purchases and revenue over the test: (estimate, low, high).
    total: (f64, f64, f64),
    revenue_total: (f64, f64, f64),
    icpa: f64,
    icpa_ci: (Option<f64>, Option<f64>),
    p_value: f64,
    robust: RobustEstimate,
    robust_p: f64,
    carry: Option<RobustEstimate>,
    /// The normal quantile of the level.
    z: f64,
    /// Per component (paid brand, organic, other): (estimate, low, high) per on-unit.
    components: Vec<(f64, f64, f64)>,
    cannibalization: f64,
}

fn estimates(test: &TestData, inference: &Inference, params: &Params) -> Estimates {
    let level = params.level;
    let units = &test.units;
    let fe = &inference.fixed_effects;
    let (p_lo, p_hi) = fe[0].dist.interval(level);
    let (r_lo, r_hi) = fe[1].dist.interval(level);
    let on_units = units.on.iter().filter(|on| **on).count();
    let n_on = on_units as f64;
    let cost: f64 = test.unit_rows.iter().zip(&units.on).filter(|(_, on)| **on).map(|(r, _)| test.rows[*r].brand_cost).sum();
    let cost_off: f64 = test.unit_rows.iter().zip(&units.on).filter(|(_, on)| !**on).map(|(r, _)| test.rows[*r].brand_cost).sum();
    let break_even_cpa = params.break_even_cpa.unwrap_or(test.revenue_per_purchase * params.margin);
    let per_unit = fe[0].dist.estimate;
    let break_even_per_unit = if break_even_cpa > 0.0 { cost / (n_on * break_even_cpa) } else { f64::INFINITY };
    let econ = Economics {
        per_unit: (per_unit, p_lo, p_hi),
        on_units,
        revenue_per_unit: (fe[1].dist.estimate, r_lo, r_hi),
        cost,
        break_even_cpa,
        break_even_per_unit,
        p_at_most_break_even: fe[0].dist.p_greater(break_even_per_unit),
    };
    let total = (per_unit * n_on, p_lo * n_on, p_hi * n_on);
    let robust = model::robust(units, 0);
    let components: Vec<(f64, f64, f64)> = (0..3)
        .map(|k| {
            let dist = &fe[2 + k].dist;
            let (lo, hi) = dist.interval(level);
            (dist.estimate, lo, hi)
        })
        .collect();
    Estimates {
        level,
        unit_word: if test.regional { "region-day" } else { "day" },
        off_units: units.len() - on_units,
        n_on,
        cost_off,
        total,
        revenue_total: (econ.revenue_per_unit.0 * n_on, r_lo * n_on, r_hi * n_on),
        icpa: if total.0 > 0.0 { cost / total.0 } else { f64::NAN },
        icpa_ci: ratio_interval(cost, total.1, total.2),
        p_value: fe[0].dist.p_value(0.0),
        robust_p: 2.0 * (1.0 - normal_cdf((robust.estimate / robust.std_error).abs())),
        robust,
        carry: model::carry_over(units, 0),
        z: normal_quantile(0.5 + level / 2.0),
        cannibalization: if components[0].0 > 0.0 { (-components[1].0 / components[0].0).clamp(0.0, 1.0) } else { f64::NAN },
        components,
        econ,
    }
}

pub(crate) fn build(test: &TestData, inference: &Inference, params: &Params, currency: &str, seed: u64) -> Analysis {
    let e = estimates(test, inference, params);
    let call = crate::decide::call(
        e.econ.per_unit.0,
        e.econ.break_even_per_unit,
        e.econ.p_at_most_break_even,
        e.icpa_ci.1,
        e.econ.break_even_cpa,
    );
    let decision = decision(test, params, &e, call, currency, seed);
    let decision_row = decision.clone();
    let (context, warnings) = words(test, inference, params, &e, &decision, currency);
    let off_mean = mean_where(&test.units.outcomes[0], &test.units.on, false);
    Analysis {
        headline: headline(&e, call.action, off_mean, currency),
        context,
        metrics: metrics(inference, params, &e, currency),
        decisions: vec![decision],
        warnings,
        tables: std::iter::once(overview(params, &e, &decision_row)).chain(tables(test, &e.components, &e.econ)).collect(),
        charts: charts(test, inference, params, &e.components, off_mean, e.unit_word),
        // The schedule's days: the weeks the incrementality was measured over.
        period: test
            .rows
            .iter()
            .map(|r| r.date)
            .min()
            .zip(test.rows.iter().map(|r| r.date).max())
            .map(|(first, last)| upshot_result::Period { start: first.to_string(), end: last.to_string() }),
    }
}

/// Every estimate: the effect three ways (fixed effects, difference in means, cluster-robust),
/// money, components, cannibalization and carry-over.
fn metrics(inference: &Inference, params: &Params, e: &Estimates, currency: &str) -> Vec<Metric> {
    let Estimates { level, total, revenue_total, icpa, icpa_ci: (icpa_lo, icpa_hi), p_value, z, .. } = *e;
    let (per_unit, p_lo, p_hi) = e.econ.per_unit;
    let cost = e.econ.cost;
    let dm = &inference.difference_in_means;
    let robust = &e.robust;
    let iroas = (revenue_total.0 / cost, revenue_total.1 / cost, revenue_total.2 / cost);
    let roi = |revenue: f64| (revenue * params.margin - cost) / cost;
    let mut metrics = vec![
        Metric::interval(names::INCREMENTAL_PURCHASES_PER_UNIT, Unit::Purchases, per_unit, p_lo, p_hi, level),
        Metric::interval(names::INCREMENTAL_PURCHASES_TOTAL, Unit::Purchases, total.0, total.1, total.2, level),
        Metric::interval(
            names::INCREMENTAL_REVENUE_TOTAL,
            Unit::money(currency),
            revenue_total.0,
            revenue_total.1,
            revenue_total.2,
            level,
        ),
        Metric::point(names::INCREMENTAL_COST_TOTAL, Unit::money(currency), cost),
        Metric {
            ci_low: icpa_lo,
            ci_high: icpa_hi,
            level: Some(level),
            ..Metric::point(names::ICPA, Unit::money(currency), icpa)
        },
        Metric::interval(names::IROAS, Unit::Ratio, iroas.0, iroas.1, iroas.2, level),
        Metric::interval(names::ROI, Unit::Ratio, roi(revenue_total.0), roi(revenue_total.1), roi(revenue_total.2), level),
        Metric::point(names::P_VALUE, Unit::Probability, p_value),
    ];
    let (dm_lo, dm_hi) = dm[0].dist.interval(level);
    metrics.push(
        Metric::interval(names::INCREMENTAL_PURCHASES_PER_UNIT, Unit::Purchases, dm[0].dist.estimate, dm_lo, dm_hi, level)
            .with_segment(Segment::one("estimator", "difference_in_means")),
    );
    metrics.push(
        Metric::point(names::P_VALUE, Unit::Probability, dm[0].dist.p_value(0.0))
            .with_segment(Segment::one("estimator", "difference_in_means")),
    );
    metrics.push(
        Metric::interval(
            names::INCREMENTAL_PURCHASES_PER_UNIT,
            Unit::Purchases,
            robust.estimate,
            robust.estimate - z * robust.std_error,
            robust.estimate + z * robust.std_error,
            level,
        )
        .with_segment(Segment::one("estimator", "cluster_robust")),
    );
    metrics.push(
        Metric::point(names::P_VALUE, Unit::Probability, e.robust_p).with_segment(Segment::one("estimator", "cluster_robust")),
    );
    for (name, &(estimate, lo, hi)) in ["paid_brand", "organic", "other"].iter().zip(&e.components) {
        metrics.push(
            Metric::interval(names::INCREMENTAL_PURCHASES_PER_UNIT, Unit::Purchases, estimate, lo, hi, level)
                .with_segment(Segment::one("component", name)),
        );
    }
    metrics.push(Metric::point(names::CANNIBALIZATION_SHARE, Unit::Share, e.cannibalization));
    if let Some(carry) = &e.carry {
        metrics.push(Metric::interval(
            names::CARRY_OVER_PER_UNIT,
            Unit::Purchases,
            carry.estimate,
            carry.estimate - z * carry.std_error,
            carry.estimate + z * carry.std_error,
            level,
        ));
    }
    metrics
}

/// Test units in a month: 30 days, times the regions of a regional test.
fn units_per_month(test: &TestData) -> f64 {
    if test.regional { 30.0 * (test.units.region.iter().max().copied().unwrap_or(0) + 1) as f64 } else { 30.0 }
}

fn icpa_text(e: &Estimates, currency: &str) -> String {
    if e.icpa.is_finite() { money(e.icpa, currency) } else { "not defined (no lift)".into() }
}

/// The one decision on the brand campaigns, with its sentence and a month of their spend at stake.
fn decision(test: &TestData, params: &Params, e: &Estimates, call: Call, currency: &str, seed: u64) -> Decision {
    let Call { action, p_wrong } = call;
    let (econ, unit_word) = (&e.econ, e.unit_word);
    let break_even_cpa = econ.break_even_cpa;
    let units_per_month = units_per_month(test);
    let cost_per_unit = econ.cost / e.n_on;
    let profit_per_month = (econ.revenue_per_unit.0 * params.margin - cost_per_unit) * units_per_month;
    let icpa_text = icpa_text(e, currency);
    let reason = match action {
        Action::Keep | Action::Scale => format!(
            "iCPA {icpa_text} vs break-even {}: P(iCPA above break-even) {}; keeping it is worth about {} a month{}",
            money(break_even_cpa, currency),
            probability(p_wrong),
            money(profit_per_month, currency),
            if action == Action::Scale {
                "; even the interval's worst iCPA is under half of break-even, so test a higher budget"
            } else {
                ""
            }
        ),
        Action::Cut => format!(
            "iCPA {icpa_text} vs break-even {}: P(iCPA below break-even) {}; switching it off saves about {} a month",
            money(break_even_cpa, currency),
            probability(p_wrong),
            money(-profit_per_month, currency)
        ),
        _ => {
            // The test's days with the estimated effect removed, per region (rows are region by
            // region): what a longer test would see under no effect.
            let regions = if test.regional { test.units.region.iter().max().map_or(1, |r| r + 1) } else { 1 };
            let so_far = test.rows.len() / regions.max(1);
            let series: Vec<Vec<f64>> = test
                .rows
                .chunks(so_far.max(1))
                .map(|rows| rows.iter().map(|r| r.outcomes[0] - if r.brand_on { econ.per_unit.0 } else { 0.0 }).collect())
                .collect();
            let slices: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
            let start = test.rows.first().map(|r| r.date).unwrap_or_default();
            let sizing = crate::decide::sizing(start, &slices, test.block_days, econ.break_even_per_unit, seed);
            let longer = match sizing {
                Sizing::Days(days) if days <= so_far => format!(
                    "this test's {so_far} days already tell an effect of break-even size ({} purchases a {unit_word}) from none with {:.0}% power, but the estimate sits near break-even, where no length settles the call for sure; a second test of {so_far} days would narrow the interval by about 30%",
                    number(econ.break_even_per_unit, 1),
                    TARGET_POWER * 100.0
                ),
                Sizing::Days(days) => format!(
                    "a test of about {days} days ({} more) would tell an effect of break-even size ({} purchases a {unit_word}) from none with {:.0}% power (re-randomization test simulated on this test's days)",
                    days - so_far,
                    number(econ.break_even_per_unit, 1),
                    TARGET_POWER * 100.0
                ),
                Sizing::LongerThan(days) => format!(
                    "even {days} days would not tell an effect of break-even size ({} purchases a {unit_word}) from none with {:.0}% power: the brand effect is small against daily noise",
                    number(econ.break_even_per_unit, 1),
                    TARGET_POWER * 100.0
                ),
            };
            format!(
                "iCPA {icpa_text} vs break-even {}: the test cannot yet tell at {:.0}% confidence (P(wrong call) {}); {longer}",
                money(break_even_cpa, currency),
                DECISION_CONFIDENCE * 100.0,
                probability(p_wrong)
            )
        }
    };
    Decision {
        subject: Segment::one("campaign", &params.brand_campaigns.join(", ")),
        action,
        confidence: 1.0 - p_wrong,
        reason,
        stake: Some(cost_per_unit * units_per_month),
    }
}

fn headline(e: &Estimates, action: Action, off_mean: f64, currency: &str) -> String {
    let per_unit = e.econ.per_unit.0;
    format!(
        "Brand search adds {} purchases per {} ({}): {} (iCPA {} vs break-even {})",
        number(per_unit, 1),
        e.unit_word,
        signed_percent(per_unit / off_mean),
        action.label().to_lowercase(),
        icpa_text(e, currency),
        money(e.econ.break_even_cpa, currency)
    )
}

/// The context lines (design, estimator, decision, cross-checks, cannibalization, carry-over,
/// break-even) and the warnings (carry-over, unbounded iCPA, spend on off-units).
fn words(
    test: &TestData,
    inference: &Inference,
    params: &Params,
    e: &Estimates,
    decision: &Decision,
    currency: &str,
) -> (Vec<String>, Vec<String>) {
    let Estimates { level, unit_word, total, p_value, z, cannibalization, off_units, .. } = *e;
    let (per_unit, p_lo, p_hi) = e.econ.per_unit;
    let (on_units, break_even_cpa) = (e.econ.on_units, e.econ.break_even_cpa);
    let (units, robust, robust_p, carry) = (&test.units, &e.robust, e.robust_p, e.carry.as_ref());
    let dm = &inference.difference_in_means;
    let (action, reason) = (decision.action, &decision.reason);
    let component_effects = &e.components;
    let (icpa_hi, cost_off) = (e.icpa_ci.1, e.cost_off);
    let first = test.rows.iter().map(|r| r.date).min().unwrap_or_default();
    let last = test.rows.iter().map(|r| r.date).max().unwrap_or_default();
    let days = (last - first).num_days() + 1;
    let washout_units = test.rows.iter().filter(|r| r.washout).count();
    let mut context = vec![
        format!(
            "Brand on/off test ({}), {first} to {last} ({days} days{}): {on_units} on and {off_units} off {unit_word}s, {washout_units} washout {unit_word}s excluded; blocks of {} day(s).",
            params.brand_campaigns.join(", "),
            if test.regional {
                format!(", {} regions", units.region.iter().max().copied().unwrap_or(0) + 1)
            } else {
                String::new()
            },
            test.block_days
        ),
        format!(
            "Incremental purchases per on-{unit_word} {}; whole test {} ({}). Estimator: regression with {} fixed effects{}; interval by inverting the re-randomization test ({} draws under the design used, or every assignment when the design has fewer).",
            with_interval(per_unit, Some((p_lo, p_hi)), level, |v| number(v, 2)),
            number(total.0, 0),
            range(Some((total.1, total.2)), |v| number(v, 0)),
            if test.regional { "date and region" } else { "day-of-week" },
            if units.covariate.is_some() {
                format!(
                    " and each region's new customers {} days earlier (pre-period covariate, CUPED-style)",
                    params.covariate_lag_days
                )
            } else {
                String::new()
            },
            count(params.draws as f64)
        ),
        format!("Decision: {}. {reason}.", action.label()),
        format!(
            "Re-randomization p = {:.4}; difference in means agrees ({} per {unit_word}, p = {:.4}); cluster-robust cross-check {} ± {} (p = {:.4}, {} clusters).",
            p_value,
            number(dm[0].dist.estimate, 2),
            dm[0].dist.p_value(0.0),
            number(robust.estimate, 2),
            number(z * robust.std_error, 2),
            robust_p,
            robust.clusters
        ),
    ];
    if cannibalization.is_finite() {
        context.push(format!(
            "Cannibalization: when brand search is off, {} of its paid-brand purchases come back as organic/direct (paid brand {:+.2}, organic {:+.2}, other {:+.2} per on-{unit_word}).",
            percent(cannibalization),
            component_effects[0].0,
            component_effects[1].0,
            component_effects[2].0
        ));
    }
    let mut warnings = Vec::new();
    match carry {
        Some(carry) => {
            let (lo, hi) = (carry.estimate - z * carry.std_error, carry.estimate + z * carry.std_error);
            let detected = lo > 0.0 || hi < 0.0;
            context.push(format!(
                "Carry-over (effect of yesterday's state): {}: {}.",
                with_interval(carry.estimate, Some((lo, hi)), level, |v| number(v, 2)),
                if detected { "detected" } else { "none detected" }
            ));
            if detected {
                warnings.push(format!(
                    "Yesterday's brand state moves today's purchases ({} per {unit_word}); use longer blocks or washout days in the next test.",
                    number(carry.estimate, 2)
                ));
            }
        }
        None => context.push("Carry-over check skipped: too few consecutive units.".into()),
    }
    if icpa_hi.is_none() {
        warnings.push(format!(
            "The {:.0}% interval of incremental purchases includes zero, so the iCPA interval has no upper bound.",
            level * 100.0
        ));
    }
    if cost_off > 0.0 {
        warnings.push(format!(
            "{} of brand spend on off {unit_word}s: the campaign was not fully paused.",
            money(cost_off, currency)
        ));
    }
    if params.break_even_cpa.is_none() {
        context.push(format!(
            "Break-even CPA {} = average first-order revenue {} x margin {}.",
            money(break_even_cpa, currency),
            money(test.revenue_per_purchase, currency),
            params.margin
        ));
    }

    (context, warnings)
}

fn mean_where(values: &[f64], on: &[bool], state: bool) -> f64 {
    let (sum, n) = values.iter().zip(on).filter(|(_, o)| **o == state).fold((0.0, 0usize), |(s, n), (v, _)| (s + v, n + 1));
    if n > 0 { sum / n as f64 } else { f64::NAN }
}

/// The page's lead table: the brand campaigns' incremental purchases, iCPA and iROAS with their
/// intervals against break-even, and the call.
fn overview(params: &Params, e: &Estimates, decision: &Decision) -> Table {
    let mut table = Table::new(
        "overview",
        &format!("Brand search on/off: incremental purchases and their cost ({} intervals)", level_text(e.level)),
        &[
            ("campaigns", Format::Text),
            ("on_units", Format::Count),
            ("off_units", Format::Count),
            ("incremental_purchases", Format::Count),
            ("incremental_low", Format::Count),
            ("incremental_high", Format::Count),
            ("brand_spend", Format::Money),
            ("icpa", Format::Money),
            ("icpa_low", Format::Money),
            ("icpa_high", Format::Money),
            ("break_even_cpa", Format::Money),
            ("iroas", Format::Number),
            ("iroas_low", Format::Number),
            ("iroas_high", Format::Number),
            ("decision", Format::Text),
        ],
    )
    .interval("incremental_purchases", "incremental_low", "incremental_high")
    .interval("icpa", "icpa_low", "icpa_high")
    .interval("iroas", "iroas_low", "iroas_high")
    .lead();
    let cost = e.econ.cost;
    table.push(vec![
        params.brand_campaigns.join(", ").into(),
        (e.econ.on_units as u64).into(),
        (e.off_units as u64).into(),
        e.total.0.into(),
        e.total.1.into(),
        e.total.2.into(),
        cost.into(),
        e.icpa.into(),
        e.icpa_ci.0.into(),
        e.icpa_ci.1.into(),
        e.econ.break_even_cpa.into(),
        (e.revenue_total.0 / cost).into(),
        (e.revenue_total.1 / cost).into(),
        (e.revenue_total.2 / cost).into(),
        decision.action.label().into(),
    ]);
    table
}

fn tables(test: &TestData, components: &[(f64, f64, f64)], econ: &Economics) -> Vec<Table> {
    let mut daily = Table::new(
        "units",
        "Every unit of the test: state, outcomes and brand spend",
        &[
            ("date", Format::Text),
            ("region", Format::Text),
            ("brand_on", Format::Text),
            ("washout", Format::Text),
            ("purchases", Format::Count),
            ("revenue", Format::Money),
            ("paid_brand", Format::Count),
            ("organic", Format::Count),
            ("other", Format::Count),
            ("brand_cost", Format::Money),
        ],
    );
    daily.in_summary = false;
    for row in &test.rows {
        let mut cells = vec![
            Cell::from(row.date.to_string()),
            Cell::from(row.region.clone().unwrap_or_default()),
            Cell::from(if row.brand_on { "on" } else { "off" }),
            Cell::from(if row.washout { "yes" } else { "no" }),
        ];
        cells.extend(row.outcomes.iter().map(|v| Cell::from(*v)));
        cells.push(Cell::from(row.brand_cost));
        daily.push(cells);
    }
    let mut effects = Table::new(
        "effects",
        "Effect of brand search per on-unit, by where the purchase came from",
        &[
            ("component", Format::Text),
            ("effect_per_unit", Format::Number),
            ("ci_low", Format::Number),
            ("ci_high", Format::Number),
        ],
    );
    effects.push(vec![
        Cell::from("all purchases"),
        Cell::from(econ.per_unit.0),
        Cell::from(econ.per_unit.1),
        Cell::from(econ.per_unit.2),
    ]);
    for (name, (e, lo, hi)) in ["paid brand", "organic/direct", "other channels"].iter().zip(components) {
        effects.push(vec![Cell::from(*name), Cell::from(*e), Cell::from(*lo), Cell::from(*hi)]);
    }
    effects.push(vec![
        Cell::from("revenue"),
        Cell::from(econ.revenue_per_unit.0),
        Cell::from(econ.revenue_per_unit.1),
        Cell::from(econ.revenue_per_unit.2),
    ]);
    let mut money_table =
        Table::new("economics", "Money side of the test", &[("quantity", Format::Text), ("value", Format::Number)]);
    money_table.push(vec![Cell::from("on units"), Cell::from(econ.on_units as f64)]);
    money_table.push(vec![Cell::from("brand spend on on-units"), Cell::from(econ.cost)]);
    money_table.push(vec![Cell::from("break-even CPA"), Cell::from(econ.break_even_cpa)]);
    money_table.push(vec![Cell::from("purchases per on-unit needed to break even"), Cell::from(econ.break_even_per_unit)]);
    money_table.push(vec![Cell::from("P(incremental purchases at or below break-even)"), Cell::from(econ.p_at_most_break_even)]);
    vec![effects, money_table, daily]
}

#[allow(clippy::too_many_arguments)]
fn charts(
    test: &TestData,
    inference: &Inference,
    params: &Params,
    components: &[(f64, f64, f64)],
    off_mean: f64,
    unit_word: &str,
) -> Vec<Chart> {
    let units = &test.units;
    let fe0 = &inference.fixed_effects[0].dist;
    let per_unit = fe0.estimate;
    let first = test.rows.iter().map(|r| r.date).min().unwrap_or_default();
    let last = test.rows.iter().map(|r| r.date).max().unwrap_or_default();
    let days = ((last - first).num_days() + 1) as usize;
    let mut observed = vec![0.0; days];
    let mut on_share = vec![0.0; days];
    let mut regions_per_day = vec![0.0; days];
    for row in &test.rows {
        let d = (row.date - first).num_days() as usize;
        observed[d] += row.outcomes[0];
        regions_per_day[d] += 1.0;
        if row.brand_on {
            on_share[d] += 1.0;
        }
    }
    let counterfactual: Vec<Option<f64>> = (0..days).map(|d| Some(observed[d] - per_unit * on_share[d])).collect();
    let categories: Vec<String> = (0..days).map(|d| (first + chrono::Days::new(d as u64)).format("%m-%d").to_string()).collect();
    let note =
        format!("Source: orders, spend and schedule, {first} to {last}. New customers (first paid order) per day, all channels.");
    let mut charts = vec![
        Chart::new(
            ChartKind::Lines,
            "daily",
            format!(
                "On days with brand search we sell {} more new customers per {unit_word} ({})",
                number(per_unit, 1),
                signed_percent(per_unit / off_mean)
            ),
        )
        .note(note.clone())
        .axes("day of the test (shaded: brand search on)", "new customers per day", Format::Count)
        .categories(categories)
        .series(vec![
            Series::new("observed", observed.iter().map(|v| Some(*v)).collect()),
            Series::new("without brand search (fitted)", counterfactual).dashed(),
        ])
        .table("units")
        .highlight((0..days).map(|d| on_share[d] * 2.0 > regions_per_day[d]).collect(), "brand on"),
    ];

    // Re-randomization distribution: 41 bins over the draws and the estimate.
    let draws = &fe0.on_outcome;
    let lo = draws.iter().copied().fold(per_unit, f64::min);
    let hi = draws.iter().copied().fold(per_unit, f64::max);
    let bins = 41usize;
    let width = ((hi - lo) / bins as f64).max(1e-9);
    let mut counts = vec![0.0; bins];
    for a in draws {
        counts[(((a - lo) / width) as usize).min(bins - 1)] += 1.0;
    }
    let observed_bin = (((per_unit - lo) / width) as usize).min(bins - 1);
    let p = fe0.p_value(0.0);
    charts.push(Chart::new(ChartKind::Bars, "rerandomization", format!(
            "The observed {:+.2} per {unit_word} beats {} of {} re-randomized schedules (p = {:.4})",
            per_unit,
            percent(1.0 - p),
            count(draws.len() as f64),
            p
        ))
.note("Effect estimates under schedules the design could have drawn, with no true effect; highlighted: the bin of the observed estimate.")
.axes(format!("estimated effect per {unit_word} under a re-randomized schedule"), "schedules", Format::Count)
.categories((0..bins).map(|b| number(lo + (b as f64 + 0.5) * width, 2)).collect())
.series(vec![Series::new("re-randomized schedules", counts.into_iter().map(Some).collect())])
.table("effects")
.highlight((0..bins).map(|b| b == observed_bin).collect(), "observed"));

    // Effects as % of the off-unit mean of each outcome.
    let level = params.level;
    let fe = &inference.fixed_effects;
    let mut names = Vec::new();
    let mut est = Vec::new();
    let mut low = Vec::new();
    let mut high = Vec::new();
    for (o, name) in [(0usize, "all purchases"), (2, "paid brand"), (3, "organic/direct"), (4, "other channels"), (1, "revenue")]
    {
        let base = mean_where(&units.outcomes[o], &units.on, false);
        if base.is_nan() || base <= 0.0 {
            continue;
        }
        let (e, l, h) = if (2..=4).contains(&o) {
            components[o - 2]
        } else {
            let (l, h) = fe[o].dist.interval(level);
            (fe[o].dist.estimate, l, h)
        };
        names.push(name.to_string());
        est.push(Some(e / base));
        low.push(Some(l / base));
        high.push(Some(h / base));
    }
    let (p_lo, p_hi) = fe0.interval(level);
    charts.push(
        Chart::new(
            ChartKind::Intervals,
            "effects",
            format!(
                "Brand search lifts all purchases {}",
                with_interval(per_unit / off_mean, Some((p_lo / off_mean, p_hi / off_mean)), level, percent)
            ),
        )
        .note(format!(
            "Effect per on-{unit_word} as a share of the off-{unit_word} mean; {:.0}% intervals by test inversion.",
            level * 100.0
        ))
        .axes("outcome", "change vs off days", Format::Percent)
        .categories(names)
        .series(vec![Series::new("effect", est), Series::new("low", low), Series::new("high", high)])
        .table("effects"),
    );

    let component_mean = |o: usize, state: bool| Some(mean_where(&units.outcomes[o], &units.on, state));
    let cannibalization = if components[0].0 > 0.0 { (-components[1].0 / components[0].0).clamp(0.0, 1.0) } else { f64::NAN };
    charts.push(
        Chart::new(
            ChartKind::StackedBars,
            "cannibalization",
            if cannibalization.is_finite() {
                format!("When brand search is off, {} of its purchases come back as organic", percent(cannibalization))
            } else {
                "Where new customers come from on on- and off-days".into()
            },
        )
        .note(format!(
            "Mean new customers per {unit_word} by click channel; paid brand = orders attributed to the brand campaigns."
        ))
        .axes("brand search state", format!("new customers per {unit_word}"), Format::Number)
        .categories(vec!["on".into(), "off".into()])
        .series(vec![
            Series::new("paid brand", vec![component_mean(2, true), component_mean(2, false)]),
            Series::new("organic/direct", vec![component_mean(3, true), component_mean(3, false)]),
            Series::new("other channels", vec![component_mean(4, true), component_mean(4, false)]),
        ])
        .table("units"),
    );
    charts
}

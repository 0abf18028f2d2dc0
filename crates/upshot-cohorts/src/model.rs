//! From cohort tables to projected cohorts, LTV curves and the numbers a
//! decision needs, per segment and in total. Pure computation; `report`
//! turns it into metrics, tables and charts.

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use upshot_data::{Dataset, TableKind};
use upshot_stats::percentile_interval;
use upshot_stats::rng::stream;

use crate::prepare::{Cohorts, Grain, SegmentCohorts, SegmentCustomers, Spec, build};
use crate::{CohortsError, Exclusions, LOWER_FUNNEL, Params, ProjectionRule};
use upshot_development::chainladder::{MackFit, Triangle};
use upshot_development::projection::{Method, Projection, Setup, auto_methods, developed_shares, lag_profile, project};

/// Draws discarded before the kept ones.
const BURN_IN: usize = 200;

/// A point estimate with its interval at the run's level (`None` when undefined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

impl Estimate {
    /// The value with the central percentile interval of its draws. When the draws are so
    /// skewed that the value (a mean) falls outside it, as for a channel whose draws are
    /// mostly zero purchases, the interval is widened to reach the value.
    fn from_draws(value: f64, draws: &[f64], level: f64) -> Self {
        let mut values: Vec<f64> = draws.to_vec();
        let finite = values.iter().all(|v| v.is_finite());
        let ci = if finite { percentile_interval(&mut values, level) } else { None };
        Self { value, ci: ci.map(|(low, high)| (low.min(value), high.max(value))) }
    }
}

/// One lead cohort of one segment (or of the total).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CohortResult {
    pub period: i32,
    pub leads: f64,
    pub spend: f64,
    pub latest_age: usize,
    pub method: Method,
    /// Share of the eventual purchases the pooled lag profile expects by the latest age.
    pub developed: f64,
    pub purchases_observed: f64,
    pub purchases: Estimate,
    /// New customers of the cohort without a lead (complete at once).
    pub direct: f64,
    pub revenue_observed: f64,
    pub revenue: Estimate,
    /// Spend / (projected lead-linked purchases + direct customers); `None` without spend or
    /// without customers in some draw.
    pub cac: Option<Estimate>,
    /// Cumulative purchases by age: observed, then projected means.
    pub cumulative: Vec<f64>,
}

/// Net revenue per customer by age since the first order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LtvCurve {
    pub values: Vec<f64>,
    pub se: Vec<f64>,
    /// Ages no customer cohort has completed yet: projected by the chain ladder.
    pub projected: Vec<bool>,
    /// Customers behind each age's average (the complete cohorts').
    pub customers: Vec<f64>,
}

/// One segment over all cohorts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentResult {
    pub keys: Vec<String>,
    pub cohorts: Vec<CohortResult>,
    pub leads: f64,
    pub spend: f64,
    pub purchases_observed: f64,
    pub purchases: Estimate,
    /// New customers without a lead over all cohorts.
    pub direct: f64,
    pub revenue_observed: f64,
    pub revenue: Estimate,
    pub cac: Option<Estimate>,
    pub customers: f64,
    pub ltv: LtvCurve,
    /// LTV at the horizon x margin / CAC.
    pub ltv_to_cac: Option<Estimate>,
    /// LTV at the horizon x margin / target ratio.
    pub cac_max: Option<Estimate>,
    /// Months from the spend until cumulative margin per customer covers the CAC; the upper end is `None`
    /// when more than the tail share of draws does not pay back within the horizon.
    pub payback: Option<(f64, Option<f64>, Option<f64>)>,
    /// Whether the payback age's LTV is projected.
    pub payback_projected: bool,
    /// Cumulative margin per customer by periods since the spend (the lead's period), discounted
    /// at `discount_rate`: what the payback compares with the CAC.
    pub margin_from_spend: Vec<f64>,
    /// P(CAC <= maximum CAC) over the draws.
    pub p_within_max: Option<f64>,
    pub bf_fallback: bool,
    pub tail_ages: usize,
}

/// Everything the report needs.
pub(crate) struct Computed {
    pub cohorts: Cohorts,
    pub segments: Vec<SegmentResult>,
    pub total: SegmentResult,
    pub pooled_lag: Vec<f64>,
    pub mack: Option<MackFit>,
    pub level: f64,
    pub ages: usize,
}

impl Computed {
    pub fn exclusions(&self) -> Exclusions {
        self.cohorts.excluded.clone()
    }
}

/// Months in `age + 1` periods of a grain (weeks to one decimal).
pub(crate) fn months(grain: Grain, age: usize) -> f64 {
    match grain {
        Grain::Month => (age + 1) as f64,
        Grain::Week => ((age + 1) as f64 * 12.0 / 52.0 * 10.0).round() / 10.0,
    }
}

/// The customer-revenue triangle of a customer table (cumulative sums per cohort and age).
fn customer_triangle(table: &SegmentCustomers, cohorts: &Cohorts) -> Triangle {
    Triangle {
        cells: table
            .revenue
            .iter()
            .zip(&cohorts.customer_periods)
            .map(|(row, period)| {
                let last = ((cohorts.last_period - period) as usize).min(cohorts.ages - 1);
                row.iter().enumerate().map(|(k, v)| (k <= last).then_some(*v)).collect()
            })
            .collect(),
    }
}

/// LTV by age. Age 0 averages every customer cohort; each later age multiplies by the
/// development from the age before, measured on the cohorts complete at that age only (the
/// same cohorts above and below the ratio, so a young cohort's missing months never read as
/// zeros and an old cohort's mix does not bend the curve). The interval keeps the relative
/// sampling error of the plain average over those complete cohorts. Ages no cohort has
/// completed yet are carried on by the projected development of all cohorts.
fn ltv_curve(table: &SegmentCustomers, cohorts: &Cohorts, projection: &Projection) -> LtvCurve {
    let ages = cohorts.ages;
    let mut curve =
        LtvCurve { values: vec![0.0; ages], se: vec![0.0; ages], projected: vec![false; ages], customers: vec![0.0; ages] };
    let mut last_observed: Option<usize> = None;
    // Relative spread of the projected customer revenue at the horizon: the projected ages' extra uncertainty.
    let totals: Vec<f64> = projection.draws.iter().map(|d| d.iter().sum()).collect();
    let mean = totals.iter().sum::<f64>() / totals.len().max(1) as f64;
    let sd = (totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (totals.len().max(2) - 1) as f64).sqrt();
    let relative = if mean > 0.0 { sd / mean } else { 0.0 };
    for k in 0..ages {
        let complete: Vec<usize> = (0..cohorts.customer_periods.len())
            .filter(|&j| cohorts.last_period - cohorts.customer_periods[j] >= k as i32 && table.customers[j] > 0.0)
            .collect();
        let n: f64 = complete.iter().map(|&j| table.customers[j]).sum();
        if n > 0.0 {
            let sum: f64 = complete.iter().map(|&j| table.revenue[j][k]).sum();
            let squares: f64 = complete.iter().map(|&j| table.squares[j][k]).sum();
            let direct = sum / n;
            let direct_se = ((squares / n - direct * direct).max(0.0) / n).sqrt();
            let value = match last_observed {
                None => direct,
                Some(previous) => {
                    let before: f64 = complete.iter().map(|&j| table.revenue[j][previous]).sum();
                    if before > 0.0 { curve.values[previous] * sum / before } else { direct }
                }
            };
            curve.values[k] = value;
            curve.se[k] = if direct.abs() > 0.0 { (value * direct_se / direct).abs() } else { direct_se };
            curve.customers[k] = n;
            last_observed = Some(k);
        } else if let Some(base) = last_observed {
            let level = |age: usize| projection.cumulative.iter().map(|row| row[age]).sum::<f64>();
            let ratio = if level(base) > 0.0 { level(k) / level(base) } else { 1.0 };
            curve.values[k] = curve.values[base] * ratio;
            curve.se[k] = ((curve.se[base] * ratio).powi(2) + (curve.values[k] * relative).powi(2)).sqrt();
            curve.projected[k] = true;
            curve.customers[k] = curve.customers[base];
        }
    }
    curve
}

/// Share of a segment's customers buying their first order `j` periods after the lead's period:
/// lead-linked purchases by lead age (observed, then projected, summed over the cohorts) and the
/// direct customers (no lead) at age 0. Sums to one; all at age 0 when there are no customers.
pub(crate) fn purchase_timing(cumulative: &[Vec<f64>], direct: f64, ages: usize) -> Vec<f64> {
    let mut timing = vec![0.0; ages.max(1)];
    for row in cumulative {
        let mut before = 0.0;
        for (j, &c) in row.iter().enumerate().take(ages) {
            timing[j] += (c - before).max(0.0);
            before = c;
        }
    }
    timing[0] += direct.max(0.0);
    let total: f64 = timing.iter().sum();
    if total > 0.0 {
        timing.iter_mut().for_each(|t| *t /= total);
    } else {
        timing.fill(0.0);
        timing[0] = 1.0;
    }
    timing
}

/// Cumulative margin per customer `t` periods after the spend, for every `t` below the
/// horizon: each first-order lag `j` (share `timing[j]`) adds the margin its customers earn in
/// their first `t - j + 1` periods, each period's margin discounted by `discount` at its age
/// since the spend. `margin` is cumulative per customer by age since the first order.
pub(crate) fn margin_from_spend(margin: &[f64], timing: &[f64], discount: &[f64]) -> Vec<f64> {
    let ages = margin.len();
    let mut out = vec![0.0; ages];
    for (j, &share) in timing.iter().enumerate().take(ages) {
        if share <= 0.0 {
            continue;
        }
        let mut running = 0.0;
        for a in 0..ages - j {
            let increment = margin[a] - if a > 0 { margin[a - 1] } else { 0.0 };
            running += increment * discount.get(j + a).copied().unwrap_or(1.0);
            out[j + a] += share * running;
        }
    }
    out
}

fn methods_for(rule: ProjectionRule, latest_age: &[usize], pooled: &[f64], ages: usize) -> Vec<Method> {
    match rule {
        ProjectionRule::Auto => auto_methods(latest_age, pooled),
        ProjectionRule::ChainLadder => vec![Method::ChainLadder; latest_age.len()],
        ProjectionRule::BornhuetterFerguson => {
            latest_age.iter().map(|&a| if a + 1 >= ages { Method::ChainLadder } else { Method::BornhuetterFerguson }).collect()
        }
    }
}

/// Projections of one segment: purchases, revenue, customer revenue.
struct Projected {
    purchases: Projection,
    revenue: Projection,
    customers: Projection,
}

fn sum_rows(rows: impl Iterator<Item = Vec<Vec<f64>>>) -> Vec<Vec<f64>> {
    rows.reduce(|mut a, b| {
        for (ra, rb) in a.iter_mut().zip(&b) {
            for (x, y) in ra.iter_mut().zip(rb) {
                *x += y;
            }
        }
        a
    })
    .unwrap_or_default()
}

/// The sum of independent segment projections, draw by draw.
fn sum_projections(parts: &[&Projection]) -> Projection {
    let first = parts[0];
    let mut total = first.clone();
    for p in &parts[1..] {
        for (a, b) in total.latest.iter_mut().zip(&p.latest) {
            *a += b;
        }
        for (a, b) in total.mean.iter_mut().zip(&p.mean) {
            *a += b;
        }
        for (da, db) in total.draws.iter_mut().zip(&p.draws) {
            for (a, b) in da.iter_mut().zip(db) {
                *a += b;
            }
        }
        for (ra, rb) in total.cumulative.iter_mut().zip(&p.cumulative) {
            for (a, b) in ra.iter_mut().zip(rb) {
                *a += b;
            }
        }
        total.bf_fallback |= p.bf_fallback;
    }
    total
}

struct SegmentInput<'a> {
    keys: Vec<String>,
    leads: Vec<f64>,
    spend: Vec<f64>,
    direct: Vec<f64>,
    customers: &'a SegmentCustomers,
}

fn cohort_results(input: &SegmentInput<'_>, projected: &Projected, pooled: &[f64], level: f64) -> Vec<CohortResult> {
    let developed = developed_shares(pooled);
    let p = &projected.purchases;
    let r = &projected.revenue;
    (0..input.leads.len())
        .map(|i| {
            let purchase_draws: Vec<f64> = p.draws.iter().map(|d| d[i]).collect();
            let revenue_draws: Vec<f64> = r.draws.iter().map(|d| d[i]).collect();
            let (spend, direct) = (input.spend[i], input.direct[i]);
            let cac = (spend > 0.0 && p.mean[i] + direct > 0.0).then(|| {
                let draws: Vec<f64> = purchase_draws.iter().map(|n| spend / (n + direct)).collect();
                Estimate::from_draws(spend / (p.mean[i] + direct), &draws, level)
            });
            CohortResult {
                period: 0,
                leads: input.leads[i],
                spend,
                latest_age: p.latest_age[i],
                method: p.methods[i],
                developed: developed.get(p.latest_age[i]).copied().unwrap_or(1.0),
                purchases_observed: p.latest[i],
                purchases: Estimate::from_draws(p.mean[i], &purchase_draws, level),
                direct,
                revenue_observed: r.latest[i],
                revenue: Estimate::from_draws(r.mean[i], &revenue_draws, level),
                cac,
                cumulative: p.cumulative[i].clone(),
            }
        })
        .collect()
}

fn segment_result(
    input: &SegmentInput<'_>,
    projected: &Projected,
    cohorts: &Cohorts,
    params: &Params,
    pooled: &[f64],
    seed: u64,
    index: u64,
) -> SegmentResult {
    let level = params.level;
    let mut rows = cohort_results(input, projected, pooled, level);
    for (row, period) in rows.iter_mut().zip(&cohorts.periods) {
        row.period = *period;
    }
    let p = &projected.purchases;
    let r = &projected.revenue;
    let total_draws: Vec<f64> = p.draws.iter().map(|d| d.iter().sum()).collect();
    let revenue_draws: Vec<f64> = r.draws.iter().map(|d| d.iter().sum()).collect();
    let purchases_mean: f64 = p.mean.iter().sum();
    let spend: f64 = input.spend.iter().sum();
    let ltv = ltv_curve(input.customers, cohorts, &projected.customers);
    let customers: f64 = input.customers.customers.iter().sum();
    let horizon = cohorts.ages - 1;

    // Joint draws: CAC from the projected purchases, LTV from its sampling error (one normal
    // deviate per draw for the whole curve, which keeps the curve's shape).
    let mut rng = stream(seed, "cohorts-ltv", index);
    let z: Vec<f64> = (0..total_draws.len()).map(|_| StandardNormal.sample(&mut rng)).collect();
    // CAC on the customers the spend bought: lead-linked purchases (projected) and direct ones.
    let direct: f64 = input.direct.iter().sum();
    let cac_draws: Vec<f64> = total_draws.iter().map(|n| spend / (n + direct)).collect();
    let has_cac = spend > 0.0 && purchases_mean + direct > 0.0;
    let cac = has_cac.then(|| Estimate::from_draws(spend / (purchases_mean + direct), &cac_draws, level));
    let ltv_at = |k: usize, d: usize| (ltv.values[k] + z[d] * ltv.se[k]) * params.margin;
    let has_ltv = customers > 0.0;
    let cac_max = has_ltv.then(|| {
        let draws: Vec<f64> = (0..z.len()).map(|d| ltv_at(horizon, d) / params.target_ltv_to_cac).collect();
        Estimate::from_draws(ltv.values[horizon] * params.margin / params.target_ltv_to_cac, &draws, level)
    });
    let ltv_to_cac = (has_cac && has_ltv).then(|| {
        let draws: Vec<f64> = (0..z.len()).map(|d| ltv_at(horizon, d) / cac_draws[d]).collect();
        Estimate::from_draws(ltv.values[horizon] * params.margin / (spend / (purchases_mean + direct)), &draws, level)
    });
    let p_within_max = (has_cac && has_ltv).then(|| {
        let within = (0..z.len()).filter(|&d| cac_draws[d] <= ltv_at(horizon, d) / params.target_ltv_to_cac).count() as f64;
        within / z.len() as f64
    });
    // Payback from the spend: a lead's spend is paid in its month, its customer buys some periods
    // later (the cohorts' purchase timing; direct customers at once), and margin is discounted
    // from the spend's month.
    let timing = purchase_timing(&p.cumulative, direct, cohorts.ages);
    let discount: Vec<f64> =
        (0..cohorts.ages).map(|s| (1.0 + params.discount_rate).powf(-months(cohorts.grain, s) / 12.0)).collect();
    let margin_point: Vec<f64> = ltv.values.iter().map(|v| v * params.margin).collect();
    let from_spend_point = margin_from_spend(&margin_point, &timing, &discount);
    let mut payback = None;
    let mut payback_projected = false;
    if let Some(cac) = cac {
        let point = (0..cohorts.ages).find(|&k| from_spend_point[k] >= cac.value);
        if let Some(k) = point {
            payback_projected = ltv.projected[k];
            // A draw that does not pay back within the horizon sorts last (infinite).
            let mut values: Vec<f64> = (0..z.len())
                .map(|d| {
                    let margin: Vec<f64> = (0..cohorts.ages).map(|k| ltv_at(k, d)).collect();
                    let curve = margin_from_spend(&margin, &timing, &discount);
                    (0..cohorts.ages).find(|&k| curve[k] >= cac_draws[d]).map_or(f64::INFINITY, |k| months(cohorts.grain, k))
                })
                .collect();
            values.sort_by(f64::total_cmp);
            let tail = (1.0 - level) / 2.0;
            let low = upshot_stats::quantile_sorted(&values, tail).filter(|v| v.is_finite());
            let high = upshot_stats::quantile_sorted(&values, 1.0 - tail).filter(|v| v.is_finite());
            payback = Some((months(cohorts.grain, k), low, high));
        }
    }
    SegmentResult {
        keys: input.keys.clone(),
        leads: input.leads.iter().sum(),
        spend,
        purchases_observed: p.latest.iter().sum(),
        purchases: Estimate::from_draws(purchases_mean, &total_draws, level),
        direct,
        revenue_observed: r.latest.iter().sum(),
        revenue: Estimate::from_draws(r.mean.iter().sum(), &revenue_draws, level),
        cac,
        customers,
        ltv,
        ltv_to_cac,
        cac_max,
        payback,
        payback_projected,
        margin_from_spend: from_spend_point,
        p_within_max,
        bf_fallback: p.bf_fallback,
        tail_ages: p.tail_ages,
        cohorts: rows,
    }
}

/// Runs the engine over every segment.
pub(crate) fn compute(data: &Dataset, params: &Params, seed: u64) -> Result<Computed, CohortsError> {
    let table = |kind: TableKind| data.get(kind).ok_or(CohortsError::MissingTable { kind: "cohorts", table: kind.name() });
    let (leads, orders, spend) = (table(TableKind::Leads)?, table(TableKind::Orders)?, table(TableKind::Spend)?);
    let stages: Vec<String> = data.stages.iter().filter(|s| LOWER_FUNNEL.contains(&s.as_str())).cloned().collect();
    let ages = params.ages();
    let spec = Spec { grain: params.grain, ages, by: &params.by, stages: &stages };
    let cohorts =
        build(&leads.frame, &orders.frame, &spend.frame, &spec).map_err(CohortsError::polars("build the cohort tables"))?;
    if cohorts.segments.iter().all(|s| s.leads.iter().all(|n| *n == 0.0)) {
        return Err(CohortsError::Input {
            file: leads.report.path.clone(),
            column: "created_at".into(),
            message: format!(
                "no lead falls in a complete {} (the data ends on {}); cohorts need at least one whole period",
                params.grain.name(),
                cohorts.last_day
            ),
        });
    }
    if cohorts.customers.is_empty() {
        return Err(CohortsError::Input {
            file: orders.report.path.clone(),
            column: "revenue".into(),
            message: "no order with positive revenue in a complete period: there are no customers to measure".into(),
        });
    }

    // The pooled lag profiles: every segment's triangle shrinks toward them.
    let total_purchases = sum_rows(cohorts.segments.iter().map(|s| s.purchases.clone()));
    let total_revenue = sum_rows(cohorts.segments.iter().map(|s| s.revenue.clone()));
    let total_triangle = cohorts.triangle(&total_purchases);
    let pooled = lag_profile(&total_triangle);
    let pooled_revenue = lag_profile(&cohorts.triangle(&total_revenue));
    let all_customers = SegmentCustomers {
        keys: Vec::new(),
        customers: (0..cohorts.customer_periods.len()).map(|j| cohorts.customers.iter().map(|c| c.customers[j]).sum()).collect(),
        revenue: sum_rows(cohorts.customers.iter().map(|c| c.revenue.clone())),
        squares: sum_rows(cohorts.customers.iter().map(|c| c.squares.clone())),
    };
    let pooled_customers = lag_profile(&customer_triangle(&all_customers, &cohorts));
    let latest_age = cohorts.latest_age();
    let methods = methods_for(params.projection, &latest_age, &pooled, ages);
    let mack = total_triangle.mack(params.mack_last_sigma).ok();
    let segmented = !params.by.is_empty();
    let weight = ages as f64;
    let empty_customers = SegmentCustomers {
        keys: Vec::new(),
        customers: vec![0.0; cohorts.customer_periods.len()],
        revenue: vec![vec![0.0; ages]; cohorts.customer_periods.len()],
        squares: vec![vec![0.0; ages]; cohorts.customer_periods.len()],
    };
    let customers_of = |keys: &[String]| cohorts.customers.iter().find(|c| c.keys == keys).unwrap_or(&empty_customers);

    let run = |index: u64, segment: &SegmentCohorts, customers: &SegmentCustomers| -> Projected {
        let shrink = |profile: &'_ [f64]| if segmented { Some((profile.to_vec(), weight)) } else { None };
        let purchase_prior = shrink(&pooled);
        let revenue_prior = shrink(&pooled_revenue);
        let customer_prior = shrink(&pooled_customers);
        let purchases_triangle = cohorts.triangle(&segment.purchases);
        let revenue_triangle = cohorts.triangle(&segment.revenue);
        let customer_triangle = customer_triangle(customers, &cohorts);
        let customer_methods = vec![Method::ChainLadder; cohorts.customer_periods.len()];
        fn setup<'a>(
            triangle: &'a Triangle,
            exposure: &'a [f64],
            methods: &'a [Method],
            prior: &'a Option<(Vec<f64>, f64)>,
            unit_scale: f64,
            draws: usize,
        ) -> Setup<'a> {
            Setup {
                triangle,
                exposure,
                methods,
                lag_prior: prior.as_ref().map(|(p, w)| (p.as_slice(), *w)),
                unit_scale,
                draws,
                burn_in: BURN_IN,
            }
        }
        let draws = params.draws;
        // `projection = "chain-ladder"` reports the chain ladder itself, the model's draws its interval.
        let as_asked = |p: Projection, triangle: &Triangle| {
            if params.projection == ProjectionRule::ChainLadder { p.with_chain_ladder_means(triangle) } else { p }
        };
        Projected {
            purchases: as_asked(
                project(
                    &setup(&purchases_triangle, &segment.leads, &methods, &purchase_prior, 1.0, draws),
                    &mut stream(seed, "cohorts-purchases", index),
                ),
                &purchases_triangle,
            ),
            revenue: as_asked(
                project(
                    &setup(&revenue_triangle, &segment.leads, &methods, &revenue_prior, cohorts.revenue_scale, draws),
                    &mut stream(seed, "cohorts-revenue", index),
                ),
                &revenue_triangle,
            ),
            customers: project(
                &setup(
                    &customer_triangle,
                    &customers.customers,
                    &customer_methods,
                    &customer_prior,
                    cohorts.revenue_scale,
                    draws,
                ),
                &mut stream(seed, "cohorts-customers", index),
            ),
        }
    };
    let projected: Vec<Projected> =
        cohorts.segments.par_iter().enumerate().map(|(i, s)| run(i as u64, s, customers_of(&s.keys))).collect();
    let segments: Vec<SegmentResult> = cohorts
        .segments
        .iter()
        .zip(&projected)
        .enumerate()
        .map(|(i, (s, p))| {
            let input = SegmentInput {
                keys: s.keys.clone(),
                leads: s.leads.clone(),
                spend: s.spend.clone(),
                direct: s.direct.clone(),
                customers: customers_of(&s.keys),
            };
            segment_result(&input, p, &cohorts, params, &pooled, seed, i as u64)
        })
        .collect();

    // The total: with segments, their draws summed (independent models); without, the one segment.
    let total = if segmented {
        let customer_projection = project(
            &Setup {
                triangle: &customer_triangle(&all_customers, &cohorts),
                exposure: &all_customers.customers,
                methods: &vec![Method::ChainLadder; cohorts.customer_periods.len()],
                lag_prior: None,
                unit_scale: cohorts.revenue_scale,
                draws: params.draws,
                burn_in: BURN_IN,
            },
            &mut stream(seed, "cohorts-customers-total", 0),
        );
        let mut purchases = sum_projections(&projected.iter().map(|p| &p.purchases).collect::<Vec<_>>());
        purchases.methods = methods.clone();
        purchases.tail_ages = projected.iter().map(|p| p.purchases.tail_ages).max().unwrap_or(0);
        let revenue = sum_projections(&projected.iter().map(|p| &p.revenue).collect::<Vec<_>>());
        let sum_of = |f: &dyn Fn(&SegmentCohorts) -> &Vec<f64>| -> Vec<f64> {
            (0..cohorts.periods.len()).map(|i| cohorts.segments.iter().map(|s| f(s)[i]).sum()).collect()
        };
        let input = SegmentInput {
            keys: Vec::new(),
            leads: sum_of(&|s| &s.leads),
            spend: sum_of(&|s| &s.spend),
            direct: sum_of(&|s| &s.direct),
            customers: &all_customers,
        };
        let projected = Projected { purchases, revenue, customers: customer_projection };
        segment_result(&input, &projected, &cohorts, params, &pooled, seed, u64::MAX)
    } else {
        segments[0].clone()
    };
    Ok(Computed { cohorts, segments, total, pooled_lag: pooled, mack, level: params.level, ages })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purchase_timing_counts_lead_lags_and_direct_customers() {
        // Two cohorts: 10 purchases at lead age 0 and 30 at age 2; 20 at age 1; 40 direct.
        let cumulative = vec![vec![10.0, 10.0, 40.0], vec![0.0, 20.0, 20.0]];
        let t = purchase_timing(&cumulative, 40.0, 3);
        assert_eq!(t, vec![0.5, 0.2, 0.3]);
        assert_eq!(purchase_timing(&[], 0.0, 3), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn payback_from_the_spend_waits_for_the_purchase_and_discounting_slows_it() {
        // 10 of margin per period after the first order; every customer buys two periods after
        // the lead: from the spend the curve is the first-order curve two periods later.
        let margin: Vec<f64> = (1..=12).map(|k| 10.0 * k as f64).collect();
        let mut timing = vec![0.0; 12];
        timing[2] = 1.0;
        let flat = vec![1.0; 12];
        let curve = margin_from_spend(&margin, &timing, &flat);
        assert_eq!(&curve[..3], &[0.0, 0.0, 10.0]);
        assert!((curve[11] - margin[9]).abs() < 1e-12);
        // A CAC of 45 pays back at age 4 from the first order, age 6 from the spend.
        assert_eq!(margin.iter().position(|m| *m >= 45.0), Some(4));
        assert_eq!(curve.iter().position(|m| *m >= 45.0), Some(6));
        // Half the customers at once, half two periods later: in between.
        timing[0] = 0.5;
        timing[2] = 0.5;
        let mixed = margin_from_spend(&margin, &timing, &flat);
        assert_eq!(mixed.iter().position(|m| *m >= 45.0), Some(5));
        // 10% a year, monthly periods: each period's margin is worth less, so payback is no sooner
        // and the curve lies below the undiscounted one.
        let discount: Vec<f64> = (0..12).map(|s| 1.1f64.powf(-months(Grain::Month, s) / 12.0)).collect();
        let discounted = margin_from_spend(&margin, &timing, &discount);
        assert!(discounted.iter().zip(&mixed).all(|(d, m)| d <= m));
        assert!((discounted[0] - 5.0 * 1.1f64.powf(-1.0 / 12.0)).abs() < 1e-12);
        assert!(discounted.iter().position(|m| *m >= 45.0) >= mixed.iter().position(|m| *m >= 45.0));
    }
}

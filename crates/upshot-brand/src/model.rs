//! The estimation engine, free of data frames: units with outcomes and an
//! assignment, two estimators, exact re-randomization under the design,
//! cluster-robust and carry-over cross-checks.

use rayon::prelude::*;
use upshot_stats::randomization::{CHUNK, RandomizationDist};
use upshot_stats::regression::{FixedEffects, RobustEstimate, cluster_robust};

use crate::design::Strata;

/// Analysis units (days or region-days, washout excluded) and the design.
#[derive(Debug, Clone)]
pub struct Units {
    /// Outcome series, each with one value per unit.
    pub outcomes: Vec<Vec<f64>>,
    /// Observed assignment per unit.
    pub on: Vec<bool>,
    /// Day of week (0 = Monday) per unit.
    pub dow: Vec<usize>,
    /// Day of the test (0 = its first day) per unit: the date fixed effect of a region design.
    pub day: Vec<usize>,
    /// Region index per unit (0 for a time-only test).
    pub region: Vec<usize>,
    /// Randomisation block per unit.
    pub block: Vec<usize>,
    /// Stratum per block (blocks are re-randomized within strata).
    pub block_strata: Vec<(usize, u32)>,
    /// Cluster per unit for the robust cross-check.
    pub cluster: Vec<usize>,
    /// Yesterday's state per unit (same region), when yesterday was in the test.
    pub previous_on: Vec<Option<bool>>,
    /// A pre-period covariate per unit (CUPED-style adjustment), fixed before the assignment:
    /// the regression then also holds it, which leaves re-randomization exact.
    pub covariate: Option<Vec<f64>>,
}

/// What one estimator found for one outcome.
#[derive(Debug, Clone)]
pub struct EstimatorResult {
    /// Re-randomization distribution (estimate included).
    pub dist: RandomizationDist,
}

/// Re-randomization results per outcome: (regression with fixed effects, difference in means).
#[derive(Debug, Clone)]
pub struct Inference {
    /// Per outcome: fixed-effects regression.
    pub fixed_effects: Vec<EstimatorResult>,
    /// Per outcome: difference in means.
    pub difference_in_means: Vec<EstimatorResult>,
}

impl Units {
    /// No units yet, with `outcomes` outcome series to fill.
    pub fn empty(outcomes: usize) -> Units {
        Units {
            outcomes: vec![Vec::new(); outcomes],
            on: Vec::new(),
            dow: Vec::new(),
            day: Vec::new(),
            region: Vec::new(),
            block: Vec::new(),
            block_strata: Vec::new(),
            cluster: Vec::new(),
            previous_on: Vec::new(),
            covariate: None,
        }
    }

    /// The units of a time-only switchback: one outcome per schedule day, the
    /// schedule's blocks re-randomized within their start-weekday strata (as
    /// [`crate::design::design`] drew them), clustered by block.
    pub fn switchback(schedule: &[crate::design::ScheduleRow], outcome: Vec<f64>, block_days: usize) -> Units {
        Units::from_schedule(schedule, outcome, schedule.len(), block_days)
    }

    /// The units of a schedule as [`crate::design::design`] writes it (region by region, `days`
    /// days each), one outcome per row, washout rows left out: blocks re-randomized within their region and start-weekday
    /// strata, clustered by block in a time-only test and by day in a region design.
    pub fn from_schedule(schedule: &[crate::design::ScheduleRow], outcome: Vec<f64>, days: usize, block_days: usize) -> Units {
        use chrono::Datelike;
        let block_days = block_days.max(1);
        let days = days.max(1);
        let regions = schedule.len() / days;
        let per_region = days.div_ceil(block_days);
        let mut units = Units::empty(0);
        units.outcomes = vec![outcome];
        let mut kept = Vec::with_capacity(schedule.len());
        for (i, row) in schedule.iter().enumerate() {
            let (r, d) = (i / days, i % days);
            if row.washout {
                continue;
            }
            kept.push(i);
            units.on.push(row.brand_on);
            units.dow.push(row.date.weekday().num_days_from_monday() as usize);
            units.day.push(d);
            units.region.push(r);
            units.block.push(r * per_region + d / block_days);
            units.cluster.push(if regions > 1 { d } else { d / block_days });
            units.previous_on.push(d.checked_sub(1).map(|_| schedule[i - 1].brand_on));
        }
        // Washout units are left out, as the analysis leaves them out; the outcome keeps the rest.
        if kept.len() < schedule.len() {
            let outcome = std::mem::take(&mut units.outcomes[0]);
            units.outcomes[0] = kept.iter().map(|&i| outcome[i]).collect();
        }
        units.block_strata = (0..regions * per_region)
            .map(|b| {
                let (r, k) = (b / per_region, b % per_region);
                let start = schedule[r * days + k * block_days].date;
                crate::design::stratum_of(r, start, block_days, crate::design::Balance::Weekday)
            })
            .collect();
        units
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.on.len()
    }

    /// Whether there are no units.
    pub fn is_empty(&self) -> bool {
        self.on.is_empty()
    }

    fn regional(&self) -> bool {
        self.region.iter().any(|r| *r > 0)
    }

    /// Day-of-week effects for a time-only test; region and date effects for a region design
    /// (the date effects absorb every shock the regions share that day, weekday included). Test
    /// days are numbered densely (washout days leave gaps), so a full region x day panel is a
    /// balanced layout the fixed effects residualize in closed form.
    fn fixed_effects(&self) -> FixedEffects {
        let factors = if self.regional() { vec![dense_levels(&self.day), self.region.clone()] } else { vec![self.dow.clone()] };
        FixedEffects::new(self.len(), &factors)
    }

    /// The balanced panel of a region design (every region on every day, once, as `fe` found):
    /// what lets a draw compute `D'MD` from its on-counts per day and per region instead of the
    /// dense inverse.
    fn balanced_panel(&self, fe: &FixedEffects) -> Option<Panel> {
        let (days, regions) = fe.balanced()?;
        let day = dense_levels(&self.day);
        let blocks = self.block_strata.len();
        let mut block_days = vec![Vec::new(); blocks];
        let mut block_region = vec![0; blocks];
        for i in 0..self.len() {
            block_days[self.block[i]].push(day[i] as u32);
            block_region[self.block[i]] = self.region[i];
        }
        Some(Panel { days, regions, block_days, block_region })
    }
}

/// Levels renumbered 0.. in sorted order, with no gaps.
fn dense_levels(levels: &[usize]) -> Vec<usize> {
    let mut distinct = levels.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    levels.iter().map(|l| distinct.binary_search(l).unwrap_or(0)).collect()
}

/// The fixed effects' residuals of `v`, with the covariate's residual `mx` partialled out as
/// well when there is one (Frisch-Waugh-Lovell: `M_x v = M v - (mx'Mv / mx'mx) mx`).
fn residuals_with(fe: &FixedEffects, v: &[f64], mx: Option<&[f64]>) -> Vec<f64> {
    let mv = fe.residualize(v);
    match mx {
        Some(mx) => {
            let xx: f64 = mx.iter().map(|a| a * a).sum();
            if xx <= 1e-12 {
                return mv;
            }
            let coef = mx.iter().zip(&mv).map(|(a, b)| a * b).sum::<f64>() / xx;
            mv.iter().zip(mx).map(|(v, x)| v - coef * x).collect()
        }
        None => mv,
    }
}

/// A balanced region x day panel, for the closed form of the two-way projection:
/// `D'PD = sum_t c_t^2 / R + sum_r c_r^2 / T - n1^2 / (R T)` with `c_t` the on-units of day `t`
/// and `c_r` those of region `r` (the day and region projections commute on a balanced panel).
struct Panel {
    days: usize,
    regions: usize,
    /// Per block: its units' days (compacted to 0..days).
    block_days: Vec<Vec<u32>>,
    /// Per block: its region.
    block_region: Vec<usize>,
}

impl Panel {
    /// `D'MD` of the assignment whose on-blocks are `on_blocks`; `per_day` and `per_region` are scratch.
    fn quadratic(&self, on_blocks: &[usize], per_day: &mut [f64], per_region: &mut [f64]) -> f64 {
        per_day.iter_mut().for_each(|v| *v = 0.0);
        per_region.iter_mut().for_each(|v| *v = 0.0);
        let mut n1 = 0.0;
        for &b in on_blocks {
            for &d in &self.block_days[b] {
                per_day[d as usize] += 1.0;
            }
            let len = self.block_days[b].len() as f64;
            per_region[self.block_region[b]] += len;
            n1 += len;
        }
        let (t, r) = (self.days as f64, self.regions as f64);
        let projected = per_day.iter().map(|c| c * c).sum::<f64>() / r + per_region.iter().map(|c| c * c).sum::<f64>() / t
            - n1 * n1 / (r * t);
        n1 - projected
    }
}

/// Everything a draw needs, aggregated to randomisation blocks: a draw only
/// flips whole blocks, so each statistic is a sum over the on-blocks of
/// precomputed block values, stored row by row for cache-friendly gathering.
struct Prepared {
    /// `(X'X)^+`, dense row-major, `columns` x `columns`.
    inverse_gram: Vec<f64>,
    columns: usize,
    /// Per block, `width` values: per outcome (sum, sum with fixed effects
    /// removed), then units, units observed on, observed assignment residual.
    rows: Vec<f64>,
    width: usize,
    /// Per block: its units' fixed-effect columns, as (column, count).
    block_columns: Vec<Vec<(usize, f64)>>,
    totals: Vec<f64>,
    observed_on: f64,
    units: f64,
    /// A balanced region design's closed form of `D'MD` (the dense quadratic otherwise).
    panel: Option<Panel>,
    /// Outcome series.
    outcomes: usize,
    /// `x'Mx` of the covariate's fixed-effects residual (0 without a covariate).
    covariate_norm: f64,
}

impl Prepared {
    /// Scratch length a draw needs: `X'D`, or the panel's per-day and per-region counts.
    fn scratch(&self) -> usize {
        self.panel.as_ref().map_or(self.columns, |p| p.days + p.regions)
    }
}

fn prepare(units: &Units) -> Prepared {
    let fe = units.fixed_effects();
    let blocks = units.block_strata.len();
    let outcomes = units.outcomes.len();
    let mx: Option<Vec<f64>> = units.covariate.as_ref().map(|x| fe.residualize(x));
    let covariate_norm = mx.as_ref().map_or(0.0, |m| m.iter().map(|v| v * v).sum());
    let mx = mx.filter(|_| covariate_norm > 1e-12);
    // Per block: per outcome (sum, residual sum), units, on-units, the assignment's residual, and
    // with a covariate its fixed-effects residual (no slot without one: every draw adds whole rows).
    let width = 2 * outcomes + 3 + usize::from(mx.is_some());
    let d: Vec<f64> = units.on.iter().map(|on| if *on { 1.0 } else { 0.0 }).collect();
    let mut rows = vec![0.0; blocks * width];
    let residuals: Vec<Vec<f64>> = units.outcomes.iter().map(|y| residuals_with(&fe, y, mx.as_deref())).collect();
    let d_residual = residuals_with(&fe, &d, mx.as_deref());
    let panel = units.balanced_panel(&fe);
    let mut block_columns: Vec<std::collections::BTreeMap<usize, f64>> = vec![Default::default(); blocks];
    for (i, &b) in units.block.iter().enumerate() {
        let row = &mut rows[b * width..(b + 1) * width];
        for o in 0..outcomes {
            row[2 * o] += units.outcomes[o][i];
            row[2 * o + 1] += residuals[o][i];
        }
        row[2 * outcomes] += 1.0;
        row[2 * outcomes + 1] += d[i];
        row[2 * outcomes + 2] += d_residual[i];
        if let Some(m) = &mx {
            row[2 * outcomes + 3] += m[i];
        }
        if panel.is_none() {
            let xt = fe.xt_indicator(&[i]);
            for (c, v) in xt.iter().enumerate() {
                if *v != 0.0 {
                    *block_columns[b].entry(c).or_insert(0.0) += v;
                }
            }
        }
    }
    Prepared {
        inverse_gram: if panel.is_some() { Vec::new() } else { fe.inverse_gram() },
        columns: fe.columns(),
        rows,
        width,
        block_columns: block_columns.into_iter().map(|m| m.into_iter().collect()).collect(),
        totals: units.outcomes.iter().map(|y| y.iter().sum()).collect(),
        observed_on: d.iter().sum(),
        units: units.len() as f64,
        panel,
        outcomes,
        covariate_norm: if mx.is_some() { covariate_norm } else { 0.0 },
    }
}

/// Values per draw in a chunk's flat output: per outcome (fe_a, dm_a), then (fe_b, dm_b).
fn draw_width(outcomes: usize) -> usize {
    2 * outcomes + 2
}

/// Appends the statistics of one assignment, given by its on-blocks, to `out`:
/// per outcome (fe_a, dm_a), then (fe_b, dm_b), the same estimators applied
/// to the observed assignment. `acc` and `xtd` are scratch space.
fn statistics(p: &Prepared, on_blocks: &[usize], acc: &mut [f64], xtd: &mut [f64], out: &mut Vec<f64>) {
    let width = p.width;
    acc.iter_mut().for_each(|v| *v = 0.0);
    xtd.iter_mut().for_each(|v| *v = 0.0);
    for &b in on_blocks {
        let row = &p.rows[b * width..(b + 1) * width];
        for (a, v) in acc.iter_mut().zip(row) {
            *a += v;
        }
        for (c, v) in &p.block_columns[b] {
            xtd[*c] += v;
        }
    }
    let outcomes = p.outcomes;
    let n1 = acc[2 * outcomes];
    let n0 = p.units - n1;
    let dmd = if let Some(panel) = &p.panel {
        let (per_day, per_region) = xtd.split_at_mut(panel.days);
        panel.quadratic(on_blocks, per_day, &mut per_region[..panel.regions])
    } else {
        // D'MD = n1 - (X'D)' (X'X)^+ (X'D).
        let mut quadratic = 0.0;
        for (i, xi) in xtd.iter().enumerate() {
            if *xi != 0.0 {
                let row = &p.inverse_gram[i * p.columns..(i + 1) * p.columns];
                quadratic += xi * row.iter().zip(xtd.iter()).map(|(a, x)| a * x).sum::<f64>();
            }
        }
        n1 - quadratic
    };
    // With the covariate: D'M_xD = D'MD - (D'Mx)^2 / x'Mx.
    let dmd = if p.covariate_norm > 0.0 { dmd - acc[2 * outcomes + 3].powi(2) / p.covariate_norm } else { dmd };
    for o in 0..outcomes {
        out.push(acc[2 * o + 1] / dmd);
        out.push(acc[2 * o] / n1 - (p.totals[o] - acc[2 * o]) / n0);
    }
    let d_on = acc[2 * outcomes + 1];
    let d_res = acc[2 * outcomes + 2];
    out.push(d_res / dmd);
    out.push(d_on / n1 - (p.observed_on - d_on) / n0);
}

/// Runs the re-randomization test: over every assignment the design can draw
/// when there are at most `draws` of them (exact), else over `draws` random
/// ones. Both run in parallel in fixed-size chunks with their own random
/// streams, so results do not depend on the number of threads.
pub fn rerandomize(units: &Units, draws: usize, seed: u64) -> Inference {
    let p = prepare(units);
    let observed_blocks = observed_on_blocks(units);
    let outcomes = units.outcomes.len();
    let stride = draw_width(outcomes);
    let mut observed = Vec::with_capacity(stride);
    statistics(&p, &observed_blocks, &mut vec![0.0; p.width], &mut vec![0.0; p.scratch()], &mut observed);
    let strata = Strata::new(&units.block_strata);
    let listed = strata.enumerate(draws);
    let exact = listed.is_some();
    let draws = listed.as_ref().map_or(draws, Vec::len);
    let chunks = draws.div_ceil(CHUNK);
    let results: Vec<Vec<f64>> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut acc = vec![0.0; p.width];
            let mut xtd = vec![0.0; p.scratch()];
            let range = chunk * CHUNK..(CHUNK * (chunk + 1)).min(draws);
            let mut out = Vec::with_capacity(range.len() * stride);
            if let Some(all) = &listed {
                for on_blocks in &all[range] {
                    statistics(&p, on_blocks, &mut acc, &mut xtd, &mut out);
                }
            } else {
                let mut rng = upshot_stats::rng::stream(seed, "brand-rerandomization", chunk as u64);
                let mut scratch = strata.scratch();
                let mut on_blocks = Vec::with_capacity(units.block_strata.len());
                for _ in range {
                    strata.draw_on(&mut scratch, &mut rng, &mut on_blocks);
                    statistics(&p, &on_blocks, &mut acc, &mut xtd, &mut out);
                }
            }
            out
        })
        .collect();
    let empty = |estimate: f64| RandomizationDist {
        estimate,
        on_outcome: Vec::with_capacity(draws),
        on_assignment: Vec::with_capacity(draws),
        exact,
    };
    let mut fe: Vec<RandomizationDist> = (0..outcomes).map(|o| empty(observed[2 * o])).collect();
    let mut dm: Vec<RandomizationDist> = (0..outcomes).map(|o| empty(observed[2 * o + 1])).collect();
    // A degenerate draw (every unit on) has no contrast: it counts as not
    // extreme, which keeps the test conservative.
    for draw in results.iter().flat_map(|chunk| chunk.chunks_exact(stride)) {
        let (fe_b, dm_b) = (draw[2 * outcomes], draw[2 * outcomes + 1]);
        for o in 0..outcomes {
            fe[o].on_outcome.push(finite(draw[2 * o]));
            fe[o].on_assignment.push(finite(fe_b));
            dm[o].on_outcome.push(finite(draw[2 * o + 1]));
            dm[o].on_assignment.push(finite(dm_b));
        }
    }
    Inference {
        fixed_effects: fe.into_iter().map(|dist| EstimatorResult { dist }).collect(),
        difference_in_means: dm.into_iter().map(|dist| EstimatorResult { dist }).collect(),
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// The blocks switched on in the observed assignment, sorted.
fn observed_on_blocks(units: &Units) -> Vec<usize> {
    let mut blocks: Vec<usize> = (0..units.len()).filter(|i| units.on[*i]).map(|i| units.block[i]).collect();
    blocks.sort_unstable();
    blocks.dedup();
    blocks
}

/// The fixed-effects test of every outcome, on one thread, with the caller's
/// random stream: what the power simulation runs once per simulated test (the
/// simulations, not the draws, run in parallel there). Exact when the design
/// has at most `draws` assignments, as [`rerandomize`] is.
pub fn fixed_effects_test(units: &Units, draws: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<RandomizationDist> {
    let p = prepare(units);
    let outcomes = units.outcomes.len();
    let mut acc = vec![0.0; p.width];
    let mut xtd = vec![0.0; p.scratch()];
    let mut out = Vec::with_capacity(draw_width(outcomes));
    statistics(&p, &observed_on_blocks(units), &mut acc, &mut xtd, &mut out);
    let strata = Strata::new(&units.block_strata);
    let listed = strata.enumerate(draws);
    let n = listed.as_ref().map_or(draws, Vec::len);
    let mut dists: Vec<RandomizationDist> = (0..outcomes)
        .map(|o| RandomizationDist {
            estimate: out[2 * o],
            on_outcome: Vec::with_capacity(n),
            on_assignment: Vec::with_capacity(n),
            exact: listed.is_some(),
        })
        .collect();
    let mut push = |on_blocks: &[usize], dists: &mut [RandomizationDist]| {
        out.clear();
        statistics(&p, on_blocks, &mut acc, &mut xtd, &mut out);
        for (o, dist) in dists.iter_mut().enumerate() {
            dist.on_outcome.push(finite(out[2 * o]));
            dist.on_assignment.push(finite(out[2 * outcomes]));
        }
    };
    if let Some(all) = &listed {
        for on_blocks in all {
            push(on_blocks, &mut dists);
        }
    } else {
        let mut scratch = strata.scratch();
        let mut on_blocks = Vec::with_capacity(units.block_strata.len());
        for _ in 0..draws {
            strata.draw_on(&mut scratch, rng, &mut on_blocks);
            push(&on_blocks, &mut dists);
        }
    }
    dists
}

/// The fixed-effects coefficient of outcome `o` with a CR1 cluster-robust
/// standard error (clusters: randomisation blocks, or days in a region design).
pub fn robust(units: &Units, outcome: usize) -> RobustEstimate {
    let fe = units.fixed_effects();
    let d: Vec<f64> = units.on.iter().map(|on| if *on { 1.0 } else { 0.0 }).collect();
    let mx = units.covariate.as_ref().map(|x| fe.residualize(x));
    let y = residuals_with(&fe, &units.outcomes[outcome], mx.as_deref());
    let x = residuals_with(&fe, &d, mx.as_deref());
    cluster_robust(&y, &x, &units.cluster, fe.columns() + 1 + usize::from(mx.is_some()))
}

/// Carry-over check: the coefficient of yesterday's state in
/// `Y ~ today + yesterday + fixed effects`, on units whose yesterday was in the test.
pub fn carry_over(units: &Units, outcome: usize) -> Option<RobustEstimate> {
    let keep: Vec<usize> = (0..units.len()).filter(|i| units.previous_on[*i].is_some()).collect();
    if keep.len() < 8 {
        return None;
    }
    let pick = |v: &[usize]| keep.iter().map(|&i| v[i]).collect::<Vec<usize>>();
    let factors =
        if units.regional() { vec![dense_levels(&pick(&units.day)), pick(&units.region)] } else { vec![pick(&units.dow)] };
    let fe = FixedEffects::new(keep.len(), &factors);
    let y = fe.residualize(&keep.iter().map(|&i| units.outcomes[outcome][i]).collect::<Vec<_>>());
    let today = fe.residualize(&keep.iter().map(|&i| f64::from(u8::from(units.on[i]))).collect::<Vec<_>>());
    let yesterday =
        fe.residualize(&keep.iter().map(|&i| f64::from(u8::from(units.previous_on[i] == Some(true)))).collect::<Vec<_>>());
    // Partial today's state out of yesterday's and the outcome (FWL again).
    let tt: f64 = today.iter().map(|v| v * v).sum();
    if tt <= 0.0 {
        return None;
    }
    let partial = |v: &[f64]| {
        let coef = v.iter().zip(&today).map(|(a, b)| a * b).sum::<f64>() / tt;
        v.iter().zip(&today).map(|(a, b)| a - coef * b).collect::<Vec<f64>>()
    };
    let x = partial(&yesterday);
    let y = partial(&y);
    let clusters = pick(&units.cluster);
    let estimate = cluster_robust(&y, &x, &clusters, fe.columns() + 2);
    estimate.estimate.is_finite().then_some(estimate)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four days, two on: difference in means and the exact p-value by hand.
    #[test]
    fn hand_computed_difference_in_means_and_p_value() {
        let units = Units {
            outcomes: vec![vec![10.0, 4.0, 8.0, 2.0]],
            on: vec![true, false, true, false],
            dow: vec![0, 0, 0, 0],
            day: (0..4).collect(),
            region: vec![0; 4],
            block: vec![0, 1, 2, 3],
            block_strata: vec![(0, 0); 4],
            cluster: vec![0, 1, 2, 3],
            previous_on: vec![None; 4],
            covariate: None,
        };
        let inference = rerandomize(&units, 3000, 1);
        let dm = &inference.difference_in_means[0].dist;
        // (10 + 8) / 2 - (4 + 2) / 2 = 6.
        assert!((dm.estimate - 6.0).abs() < 1e-12);
        // One factor level only: the regression coefficient equals the difference in means.
        assert!((inference.fixed_effects[0].dist.estimate - 6.0).abs() < 1e-9);
        // Of the 6 equally likely assignments, 2 give |diff| >= 6 ({1,3} and {2,4}): p = 1/3.
        let p = dm.p_value(0.0);
        assert!((p - 1.0 / 3.0).abs() < 0.03, "p = {p}");
    }

    /// A region design: 4 regions x 14 days in 7-day blocks. The fast two-way statistic equals the
    /// coefficient of an explicit regression on date and region dummies (dense path), on the
    /// observed assignment and on every draw.
    #[test]
    fn region_designs_have_date_and_region_effects() {
        let (regions, days) = (4usize, 14usize);
        let n = regions * days;
        let region: Vec<usize> = (0..n).map(|i| i / days).collect();
        let day: Vec<usize> = (0..n).map(|i| i % days).collect();
        let block: Vec<usize> = (0..n).map(|i| region[i] * 2 + day[i] / 7).collect();
        let on: Vec<bool> = block.iter().map(|b| b % 2 == usize::from(b / 2 % 2 == 0)).collect();
        // A shared daily shock, region levels, and an effect of 3.
        let y: Vec<f64> = (0..n)
            .map(|i| {
                10.0 * ((day[i] * 7 % 11) as f64) + 5.0 * region[i] as f64 + if on[i] { 3.0 } else { 0.0 } + ((i * 13 % 5) as f64)
            })
            .collect();
        let units = Units {
            outcomes: vec![y.clone()],
            on: on.clone(),
            dow: day.iter().map(|d| d % 7).collect(),
            day: day.clone(),
            region: region.clone(),
            block: block.clone(),
            block_strata: (0..regions * 2).map(|b| (b / 2, 7)).collect(),
            cluster: day.clone(),
            previous_on: vec![None; n],
            covariate: None,
        };
        assert!(units.balanced_panel(&units.fixed_effects()).is_some());
        let fast = rerandomize(&units, 500, 3);
        // The dense regression on date and region dummies.
        let fe = FixedEffects::new(n, &[day.clone(), region.clone()]);
        let d: Vec<f64> = on.iter().map(|o| f64::from(u8::from(*o))).collect();
        let (yr, dr) = (fe.residualize(&y), fe.residualize(&d));
        let dense = yr.iter().zip(&dr).map(|(a, b)| a * b).sum::<f64>() / dr.iter().map(|b| b * b).sum::<f64>();
        let estimate = fast.fixed_effects[0].dist.estimate;
        assert!((estimate - dense).abs() < 1e-9, "{estimate} vs {dense}");
        // Every draw's statistic matches the dense formula on that draw's assignment.
        let p = prepare(&units);
        let strata = Strata::new(&units.block_strata);
        let all = strata.enumerate(1000).expect("C(2,1)^4 = 16 assignments");
        assert_eq!(all.len(), 16);
        for on_blocks in &all {
            let mut out = Vec::new();
            statistics(&p, on_blocks, &mut vec![0.0; p.width], &mut vec![0.0; p.scratch()], &mut out);
            let dk: Vec<f64> = block.iter().map(|b| f64::from(u8::from(on_blocks.contains(b)))).collect();
            let dkr = fe.residualize(&dk);
            let denominator = dk.iter().zip(&dkr).map(|(a, b)| a * b).sum::<f64>();
            if denominator.abs() < 1e-9 {
                // Every region on in one week and off in the other: the assignment is a date
                // effect, no contrast is left (the analysis counts such a draw as not extreme).
                assert!(!out[0].is_finite() || out[0].abs() > 1e6, "{}", out[0]);
                continue;
            }
            let expected = yr.iter().zip(&dk).map(|(a, b)| a * b).sum::<f64>() / denominator;
            assert!((out[0] - expected).abs() < 1e-9, "{} vs {expected}", out[0]);
        }
        assert!(fast.fixed_effects[0].dist.exact);
    }

    #[test]
    fn draws_do_not_depend_on_thread_count() {
        let n = 40;
        let units = Units {
            outcomes: vec![(0..n).map(|i| (i % 7) as f64 + if i % 3 == 0 { 2.0 } else { 0.0 }).collect()],
            on: (0..n).map(|i| i % 3 == 0).collect(),
            dow: (0..n).map(|i| i % 7).collect(),
            day: (0..n).collect(),
            region: vec![0; n],
            block: (0..n).collect(),
            block_strata: (0..n).map(|i| (0, (i % 7) as u32)).collect(),
            cluster: (0..n).collect(),
            previous_on: vec![None; n],
            covariate: None,
        };
        let a = rerandomize(&units, 2000, 9);
        let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let b = single.install(|| rerandomize(&units, 2000, 9));
        assert_eq!(a.fixed_effects[0].dist, b.fixed_effects[0].dist);
    }
}

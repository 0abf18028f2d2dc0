//! Power by simulation on the team's own history, with the inference the
//! analysis runs: for each test length and block length, the smallest effect
//! the re-randomization test detects with the stated power, or why none can be.
//!
//! Each simulation cuts a window of the historical daily series, draws a
//! schedule with the real design (blocks balanced by start weekday) and runs
//! the fixed-effects re-randomization test on it, exactly over every
//! assignment when the design has few, as the analysis does.
//!
//! The effect is a count: on an on-day the campaign adds `delta` purchases on
//! average, with a day-to-day variance of `delta` (Poisson-like), which costs
//! power that a constant effect would not. With `z` a standard normal draw
//! per on-day, the outcome `y + delta * D + sqrt(delta) * z * D` gives draw
//! `k` the statistic `a_k + delta * b_k + sqrt(delta) * c_k` (the statistic is
//! linear in the outcome: `a` on the history, `b` on the assignment, `c` on
//! the noise), so one test per window gives the power at every effect size. A design whose smallest attainable
//! p-value is above alpha (four blocks, two on: six assignments, p >= 1/3) is
//! never given a detectable effect; the table says why instead.

use chrono::NaiveDate;
use rand::Rng;
use rayon::prelude::*;
use upshot_result::format::{number, percent};
use upshot_result::{Cell, Chart, ChartKind, Format, Series, Table};
use upshot_stats::randomization::RandomizationDist;

use crate::design::{Balance, DesignParams, Strata, design, stratum_of};
use crate::model::{Units, fixed_effects_test};

/// Power the detectable effect is defined at, unless stated otherwise.
pub const TARGET_POWER: f64 = 0.8;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerParams {
    /// Candidate test lengths in days.
    pub test_lengths: Vec<usize>,
    /// Candidate block lengths in days.
    pub block_lengths: Vec<usize>,
    /// Simulated tests per design.
    pub simulations: usize,
    /// Re-randomization draws per simulated test (every assignment when the design has fewer).
    pub draws: usize,
    /// Two-sided level of the test.
    pub alpha: f64,
    /// Power the detectable effect is defined at.
    pub power: f64,
    /// An effect (purchases per on-day) whose power each design reports, e.g. the effect at
    /// which the campaign breaks even; it also sets the days needed.
    pub effect: Option<f64>,
    /// Days at the start of every block left out, as the schedule will mark them (capped at one
    /// less than the block: one-day blocks have none).
    pub washout_days: usize,
    /// Seed of the simulations.
    pub seed: u64,
}

/// One design's power.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerRow {
    /// Test length in days.
    pub test_days: usize,
    /// Block length in days.
    pub block_days: usize,
    /// Regions (1: a time-only switchback).
    pub regions: usize,
    /// Mean daily purchases (per region) over the simulated windows.
    pub baseline: f64,
    /// Assignments the design can draw.
    pub assignments: f64,
    /// The smallest two-sided p-value the test can reach on this design.
    pub smallest_p: f64,
    /// Effect per on-day detected with the stated power; `None` when the design cannot reach it.
    pub mde: Option<f64>,
    /// Why there is no detectable effect, in words.
    pub refusal: Option<String>,
    /// Rejection rate with no effect (at most alpha up to simulation noise).
    pub false_positive_rate: Option<f64>,
    /// Power at [`PowerParams::effect`].
    pub power_at_effect: Option<f64>,
    /// Simulated tests.
    pub simulations: usize,
    /// Whether each simulated test enumerated every assignment.
    pub exact: bool,
}

/// The strata of a schedule of `days` days in `block_days`-day blocks from `start`, in `regions`
/// regions (1: time-only).
pub fn strata(start: NaiveDate, days: usize, block_days: usize, regions: usize) -> Strata {
    let blocks: Vec<(usize, u32)> = (0..regions.max(1))
        .flat_map(|r| {
            (0..days.div_ceil(block_days))
                .map(move |b| stratum_of(r, start + chrono::Days::new((b * block_days) as u64), block_days, Balance::Weekday))
        })
        .collect();
    Strata::new(&blocks)
}

/// One simulated test: the statistic of every draw on the history window (`a`,
/// with `b` on the assignment) and on the effect's day-to-day noise (`c`).
#[derive(Debug, Clone)]
struct SimulatedTest {
    history: RandomizationDist,
    noise: RandomizationDist,
}

impl SimulatedTest {
    /// Two-sided p-value of `H0: effect = 0` when the true effect is `delta`.
    fn p_value(&self, delta: f64) -> f64 {
        let spread = delta.max(0.0).sqrt();
        let observed = self.history.estimate + delta + spread * self.noise.estimate;
        let threshold = observed.abs() - 1e-9 * (1.0 + observed.abs());
        let extreme = self
            .history
            .on_outcome
            .iter()
            .zip(&self.history.on_assignment)
            .zip(&self.noise.on_outcome)
            .filter(|((a, b), c)| (*a + delta * *b + spread * *c).abs() >= threshold)
            .count();
        let draws = self.history.draws();
        if self.history.exact { extreme as f64 / draws.max(1) as f64 } else { (extreme + 1) as f64 / (draws + 1) as f64 }
    }
}

/// Share of simulated tests that reject `effect = 0` when the true effect is `delta`.
fn power_at(tests: &[SimulatedTest], delta: f64, alpha: f64) -> f64 {
    let rejected = tests.par_iter().filter(|t| t.p_value(delta) <= alpha).count();
    rejected as f64 / tests.len().max(1) as f64
}

fn empty() -> RandomizationDist {
    RandomizationDist { estimate: f64::NAN, on_outcome: Vec::new(), on_assignment: Vec::new(), exact: false }
}

/// Simulates every (test length, block length) pair on `history` (one value per day from `start`).
pub fn simulate(start: NaiveDate, history: &[f64], params: &PowerParams) -> Vec<PowerRow> {
    simulate_regions(start, &[history], params)
}

/// Simulates region x day designs: `histories` holds one daily series per region, all from
/// `start` and of one length; the analysis's date and region fixed effects, blocks balanced per
/// region and start weekday. One region is a time-only switchback. The effect is per on-region-day.
pub fn simulate_regions(start: NaiveDate, histories: &[&[f64]], params: &PowerParams) -> Vec<PowerRow> {
    let mut rows = Vec::new();
    let length = histories.iter().map(|h| h.len()).min().unwrap_or(0);
    if histories.is_empty() {
        return rows;
    }
    let history: Vec<&[f64]> = histories.iter().map(|h| &h[..length]).collect();
    for &test_days in &params.test_lengths {
        if test_days > length {
            continue;
        }
        for &block_days in &params.block_lengths {
            if block_days == 0 || block_days * 2 > test_days {
                continue;
            }
            rows.push(simulate_design(start, &history, test_days, block_days, params));
        }
    }
    rows
}

fn simulate_design(start: NaiveDate, history: &[&[f64]], test_days: usize, block_days: usize, params: &PowerParams) -> PowerRow {
    let regions = history.len();
    let length = history[0].len();
    let design_strata = strata(start, test_days, block_days, regions);
    let assignments = design_strata.assignments();
    let smallest_p = design_strata.smallest_p();
    let mut row = PowerRow {
        test_days,
        block_days,
        regions,
        baseline: history.iter().map(|h| h.iter().sum::<f64>()).sum::<f64>() / (length * regions).max(1) as f64,
        assignments,
        smallest_p,
        mde: None,
        refusal: None,
        false_positive_rate: None,
        power_at_effect: None,
        simulations: 0,
        exact: assignments <= params.draws as f64,
    };
    if smallest_p > params.alpha {
        row.refusal = Some(format!(
            "{} blocks give only {} possible assignments: the smallest p-value the test can reach is {}, above alpha {}",
            test_days.div_ceil(block_days) * regions,
            number(assignments, 0),
            number(smallest_p, 3),
            params.alpha
        ));
        return row;
    }
    let design_id = (test_days * 1000 + block_days) as u64;
    let results: Vec<(f64, SimulatedTest)> = (0..params.simulations)
        .into_par_iter()
        .map(|s| {
            let mut rng = upshot_stats::rng::stream(params.seed, "brand-power", design_id << 32 | s as u64);
            let offset = rng.random_range(0..=length - test_days);
            let window: Vec<f64> = history.iter().flat_map(|h| h[offset..offset + test_days].iter().copied()).collect();
            let schedule = design(&DesignParams {
                start: start + chrono::Days::new(offset as u64),
                days: test_days,
                regions: if regions == 1 { vec![None] } else { (0..regions).map(|r| Some(r.to_string())).collect() },
                block_days,
                washout_days: params.washout_days.min(block_days - 1),
                seed: rng.random(),
            });
            let noise: Vec<f64> = schedule
                .iter()
                .filter(|r| !r.washout)
                .map(|r| if r.brand_on { rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng) } else { 0.0 })
                .collect();
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            let mut units = Units::from_schedule(&schedule, window, test_days, block_days);
            units.outcomes.push(noise);
            let mut dists = fixed_effects_test(&units, params.draws, &mut rng).into_iter();
            let (history, noise) = (dists.next().unwrap_or_else(empty), dists.next().unwrap_or_else(empty));
            (mean, SimulatedTest { history, noise })
        })
        .collect();
    row.baseline = results.iter().map(|(b, _)| b).sum::<f64>() / results.len().max(1) as f64;
    let dists: Vec<SimulatedTest> =
        results.into_iter().map(|(_, t)| t).filter(|t| t.history.estimate.is_finite() && t.noise.estimate.is_finite()).collect();
    row.simulations = dists.len();
    if dists.is_empty() {
        row.refusal = Some("no simulated test had an on/off contrast".into());
        return row;
    }
    row.false_positive_rate = Some(power_at(&dists, 0.0, params.alpha));
    row.power_at_effect = params.effect.map(|e| power_at(&dists, e, params.alpha));
    // Bracket the detectable effect by doubling from the null spread, then bisect.
    let spread = {
        let all: Vec<f64> = dists.iter().flat_map(|t| t.history.on_outcome.iter().copied()).collect();
        let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
        (all.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / all.len().max(1) as f64).sqrt().max(1e-6)
    };
    let mut hi = spread;
    let mut doublings = 0;
    while power_at(&dists, hi, params.alpha) < params.power && doublings < 40 {
        hi *= 2.0;
        doublings += 1;
    }
    if power_at(&dists, hi, params.alpha) < params.power {
        row.refusal = Some(format!(
            "no effect reaches {} power: the draws cannot make p small enough (try more draws)",
            percent(params.power)
        ));
        return row;
    }
    let mut lo = 0.0;
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if power_at(&dists, mid, params.alpha) >= params.power {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    row.mde = Some(hi);
    row
}

/// The shortest simulated test with `block_days`-day blocks that detects
/// [`PowerParams::effect`] with the stated power; `None` when none of the
/// simulated lengths does (or no effect was given).
pub fn days_needed(rows: &[PowerRow], block_days: usize, power: f64) -> Option<usize> {
    rows.iter().filter(|r| r.block_days == block_days && r.power_at_effect.is_some_and(|p| p >= power)).map(|r| r.test_days).min()
}

/// Simulated tests and draws behind [`days_to_detect`]: fewer than the design
/// command's, since the analysis sizes one design only.
pub const SIZING_SIMULATIONS: usize = 300;

/// Test lengths of 1, 1.5, 2, 3, 4 and 6 times `current_days`, in whole blocks: what a test that
/// cannot yet tell is sized among.
pub fn multiples(current_days: usize, block_days: usize) -> Vec<usize> {
    let block = block_days.max(1);
    [1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
        .iter()
        .map(|f: &f64| ((current_days as f64 * f) / block as f64).ceil() as usize * block)
        .collect()
}

/// The shortest of `params.test_lengths` in which a switchback with blocks of
/// `params.block_lengths[0]` days detects `params.effect` with `params.power`, simulated on
/// `series` (daily new customers from `start`, one series per region, with any measured effect
/// removed; one series for a time-only test). Lengths are
/// tried in ascending order and the search stops at the first that reaches the power. A series
/// shorter than the longest length plus half a year is extended by whole weeks drawn from it at
/// random (seeded), each kept on its weekdays. `None` when no length reaches the power, no
/// effect was given or the series has no full week.
pub fn days_to_detect(start: NaiveDate, series: &[&[f64]], params: &PowerParams) -> Option<usize> {
    let length = series.iter().map(|s| s.len()).min().unwrap_or(0);
    let weeks = length / 7;
    let effect = params.effect?;
    let block_days = *params.block_lengths.first()?;
    if weeks == 0 || !(effect.is_finite() && effect > 0.0) || block_days == 0 {
        return None;
    }
    let mut lengths = params.test_lengths.clone();
    lengths.sort_unstable();
    let longest = lengths.last().copied().unwrap_or(0);
    let mut rng = upshot_stats::rng::stream(params.seed, "brand-sizing-history", 0);
    // The same weeks in every region, so shocks the regions share stay shared.
    let mut history: Vec<Vec<f64>> = series.iter().map(|s| s[..weeks * 7].to_vec()).collect();
    while history[0].len() < longest + 182 {
        let week = rng.random_range(0..weeks);
        for (h, s) in history.iter_mut().zip(series) {
            h.extend_from_slice(&s[week * 7..week * 7 + 7]);
        }
    }
    let slices: Vec<&[f64]> = history.iter().map(Vec::as_slice).collect();
    lengths.into_iter().find(|&days| {
        let one = PowerParams { test_lengths: vec![days], block_lengths: vec![block_days], ..params.clone() };
        days_needed(&simulate_regions(start, &slices, &one), block_days, params.power).is_some()
    })
}

/// [`PowerParams`] for sizing one design: `lengths` in blocks of `block_days`, the power at
/// `effect`, [`SIZING_SIMULATIONS`] tests of as many draws, two-sided 5%, 80% power.
pub fn sizing_params(lengths: Vec<usize>, block_days: usize, effect: f64, seed: u64) -> PowerParams {
    PowerParams {
        test_lengths: lengths,
        block_lengths: vec![block_days],
        simulations: SIZING_SIMULATIONS,
        draws: SIZING_SIMULATIONS,
        alpha: 0.05,
        power: TARGET_POWER,
        effect: Some(effect),
        washout_days: 0,
        seed,
    }
}

/// What the effect is counted per: a day, or a region-day in a region design.
pub fn unit_word(regions: usize) -> &'static str {
    if regions > 1 { "region-day" } else { "day" }
}

/// The power table and chart for the design report.
/// `planned`: the (test days, block days) of the schedule being drawn, which the title speaks of.
pub fn present(rows: &[PowerRow], history_days: usize, params: &PowerParams, planned: (usize, usize)) -> (Table, Chart) {
    let level = format!("{} power, two-sided alpha {}", percent(params.power), params.alpha);
    let mut columns = vec![
        ("test_days", Format::Count),
        ("block_days", Format::Count),
        ("baseline_per_day", Format::Number),
        ("assignments", Format::Count),
        ("smallest_p", Format::Number),
        ("mde_per_on_day", Format::Number),
        ("mde_share", Format::Percent),
        ("false_positive_rate", Format::Percent),
    ];
    if params.effect.is_some() {
        columns.push(("power_at_effect", Format::Percent));
    }
    columns.extend([("simulations", Format::Count), ("inference", Format::Text), ("note", Format::Text)]);
    let mut table = Table::new("power", &format!("Minimum detectable effect at {level}, by test and block length"), &columns);
    for row in rows {
        let mut cells = vec![
            Cell::from(row.test_days as u64),
            Cell::from(row.block_days as u64),
            Cell::from(row.baseline),
            if row.assignments < 1e15 { Cell::from(row.assignments.round() as u64) } else { Cell::from(row.assignments) },
            Cell::from(row.smallest_p),
            Cell::from(row.mde),
            Cell::from(row.mde.map(|m| m / row.baseline)),
            Cell::from(row.false_positive_rate),
        ];
        if params.effect.is_some() {
            cells.push(Cell::from(row.power_at_effect));
        }
        cells.extend([
            Cell::from(row.simulations as u64),
            Cell::from(if row.exact { "exact (every assignment)" } else { "re-randomization draws" }),
            Cell::from(row.refusal.clone().unwrap_or_default()),
        ]);
        table.push(cells);
    }
    let mut lengths: Vec<usize> = rows.iter().map(|r| r.test_days).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let mut blocks: Vec<usize> = rows.iter().map(|r| r.block_days).collect();
    blocks.sort_unstable();
    blocks.dedup();
    let series = blocks
        .iter()
        .map(|b| {
            Series::new(
                &format!("blocks of {b} day(s)"),
                lengths
                    .iter()
                    .map(|l| {
                        rows.iter().find(|r| r.test_days == *l && r.block_days == *b).and_then(|r| r.mde.map(|m| m / r.baseline))
                    })
                    .collect(),
            )
        })
        .collect();
    let planned_row = rows.iter().find(|r| (r.test_days, r.block_days) == planned);
    let needed = params.effect.and_then(|e| days_needed(rows, planned.1, params.power).map(|d| (e, d)));
    let title = match (planned_row, needed) {
        (Some(row), Some((effect, days))) if row.mde.is_some() => format!(
            "Your {}-day test detects {} purchases a {} ({} lift); {} a {} needs {days} days",
            row.test_days,
            number(row.mde.unwrap_or(f64::NAN), 1),
            unit_word(row.regions),
            percent(row.mde.unwrap_or(f64::NAN) / row.baseline),
            number(effect, 1),
            unit_word(row.regions)
        ),
        (Some(row), _) if row.mde.is_some() => format!(
            "Your {}-day test with {}-day blocks detects {} purchases a {} ({} lift)",
            row.test_days,
            row.block_days,
            number(row.mde.unwrap_or(f64::NAN), 1),
            unit_word(row.regions),
            percent(row.mde.unwrap_or(f64::NAN) / row.baseline)
        ),
        (Some(row), _) => {
            format!("Your {}-day test with {}-day blocks can never reach significance", row.test_days, row.block_days)
        }
        (None, _) => match rows.iter().filter_map(|r| r.mde.map(|m| (r, m / r.baseline))).min_by(|a, b| a.1.total_cmp(&b.1)) {
            Some((best, share)) => format!(
                "A {}-day test with {}-day blocks detects a {} lift ({} purchases a {})",
                best.test_days,
                best.block_days,
                percent(share),
                number(best.mde.unwrap_or(f64::NAN), 1),
                unit_word(best.regions)
            ),
            None => "No simulated design can detect an effect: too little history or too few blocks".into(),
        },
    };
    let refused = rows.iter().filter(|r| r.mde.is_none()).count();
    let mut note = format!("{history_days} days of history, the analysis's re-randomization test; {level}.");
    if refused > 0 {
        note.push_str(&format!(" {refused} design(s) can never reach significance (table)."));
    }
    let chart = Chart::new(ChartKind::Lines, "power", title)
        .note(note)
        .axes("test length (days)", "minimum detectable lift", Format::Percent)
        .categories(lengths.iter().map(|l| l.to_string()).collect())
        .series(series)
        .table("power");
    (table, chart)
}

/// New customers per day from an orders frame, zero-filled, with the first day.
pub fn daily_new_customers(orders: &polars::prelude::DataFrame) -> Result<(NaiveDate, Vec<f64>), crate::BrandError> {
    let (start, mut series) = daily_by(orders, None)?;
    Ok((start, series.pop().unwrap_or_default()))
}

/// New customers per day in each of `regions` (the orders' `region` column), zero-filled, over
/// one span of days (the first to the last new customer of any of them), with the first day. A
/// region no new customer names is an error that lists the regions the orders have.
pub fn daily_new_customers_by_region(
    orders: &polars::prelude::DataFrame,
    regions: &[String],
) -> Result<(NaiveDate, Vec<Vec<f64>>), crate::BrandError> {
    daily_by(orders, Some(regions))
}

fn daily_by(
    orders: &polars::prelude::DataFrame,
    regions: Option<&[String]>,
) -> Result<(NaiveDate, Vec<Vec<f64>>), crate::BrandError> {
    use polars::prelude::*;
    let read = crate::BrandError::polars("read dates");
    let firsts = upshot_data::derive::new_customers(orders).map_err(crate::BrandError::polars("find new customers"))?;
    let region_expr = if regions.is_some() { col("region").cast(DataType::String) } else { lit(NULL).cast(DataType::String) };
    let days = firsts
        .lazy()
        .select([col("paid_at").cast(DataType::Date).cast(DataType::Int32).alias("d"), region_expr.alias("r")])
        .collect()
        .map_err(read)?;
    let d: Vec<Option<i32>> = days
        .column("d")
        .map_err(crate::BrandError::polars("read dates"))?
        .i32()
        .map_err(crate::BrandError::polars("read dates"))?
        .iter()
        .collect();
    let r: Vec<Option<String>> = days
        .column("r")
        .map_err(crate::BrandError::polars("read regions"))?
        .str()
        .map_err(crate::BrandError::polars("read regions"))?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
    let index = |region: &Option<String>| -> Option<usize> {
        match regions {
            None => Some(0),
            Some(names) => region.as_ref().and_then(|v| names.iter().position(|n| n == v)),
        }
    };
    let picked: Vec<(i32, usize)> = d.iter().zip(&r).filter_map(|(day, region)| Some(((*day)?, index(region)?))).collect();
    let series_count = regions.map_or(1, <[String]>::len);
    if let Some(names) = regions {
        let missing: Vec<&String> =
            names.iter().enumerate().filter(|(i, _)| !picked.iter().any(|(_, r)| r == i)).map(|(_, n)| n).collect();
        if !missing.is_empty() {
            let mut known: Vec<String> = r.iter().flatten().cloned().collect();
            known.sort();
            known.dedup();
            known.truncate(12);
            return Err(crate::BrandError::Params(format!(
                "no new customer in the history's `region` column is in {}: the orders name {}",
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                if known.is_empty() { "no region at all".to_string() } else { known.join(", ") }
            )));
        }
    }
    let first = picked.iter().map(|(d, _)| *d).min().unwrap_or(0);
    let last = picked.iter().map(|(d, _)| *d).max().unwrap_or(0);
    let mut series = vec![vec![0.0; (last - first + 1).max(0) as usize]; series_count];
    for (day, region) in picked {
        series[region][(day - first) as usize] += 1.0;
    }
    let start = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(first));
    Ok((start, series))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> Vec<f64> {
        let mut rng = upshot_stats::rng::stream(5, "history", 0);
        (0..365).map(|d| 20.0 + if d % 7 >= 5 { -4.0 } else { 0.0 } + rng.random_range(-4.0..4.0)).collect()
    }

    fn params(test_lengths: &[usize], block_lengths: &[usize], simulations: usize) -> PowerParams {
        PowerParams {
            test_lengths: test_lengths.to_vec(),
            block_lengths: block_lengths.to_vec(),
            simulations,
            draws: 200,
            alpha: 0.05,
            power: TARGET_POWER,
            effect: Some(3.0),
            washout_days: 0,
            seed: 1,
        }
    }

    #[test]
    fn longer_tests_detect_smaller_effects() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let rows = simulate(start, &history(), &params(&[28, 84], &[1], 200));
        assert_eq!(rows.len(), 2);
        let (short, long) = (rows[0].mde.expect("detects"), rows[1].mde.expect("detects"));
        assert!(long < short, "{rows:?}");
        assert!(rows[1].power_at_effect >= rows[0].power_at_effect);
        assert_eq!(
            days_needed(&rows, 1, TARGET_POWER),
            rows.iter().find(|r| r.power_at_effect >= Some(0.8)).map(|r| r.test_days)
        );
    }

    #[test]
    fn designs_that_cannot_reject_get_no_detectable_effect() {
        // 28 days of 7-day blocks: 4 blocks, 2 on, 6 assignments, p >= 1/3 > 0.05.
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let rows = simulate(start, &history(), &params(&[28], &[7], 50));
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.assignments, 6.0);
        assert!(row.mde.is_none() && row.power_at_effect.is_none());
        assert!(row.refusal.as_deref().is_some_and(|r| r.contains("only 6 possible assignments")), "{row:?}");
        let (table, chart) = present(&rows, 365, &params(&[28], &[7], 50), (28, 7));
        assert_eq!(table.rows.len(), 1);
        assert_eq!(chart.title, "Your 28-day test with 7-day blocks can never reach significance");
        let (_, chart) = present(&rows, 365, &params(&[28], &[7], 50), (56, 1));
        assert!(chart.title.starts_with("No simulated design"), "{}", chart.title);
    }

    #[test]
    fn a_test_is_sized_from_its_own_days() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let days: Vec<f64> = history()[..56].to_vec();
        let sized =
            |series: &[f64], effect: f64| days_to_detect(start, &[series], &sizing_params(multiples(56, 1), 1, effect, 3));
        // A large effect is detected in the test's own length, a small one needs longer.
        let big = sized(&days, 6.0).expect("sized");
        let small = sized(&days, 2.0).expect("sized");
        assert!(big <= 56 && small > big, "{big} {small}");
        assert_eq!(sized(&days, 0.01), None);
        assert_eq!(sized(&days[..5], 3.0), None);
        assert_eq!(sized(&days, 2.0), Some(small), "seeded");
        assert_eq!(multiples(56, 7), vec![56, 84, 112, 168, 224, 336]);
    }

    #[test]
    fn washout_days_cost_power() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let mut with = params(&[112], &[7], 200);
        let without = simulate(start, &history(), &with);
        with.washout_days = 2;
        let washed = simulate(start, &history(), &with);
        // Five of seven days per block left: a larger detectable effect.
        assert!(washed[0].mde > without[0].mde, "{washed:?} vs {without:?}");
    }

    #[test]
    fn few_assignments_are_enumerated_exactly() {
        // 56 days of 7-day blocks: 8 blocks, C(8,4) = 70 assignments, all of them listed.
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let rows = simulate(start, &history(), &params(&[56], &[7], 100));
        assert_eq!(rows[0].assignments, 70.0);
        assert!(rows[0].exact && rows[0].mde.is_some(), "{rows:?}");
    }
}

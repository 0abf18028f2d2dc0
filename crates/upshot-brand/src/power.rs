//! Power by simulation on the team's own history: for each test length and
//! block length, the minimum detectable effect (MDE) at 80% power.
//!
//! Each simulation cuts a window of the historical daily series, draws a
//! schedule with the real design, and runs the fixed-effects estimator with
//! its cluster-robust test. Adding an effect `delta` to the on-days shifts
//! the estimate by exactly `delta` and leaves the residuals alone, so one fit
//! per window gives the power at every effect size.

use chrono::NaiveDate;
use rand::Rng;
use upshot_result::format::{number, percent};
use upshot_result::{Cell, Chart, ChartKind, Format, Series, Table};
use upshot_stats::normal_quantile;

use crate::design::{DesignParams, design};
use crate::model::{Units, robust};

/// Power the MDE is defined at.
pub const TARGET_POWER: f64 = 0.8;

/// One design's minimum detectable effect.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerRow {
    /// Test length in days.
    pub test_days: usize,
    /// Block length in days.
    pub block_days: usize,
    /// Mean daily purchases over the simulated windows.
    pub baseline: f64,
    /// Effect per on-day detectable with 80% power.
    pub mde: f64,
    /// Rejection rate with no effect (should be near alpha).
    pub false_positive_rate: f64,
    /// Simulations run.
    pub simulations: usize,
}

/// Simulates every (test length, block length) pair on `history` (one value
/// per day starting at `start`).
pub fn simulate(
    start: NaiveDate,
    history: &[f64],
    test_lengths: &[usize],
    block_lengths: &[usize],
    simulations: usize,
    alpha: f64,
    seed: u64,
) -> Vec<PowerRow> {
    let z = normal_quantile(1.0 - alpha / 2.0);
    let mut rows = Vec::new();
    for &test_days in test_lengths {
        if test_days > history.len() {
            continue;
        }
        for &block_days in block_lengths {
            if block_days * 4 > test_days {
                continue;
            }
            let mut rng = upshot_stats::rng::stream(seed, "brand-power", (test_days * 1000 + block_days) as u64);
            let mut fits = Vec::with_capacity(simulations);
            let mut baseline = 0.0;
            for s in 0..simulations {
                let offset = rng.random_range(0..=history.len() - test_days);
                let window = &history[offset..offset + test_days];
                let schedule = design(&DesignParams {
                    start: start + chrono::Days::new(offset as u64),
                    days: test_days,
                    regions: vec![None],
                    block_days,
                    washout_days: 0,
                    seed: seed ^ ((s as u64) << 20) ^ (test_days as u64) << 8 ^ block_days as u64,
                });
                let units = Units {
                    outcomes: vec![window.to_vec()],
                    on: schedule.iter().map(|r| r.brand_on).collect(),
                    dow: schedule.iter().map(|r| chrono::Datelike::weekday(&r.date).num_days_from_monday() as usize).collect(),
                    region: vec![0; test_days],
                    block: (0..test_days).map(|d| d / block_days).collect(),
                    block_strata: Vec::new(),
                    cluster: (0..test_days).map(|d| d / block_days).collect(),
                    previous_on: vec![None; test_days],
                };
                baseline += window.iter().sum::<f64>() / test_days as f64;
                let fit = robust(&units, 0);
                if fit.estimate.is_finite() && fit.std_error.is_finite() && fit.std_error > 0.0 {
                    fits.push((fit.estimate, fit.std_error));
                }
            }
            if fits.is_empty() {
                continue;
            }
            let power =
                |delta: f64| fits.iter().filter(|(e, se)| ((e + delta) / se).abs() > z).count() as f64 / fits.len() as f64;
            let mut hi = fits.iter().map(|(_, se)| *se).fold(0.0, f64::max) * 10.0 + 1.0;
            let mut lo = 0.0;
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if power(mid) >= TARGET_POWER {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            rows.push(PowerRow {
                test_days,
                block_days,
                baseline: baseline / simulations as f64,
                mde: hi,
                false_positive_rate: power(0.0),
                simulations: fits.len(),
            });
        }
    }
    rows
}

/// The power table and chart for the design report.
pub fn present(rows: &[PowerRow], history_days: usize) -> (Table, Chart) {
    let mut table = Table::new(
        "power",
        "Minimum detectable effect at 80% power (alpha 0.05), by test and block length",
        &[
            ("test_days", Format::Count),
            ("block_days", Format::Count),
            ("baseline_per_day", Format::Number),
            ("mde_per_on_day", Format::Number),
            ("mde_share", Format::Percent),
            ("false_positive_rate", Format::Percent),
            ("simulations", Format::Count),
        ],
    );
    for row in rows {
        table.push(vec![
            Cell::from(row.test_days as u64),
            Cell::from(row.block_days as u64),
            Cell::from(row.baseline),
            Cell::from(row.mde),
            Cell::from(row.mde / row.baseline),
            Cell::from(row.false_positive_rate),
            Cell::from(row.simulations as u64),
        ]);
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
                    .map(|l| rows.iter().find(|r| r.test_days == *l && r.block_days == *b).map(|r| r.mde / r.baseline))
                    .collect(),
            )
        })
        .collect();
    let best = rows.iter().min_by(|a, b| (a.mde / a.baseline).total_cmp(&(b.mde / b.baseline)));
    let title = match best {
        Some(best) => format!(
            "A {}-day test with {}-day blocks detects a {} lift ({} purchases a day)",
            best.test_days,
            best.block_days,
            percent(best.mde / best.baseline),
            number(best.mde, 1)
        ),
        None => "Not enough history to simulate a test".into(),
    };
    let chart = Chart::new(ChartKind::Lines, "power", title)
        .note(format!("Simulated on {history_days} days of your daily new customers; 80% power, two-sided alpha 0.05."))
        .axes("test length (days)", "minimum detectable lift", Format::Percent)
        .categories(lengths.iter().map(|l| l.to_string()).collect())
        .series(series)
        .table("power");
    (table, chart)
}

/// New customers per day from an orders frame, zero-filled, with the first day.
pub fn daily_new_customers(orders: &polars::prelude::DataFrame) -> Result<(NaiveDate, Vec<f64>), crate::BrandError> {
    use polars::prelude::*;
    let firsts = upshot_data::derive::new_customers(orders).map_err(crate::BrandError::polars("find new customers"))?;
    let days = firsts
        .lazy()
        .select([col("paid_at").cast(DataType::Date).cast(DataType::Int32).alias("d")])
        .collect()
        .map_err(crate::BrandError::polars("read dates"))?;
    let days: Vec<i32> = days
        .column("d")
        .map_err(crate::BrandError::polars("read dates"))?
        .i32()
        .map_err(crate::BrandError::polars("read dates"))?
        .iter()
        .flatten()
        .collect();
    let first = days.iter().copied().min().unwrap_or(0);
    let last = days.iter().copied().max().unwrap_or(0);
    let mut daily = vec![0.0; (last - first + 1).max(0) as usize];
    for d in days {
        daily[(d - first) as usize] += 1.0;
    }
    let start = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(i64::from(first));
    Ok((start, daily))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_tests_detect_smaller_effects_and_hold_alpha() {
        let mut rng = upshot_stats::rng::stream(5, "history", 0);
        let history: Vec<f64> =
            (0..365).map(|d| 20.0 + if d % 7 >= 5 { -4.0 } else { 0.0 } + rng.random_range(-4.0..4.0)).collect();
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
        let rows = simulate(start, &history, &[28, 84], &[1], 400, 0.05, 1);
        assert_eq!(rows.len(), 2);
        assert!(rows[1].mde < rows[0].mde, "{rows:?}");
        for row in &rows {
            assert!(row.false_positive_rate < 0.12, "{row:?}");
        }
    }
}

//! Calibration of the re-randomization inference by simulation.
//!
//! Daily purchases are Poisson with a day-of-week pattern and a trend; on
//! on-days the campaign adds a Poisson number of purchases (a random, not a
//! constant, effect). The interval must cover the true mean effect at close
//! to its level, and with no effect the test must reject at close to alpha.
//! Simulation counts are chosen so that a correct method sits well inside
//! the bands: 1,000 tests put the binomial standard error of a 95% coverage
//! at 0.7 points (band 93-97% = ±2.9 SE); 2,000 A/A tests put that of a 5%
//! rejection rate at 0.5 points (band 3-7% = ±4 SE).
//! The measured rates are printed: `cargo test -p upshot-brand --test calibration -- --show-output`.
#![allow(clippy::print_stdout)]

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Poisson};
use upshot_brand::design::{DesignParams, design};
use upshot_brand::model::{Units, rerandomize};

/// Draws per test: few, for speed; the test stays exact at any number of draws.
const DRAWS: usize = 300;

fn simulated_test(seed: u64, effect: f64, block_days: usize) -> Units {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let days = 56;
    let schedule = design(&DesignParams { start, days, regions: vec![None], block_days, washout_days: 0, seed });
    let mut rng = upshot_stats::rng::stream(seed, "calibration-outcomes", 0);
    let dow_factor = [1.1, 1.1, 1.05, 1.0, 0.9, 0.75, 0.85];
    let mut outcomes = Vec::new();
    for (d, row) in schedule.iter().enumerate() {
        let base = 20.0 * dow_factor[row.date.weekday().num_days_from_monday() as usize] * (1.0 + 0.004 * d as f64);
        let mut y = Poisson::new(base).expect("lambda").sample(&mut rng);
        if row.brand_on && effect > 0.0 {
            y += Poisson::new(effect).expect("lambda").sample(&mut rng);
        }
        outcomes.push(y);
    }
    Units::switchback(&schedule, outcomes, block_days)
}

#[test]
fn interval_covers_the_true_effect_at_its_level() {
    let tests = 1000;
    let effect = 3.0;
    let mut covered_fe = 0;
    let mut covered_dm = 0;
    let mut seeds = upshot_stats::rng::stream(20261123, "coverage", 0);
    for i in 0..tests {
        let seed: u64 = seeds.random();
        let units = simulated_test(seed, effect, if i % 2 == 0 { 1 } else { 7 });
        let inference = rerandomize(&units, DRAWS, seed);
        let (lo, hi) = inference.fixed_effects[0].dist.interval(0.95);
        covered_fe += usize::from(lo <= effect && effect <= hi);
        let (lo, hi) = inference.difference_in_means[0].dist.interval(0.95);
        covered_dm += usize::from(lo <= effect && effect <= hi);
    }
    let rate_fe = covered_fe as f64 / tests as f64;
    let rate_dm = covered_dm as f64 / tests as f64;
    println!(
        "coverage of 95% intervals over {tests} simulated tests: fixed effects {rate_fe:.3}, difference in means {rate_dm:.3}"
    );
    assert!((0.93..=0.97).contains(&rate_fe), "fixed-effects coverage {rate_fe}");
    assert!((0.93..=0.97).contains(&rate_dm), "difference-in-means coverage {rate_dm}");
}

#[test]
fn aa_tests_reject_at_the_nominal_rate() {
    let tests = 2000;
    let mut rejected = 0;
    let mut seeds = upshot_stats::rng::stream(20261123, "aa", 0);
    for i in 0..tests {
        let seed: u64 = seeds.random();
        let units = simulated_test(seed, 0.0, if i % 2 == 0 { 1 } else { 7 });
        let inference = rerandomize(&units, DRAWS, seed);
        rejected += usize::from(inference.fixed_effects[0].dist.p_value(0.0) <= 0.05);
    }
    let rate = rejected as f64 / tests as f64;
    println!("false positive rate at alpha 0.05 over {tests} A/A tests: {rate:.3}");
    assert!((0.03..=0.07).contains(&rate), "A/A false positive rate {rate}");
}

/// A region x day test: 6 regions x 28 days, one-day blocks balanced per region and weekday, a
/// large shared daily shock (weather, a TV campaign), region levels and Poisson noise; a Poisson
/// effect on on-units. The date effects take the shared shock out.
fn region_test(seed: u64, effect: f64) -> Units {
    let (regions, days) = (6usize, 28usize);
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let names: Vec<Option<String>> = (0..regions).map(|r| Some(format!("r{r}"))).collect();
    let schedule = design(&DesignParams { start, days, regions: names, block_days: 1, washout_days: 0, seed });
    let mut rng = upshot_stats::rng::stream(seed, "calibration-region-outcomes", 0);
    let shocks: Vec<f64> = (0..days).map(|_| rng.random_range(0.5..1.8)).collect();
    let outcome: Vec<f64> = schedule
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let (r, d) = (i / days, i % days);
            let y = Poisson::new((6.0 + 2.0 * r as f64) * shocks[d]).expect("lambda").sample(&mut rng);
            if row.brand_on && effect > 0.0 { y + Poisson::new(effect).expect("lambda").sample(&mut rng) } else { y }
        })
        .collect();
    Units::from_schedule(&schedule, outcome, days, 1)
}

/// Region designs: 800 tests put the standard error of a 95% coverage at 0.8 points (band
/// 92.5-97.5, 3 SE), 1,000 A/A tests that of a 5% rejection at 0.7 points (band 3-7%).
#[test]
fn region_designs_cover_and_hold_alpha() {
    let mut seeds = upshot_stats::rng::stream(20261203, "region-calibration", 0);
    let (tests, effect) = (800, 2.0);
    let mut covered = 0;
    for _ in 0..tests {
        let seed: u64 = seeds.random();
        let inference = rerandomize(&region_test(seed, effect), DRAWS, seed);
        let (lo, hi) = inference.fixed_effects[0].dist.interval(0.95);
        covered += usize::from(lo <= effect && effect <= hi);
    }
    let mut rejected = 0;
    for _ in 0..1000 {
        let seed: u64 = seeds.random();
        let inference = rerandomize(&region_test(seed, 0.0), DRAWS, seed);
        rejected += usize::from(inference.fixed_effects[0].dist.p_value(0.0) <= 0.05);
    }
    let coverage = covered as f64 / tests as f64;
    let rate = rejected as f64 / 1000.0;
    println!(
        "region designs (6 x 28, date and region effects): coverage {coverage:.3} over {tests}, A/A rejection {rate:.3} over 1,000"
    );
    assert!((0.925..=0.975).contains(&coverage), "coverage {coverage}");
    assert!((0.03..=0.07).contains(&rate), "A/A rejection {rate}");
}

/// A region x day test whose regions have seasons of their own (a region's busy weeks come at
/// other times than another's: school holidays, weather, local events) that repeat from year to
/// year, with last year's same days from the same process: the covariate (each unit's region's
/// new customers 364 days earlier) carries the region's season, which date and region effects
/// cannot. Returns the test with the covariate and without it.
fn region_test_with_last_year(seed: u64, effect: f64) -> (Units, Units) {
    let (regions, days) = (6usize, 28usize);
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let names: Vec<Option<String>> = (0..regions).map(|r| Some(format!("r{r}"))).collect();
    let schedule = design(&DesignParams { start, days, regions: names, block_days: 1, washout_days: 0, seed });
    let mut rng = upshot_stats::rng::stream(seed, "calibration-cuped-outcomes", 0);
    // Per region: a level and a season (two waves of random phase), the same both years.
    let level: Vec<f64> = (0..regions).map(|_| rng.random_range(8.0..20.0)).collect();
    let phase: Vec<(f64, f64)> = (0..regions).map(|_| (rng.random_range(0.0..6.3), rng.random_range(0.0..6.3))).collect();
    let season = |r: usize, d: usize| {
        let t = d as f64;
        1.0 + 0.35 * (t / 9.0 + phase[r].0).sin() + 0.25 * (t / 4.0 + phase[r].1).sin()
    };
    let draw = |rng: &mut rand_chacha::ChaCha8Rng, r: usize, d: usize, shock: f64| {
        Poisson::new(level[r] * season(r, d) * shock).expect("lambda").sample(rng)
    };
    let last_year_shocks: Vec<f64> = (0..days).map(|_| rng.random_range(0.7..1.4)).collect();
    let last_year: Vec<f64> =
        (0..regions * days).map(|i| draw(&mut rng, i / days, i % days, last_year_shocks[i % days])).collect();
    let shocks: Vec<f64> = (0..days).map(|_| rng.random_range(0.7..1.4)).collect();
    let outcome: Vec<f64> = schedule
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let y = draw(&mut rng, i / days, i % days, shocks[i % days]);
            if row.brand_on && effect > 0.0 { y + Poisson::new(effect).expect("lambda").sample(&mut rng) } else { y }
        })
        .collect();
    let mut units = Units::from_schedule(&schedule, outcome, days, 1);
    let plain = units.clone();
    units.covariate = Some(last_year);
    (units, plain)
}

/// The covariate adjustment: 800 tests for coverage (band 92.5-97.5), 1,000 A/A tests (band
/// 3-7%), and narrower intervals than without it on the same tests.
#[test]
fn the_covariate_adjustment_covers_holds_alpha_and_narrows() {
    let mut seeds = upshot_stats::rng::stream(20261203, "cuped-calibration", 0);
    let (tests, effect) = (800, 2.0);
    let (mut covered, mut width, mut plain_width) = (0, 0.0, 0.0);
    for _ in 0..tests {
        let seed: u64 = seeds.random();
        let (adjusted, plain) = region_test_with_last_year(seed, effect);
        let (lo, hi) = rerandomize(&adjusted, DRAWS, seed).fixed_effects[0].dist.interval(0.95);
        covered += usize::from(lo <= effect && effect <= hi);
        width += (hi - lo) / tests as f64;
        let (lo, hi) = rerandomize(&plain, DRAWS, seed).fixed_effects[0].dist.interval(0.95);
        plain_width += (hi - lo) / tests as f64;
    }
    let mut rejected = 0;
    for _ in 0..1000 {
        let seed: u64 = seeds.random();
        let (adjusted, _) = region_test_with_last_year(seed, 0.0);
        rejected += usize::from(rerandomize(&adjusted, DRAWS, seed).fixed_effects[0].dist.p_value(0.0) <= 0.05);
    }
    let coverage = covered as f64 / tests as f64;
    let rate = rejected as f64 / 1000.0;
    println!(
        "covariate adjustment (6 x 28, regional seasons, last year's same days): coverage {coverage:.3}, A/A rejection {rate:.3}, mean 95% interval width {width:.2} vs {plain_width:.2} without"
    );
    assert!((0.925..=0.975).contains(&coverage), "coverage {coverage}");
    assert!((0.03..=0.07).contains(&rate), "A/A rejection {rate}");
    assert!(width < 0.9 * plain_width, "{width} vs {plain_width}");
}

//! Calibration by simulation: when response rates depend on the click channel,
//! the reweighted (post-stratified) estimate recovers the true channel shares
//! within its 95% interval at about the nominal rate, while Fairing's naive
//! extrapolation (answers / overall response rate) is measurably biased.
//!
//! Run with `cargo test -p upshot-survey --test calibration -- --nocapture`
//! to see the rates.

// The rates are printed so that CI logs show them.
#![allow(clippy::print_stdout)]

use rand::Rng;
use upshot_stats::percentile_interval;
use upshot_stats::rng::stream;
use upshot_survey::model::{Answer, Cell, Population, Rules, attribute, bootstrap};
use upshot_survey::{Extrapolation, Source};

const CHANNELS: [&str; 5] = ["google_search", "meta", "youtube", "influencers", "organic"];
/// Click channels and their share of customers (influencers have no clicks).
const CLICK_SHARE: [f64; 5] = [0.35, 0.15, 0.10, 0.0, 0.40];
/// Response rate by click channel: organic customers answer twice as often as search ones.
const RESPONSE: [f64; 5] = [0.30, 0.40, 0.55, 0.0, 0.65];
/// What customers of each click channel would answer.
const ANSWERS: [[f64; 5]; 5] = [
    [0.80, 0.02, 0.08, 0.05, 0.05],
    [0.05, 0.82, 0.05, 0.04, 0.04],
    [0.06, 0.03, 0.83, 0.04, 0.04],
    [0.0, 0.0, 0.0, 0.0, 1.0],
    [0.15, 0.03, 0.25, 0.22, 0.35],
];
const CUSTOMERS: usize = 5_000;
const RUNS: u64 = 400;
const DRAWS: usize = 400;

fn pick(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let mut u: f64 = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

fn true_shares() -> [f64; 5] {
    let mut shares = [0.0; 5];
    for (h, pi) in CLICK_SHARE.iter().enumerate() {
        for (c, q) in ANSWERS[h].iter().enumerate() {
            shares[c] += pi * q;
        }
    }
    shares
}

/// One simulated month: customers collapsed into (click, answer) cells; 5% get no survey.
fn simulate(seed: u64) -> Population {
    let mut rng = stream(seed, "calibration", 0);
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..CUSTOMERS {
        let click = pick(&mut rng, &CLICK_SHARE);
        let would_say = pick(&mut rng, &ANSWERS[click]);
        let answer = if rng.random_bool(0.05) {
            Answer::NotSurveyed
        } else if rng.random_bool(RESPONSE[click]) {
            Answer::Channel(would_say)
        } else {
            Answer::NoResponse
        };
        *counts.entry((click, answer)).or_insert(0.0) += 1.0;
    }
    Population {
        channels: CHANNELS.map(String::from).to_vec(),
        bands: 1,
        cells: counts.into_iter().map(|((click, answer), n)| Cell::count(click, None, answer, n)).collect(),
    }
}

#[test]
fn reweighted_intervals_cover_the_true_shares_and_naive_is_biased() {
    let truth = true_shares();
    let rules = |extrapolation| Rules { precedence: vec![Source::Survey, Source::Click], extrapolation, by_order_value: false };
    let sets = [rules(Extrapolation::Reweighted), rules(Extrapolation::Naive)];
    let mut covered = [[0u32; 5]; 2];
    let mut error_sum = [[0.0f64; 5]; 2];
    let mut error_sq = [[0.0f64; 5]; 2];
    for seed in 0..RUNS {
        let population = simulate(seed);
        let total = population.total();
        let draws = bootstrap(&population, &sets, DRAWS, seed);
        for (r, set) in sets.iter().enumerate() {
            let point = attribute(&population, &population.counts(), &population.revenues(), set);
            for c in 0..5 {
                let mut shares: Vec<f64> = draws.iter().map(|d| d[r].blended[c] / total).collect();
                let (low, high) = percentile_interval(&mut shares, 0.95).expect("draws");
                if low <= truth[c] && truth[c] <= high {
                    covered[r][c] += 1;
                }
                let error = point.blended[c] / total - truth[c];
                error_sum[r][c] += error;
                error_sq[r][c] += error * error;
            }
        }
    }
    let runs = RUNS as f64;
    // Binomial standard error of a 95% coverage rate over 400 runs: 1.1 points.
    let se = (0.95f64 * 0.05 / runs).sqrt();
    println!("95% interval coverage over {RUNS} simulated months of {CUSTOMERS} customers ({DRAWS} draws each):");
    for c in 0..5 {
        let bias = |r: usize| error_sum[r][c] / runs;
        let mc_se = |r: usize| ((error_sq[r][c] / runs - bias(r).powi(2)) / runs).sqrt();
        println!(
            "  {:<14} truth {:.3}  reweighted: coverage {:.1}%, bias {:+.4} (MC se {:.4})  naive: coverage {:.1}%, bias {:+.4}",
            CHANNELS[c],
            truth[c],
            100.0 * covered[0][c] as f64 / runs,
            bias(0),
            mc_se(0),
            100.0 * covered[1][c] as f64 / runs,
            bias(1)
        );
        let coverage = covered[0][c] as f64 / runs;
        assert!(coverage >= 0.90, "{}: reweighted coverage {coverage} under 90%", CHANNELS[c]);
        // A correct method sits within about four standard errors of the nominal 95%.
        assert!((coverage - 0.95).abs() <= 4.0 * se, "{}: coverage {coverage} far from 95% (se {se:.4})", CHANNELS[c]);
        assert!(bias(0).abs() <= 4.0 * mc_se(0) + 1e-4, "{}: reweighted bias {} (MC se {})", CHANNELS[c], bias(0), mc_se(0));
    }
    // The naive estimate under-counts search (its customers answer least) by far more than noise.
    let naive_bias = error_sum[1][0] / runs;
    let naive_se = ((error_sq[1][0] / runs - naive_bias.powi(2)) / runs).sqrt();
    assert!(naive_bias < -10.0 * naive_se, "naive google_search bias {naive_bias} (MC se {naive_se})");
    assert!((covered[1][0] as f64 / runs) < 0.5, "naive intervals miss the truth for google_search");
}

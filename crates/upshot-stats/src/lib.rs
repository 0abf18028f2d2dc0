//! Statistical building blocks shared by upshot's analyses: seeded random
//! streams, re-randomization inference with test-inversion intervals,
//! fixed-effects least squares with cluster-robust standard errors, Wilson
//! intervals for shares and percentile intervals for bootstrap draws.
//!
//! ```
//! use upshot_stats::randomization::RandomizationDist;
//! let dist = RandomizationDist { estimate: 3.0, on_outcome: vec![-1.0, 0.5, 1.0], on_assignment: vec![0.0; 3], exact: false };
//! assert_eq!(dist.p_value(0.0), 0.25); // only the observed draw is as extreme
//! ```
#![deny(missing_docs)]

pub mod randomization;
pub mod regression;
pub mod rng;

/// Standard normal quantile.
pub fn normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

/// Standard normal distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().cdf(x)
}

/// Wilson score interval for a binomial share `successes / trials` at `level`
/// (Wilson 1927; the interval Agresti & Coull recommend over the Wald one).
/// Zero trials give the uninformative interval (0, 1).
pub fn wilson_interval(successes: f64, trials: f64, level: f64) -> (f64, f64) {
    if trials <= 0.0 {
        return (0.0, 1.0);
    }
    let z = normal_quantile(0.5 + level / 2.0);
    let p = (successes / trials).clamp(0.0, 1.0);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * trials)) / (1.0 + z2 / trials);
    let half = z / (1.0 + z2 / trials) * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    // At p = 0 (or 1) the bound is exactly 0 (or 1); say so rather than leave rounding residue.
    let low = if successes <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if successes >= trials { 1.0 } else { (centre + half).min(1.0) };
    (low, high)
}

/// The `q` quantile of sorted values, interpolating linearly between order
/// statistics (type 7 of Hyndman & Fan, the default of R and numpy).
/// `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The central percentile interval at `level` of draws (sorted in place;
/// NaN draws are dropped). `None` when no finite draw is left.
pub fn percentile_interval(draws: &mut Vec<f64>, level: f64) -> Option<(f64, f64)> {
    draws.retain(|v| !v.is_nan());
    draws.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some((quantile_sorted(draws, tail)?, quantile_sorted(draws, 1.0 - tail)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Table I: 81/263 at 95% -> 0.2553 to 0.3662;
        // 15/148 -> 0.0624 to 0.1605; 0/20 -> 0 to 0.1611.
        let (lo, hi) = wilson_interval(81.0, 263.0, 0.95);
        assert!((lo - 0.2553).abs() < 5e-5 && (hi - 0.3662).abs() < 5e-5, "{lo} {hi}");
        let (lo, hi) = wilson_interval(15.0, 148.0, 0.95);
        assert!((lo - 0.0624).abs() < 5e-5 && (hi - 0.1605).abs() < 5e-5, "{lo} {hi}");
        let (lo, hi) = wilson_interval(0.0, 20.0, 0.95);
        assert!(lo == 0.0 && (hi - 0.1611).abs() < 5e-5, "{lo} {hi}");
        assert_eq!(wilson_interval(0.0, 0.0, 0.95), (0.0, 1.0));
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.9]) = 1.75, 2.5, 3.7
        assert!((quantile_sorted(&v, 0.25).unwrap_or(0.0) - 1.75).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.5).unwrap_or(0.0) - 2.5).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.9).unwrap_or(0.0) - 3.7).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[], 0.5), None);
        let mut draws = vec![f64::NAN, 3.0, 1.0, 2.0];
        assert_eq!(percentile_interval(&mut draws, 0.5), Some((1.5, 2.5)));
    }
}

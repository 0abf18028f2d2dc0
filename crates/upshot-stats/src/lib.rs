//! Statistical building blocks shared by upshot's analyses: seeded random
//! streams, re-randomization inference with test-inversion intervals, and
//! fixed-effects least squares with cluster-robust standard errors.
//!
//! ```
//! use upshot_stats::randomization::RandomizationDist;
//! let dist = RandomizationDist { estimate: 3.0, on_outcome: vec![-1.0, 0.5, 1.0], on_assignment: vec![0.0; 3] };
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

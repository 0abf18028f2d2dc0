//! The development engine: how counts that arrive over time (purchases after a
//! lead, revenue after a first order) develop, and what immature cohorts still owe.
//!
//! - [`chainladder`]: the volume-weighted chain ladder on a cumulative triangle,
//!   with Mack (1993) standard errors; reproduces the RAA reference.
//! - [`projection`]: the Bayesian over-dispersed Poisson projection (Gibbs
//!   sampler; chain ladder or Bornhuetter-Ferguson per cohort, pooled lag prior,
//!   tail) and the lag profile with its developed shares.
//!
//! Pure functions of numbers: no polars, no I/O. Used by the cohort analysis
//! (projected purchases and revenue) and by segmentation (maturity-weighted clicks).
#![deny(missing_docs)]

pub mod chainladder;
pub mod projection;

pub use chainladder::{LastSigma, MackFit, Triangle};

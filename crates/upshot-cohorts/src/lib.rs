//! The cohort engine: development triangles and their completion.
//!
//! This first part holds the actuarial core the cohort analysis stands on:
//! volume-weighted chain-ladder development factors with Mack (1993)
//! standard errors, reproducing the published RAA reference numbers. The
//! triangles from leads and orders, Bornhuetter-Ferguson for the youngest
//! cohorts and the marketing metrics build on it (issue: cohort LTV/CAC).
#![deny(missing_docs)]

pub mod chainladder;

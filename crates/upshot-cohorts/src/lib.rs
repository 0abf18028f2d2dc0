//! The cohort engine: development triangles and their completion.
//!
//! So far: lead-cohort triangles of purchases and net revenue built from raw
//! leads and orders ([`triangle`]), and the actuarial core that completes
//! them: volume-weighted chain-ladder development factors with Mack (1993)
//! standard errors, reproducing the published RAA reference numbers
//! ([`chainladder`]). Projection of the youngest cohorts, the marketing
//! metrics and the `cohorts` analysis build on these (issue: cohort LTV/CAC).
#![deny(missing_docs)]

pub mod chainladder;
pub mod projection;
pub mod triangle;

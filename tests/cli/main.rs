//! End-to-end tests of the `upshot` binary, one module per command or analysis:
//! the sample runs, determinism (twice, and at 1, 2, 4 and 8 threads), the
//! snapshots of every sample experiment and of every rejected input's message,
//! and the bad-input corpus (broken exports built from the sample).

mod common;

mod brand;
mod cohorts;
mod contract;
mod diff;
mod economics;
mod faults;
mod generated;
mod inspect;
mod pacing;
mod report;
mod segments;
mod snapshots;
mod survey;
mod synth;
mod validate;

//! The `inspect` analysis: what is in the exports, before any method runs.
//!
//! Rows and date ranges of every table, spend and new customers by channel
//! and week, click-attributed CAC and revenue per channel. It exercises the
//! whole pipeline (contract, validation, report) and is the first thing to
//! run on a new export.
//!
//! A purchase is a customer's first paid order (earliest `paid_at` with
//! positive revenue, ties broken by `order_id`); revenue is net of refunds;
//! a null click channel is reported as `organic`.
//!
//! In the layers every analysis crate has: `prepare` (the only module that touches polars:
//! weekly cells per channel), `model` (channel totals and their order) and `present` (metrics,
//! tables, charts, sentences). Inspect makes no decisions, so it has no `decide`.
#![deny(missing_docs)]

mod model;
mod prepare;
mod present;

use upshot_analysis::{AnalysisError, Dataset, Kind, Outcome, Seed, TableKind};

/// What is in the exports, `kind = "inspect"`: the first thing to run on a new export.
pub struct Inspect;

impl Kind for Inspect {
    const NAME: &'static str = "inspect";
    /// None required: at least one of spend and orders (checked by the run).
    const INPUTS: &'static [TableKind] = &[];
    type Params = ();

    /// Inspect takes no parameters: any key is an error naming it.
    fn params(table: &toml::Table) -> Result<(), AnalysisError> {
        match table.keys().next() {
            Some(key) => Err(AnalysisError::Params(format!("unknown key `{key}` for kind `inspect` (it takes none)"))),
            None => Ok(()),
        }
    }

    fn columns(_: &(), _: TableKind) -> Option<&'static [&'static str]> {
        None
    }

    fn run(data: &Dataset, _: &(), _: Seed) -> Result<Outcome, AnalysisError> {
        let weekly = prepare::prepare(data)?;
        let totals = model::Totals::of(&weekly.weeks);
        Ok(Outcome::new(present::build(data, &weekly, &totals)))
    }
}

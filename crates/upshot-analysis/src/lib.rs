//! The analysis contract.
//!
//! Every analysis kind is a type implementing [`Kind`]: its name, the tables it
//! needs, its typed parameters (read once from `[params]`, checked once), the
//! columns it reads from each table given those parameters (the loader projects
//! on them), and `run`, a pure function from the validated tables, the
//! parameters and the seed to an [`Outcome`]: the typed result and the rows it
//! left out, with their reasons.
//!
//! The CLI never names a kind: it finds a [`Registered`] entry by the config's
//! `kind` in its registry (one line per kind) and goes through one generic path.
//! Adding a kind is a crate implementing [`Kind`] and that one line.

use std::collections::BTreeMap;
use std::marker::PhantomData;

pub use upshot_data::{AnalysisError, Dataset, TableKind};
use upshot_result::Analysis;

pub mod params;

pub use params::TargetCac;

/// The seed every random draw of a run derives from (through named streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Seed(pub u64);

/// Rows an analysis leaves out after validation (outside the test window,
/// repeat orders, ...), per table and reason; the run moves them from
/// `rows_used` to `rows_excluded` so the accounting still balances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions(BTreeMap<(TableKind, String), u64>);

impl Exclusions {
    /// No rows left out.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `rows` more rows of `table` left out for `reason` (zero counts are not recorded).
    pub fn add(&mut self, table: TableKind, reason: impl Into<String>, rows: u64) {
        if rows > 0 {
            *self.0.entry((table, reason.into())).or_insert(0) += rows;
        }
    }

    /// Rows of `table` left out for `reason` so far.
    pub fn get(&self, table: TableKind, reason: &str) -> u64 {
        self.0.get(&(table, reason.to_string())).copied().unwrap_or(0)
    }

    /// The exclusions of one table: (reason, rows), by reason.
    pub fn of(&self, table: TableKind) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().filter(move |((t, _), _)| *t == table).map(|((_, reason), n)| (reason.as_str(), *n))
    }

    /// Every exclusion: ((table, reason), rows).
    pub fn iter(&self) -> impl Iterator<Item = (&(TableKind, String), &u64)> {
        self.0.iter()
    }
}

/// What a run returns: the typed result and the rows it left out.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Metrics, decisions, tables, charts, summary and warnings.
    pub analysis: Analysis,
    /// Rows left out after validation, with their reasons.
    pub exclusions: Exclusions,
}

impl Outcome {
    /// An outcome that left no row out.
    pub fn new(analysis: Analysis) -> Self {
        Self { analysis, exclusions: Exclusions::new() }
    }
}

/// The keys `economics.toml` may set for every experiment of its folder (see [`Kind::SHARED`]).
pub const ECONOMICS_KEYS: &[&str] = &[
    "margin",
    "target_cac",
    "target_ltv_to_cac",
    "brand_campaigns",
    "decision_probability",
    "horizon_months",
    "incrementality",
    "discount_rate",
];

/// One analysis kind.
pub trait Kind: 'static {
    /// The name in configs and in `result.json` (`kind = "..."`).
    const NAME: &'static str;
    /// The tables a config of this kind must give under `[inputs]`.
    const INPUTS: &'static [TableKind];
    /// The parameters, read and checked once.
    type Params;
    /// The folder-wide economics keys (`economics.toml`, [`ECONOMICS_KEYS`]) this kind takes, each
    /// with the `[params]` key it fills: `("decision_probability", "scale_probability")`. A config's
    /// own `[params]` key wins over the folder's.
    const SHARED: &'static [(&'static str, &'static str)] = &[];

    /// Reads and checks `[params]`: unknown keys and out-of-range values are
    /// [`AnalysisError::Params`] naming the key.
    fn params(table: &toml::Table) -> Result<Self::Params, AnalysisError>;

    /// The columns the run reads from `table` given its parameters (the others
    /// are validated, not loaded); `None` loads every contract column.
    fn columns(params: &Self::Params, table: TableKind) -> Option<&'static [&'static str]>;

    /// The analysis: a pure function of the validated tables, the parameters and the seed.
    fn run(data: &Dataset, params: &Self::Params, seed: Seed) -> Result<Outcome, AnalysisError>;
}

/// A kind with its parameters read: what the loader and the run need.
pub trait Planned {
    /// The columns read from `table` (see [`Kind::columns`]).
    fn columns(&self, table: TableKind) -> Option<&'static [&'static str]>;
    /// Runs the analysis.
    fn run(&self, data: &Dataset, seed: Seed) -> Result<Outcome, AnalysisError>;
}

/// A registry entry: a [`Kind`] behind a trait object, so the CLI dispatches
/// every kind through one path.
pub trait Registered: Sync {
    /// The kind's name.
    fn name(&self) -> &'static str;
    /// The tables it needs.
    fn inputs(&self) -> &'static [TableKind];
    /// Reads its `[params]`.
    fn plan(&self, params: &toml::Table) -> Result<Box<dyn Planned>, AnalysisError>;
    /// The folder-wide economics keys it takes (see [`Kind::SHARED`]).
    fn shared(&self) -> &'static [(&'static str, &'static str)];
}

/// The registry entry of kind `K`: `&Entry::<MyKind>::NEW`.
pub struct Entry<K>(PhantomData<fn() -> K>);

impl<K> Entry<K> {
    /// The entry (a constant, for a `static` registry).
    pub const NEW: Entry<K> = Entry(PhantomData);
}

struct Plan<K: Kind> {
    params: K::Params,
}

impl<K: Kind> Planned for Plan<K> {
    fn columns(&self, table: TableKind) -> Option<&'static [&'static str]> {
        K::columns(&self.params, table)
    }
    fn run(&self, data: &Dataset, seed: Seed) -> Result<Outcome, AnalysisError> {
        K::run(data, &self.params, seed)
    }
}

impl<K: Kind> Registered for Entry<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }
    fn inputs(&self) -> &'static [TableKind] {
        K::INPUTS
    }
    fn plan(&self, params: &toml::Table) -> Result<Box<dyn Planned>, AnalysisError> {
        Ok(Box::new(Plan::<K> { params: K::params(params)? }))
    }
    fn shared(&self) -> &'static [(&'static str, &'static str)] {
        K::SHARED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_add_up_by_table_and_reason() {
        let mut exclusions = Exclusions::new();
        exclusions.add(TableKind::Orders, "repeat_order", 3);
        exclusions.add(TableKind::Orders, "repeat_order", 2);
        exclusions.add(TableKind::Spend, "outside_test", 0);
        exclusions.add(TableKind::Spend, "washout", 4);
        assert_eq!(exclusions.of(TableKind::Orders).collect::<Vec<_>>(), vec![("repeat_order", 5)]);
        assert_eq!(exclusions.of(TableKind::Spend).collect::<Vec<_>>(), vec![("washout", 4)]);
        assert_eq!(exclusions.iter().count(), 2);
    }
}

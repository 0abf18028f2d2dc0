//! Every analysis kind, one line each. Adding a kind is its crate (a type
//! implementing `upshot_analysis::Kind`) and one line here; the CLI finds it by
//! the config's `kind` and runs it through one generic path.

use upshot_analysis::{Entry, Registered};

/// The kinds, in the order `CONTRACTS.md` lists them.
pub static KINDS: &[&dyn Registered] = &[
    &Entry::<upshot_brand::BrandTest>::NEW,
    &Entry::<upshot_survey::Survey>::NEW,
    &Entry::<upshot_segments::Segments>::NEW,
    &Entry::<upshot_cohorts::Cohorts>::NEW,
    &Entry::<upshot_pacing::Pacing>::NEW,
    &Entry::<upshot_inspect::Inspect>::NEW,
];

/// The kind a config names; `Err` is the message listing the known kinds.
pub fn find(name: &str) -> Result<&'static dyn Registered, String> {
    KINDS.iter().copied().find(|kind| kind.name() == name).ok_or_else(|| {
        let names: Vec<&str> = KINDS.iter().map(|kind| kind.name()).collect();
        format!("unknown kind `{name}`; expected one of: {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for kind in KINDS {
            assert_eq!(find(kind.name()).map(|k| k.name()), Ok(kind.name()));
        }
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        let unknown = find("magic").map(|k| k.name());
        assert!(unknown.expect_err("unknown").contains("expected one of: brand-test, survey"));
    }
}

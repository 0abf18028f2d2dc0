//! `upshot synth`: determinism and the committed sample.

use crate::common::*;

#[test]
fn synth_is_deterministic_and_the_committed_sample_is_current() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        let output = upshot(&["synth", "--scale", "small", "--seed", "42", "--out", out.path().to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let files = ["spend", "leads", "orders", "touchpoints", "survey", "plan", "brand_schedule"];
    for table in files {
        let name = format!("{table}.parquet");
        let first = std::fs::read(a.path().join(&name)).expect("a");
        assert_eq!(first, std::fs::read(b.path().join(&name)).expect("b"), "{name} differs between two runs");
        assert_eq!(
            first,
            std::fs::read(root().join("notebooks-data").join(&name)).expect("sample"),
            "notebooks-data/{name} is stale: run `upshot synth`"
        );
    }
    assert_eq!(
        std::fs::read(a.path().join("truth.json")).expect("a"),
        std::fs::read(root().join("notebooks-data/truth.json")).expect("sample")
    );
    let other = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["synth", "--seed", "43", "--out", other.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success());
    assert_ne!(
        std::fs::read(a.path().join("orders.parquet")).expect("a"),
        std::fs::read(other.path().join("orders.parquet")).expect("b")
    );
}

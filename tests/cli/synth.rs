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

/// The misspecified survey world redraws the survey from its own stream: every other table keeps
/// the sample's bytes, and the survey's answers break the model's assumptions (accuracy by origin:
/// youtube customers name YouTube less often than in the model world).
#[test]
fn the_misspecified_survey_world_changes_only_the_survey() {
    let out = tempfile::tempdir().expect("tempdir");
    let output =
        upshot(&["synth", "--seed", "42", "--survey-world", "misspecified", "--out", out.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    for table in ["spend", "leads", "orders", "touchpoints", "plan", "brand_schedule"] {
        let name = format!("{table}.parquet");
        assert_eq!(
            std::fs::read(out.path().join(&name)).expect("written"),
            std::fs::read(root().join("notebooks-data").join(&name)).expect("sample"),
            "{name} changed with the survey world"
        );
    }
    let survey = read(&out.path().join("survey.parquet"));
    let sample = read(&sample("survey"));
    assert_eq!(survey.height(), sample.height(), "one survey row per first order in both worlds");
    assert_ne!(survey, sample);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("truth.json")).expect("truth")).expect("json");
    assert_eq!(truth["survey_world"], "misspecified");
}

//! `economics.toml`: the folder's economics, set once for every experiment in it, each key
//! overridable in a config; the resolved values are recorded in `result.json`.

use crate::common::*;

/// The sample survey config in `dir`, its inputs as absolute paths, with `target_cac` as given
/// (`None` leaves it out, so the folder's economics decide it).
fn survey_config(dir: &std::path::Path, target_cac: Option<f64>) {
    let text = std::fs::read_to_string(root().join("experiments/survey-attribution.toml")).expect("config");
    let data = root().join("notebooks-data");
    let text = text.replace("../notebooks-data", data.to_str().expect("utf8"));
    // The sample's target comes from experiments/economics.toml; this folder has its own.
    assert!(!text.contains("target_cac"), "the sample survey config leaves target_cac to economics.toml");
    let text = match target_cac {
        Some(t) => text.replacen("[params]\n", &format!("[params]\ntarget_cac = {t:.1}\n"), 1),
        None => text,
    };
    std::fs::write(dir.join("survey.toml"), text).expect("write");
}

fn run_folder(dir: &std::path::Path) -> (std::process::Output, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", dir.to_str().expect("utf8"), "--out", out.path().to_str().expect("utf8"), "-q"]);
    (output, out)
}

#[test]
fn the_folders_economics_fill_params_a_config_overrides_them_and_result_json_records_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("economics.toml"), "target_cac = 60.0\nmargin = 0.6\n").expect("write");
    survey_config(dir.path(), None);
    let (output, out) = run_folder(dir.path());
    assert!(output.status.success(), "economics.toml is not run as an experiment\n{}", text(&output));
    let result = read_result(&out.path().join("survey-attribution-2025/result.json"));
    // The survey takes target_cac from the folder; margin is not one of its keys.
    assert_eq!(result.economics.len(), 1, "{:?}", result.economics);
    assert_eq!(result.economics["target_cac"], 60.0);
    assert!(result.decisions.iter().all(|d| d.reason.contains("vs target $60")), "{:?}", result.decisions);

    // The config's own key wins, and the record says so.
    survey_config(dir.path(), Some(150.0));
    let (output, out) = run_folder(dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let result = read_result(&out.path().join("survey-attribution-2025/result.json"));
    assert_eq!(result.economics["target_cac"], 150.0);
    assert!(result.decisions.iter().all(|d| d.reason.contains("vs target $150")));

    // An unknown key is a config error naming the file and the keys it may set.
    std::fs::write(dir.path().join("economics.toml"), "target_roas = 3\n").expect("write");
    let (output, _) = run_folder(dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let message = text(&output);
    assert!(
        message.contains("economics.toml") && message.contains("target_roas") && message.contains("target_ltv_to_cac"),
        "{message}"
    );
}

/// The sample segments config in `dir` with absolute input paths, beside an economics.toml.
fn segments_folder(dir: &std::path::Path, economics: &str) {
    let text = std::fs::read_to_string(root().join("experiments/segments.toml")).expect("config");
    let data = root().join("notebooks-data");
    std::fs::write(dir.join("segments.toml"), text.replace("../notebooks-data", data.to_str().expect("utf8"))).expect("write");
    std::fs::write(dir.join("economics.toml"), economics).expect("write");
}

/// Brand ads wait for an on/off test; an incrementality factor measured elsewhere lets them be
/// decided on incremental CAC, across the factor's interval; a factor out of range is refused.
#[test]
fn an_incrementality_factor_decides_brand_ads_on_incremental_cac() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = "target_cac = 150.0\nbrand_campaigns = [\"brand_search\"]\n";
    segments_folder(dir.path(), base);
    let (output, out) = run_folder(dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let before = read_result(&out.path().join("segments-2025/result.json"));
    let brand = |r: &ResultJson| -> Vec<Decision> {
        r.decisions.iter().filter(|d| d.subject.get("campaign").is_some_and(|c| c == "brand_search")).cloned().collect()
    };
    assert!(!brand(&before).is_empty() && brand(&before).iter().all(|d| d.action != Action::Scale));
    assert!(brand(&before).iter().any(|d| d.reason.contains("on/off test")), "{:?}", brand(&before));

    let factor =
        "incrementality = [{ campaigns = \"brand_*\", factor = 0.5, low = 0.3, high = 0.7, source = \"geo test 2025-09\" }]\n";
    segments_folder(dir.path(), &format!("{base}{factor}"));
    let (output, out) = run_folder(dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let after = read_result(&out.path().join("segments-2025/result.json"));
    assert!(after.economics.contains_key("incrementality"), "recorded: {:?}", after.economics);
    for d in brand(&after) {
        assert!(d.reason.contains("incremental CAC = attributed CAC / 0.50 (0.30 to 0.70, geo test 2025-09"), "{}", d.reason);
        assert!(!d.reason.contains("on/off test"), "{}", d.reason);
    }
    // Attributed brand CAC is ~$13-22: divided by 0.3 at worst it stays under $150, so they scale.
    assert!(brand(&after).iter().any(|d| d.action == Action::Scale), "{:?}", brand(&after));
    // Generic ads are untouched.
    let generic = |r: &ResultJson| -> Vec<(Segment, Action)> {
        r.decisions
            .iter()
            .filter(|d| d.subject.get("campaign").is_some_and(|c| c.starts_with("generic")))
            .map(|d| (d.subject.clone(), d.action))
            .collect()
    };
    assert_eq!(generic(&before).len(), generic(&after).len());

    let bad = "incrementality = [{ campaigns = \"brand_*\", factor = 2.0, low = 1.0, high = 2.0 }]\n";
    segments_folder(dir.path(), &format!("{base}{bad}"));
    let (output, _) = run_folder(dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("`incrementality` entry `brand_*`: factor 2"), "{}", text(&output));
}

/// Issue 14 item 3: segments take the factor from a brand test's `result.json` in the same run's
/// output: the purchases the campaign adds over its own clicks' gain, with the test's interval, recorded
/// in `result.json` with its source; a missing or foreign document is a config error naming the entry.
#[test]
fn an_incrementality_factor_comes_from_a_brand_test_result() {
    let reports = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/brand-search.toml", "--out", reports.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    let test_path = reports.path().join("brand-search-2025-autumn/result.json");
    let test = read_result(&test_path);
    let total = headline(&test, upshot_result::names::INCREMENTAL_PURCHASES_PER_UNIT);
    let clicks = test
        .metrics
        .iter()
        .find(|m| {
            m.name == upshot_result::names::INCREMENTAL_PURCHASES_PER_UNIT
                && m.segment.get("component").is_some_and(|c| c == "paid_brand")
        })
        .expect("paid_brand component");

    let dir = tempfile::tempdir().expect("tempdir");
    let entry = format!("incrementality = [{{ campaigns = \"brand_*\", result = \"{}\" }}]\n", test_path.display());
    segments_folder(dir.path(), &format!("target_cac = 150.0\nbrand_campaigns = [\"brand_search\"]\n{entry}"));
    let (output, out) = run_folder(dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let result = read_result(&out.path().join("segments-2025/result.json"));
    let recorded = &result.economics["incrementality"][0];
    let factor = recorded["factor"].as_f64().expect("a number");
    assert!((factor - total.estimate / clicks.estimate).abs() < 1e-9, "{recorded}");
    assert!(0.0 < factor && factor <= 1.5, "{recorded}");
    let source = recorded["source"].as_str().expect("source");
    assert!(source.starts_with("brand test `brand-search-2025-autumn`, 2025-"), "{source}");
    let brand: Vec<&Decision> =
        result.decisions.iter().filter(|d| d.subject.get("campaign").is_some_and(|c| c == "brand_search")).collect();
    assert!(!brand.is_empty());
    for d in brand {
        assert!(d.reason.contains("incremental CAC = attributed CAC /") && d.reason.contains(source), "{}", d.reason);
        assert!(!d.reason.contains("on/off test"), "{}", d.reason);
    }

    // A result of another kind, and a result not written yet.
    let inspect = reports.path().join("inspect");
    let output = upshot(&["run", "experiments/inspect.toml", "--out", inspect.to_str().expect("utf8"), "-q"]);
    assert!(output.status.success());
    for (file, fragment) in [
        (inspect.join("inspect-2025/result.json"), "is a `inspect` result, not a brand test's"),
        (reports.path().join("nowhere/result.json"), "run the brand test first"),
    ] {
        let entry = format!("incrementality = [{{ campaigns = \"brand_*\", result = \"{}\" }}]\n", file.display());
        segments_folder(dir.path(), &format!("brand_campaigns = [\"brand_search\"]\n{entry}"));
        let (output, _) = run_folder(dir.path());
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(
            text(&output).contains("`incrementality` entry `brand_*`") && text(&output).contains(fragment),
            "{}",
            text(&output)
        );
    }
}

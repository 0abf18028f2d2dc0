//! `upshot diff OLD NEW`: flipped calls, metrics outside their previous interval, inputs that
//! lost rows; guards exit 3.

use polars::prelude::*;

use crate::common::*;

/// Edits a run's result.json in place (a fresh export would have changed these).
fn edit_result(path: &std::path::Path, edit: impl FnOnce(&mut ResultJson)) {
    let mut result = read_result(path);
    edit(&mut result);
    std::fs::write(path, result.to_json()).expect("write");
}

#[test]
fn diff_lists_flips_moves_and_dropped_rows_and_its_guards_exit_3() {
    let out = tempfile::tempdir().expect("tempdir");
    let (old, new) = (out.path().join("old"), out.path().join("new"));
    for dir in [&old, &new] {
        let output = upshot(&["run", "experiments/pacing.toml", "--out", dir.to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let (old_s, new_s) = (old.to_str().expect("utf8"), new.to_str().expect("utf8"));
    // The same exports twice: nothing changed, and the guards pass.
    let same = upshot(&["diff", old_s, new_s, "--fail-on", "flips,rows"]);
    assert!(same.status.success(), "{}", text(&same));
    assert!(text(&same).contains("0 of 1 experiments changed: 0 call(s) flipped"), "{}", text(&same));

    let path = new.join("pacing-2025-12/result.json");
    let before = read_result(&path);
    let flipped = before.decisions[0].subject.clone();
    let moved = before.metrics.iter().find(|m| m.ci_high.is_some()).expect("a metric with an interval").clone();
    edit_result(&path, |r| {
        r.decisions[0].action = if r.decisions[0].action == Action::Keep { Action::Pause } else { Action::Keep };
        let m = r.metrics.iter_mut().find(|m| m.name == moved.name && m.segment == moved.segment).expect("metric");
        m.estimate = moved.ci_high.expect("high") * 2.0 + 1.0;
        let orders = r.inputs.iter_mut().find(|i| i.table == "orders").expect("orders");
        *orders.rows_excluded.entry("null_revenue".into()).or_insert(0) += 25;
        orders.rows_used -= 25;
    });
    let json = out.path().join("diff.json");
    let report = upshot(&["diff", old_s, new_s, "--json", json.to_str().expect("utf8")]);
    assert!(report.status.success(), "no guard asked: exit 0\n{}", text(&report));
    let md = text(&report);
    assert!(
        md.contains("1 of 1 experiments changed: 1 call(s) flipped, 1 metric(s) outside their previous interval, 1 input(s)"),
        "{md}"
    );
    assert!(md.contains(&flipped.to_string()), "{md}");
    assert!(md.contains(&format!("| {} | {} |", moved.name, moved.segment)), "{md}");
    assert!(md.contains("null_revenue 0 -> 25"), "{md}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid");
    assert_eq!(doc["experiments"][0]["flips"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["experiments"][0]["moved"][0]["name"], moved.name.as_str());

    for (guard, phrase) in [("flips", "call(s) flipped"), ("rows", "excludes")] {
        let failed = upshot(&["diff", old_s, new_s, "--fail-on", guard]);
        assert_eq!(failed.status.code(), Some(3), "{guard}: {}", text(&failed));
        assert!(String::from_utf8_lossy(&failed.stderr).contains(phrase), "{guard}: {}", text(&failed));
    }
    let bad = upshot(&["diff", old_s, new_s, "--fail-on", "colour"]);
    assert_eq!(bad.status.code(), Some(2), "an unknown guard is a usage error");
    let empty = tempfile::tempdir().expect("tempdir");
    let none = upshot(&["diff", empty.path().to_str().expect("utf8"), new_s]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
}

/// The CI-style script: the same exports pass; fresh exports where meta's cost quadrupled stop
/// the pipeline on meta's flipped call with exit 3.
#[test]
fn ci_script_passes_on_the_same_exports_and_stops_on_a_flipped_channel() {
    let work = tempfile::tempdir().expect("tempdir");
    let script = root().join("tests/ci-guards.sh");
    let ci = |fresh: &std::path::Path, into: &str| {
        std::process::Command::new("bash")
            .arg(&script)
            .args([root().join("experiments"), root().join("notebooks-data"), fresh.to_path_buf(), work.path().join(into)])
            .env("UPSHOT", env!("CARGO_BIN_EXE_upshot"))
            .output()
            .expect("bash runs")
    };
    let same = ci(&root().join("notebooks-data"), "same");
    assert!(same.status.success(), "{}", text(&same));
    assert!(text(&same).contains("0 row(s) changed their call"), "{}", text(&same));

    let fresh = work.path().join("fresh-exports");
    std::fs::create_dir(&fresh).expect("mkdir");
    for entry in std::fs::read_dir(root().join("notebooks-data")).expect("dir").filter_map(Result::ok) {
        std::fs::copy(entry.path(), fresh.join(entry.file_name())).expect("copy");
    }
    edit("spend", &fresh, |frame| set_where(frame, col("channel").eq(lit("meta")), "cost", col("cost") * lit(4.0)));
    let flipped = ci(&fresh, "flipped");
    assert_eq!(flipped.status.code(), Some(3), "{}", text(&flipped));
    let stderr = String::from_utf8_lossy(&flipped.stderr);
    assert!(stderr.contains("plan: meta was KEEP, is "), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("flipped/diff.json")).expect("json")).expect("valid");
    assert!(doc["plan"]["flips"].as_array().is_some_and(|f| f.iter().any(|r| r["row"] == "meta")), "{doc}");
}

#[test]
fn a_bad_guards_table_is_a_config_error_naming_the_file() {
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("r");
    let output = upshot(&["run", "experiments/pacing.toml", "--out", dir.to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    let d = dir.to_str().expect("utf8");
    for (toml, fragment) in [
        ("[guards]\nmax_unattributed_share = 2.0\n", "`max_unattributed_share = 2` is a share of spend: in [0, 1]"),
        ("[guards]\nchanel_flips = true\n", "unknown field `chanel_flips`"),
    ] {
        let file = out.path().join("guards.toml");
        std::fs::write(&file, toml).expect("write");
        let bad = upshot(&["diff", d, d, "--guards", file.to_str().expect("utf8")]);
        assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
        assert!(text(&bad).contains("guards.toml") && text(&bad).contains(fragment), "{}", text(&bad));
    }
}

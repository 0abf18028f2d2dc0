//! The safety net: every sample experiment's `summary.md` and `result.json`, and
//! the executive summary over them, as insta snapshots; and the same bytes at
//! 1, 2, 4 and 8 threads. A changed sentence, a renamed field or a moved number
//! fails here; review with `cargo insta review` (or accept with
//! `INSTA_UPDATE=always`) when the change is meant.
//!
//! Filtered out of the snapshots: the crate version and the SHA-256 of inputs
//! and config (they change with every release and every sample edit, which
//! other tests pin), and temporary folders.

use std::collections::BTreeMap;
use std::path::Path;

use upshot_result::ResultJson;

use crate::common::*;

/// The experiment folders `upshot run experiments/` writes (one per sample config).
const EXPERIMENTS: [&str; 6] = [
    "brand-search-2025-autumn",
    "cohorts-ltv-2025",
    "inspect-2025",
    "pacing-2025-12",
    "segments-2025",
    "survey-attribution-2025",
];

/// Runs every sample experiment into `out` with the given thread counts for
/// rayon and polars.
fn run_all(out: &Path, threads: Option<usize>) {
    let mut command = upshot_command(&["run", "experiments/", "--out", out.to_str().expect("utf8"), "-q"]);
    if let Some(n) = threads {
        command.env("RAYON_NUM_THREADS", n.to_string()).env("POLARS_MAX_THREADS", n.to_string());
    }
    let output = command.output().expect("upshot runs");
    assert!(output.status.success(), "{}", text(&output));
}

/// Every file of every experiment folder, by path relative to `out`, as bytes.
fn files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(out).expect("inside").display().to_string();
                // The workbook's zip carries a creation time; the tables it holds are the CSVs.
                if !name.ends_with(".xlsx") {
                    found.insert(name, std::fs::read(&path).expect("read"));
                }
            }
        }
    }
    found
}

/// insta settings with the filters of this project's outputs.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r#""upshot_version": "[^"]+""#, r#""upshot_version": "[version]""#);
    settings.add_filter(r#""(sha256|config_sha256)": "[0-9a-f]{64}""#, r#""$1": "[sha256]""#);
    settings.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[tmp]");
    settings.add_filter(&regex_escape(&root().display().to_string()), "[root]");
    settings
}

#[test]
fn every_sample_experiment_matches_its_snapshot_at_every_thread_count() {
    let runs: Vec<(usize, tempfile::TempDir)> = [1, 2, 4, 8]
        .into_iter()
        .map(|n| {
            let out = tempfile::tempdir().expect("tempdir");
            run_all(out.path(), Some(n));
            (n, out)
        })
        .collect();
    let reference = files(runs[0].1.path());
    for experiment in EXPERIMENTS {
        assert!(reference.contains_key(&format!("{experiment}/result.json")), "{experiment} was not written");
    }
    for (n, out) in &runs[1..] {
        let other = files(out.path());
        assert_eq!(reference.keys().collect::<Vec<_>>(), other.keys().collect::<Vec<_>>(), "same files at {n} threads");
        for (name, bytes) in &reference {
            assert!(other[name] == *bytes, "{name} differs between 1 and {n} threads");
        }
    }
    let settings = settings();
    settings.bind(|| {
        for experiment in EXPERIMENTS {
            let summary = String::from_utf8(reference[&format!("{experiment}/summary.md")].clone()).expect("utf8");
            insta::assert_snapshot!(format!("{experiment}.summary.md"), summary);
            let json = String::from_utf8(reference[&format!("{experiment}/result.json")].clone()).expect("utf8");
            // The document deserialises into the contract's type, and says what it is.
            let result: ResultJson = serde_json::from_str(&json).expect("result.json is a ResultJson");
            assert_eq!(result.experiment, experiment);
            insta::assert_snapshot!(format!("{experiment}.result.json"), json);
        }
    });
    // The executive page over the same folder.
    let out = runs[0].1.path();
    let report = upshot(&["report", out.to_str().expect("utf8"), "-q"]);
    assert!(report.status.success(), "{}", text(&report));
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    settings.bind(|| insta::assert_snapshot!("executive.summary.md", md));
}

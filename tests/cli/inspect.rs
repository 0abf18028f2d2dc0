//! The `inspect` analysis on the sample: the output folder and repeatability.

use crate::common::*;

#[test]
fn run_writes_the_full_output_folder() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/", "--out", out.path().to_str().expect("utf8"), "--quiet"]);
    assert!(output.status.success(), "{}", text(&output));
    let folder = out.path().join("inspect-2025");
    for file in
        ["summary.md", "summary.html", "result.json", "tables/channels.csv", "tables/weekly_by_channel.csv", "tables/tables.xlsx"]
    {
        assert!(folder.join(file).is_file(), "missing {file}");
    }
    for chart in ["weekly_purchases", "weekly_spend"] {
        let png = std::fs::read(folder.join(format!("charts/{chart}.png"))).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() > 30_000, "{chart}.png looks blank ({} bytes)", png.len());
        let svg = std::fs::read_to_string(folder.join(format!("charts/{chart}.svg"))).expect("svg");
        assert!(svg.contains("<text"), "{chart}.svg has no text");
    }
    let result = read_result(&folder.join("result.json"));
    assert_eq!(result.kind, "inspect");
    assert_eq!(result.inputs.len(), 7);
    assert_rows_accounted(&result);
    assert!(result.inputs.iter().all(|i| i.sha256.len() == 64), "{:?}", result.inputs);
    // The metrics agree with the sample's ground truth: purchases = new customers.
    let truth = truth();
    let new_customers: u64 =
        truth["origins"].as_array().expect("origins").iter().map(|o| o["new_customers"].as_u64().expect("n")).sum();
    assert_eq!(headline(&result, "purchases").estimate, new_customers as f64);
    let summary = std::fs::read_to_string(folder.join("summary.md")).expect("md");
    assert!(summary.starts_with("# ") && summary.contains("new customers"), "{summary}");
    let html = std::fs::read_to_string(folder.join("summary.html")).expect("html");
    assert_eq!(html.matches("<svg").count(), 2, "both charts inline");
    assert!(!html.contains("src=\"http"), "no external assets");
}

#[test]
fn same_inputs_and_seed_give_byte_identical_result_json() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        let output = upshot(&["run", "experiments/inspect.toml", "--out", out.path().to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let read =
        |dir: &tempfile::TempDir, file: &str| std::fs::read_to_string(dir.path().join("inspect-2025").join(file)).expect("read");
    assert_eq!(read(&a, "result.json"), read(&b, "result.json"));
    assert_eq!(read(&a, "summary.md"), read(&b, "summary.md"));
    assert_eq!(read(&a, "tables/weekly_by_channel.csv"), read(&b, "tables/weekly_by_channel.csv"));
}

//! The executive decision summary (`upshot report`).

use crate::common::*;

#[test]
fn executive_report_orders_every_decision_by_money_at_stake() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/", "--out", out.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    let report = upshot(&["report", out.path().to_str().expect("utf8"), "-q"]);
    assert!(report.status.success(), "{}", text(&report));
    let md = std::fs::read_to_string(out.path().join("summary.md")).expect("summary.md");
    let html = std::fs::read_to_string(out.path().join("summary.html")).expect("summary.html");
    let mut decisions = Vec::new();
    for entry in std::fs::read_dir(out.path()).expect("dir").filter_map(Result::ok) {
        let path = entry.path().join("result.json");
        if path.is_file() {
            let result = read_result(&path);
            for d in &result.decisions {
                decisions.push((d.stake, d.reason.clone()));
                assert!(html.contains(&format!("href=\"{}/summary.html\"", entry.file_name().to_string_lossy())));
            }
        }
    }
    assert!(decisions.len() >= 8, "{} decisions", decisions.len());
    // The largest 100 decisions' reasons appear, in order of money at stake; the rest are counted.
    decisions.sort_by(|a, b| b.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.0.unwrap_or(f64::NEG_INFINITY)));
    if decisions.len() > 100 {
        assert!(md.contains(&format!("The 100 largest of {} decisions", decisions.len())), "the cut is stated");
        // Equal stakes tie at the cut: compare only decisions clearly above it.
        let cut = decisions[99].0;
        decisions.retain(|d| d.0 > cut);
    }
    let positions: Vec<usize> =
        decisions.iter().map(|(_, reason)| md.find(reason.as_str()).expect("reason in summary.md")).collect();
    let stakes: Vec<Option<f64>> = decisions.iter().map(|d| d.0).collect();
    for pair in positions.windows(2).zip(stakes.windows(2)) {
        if pair.1[0] != pair.1[1] {
            assert!(pair.0[0] < pair.0[1], "ordered by stake");
        }
    }
    assert!(html.contains("<svg") && !html.contains("src=\"http"), "self-contained with an inline chart");
    // A folder without results is named.
    let empty = tempfile::tempdir().expect("tempdir");
    let none = upshot(&["report", empty.path().to_str().expect("utf8")]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(text(&none).contains("no <experiment>/result.json"));
}

//! The executive decision summary (`upshot report`).

use std::path::Path;

use crate::common::*;

fn sample_reports() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/", "--out", out.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    out
}

fn report(dir: &Path) -> std::process::Output {
    upshot(&["report", dir.to_str().expect("utf8"), "-q"])
}

fn read_plan(dir: &Path) -> upshot_plan::Plan {
    serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).expect("plan.json")).expect("a plan")
}

#[test]
fn executive_report_gives_one_call_per_paid_channel_on_one_horizon() {
    let out = sample_reports();
    let done = report(out.path());
    assert!(done.status.success(), "{}", text(&done));
    let plan = read_plan(out.path());
    let md = std::fs::read_to_string(out.path().join("summary.md")).expect("summary.md");
    let html = std::fs::read_to_string(out.path().join("summary.html")).expect("summary.html");
    // One row per paid channel of the survey (spend > 0), plus google_search's brand campaigns.
    let survey = read_result(&out.path().join("survey-attribution-2025/result.json"));
    let mut paid: Vec<(String, bool)> = survey
        .metrics
        .iter()
        .filter(|m| m.name == upshot_result::names::SPEND && m.segment.0.len() == 1 && m.estimate > 0.0)
        .filter_map(|m| m.segment.get("channel").map(|c| (c.clone(), false)))
        .collect();
    paid.push(("google_search".into(), true));
    paid.sort();
    let mut rows: Vec<(String, bool)> = plan.calls.iter().map(|c| (c.channel.clone(), c.brand)).collect();
    rows.sort();
    assert_eq!(rows, paid, "one row each");
    // The stakes are this month's spend at pacing's run rate, each dollar once.
    let pacing = read_result(&out.path().join("pacing-2025-12/result.json"));
    let month = estimate(&pacing, upshot_result::names::RUN_RATE, &[("channel", "all"), ("metric", "cost")]);
    let stakes: f64 = plan.calls.iter().map(|c| c.stake).sum();
    assert!((stakes - month).abs() < 0.01 && (plan.total_stake - month).abs() < 0.01, "{stakes} vs {month}");
    // Brand search rests on the on/off test, every other row on survey customers projected by cohorts.
    for call in &plan.calls {
        let cac = call.cac.as_ref().expect("every sample row has a CAC");
        let basis = if call.brand { upshot_plan::Basis::Incremental } else { upshot_plan::Basis::BlendedProjected };
        assert_eq!(cac.basis, basis, "{}", call.label());
        assert!(cac.ci_low.is_some_and(|l| l < cac.estimate) && cac.ci_high.is_some_and(|h| h > cac.estimate));
        assert!(call.evidence.first().is_some_and(|e| e.used), "used evidence first: {}", call.label());
        assert!(md.contains(&call.reason) && html.contains(&format!("id=\"row-{}", call.channel)));
    }
    assert!(md.starts_with(&format!("# {}\n", plan.headline)));
    assert!(plan.disagreements.iter().any(|d| d.starts_with("Cohorts says OPTIMIZE")), "{:?}", plan.disagreements);
    // Every analysis is linked, and its per-ad decisions stay on its own page.
    for entry in std::fs::read_dir(out.path()).expect("dir").filter_map(Result::ok) {
        if entry.path().join("result.json").is_file() {
            assert!(html.contains(&format!("href=\"{}/summary.html\"", entry.file_name().to_string_lossy())));
        }
    }
    assert!(!md.contains("data analytics course"), "no per-ad rows on the executive page");
    assert!(html.contains("<svg") && !html.contains("src=\"http"), "self-contained with inline charts");
    for chart in ["plan_stakes", "plan_cac"] {
        assert!(out.path().join(format!("charts/{chart}.png")).is_file(), "{chart}.png for slides");
    }
    // A folder without results is named.
    let empty = tempfile::tempdir().expect("tempdir");
    let none = upshot(&["report", empty.path().to_str().expect("utf8")]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(text(&none).contains("no <experiment>/result.json"));
}

#[test]
fn evidence_that_does_not_fit_is_refused_by_file_and_field() {
    let out = sample_reports();
    // Two survey results in one folder: the plan cannot tell which to act on.
    let copy = out.path().join("survey-attribution-2025-copy");
    std::fs::create_dir(&copy).expect("mkdir");
    std::fs::copy(out.path().join("survey-attribution-2025/result.json"), copy.join("result.json")).expect("copy");
    let two = report(out.path());
    assert_eq!(two.status.code(), Some(1), "{}", text(&two));
    assert!(
        text(&two).contains(
            "survey-attribution-2025/result.json and survey-attribution-2025-copy/result.json are both `survey` results"
        ),
        "{}",
        text(&two)
    );
    assert!(!out.path().join("summary.md").exists(), "nothing written");
    // The same survey of an earlier year: disjoint periods, so the latest is used and the other named.
    let mut earlier: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("result.json")).expect("read")).expect("json");
    earlier["period"] = serde_json::json!({ "start": "2024-01-01", "end": "2024-12-31" });
    std::fs::write(copy.join("result.json"), serde_json::to_string_pretty(&earlier).expect("json")).expect("write");
    let both = report(out.path());
    assert_eq!(both.status.code(), Some(0), "{}", text(&both));
    let summary = std::fs::read_to_string(out.path().join("summary.md")).expect("summary");
    assert!(
        summary.contains(
            "survey-attribution-2025-copy (survey-attribution-2025, 2024-01-01 to 2024-12-31) is an earlier `survey` result"
        ),
        "{summary}"
    );
    std::fs::remove_file(out.path().join("summary.md")).expect("rm");
    std::fs::remove_dir_all(&copy).expect("rm");
    // A brand test of other campaigns than the folder's brand campaigns.
    let path = out.path().join("brand-search-2025-autumn/result.json");
    let mut brand = read_result(&path);
    brand.decisions[0].subject = upshot_result::Segment::one("campaign", "shopping");
    std::fs::write(&path, brand.to_json()).expect("write");
    let other = report(out.path());
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    assert!(
        text(&other).contains("brand-search-2025-autumn/result.json: `decisions[0].subject.campaign` is `shopping`"),
        "{}",
        text(&other)
    );
}

//! Pacing and the digest.

use std::path::Path;

use chrono::NaiveDate;

use polars::prelude::*;

use crate::common::*;

fn pacing_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("pacing", &["plan", "spend", "leads", "orders"], "", params, prepare)
}

/// Digits of a formatted count or money (`1,234` -> 1234).
fn number_in(text: &str) -> f64 {
    text.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect::<String>().parse().unwrap_or(f64::NAN)
}

#[test]
fn pacing_on_the_sample_matches_hand_counts_and_the_digest_agrees_number_for_number() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/pacing.toml", "--out", out.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    let result = read_result(&out.path().join("pacing-2025-12/result.json"));
    assert_eq!(result.kind, "pacing");
    assert_all_defined(&result);

    // Fact to date by hand: December 1-20 spend of meta, and all target leads.
    let spend = read(&sample("spend"));
    let meta_cost: f64 = spend
        .lazy()
        .filter(
            col("channel")
                .eq(lit("meta"))
                .and(col("date").gt_eq(lit(NaiveDate::from_ymd_opt(2025, 12, 1).expect("d"))))
                .and(col("date").lt_eq(lit(NaiveDate::from_ymd_opt(2025, 12, 20).expect("d")))),
        )
        .select([col("cost").sum()])
        .collect()
        .expect("sum")
        .column("cost")
        .expect("cost")
        .f64()
        .expect("f64")
        .get(0)
        .expect("value");
    let fact = estimate(&result, "fact_to_date", &[("channel", "meta"), ("metric", "cost")]);
    assert!((fact - meta_cost).abs() < 0.01, "{fact} vs {meta_cost}");
    let plan = estimate(&result, "plan", &[("channel", "meta"), ("metric", "cost")]);
    let run_rate = estimate(&result, "run_rate", &[("channel", "meta"), ("metric", "cost")]);
    let completion = estimate(&result, "plan_completion", &[("channel", "meta"), ("metric", "cost")]);
    assert!((completion - run_rate / plan).abs() < 1e-9);
    assert!(run_rate >= fact, "the month end is at least what is already spent");
    for channel in ["google_search", "meta", "youtube", "influencers"] {
        for metric in ["cost", "lead", "target_lead", "call", "proposal", "negotiation", "purchase", "revenue"] {
            let seg = [("channel", channel), ("metric", metric)];
            for name in ["plan", "fact_to_date", "run_rate", "plan_completion"] {
                assert_eq!(metrics_where(&result, name, &seg).len(), 1, "{name} {seg:?}");
            }
        }
    }
    // Channel lines add up to the total.
    let total = estimate(&result, "fact_to_date", &[("channel", "all"), ("metric", "lead")]);
    let sum: f64 = ["google_search", "meta", "youtube", "influencers", "organic"]
        .iter()
        .map(|c| estimate(&result, "fact_to_date", &[("channel", c), ("metric", "lead")]))
        .sum();
    assert_eq!(total, sum);
    assert!(!result.decisions.is_empty());

    // The digest: exit 0, a few lines, the same numbers as the result.
    let digest = upshot(&["digest", "experiments/pacing.toml"]);
    assert!(digest.status.success(), "{}", text(&digest));
    let message = String::from_utf8_lossy(&digest.stdout).to_string();
    assert!(message.lines().count() <= 12, "{message}");
    assert_eq!(message, String::from_utf8_lossy(&upshot(&["digest", "experiments/pacing.toml", "-q"]).stdout));
    let line = message.lines().find(|l| l.starts_with("Target leads:")).expect("target leads line");
    let so_far = line.split('(').nth(1).expect("so far");
    let mut parts = so_far.split(" of ");
    let fact = number_in(parts.next().expect("fact"));
    let plan = number_in(parts.next().expect("plan").split(" so far").next().expect("plan"));
    let seg = [("channel", "all"), ("metric", "target_lead")];
    assert_eq!(fact, estimate(&result, "fact_to_date", &seg));
    assert_eq!(plan, estimate(&result, "plan", &seg).round());
    let yesterday = number_in(line.split(" yesterday").next().expect("yesterday"));
    let pace_table = std::fs::read_to_string(out.path().join("pacing-2025-12/tables/pace.csv")).expect("pace.csv");
    let row = pace_table.lines().find(|l| l.starts_with("all,,target_lead,")).expect("row");
    assert_eq!(yesterday, row.rsplit(',').next().expect("last day").parse::<f64>().expect("number"));
    for issue in message.lines().filter(|l| l.starts_with("- ")) {
        let channel = issue.trim_start_matches("- ").split(':').next().expect("channel");
        let decision = decision_on(&result, channel);
        assert!(decision.is_some(), "{channel} is out of range in the digest and has a decision in the result");
    }
}

#[test]
fn pacing_reports_a_channel_with_spend_and_no_plan() {
    let case = pacing_case("as_of = \"2025-12-20\"", |dir| {
        edit("plan", dir, |df| df.lazy().filter(col("channel").neq(lit("meta"))).collect().expect("plan"));
    });
    let (result, _) = case.result();
    assert!(result.warnings.iter().any(|w| w.contains("meta: spend this month")), "{:?}", result.warnings);
    assert!(estimate(&result, "fact_to_date", &[("channel", "meta"), ("metric", "cost")]) > 0.0);
    assert!(metrics_where(&result, "plan", &[("channel", "meta"), ("metric", "cost")]).is_empty());
    assert_all_defined(&result);
    // A digest of a config of another kind is a config error.
    let other = upshot(&["digest", "experiments/cohorts-ltv.toml"]);
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(text(&other).contains("pacing"));
}

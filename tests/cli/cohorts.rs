//! Cohort LTV / CAC on the sample and its edge cases.

use std::path::Path;

use chrono::NaiveDate;

use polars::prelude::*;

use crate::common::*;

fn cohorts_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("cohorts", &["leads", "orders", "spend"], "", params, prepare)
}

#[test]
fn cohorts_on_the_sample_project_young_cohorts_reconcile_and_repeat_byte_for_byte() {
    let (_dir, folder, result) = run_sample_twice("experiments/cohorts-ltv.toml", "cohorts-ltv-2025");
    assert_eq!(result.kind, "cohorts");
    assert_all_defined(&result);
    for chart in ["triangle", "ltv_by_cohort", "cac_vs_max", "payback"] {
        assert!(folder.join(format!("charts/{chart}.svg")).exists(), "{chart}");
    }
    for table in ["segments", "cohorts", "triangle", "ltv", "development", "funnel_weekly"] {
        assert!(folder.join(format!("tables/{table}.csv")).exists(), "{table}");
    }

    let truth = truth();
    let cohorts = truth["cohorts"].as_array().expect("cohorts");
    let channels = ["google_search", "meta", "youtube", "influencers", "organic"];
    let (mut covered, mut cells) = (0, 0);
    for c in cohorts {
        let (label, channel) = (c["cohort"].as_str().expect("label"), c["channel"].as_str().expect("channel"));
        let seg = [("channel", channel), ("cohort", label)];
        assert_eq!(estimate(&result, "leads", &seg), c["leads"].as_f64().expect("leads"), "{seg:?}");
        let observed = estimate(&result, "purchases_observed", &seg);
        assert_eq!(observed, c["observed_purchases"].as_f64().expect("observed"), "{seg:?}");
        let projected = metrics_where(&result, "purchases_projected", &seg)[0];
        assert!(projected.ci_low.expect("low") >= observed, "no fewer than observed: {projected:?}");
        assert_eq!(projected.level, Some(0.9));
        let eventual = c["eventual_purchases"].as_f64().expect("eventual");
        cells += 1;
        if (projected.ci_low.expect("low")..=projected.ci_high.expect("high")).contains(&eventual) {
            covered += 1;
        }
    }
    // 90% intervals; the truth also counts purchases 12 months after the lead, past the horizon.
    assert!(covered as f64 >= 0.8 * cells as f64, "{covered} of {cells} cohort x channel cells covered");

    // Segments reconcile with the totals, per cohort and overall.
    for name in ["leads", "purchases_observed", "purchases_projected", "revenue_observed"] {
        let total = estimate(&result, name, &[]);
        let sum: f64 = channels.iter().map(|ch| estimate(&result, name, &[("channel", ch)])).sum();
        assert!((total - sum).abs() < 1e-6 * total.max(1.0), "{name}: {total} vs {sum}");
    }
    // The youngest cohort's projected CAC is near the true one; the raw ratio is several times too high.
    let youngest = [("cohort", "2025-12")];
    let spend = estimate(&result, "cac", &youngest) * estimate(&result, "purchases_projected", &youngest);
    let eventual: f64 =
        cohorts.iter().filter(|c| c["cohort"] == "2025-12").map(|c| c["eventual_purchases"].as_f64().expect("n")).sum();
    let (projected_cac, raw_cac, true_cac) =
        (estimate(&result, "cac", &youngest), spend / estimate(&result, "purchases_observed", &youngest), spend / eventual);
    assert!((projected_cac / true_cac - 1.0).abs() < 0.25, "projected {projected_cac} vs true {true_cac}");
    assert!(raw_cac > 3.0 * true_cac, "raw {raw_cac} vs true {true_cac}");

    // LTV identities: LTV/CAC = LTV at the horizon x margin / CAC; maximum CAC = LTV x margin / target.
    for channel in ["google_search", "meta", "youtube", "influencers"] {
        let seg = [("channel", channel)];
        let ltv = estimate(&result, "ltv_12m", &seg);
        let cac = estimate(&result, "cac", &seg);
        assert!((estimate(&result, "ltv_to_cac", &seg) - ltv * 0.6 / cac).abs() < 1e-9, "{channel}");
        assert!((estimate(&result, "cac_max", &seg) - ltv * 0.6 / 3.0).abs() < 1e-9, "{channel}");
        let (ltv1, ltv3, ltv6) =
            (estimate(&result, "ltv_1m", &seg), estimate(&result, "ltv_3m", &seg), estimate(&result, "ltv_6m", &seg));
        assert!(ltv1 > 0.0 && ltv1 <= ltv3 + 1e-9 && ltv3 <= ltv6 + 1e-9 && ltv6 <= ltv + 1e-9, "{channel} LTV grows");
        let decision = decision_on(&result, channel).unwrap_or_else(|| panic!("decision for {channel}"));
        assert!(decision.reason.contains("CAC $"), "{decision:?}");
    }
    assert!(decision_on(&result, "organic").is_none());
    assert_rows_accounted(&result);
}

#[test]
fn cohorts_edge_cases_are_defined_and_warned() {
    // A new channel with leads and spend in December but no purchase yet; meta without spend in June.
    let case = cohorts_case("margin = 0.6", |dir| {
        edit("leads", dir, |df| {
            let december = df
                .clone()
                .lazy()
                .filter(col("created_at").gt_eq(
                    lit(NaiveDate::from_ymd_opt(2025, 12, 1).expect("d")).cast(DataType::Datetime(TimeUnit::Microseconds, None)),
                ))
                .limit(40);
            let new = december
                .with_columns([(lit("tt-") + col("lead_id")).alias("lead_id"), lit("tiktok").alias("channel")])
                .collect()
                .expect("new leads");
            df.vstack(&new).expect("stack")
        });
        edit("spend", dir, |df| {
            let june = |d: Expr| d.dt().month().eq(lit(6));
            let keep =
                df.clone().lazy().filter(col("channel").neq(lit("meta")).or(june(col("date")).not())).collect().expect("keep");
            let tiktok = df
                .lazy()
                .filter(col("date").gt_eq(lit(NaiveDate::from_ymd_opt(2025, 12, 1).expect("d"))))
                .limit(10)
                .with_column(lit("tiktok").alias("channel"))
                .collect()
                .expect("tiktok");
            keep.vstack(&tiktok).expect("stack")
        });
    });
    let (result, _) = case.result();
    assert_all_defined(&result);
    let warnings = result.warnings.join("\n");
    assert!(warnings.contains("tiktok: no purchases yet from 40 leads"), "{warnings}");
    assert!(warnings.contains("meta: 1 cohorts have leads but no spend (2025-06)"), "{warnings}");
    assert_eq!(estimate(&result, "purchases_observed", &[("channel", "tiktok")]), 0.0);
    assert!(metrics_where(&result, "cac", &[("channel", "meta"), ("cohort", "2025-06")]).is_empty());

    // A single cohort: only December's leads, orders and spend.
    let december = |column: &'static str| {
        move |df: DataFrame| {
            let start = lit(NaiveDate::from_ymd_opt(2025, 12, 1).expect("d"));
            df.lazy().filter(col(column).cast(DataType::Date).gt_eq(start)).collect().expect("december")
        }
    };
    let single = cohorts_case("", |dir| {
        edit("leads", dir, december("created_at"));
        edit("orders", dir, december("paid_at"));
        edit("spend", dir, december("date"));
    });
    let (result, _) = single.result();
    assert_all_defined(&result);
    assert!(result.warnings.iter().any(|w| w.contains("geometric tail")), "{:?}", result.warnings);
    assert_eq!(metrics_where(&result, "leads", &[("cohort", "2025-12")]).len(), 1);

    // No complete month at all: named, exit 1, nothing written.
    let partial = cohorts_case("", |dir| {
        let early = |column: &'static str| {
            move |df: DataFrame| {
                let end = lit(NaiveDate::from_ymd_opt(2025, 1, 15).expect("d"));
                df.lazy().filter(col(column).cast(DataType::Date).lt(end)).collect().expect("early")
            }
        };
        edit("leads", dir, early("created_at"));
        edit("orders", dir, early("paid_at"));
        edit("spend", dir, early("date"));
    });
    assert_analysis_rejects(&partial, &["leads.parquet", "created_at", "complete month"]);
}

#[test]
fn the_method_line_says_which_projection_was_asked_for_and_used() {
    for (rule, asked, bf_used) in [
        ("chain-ladder", "`projection = \"chain-ladder\"`", false),
        ("bornhuetter-ferguson", "`projection = \"bornhuetter-ferguson\"`", true),
        ("auto", "Projection (auto)", true),
    ] {
        let case = cohorts_case(&format!("projection = \"{rule}\""), |_| {});
        let (result, out) = case.result();
        // Every estimate inside its interval: the chain ladder's point sits inside the model's draws.
        assert_all_defined(&result);
        let summary = std::fs::read_to_string(out.join("case/summary.md")).expect("summary");
        let line = summary.lines().find(|l| l.starts_with("Projection")).unwrap_or_else(|| panic!("{rule}: no method line"));
        assert!(line.contains(asked), "{rule}: {line}");
        assert_eq!(!line.contains(" 0 by Bornhuetter-Ferguson"), bf_used, "{rule}: {line}");
        assert!(!rule.starts_with("chain") || !line.contains("younger ones"), "{rule}: {line}");
    }
}

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
    // The youngest cohort's CAC counts its customers without a lead (complete at once) beside its
    // leads' purchases, projected: near the true one (the leads' eventual purchases from truth.json),
    // while the raw ratio on purchases so far is too high, and on lead-linked buyers alone far too high.
    let youngest = [("cohort", "2025-12")];
    let direct = estimate(&result, "direct_customers", &youngest);
    let spend = estimate(&result, "cac", &youngest) * (estimate(&result, "purchases_projected", &youngest) + direct);
    let eventual: f64 =
        cohorts.iter().filter(|c| c["cohort"] == "2025-12").map(|c| c["eventual_purchases"].as_f64().expect("n")).sum();
    let observed = estimate(&result, "purchases_observed", &youngest);
    let (projected_cac, raw_cac, true_cac) =
        (estimate(&result, "cac", &youngest), spend / (observed + direct), spend / (eventual + direct));
    assert!(direct > 0.0, "the sample's brand buyers order without a lead");
    assert!((projected_cac / true_cac - 1.0).abs() < 0.1, "projected {projected_cac} vs true {true_cac}");
    assert!(raw_cac > 1.15 * true_cac, "raw {raw_cac} vs true {true_cac}");
    assert!(spend / observed > 10.0 * true_cac, "lead-linked only: {} vs true {true_cac}", spend / observed);

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

/// GenIns (Taylor and Ashe 1983) as cumulative amounts per accident year and development year.
const GENINS: [&[f64]; 10] = [
    &[357848.0, 1124788.0, 1735330.0, 2218270.0, 2745596.0, 3319994.0, 3466336.0, 3606286.0, 3833515.0, 3901463.0],
    &[352118.0, 1236139.0, 2170033.0, 3353322.0, 3799067.0, 4120063.0, 4647867.0, 4914039.0, 5339085.0],
    &[290507.0, 1292306.0, 2218525.0, 3235179.0, 3985995.0, 4132918.0, 4628910.0, 4909315.0],
    &[310608.0, 1418858.0, 2195047.0, 3757447.0, 4029929.0, 4381982.0, 4588268.0],
    &[443160.0, 1136350.0, 2128333.0, 2897821.0, 3402672.0, 3873311.0],
    &[396132.0, 1333217.0, 2180715.0, 2985752.0, 3691712.0],
    &[440832.0, 1288463.0, 2419861.0, 3483130.0],
    &[359480.0, 1421128.0, 2864498.0],
    &[376686.0, 1363294.0],
    &[344014.0],
];

/// RAA (Mack 1993), cumulative; one increment is negative (a refund in order terms).
const RAA: [&[f64]; 10] = [
    &[5012.0, 8269.0, 10907.0, 11805.0, 13539.0, 16181.0, 18009.0, 18608.0, 18662.0, 18834.0],
    &[106.0, 4285.0, 5396.0, 10666.0, 13782.0, 15599.0, 15496.0, 16169.0, 16704.0],
    &[3410.0, 8992.0, 13873.0, 16141.0, 18735.0, 22214.0, 22863.0, 23466.0],
    &[5655.0, 11555.0, 15766.0, 21266.0, 23425.0, 26083.0, 27067.0],
    &[1092.0, 9565.0, 15836.0, 22169.0, 25955.0, 26180.0],
    &[1513.0, 6445.0, 11702.0, 12935.0, 15852.0],
    &[557.0, 4020.0, 10946.0, 12314.0],
    &[1351.0, 6947.0, 13112.0],
    &[3133.0, 5395.0],
    &[2063.0],
];

#[test]
fn published_triangles_through_the_whole_pipeline_give_their_chain_ladder_reserves() {
    // Published chain-ladder reserves: GenIns 18,680,856 and RAA 52,135 (Mack 1993; R ChainLadder).
    pipeline_reserve(&GENINS, 18_680_855.61);
    pipeline_reserve(&RAA, 52_135.23);
}

fn pipeline_reserve(triangle: &[&[f64]; 10], published: f64) {
    // One lead per monthly cohort (accident year i = month i of 2024), one customer whose orders
    // (a negative increment is a refund) pay the triangle's increments on the last day of each later month: the lead-cohort revenue
    // triangle is GenIns, and the data end on the last day of the tenth month (complete).
    let month_end = |m: usize| {
        let (y, mo) = (2024 + (m as i32 + 1) / 12, (m as u32 + 1) % 12 + 1);
        NaiveDate::from_ymd_opt(y, mo, 1).expect("date").pred_opt().expect("day").and_hms_opt(12, 0, 0).expect("time")
    };
    let micros = |t: chrono::NaiveDateTime| t.and_utc().timestamp_micros();
    let datetime = |name: &str, values: Vec<i64>| {
        Series::new(name.into(), values).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).expect("datetime")
    };
    let case = cohorts_case("projection = \"chain-ladder\"\nhorizon_months = 10\nby = []", |dir| {
        edit("leads", dir, |df| {
            let df = df.head(Some(10));
            let created: Vec<i64> = (0..10).map(|i| micros(month_end(i) - chrono::Days::new(20))).collect();
            let mut lazy = df.lazy().with_columns([
                lit(Series::new("lead_id".into(), (0..10).map(|i| format!("L{i}")).collect::<Vec<_>>())).alias("lead_id"),
                lit(datetime("created_at", created)).alias("created_at"),
            ]);
            for stage in ["target_lead_at", "call_at", "proposal_at", "negotiation_at", "purchase_at"] {
                lazy = lazy.with_column(lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)).alias(stage));
            }
            lazy.collect().expect("leads")
        });
        edit("orders", dir, |df| {
            let cells: Vec<(usize, usize, f64)> = triangle
                .iter()
                .enumerate()
                .flat_map(|(i, row)| row.iter().enumerate().map(move |(k, c)| (i, k, c - if k == 0 { 0.0 } else { row[k - 1] })))
                .collect();
            let n = cells.len();
            df.head(Some(n))
                .lazy()
                .with_columns([
                    lit(Series::new("order_id".into(), cells.iter().map(|(i, k, _)| format!("O{i}-{k}")).collect::<Vec<_>>()))
                        .alias("order_id"),
                    lit(Series::new("customer_id".into(), cells.iter().map(|(i, _, _)| format!("C{i}")).collect::<Vec<_>>()))
                        .alias("customer_id"),
                    lit(Series::new("lead_id".into(), cells.iter().map(|(i, _, _)| format!("L{i}")).collect::<Vec<_>>()))
                        .alias("lead_id"),
                    lit(datetime("paid_at", cells.iter().map(|(i, k, _)| micros(month_end(i + k))).collect())).alias("paid_at"),
                    lit(Series::new("revenue".into(), cells.iter().map(|(_, _, x)| *x).collect::<Vec<f64>>())).alias("revenue"),
                ])
                .collect()
                .expect("orders")
        });
        edit("spend", dir, |df| {
            let day = NaiveDate::from_ymd_opt(2024, 1, 5).expect("date");
            df.head(Some(1)).lazy().with_column(lit(day).cast(DataType::Date).alias("date")).collect().expect("spend")
        });
    });
    let (result, _) = case.result();
    let reserve = headline(&result, "revenue_projected").estimate - headline(&result, "revenue_observed").estimate;
    assert!((reserve - published).abs() < 0.5, "reserve {reserve} vs published {published}");
    assert!((headline(&result, "revenue_observed").estimate - triangle.iter().map(|r| r[r.len() - 1]).sum::<f64>()).abs() < 1e-6);
}

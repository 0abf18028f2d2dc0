//! The brand test and its design command.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

fn brand_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("brand-test", &["orders", "spend", "schedule"], "", params, prepare)
}

#[test]
fn brand_test_recovers_the_planted_effect_and_accounts_for_rows() {
    let case = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 2000", |_| {});
    let (result, out) = case.result();
    let truth = truth();
    let true_effect = truth["brand_test"]["incremental_purchases_per_on_day"].as_f64().expect("truth");
    let effect = headline(&result, "incremental_purchases_per_unit");
    let (lo, hi) = (effect.ci_low.expect("low"), effect.ci_high.expect("high"));
    assert!(lo <= true_effect && true_effect <= hi, "true {true_effect} outside [{lo}, {hi}]");
    assert_eq!(effect.level, Some(0.95));
    let cost = headline(&result, "incremental_cost_total").estimate;
    let true_cost = truth["brand_test"]["incremental_cost_total"].as_f64().expect("truth cost");
    assert!((cost - true_cost).abs() < 0.01, "cost {cost} vs truth {true_cost}");
    assert_rows_accounted(&result);
    assert!(excluded_in(&result, "orders", "outside_test_window") > 0, "{:?}", input(&result, "orders"));
    assert_eq!(result.decisions.len(), 1, "one call on the brand campaigns");
    assert!(matches!(result.decisions[0].action, Action::Keep | Action::Scale | Action::Cut | Action::NeedsData));
    for chart in ["daily", "rerandomization", "effects", "cannibalization"] {
        assert!(out.join(format!("case/charts/{chart}.png")).is_file(), "missing {chart}.png");
    }
}

#[test]
fn brand_test_bad_inputs_are_named() {
    let no_match = brand_case("brand_campaigns = [\"nothing_like_this*\"]\ndraws = 500", |_| {});
    assert_analysis_rejects(&no_match, &["spend.parquet", "`campaign`", "no campaign matches", "brand_search"]);

    let gap = brand_case("draws = 500", |dir| {
        edit("brand_schedule", dir, |df| {
            df.lazy().with_row_index("i", None).filter(col("i").neq(lit(10))).drop(cols(["i"])).collect().expect("drop")
        })
    });
    assert_analysis_rejects(&gap, &["brand_schedule.parquet", "does not cover", "2025-10-16"]);

    let all_off =
        brand_case("draws = 500", |dir| edit("brand_schedule", dir, |df| set_where(df, lit(true), "brand_on", lit(false))));
    assert_analysis_rejects(&all_off, &["brand_schedule.parquet", "`brand_on`", "no on units"]);

    let regions = brand_case("draws = 500", |dir| {
        edit("brand_schedule", dir, |df| set_where(df, lit(true), "region", lit("north")));
        edit("orders", dir, |df| set_where(df, lit(true), "region", lit("south")));
    });
    assert_analysis_rejects(&regions, &["orders.parquet", "`region`", "regions the schedule does not have", "south"]);

    let regional_schedule_only = brand_case("draws = 500", |dir| {
        edit("brand_schedule", dir, |df| set_where(df, lit(true), "region", lit("north")));
    });
    assert_analysis_rejects(&regional_schedule_only, &["orders.parquet", "`region`", "none of the", "has a region"]);

    let bad_param = brand_case("draws = 500\nmargins = 0.3", |_| {});
    assert_run_fails(&bad_param, 2, &["margins"]);

    let lag_on_a_time_only_test = brand_case("draws = 500\ncovariate_lag_days = 364", |_| {});
    assert_run_fails(&lag_on_a_time_only_test, 2, &["`covariate_lag_days` adjusts region designs", "time-only schedule"]);
    let odd_lag = brand_case("draws = 500\ncovariate_lag_days = 30", |_| {});
    assert_run_fails(&odd_lag, 2, &["`covariate_lag_days` must be a whole number of weeks"]);
}

/// `upshot brand-test design --start 2026-03-02` with `args`.
fn design(args: &[&str]) -> std::process::Output {
    let mut all = vec!["brand-test", "design", "--start", "2026-03-02"];
    all.extend_from_slice(args);
    upshot(&all)
}

#[test]
fn brand_test_design_writes_a_balanced_schedule_and_a_power_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schedule = dir.path().join("schedule.parquet");
    let reports = dir.path().join("reports");
    let output = design(&[
        "--days",
        "56",
        "--block-days",
        "7",
        "--washout-days",
        "1",
        "--seed",
        "5",
        "--out",
        schedule.to_str().expect("utf8"),
        "--history",
        sample("orders").to_str().expect("utf8"),
        "--report-out",
        reports.to_str().expect("utf8"),
        "--simulations",
        "200",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let frame = read(&schedule);
    assert_eq!(frame.height(), 56);
    let on = frame.column("brand_on").expect("col").bool().expect("bool").sum().unwrap_or(0);
    assert_eq!(on, 28);
    let washout = frame.column("washout").expect("col").bool().expect("bool").sum().unwrap_or(0);
    assert_eq!(washout, 8);
    assert!(reports.join("brand-test-design/charts/power.png").is_file());
    let power = std::fs::read_to_string(reports.join("brand-test-design/tables/power.csv")).expect("power table");
    assert!(power.lines().count() > 5, "{power}");
}

#[test]
fn brand_test_design_refuses_what_the_test_could_never_detect_and_sizes_a_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schedule = dir.path().join("schedule.parquet");
    let out = schedule.to_str().expect("utf8");
    // Four weekly blocks, two on: six assignments, p >= 1/3. Refused, nothing written.
    let refused = design(&["--days", "28", "--block-days", "7", "--out", out]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("only 6 possible on/off assignments"), "{}", text(&refused));
    assert!(text(&refused).contains("0.333"), "{}", text(&refused));
    assert!(!schedule.exists());

    let reports = dir.path().join("reports");
    let history = sample("orders");
    let sized = design(&[
        "--days",
        "56",
        "--out",
        out,
        "--history",
        history.to_str().expect("utf8"),
        "--report-out",
        reports.to_str().expect("utf8"),
        "--simulations",
        "100",
        "--draws",
        "200",
        "--effect",
        "3",
    ]);
    assert!(sized.status.success(), "{}", text(&sized));
    let said = text(&sized);
    assert!(said.contains("28 days, blocks of 7: no detectable effect: 4 blocks give only 6 possible assignments"), "{said}");
    assert!(said.contains("to detect 3 purchases a day with 80% power in blocks of 1:"), "{said}");
    let power = std::fs::read_to_string(reports.join("brand-test-design/tables/power.csv")).expect("power table");
    let header = power.lines().next().expect("header");
    assert!(header.contains("smallest_p") && header.contains("power_at_effect") && header.contains("note"), "{header}");
    let refused_row = power.lines().find(|l| l.starts_with("28,7,")).expect("28 x 7 row");
    assert!(refused_row.contains("smallest p-value the test can reach is 0.333"), "{refused_row}");
}

#[test]
fn a_brand_test_that_cannot_tell_says_how_long_a_test_would() {
    // Break-even a little above the sample's iCPA (about $47): the interval straddles it, needs data.
    let case = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 2000\nbreak_even_cpa = 48", |_| {});
    let (result, _) = case.result();
    let decision = &result.decisions[0];
    assert_eq!(decision.action, Action::NeedsData, "{}", decision.reason);
    assert!(decision.reason.contains("cannot yet tell at 80% confidence"), "{}", decision.reason);
    assert!(decision.reason.contains("from none with 80% power"), "{}", decision.reason);
    assert!(decision.reason.contains("days"), "{}", decision.reason);
    // Seeded: the same sentence twice.
    let (again, _) = case.result();
    assert_eq!(again.decisions[0].reason, decision.reason);
}

#[test]
fn brand_test_design_simulates_region_designs_on_each_region_s_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let orders = dir.path().join("orders.parquet");
    let mut frame = read(&sample("orders"));
    let regions: Vec<&str> = (0..frame.height()).map(|i| ["north", "south", "west"][i % 3]).collect();
    frame.with_column(Column::new("region".into(), regions)).expect("region");
    write(&orders, &mut frame);
    let schedule = dir.path().join("schedule.parquet");
    let reports = dir.path().join("reports");
    let args = |regions: &str| {
        vec![
            "--days".to_string(),
            "28".into(),
            "--regions".into(),
            regions.into(),
            "--out".into(),
            schedule.display().to_string(),
            "--history".into(),
            orders.display().to_string(),
            "--report-out".into(),
            reports.display().to_string(),
            "--simulations".into(),
            "60".into(),
            "--draws".into(),
            "200".into(),
        ]
    };
    let run = |regions: &str| {
        let owned = args(regions);
        design(&owned.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let output = run("north,south,west");
    assert!(output.status.success(), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("28 days, blocks of 1: detects") && said.contains("purchases a region-day"), "{said}");
    let power = std::fs::read_to_string(reports.join("brand-test-design/summary.md")).expect("summary");
    assert!(power.contains("in each of 3 regions"), "{power}");
    // A region the history does not have: named, with the ones it has.
    let missing = run("north,east");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("`east`") && text(&missing).contains("north, south, west"), "{}", text(&missing));
    // The sample's orders have no region: said before any file is written.
    std::fs::remove_file(&schedule).expect("schedule written");
    let mut args = args("north,south");
    args[7] = sample("orders").display().to_string();
    let output = design(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("the orders name no region at all"), "{}", text(&output));
    assert!(!schedule.exists());
}

/// The sample's test as a two-region design: north as scheduled, south the mirror, orders and
/// spend split between the regions by row.
fn two_regions(dir: &Path) {
    let by_row = |frame: &mut DataFrame| {
        let regions: Vec<&str> = (0..frame.height()).map(|i| if i % 2 == 0 { "north" } else { "south" }).collect();
        frame.with_column(Column::new("region".into(), regions)).expect("region");
    };
    for table in ["orders", "spend"] {
        let mut frame = read(&sample(table));
        by_row(&mut frame);
        write(&dir.join(format!("{table}.parquet")), &mut frame);
    }
    let schedule = read(&sample("brand_schedule"));
    let north = schedule.clone().lazy().with_column(lit("north").alias("region"));
    let south = schedule.lazy().with_columns([lit("south").alias("region"), col("brand_on").not().alias("brand_on")]);
    let mut both = concat([north, south], UnionArgs::default()).expect("concat").collect().expect("collect");
    write(&dir.join("brand_schedule.parquet"), &mut both);
}

#[test]
fn a_region_test_takes_each_region_s_earlier_days_as_a_covariate() {
    let plain = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 500", two_regions);
    let adjusted = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 500\ncovariate_lag_days = 56", two_regions);
    let (plain, _) = plain.result();
    let (result, out) = adjusted.result();
    assert_rows_accounted(&result);
    // The 56 days before the test are used for the covariate, no longer excluded.
    let lagged = excluded_in(&plain, "orders", "outside_test_window") - excluded_in(&result, "orders", "outside_test_window");
    assert!(lagged > 100, "{lagged} orders moved from outside_test_window to the covariate");
    let summary = std::fs::read_to_string(out.join("case/summary.md")).expect("summary");
    assert!(summary.contains("date and region fixed effects and each region's new customers 56 days earlier"), "{summary}");
    let effect = headline(&result, "incremental_purchases_per_unit");
    assert!(effect.ci_low.is_some() && effect.estimate.is_finite());
    // Shorter than the test: a lagged day would fall inside it.
    let short = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 500\ncovariate_lag_days = 28", two_regions);
    assert_run_fails(&short, 2, &["`covariate_lag_days = 28` is shorter than the test (56 days)"]);
}

//! Survey attribution on the sample and its bad inputs.

use std::path::Path;

use polars::prelude::*;

use crate::common::*;

const SURVEY_PARAMS: &str = r#"answer_map = [
  { match = "Google", channel = "google_search" },
  { pattern = "instagram|facebook", channel = "meta" },
  { pattern = "you ?tube|ютуб", channel = "youtube" },
  { pattern = "influencer|blogger|блогер", channel = "influencers" },
  { pattern = "google|гугл", channel = "google_search" },
  { pattern = "friend|podcast", channel = "organic" },
]
promo_codes = { ANNA10 = "influencers", DATAGUY = "influencers" }
target_cac = 150
draws = 300"#;

fn survey_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("survey", &["orders", "spend", "survey"], "", params, prepare)
}

#[test]
fn survey_attribution_on_the_sample_blends_reconciles_and_repeats_byte_for_byte() {
    let (_dir, folder, result) = run_sample_twice("experiments/survey-attribution.toml", "survey-attribution-2025");
    assert_eq!(result.kind, "survey");
    let truth = truth();
    let origins = truth["origins"].as_array().expect("origins");
    let new_customers: f64 = origins.iter().map(|o| o["new_customers"].as_f64().expect("n")).sum();
    // Every contract metric exists for every paid channel; intervals contain their estimates.
    let mut blended_total = 0.0;
    for channel in ["google_search", "meta", "youtube", "influencers", "organic"] {
        let blended = metric(&result, "blended_customers", channel).expect("blended");
        blended_total += blended.estimate;
        for name in ["click_customers", "survey_share", "blended_customers", "blended_share", "multiplier", "agreement"] {
            let m = metric(&result, name, channel).unwrap_or_else(|| panic!("{name} for {channel}"));
            let estimate = m.estimate;
            assert!(estimate.is_finite(), "{name} {channel} is finite");
            if let (Some(lo), Some(hi)) = (m.ci_low, m.ci_high) {
                assert!(lo <= estimate && estimate <= hi, "{m:?}");
                assert_eq!(m.level, Some(0.95));
            }
        }
        let click = metric(&result, "click_customers", channel).expect("click_customers").estimate;
        let multiplier = metric(&result, "multiplier", channel).expect("multiplier").estimate;
        assert!((multiplier - blended.estimate / click).abs() < 1e-9, "multiplier = blended / click");
        if channel != "organic" {
            let spend = metric(&result, "spend", channel).expect("spend").estimate;
            let cac = metric(&result, "blended_cac", channel).expect("blended_cac").estimate;
            assert!((cac - spend / blended.estimate).abs() < 1e-9, "blended CAC = spend / blended");
            for name in ["blended_cac", "click_cac"] {
                assert!(metric(&result, name, channel).is_some_and(|m| m.estimate.is_finite()), "{name} {channel}");
            }
        }
        // The channels clicks cannot see (customers come "organic") move toward where they really came from.
        // Small channels like meta are not asserted: 15% of the sample's answers are wrong at random, and a
        // survey cannot tell a wrong answer from a right one.
        if channel == "youtube" || channel == "influencers" {
            let origin = origins.iter().find(|o| o["channel"] == channel).expect("origin");
            let true_n = origin["new_customers"].as_f64().expect("n");
            let click = metric(&result, "click_customers", channel).expect("click_customers").estimate;
            let blended = blended.estimate;
            assert!(
                (blended - true_n).abs() < (click - true_n).abs(),
                "{channel}: blended {blended}, click {click}, truth {true_n}"
            );
        }
    }
    assert!((blended_total - new_customers).abs() < 1e-6, "blended {blended_total} vs {new_customers} new customers");
    let response = headline(&result, "response_rate");
    let responded: f64 = origins.iter().map(|o| o["responded"].as_f64().expect("n")).sum();
    let surveys = truth["rows"]["survey"].as_f64().expect("rows");
    assert!((response.estimate - responded / surveys).abs() < 1e-12);
    assert_rows_accounted(&result);
    assert_eq!(result.decisions.len(), 4, "one decision per paid channel");
    for chart in ["customers_by_channel", "blended_cac", "agreement_heatmap", "response_by_week", "organic_by_answer"] {
        let png = std::fs::read(folder.join(format!("charts/{chart}.png"))).expect("png");
        assert!(png.len() > 30_000, "{chart}.png looks blank ({} bytes)", png.len());
    }
    for table in ["channels", "agreement", "organic_by_answer", "response_by_click_channel", "answers", "promo_codes"] {
        assert!(folder.join(format!("tables/{table}.csv")).is_file(), "missing {table}.csv");
    }
}

#[test]
fn survey_bad_inputs_are_counted_or_named() {
    // Survey rows for orders not in the export: excluded by validation and counted.
    let unknown = survey_case(SURVEY_PARAMS, |dir| {
        edit("survey", dir, |df| set_where(df, col("i").lt(lit(5)), "order_id", col("order_id").str().to_lowercase()))
    });
    assert_eq!(excluded(&unknown, "survey", "order_id_not_in_orders"), 5);

    // Answers before the order was paid: left out, counted, warned with the order id.
    let early = survey_case(SURVEY_PARAMS, |dir| {
        edit("survey", dir, |df| {
            let early = lit(1_577_836_800_000_000i64).cast(DataType::Datetime(TimeUnit::Microseconds, None));
            let df = set_where(df, col("i").lt(lit(4)), "sent_at", early.clone());
            set_where(df, col("i").lt(lit(4)), "answered_at", early)
        })
    });
    assert_eq!(excluded(&early, "survey", "answered_before_order"), 4);
    let (_, out) = early.run();
    let result = read_result(&out.join("case/result.json"));
    assert!(result.warnings.iter().any(|w| w.contains("answered before their order")), "{:?}", result.warnings);

    // A promo code mapped to two channels: a config error that names both.
    let conflict = survey_case(
        "answer_map = [{ match = \"YouTube\", channel = \"youtube\" }]\npromo_codes = { ANNA10 = \"influencers\", anna10 = \"youtube\" }",
        |_| {},
    );
    assert_run_fails(&conflict, 2, &["promo_codes", "anna10", "two channels", "influencers", "youtube"]);
    let bad_regex = survey_case("answer_map = [{ pattern = \"(\", channel = \"youtube\" }]", |_| {});
    assert_run_fails(&bad_regex, 2, &["answer_map", "not a valid regex"]);

    // No answers at all: the analysis cannot run, and says which file and column.
    let silent = survey_case(SURVEY_PARAMS, |dir| {
        edit("survey", dir, |df| set_where(df, lit(true), "answer", lit(NULL).cast(DataType::String)))
    });
    assert_analysis_rejects(&silent, &["survey.parquet", "`answer`", "none of the"]);

    // The answer column under another name: the contract allows it to be absent, the analysis names the rename.
    let renamed = survey_case(SURVEY_PARAMS, |dir| {
        edit("survey", dir, |df| df.lazy().rename(["answer"], ["response"], true).collect().expect("rename"))
    });
    assert_analysis_rejects(&renamed, &["survey.parquet", "`answer`", "is missing", "answer = \"response\""]);
}

#[test]
fn survey_click_channel_without_respondents_stays_defined() {
    let meta_orders: Vec<String> = {
        let orders = read(&sample("orders"));
        let meta = orders.lazy().filter(col("channel").eq(lit("meta"))).select([col("order_id")]).collect().expect("meta");
        meta.column("order_id").expect("ids").str().expect("str").iter().flatten().map(str::to_string).collect()
    };
    let case = survey_case(SURVEY_PARAMS, |dir| {
        edit("survey", dir, |df| {
            let ids = Series::new("ids".into(), meta_orders);
            let mask = col("order_id").is_in(lit(ids).implode(false), false);
            let df = set_where(df, mask.clone(), "answer", lit(NULL).cast(DataType::String));
            set_where(df, mask, "answered_at", lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)))
        })
    });
    let (result, _) = case.result();
    assert!(result.warnings.iter().any(|w| w.contains("click channel meta: no respondent")), "{:?}", result.warnings);
    let rate = metrics_where(&result, "response_rate", &[("click_channel", "meta")]);
    assert_eq!(rate.first().map(|m| m.estimate), Some(0.0), "meta response rate");
    for m in &result.metrics {
        if m.segment.get("channel").map(String::as_str) == Some("meta") && m.name != "agreement" {
            assert!(m.estimate.is_finite(), "no NaN for meta: {m:?}");
        }
    }
}

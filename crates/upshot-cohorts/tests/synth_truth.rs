//! The triangles built from the committed sample exports agree, cohort by
//! cohort and channel by channel, with the purchases the generator recorded
//! in `truth.json`.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use upshot_cohorts::triangle::{Grain, build};

fn read(name: &str) -> DataFrame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data").join(name);
    ParquetReader::new(std::fs::File::open(path).expect("sample file")).finish().expect("parquet")
}

#[test]
fn observed_purchases_per_cohort_and_channel_match_the_generator() {
    let leads = read("leads.parquet");
    let orders = read("orders.parquet");
    let as_of = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date");
    let triangles = build(&leads, &orders, Grain::Month, 12, as_of, &["channel"]).expect("builds");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data/truth.json")).expect("truth"),
    )
    .expect("json");
    let mut checked = 0;
    for cohort in truth["cohorts"].as_array().expect("cohorts") {
        let label = cohort["cohort"].as_str().expect("label");
        let channel = cohort["channel"].as_str().expect("channel");
        let segment = triangles.segments.iter().find(|s| s.segment == [channel]).expect("segment");
        let row = segment.cohorts.iter().position(|c| Grain::Month.label(*c) == label).expect("cohort");
        let latest = segment.purchases.cells[row].iter().flatten().last().copied().expect("observed");
        assert_eq!(latest, cohort["observed_purchases"].as_f64().expect("n"), "{label} {channel}");
        assert_eq!(segment.leads[row], cohort["leads"].as_f64().expect("n"), "{label} {channel}");
        checked += 1;
    }
    assert!(checked >= 50, "{checked} cohorts checked");
    assert!(triangles.excluded.is_empty(), "{:?}", triangles.excluded);
}

//! The triangles built from the committed sample exports agree, cohort by
//! cohort and channel by channel, with the purchases the generator recorded
//! in `truth.json`.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use upshot_cohorts::prepare::{Grain, Spec, build};

fn read(name: &str) -> DataFrame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data").join(name);
    ParquetReader::new(std::fs::File::open(path).expect("sample file")).finish().expect("parquet")
}

#[test]
fn observed_purchases_per_cohort_and_channel_match_the_generator() {
    let leads = read("leads.parquet");
    let orders = read("orders.parquet");
    let spend = read("spend.parquet");
    let by = vec!["channel".to_string()];
    let spec = Spec { grain: Grain::Month, ages: 12, by: &by, stages: &[] };
    let cohorts = build(&leads, &orders, &spend, &spec).expect("builds");
    assert_eq!(cohorts.last_day, NaiveDate::from_ymd_opt(2025, 12, 31).expect("date"));
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data/truth.json")).expect("truth"),
    )
    .expect("json");
    let mut checked = 0;
    for cohort in truth["cohorts"].as_array().expect("cohorts") {
        let label = cohort["cohort"].as_str().expect("label");
        let channel = cohort["channel"].as_str().expect("channel");
        let segment = cohorts.segments.iter().find(|s| s.keys == [channel]).expect("segment");
        let row = cohorts.periods.iter().position(|c| Grain::Month.label(*c) == label).expect("cohort");
        let observed: f64 = segment.purchases[row].iter().sum();
        assert_eq!(observed, cohort["observed_purchases"].as_f64().expect("n"), "{label} {channel}");
        assert_eq!(segment.leads[row], cohort["leads"].as_f64().expect("n"), "{label} {channel}");
        checked += 1;
    }
    assert!(checked >= 50, "{checked} cohorts checked");
    assert!(cohorts.excluded.of(upshot_data::TableKind::Leads).next().is_none(), "{:?}", cohorts.excluded);
}

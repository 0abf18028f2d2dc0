//! Benchmark: a 20 regions x 365 days brand test with 100,000 re-randomization
//! draws, from in-memory tables to the finished analysis (assembly, draws,
//! test inversion for every outcome, cross-checks, charts' data).
//!
//!     cargo run --release -p upshot-brand --example bench_region_days [regions] [days] [draws]
//!
//! Wrap it in `/usr/bin/time -v` for peak memory; `bench/brand.sh` does.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;
use rand::Rng;
use rand_distr::{Distribution, Poisson};
use upshot_analysis::{Kind, Seed};
use upshot_brand::design::{DesignParams, design};
use upshot_brand::{BrandTest, Params};
use upshot_data::{Dataset, LoadedTable, TableKind, TableReport};

fn loaded(table: TableKind, frame: DataFrame, metadata: BTreeMap<String, String>) -> LoadedTable {
    let rows = frame.height() as u64;
    let report = TableReport {
        table,
        path: format!("{}.parquet", table.name()),
        sha256: String::new(),
        rows,
        rows_used: rows,
        rows_excluded: BTreeMap::new(),
        examples: BTreeMap::new(),
        ignored_columns: Vec::new(),
        absent_columns: Vec::new(),
        time_range: None,
    };
    LoadedTable { frame, report, metadata }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let regions = args.first().copied().unwrap_or(20);
    let days = args.get(1).copied().unwrap_or(365);
    let draws = args.get(2).copied().unwrap_or(100_000);
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).ok_or("date")?;
    let built = Instant::now();
    let schedule = design(&DesignParams {
        start,
        days,
        regions: (0..regions).map(|r| Some(format!("region-{r:02}"))).collect(),
        block_days: 1,
        washout_days: 0,
        seed: 7,
    });
    let mut rng = upshot_stats::rng::stream(7, "bench", 0);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("date")?;
    let (mut o_id, mut o_cust, mut o_at, mut o_rev, mut o_chan, mut o_camp, mut o_region) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut s_date, mut s_region, mut s_cost) = (Vec::new(), Vec::new(), Vec::new());
    for row in &schedule {
        let day = (row.date - epoch).num_days();
        let region = row.region.clone().unwrap_or_default();
        let n = Poisson::new(if row.brand_on { 12.0 } else { 10.0 })?.sample(&mut rng) as usize;
        for _ in 0..n {
            let id = o_id.len();
            let paid: bool = row.brand_on && rng.random_bool(0.4);
            o_id.push(format!("O{id}"));
            o_cust.push(format!("C{id}"));
            o_at.push(day * 86_400_000_000 + rng.random_range(0..86_400_000_000i64));
            o_rev.push(300.0);
            o_chan.push(if paid { Some("google_search") } else { None });
            o_camp.push(if paid { Some("brand_search") } else { None });
            o_region.push(region.clone());
        }
        if row.brand_on {
            s_date.push(day as i32);
            s_region.push(region.clone());
            s_cost.push(150.0);
        }
    }
    let orders = DataFrame::new_infer_height(vec![
        Column::new("order_id".into(), o_id),
        Column::new("customer_id".into(), o_cust),
        Column::new("paid_at".into(), o_at).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?,
        Column::new("revenue".into(), o_rev),
        Column::new("channel".into(), o_chan),
        Column::new("campaign".into(), o_camp),
        Column::new("region".into(), o_region),
    ])?;
    let n_spend = s_cost.len();
    let spend = DataFrame::new_infer_height(vec![
        Column::new("date".into(), s_date).cast(&DataType::Date)?,
        Column::new("campaign".into(), vec!["brand_search"; n_spend]),
        Column::new("region".into(), s_region),
        Column::new("cost".into(), s_cost),
    ])?;
    let schedule_frame = DataFrame::new_infer_height(vec![
        Column::new("date".into(), schedule.iter().map(|r| (r.date - epoch).num_days() as i32).collect::<Vec<_>>())
            .cast(&DataType::Date)?,
        Column::new("region".into(), schedule.iter().map(|r| r.region.clone()).collect::<Vec<_>>()),
        Column::new("brand_on".into(), schedule.iter().map(|r| r.brand_on).collect::<Vec<_>>()),
        Column::new("washout".into(), schedule.iter().map(|r| r.washout).collect::<Vec<_>>()),
    ])?;
    let mut tables = BTreeMap::new();
    let orders_rows = orders.height();
    tables.insert(TableKind::Orders, loaded(TableKind::Orders, orders, BTreeMap::new()));
    tables.insert(TableKind::Spend, loaded(TableKind::Spend, spend, BTreeMap::new()));
    tables.insert(TableKind::Schedule, loaded(TableKind::Schedule, schedule_frame, BTreeMap::new()));
    let data = Dataset { tables, stages: Vec::new(), currency: "USD".into() };
    println!("built {regions} regions x {days} days ({orders_rows} orders) in {:.2?}", built.elapsed());
    let params = Params {
        brand_campaigns: vec!["brand_search".into()],
        draws,
        level: 0.95,
        margin: 1.0,
        break_even_cpa: None,
        covariate_lag_days: 0,
    };
    if std::env::var_os("UPSHOT_BENCH_SPLIT").is_some() {
        let matcher = upshot_analysis::params::brand_matcher(&params.brand_campaigns)?;
        let timer = Instant::now();
        let test = upshot_brand::prepare::assemble(&data, &matcher, 0)?;
        println!("  assemble {:.2?}", timer.elapsed());
        let timer = Instant::now();
        let inference = upshot_brand::model::rerandomize(&test.units, draws, 42);
        println!("  draws {:.2?}", timer.elapsed());
        let timer = Instant::now();
        for dist in inference.fixed_effects.iter().chain(&inference.difference_in_means) {
            let _ = dist.dist.interval(0.95);
        }
        println!("  intervals {:.2?}", timer.elapsed());
    }
    let timer = Instant::now();
    let analysis = BrandTest::run(&data, &params, Seed(42))?.analysis;
    println!("analysis with {draws} draws: {:.2?}", timer.elapsed());
    println!("{}", analysis.headline);
    Ok(())
}

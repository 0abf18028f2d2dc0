//! `upshot validate` on loose Parquet files, as a user types it: the table from
//! the file name, else from the columns, else a clear refusal suggesting `--table`.

use polars::prelude::*;

use crate::common::*;

#[test]
fn a_loose_file_is_checked_as_the_table_its_name_says() {
    let output = upshot(&["validate", "notebooks-data/orders.parquet"]);
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("notebooks-data/orders.parquet: checked as the `orders` table (from its file name)"), "{message}");
    assert!(message.contains("every input meets the contract"), "{message}");
}

#[test]
fn several_loose_files_of_different_tables_are_checked_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A name that says nothing: the columns tell it is a spend export.
    let export = dir.path().join("export_2025.parquet");
    std::fs::copy(sample("spend"), &export).expect("copy");
    let output = upshot(&[
        "validate",
        "notebooks-data/leads.parquet",
        "notebooks-data/orders.parquet",
        export.to_str().expect("utf8"),
        "notebooks-data/brand_schedule.parquet",
    ]);
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("export_2025.parquet: checked as the `spend` table (from its columns)"), "{message}");
    assert!(message.contains("brand_schedule.parquet: checked as the `schedule` table (from its file name)"), "{message}");
    // One check over the four files: orders' lead ids are matched against the leads given.
    assert_eq!(message.matches("every input meets the contract").count(), 1, "{message}");
    for table in ["leads", "orders", "spend", "schedule"] {
        assert!(message.contains(&format!("│ {table}")), "{table} row in:\n{message}");
    }
}

#[test]
fn a_file_neither_name_nor_columns_place_is_refused_with_the_table_flag_suggested() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("export.parquet");
    edit("spend", dir.path(), |frame| frame.drop_many(["impressions", "cost"]));
    std::fs::rename(dir.path().join("spend.parquet"), &export).expect("rename");
    let output = upshot(&["validate", export.to_str().expect("utf8")]);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(!message.contains("panicked") && !message.contains("UTF-8"), "{message}");
    for fragment in ["cannot tell which contract table", "closest: `spend`", "impressions, cost", "--table <spend|"] {
        assert!(message.contains(fragment), "expected `{fragment}` in:\n{message}");
    }
    // Named, the same file is checked, and fails on the missing column.
    let named = upshot(&["validate", "--table", "spend", export.to_str().expect("utf8")]);
    assert_eq!(named.status.code(), Some(1), "{}", text(&named));
    assert!(text(&named).contains("column `impressions` is missing"), "{}", text(&named));
}

#[test]
fn a_csv_named_parquet_gets_its_plain_message_when_guessed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("export.parquet");
    std::fs::write(&export, "date,channel,cost\n2025-01-01,meta,10\n").expect("write");
    let output = upshot(&["validate", export.to_str().expect("utf8")]);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("looks like CSV"), "{message}");
}

/// Issue 18's stall: orders exported without a CRM link (`lead_id` null on every row) beside a large
/// leads table. `upshot validate` joined every order against the scanned lead ids, which stalled on a
/// column of nulls once leads passed ~9M rows (1M such orders beside 10M leads: 65 s in a release
/// build, 159 s in this debug build). It now looks up the distinct dangling ids only (4 s debug).
/// The bound is a stall guard, not a speed figure (those are in `bench/validate_links.sh`).
#[test]
fn orders_without_lead_ids_beside_ten_million_leads_do_not_stall_validation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 10_000_000usize;
    let ids: Vec<String> = (0..n).map(|i| format!("L{i}")).collect();
    let created: Vec<i64> = (0..n as i64).map(|i| 1_735_689_600_000_000 + (i % 31_000_000) * 1_000_000).collect();
    let mut leads = DataFrame::new(
        n,
        vec![
            Column::new("lead_id".into(), ids),
            Column::new("created_at".into(), created).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).expect("datetime"),
        ],
    )
    .expect("leads");
    write(&dir.path().join("leads.parquet"), &mut leads);
    drop(leads);
    let mut orders =
        read(&sample("orders")).lazy().with_column(lit(NULL).cast(DataType::String).alias("lead_id")).collect().expect("orders");
    // The sample's ~10k orders repeated to ~1M, ids kept unique.
    let copies = 100;
    let mut all = orders.clone();
    for copy in 1..copies {
        let again = orders
            .clone()
            .lazy()
            .with_column((col("order_id") + lit(format!("-{copy}"))).alias("order_id"))
            .collect()
            .expect("copy");
        all.vstack_mut(&again).expect("stack");
    }
    orders = all;
    write(&dir.path().join("orders.parquet"), &mut orders);
    let config = dir.path().join("links.toml");
    std::fs::write(
        &config,
        "name = \"links\"\nkind = \"inspect\"\ncurrency = \"USD\"\n[inputs]\nleads = \"leads.parquet\"\norders = \"orders.parquet\"\n",
    )
    .expect("config");
    let started = std::time::Instant::now();
    let output = upshot(&["validate", config.to_str().expect("utf8"), "-q"]);
    let took = started.elapsed();
    assert!(output.status.success(), "{}", text(&output));
    assert!(took < std::time::Duration::from_secs(60), "validation stalled: {took:?}");
}

//! The bad-input corpus of the export contract (broken copies of the sample, inspect kind).

use polars::prelude::*;

use crate::common::*;

#[test]
fn missing_column_names_file_column_and_rename_hint() {
    let case = Case::new(&["orders"], "", |dir| {
        edit("orders", dir, |df| df.lazy().rename(["paid_at"], ["paid_date"], true).collect().expect("rename"))
    });
    assert_rejected(
        &case,
        1,
        &["orders.parquet", "column `paid_at` is missing", "paid_date", "[columns.orders]", "paid_at = \"paid_date\""],
    );
}

#[test]
fn mistyped_column_shows_type_and_examples() {
    let case = Case::new(&["orders"], "", |dir| {
        edit("orders", dir, |df| df.lazy().with_column(col("paid_at").cast(DataType::String)).collect().expect("cast"))
    });
    assert_rejected(&case, 1, &["orders.parquet", "`paid_at`", "expected Datetime", "row 1:"]);
}

#[test]
fn negative_cost_is_rejected_with_example_rows() {
    let case = Case::new(&["spend"], "", |dir| edit("spend", dir, |df| set_where(df, col("i").eq(lit(4)), "cost", lit(-12.5))));
    assert_rejected(&case, 1, &["spend.parquet", "negative cost", "`cost`", "(1 rows)", "row 5:", "cost=-12.5"]);
}

/// Issue 18's first hole: a NaN cost passed validation and every money total skipped it.
#[test]
fn nan_and_infinite_money_is_rejected_not_skipped() {
    let case =
        Case::new(&["spend"], "", |dir| edit("spend", dir, |df| set_where(df, col("i").eq(lit(189)), "cost", lit(f64::NAN))));
    assert_rejected(&case, 1, &["spend.parquet", "cost that is NaN or infinite", "`cost`", "(1 rows)", "row 190:", "cost=NaN"]);
    let case =
        Case::new(&["spend"], "", |dir| edit("spend", dir, |df| set_where(df, col("i").lt(lit(2)), "cost", lit(f64::INFINITY))));
    assert_rejected(&case, 1, &["spend.parquet", "cost that is NaN or infinite", "(2 rows)", "cost=inf"]);
    let case = Case::new(&["orders"], "", |dir| {
        edit("orders", dir, |df| set_where(df, col("i").eq(lit(3)), "revenue", lit(f64::NEG_INFINITY)))
    });
    assert_rejected(&case, 1, &["orders.parquet", "revenue that is NaN or infinite", "row 4:"]);
    let case = Case::new(&["plan"], "", |dir| edit("plan", dir, |df| set_where(df, col("i").eq(lit(0)), "value", lit(f64::NAN))));
    assert_rejected(&case, 1, &["plan.parquet", "value that is NaN or infinite", "row 1:"]);
}

#[test]
fn money_too_large_to_sum_exactly_is_rejected() {
    let case = Case::new(&["spend"], "", |dir| edit("spend", dir, |df| set_where(df, col("i").eq(lit(7)), "cost", lit(3e15))));
    assert_rejected(&case, 1, &["spend.parquet", "cost beyond ±1,000,000,000,000 in one row", "row 8:", "unit"]);
    // Every row under the per-row bound, the column's total past what millionths in an i64 hold.
    let case = Case::new(&["spend"], "", |dir| edit("spend", dir, |df| set_where(df, col("i").lt(lit(20)), "cost", lit(9e11))));
    assert_rejected(&case, 1, &["spend.parquet", "cost summing past ±9,000,000,000,000 over the file", "cost=9.0000e11"]);
}

#[test]
fn a_nan_score_excludes_its_lead_with_a_count() {
    let case = Case::new(&["leads", "orders"], "", |dir| {
        edit("leads", dir, |df| {
            let df = set_where(df, col("i").eq(lit(0)), "score", lit(f64::NAN));
            set_where(df, col("i").eq(lit(1)), "score", lit(f64::NEG_INFINITY))
        })
    });
    assert_eq!(excluded(&case, "leads", "non_finite_score"), 2);
}

#[test]
fn clicks_above_impressions_are_rejected() {
    let case = Case::new(&["spend"], "", |dir| {
        edit("spend", dir, |df| set_where(df, col("i").lt(lit(3)), "clicks", col("impressions") + lit(5)))
    });
    assert_rejected(&case, 1, &["spend.parquet", "clicks above impressions", "(3 rows)", "impressions="]);
}

#[test]
fn duplicate_ids_are_rejected() {
    let case = Case::new(&["orders"], "", |dir| {
        edit("orders", dir, |df| {
            let head = df.head(Some(2));
            df.vstack(&head).expect("stack")
        })
    });
    assert_rejected(&case, 1, &["orders.parquet", "duplicate order_id", "(2 rows)", "order_id="]);
}

#[test]
fn mixed_currency_is_rejected() {
    let case = Case::new(&["spend"], "", |dir| {
        edit("spend", dir, |df| {
            let with_currency = df.lazy().with_column(lit("USD").alias("currency")).collect().expect("currency");
            set_where(with_currency, col("i").eq(lit(10)), "currency", lit("EUR"))
        })
    });
    assert_rejected(&case, 1, &["spend.parquet", "currency other than the config's USD", "currency=EUR"]);
}

#[test]
fn empty_truncated_and_csv_files_are_named() {
    let empty = Case::new(&["orders"], "", |dir| std::fs::write(dir.join("orders.parquet"), b"").expect("write"));
    assert_rejected(&empty, 1, &["orders.parquet", "empty"]);
    let truncated = Case::new(&["orders"], "", |dir| {
        let bytes = std::fs::read(sample("orders")).expect("read");
        std::fs::write(dir.join("orders.parquet"), &bytes[..bytes.len() / 2]).expect("write");
    });
    assert_rejected(&truncated, 1, &["orders.parquet", "truncated"]);
    let csv = Case::new(&["orders"], "", |dir| {
        std::fs::write(dir.join("orders.parquet"), "order_id,customer_id,paid_at,revenue\nO1,C1,2025-01-01,10\n").expect("write")
    });
    assert_rejected(&csv, 1, &["orders.parquet", "CSV"]);
}

#[test]
fn config_errors_exit_2_and_name_the_key() {
    let unknown = Case::new(&["orders"], "colour = \"blue\"", |_| {});
    assert_rejected(&unknown, 2, &["case.toml", "colour"]);
    let bad_rename = Case::new(&["orders"], "[columns.orders]\npaid = \"x\"", |_| {});
    assert_rejected(&bad_rename, 2, &["`paid`"]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("c.toml"),
        "name = \"c\"\nkind = \"inspect\"\ncurrency = \"USD\"\n[inputs]\norders = \"missing.parquet\"\n",
    )
    .expect("config");
    let output = upshot(&[
        "run",
        dir.path().join("c.toml").to_str().expect("utf8"),
        "--out",
        dir.path().join("out").to_str().expect("utf8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("missing.parquet"), "{}", text(&output));
    assert!(!dir.path().join("out/c").exists());
    let usage = upshot(&["run"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn null_required_values_are_excluded_and_counted() {
    let case = Case::new(&["spend"], "", |dir| {
        edit("spend", dir, |df| set_where(df, col("i").lt(lit(7)), "cost", lit(NULL).cast(DataType::Float64)))
    });
    assert_eq!(excluded(&case, "spend", "null_cost"), 7);
    let validated = case.validate();
    assert!(validated.status.success());
    let message = text(&validated);
    assert!(message.contains("null_cost") && message.contains("row 1: cost=null"), "{message}");
}

#[test]
fn orders_with_unknown_leads_and_rows_outside_the_window_are_excluded() {
    let case = Case::new(&["leads", "orders"], "[window]\nstart = 2025-02-01\nend = 2025-12-31", |dir| {
        edit("orders", dir, |df| {
            set_where(df, col("i").lt(lit(3)).and(col("lead_id").is_not_null()), "lead_id", lit("L_NOT_THERE"))
        })
    });
    let orders_before_february =
        read(&sample("orders")).lazy().filter(col("paid_at").dt().month().eq(lit(1))).collect().expect("filter").height() as u64;
    assert!(orders_before_february > 100);
    let (result, _) = case.result();
    let unknown = excluded_in(&result, "orders", "lead_id_not_in_leads");
    let outside = excluded_in(&result, "orders", "outside_window");
    // Rows breaking both rules count once, under the first rule (window).
    let orders = input(&result, "orders");
    assert!((1..=3).contains(&unknown), "{orders:?}");
    assert!(outside >= orders_before_february - 3 && outside <= orders_before_february, "{orders:?}");
}

#[test]
fn a_table_with_every_row_excluded_fails() {
    let case = Case::new(&["orders"], "[window]\nstart = 2030-01-01\nend = 2030-12-31", |_| {});
    assert_rejected(&case, 1, &["orders.parquet", "no usable rows", "outside_window"]);
}

#[test]
fn renamed_columns_are_read_through_the_config() {
    let case = Case::new(&["orders"], "[columns.orders]\npaid_at = \"payment_date\"\nrevenue = \"amount\"", |dir| {
        edit("orders", dir, |df| {
            df.lazy().rename(["paid_at", "revenue"], ["payment_date", "amount"], true).collect().expect("rename")
        })
    });
    let (output, out) = case.run();
    assert!(output.status.success(), "{}", text(&output));
    assert!(out.join("case/result.json").exists());
}

#[test]
fn timezone_moves_day_boundaries() {
    let window = "[window]\nstart = 2025-02-01\nend = 2025-12-31";
    let utc = Case::new(&["orders"], window, |_| {});
    let tokyo = Case::new(&["orders"], &format!("timezone = \"Asia/Tokyo\"\n{window}"), |_| {});
    // Orders paid on 31 January after 15:00 UTC are already in February in
    // Tokyo (UTC+9), and those paid on 31 December after 15:00 UTC are in 2026.
    let late_on = |month: i32, day: i32| {
        read(&sample("orders"))
            .lazy()
            .filter(
                col("paid_at")
                    .dt()
                    .month()
                    .eq(lit(month))
                    .and(col("paid_at").dt().day().eq(lit(day)))
                    .and(col("paid_at").dt().hour().gt_eq(lit(15))),
            )
            .collect()
            .expect("filter")
            .height() as i64
    };
    let (late_january, late_december) = (late_on(1, 31), late_on(12, 31));
    assert!(late_january > 0 && late_december > 0);
    let shift = excluded(&utc, "orders", "outside_window") as i64 - excluded(&tokyo, "orders", "outside_window") as i64;
    assert_eq!(shift, late_january - late_december);
    let bad = Case::new(&["orders"], "timezone = \"Mars/Olympus\"", |_| {});
    let (output, _) = bad.run();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("case.toml") && text(&output).contains("`timezone = \"Mars/Olympus\"`"), "{}", text(&output));
}

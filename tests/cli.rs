//! End-to-end tests of the `upshot` binary: the sample run, determinism, and
//! the bad-input corpus (broken exports built from the sample data).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use polars::prelude::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn upshot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upshot")).args(args).current_dir(root()).output().expect("upshot runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn sample(table: &str) -> PathBuf {
    root().join("notebooks-data").join(format!("{table}.parquet"))
}

fn read(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).expect("open sample");
    ParquetReader::new(file).finish().expect("read sample")
}

fn write(path: &Path, frame: &mut DataFrame) {
    let file = std::fs::File::create(path).expect("create");
    ParquetWriter::new(file).finish(frame).expect("write");
}

#[test]
fn run_writes_the_full_output_folder() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/", "--out", out.path().to_str().expect("utf8"), "--quiet"]);
    assert!(output.status.success(), "{}", text(&output));
    let folder = out.path().join("inspect-2025");
    for file in
        ["summary.md", "summary.html", "result.json", "tables/channels.csv", "tables/weekly_by_channel.csv", "tables/tables.xlsx"]
    {
        assert!(folder.join(file).is_file(), "missing {file}");
    }
    for chart in ["weekly_purchases", "weekly_spend"] {
        let png = std::fs::read(folder.join(format!("charts/{chart}.png"))).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() > 30_000, "{chart}.png looks blank ({} bytes)", png.len());
        let svg = std::fs::read_to_string(folder.join(format!("charts/{chart}.svg"))).expect("svg");
        assert!(svg.contains("<text"), "{chart}.svg has no text");
    }
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("result.json")).expect("json")).expect("valid json");
    assert_eq!(result["kind"], "inspect");
    assert_eq!(result["inputs"].as_array().map(Vec::len), Some(7));
    for input in result["inputs"].as_array().expect("inputs") {
        let excluded: u64 = input["rows_excluded"].as_object().expect("map").values().map(|v| v.as_u64().expect("count")).sum();
        assert_eq!(input["rows"].as_u64(), Some(input["rows_used"].as_u64().expect("used") + excluded), "{input}");
        assert_eq!(input["sha256"].as_str().map(str::len), Some(64));
    }
    // The metrics agree with the sample's ground truth: purchases = new customers.
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json");
    let new_customers: u64 =
        truth["origins"].as_array().expect("origins").iter().map(|o| o["new_customers"].as_u64().expect("n")).sum();
    let purchases = result["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "purchases" && m["segment"].as_object().is_some_and(|s| s.is_empty()))
        .expect("total purchases");
    assert_eq!(purchases["estimate"].as_f64(), Some(new_customers as f64));
    let summary = std::fs::read_to_string(folder.join("summary.md")).expect("md");
    assert!(summary.starts_with("# ") && summary.contains("new customers"), "{summary}");
    let html = std::fs::read_to_string(folder.join("summary.html")).expect("html");
    assert_eq!(html.matches("<svg").count(), 2, "both charts inline");
    assert!(!html.contains("src=\"http"), "no external assets");
}

#[test]
fn same_inputs_and_seed_give_byte_identical_result_json() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        let output = upshot(&["run", "experiments/inspect.toml", "--out", out.path().to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let read =
        |dir: &tempfile::TempDir, file: &str| std::fs::read_to_string(dir.path().join("inspect-2025").join(file)).expect("read");
    assert_eq!(read(&a, "result.json"), read(&b, "result.json"));
    assert_eq!(read(&a, "summary.md"), read(&b, "summary.md"));
    assert_eq!(read(&a, "tables/weekly_by_channel.csv"), read(&b, "tables/weekly_by_channel.csv"));
}

#[test]
fn synth_is_deterministic_and_the_committed_sample_is_current() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        let output = upshot(&["synth", "--scale", "small", "--seed", "42", "--out", out.path().to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let files = ["spend", "leads", "orders", "touchpoints", "survey", "plan", "brand_schedule"];
    for table in files {
        let name = format!("{table}.parquet");
        let first = std::fs::read(a.path().join(&name)).expect("a");
        assert_eq!(first, std::fs::read(b.path().join(&name)).expect("b"), "{name} differs between two runs");
        assert_eq!(
            first,
            std::fs::read(root().join("notebooks-data").join(&name)).expect("sample"),
            "notebooks-data/{name} is stale: run `upshot synth`"
        );
    }
    assert_eq!(
        std::fs::read(a.path().join("truth.json")).expect("a"),
        std::fs::read(root().join("notebooks-data/truth.json")).expect("sample")
    );
    let other = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["synth", "--seed", "43", "--out", other.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success());
    assert_ne!(
        std::fs::read(a.path().join("orders.parquet")).expect("a"),
        std::fs::read(other.path().join("orders.parquet")).expect("b")
    );
}

/// One broken export: a config over the sample with one table replaced.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    /// A case whose config reads `tables` from the sample, except those the
    /// closure writes into the case folder.
    fn new(tables: &[&str], extra: &str, prepare: impl FnOnce(&Path)) -> Case {
        Case::with_kind("inspect", tables, extra, "", prepare)
    }

    /// A case of any kind; `params` goes under `[params]`.
    fn with_kind(kind: &str, tables: &[&str], extra: &str, params: &str, prepare: impl FnOnce(&Path)) -> Case {
        let dir = tempfile::tempdir().expect("tempdir");
        prepare(dir.path());
        let mut config = format!("name = \"case\"\nkind = \"{kind}\"\ncurrency = \"USD\"\nseed = 1\n");
        config.push_str(extra);
        if !params.is_empty() {
            config.push_str(&format!("\n[params]\n{params}\n"));
        }
        config.push_str("\n[inputs]\n");
        for table in tables {
            let file = if *table == "schedule" { "brand_schedule".to_string() } else { table.to_string() };
            let local = dir.path().join(format!("{file}.parquet"));
            let file = if local.exists() || *table != "schedule" { file } else { "brand_schedule".to_string() };
            let path = if local.exists() { local } else { sample(&file) };
            config.push_str(&format!("{table} = \"{}\"\n", path.display()));
        }
        std::fs::write(dir.path().join("case.toml"), config).expect("config");
        Case { dir }
    }

    fn run(&self) -> (Output, PathBuf) {
        let out = self.dir.path().join("out");
        let output = upshot(&[
            "run",
            self.dir.path().join("case.toml").to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
            "-q",
        ]);
        (output, out)
    }

    /// Runs the case, which must succeed; its result.json and the output folder.
    fn result(&self) -> (serde_json::Value, PathBuf) {
        let (output, out) = self.run();
        assert!(output.status.success(), "{}", text(&output));
        let json = std::fs::read_to_string(out.join("case/result.json")).expect("result.json");
        (serde_json::from_str(&json).expect("json"), out)
    }

    fn validate(&self) -> Output {
        upshot(&["validate", self.dir.path().join("case.toml").to_str().expect("utf8")])
    }
}

/// A rejected input: exit code, message fragments, no panic, nothing written;
/// `upshot validate` rejects it too.
fn assert_rejected(case: &Case, code: i32, fragments: &[&str]) {
    assert_run_fails(case, code, fragments);
    let validated = case.validate();
    assert_eq!(validated.status.code(), Some(code), "validate agrees: {}", text(&validated));
}

/// An input the contract accepts but the analysis cannot use: the run fails
/// with a message, `upshot validate` passes.
fn assert_analysis_rejects(case: &Case, fragments: &[&str]) {
    assert_run_fails(case, 1, fragments);
    assert!(case.validate().status.success());
}

fn assert_run_fails(case: &Case, code: i32, fragments: &[&str]) {
    let (output, out) = case.run();
    let message = text(&output);
    assert_eq!(output.status.code(), Some(code), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "expected `{fragment}` in:\n{message}");
    }
    let leftovers: Vec<_> =
        std::fs::read_dir(&out).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "half-written output: {leftovers:?}");
}

fn edit(table: &str, dir: &Path, change: impl FnOnce(DataFrame) -> DataFrame) {
    let mut frame = change(read(&sample(table)));
    write(&dir.join(format!("{table}.parquet")), &mut frame);
}

/// Sets `column` to `value` on the rows where `mask` holds; `mask` may use the
/// 0-based row number `i`.
fn set_where(frame: DataFrame, mask: Expr, column: &str, value: Expr) -> DataFrame {
    frame
        .lazy()
        .with_row_index("i", None)
        .with_column(when(mask).then(value).otherwise(col(column)).alias(column))
        .drop(cols(["i"]))
        .collect()
        .expect("edit")
}

/// Runs a sample config twice into two folders, requires byte-identical result.json files, and returns
/// the first output folder (alive while the guard lives), its experiment folder and the parsed result.
fn run_sample_twice(config: &str, experiment: &str) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for out in [&a, &b] {
        let output = upshot(&["run", config, "--out", out.path().to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    let read =
        |dir: &tempfile::TempDir| std::fs::read_to_string(dir.path().join(experiment).join("result.json")).expect("result");
    let json = read(&a);
    assert_eq!(json, read(&b), "same inputs and seed, same bytes");
    let folder = a.path().join(experiment);
    (a, folder, serde_json::from_str(&json).expect("json"))
}

/// Rows of `table` a run's result.json reports excluded for `reason`.
fn excluded_in(result: &serde_json::Value, table: &str, reason: &str) -> u64 {
    let input = result["inputs"].as_array().expect("inputs").iter().find(|i| i["table"] == table).expect("table").clone();
    input["rows_excluded"][reason].as_u64().unwrap_or(0)
}

fn excluded(case: &Case, table: &str, reason: &str) -> u64 {
    excluded_in(&case.result().0, table, reason)
}

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
    let orders = result["inputs"].as_array().expect("inputs").iter().find(|i| i["table"] == "orders").expect("orders").clone();
    let unknown = orders["rows_excluded"]["lead_id_not_in_leads"].as_u64().unwrap_or(0);
    let outside = orders["rows_excluded"]["outside_window"].as_u64().unwrap_or(0);
    // Rows breaking both rules count once, under the first rule (window).
    assert!((1..=3).contains(&unknown), "{orders}");
    assert!(outside >= orders_before_february - 3 && outside <= orders_before_february, "{orders}");
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

fn brand_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("brand-test", &["orders", "spend", "schedule"], "", params, prepare)
}

#[test]
fn brand_test_recovers_the_planted_effect_and_accounts_for_rows() {
    let case = brand_case("brand_campaigns = [\"brand_search\"]\ndraws = 2000", |_| {});
    let (result, out) = case.result();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json");
    let true_effect = truth["brand_test"]["incremental_purchases_per_on_day"].as_f64().expect("truth");
    let headline = result["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "incremental_purchases_per_unit" && m["segment"].as_object().is_some_and(|s| s.is_empty()))
        .expect("headline metric")
        .clone();
    let (lo, hi) = (headline["ci_low"].as_f64().expect("low"), headline["ci_high"].as_f64().expect("high"));
    assert!(lo <= true_effect && true_effect <= hi, "true {true_effect} outside [{lo}, {hi}]");
    assert_eq!(headline["level"].as_f64(), Some(0.95));
    let cost = result["metrics"].as_array().expect("m").iter().find(|m| m["name"] == "incremental_cost_total").expect("cost")["estimate"]
        .as_f64()
        .expect("cost");
    let true_cost = truth["brand_test"]["incremental_cost_total"].as_f64().expect("truth cost");
    assert!((cost - true_cost).abs() < 0.01, "cost {cost} vs truth {true_cost}");
    for input in result["inputs"].as_array().expect("inputs") {
        let excluded: u64 = input["rows_excluded"].as_object().expect("map").values().map(|v| v.as_u64().expect("n")).sum();
        assert_eq!(input["rows"].as_u64(), Some(input["rows_used"].as_u64().expect("used") + excluded), "{input}");
    }
    let orders = result["inputs"].as_array().expect("inputs").iter().find(|i| i["table"] == "orders").expect("orders").clone();
    assert!(orders["rows_excluded"]["outside_test_window"].as_u64().unwrap_or(0) > 0, "{orders}");
    let decision = &result["decisions"][0];
    assert!(["keep", "scale", "cut", "needs-data"].contains(&decision["action"].as_str().expect("action")));
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
}

#[test]
fn brand_test_design_writes_a_balanced_schedule_and_a_power_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schedule = dir.path().join("schedule.parquet");
    let reports = dir.path().join("reports");
    let output = upshot(&[
        "brand-test",
        "design",
        "--start",
        "2026-03-02",
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

fn metric<'a>(result: &'a serde_json::Value, name: &str, channel: &str) -> Option<&'a serde_json::Value> {
    result["metrics"].as_array().expect("metrics").iter().find(|m| {
        m["name"] == name && m["segment"]["channel"] == channel && m["segment"].as_object().is_some_and(|s| s.len() == 1)
    })
}

#[test]
fn survey_attribution_on_the_sample_blends_reconciles_and_repeats_byte_for_byte() {
    let (_dir, folder, result) = run_sample_twice("experiments/survey-attribution.toml", "survey-attribution-2025");
    assert_eq!(result["kind"], "survey");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json");
    let origins = truth["origins"].as_array().expect("origins");
    let new_customers: f64 = origins.iter().map(|o| o["new_customers"].as_f64().expect("n")).sum();
    // Every contract metric exists for every paid channel; intervals contain their estimates.
    let mut blended_total = 0.0;
    for channel in ["google_search", "meta", "youtube", "influencers", "organic"] {
        let blended = metric(&result, "blended_customers", channel).expect("blended");
        blended_total += blended["estimate"].as_f64().expect("estimate");
        for name in ["click_customers", "survey_share", "blended_customers", "blended_share", "multiplier", "agreement"] {
            let m = metric(&result, name, channel).unwrap_or_else(|| panic!("{name} for {channel}"));
            let estimate = m["estimate"].as_f64().unwrap_or_else(|| panic!("{name} {channel} is finite"));
            if let (Some(lo), Some(hi)) = (m["ci_low"].as_f64(), m["ci_high"].as_f64()) {
                assert!(lo <= estimate && estimate <= hi, "{m}");
                assert_eq!(m["level"].as_f64(), Some(0.95));
            }
        }
        let click = metric(&result, "click_customers", channel).expect("click")["estimate"].as_f64().expect("n");
        let multiplier = metric(&result, "multiplier", channel).expect("multiplier")["estimate"].as_f64().expect("x");
        assert!((multiplier - blended["estimate"].as_f64().expect("n") / click).abs() < 1e-9, "multiplier = blended / click");
        if channel != "organic" {
            let spend = metric(&result, "spend", channel).expect("spend")["estimate"].as_f64().expect("spend");
            let cac = metric(&result, "blended_cac", channel).expect("cac")["estimate"].as_f64().expect("cac");
            assert!((cac - spend / blended["estimate"].as_f64().expect("n")).abs() < 1e-9, "blended CAC = spend / blended");
            for name in ["blended_cac", "click_cac"] {
                assert!(metric(&result, name, channel).is_some_and(|m| m["estimate"].is_f64()), "{name} {channel}");
            }
        }
        // The channels clicks cannot see (customers come "organic") move toward where they really came from.
        // Small channels like meta are not asserted: 15% of the sample's answers are wrong at random, and a
        // survey cannot tell a wrong answer from a right one.
        if channel == "youtube" || channel == "influencers" {
            let origin = origins.iter().find(|o| o["channel"] == channel).expect("origin");
            let true_n = origin["new_customers"].as_f64().expect("n");
            let click = metric(&result, "click_customers", channel).expect("click")["estimate"].as_f64().expect("n");
            let blended = blended["estimate"].as_f64().expect("n");
            assert!(
                (blended - true_n).abs() < (click - true_n).abs(),
                "{channel}: blended {blended}, click {click}, truth {true_n}"
            );
        }
    }
    assert!((blended_total - new_customers).abs() < 1e-6, "blended {blended_total} vs {new_customers} new customers");
    let response = result["metrics"]
        .as_array()
        .expect("m")
        .iter()
        .find(|m| m["name"] == "response_rate" && m["segment"].as_object().is_some_and(|s| s.is_empty()))
        .expect("response rate");
    let responded: f64 = origins.iter().map(|o| o["responded"].as_f64().expect("n")).sum();
    let surveys = truth["rows"]["survey"].as_f64().expect("rows");
    assert!((response["estimate"].as_f64().expect("rate") - responded / surveys).abs() < 1e-12);
    for input in result["inputs"].as_array().expect("inputs") {
        let excluded: u64 = input["rows_excluded"].as_object().expect("map").values().map(|v| v.as_u64().expect("n")).sum();
        assert_eq!(input["rows"].as_u64(), Some(input["rows_used"].as_u64().expect("used") + excluded), "{input}");
    }
    assert_eq!(result["decisions"].as_array().map(Vec::len), Some(4), "one decision per paid channel");
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
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("case/result.json")).expect("result")).expect("json");
    assert!(result["warnings"].to_string().contains("answered before their order"), "{}", result["warnings"]);

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
    assert!(result["warnings"].to_string().contains("click channel meta: no respondent"), "{}", result["warnings"]);
    let rate = result["metrics"]
        .as_array()
        .expect("m")
        .iter()
        .find(|m| m["name"] == "response_rate" && m["segment"]["click_channel"] == "meta")
        .expect("meta response rate");
    assert_eq!(rate["estimate"].as_f64(), Some(0.0));
    for m in result["metrics"].as_array().expect("m") {
        if m["segment"]["channel"] == "meta" && m["name"] != "agreement" {
            assert!(m["estimate"].is_f64(), "no NaN for meta: {m}");
        }
    }
}

fn cohorts_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("cohorts", &["leads", "orders", "spend"], "", params, prepare)
}

/// Metrics with exactly these segment keys and values.
fn metrics_where<'a>(result: &'a serde_json::Value, name: &str, segment: &[(&str, &str)]) -> Vec<&'a serde_json::Value> {
    result["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter(|m| {
            let s = m["segment"].as_object().expect("segment");
            m["name"] == name
                && s.len() == segment.len()
                && segment.iter().all(|(k, v)| s.get(*k).and_then(|x| x.as_str()) == Some(v))
        })
        .collect()
}

fn estimate(result: &serde_json::Value, name: &str, segment: &[(&str, &str)]) -> f64 {
    let found = metrics_where(result, name, segment);
    assert_eq!(found.len(), 1, "{name} {segment:?}");
    found[0]["estimate"].as_f64().unwrap_or_else(|| panic!("{name} {segment:?} is a number"))
}

/// Every metric is a finite number and every interval holds its estimate.
fn assert_all_defined(result: &serde_json::Value) {
    for m in result["metrics"].as_array().expect("metrics") {
        let e = m["estimate"].as_f64().unwrap_or_else(|| panic!("NaN or null estimate: {m}"));
        if let (Some(lo), Some(hi)) = (m["ci_low"].as_f64(), m["ci_high"].as_f64()) {
            assert!(lo <= e + 1e-9 && e <= hi + 1e-9, "interval holds the estimate: {m}");
        }
    }
}

#[test]
fn cohorts_on_the_sample_project_young_cohorts_reconcile_and_repeat_byte_for_byte() {
    let (_dir, folder, result) = run_sample_twice("experiments/cohorts-ltv.toml", "cohorts-ltv-2025");
    assert_eq!(result["kind"], "cohorts");
    assert_all_defined(&result);
    for chart in ["triangle", "ltv_by_cohort", "cac_vs_max", "payback"] {
        assert!(folder.join(format!("charts/{chart}.svg")).exists(), "{chart}");
    }
    for table in ["segments", "cohorts", "triangle", "ltv", "development", "funnel_weekly"] {
        assert!(folder.join(format!("tables/{table}.csv")).exists(), "{table}");
    }

    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json");
    let cohorts = truth["cohorts"].as_array().expect("cohorts");
    let channels = ["google_search", "meta", "youtube", "influencers", "organic"];
    let (mut covered, mut cells) = (0, 0);
    for c in cohorts {
        let (label, channel) = (c["cohort"].as_str().expect("label"), c["channel"].as_str().expect("channel"));
        let seg = [("channel", channel), ("cohort", label)];
        assert_eq!(estimate(&result, "leads", &seg), c["leads"].as_f64().expect("leads"), "{seg:?}");
        let observed = estimate(&result, "purchases_observed", &seg);
        assert_eq!(observed, c["observed_purchases"].as_f64().expect("observed"), "{seg:?}");
        let projected = &metrics_where(&result, "purchases_projected", &seg)[0];
        assert!(projected["ci_low"].as_f64().expect("low") >= observed, "no fewer than observed: {projected}");
        assert_eq!(projected["level"].as_f64(), Some(0.9));
        let eventual = c["eventual_purchases"].as_f64().expect("eventual");
        cells += 1;
        if (projected["ci_low"].as_f64().expect("low")..=projected["ci_high"].as_f64().expect("high")).contains(&eventual) {
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
        let decision = result["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .find(|d| d["subject"]["channel"] == channel)
            .unwrap_or_else(|| panic!("decision for {channel}"));
        assert!(decision["reason"].as_str().expect("reason").contains("CAC $"), "{decision}");
    }
    assert!(result["decisions"].as_array().expect("d").iter().all(|d| d["subject"]["channel"] != "organic"));
    for input in result["inputs"].as_array().expect("inputs") {
        let excluded: u64 = input["rows_excluded"].as_object().expect("excluded").values().map(|v| v.as_u64().expect("n")).sum();
        assert_eq!(input["rows_used"].as_u64().expect("used") + excluded, input["rows"].as_u64().expect("rows"), "{input}");
    }
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
    let warnings = result["warnings"].to_string();
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
    assert!(result["warnings"].to_string().contains("geometric tail"), "{}", result["warnings"]);
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
    let json = std::fs::read_to_string(out.path().join("pacing-2025-12/result.json")).expect("result");
    let result: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(result["kind"], "pacing");
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
    assert!(!result["decisions"].as_array().expect("d").is_empty());

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
        let decision = result["decisions"].as_array().expect("d").iter().find(|d| d["subject"]["channel"] == channel);
        assert!(decision.is_some(), "{channel} is out of range in the digest and has a decision in the result");
    }
}

#[test]
fn pacing_reports_a_channel_with_spend_and_no_plan() {
    let case = pacing_case("as_of = \"2025-12-20\"", |dir| {
        edit("plan", dir, |df| df.lazy().filter(col("channel").neq(lit("meta"))).collect().expect("plan"));
    });
    let (result, _) = case.result();
    assert!(result["warnings"].to_string().contains("meta: spend this month"), "{}", result["warnings"]);
    assert!(estimate(&result, "fact_to_date", &[("channel", "meta"), ("metric", "cost")]) > 0.0);
    assert!(metrics_where(&result, "plan", &[("channel", "meta"), ("metric", "cost")]).is_empty());
    assert_all_defined(&result);
    // A digest of a config of another kind is a config error.
    let other = upshot(&["digest", "experiments/cohorts-ltv.toml"]);
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(text(&other).contains("pacing"));
}

#[test]
fn executive_report_orders_every_decision_by_money_at_stake() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = upshot(&["run", "experiments/", "--out", out.path().to_str().expect("utf8"), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    let report = upshot(&["report", out.path().to_str().expect("utf8"), "-q"]);
    assert!(report.status.success(), "{}", text(&report));
    let md = std::fs::read_to_string(out.path().join("summary.md")).expect("summary.md");
    let html = std::fs::read_to_string(out.path().join("summary.html")).expect("summary.html");
    let mut decisions = Vec::new();
    for entry in std::fs::read_dir(out.path()).expect("dir").filter_map(Result::ok) {
        let path = entry.path().join("result.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let result: serde_json::Value = serde_json::from_str(&text).expect("json");
            for d in result["decisions"].as_array().expect("d") {
                decisions.push((d["stake"].as_f64(), d["reason"].as_str().expect("reason").to_string()));
                assert!(html.contains(&format!("href=\"{}/summary.html\"", entry.file_name().to_string_lossy())));
            }
        }
    }
    assert!(decisions.len() >= 8, "{} decisions", decisions.len());
    // The largest 100 decisions' reasons appear, in order of money at stake; the rest are counted.
    decisions.sort_by(|a, b| b.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.0.unwrap_or(f64::NEG_INFINITY)));
    if decisions.len() > 100 {
        assert!(md.contains(&format!("The 100 largest of {} decisions", decisions.len())), "the cut is stated");
        // Equal stakes tie at the cut: compare only decisions clearly above it.
        let cut = decisions[99].0;
        decisions.retain(|d| d.0 > cut);
    }
    let positions: Vec<usize> =
        decisions.iter().map(|(_, reason)| md.find(reason.as_str()).expect("reason in summary.md")).collect();
    let stakes: Vec<Option<f64>> = decisions.iter().map(|d| d.0).collect();
    for pair in positions.windows(2).zip(stakes.windows(2)) {
        if pair.1[0] != pair.1[1] {
            assert!(pair.0[0] < pair.0[1], "ordered by stake");
        }
    }
    assert!(html.contains("<svg") && !html.contains("src=\"http"), "self-contained with an inline chart");
    // A folder without results is named.
    let empty = tempfile::tempdir().expect("tempdir");
    let none = upshot(&["report", empty.path().to_str().expect("utf8")]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(text(&none).contains("no <experiment>/result.json"));
}

fn segments_case(params: &str, prepare: impl FnOnce(&Path)) -> Case {
    Case::with_kind("segments", &["spend", "leads", "orders"], "", params, prepare)
}

#[test]
fn segments_on_the_sample_roll_up_exactly_and_decide_every_paid_ad() {
    let (_dir, folder, result) = run_sample_twice("experiments/segments.toml", "segments-2025");
    assert_eq!(result["kind"], "segments");
    assert_all_defined(&result);
    let metrics = result["metrics"].as_array().expect("metrics");
    // Roll-ups reconcile exactly: every parent's cost and purchases are the sums of its children's.
    let value = |m: &serde_json::Value| m["estimate"].as_f64().expect("n");
    let depth = |m: &serde_json::Value| m["segment"].as_object().expect("segment").len();
    for name in ["cost", "purchases"] {
        for parent in metrics.iter().filter(|m| m["name"] == name && depth(m) < 4) {
            let keys = parent["segment"].as_object().expect("segment");
            let children: f64 = metrics
                .iter()
                .filter(|m| m["name"] == name && depth(m) == keys.len() + 1)
                .filter(|m| keys.iter().all(|(k, v)| &m["segment"][k] == v))
                .map(value)
                .sum();
            assert!((value(parent) - children).abs() < 1e-6, "{name} of {keys:?}: {} vs {children}", value(parent));
        }
    }
    // Every contract metric at every level; shrunk rates have intervals.
    for level in 1..=4 {
        for name in ["cost", "purchases", "cac_shrunk", "conversion_rate_shrunk"] {
            assert!(metrics.iter().any(|m| m["name"] == name && depth(m) == level), "{name} at depth {level}");
        }
    }
    assert!(metrics.iter().filter(|m| m["name"] == "conversion_rate_shrunk").all(|m| m["ci_low"].is_f64() && m["level"] == 0.9));
    // Decisions are per ad, with all four keys, and the naive comparison is reported.
    let decisions = result["decisions"].as_array().expect("decisions");
    assert!(decisions.len() > 100, "{} decisions", decisions.len());
    for d in decisions {
        assert_eq!(d["subject"].as_object().expect("subject").len(), 4, "{d}");
        assert!(d["reason"].as_str().expect("reason").contains("shrunk CAC $"), "{d}");
    }
    let naive = std::fs::read_to_string(folder.join("tables/naive_rule.csv")).expect("naive");
    assert!(naive.contains("naive: observed CAC < target"), "{naive}");
    // Against the truth of the sample's generic keywords: fewer wrong winners than the naive rule.
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json");
    let (mut scale_wrong, mut naive_wrong) = (0, 0);
    let ads = std::fs::read_to_string(folder.join("tables/ads.csv")).expect("ads");
    for line in ads.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let Some(k) = truth["keywords"]
            .as_array()
            .expect("keywords")
            .iter()
            .find(|k| k["campaign"] == cells[1] && k["ad_group"] == cells[2] && k["ad"] == cells[3])
        else {
            continue;
        };
        let good = k["meets_target"].as_bool().expect("bool");
        scale_wrong += usize::from(cells[4] == "SCALE" && !good);
        naive_wrong += usize::from(cells[9] == "yes" && !good);
    }
    assert!(scale_wrong < naive_wrong, "wrong winners: upshot {scale_wrong}, naive {naive_wrong}");
}

#[test]
fn segments_edge_cases_are_counted_and_explained() {
    let case = segments_case("target_cac = 150.0", |dir| {
        edit("spend", dir, |df| {
            // An ad with cost and no clicks, and an ad with purchases and no cost.
            let df = set_where(df, col("ad").eq(lit("excel for beginners")), "clicks", lit(0i64));
            let df = set_where(df, col("ad").eq(lit("excel for beginners")), "impressions", lit(0i64));
            set_where(df, col("ad").eq(lit("data analytics course")), "cost", lit(0.0))
        });
        // Leads of a keyword that has no spend row.
        edit("leads", dir, |df| set_where(df, col("ad").eq(lit("power bi bootcamp")), "ad", lit("ghost keyword")));
    });
    let (result, out) = case.result();
    assert_all_defined(&result);
    let warnings = result["warnings"].to_string();
    assert!(warnings.contains("cost but no clicks"), "{warnings}");
    assert!(warnings.contains("purchases but no cost"), "{warnings}");
    assert!(warnings.contains("no spend row"), "{warnings}");
    let decided = |ad: &str| result["decisions"].as_array().expect("d").iter().any(|d| d["subject"]["ad"] == ad);
    assert!(!decided("excel for beginners") && !decided("data analytics course") && !decided("ghost keyword"));
    assert!(excluded_in(&result, "leads", "no_spend_for_ad") > 0);
    let unmatched = std::fs::read_to_string(out.join("case/tables/unmatched.csv")).expect("unmatched");
    assert!(unmatched.contains("ghost keyword") && unmatched.contains("data analytics course"), "{unmatched}");
}

//! Generated bad inputs (issue 18): exports cut from the sample with random defects injected (nulls,
//! NaN and infinities, negative and huge values, duplicate and dangling ids, timestamps far out of
//! range or in another timezone, wrong types, empty and one-row tables, Unicode, very long and
//! formula-like names). For every generated export the `upshot` binary must not panic, must exit 0
//! or 1 (the config is always valid), and:
//! - on exit 1, name one of the case's files and leave no report folder behind;
//! - on exit 0, account for every row (`rows = rows_used + sum(rows_excluded)`, `rows` = the rows
//!   written), report the spend total of exactly the rows the contract keeps, and write no CSV cell a
//!   spreadsheet would run as a formula.
//!
//! Cases per run: `UPSHOT_GENERATED_CASES` (96 by default, what CI runs; `scripts/fuzz` runs more).
//! A failing case is shrunk by proptest and kept in `tests/cli/generated.proptest-regressions`, which
//! re-runs first on every later run.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

use crate::common::*;

const TABLES: [&str; 4] = ["spend", "leads", "orders", "survey"];

/// Generated exports that ran and that were refused, counted for the test's closing line.
static RAN: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// The sample tables, read once.
fn base(table: &str) -> &'static DataFrame {
    static FRAMES: OnceLock<Vec<DataFrame>> = OnceLock::new();
    let frames = FRAMES.get_or_init(|| TABLES.iter().map(|t| read(&sample(t))).collect());
    &frames[TABLES.iter().position(|t| *t == table).expect("a generated table")]
}

/// One defect injected into one table.
#[derive(Debug, Clone)]
enum Defect {
    /// Null in a column (required or not) on one row.
    Null { table: usize, column: usize, row: usize },
    /// A number replaced on one row: NaN, an infinity, a negative or a huge value.
    Number { table: usize, column: usize, row: usize, value: f64 },
    /// An id row repeated.
    DuplicateRow { table: usize, row: usize },
    /// An order's `lead_id` (or an answer's `order_id`) pointing nowhere.
    Dangling { table: usize, row: usize },
    /// A timestamp moved to a far year.
    FarTime { table: usize, row: usize, year: i32 },
    /// Every timestamp of a table written with a timezone.
    Zoned { table: usize, zone: &'static str },
    /// A column written as text.
    AsText { table: usize, column: usize },
    /// A text column's value on one row replaced.
    Name { table: usize, column: usize, row: usize, name: String },
}

fn names() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("=HYPERLINK(\"http://example.com\",\"x\")".to_string()),
        Just("+1 555 call".to_string()),
        Just("-brand".to_string()),
        Just("@SUM(A1:A9)".to_string()),
        Just("\tcmd".to_string()),
        Just("Блогер: обзор 🎥".to_string()),
        Just("a,b\"c\nd".to_string()),
        Just(String::new()),
        (1usize..40_000).prop_map(|n| "ж".repeat(n)),
        "\\PC{0,40}",
    ]
}

fn defect() -> impl Strategy<Value = Defect> {
    let table = 0..TABLES.len();
    let row = 0usize..400;
    let column = 0usize..64;
    let numbers = prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-1.0),
        Just(-1e9),
        Just(1e13),
        Just(9e11),
        Just(1e300),
        Just(0.0),
        any::<f64>(),
    ];
    prop_oneof![
        (table.clone(), column.clone(), row.clone()).prop_map(|(table, column, row)| Defect::Null { table, column, row }),
        (table.clone(), column.clone(), row.clone(), numbers).prop_map(|(table, column, row, value)| Defect::Number {
            table,
            column,
            row,
            value
        }),
        (table.clone(), row.clone()).prop_map(|(table, row)| Defect::DuplicateRow { table, row }),
        (2usize..4, row.clone()).prop_map(|(table, row)| Defect::Dangling { table, row }),
        (table.clone(), row.clone(), prop_oneof![Just(1900), Just(1969), Just(2200), Just(9999)])
            .prop_map(|(table, row, year)| Defect::FarTime { table, row, year }),
        (1usize..4, prop_oneof![Just("Asia/Tokyo"), Just("America/Los_Angeles"), Just("UTC")])
            .prop_map(|(table, zone)| Defect::Zoned { table, zone }),
        (table.clone(), column.clone()).prop_map(|(table, column)| Defect::AsText { table, column }),
        (table, column, row, names()).prop_map(|(table, column, row, name)| Defect::Name { table, column, row, name }),
    ]
}

/// Sets `column` to `value` on row `row` (if the table has it).
fn set_row(frame: DataFrame, row: usize, column: &str, value: Expr) -> DataFrame {
    set_where(frame, col("i").eq(lit(row as u32)), column, value)
}

fn apply(frames: &mut [DataFrame], defect: &Defect) {
    let pick = |frame: &DataFrame, i: usize| {
        let names = frame.get_column_names();
        names[i % names.len()].to_string()
    };
    match defect {
        Defect::Null { table, column, row } => {
            let frame = &mut frames[*table];
            let name = pick(frame, *column);
            let dtype = frame.column(&name).expect("column").dtype().clone();
            *frame = set_row(std::mem::take(frame), *row, &name, lit(NULL).cast(dtype));
        }
        Defect::Number { table, column, row, value } => {
            let frame = &mut frames[*table];
            let numeric: Vec<String> =
                frame.columns().iter().filter(|c| c.dtype().is_primitive_numeric()).map(|c| c.name().to_string()).collect();
            if numeric.is_empty() {
                return;
            }
            let name = numeric[column % numeric.len()].clone();
            let dtype = frame.column(&name).expect("column").dtype().clone();
            let value = if dtype.is_float() { lit(*value) } else { lit(*value).cast(dtype) };
            *frame = set_row(std::mem::take(frame), *row, &name, value);
        }
        Defect::DuplicateRow { table, row } => {
            let frame = &mut frames[*table];
            if frame.height() > 0 {
                let repeated = frame.slice((*row % frame.height()) as i64, 1);
                frame.vstack_mut(&repeated).expect("stack");
            }
        }
        Defect::Dangling { table, row } => {
            let column = if TABLES[*table] == "orders" { "lead_id" } else { "order_id" };
            let frame = &mut frames[*table];
            *frame = set_row(std::mem::take(frame), *row, column, lit("NOT-THERE"));
        }
        Defect::FarTime { table, row, year } => {
            let frame = &mut frames[*table];
            let Some(time) = frame.columns().iter().find(|c| c.dtype().is_temporal()).map(|c| c.name().to_string()) else {
                return;
            };
            let dtype = frame.column(&time).expect("column").dtype().clone();
            let date = chrono::NaiveDate::from_ymd_opt(*year, 6, 1).expect("date");
            let days = (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days();
            let value = lit(days as i32).cast(DataType::Date).cast(dtype);
            *frame = set_row(std::mem::take(frame), *row, &time, value);
        }
        Defect::Zoned { table, zone } => {
            let frame = &mut frames[*table];
            let zoned: Vec<Expr> = frame
                .columns()
                .iter()
                .filter(|c| matches!(c.dtype(), DataType::Datetime(_, None)))
                .map(|c| {
                    col(c.name().as_str()).dt().replace_time_zone(
                        Some(TimeZone::opt_try_new(Some(*zone)).expect("zone").expect("zone")),
                        lit("earliest"),
                        NonExistent::Null,
                    )
                })
                .collect();
            *frame = std::mem::take(frame).lazy().with_columns(zoned).collect().expect("zone");
        }
        Defect::AsText { table, column } => {
            let frame = &mut frames[*table];
            let name = pick(frame, *column);
            *frame = std::mem::take(frame).lazy().with_column(col(name.as_str()).cast(DataType::String)).collect().expect("cast");
        }
        Defect::Name { table, column, row, name } => {
            let frame = &mut frames[*table];
            let text: Vec<String> =
                frame.columns().iter().filter(|c| c.dtype() == &DataType::String).map(|c| c.name().to_string()).collect();
            if text.is_empty() {
                return;
            }
            let column = text[column % text.len()].clone();
            *frame = set_row(std::mem::take(frame), *row, &column, lit(name.clone()));
        }
    }
}

/// An export: the first `sizes[t]` rows of each sample table, then the defects.
fn export(sizes: &[usize], defects: &[Defect], dir: &Path) -> Vec<DataFrame> {
    let mut frames: Vec<DataFrame> = TABLES.iter().zip(sizes).map(|(t, n)| base(t).head(Some(*n))).collect();
    for defect in defects {
        apply(&mut frames, defect);
    }
    for (table, frame) in TABLES.iter().zip(frames.iter_mut()) {
        write(&dir.join(format!("{table}.parquet")), frame);
    }
    frames
}

/// Spend the contract keeps: rows with every required column present (no window in the config).
fn kept_spend(spend: &DataFrame) -> Option<f64> {
    let required = ["date", "channel", "campaign", "impressions", "clicks", "cost"];
    let mut keep = lit(true);
    for column in required {
        keep = keep.and(col(column).is_not_null());
    }
    let kept = spend.clone().lazy().filter(keep).select([col("cost").cast(DataType::Float64).sum()]).collect().ok()?;
    kept.column("cost").ok()?.f64().ok()?.get(0)
}

/// The CSV fields of one line (RFC 4180, as the report writes them).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().expect("field").push(c),
        }
    }
    out
}

fn assert_spreadsheet_safe(folder: &Path) {
    for entry in std::fs::read_dir(folder.join("tables")).expect("tables").flatten() {
        if entry.path().extension().is_some_and(|e| e == "csv") {
            let text = std::fs::read_to_string(entry.path()).expect("csv");
            // Quoted newlines are kept inside fields by splitting records, not lines.
            for record in records(&text) {
                for field in fields(&record) {
                    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
                    assert!(
                        !formula || field.parse::<f64>().is_ok(),
                        "{}: a spreadsheet would run `{field}` as a formula",
                        entry.path().display()
                    );
                }
            }
        }
    }
}

/// Splits CSV text into records, keeping newlines inside quotes.
fn records(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == '\n' && !quoted {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn check(sizes: Vec<usize>, defects: Vec<Defect>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let frames = export(&sizes, &defects, dir.path());
    let mut config = String::from("name = \"case\"\nkind = \"inspect\"\ncurrency = \"USD\"\nseed = 1\n\n[inputs]\n");
    for table in TABLES {
        config.push_str(&format!("{table} = \"{}\"\n", dir.path().join(format!("{table}.parquet")).display()));
    }
    std::fs::write(dir.path().join("case.toml"), config).expect("config");
    let out = dir.path().join("out");
    let output =
        upshot(&["run", dir.path().join("case.toml").to_str().expect("utf8"), "--out", out.to_str().expect("utf8"), "-q"]);
    let message = text(&output);
    prop_assert!(!message.contains("panicked"), "{message}");
    match output.status.code() {
        Some(1) => {
            REFUSED.fetch_add(1, Ordering::SeqCst);
            prop_assert!(
                TABLES.iter().any(|t| message.contains(&format!("{t}.parquet"))),
                "the message names no file: {message}"
            );
            prop_assert!(!out.join("case").exists(), "a report folder after a failed run");
        }
        Some(0) => {
            RAN.fetch_add(1, Ordering::SeqCst);
            let result = read_result(&out.join("case/result.json"));
            for (table, frame) in TABLES.iter().zip(&frames) {
                let record = input(&result, table);
                let excluded: u64 = record.rows_excluded.values().sum();
                prop_assert_eq!(record.rows, frame.height() as u64, "{} rows written", table);
                prop_assert_eq!(record.rows, record.rows_used + excluded, "{:?}", record);
            }
            let reported = headline(&result, upshot_result::names::COST).estimate;
            let kept = kept_spend(&frames[0]).unwrap_or(f64::NAN);
            prop_assert!(
                (reported - kept).abs() <= 1e-6 * kept.abs().max(1.0),
                "spend total {reported} vs the kept rows' {kept}"
            );
            assert_spreadsheet_safe(&out.join("case"));
        }
        code => prop_assert!(false, "exit code {code:?}: {message}"),
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("UPSHOT_GENERATED_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96)
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    let size = prop_oneof![1 => Just(0usize), 2 => Just(1usize), 7 => 2usize..400];
    proptest::collection::vec(size, TABLES.len())
}

#[test]
fn generated_exports_never_panic_and_account_for_every_row() {
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        source_file: Some(file!()),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (sizes(), proptest::collection::vec(defect(), 0..4));
    let outcome = runner.run(&strategy, |(sizes, defects)| check(sizes, defects));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let ran = RAN.load(Ordering::SeqCst);
    let refused = REFUSED.load(Ordering::SeqCst);
    eprintln!("{} generated exports (with shrinking): {ran} ran (exit 0), {refused} refused (exit 1)", ran + refused);
    assert!(ran * 5 >= cases() as usize, "at least a fifth of the exports run, so the accounting is checked: {ran}");
}

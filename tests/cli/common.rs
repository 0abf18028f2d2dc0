//! Helpers every CLI test module shares: the binary, the sample, broken-export cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;
pub use upshot_result::{Action, Decision, InputRecord, Metric, ResultJson, Segment};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// The `upshot` binary with its arguments, run from the repository root.
pub fn upshot_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_upshot"));
    command.args(args).current_dir(root());
    command
}

pub fn upshot(args: &[&str]) -> Output {
    upshot_command(args).output().expect("upshot runs")
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

pub fn sample(table: &str) -> PathBuf {
    root().join("notebooks-data").join(format!("{table}.parquet"))
}

pub fn read(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).expect("open sample");
    ParquetReader::new(file).finish().expect("read sample")
}

pub fn write(path: &Path, frame: &mut DataFrame) {
    let file = std::fs::File::create(path).expect("create");
    ParquetWriter::new(file).finish(frame).expect("write");
}

/// One broken export: a config over the sample with one table replaced.
pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    /// A case whose config reads `tables` from the sample, except those the
    /// closure writes into the case folder.
    pub fn new(tables: &[&str], extra: &str, prepare: impl FnOnce(&Path)) -> Case {
        Case::with_kind("inspect", tables, extra, "", prepare)
    }

    /// A case of any kind; `params` goes under `[params]`.
    pub fn with_kind(kind: &str, tables: &[&str], extra: &str, params: &str, prepare: impl FnOnce(&Path)) -> Case {
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

    pub fn run(&self) -> (Output, PathBuf) {
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
    pub fn result(&self) -> (ResultJson, PathBuf) {
        let (output, out) = self.run();
        assert!(output.status.success(), "{}", text(&output));
        (read_result(&out.join("case/result.json")), out)
    }

    pub fn validate(&self) -> Output {
        upshot(&["validate", self.dir.path().join("case.toml").to_str().expect("utf8")])
    }
}

/// A rejected input: exit code, message fragments, no panic, nothing written;
/// `upshot validate` rejects it too.
pub fn assert_rejected(case: &Case, code: i32, fragments: &[&str]) {
    assert_run_fails(case, code, fragments);
    let validated = case.validate();
    assert_eq!(validated.status.code(), Some(code), "validate agrees: {}", text(&validated));
}

/// An input the contract accepts but the analysis cannot use: the run fails
/// with a message, `upshot validate` passes.
pub fn assert_analysis_rejects(case: &Case, fragments: &[&str]) {
    assert_run_fails(case, 1, fragments);
    assert!(case.validate().status.success());
}

pub fn assert_run_fails(case: &Case, code: i32, fragments: &[&str]) {
    let (output, out) = case.run();
    let message = text(&output);
    assert_eq!(output.status.code(), Some(code), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "expected `{fragment}` in:\n{message}");
    }
    snapshot_message(case, &message);
    let leftovers: Vec<_> =
        std::fs::read_dir(&out).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "half-written output: {leftovers:?}");
}

pub fn edit(table: &str, dir: &Path, change: impl FnOnce(DataFrame) -> DataFrame) {
    let mut frame = change(read(&sample(table)));
    write(&dir.join(format!("{table}.parquet")), &mut frame);
}

/// Sets `column` to `value` on the rows where `mask` holds; `mask` may use the
/// 0-based row number `i`.
pub fn set_where(frame: DataFrame, mask: Expr, column: &str, value: Expr) -> DataFrame {
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
pub fn run_sample_twice(config: &str, experiment: &str) -> (tempfile::TempDir, PathBuf, ResultJson) {
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
    (a, folder, serde_json::from_str(&json).expect("a result.json"))
}

/// A result.json, read as the typed document (a renamed or retyped field fails here).
pub fn read_result(path: &Path) -> ResultJson {
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: not a result.json: {e}", path.display()))
}

/// The project's synthetic truth (`notebooks-data/truth.json`).
pub fn truth() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("notebooks-data/truth.json")).expect("truth")).expect("json")
}

/// The input record of `table`.
pub fn input<'a>(result: &'a ResultJson, table: &str) -> &'a InputRecord {
    result.inputs.iter().find(|i| i.table == table).unwrap_or_else(|| panic!("no input {table}"))
}

/// Rows of `table` a run's result.json reports excluded for `reason`.
pub fn excluded_in(result: &ResultJson, table: &str, reason: &str) -> u64 {
    input(result, table).rows_excluded.get(reason).copied().unwrap_or(0)
}

/// Every input row is used or excluded with a counted reason.
pub fn assert_rows_accounted(result: &ResultJson) {
    for input in &result.inputs {
        let excluded: u64 = input.rows_excluded.values().sum();
        assert_eq!(input.rows, input.rows_used + excluded, "{input:?}");
    }
}

/// The headline row (no segment) of a metric.
pub fn headline<'a>(result: &'a ResultJson, name: &str) -> &'a Metric {
    result.metrics.iter().find(|m| m.name == name && m.segment.is_all()).unwrap_or_else(|| panic!("no headline {name}"))
}

pub fn excluded(case: &Case, table: &str, reason: &str) -> u64 {
    excluded_in(&case.result().0, table, reason)
}

/// The whole message of a rejected input as a snapshot named after the test
/// (`-2`, `-3` for later cases of the same test), paths of the case folder and
/// of the repository filtered: a reworded or lost line of an error fails here.
pub fn snapshot_message(case: &Case, message: &str) {
    static SEEN: std::sync::Mutex<BTreeMap<String, usize>> = std::sync::Mutex::new(BTreeMap::new());
    let test = std::thread::current().name().unwrap_or("message").rsplit("::").next().unwrap_or("message").to_string();
    let n = {
        let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = seen.entry(test.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let name = if n == 1 { test } else { format!("{test}-{n}") };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(&regex_escape(&case.dir.path().display().to_string()), "[case]");
    settings.add_filter(&regex_escape(&root().display().to_string()), "[root]");
    settings.bind(|| insta::assert_snapshot!(name, message));
}

/// `text` with the characters a regex treats as syntax escaped.
pub fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut escaped, c| {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
        escaped
    })
}

/// Metrics with exactly these segment keys and values.
pub fn metrics_where<'a>(result: &'a ResultJson, name: &str, segment: &[(&str, &str)]) -> Vec<&'a Metric> {
    result
        .metrics
        .iter()
        .filter(|m| {
            m.name == name
                && m.segment.0.len() == segment.len()
                && segment.iter().all(|(k, v)| m.segment.get(k).map(String::as_str) == Some(*v))
        })
        .collect()
}

pub fn estimate(result: &ResultJson, name: &str, segment: &[(&str, &str)]) -> f64 {
    let found = metrics_where(result, name, segment);
    assert_eq!(found.len(), 1, "{name} {segment:?}");
    assert!(found[0].estimate.is_finite(), "{name} {segment:?} is a number");
    found[0].estimate
}

/// Every metric is a finite number and every interval holds its estimate.
pub fn assert_all_defined(result: &ResultJson) {
    for m in &result.metrics {
        assert!(m.estimate.is_finite(), "NaN or null estimate: {m:?}");
        if let (Some(lo), Some(hi)) = (m.ci_low, m.ci_high) {
            assert!(lo <= m.estimate + 1e-9 && m.estimate <= hi + 1e-9, "interval holds the estimate: {m:?}");
        }
    }
}

/// The metric of one channel (segment `{"channel": channel}` only).
pub fn metric<'a>(result: &'a ResultJson, name: &str, channel: &str) -> Option<&'a Metric> {
    result.metrics.iter().find(|m| m.name == name && m.segment == Segment::one("channel", channel))
}

/// The decision on one channel.
pub fn decision_on<'a>(result: &'a ResultJson, channel: &str) -> Option<&'a Decision> {
    result.decisions.iter().find(|d| d.subject.get("channel").map(String::as_str) == Some(channel))
}

//! The experiment-config fuzz target (issue 18): every config of `experiments/` mutated at random
//! (lines dropped, repeated or swapped, values replaced by other TOML values, bytes inserted or
//! flipped, the text cut short) goes through everything a run checks before it reads an input: TOML
//! parsing, the config's own rules, the kind, the inputs it needs, the folder's economics and the
//! kind's `[params]`. None may panic: each mutated config is accepted or refused with a config error
//! (exit 2) or a missing-input error (exit 1) naming the file.
//!
//! A proptest-driven harness on the stable toolchain (no other toolchain can be installed here, so
//! no cargo-fuzz): `UPSHOT_FUZZ_CASES` cases per config (200 in CI; `scripts/fuzz` runs more). A
//! failure is shrunk and kept in `src/fuzz.proptest-regressions`, which re-runs first; the bugs it
//! found are named tests below.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use upshot_data::ExperimentConfig;

use crate::commands::run::plan_of;

fn experiments() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut configs: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .expect("experiments/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.file_name().is_some_and(|n| n != "economics.toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("config");
            (p, text)
        })
        .collect();
    configs.sort();
    assert!(configs.len() >= 6, "every sample experiment is fuzzed");
    configs
}

/// TOML values of every type, and values at the edges of what params accept.
fn values() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e308".to_string()),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("9223372036854775807".to_string()),
        Just("\"\"".to_string()),
        Just("\"../..\"".to_string()),
        Just("\"Блогер*\"".to_string()),
        Just("[]".to_string()),
        Just("[1, \"a\"]".to_string()),
        Just("{}".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("true".to_string()),
        Just("2025-02-30".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        "\"\\PC{0,12}\"",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    DropLine(usize),
    RepeatLine(usize),
    SwapLines(usize, usize),
    /// The value after `=` on a line replaced.
    Value(usize, String),
    /// A line inserted (a key, a table header, garbage).
    Insert(usize, String),
    /// One byte overwritten.
    Byte(usize, u8),
    /// The text cut at a byte.
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let line = 0usize..64;
    prop_oneof![
        1 => line.clone().prop_map(Mutation::DropLine),
        1 => line.clone().prop_map(Mutation::RepeatLine),
        1 => (line.clone(), line.clone()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (line.clone(), values()).prop_map(|(l, v)| Mutation::Value(l, v)),
        1 => (line, prop_oneof![
            Just("[params]".to_string()),
            Just("[inputs]".to_string()),
            Just("[window]".to_string()),
            Just("[columns.orders]".to_string()),
            Just("unknown_key = 1".to_string()),
            Just("kind = \"magic\"".to_string()),
            Just("stages = []".to_string()),
            "\\PC{0,30}",
        ]).prop_map(|(l, text)| Mutation::Insert(l, text)),
        1 => (0usize..4096, any::<u8>()).prop_map(|(at, byte)| Mutation::Byte(at, byte)),
        1 => (0usize..4096).prop_map(Mutation::Cut),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut bytes = None;
    for mutation in mutations {
        let n = lines.len().max(1);
        match mutation {
            Mutation::DropLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::RepeatLine(i) if !lines.is_empty() => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::Value(i, value) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                if let Some(eq) = line.find('=') {
                    line.truncate(eq + 1);
                    line.push(' ');
                    line.push_str(value);
                }
            }
            Mutation::Insert(i, text) => lines.insert(i % (lines.len() + 1), text.clone()),
            Mutation::Byte(at, byte) => bytes = Some((*at, Some(*byte))),
            Mutation::Cut(at) => bytes = Some((*at, None)),
            _ => {}
        }
    }
    let mut text = lines.join("\n").into_bytes();
    match bytes {
        Some((at, Some(byte))) if !text.is_empty() => {
            let at = at % text.len();
            text[at] = byte;
        }
        Some((at, None)) => text.truncate(at % (text.len() + 1)),
        _ => {}
    }
    String::from_utf8_lossy(&text).to_string()
}

/// Everything a run checks before it reads an input; a refusal is an error, never a panic.
fn check(path: &Path, text: &str) -> Result<(), TestCaseError> {
    let planned = ExperimentConfig::from_str(path, text).map_err(crate::error::CliError::from).and_then(|config| {
        plan_of(path, &config)?;
        Ok(())
    });
    if let Err(err) = planned {
        let code = err.exit_code();
        prop_assert!(code == 1 || code == 2, "exit {code}: {err}");
        let message = err.to_string();
        prop_assert!(
            message.contains(&path.display().to_string()) || message.contains("economics.toml"),
            "the message names the file: {message}"
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("UPSHOT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

#[test]
fn mutated_experiment_configs_are_refused_with_a_config_error_never_a_panic() {
    for (path, text) in experiments() {
        let config = Config {
            cases: cases(),
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
            source_file: Some(file!()),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let strategy = proptest::collection::vec(mutation(), 1..5);
        let outcome = runner.run(&strategy, |mutations| check(&path, &mutate(&text, &mutations)));
        if let Err(failure) = outcome {
            panic!("{}: {failure}", path.display());
        }
    }
}

#[test]
fn the_sample_configs_pass_unmutated() {
    for (path, text) in experiments() {
        let config = ExperimentConfig::from_str(&path, &text).expect("a sample config");
        plan_of(&path, &config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

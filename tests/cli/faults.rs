//! Faults while writing (issue 18): a run killed at random moments, a full disk, an output folder that
//! cannot be written, two runs into one folder at once, and the sample's bytes when several runs go
//! at once. The guarantee (`upshot_report::output`): `<out>/<experiment>/` is always either the
//! previous complete report or the new complete one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const CONFIG: &str = "experiments/inspect.toml";
const EXPERIMENT: &str = "inspect-2025";

/// Every file of a report folder with its bytes, by relative path.
fn files(folder: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                out.insert(path.strip_prefix(root).expect("inside").to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(folder, folder, &mut out);
    out
}

/// The names in `out` a reader sees (hidden staging folders and locks aside).
fn visible(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    names.retain(|n| !n.starts_with('.'));
    names.sort();
    names
}

fn run_into(out: &Path) -> Command {
    let mut command = upshot_command(&["run", CONFIG, "--out", out.to_str().expect("utf8"), "-q"]);
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    command
}

/// The report as a complete run writes it: every file and its bytes (the workbook carries no write time).
fn reference(out: &Path) -> (BTreeMap<PathBuf, Vec<u8>>, Duration) {
    let started = Instant::now();
    let output = run_into(out).output().expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (files(&out.join(EXPERIMENT)), started.elapsed())
}

/// A small deterministic sequence of delays (no seed picked to pass: every delay is a fraction of the
/// run's measured length, spread over the whole run and denser around its writing phase at the end).
fn delays(duration: Duration, n: usize) -> Vec<Duration> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let fraction = if i % 2 == 0 { u * 1.05 } else { 0.6 + 0.5 * u };
            duration.mul_f64(fraction)
        })
        .collect()
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_previous_report_or_the_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (expected, duration) = reference(&out);
    let iterations: usize = std::env::var("UPSHOT_KILL_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(24);
    let mut killed_while_running = 0;
    for delay in delays(duration, iterations) {
        let mut child = run_into(&out).spawn().expect("spawn");
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_none() {
            killed_while_running += 1;
        }
        child.kill().ok(); // SIGKILL
        child.wait().expect("reaped");
        assert_eq!(visible(&out), [EXPERIMENT], "only the report folder is visible after a kill at {delay:?}");
        let found = files(&out.join(EXPERIMENT));
        assert_eq!(found.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "a whole report at {delay:?}");
        let differ: Vec<_> = found.iter().filter(|(k, v)| expected.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
        assert!(differ.is_empty(), "the report's bytes are the complete run's after a kill at {delay:?}: {differ:?} differ");
    }
    eprintln!("{iterations} kills, {killed_while_running} while the run was working");
    assert!(killed_while_running * 2 >= iterations, "most kills land while the run works: {killed_while_running}/{iterations}");
    // The next complete run clears what the killed ones left.
    let (after, _) = reference(&out);
    assert!(after == expected);
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".partial-") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders of killed runs are removed: {leftovers:?}");
}

#[test]
fn a_full_disk_fails_with_the_path_and_keeps_the_previous_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    // First run: no previous report; then with one.
    for previous in [false, true] {
        if previous {
            reference(&out);
        }
        let before = out.join(EXPERIMENT).exists().then(|| files(&out.join(EXPERIMENT)));
        // Files past 64 KiB cannot be written (EFBIG, with SIGXFSZ ignored): the disk is "full" while the
        // charts and the workbook are written.
        let script = format!(
            "trap '' XFSZ; ulimit -f 64; exec \"{}\" run {CONFIG} --out \"{}\" -q",
            env!("CARGO_BIN_EXE_upshot"),
            out.display()
        );
        let output = Command::new("bash").args(["-c", &script]).current_dir(root()).output().expect("bash");
        let message = text(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(!message.contains("panicked"), "{message}");
        assert!(message.contains("cannot write") && message.contains(&out.display().to_string()), "names the path: {message}");
        match before {
            None => assert!(visible(&out).is_empty(), "nothing half-written: {:?}", visible(&out)),
            Some(before) => assert!(files(&out.join(EXPERIMENT)) == before, "the previous report is intact"),
        }
        let staging: Vec<String> = std::fs::read_dir(&out)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
            .unwrap_or_default();
        assert!(!staging.iter().any(|n| n.contains(".partial-")), "the failed staging folder is removed: {staging:?}");
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A file where the output folder should be (root bypasses permission bits, so a mode would not
    // stop this test's own user).
    let blocker = dir.path().join("reports");
    std::fs::write(&blocker, "not a folder").expect("write");
    let out = blocker.join("sub");
    let output = upshot(&["run", CONFIG, "--out", out.to_str().expect("utf8"), "-q"]);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains(&out.display().to_string()) && message.contains("cannot write"), "{message}");
    assert_eq!(std::fs::read_to_string(&blocker).expect("read"), "not a folder");
}

#[test]
fn runs_into_one_folder_at_once_take_turns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference_out = dir.path().join("reference");
    let (expected, _) = reference(&reference_out);
    let out = dir.path().join("out");
    let children: Vec<_> = (0..4).map(|_| run_into(&out).spawn().expect("spawn")).collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(visible(&out), [EXPERIMENT]);
    assert!(files(&out.join(EXPERIMENT)) == expected, "one complete report, byte for byte");
}

/// Determinism under load: the sample experiments give the same bytes when several runs go at once
/// (each run's own thread count is in the analysis-contract tests).
#[test]
fn the_sample_gives_the_same_bytes_when_runs_go_at_once() {
    let configs = ["experiments/survey-attribution.toml", "experiments/segments.toml", "experiments/pacing.toml", CONFIG];
    let dir = tempfile::tempdir().expect("tempdir");
    let alone = dir.path().join("alone");
    for config in configs {
        let output = upshot(&["run", config, "--out", alone.to_str().expect("utf8"), "-q"]);
        assert!(output.status.success(), "{}", text(&output));
    }
    // Every config twice, all eight at once.
    let children: Vec<_> = (0..2)
        .flat_map(|copy| configs.iter().map(move |config| (copy, *config)))
        .map(|(copy, config)| {
            let out = dir.path().join(format!("together-{copy}"));
            upshot_command(&["run", config, "--out", out.to_str().expect("utf8"), "-q"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    for name in visible(&alone) {
        let expected = std::fs::read(alone.join(&name).join("result.json")).expect("result");
        for copy in 0..2 {
            let found =
                std::fs::read(dir.path().join(format!("together-{copy}")).join(&name).join("result.json")).expect("result");
            assert!(found == expected, "{name}: result.json differs when runs go at once");
        }
    }
    assert_eq!(visible(&alone).len(), configs.len());
}

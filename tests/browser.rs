//! The HTML outputs in a real browser: every summary.html that `upshot run
//! experiments/` and `upshot report` write is opened in headless Chromium
//! (Debian's `chromium`, which `.ci/run` installs), and must render: a
//! non-blank screenshot, every chart present as inline SVG, no console
//! message (the pages have no script, so any message is a fault).
//!
//! Where Chromium is missing the test says so and passes, unless
//! `UPSHOT_REQUIRE_BROWSER` is set, as `.ci/run` sets it: in CI it always runs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn chromium() -> Option<PathBuf> {
    let candidates =
        [std::env::var("UPSHOT_CHROMIUM").ok(), Some("/usr/bin/chromium".into()), Some("/usr/bin/chromium-browser".into())];
    candidates.into_iter().flatten().map(PathBuf::from).find(|p| p.exists())
}

/// Runs Chromium headless on a file with extra arguments; returns stdout and stderr.
fn browse(browser: &Path, profile: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (String::from_utf8_lossy(&output.stdout).to_string(), String::from_utf8_lossy(&output.stderr).to_string())
}

/// Share of pixels that are not near-white, and the number of distinct colours seen.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_path).expect("screenshot")));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let mut total = 0usize;
    for px in pixels.chunks(channels) {
        total += 1;
        let rgb = (px[0], px.get(1).copied().unwrap_or(px[0]), px.get(2).copied().unwrap_or(px[0]));
        if rgb.0 < 235 || rgb.1 < 235 || rgb.2 < 235 {
            inked += 1;
        }
        if colours.len() < 10_000 {
            colours.insert(rgb);
        }
    }
    (inked as f64 / total.max(1) as f64, colours.len())
}

#[test]
fn every_summary_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("UPSHOT_REQUIRE_BROWSER").is_none(),
            "UPSHOT_REQUIRE_BROWSER is set but no Chromium at /usr/bin/chromium (apt-get install chromium)"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium, or set UPSHOT_CHROMIUM)");
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let upshot = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_upshot")).args(args).current_dir(root()).output().expect("upshot");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let dir = out.path().to_str().expect("utf8");
    upshot(&["run", "experiments/", "--out", dir, "-q"]);
    upshot(&["report", dir, "-q"]);

    let svgs_in = |dir: &Path| {
        std::fs::read_dir(dir.join("charts"))
            .map(|d| d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "svg")).count())
            .unwrap_or(0)
    };
    // The executive page draws the plan's two charts (stakes, CAC against the target).
    let mut pages: Vec<(PathBuf, usize)> = vec![(out.path().join("summary.html"), svgs_in(out.path()))];
    assert_eq!(pages[0].1, 2, "the executive page's charts");
    for entry in std::fs::read_dir(out.path()).expect("dir").filter_map(Result::ok) {
        let page = entry.path().join("summary.html");
        if page.exists() {
            pages.push((page, svgs_in(&entry.path())));
        }
    }
    assert!(pages.len() >= 6, "{} pages", pages.len());
    for (i, (page, charts)) in pages.iter().enumerate() {
        let profile = tempfile::tempdir().expect("profile");
        let shot = out.path().join(format!("shot-{i}.png"));
        let (_, log) = browse(
            &browser,
            profile.path(),
            page,
            &[format!("--screenshot={}", shot.display()), "--window-size=1400,2400".to_string()],
        );
        assert!(shot.exists(), "{}: no screenshot\n{log}", page.display());
        let (share, colours) = ink(&shot);
        assert!(share > 0.02 && colours > 20, "{}: blank page? {share:.3} inked, {colours} colours", page.display());
        let (dom, log) = browse(&browser, profile.path(), page, &["--dump-dom".to_string()]);
        let svgs = dom.matches("<svg").count();
        assert!(svgs >= *charts, "{}: {svgs} inline SVG charts rendered, {charts} expected", page.display());
        let figures = dom.matches("<figure").count();
        assert_eq!(figures, *charts, "{}: every chart in a figure", page.display());
        let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
        assert!(console.is_empty(), "{}: console messages: {console:?}", page.display());
        assert!(dom.contains("<h1>"), "{}: a headline", page.display());
    }
}

//! The executive decision summary: every decision of every `result.json` in
//! a report folder, ordered by the money at stake, each with its one-sentence
//! reason and a link to its analysis page. Written as `summary.md` and a
//! self-contained `summary.html` (inline SVG and CSS) into the folder.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use upshot_result::format::money;
use upshot_result::{Chart, ChartKind, Decision, Format, ResultJson, Series};

use crate::html::esc;
use crate::{ReportError, chart, io_err};

/// Decisions drawn in the chart.
const CHART_DECISIONS: usize = 12;

struct Entry {
    folder: String,
    headline: String,
    result: ResultJson,
}

struct Row<'a> {
    entry: &'a Entry,
    decision: &'a Decision,
}

fn subject(decision: &Decision) -> String {
    decision.subject.to_string()
}

fn short_subject(decision: &Decision) -> String {
    decision.subject.values_label()
}

fn stake_text(row: &Row<'_>) -> String {
    row.decision.stake.map_or_else(|| "n/a".to_string(), |s| money(s, &row.entry.result.currency))
}

fn read_entries(dir: &Path) -> Result<Vec<Entry>, ReportError> {
    let listing = std::fs::read_dir(dir).map_err(io_err(dir))?;
    let mut folders: Vec<PathBuf> =
        listing.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("result.json").is_file()).collect();
    folders.sort();
    let mut entries = Vec::new();
    for folder in folders {
        let path = folder.join("result.json");
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        let result: ResultJson = serde_json::from_str(&text)
            .map_err(|e| ReportError::Result { path: path.display().to_string(), message: e.to_string() })?;
        // Documents written before `headline` existed: the summary's title, else the experiment's name.
        let headline = if !result.headline.is_empty() {
            result.headline.clone()
        } else {
            std::fs::read_to_string(folder.join("summary.md"))
                .ok()
                .and_then(|md| md.lines().next().map(|l| l.trim_start_matches("# ").to_string()))
                .unwrap_or_else(|| result.experiment.clone())
        };
        let name = folder.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        entries.push(Entry { folder: name, headline, result });
    }
    if entries.is_empty() {
        return Err(ReportError::NoResults { dir: dir.display().to_string() });
    }
    Ok(entries)
}

fn ordered(entries: &[Entry]) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> =
        entries.iter().flat_map(|entry| entry.result.decisions.iter().map(move |decision| Row { entry, decision })).collect();
    // The one decision order (stake, then subject); the analysis's folder breaks the last ties.
    rows.sort_by(|a, b| Decision::order(a.decision, b.decision).then_with(|| a.entry.folder.cmp(&b.entry.folder)));
    rows
}

fn headline(rows: &[Row<'_>], entries: &[Entry]) -> String {
    match rows.first() {
        Some(top) => format!(
            "{} {} ({}): the largest call, {} at stake; {} decisions from {} analyses",
            top.decision.action.label(),
            short_subject(top.decision),
            top.entry.result.experiment,
            stake_text(top),
            rows.len(),
            entries.len()
        ),
        None => format!("No decisions yet from {} analyses", entries.len()),
    }
}

fn stake_chart(rows: &[Row<'_>]) -> Option<(Chart, String)> {
    let staked: Vec<&Row<'_>> = rows.iter().filter(|r| r.decision.stake.is_some()).take(CHART_DECISIONS).collect();
    let currency = staked.first()?.entry.result.currency.clone();
    let staked: Vec<&Row<'_>> = staked.into_iter().filter(|r| r.entry.result.currency == currency).collect();
    let total: f64 = staked.iter().filter_map(|r| r.decision.stake).sum();
    let chart = Chart::new(
        ChartKind::Bars,
        "stakes",
        format!(
            "{} of spend rides on these {} decisions; {} {} carries the most",
            money(total, &currency),
            staked.len(),
            staked[0].decision.action.label(),
            short_subject(staked[0].decision)
        ),
    )
    .note("Money at stake: the spend each decision governs, as each analysis states it")
    .axes("decision", format!("at stake ({currency})"), Format::Money)
    .categories(staked.iter().map(|r| format!("{} {}", r.decision.action.label(), short_subject(r.decision))).collect())
    .series(vec![Series::new("at stake", staked.iter().map(|r| r.decision.stake).collect())]);
    Some((chart, currency))
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1e1e1e;line-height:1.45}
h1{font-size:1.7rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.92rem;width:100%}th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.action{font-weight:bold;white-space:nowrap;padding:.1rem .4rem;border-radius:.3rem;color:#fff}
.SCALE{background:#00796b}.KEEP{background:#546e7a}.OPTIMIZE{background:#ef6c00}.PAUSE,.CUT{background:#c62828}.NEEDS{background:#6a1b9a}
figure{margin:1rem 0 2rem;break-inside:avoid}figure svg{width:100%;height:auto;border:1px solid #eee}.foot{color:#777;font-size:.85rem}
@media print{body{margin:0;max-width:none}tr{break-inside:avoid}}";

fn render_html(entries: &[Entry], rows: &[Row<'_>], svg: Option<&(Chart, String)>) -> Result<String, ReportError> {
    let mut out = String::new();
    let title = headline(rows, entries);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Decision summary</title><style>{STYLE}</style></head><body>"
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        out,
        "<p>Every decision of every analysis in this folder, the largest money at stake first; each links to its analysis.</p>"
    );
    if let Some((chart, currency)) = svg {
        let drawn = chart::svg(chart, currency)?;
        let _ = writeln!(out, "<figure id=\"chart-{}\" aria-label=\"{}\">{drawn}</figure>", esc(&chart.name), esc(&chart.title));
    }
    let _ = writeln!(
        out,
        "<h2>Decisions</h2><table><thead><tr><th>#</th><th>action</th><th>at stake</th><th>subject</th><th>why</th><th>analysis</th></tr></thead><tbody>"
    );
    for (i, row) in rows.iter().enumerate().take(crate::INLINE_DECISIONS) {
        let label = row.decision.action.label();
        let class = label.split_whitespace().next().unwrap_or(label);
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td><span class=\"action {class}\">{}</span></td><td class=\"n\">{}</td><td>{}</td><td>{} <span class=\"foot\">(confidence {:.2})</span></td><td><a href=\"{}/summary.html\">{}</a></td></tr>",
            i + 1,
            esc(label),
            esc(&stake_text(row)),
            esc(&subject(row.decision)),
            esc(&row.decision.reason),
            row.decision.confidence,
            esc(&row.entry.folder),
            esc(&row.entry.result.experiment)
        );
    }
    let _ = writeln!(out, "</tbody></table>");
    if rows.len() > crate::INLINE_DECISIONS {
        let _ = writeln!(
            out,
            "<p>The {} largest of {} decisions; the rest are in each analysis's result.json.</p>",
            crate::INLINE_DECISIONS,
            rows.len()
        );
    }
    let _ = writeln!(out, "<h2>Analyses</h2><ul>");
    for entry in entries {
        let _ = writeln!(
            out,
            "<li><a href=\"{}/summary.html\">{}</a> ({}): {} <span class=\"foot\">{} decisions, {} warnings</span></li>",
            esc(&entry.folder),
            esc(&entry.result.experiment),
            esc(&entry.result.kind),
            esc(&entry.headline),
            entry.result.decisions.len(),
            entry.result.warnings.len()
        );
    }
    let _ =
        writeln!(out, "</ul><p class=\"foot\">Written by upshot from the result.json files of this folder.</p></body></html>");
    Ok(out)
}

fn render_markdown(entries: &[Entry], rows: &[Row<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", headline(rows, entries));
    let _ = writeln!(out, "Every decision of every analysis in this folder, the largest money at stake first.\n");
    let _ = writeln!(out, "## Decisions\n\n| # | action | at stake | subject | why | analysis |\n|---|---|---|---|---|---|");
    for (i, row) in rows.iter().enumerate().take(crate::INLINE_DECISIONS) {
        let _ = writeln!(
            out,
            "| {} | **{}** | {} | {} | {} (confidence {:.2}) | [{}]({}/summary.md) |",
            i + 1,
            row.decision.action.label(),
            stake_text(row),
            subject(row.decision).replace('|', "/"),
            row.decision.reason.replace('|', "/"),
            row.decision.confidence,
            row.entry.result.experiment,
            row.entry.folder
        );
    }
    if rows.len() > crate::INLINE_DECISIONS {
        let _ = writeln!(
            out,
            "\nThe {} largest of {} decisions; the rest are in each analysis's result.json.",
            crate::INLINE_DECISIONS,
            rows.len()
        );
    }
    let _ = writeln!(out, "\n## Analyses\n");
    for entry in entries {
        let _ = writeln!(
            out,
            "- [{}]({}/summary.md) ({}): {}; {} decisions, {} warnings",
            entry.result.experiment,
            entry.folder,
            entry.result.kind,
            entry.headline,
            entry.result.decisions.len(),
            entry.result.warnings.len()
        );
    }
    out
}

/// Writes `summary.md` and `summary.html` into `dir` from every `<dir>/<experiment>/result.json`;
/// returns their paths.
pub fn write_executive(dir: &Path) -> Result<(PathBuf, PathBuf), ReportError> {
    let entries = read_entries(dir)?;
    let rows = ordered(&entries);
    let chart = stake_chart(&rows);
    let html = render_html(&entries, &rows, chart.as_ref())?;
    let md_path = dir.join("summary.md");
    let html_path = dir.join("summary.html");
    std::fs::write(&md_path, render_markdown(&entries, &rows)).map_err(io_err(&md_path))?;
    std::fs::write(&html_path, html).map_err(io_err(&html_path))?;
    Ok((md_path, html_path))
}

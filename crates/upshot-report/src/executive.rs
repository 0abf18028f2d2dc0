//! The executive summary: the folder's results reconciled by `upshot-plan` into one call per
//! paid channel (brand search apart), each with the CAC it rests on and the evidence under it,
//! stakes on one horizon. Written as `summary.md`, a self-contained `summary.html` (inline SVG
//! and CSS), `plan.json` (the typed plan) and `charts/plan_*.svg|png` for slides.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use upshot_plan::{Call, Plan, Source, cac_text, reconcile};
use upshot_result::format::{level_text, money, percent};
use upshot_result::{Action, Chart, ChartKind, Format, ResultJson, Series};

use crate::html::esc;
use crate::output::{write_file, write_with};
use crate::{ReportError, chart, io_err};

struct Entry {
    folder: String,
    headline: String,
    result: ResultJson,
}

fn read_entries(dir: &Path) -> Result<Vec<Entry>, ReportError> {
    let listing = std::fs::read_dir(dir).map_err(io_err(dir))?;
    let mut folders: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !crate::output::is_hidden(p) && p.join("result.json").is_file())
        .collect();
    folders.sort();
    let mut entries = Vec::new();
    for folder in folders {
        let path = folder.join("result.json");
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        let result: ResultJson = serde_json::from_str(&text)
            .map_err(|e| ReportError::Result { path: path.display().to_string(), message: e.to_string() })?;
        // Documents written before `headline` existed: the experiment's name.
        let headline = if result.headline.is_empty() { result.experiment.clone() } else { result.headline.clone() };
        let name = folder.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        entries.push(Entry { folder: name, headline, result });
    }
    if entries.is_empty() {
        return Err(ReportError::NoResults { dir: dir.display().to_string() });
    }
    Ok(entries)
}

fn target_text(call: &Call, currency: &str) -> String {
    call.target.map_or_else(|| "none".into(), |t| format!("target {}", money(t, currency)))
}

fn stake_chart(plan: &Plan) -> Option<Chart> {
    let rows: Vec<&Call> = plan.calls.iter().filter(|c| c.stake > 0.0).collect();
    let top = rows.first()?;
    let scale: f64 = rows.iter().filter(|c| c.action == Action::Scale).map(|c| c.stake).sum();
    let title = format!(
        "{} of {} at stake goes to SCALE calls; {} ({}) carries the most",
        money(scale, &plan.currency),
        money(plan.total_stake, &plan.currency),
        top.label(),
        top.action.label()
    );
    Some(
        Chart::new(ChartKind::StackedBars, "plan_stakes", title)
            .note(format!("Money at stake: {}; one row per paid channel, brand campaigns apart", plan.horizon))
            .axes("row", format!("at stake ({})", plan.currency), Format::Money)
            .categories(rows.iter().map(|c| c.label()).collect())
            .series(stake_series(&rows)),
    )
}

/// One series per call present, in the order calls are ranked, each bar in its call's colour
/// (the legend names the calls).
fn stake_series(rows: &[&Call]) -> Vec<Series> {
    let order = [Action::Scale, Action::Keep, Action::Optimize, Action::Pause, Action::Cut, Action::NeedsData];
    order
        .into_iter()
        .filter(|a| rows.iter().any(|c| c.action == *a))
        .map(|a| Series::new(a.label(), rows.iter().map(|c| (c.action == a).then_some(c.stake)).collect()).colour(a.colour()))
        .collect()
}

fn cac_chart(plan: &Plan) -> Option<Chart> {
    let rows: Vec<&Call> = plan.calls.iter().filter(|c| c.cac.is_some()).collect();
    let target = rows.iter().find_map(|c| c.target)?;
    let same_target = rows.iter().all(|c| c.target == Some(target));
    let below = rows.iter().filter(|c| c.cac.as_ref().is_some_and(|x| x.estimate <= target)).count();
    let title = format!("{below} of {} rows buy customers below the {} target CAC", rows.len(), money(target, &plan.currency));
    let value = |f: fn(&upshot_plan::Cac) -> Option<f64>| rows.iter().map(|c| c.cac.as_ref().and_then(f)).collect();
    Some(
        Chart::new(ChartKind::Intervals, "plan_cac", title)
            .note(format!(
                "CAC each call rests on, {} interval; basis per row in summary.md",
                level_text(upshot_plan::PLAN_LEVEL)
            ))
            .axes("row", format!("CAC ({})", plan.currency), Format::Money)
            .categories(rows.iter().map(|c| c.label()).collect())
            .series(vec![
                Series::new("CAC", value(|c| Some(c.estimate))),
                Series::new("low", value(|c| c.ci_low)),
                Series::new("high", value(|c| c.ci_high)),
            ])
            .reference(same_target.then(|| ("target CAC".to_string(), target))),
    )
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1e1e1e;line-height:1.45}
h1{font-size:1.7rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{margin-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.92rem;width:100%}th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.action{font-weight:bold;white-space:nowrap;padding:.1rem .4rem;border-radius:.3rem;color:#fff}
li.used{font-weight:bold}figure{margin:1rem 0 2rem;break-inside:avoid}figure svg{width:100%;height:auto;border:1px solid #eee}.foot{color:#777;font-size:.85rem}
@media print{body{margin:0;max-width:none}tr{break-inside:avoid}}";

/// The call badges' colours, from [`Action::colour`] (the stake chart's bars use the same).
fn badge_css() -> String {
    [Action::Scale, Action::Keep, Action::Optimize, Action::Pause, Action::Cut, Action::NeedsData]
        .iter()
        .map(|a| {
            let [r, g, b] = a.colour();
            let class = a.label().split_whitespace().next().unwrap_or_default();
            format!(".{class}{{background:#{r:02x}{g:02x}{b:02x}}}")
        })
        .collect()
}

fn intro(plan: &Plan) -> String {
    format!(
        "Money at stake: {} across {} rows, {}. One call per paid channel, brand campaigns apart; the evidence behind each is listed under it and linked.",
        money(plan.total_stake, &plan.currency),
        plan.calls.len(),
        plan.horizon
    )
}

fn analyses_line(entry: &Entry) -> String {
    format!("{} decisions, {} warnings", entry.result.decisions.len(), entry.result.warnings.len())
}

fn render_html(entries: &[Entry], plan: &Plan, charts: &[Chart], drawn: &[String]) -> String {
    let mut out = String::new();
    let c = &plan.currency;
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Decision summary</title><style>{STYLE}\n{}</style></head><body>",
        badge_css()
    );
    let _ = writeln!(out, "<h1>{}</h1>\n<p>{}</p>", esc(&plan.headline), esc(&intro(plan)));
    let _ = writeln!(
        out,
        "<h2>Plan</h2><table><thead><tr><th>row</th><th>call</th><th>at stake</th><th>CAC used (basis)</th><th>vs</th><th>confidence</th></tr></thead><tbody>"
    );
    for call in &plan.calls {
        let label = call.action.label();
        let class = label.split_whitespace().next().unwrap_or(label);
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#row-{}\">{}</a></td><td><span class=\"action {class}\">{}</span></td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{:.2}</td></tr>",
            esc(&anchor(call)),
            esc(&call.label()),
            esc(label),
            esc(&money(call.stake, c)),
            esc(&cac_text(call, c)),
            esc(&target_text(call, c)),
            call.confidence
        );
    }
    let _ = writeln!(out, "</tbody></table>");
    for (chart, svg) in charts.iter().zip(drawn) {
        let _ = writeln!(out, "<figure id=\"chart-{}\" aria-label=\"{}\">{svg}</figure>", esc(&chart.name), esc(&chart.title));
    }
    let _ = writeln!(out, "<h2>Evidence</h2>");
    for call in &plan.calls {
        let _ = writeln!(
            out,
            "<h3 id=\"row-{}\">{} {}</h3><p>{}</p><ul>",
            esc(&anchor(call)),
            esc(call.action.label()),
            esc(&call.label()),
            esc(&call.reason)
        );
        for e in &call.evidence {
            let _ = writeln!(
                out,
                "<li{}><a href=\"{}/summary.html\">{}</a>{}: {}</li>",
                if e.used { " class=\"used\"" } else { "" },
                esc(&e.folder),
                esc(&e.folder),
                if e.used { " (used)" } else { "" },
                esc(&e.text)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    list_html(&mut out, "Where analyses disagree", &plan.disagreements);
    list_html(&mut out, "How the plan is built", &plan.notes);
    let _ =
        writeln!(out, "<h2>Analyses</h2><p>Per-ad, per-cohort and per-campaign decisions stay on each analysis's page.</p><ul>");
    for entry in entries {
        let _ = writeln!(
            out,
            "<li><a href=\"{}/summary.html\">{}</a> ({}): {} <span class=\"foot\">{}</span></li>",
            esc(&entry.folder),
            esc(&entry.result.experiment),
            esc(&entry.result.kind),
            esc(&entry.headline),
            esc(&analyses_line(entry))
        );
    }
    let _ = writeln!(
        out,
        "</ul><p class=\"foot\">Written by upshot from the result.json files of this folder; plan.json holds the same plan.</p></body></html>"
    );
    out
}

fn list_html(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2>{}</h2><ul>", esc(title));
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", esc(item));
    }
    let _ = writeln!(out, "</ul>");
}

fn anchor(call: &Call) -> String {
    format!("{}{}", call.channel, if call.brand { "-brand" } else { "" })
}

fn cell(text: &str) -> String {
    text.replace('|', "/")
}

fn render_markdown(entries: &[Entry], plan: &Plan) -> String {
    let mut out = String::new();
    let c = &plan.currency;
    let _ = writeln!(out, "# {}\n\n{}\n", plan.headline, intro(plan));
    let _ = writeln!(out, "| row | call | at stake | CAC used (basis) | vs | confidence |\n|---|---|---|---|---|---|");
    for call in &plan.calls {
        let _ = writeln!(
            out,
            "| {} | **{}** | {} | {} | {} | {:.2} |",
            cell(&call.label()),
            call.action.label(),
            money(call.stake, c),
            cell(&cac_text(call, c)),
            target_text(call, c),
            call.confidence
        );
    }
    let _ = writeln!(out, "\n## Evidence");
    for call in &plan.calls {
        let _ = writeln!(out, "\n### {} {}\n\n{}\n", call.action.label(), call.label(), call.reason);
        for e in &call.evidence {
            let used = if e.used { " (used)" } else { "" };
            let _ = writeln!(out, "- [{}]({}/summary.md){used}: {}", e.folder, e.folder, e.text);
        }
    }
    for (title, items) in [("Where analyses disagree", &plan.disagreements), ("How the plan is built", &plan.notes)] {
        if !items.is_empty() {
            let _ = writeln!(out, "\n## {title}\n");
            for item in items {
                let _ = writeln!(out, "- {item}");
            }
        }
    }
    let _ = writeln!(out, "\n## Analyses\n\nPer-ad, per-cohort and per-campaign decisions stay on each analysis's page.\n");
    for entry in entries {
        let _ = writeln!(
            out,
            "- [{}]({}/summary.md) ({}): {}; {}",
            entry.result.experiment,
            entry.folder,
            entry.result.kind,
            entry.headline,
            analyses_line(entry)
        );
    }
    let _ = writeln!(
        out,
        "\nConfidence: the probability the call is right ({} needed for SCALE, OPTIMIZE and PAUSE).",
        percent(plan.decision_probability)
    );
    out
}

/// Writes `summary.md`, `summary.html`, `plan.json` and `charts/plan_*` into `dir` from every
/// `<dir>/<experiment>/result.json`; returns the paths of the two summaries.
pub fn write_executive(dir: &Path) -> Result<(PathBuf, PathBuf), ReportError> {
    let entries = read_entries(dir)?;
    let sources: Vec<Source> =
        entries.iter().map(|e| Source { folder: e.folder.clone(), result: Cow::Borrowed(&e.result) }).collect();
    let plan = reconcile(&sources).map_err(|e| ReportError::Plan(e.to_string()))?;
    let charts: Vec<Chart> = [stake_chart(&plan), cac_chart(&plan)].into_iter().flatten().collect();
    let drawn = charts.iter().map(|chart| chart::svg(chart, &plan.currency)).collect::<Result<Vec<_>, _>>()?;
    let html = render_html(&entries, &plan, &charts, &drawn);
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(io_err(&charts_dir))?;
    for (chart, svg) in charts.iter().zip(&drawn) {
        let svg_path = charts_dir.join(format!("{}.svg", chart.name));
        write_file(&svg_path, svg)?;
        let png_path = charts_dir.join(format!("{}.png", chart.name));
        write_with(&png_path, |temporary| chart::png(chart, &plan.currency, temporary))?;
    }
    let md_path = dir.join("summary.md");
    let html_path = dir.join("summary.html");
    let plan_path = dir.join("plan.json");
    let json = serde_json::to_string_pretty(&plan).map_err(|e| ReportError::Plan(e.to_string()))? + "\n";
    // Each file whole (a temporary file renamed over the old one).
    write_file(&plan_path, json)?;
    write_file(&md_path, render_markdown(&entries, &plan))?;
    write_file(&html_path, html)?;
    Ok((md_path, html_path))
}

//! summary.html: self-contained (inline SVG, inline CSS, no external assets),
//! reads well in a browser and prints cleanly to PDF.

use std::fmt::Write;

use upshot_result::format::count;
use upshot_result::{Analysis, ResultJson, Table};

use crate::{metric_interval, metric_value, segment_text};

const INLINE_ROWS: usize = 50;
/// Metrics listed in the page; all are in result.json.
const INLINE_METRICS: usize = 500;

/// Escapes text for HTML.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1e1e1e;line-height:1.45}
h1{font-size:1.9rem;margin-bottom:.3rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.92rem}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}.context{color:#444}
figure{margin:1rem 0 2rem;break-inside:avoid}figure svg{width:100%;height:auto;border:1px solid #eee}
.decision{font-weight:bold}.foot{color:#777;font-size:.85rem;margin-top:2rem}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table{break-inside:avoid}}";

fn table_html(out: &mut String, table: &Table, currency: &str) {
    let _ = writeln!(out, "<table><caption>{}</caption><thead><tr>", esc(&table.title));
    let shown = crate::display(table, INLINE_ROWS, currency);
    for header in &shown.headers {
        let _ = write!(out, "<th>{}</th>", esc(header));
    }
    let _ = writeln!(out, "</tr></thead><tbody>");
    for (row, source) in shown.rows.iter().zip(&table.rows) {
        let _ = write!(out, "<tr>");
        let values = source.iter().zip(&table.columns).filter(|(_, c)| c.role == upshot_result::Role::Value);
        for ((text, (cell, _)), numeric) in row.iter().zip(values).zip(&shown.numeric) {
            let numeric = *numeric && !matches!(cell, upshot_result::Cell::Text(_));
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(text));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    if table.rows.len() > INLINE_ROWS {
        let _ = writeln!(
            out,
            "<p>{} more rows in <code>tables/{}.csv</code>.</p>",
            count((table.rows.len() - INLINE_ROWS) as f64),
            esc(&table.name)
        );
    }
}

pub(crate) fn render(run: &ResultJson, analysis: &Analysis, svgs: &[String]) -> String {
    let currency = run.currency.as_str();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&run.experiment)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&analysis.headline));
    for line in &analysis.context {
        let _ = writeln!(out, "<p class=\"context\">{}</p>", esc(line));
    }
    for table in analysis.tables.iter().filter(|t| t.lead) {
        table_html(&mut out, table, currency);
    }
    if !run.decisions.is_empty() {
        let _ = writeln!(out, "<h2>Decisions</h2><ul>");
        for decision in run.decisions.iter().take(crate::INLINE_DECISIONS) {
            let _ = writeln!(
                out,
                "<li><span class=\"decision\">{}</span> {}: {} (confidence {:.2})</li>",
                decision.action.label(),
                esc(&decision.subject.to_string()),
                esc(&decision.reason),
                decision.confidence
            );
        }
        let _ = writeln!(out, "</ul>");
        if run.decisions.len() > crate::INLINE_DECISIONS {
            let _ = writeln!(
                out,
                "<p>The first {} of {} decisions (most money at stake first); all are in <code>result.json</code>.</p>",
                crate::INLINE_DECISIONS,
                run.decisions.len()
            );
        }
    }
    if !analysis.charts.is_empty() {
        let _ = writeln!(out, "<h2>Charts</h2>");
        for (chart, svg) in analysis.charts.iter().zip(svgs) {
            // plotters writes an XML-free <svg> element that can be inlined as is.
            let _ =
                writeln!(out, "<figure id=\"chart-{}\" aria-label=\"{}\">{svg}</figure>", esc(&chart.name), esc(&chart.title));
        }
    }
    let inline: Vec<&Table> = analysis.tables.iter().filter(|t| t.in_summary && !t.lead).collect();
    if !inline.is_empty() {
        let _ = writeln!(out, "<h2>Tables</h2>");
        for table in inline {
            table_html(&mut out, table, currency);
        }
    }
    let _ = writeln!(
        out,
        "<h2>Inputs</h2><table><thead><tr><th>table</th><th>file</th><th>rows</th><th>used</th><th>excluded</th></tr></thead><tbody>"
    );
    for input in &run.inputs {
        let excluded: Vec<String> =
            input.rows_excluded.iter().map(|(reason, n)| format!("{reason}: {}", count(*n as f64))).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&input.table),
            esc(&input.path),
            count(input.rows as f64),
            count(input.rows_used as f64),
            esc(&if excluded.is_empty() { "none".to_string() } else { excluded.join(", ") })
        );
    }
    let _ = writeln!(out, "</tbody></table><h2>Warnings</h2>");
    if run.warnings.is_empty() {
        let _ = writeln!(out, "<p>None.</p>");
    } else {
        let _ = writeln!(out, "<ul>");
        for warning in &run.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(warning));
        }
        let _ = writeln!(out, "</ul>");
    }
    if !run.metrics.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Appendix: every metric</h2><table><thead><tr><th>metric</th><th>segment</th><th>estimate</th><th>interval</th></tr></thead><tbody>"
        );
        for metric in run.metrics.iter().take(INLINE_METRICS) {
            let interval = metric_interval(metric, currency);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&metric.name),
                esc(&segment_text(metric)),
                esc(&metric_value(metric, Some(metric.estimate), currency)),
                esc(&interval)
            );
        }
        let _ = writeln!(out, "</tbody></table>");
        if run.metrics.len() > INLINE_METRICS {
            let _ = writeln!(out, "<p>All {} metrics are in <code>result.json</code>.</p>", run.metrics.len());
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"foot\">upshot {} · kind <code>{}</code> · seed {} · config sha256 <code>{}</code></p></body></html>",
        esc(&run.upshot_version),
        esc(&run.kind),
        run.seed,
        esc(run.config_sha256.get(..12).unwrap_or(""))
    );
    out
}

//! summary.md: readable in a terminal, pasteable into docs.

use std::fmt::Write;

use upshot_result::format::count;
use upshot_result::{Analysis, ResultJson, Table};

use crate::{display, metric_interval, metric_value, segment_text};

/// Rows of a table shown inline; the CSV always has all of them.
const INLINE_ROWS: usize = 25;
/// Metrics listed in the key-numbers table.
pub(crate) const INLINE_METRICS: usize = 40;

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub(crate) fn table_markdown(out: &mut String, table: &Table, currency: &str) {
    let _ = writeln!(out, "**{}**\n", escape(&table.title));
    let shown = display(table, INLINE_ROWS, currency);
    let header: Vec<String> = shown.headers.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}|", shown.headers.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for row in &shown.rows {
        let cells: Vec<String> = row.iter().map(|cell| escape(cell)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if table.rows.len() > INLINE_ROWS {
        let _ = writeln!(out, "\n{} more rows in `tables/{}.csv`.", count((table.rows.len() - INLINE_ROWS) as f64), table.name);
    }
    let _ = writeln!(out);
}

pub(crate) fn render(run: &ResultJson, analysis: &Analysis) -> String {
    let currency = run.currency.as_str();
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", analysis.headline);
    for line in &analysis.context {
        let _ = writeln!(out, "{line}  ");
    }
    let _ = writeln!(out);
    for table in analysis.tables.iter().filter(|t| t.lead) {
        table_markdown(&mut out, table, currency);
    }
    if !run.decisions.is_empty() {
        let _ = writeln!(out, "## Decisions\n");
        for decision in run.decisions.iter().take(crate::INLINE_DECISIONS) {
            let _ = writeln!(
                out,
                "- **{}** {}: {} (confidence {:.2})",
                decision.action.label(),
                decision.subject,
                decision.reason,
                decision.confidence
            );
        }
        if run.decisions.len() > crate::INLINE_DECISIONS {
            let _ = writeln!(
                out,
                "\nThe first {} of {} decisions (most money at stake first); all are in `result.json`.",
                crate::INLINE_DECISIONS,
                run.decisions.len()
            );
        }
        let _ = writeln!(out);
    }
    if !analysis.charts.is_empty() {
        let _ = writeln!(out, "## Charts\n");
        for chart in &analysis.charts {
            let _ = writeln!(out, "![{}](charts/{}.png)\n", escape(&chart.title), chart.name);
        }
    }
    let inline: Vec<&Table> = analysis.tables.iter().filter(|t| t.in_summary && !t.lead).collect();
    if !inline.is_empty() {
        let _ = writeln!(out, "## Tables\n");
        for table in inline {
            table_markdown(&mut out, table, currency);
        }
    }
    let _ = writeln!(out, "## Inputs\n");
    let _ = writeln!(out, "| table | file | rows | used | excluded |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for input in &run.inputs {
        let excluded: Vec<String> =
            input.rows_excluded.iter().map(|(reason, n)| format!("{reason}: {}", count(*n as f64))).collect();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            input.table,
            escape(&input.path),
            count(input.rows as f64),
            count(input.rows_used as f64),
            if excluded.is_empty() { "none".to_string() } else { excluded.join(", ") }
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Warnings\n");
    if run.warnings.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for warning in &run.warnings {
        let _ = writeln!(out, "- {warning}");
    }
    let _ = writeln!(out);
    if !run.metrics.is_empty() {
        let _ = writeln!(out, "## Appendix: every metric\n");
        let _ = writeln!(out, "| metric | segment | estimate | interval |");
        let _ = writeln!(out, "|---|---|---|---|");
        for metric in run.metrics.iter().take(INLINE_METRICS) {
            let interval = metric_interval(metric, currency);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                metric.name,
                escape(&segment_text(metric)),
                metric_value(metric, Some(metric.estimate), currency),
                interval
            );
        }
        if run.metrics.len() > INLINE_METRICS {
            let _ = writeln!(out, "\nAll {} metrics are in `result.json`.", run.metrics.len());
        }
    }
    let _ = writeln!(
        out,
        "\n---\nupshot {} · kind `{}` · seed {} · config sha256 `{}`",
        run.upshot_version,
        run.kind,
        run.seed,
        &run.config_sha256.get(..12).unwrap_or("")
    );
    out
}

//! Renders a typed [`Analysis`] into the output folder of `CONTRACTS.md`:
//!
//! ```text
//! <out>/<experiment>/
//!   summary.md  summary.html  result.json  charts/*.svg *.png  tables/*.csv tables.xlsx
//! ```
//!
//! This is the only crate that draws or formats for people. The folder is
//! built next to its final place and swapped in by one atomic exchange
//! ([`output`]), so a failed or killed run never leaves a half-written report.
//!
//! ```no_run
//! # use upshot_result::{Analysis, ResultJson};
//! # fn demo(analysis: &Analysis, run: &ResultJson) -> Result<(), upshot_report::ReportError> {
//! let folder = upshot_report::write_report(std::path::Path::new("reports"), run, analysis)?;
//! println!("wrote {}", folder.display());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod chart;
pub mod diff;
mod executive;
pub mod output;

pub use executive::write_executive;
mod html;
mod markdown;
mod tables;

use std::path::{Path, PathBuf};

use upshot_result::format::{count, money, number, percent};
use upshot_result::{Analysis, Cell, Format, Metric, ResultJson, Unit};

/// Errors while writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("chart `{chart}`: cannot draw: {message}")]
    Chart {
        /// Chart name.
        chart: String,
        /// What plotters said.
        message: String,
    },
    /// The spreadsheet could not be written.
    #[error("tables.xlsx: cannot write: {0}")]
    Workbook(String),
    /// A result.json could not be read as one.
    #[error("{path}: not a readable result.json: {message}")]
    Result {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The folder's results cannot be reconciled into one plan.
    #[error("{0}")]
    Plan(String),
    /// A folder holds no experiment outputs.
    #[error("{dir}: no <experiment>/result.json in this folder; run `upshot run ... --out {dir}` first")]
    NoResults {
        /// The folder.
        dir: String,
    },
}

/// Decisions listed in summaries (most money at stake first); all are in result.json.
pub(crate) const INLINE_DECISIONS: usize = 100;

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io { path: path.display().to_string(), source }
}

/// Writes the whole output folder `<out>/<experiment>/` and returns its path.
/// An existing folder of the same name is replaced in one atomic exchange once the new one is
/// complete, under the experiment's lock ([`output`]: whole or not at all, two runs take turns).
/// Metrics, decisions and warnings are read from `run` (the `result.json` document), so an
/// analysis hands them over once instead of copying them.
pub fn write_report(out: &Path, run: &ResultJson, analysis: &Analysis) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let final_dir = out.join(&run.experiment);
    let _lock = output::lock(out, &run.experiment)?;
    output::remove_stale(out, &run.experiment)?;
    let staging = output::staging(out, &run.experiment);
    let written = write_folder(&staging, run, analysis).and_then(|()| output::swap_in(&staging, &final_dir));
    if let Err(err) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(err);
    }
    Ok(final_dir)
}

fn write_folder(dir: &Path, run: &ResultJson, analysis: &Analysis) -> Result<(), ReportError> {
    let charts_dir = dir.join("charts");
    let tables_dir = dir.join("tables");
    std::fs::create_dir_all(&charts_dir).map_err(io_err(&charts_dir))?;
    std::fs::create_dir_all(&tables_dir).map_err(io_err(&tables_dir))?;
    // The workbook (the slowest file on a large run: a zip of XML) is written on a second
    // thread while this one writes everything else.
    std::thread::scope(|scope| {
        let workbook = scope.spawn(|| tables::write_workbook(&tables_dir.join("tables.xlsx"), &analysis.tables));
        let rest = (|| {
            let mut svgs = Vec::new();
            for chart in &analysis.charts {
                let svg = chart::svg(chart, &run.currency)?;
                let svg_path = charts_dir.join(format!("{}.svg", chart.name));
                std::fs::write(&svg_path, &svg).map_err(io_err(&svg_path))?;
                chart::png(chart, &run.currency, &charts_dir.join(format!("{}.png", chart.name)))?;
                svgs.push(svg);
            }
            tables::write_csvs(&tables_dir, &analysis.tables, &run.currency)?;
            let md_path = dir.join("summary.md");
            std::fs::write(&md_path, markdown::render(run, analysis)).map_err(io_err(&md_path))?;
            let html_path = dir.join("summary.html");
            std::fs::write(&html_path, html::render(run, analysis, &svgs)).map_err(io_err(&html_path))?;
            let json_path = dir.join("result.json");
            let file = std::fs::File::create(&json_path).map_err(io_err(&json_path))?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
            run.write_json(&mut writer).and_then(|()| std::io::Write::flush(&mut writer)).map_err(io_err(&json_path))
        })();
        let workbook = workbook.join().unwrap_or_else(|_| {
            Err(ReportError::Io {
                path: tables_dir.display().to_string(),
                source: std::io::Error::other("workbook thread failed"),
            })
        });
        rest.and(workbook)
    })
}

/// Formats a metric value by its unit: money for the currency, percent for shares.
pub(crate) fn metric_value(metric: &Metric, value: Option<f64>, currency: &str) -> String {
    let Some(value) = value else { return String::new() };
    match &metric.unit {
        Unit::Money(code) if code == currency => money(value, currency),
        Unit::Share => percent(value),
        Unit::Probability => format!("{value:.4}"),
        // Extrapolated customers are fractional; people read them whole.
        Unit::Customers => count(value),
        _ if value.fract() == 0.0 => count(value),
        _ => number(value, if value.abs() < 10.0 { 2 } else { 1 }),
    }
}

/// A metric's interval as the appendix writes it: `$58 to $73 (95%)`; empty without one.
pub(crate) fn metric_interval(metric: &Metric, currency: &str) -> String {
    match (metric.ci_low, metric.ci_high, metric.level) {
        (Some(low), Some(high), Some(level)) => format!(
            "{} ({})",
            upshot_result::format::range(Some((low, high)), |v| metric_value(metric, Some(v), currency)),
            upshot_result::format::level_text(level)
        ),
        _ => String::new(),
    }
}

/// A table as people read it: headers and cell texts, each value column with its interval
/// folded in (`$65 ($63 to $68)`), and whether each column is numeric.
pub(crate) struct Display {
    pub(crate) headers: Vec<String>,
    pub(crate) numeric: Vec<bool>,
    pub(crate) rows: Vec<Vec<String>>,
}

pub(crate) fn display(table: &upshot_result::Table, rows: usize, currency: &str) -> Display {
    use upshot_result::Role;
    let shown: Vec<usize> = (0..table.columns.len()).filter(|&i| table.columns[i].role == Role::Value).collect();
    let headers = shown.iter().map(|&i| table.columns[i].name.clone()).collect();
    let numeric = shown.iter().map(|&i| table.columns[i].format != Format::Text).collect();
    let text = |row: &[Cell], i: usize| cell_text(&row[i], &table.columns[i].format, currency);
    let rows = table
        .rows
        .iter()
        .take(rows)
        .map(|row| {
            shown
                .iter()
                .map(|&i| {
                    let value = text(row, i);
                    let low = table.columns.get(i + 1).filter(|c| c.role == Role::Low).map(|_| text(row, i + 1));
                    let high = table.columns.get(i + 2).filter(|c| c.role == Role::High).map(|_| text(row, i + 2));
                    match (low, high) {
                        (Some(low), Some(high)) if !value.is_empty() && (!low.is_empty() || !high.is_empty()) => {
                            let or_open = |end: String, open: &str| if end.is_empty() { open.to_string() } else { end };
                            format!("{value} ({} to {})", or_open(low, "n/a"), or_open(high, "unbounded"))
                        }
                        _ => value,
                    }
                })
                .collect()
        })
        .collect();
    Display { headers, numeric, rows }
}

/// Formats a table cell for people (CSV keeps raw values).
pub(crate) fn cell_text(cell: &Cell, format: &Format, currency: &str) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Empty => String::new(),
        Cell::Int(value) => match format {
            Format::Money => money(*value as f64, currency),
            _ => count(*value as f64),
        },
        Cell::Num(value) => match format {
            Format::Money => money(*value, currency),
            Format::Percent => percent(*value),
            Format::Count => count(*value),
            Format::Number | Format::Text => number(*value, 2),
        },
    }
}

/// `channel=meta, campaign=x` for a segment, or `all` for the headline row.
pub(crate) fn segment_text(metric: &Metric) -> String {
    metric.segment.to_string()
}

#[cfg(test)]
mod tests {
    use upshot_result::{Cell, Format, Table};

    #[test]
    fn interval_columns_fold_into_their_value_and_csv_keeps_them() {
        let mut table = Table::new(
            "overview",
            "By channel",
            &[
                ("channel", Format::Text),
                ("cac", Format::Money),
                ("cac_low", Format::Money),
                ("cac_high", Format::Money),
                ("customers", Format::Count),
            ],
        )
        .interval("cac", "cac_low", "cac_high")
        .lead();
        table.push(vec!["meta".into(), 122.4.into(), 110.0.into(), 138.2.into(), 512.0.into()]);
        table.push(vec!["youtube".into(), 53.5.into(), 49.9.into(), Cell::Empty, 1317.0.into()]);
        table.push(vec!["organic".into(), Cell::Empty, Cell::Empty, Cell::Empty, 1191.0.into()]);
        let shown = super::display(&table, 10, "USD");
        assert_eq!(shown.headers, ["channel", "cac", "customers"]);
        assert_eq!(shown.rows[0], ["meta", "$122 ($110 to $138)", "512"]);
        assert_eq!(shown.rows[1], ["youtube", "$53.50 ($49.90 to unbounded)", "1,317"]);
        assert_eq!(shown.rows[2], ["organic", "", "1,191"]);
        assert_eq!(shown.numeric, [false, true, true]);
        let csv = crate::tables::csv(&table);
        assert!(csv.starts_with("channel,cac,cac_low,cac_high,customers\n"), "{csv}");
    }
}

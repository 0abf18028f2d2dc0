//! `upshot validate`: the contract check and the row accounting, without an analysis.

use std::path::{Path, PathBuf};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use upshot_data::{ExperimentConfig, InputSpec, Kind, Mode, TableKind, TableReport, validate_config};

use crate::cli::ValidateArgs;
use crate::commands::run::{collect_configs, progress_for};
use crate::error::CliError;
use crate::printer::Printer;

pub fn cmd(args: &ValidateArgs, printer: &Printer) -> Result<(), CliError> {
    let configs = match &args.table {
        Some(table) => vec![config_for_files(&args.paths, table, &args.currency)?],
        None => {
            collect_configs(&args.paths)?.iter().map(|path| ExperimentConfig::from_file(path)).collect::<Result<Vec<_>, _>>()?
        }
    };
    for config in configs {
        let progress = progress_for(printer, &config);
        let dataset = validate_config(&config, Mode::CheckOnly, &progress)?;
        progress.finish();
        printer.out(&format!("{}: every input meets the contract", config.path.display()));
        printer.out(&accounting_table(&dataset.reports()));
        for line in exclusion_details(&dataset.reports()) {
            printer.out(&line);
        }
    }
    Ok(())
}

/// A config that validates loose Parquet files as one contract table.
fn config_for_files(paths: &[PathBuf], table: &str, currency: &str) -> Result<ExperimentConfig, CliError> {
    let kind = TableKind::from_name(table).ok_or_else(|| {
        let names: Vec<&str> = TableKind::ALL.iter().map(|t| t.name()).collect();
        CliError::Usage(format!("unknown table `{table}`; expected one of: {}", names.join(", ")))
    })?;
    if paths.len() != 1 {
        return Err(CliError::Usage("--table validates one Parquet file at a time".into()));
    }
    let path = &paths[0];
    Ok(ExperimentConfig {
        path: Path::new("(command line)").to_path_buf(),
        name: "validate".into(),
        kind: Kind::Inspect,
        currency: currency.to_uppercase(),
        seed: 0,
        timezone: None,
        stages: upshot_data::DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
        window: None,
        inputs: vec![InputSpec {
            table: kind,
            display_path: path.display().to_string(),
            path: path.clone(),
            renames: Default::default(),
        }],
        params: Default::default(),
        sha256: String::new(),
    })
}

pub fn accounting_table(reports: &[&TableReport]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["table", "file", "rows", "used", "excluded", "first", "last"]);
    for report in reports {
        let excluded: Vec<String> = report.rows_excluded.iter().map(|(reason, n)| format!("{reason}: {n}")).collect();
        // Timestamps to the second are enough to read a range.
        let (first, last) = report.time_range.clone().unwrap_or_default();
        let (first, last) = (first.chars().take(19).collect::<String>(), last.chars().take(19).collect::<String>());
        table.add_row(vec![
            report.table.name().to_string(),
            report.path.clone(),
            report.rows.to_string(),
            report.rows_used.to_string(),
            if excluded.is_empty() { "none".into() } else { excluded.join("\n") },
            first,
            last,
        ]);
    }
    table.to_string()
}

/// Lines naming excluded rows, ignored and absent columns.
pub fn exclusion_details(reports: &[&TableReport]) -> Vec<String> {
    let mut lines = Vec::new();
    for report in reports {
        for (reason, examples) in &report.examples {
            lines.push(format!(
                "{}: excluded {} rows ({reason}), e.g.",
                report.path,
                report.rows_excluded.get(reason).copied().unwrap_or(0)
            ));
            lines.extend(examples.iter().map(|e| format!("    {e}")));
        }
        if !report.ignored_columns.is_empty() {
            lines.push(format!("{}: columns outside the contract, ignored: {}", report.path, report.ignored_columns.join(", ")));
        }
        if !report.absent_columns.is_empty() {
            lines.push(format!(
                "{}: optional columns not in the file, read as null: {}",
                report.path,
                report.absent_columns.join(", ")
            ));
        }
    }
    lines
}

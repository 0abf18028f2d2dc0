//! `upshot validate`: the contract check and the row accounting, without an analysis.

use std::path::{Path, PathBuf};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use upshot_analysis::Kind;
use upshot_data::{
    DataError, ExperimentConfig, InputSpec, Mode, TableGuess, TableKind, TableReport, guess_table, validate_config,
};

use crate::cli::ValidateArgs;
use crate::commands::run::{collect_configs, progress_for};
use crate::error::CliError;
use crate::printer::Printer;
use crate::registry;
use upshot_inspect::Inspect;

pub fn cmd(args: &ValidateArgs, printer: &Printer) -> Result<(), CliError> {
    // Loose data files (anything but a folder or a *.toml) are validated as contract tables.
    let (files, config_paths): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.iter().cloned().partition(|p| p.is_file() && p.extension().is_none_or(|ext| ext != "toml"));
    let mut configs = Vec::new();
    if !config_paths.is_empty() {
        for path in collect_configs(&config_paths)? {
            let config = ExperimentConfig::from_file(&path)?;
            registry::find(&config.kind).map_err(|message| DataError::Config { file: path.display().to_string(), message })?;
            configs.push(config);
        }
    }
    if !files.is_empty() {
        configs.extend(configs_for_files(&files, args.table.as_deref(), &args.currency, printer)?);
    } else if args.table.is_some() {
        return Err(CliError::Usage("--table names the table of Parquet files given directly; none was given".into()));
    }
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

/// The contract table of each loose file: `--table` when given, else its name,
/// else its columns (said on stdout); files of different tables are checked
/// together (orders against their leads), a second file of a table in a further run.
fn configs_for_files(
    paths: &[PathBuf],
    table: Option<&str>,
    currency: &str,
    printer: &Printer,
) -> Result<Vec<ExperimentConfig>, CliError> {
    let names = || TableKind::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join("|");
    let given = match table {
        Some(table) => Some(
            TableKind::from_name(table)
                .ok_or_else(|| CliError::Usage(format!("unknown table `{table}`; expected one of: {}", names())))?,
        ),
        None => None,
    };
    let mut groups: Vec<Vec<InputSpec>> = Vec::new();
    for path in paths {
        let kind = match given {
            Some(kind) => kind,
            None => match guess_table(path)? {
                TableGuess::ByName(kind) => {
                    printer.out(&format!("{}: checked as the `{kind}` table (from its file name)", path.display()));
                    kind
                }
                TableGuess::ByColumns(kind) => {
                    printer.out(&format!("{}: checked as the `{kind}` table (from its columns)", path.display()));
                    kind
                }
                TableGuess::Unknown(why) => {
                    return Err(CliError::Usage(format!(
                        "{}: cannot tell which contract table this file holds: {why}\n  name it: upshot validate --table <{}> {}",
                        path.display(),
                        names(),
                        path.display()
                    )));
                }
            },
        };
        let input =
            InputSpec { table: kind, display_path: path.display().to_string(), path: path.clone(), renames: Default::default() };
        match groups.iter_mut().find(|group| group.iter().all(|i| i.table != kind)) {
            Some(group) => group.push(input),
            None => groups.push(vec![input]),
        }
    }
    Ok(groups
        .into_iter()
        .map(|mut inputs| {
            inputs.sort_by_key(|input| input.table);
            ExperimentConfig {
                path: Path::new("(command line)").to_path_buf(),
                name: "validate".into(),
                kind: Inspect::NAME.into(),
                currency: currency.to_uppercase(),
                seed: 0,
                timezone: None,
                stages: upshot_data::DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
                window: None,
                inputs,
                params: Default::default(),
                sha256: String::new(),
            }
        })
        .collect())
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

//! `upshot run`: config -> validated tables -> analysis -> output folder.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use upshot_analysis::{Outcome, Planned, Seed};
use upshot_data::{DataError, Dataset, ExperimentConfig, Mode, Progress, TableKind, validate_config_projected};
use upshot_result::{InputRecord, ResultJson};

use crate::cli::RunArgs;
use crate::error::CliError;
use crate::printer::Printer;
use crate::registry;

/// Every config named: files as given, folders expanded to their `*.toml`, sorted.
pub fn collect_configs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut configs = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| DataError::Io { file: path.display().to_string(), source })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(CliError::Usage(format!("{}: no *.toml experiment configs in this folder", path.display())));
            }
            configs.extend(found);
        } else if path.exists() {
            configs.push(path.clone());
        } else {
            return Err(CliError::Usage(format!("{}: no such file or folder", path.display())));
        }
    }
    Ok(configs)
}

/// A progress bar over the inputs of a config.
pub struct TableProgress {
    bar: ProgressBar,
}

impl TableProgress {
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for TableProgress {
    fn start(&self, table: TableKind, _path: &str) {
        self.bar.set_message(format!("reading {table}"));
    }
    fn done(&self, _table: TableKind) {
        self.bar.inc(1);
    }
}

pub fn progress_for(printer: &Printer, config: &ExperimentConfig) -> TableProgress {
    TableProgress { bar: printer.progress(config.inputs.len() as u64, "inputs") }
}

pub fn cmd(args: &RunArgs, printer: &Printer) -> Result<(), CliError> {
    let configs = collect_configs(&args.paths)?;
    let total = configs.len();
    let mut failed = 0;
    let mut worst = 0u8;
    for path in &configs {
        match run_one(path, &args.out, printer) {
            Ok(folder) => printer.out(&format!("{}: wrote {}", path.display(), folder.display())),
            Err(err) if total == 1 => return Err(err),
            Err(err) => {
                printer.error(&err);
                failed += 1;
                worst = worst.max(err.exit_code());
            }
        }
    }
    if failed > 0 {
        return Err(CliError::Some { failed, total, code: worst });
    }
    Ok(())
}

/// Reads a config, checks its kind, inputs and params, and loads its validated
/// tables (only the columns its analysis reads); returns what the run needs.
pub fn load(path: &Path, printer: &Printer) -> Result<(ExperimentConfig, Box<dyn Planned>, Dataset), CliError> {
    let config = ExperimentConfig::from_file(path)?;
    let config_error = |message: String| DataError::Config { file: path.display().to_string(), message };
    let kind = registry::find(&config.kind).map_err(config_error)?;
    for table in kind.inputs() {
        if config.input(*table).is_none() {
            return Err(DataError::MissingInput {
                file: path.display().to_string(),
                kind: kind.name().into(),
                table: table.name().into(),
            }
            .into());
        }
    }
    let plan = kind.plan(&config.params).map_err(|err| config_error(err.to_string()))?;
    let progress = progress_for(printer, &config);
    let dataset = validate_config_projected(&config, Mode::Load, &|table| plan.columns(table), &progress)?;
    progress.finish();
    Ok((config, plan, dataset))
}

fn run_one(path: &Path, out: &Path, printer: &Printer) -> Result<PathBuf, CliError> {
    let (config, plan, dataset) = load(path, printer)?;
    let Outcome { mut analysis, exclusions } = plan.run(&dataset, Seed(config.seed))?;
    for report in dataset.reports() {
        for (reason, examples) in &report.examples {
            let n = report.rows_excluded.get(reason).copied().unwrap_or(0);
            analysis.warnings.push(format!("{}: {n} rows excluded ({reason}); first: {}", report.path, examples.join("; ")));
        }
    }
    let run = ResultJson {
        upshot_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: config.name.clone(),
        kind: config.kind.clone(),
        headline: analysis.headline.clone(),
        currency: config.currency.clone(),
        inputs: dataset
            .reports()
            .into_iter()
            .map(|r| {
                // Rows the analysis left out move from used to excluded, with their reason.
                let mut record = InputRecord {
                    table: r.table.name().to_string(),
                    path: r.path.clone(),
                    sha256: r.sha256.clone(),
                    rows: r.rows,
                    rows_used: r.rows_used,
                    rows_excluded: r.rows_excluded.clone(),
                };
                for (reason, n) in exclusions.of(r.table) {
                    record.rows_used = record.rows_used.saturating_sub(n);
                    *record.rows_excluded.entry(reason.to_string()).or_insert(0) += n;
                }
                record
            })
            .collect(),
        config_sha256: config.sha256.clone(),
        seed: config.seed,
        // Moved, not copied: the summaries read them from the one document.
        metrics: std::mem::take(&mut analysis.metrics),
        decisions: std::mem::take(&mut analysis.decisions),
        warnings: std::mem::take(&mut analysis.warnings),
    };
    Ok(upshot_report::write_report(out, &run, &analysis)?)
}

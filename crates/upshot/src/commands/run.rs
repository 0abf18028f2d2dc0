//! `upshot run`: config -> validated tables -> analysis -> output folder.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use upshot_data::{DataError, ExperimentConfig, Kind, Mode, Progress, TableKind, validate_config};
use upshot_result::{Analysis, InputRecord, ResultJson};

use crate::cli::RunArgs;
use crate::error::CliError;
use crate::printer::Printer;

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

fn analyze(config: &ExperimentConfig, dataset: &upshot_data::Dataset) -> Result<Analysis, CliError> {
    match config.kind {
        Kind::Inspect => {
            upshot_inspect::check_params(&config.params)
                .map_err(|err| DataError::Config { file: config.path.display().to_string(), message: err.to_string() })?;
            Ok(upshot_inspect::analyze(dataset)?)
        }
        other => Err(CliError::Data(DataError::Config {
            file: config.path.display().to_string(),
            message: format!("kind `{}` is not available in this version of upshot yet; `inspect` is", other.name()),
        })),
    }
}

fn needed_tables(kind: Kind) -> &'static [TableKind] {
    match kind {
        Kind::Inspect => &[],
        _ => &[],
    }
}

fn run_one(path: &Path, out: &Path, printer: &Printer) -> Result<PathBuf, CliError> {
    let config = ExperimentConfig::from_file(path)?;
    for table in needed_tables(config.kind) {
        if config.input(*table).is_none() {
            return Err(DataError::MissingInput {
                file: path.display().to_string(),
                kind: config.kind.name().into(),
                table: table.name().into(),
            }
            .into());
        }
    }
    let progress = progress_for(printer, &config);
    let dataset = validate_config(&config, Mode::Load, &progress)?;
    progress.finish();
    let mut analysis = analyze(&config, &dataset)?;
    for report in dataset.reports() {
        for (reason, examples) in &report.examples {
            let n = report.rows_excluded.get(reason).copied().unwrap_or(0);
            analysis.warnings.push(format!("{}: {n} rows excluded ({reason}); first: {}", report.path, examples.join("; ")));
        }
    }
    let run = ResultJson {
        upshot_version: env!("CARGO_PKG_VERSION").to_string(),
        experiment: config.name.clone(),
        kind: config.kind.name().to_string(),
        currency: config.currency.clone(),
        inputs: dataset
            .reports()
            .into_iter()
            .map(|r| InputRecord {
                table: r.table.name().to_string(),
                path: r.path.clone(),
                sha256: r.sha256.clone(),
                rows: r.rows,
                rows_used: r.rows_used,
                rows_excluded: r.rows_excluded.clone(),
            })
            .collect(),
        config_sha256: config.sha256.clone(),
        seed: config.seed,
        metrics: analysis.metrics.clone(),
        decisions: analysis.decisions.clone(),
        warnings: analysis.warnings.clone(),
    };
    Ok(upshot_report::write_report(out, &run, &analysis)?)
}

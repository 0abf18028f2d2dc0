//! `upshot run`: config -> validated tables -> analysis -> output folder.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use upshot_analysis::{ECONOMICS_KEYS, Outcome, Planned, Seed};
use upshot_data::{DataError, Dataset, ExperimentConfig, Mode, Progress, TableKind, validate_config_projected};
use upshot_result::{InputRecord, ResultJson};

use crate::cli::RunArgs;
use crate::error::CliError;
use crate::printer::Printer;
use crate::registry;

/// The file beside the configs that sets economics once for the folder.
pub const ECONOMICS_FILE: &str = "economics.toml";
/// The table of `economics.toml` that `upshot diff --guards` reads.
const GUARDS_TABLE: &str = "guards";

/// The folder's `economics.toml` beside `config`, if any; an unknown key is a config error
/// naming the file and the keys it may set.
fn folder_economics(config: &Path) -> Result<toml::Table, CliError> {
    let path = config.parent().unwrap_or(Path::new(".")).join(ECONOMICS_FILE);
    if !path.is_file() {
        return Ok(toml::Table::new());
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io { file: file.clone(), source })?;
    let mut table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| DataError::Config { file: file.clone(), message: e.to_string() })?;
    // `[guards]` is for `upshot diff --guards` (CI on fresh exports), not for the analyses.
    table.remove(GUARDS_TABLE);
    if let Some(key) = table.keys().find(|k| !ECONOMICS_KEYS.contains(&k.as_str())) {
        return Err(DataError::Config {
            file,
            message: format!("unknown key `{key}`; economics.toml sets {} (and a `[guards]` table)", ECONOMICS_KEYS.join(", ")),
        }
        .into());
    }
    Ok(table)
}

/// The params a kind reads: the folder's economics for the keys it takes, then the config's own
/// `[params]` over them; and the resolved economics to record in `result.json`.
fn with_economics(
    economics: &toml::Table,
    shared: &[(&str, &str)],
    params: &toml::Table,
) -> (toml::Table, std::collections::BTreeMap<String, serde_json::Value>) {
    let mut merged = params.clone();
    let mut resolved = std::collections::BTreeMap::new();
    for (key, param) in shared {
        if let Some(value) = economics.get(*key)
            && !merged.contains_key(*param)
        {
            merged.insert(param.to_string(), value.clone());
        }
        if let Some(value) = merged.get(*param).filter(|_| economics.contains_key(*key) || params.contains_key(*param))
            && let Ok(json) = serde_json::to_value(value)
        {
            resolved.insert(key.to_string(), json);
        }
    }
    (merged, resolved)
}

/// Every config named: files as given, folders expanded to their `*.toml`, sorted.
pub fn collect_configs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut configs = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| DataError::Io { file: path.display().to_string(), source })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
                // The folder's shared economics, not an experiment.
                .filter(|p| p.file_name().is_none_or(|name| name != ECONOMICS_FILE))
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
/// What a run needs: the config, its planned kind, the validated tables and the resolved economics.
pub struct Loaded {
    pub config: ExperimentConfig,
    pub plan: Box<dyn Planned>,
    pub dataset: Dataset,
    pub economics: std::collections::BTreeMap<String, serde_json::Value>,
}

pub fn load(path: &Path, printer: &Printer) -> Result<Loaded, CliError> {
    let config = ExperimentConfig::from_file(path)?;
    let (plan, economics) = plan_of(path, &config)?;
    let progress = progress_for(printer, &config);
    let dataset = validate_config_projected(&config, Mode::Load, &|table| plan.columns(table), &progress)?;
    progress.finish();
    Ok(Loaded { config, plan, dataset, economics })
}

/// The economics a run used, as `result.json` records them.
pub type Economics = std::collections::BTreeMap<String, serde_json::Value>;

/// The checks of a config before any input is read: its kind, the inputs the kind needs, the folder's
/// economics and the kind's `[params]`.
pub fn plan_of(path: &Path, config: &ExperimentConfig) -> Result<(Box<dyn Planned>, Economics), CliError> {
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
    let (mut params, mut economics) = with_economics(&folder_economics(path)?, kind.shared(), &config.params);
    if let Some(resolved) = brand_test_factors(path, &mut params).map_err(config_error)?
        && let Ok(json) = serde_json::to_value(&resolved)
        && economics.contains_key("incrementality")
    {
        economics.insert("incrementality".to_string(), json);
    }
    let plan = kind.plan(&params).map_err(|err| config_error(err.to_string()))?;
    Ok((plan, economics))
}

/// `incrementality` entries that name a brand test's `result.json` instead of numbers
/// (`{ campaigns = "brand_*", result = "../reports/brand-search/result.json" }`, the path relative to the
/// config's folder) replaced by the factor that test measured ([`upshot_result::factor_from_brand_test`]),
/// so the analysis reads numbers only and `result.json` records them with their source. Returns the
/// entries when one was replaced; an unreadable or unsuitable document is a config error naming the entry.
fn brand_test_factors(config: &Path, params: &mut toml::Table) -> Result<Option<toml::Value>, String> {
    let Some(toml::Value::Array(entries)) = params.get("incrementality") else { return Ok(None) };
    let mut changed = false;
    let mut out = Vec::new();
    for entry in entries {
        let Some(file) = entry.get("result") else {
            out.push(entry.clone());
            continue;
        };
        let campaigns = entry.get("campaigns").and_then(|c| c.as_str()).unwrap_or("");
        let bad = |m: String| format!("`incrementality` entry `{campaigns}`: {m}");
        let Some(table) = entry.as_table() else { return Err(bad("is not a table".into())) };
        if let Some(key) = table.keys().find(|k| !["campaigns", "result"].contains(&k.as_str())) {
            return Err(bad(format!("`result` takes the factor from the brand test; remove `{key}`")));
        }
        let file = file.as_str().ok_or_else(|| bad("`result` is not a path".into()))?;
        let at = config.parent().unwrap_or(Path::new(".")).join(file);
        let text = std::fs::read_to_string(&at)
            .map_err(|e| bad(format!("cannot read {}: {e}; run the brand test first", at.display())))?;
        let result: ResultJson =
            serde_json::from_str(&text).map_err(|e| bad(format!("{} is not a result.json: {e}", at.display())))?;
        let factor =
            upshot_result::factor_from_brand_test(campaigns, &result).map_err(|m| bad(format!("{} {m}", at.display())))?;
        let value = toml::Value::try_from(&factor).map_err(|e| bad(e.to_string()))?;
        out.push(value);
        changed = true;
    }
    if !changed {
        return Ok(None);
    }
    let value = toml::Value::Array(out);
    params.insert("incrementality".to_string(), value.clone());
    Ok(Some(value))
}

fn run_one(path: &Path, out: &Path, printer: &Printer) -> Result<PathBuf, CliError> {
    let Loaded { config, plan, dataset, economics } = load(path, printer)?;
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
        economics,
        // The analysis's own days where it has them (pacing's month to date), else the rows'.
        period: analysis.period.clone().or_else(|| {
            upshot_result::Period::spanning(
                dataset.reports().into_iter().filter_map(|r| r.time_range.as_ref()).map(|(a, b)| (a.as_str(), b.as_str())),
            )
        }),
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

//! Experiment configs: one TOML file per analysis run.
//!
//! Parsing happens in two phases, as in ripgrep: serde reads the raw file
//! (unknown keys are errors that name the key), then `ExperimentConfig::resolve`
//! checks values and resolves paths relative to the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::contract::{DEFAULT_STAGES, TableKind};
use crate::error::DataError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: String,
    kind: String,
    currency: String,
    #[serde(default)]
    seed: u64,
    timezone: Option<String>,
    stages: Option<Vec<String>>,
    window: Option<RawWindow>,
    #[serde(default)]
    inputs: BTreeMap<String, String>,
    #[serde(default)]
    columns: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    params: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: toml::Value,
    end: toml::Value,
}

/// An inclusive date window; rows outside it are excluded with a counted reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day inside the window.
    pub start: NaiveDate,
    /// Last day inside the window.
    pub end: NaiveDate,
}

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// Which contract table it holds.
    pub table: TableKind,
    /// Path as written in the config (for messages and `result.json`).
    pub display_path: String,
    /// Path resolved against the config's folder.
    pub path: PathBuf,
    /// Renames: contract name -> export name.
    pub renames: BTreeMap<String, String>,
}

/// A resolved experiment config.
#[derive(Debug, Clone)]
pub struct ExperimentConfig {
    /// Where the config was read from.
    pub path: PathBuf,
    /// Output folder name.
    pub name: String,
    /// Analysis kind, as written (the CLI's registry of kinds checks it).
    pub kind: String,
    /// The one currency of every money column.
    pub currency: String,
    /// Seed of every random draw.
    pub seed: u64,
    /// IANA timezone for day boundaries; `None` means UTC.
    pub timezone: Option<String>,
    /// Funnel stages after `lead`, in order.
    pub stages: Vec<String>,
    /// Optional date window.
    pub window: Option<Window>,
    /// Input files, in loading order.
    pub inputs: Vec<InputSpec>,
    /// Kind-specific parameters, checked by the analysis.
    pub params: toml::Table,
    /// SHA-256 of the config file's bytes.
    pub sha256: String,
}

impl ExperimentConfig {
    /// Reads and resolves a config file.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { file: path.display().to_string(), source })?;
        Self::from_str(path, &text)
    }

    /// Parses config text; `path` resolves relative input paths and names the file in errors.
    pub fn from_str(path: &Path, text: &str) -> Result<Self, DataError> {
        let config_error = |message: String| DataError::Config { file: path.display().to_string(), message };
        let raw: RawConfig = toml::from_str(text).map_err(|err| config_error(err.to_string().trim_end().to_string()))?;
        Self::resolve(path, text, raw).map_err(config_error)
    }

    fn resolve(path: &Path, text: &str, raw: RawConfig) -> Result<Self, String> {
        let kind = raw.kind;
        if raw.name.trim().is_empty() || raw.name.contains(['/', '\\']) || raw.name.starts_with('.') {
            return Err(format!("`name = \"{}\"` must be a plain folder name", raw.name));
        }
        let currency = raw.currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!("`currency = \"{}\"` is not a three-letter currency code", raw.currency));
        }
        let stages = match raw.stages {
            Some(stages) if stages.is_empty() => return Err("`stages` must name at least one funnel stage".into()),
            Some(stages) => stages,
            None => DEFAULT_STAGES.iter().map(|stage| stage.to_string()).collect(),
        };
        let window = match raw.window {
            None => None,
            Some(window) => {
                let start = parse_date("window.start", &window.start)?;
                let end = parse_date("window.end", &window.end)?;
                if end < start {
                    return Err(format!("window ends ({end}) before it starts ({start})"));
                }
                Some(Window { start, end })
            }
        };
        for table in raw.columns.keys() {
            if TableKind::from_name(table).is_none() {
                return Err(format!("unknown table `{table}` in [columns.{table}]"));
            }
        }
        if let Some(tz) = &raw.timezone
            && !matches!(polars::prelude::TimeZone::opt_try_new(Some(tz.as_str())), Ok(Some(_)))
        {
            return Err(format!(
                "`timezone = \"{tz}\"` is not an IANA time zone name (e.g. \"Europe/Moscow\", \"America/New_York\")"
            ));
        }
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let mut inputs = Vec::new();
        for (table_name, file) in &raw.inputs {
            let table = TableKind::from_name(table_name).ok_or_else(|| {
                let names: Vec<&str> = TableKind::ALL.iter().map(|kind| kind.name()).collect();
                format!("unknown input `{table_name}` in [inputs]; expected one of: {}", names.join(", "))
            })?;
            let renames = raw.columns.get(table_name).cloned().unwrap_or_default();
            let contract: Vec<String> = table.columns(&stages).into_iter().map(|c| c.name).collect();
            for canonical in renames.keys() {
                if !contract.contains(canonical) && canonical != "currency" {
                    return Err(format!(
                        "[columns.{table_name}] renames `{canonical}`, which is not a column of the `{table_name}` contract ({})",
                        contract.join(", ")
                    ));
                }
            }
            inputs.push(InputSpec { table, display_path: file.clone(), path: base.join(file), renames });
        }
        inputs.sort_by_key(|input| input.table);
        if inputs.is_empty() {
            return Err("[inputs] names no table; add at least one, e.g. orders = \"orders.parquet\"".into());
        }
        Ok(Self {
            path: path.to_path_buf(),
            name: raw.name,
            kind,
            currency,
            seed: raw.seed,
            timezone: raw.timezone.filter(|tz| tz != "UTC"),
            stages,
            window,
            inputs,
            params: raw.params,
            sha256: crate::sha256_hex(text.as_bytes()),
        })
    }

    /// The input spec of one table, if the config names it.
    pub fn input(&self, table: TableKind) -> Option<&InputSpec> {
        self.inputs.iter().find(|input| input.table == table)
    }
}

/// Parses a `[params]` or `[window]` date: a TOML date or a `"YYYY-MM-DD"` string.
pub fn parse_date(key: &str, value: &toml::Value) -> Result<NaiveDate, String> {
    let text = match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => return Err(format!("`{key}` must be a date like 2026-03-01, found {other}")),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| format!("`{key}` must be a date like 2026-03-01, found `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExperimentConfig, DataError> {
        ExperimentConfig::from_str(Path::new("experiments/x.toml"), text)
    }

    #[test]
    fn resolves_inputs_relative_to_the_config() {
        let config = parse(
            r#"
name = "look"
kind = "inspect"
currency = "usd"
seed = 7
[inputs]
orders = "../data/orders.parquet"
spend = "../data/spend.parquet"
[columns.orders]
paid_at = "payment_date"
"#,
        )
        .expect("valid config");
        assert_eq!(config.currency, "USD");
        assert_eq!(config.inputs[0].table, TableKind::Spend);
        assert_eq!(config.inputs[1].path, Path::new("experiments/../data/orders.parquet"));
        assert_eq!(config.inputs[1].renames.get("paid_at").map(String::as_str), Some("payment_date"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("name = \"a\"\nkind = \"inspect\"\ncurrency = \"USD\"\ncolour = 1\n[inputs]\norders = \"o.parquet\"\n")
            .expect_err("unknown key");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn renames_of_non_contract_columns_are_rejected() {
        let err = parse(
            "name = \"a\"\nkind = \"inspect\"\ncurrency = \"USD\"\n[inputs]\norders = \"o.parquet\"\n[columns.orders]\npaid = \"x\"\n",
        )
        .expect_err("bad rename");
        assert!(err.to_string().contains("`paid`"), "{err}");
    }

    #[test]
    fn window_accepts_toml_dates_and_strings() {
        let config = parse(
            "name = \"a\"\nkind = \"inspect\"\ncurrency = \"USD\"\n[window]\nstart = 2025-01-01\nend = \"2025-03-31\"\n[inputs]\norders = \"o.parquet\"\n",
        )
        .expect("valid");
        let window = config.window.expect("window");
        assert_eq!(window.end, NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"));
    }
}

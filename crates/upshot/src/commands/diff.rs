//! `upshot diff OLD NEW`: what changed between two runs, as Markdown on stdout (a pull-request
//! comment) and optionally JSON; exit 3 when a guard (`--fail-on`, or `[guards]` in `--guards FILE`)
//! breaks.

use std::path::Path;

use upshot_data::DataError;
use upshot_report::diff::{Guards, compare};

use crate::cli::DiffArgs;
use crate::error::CliError;
use crate::printer::Printer;

/// The `[guards]` table of a folder settings file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardsTable {
    #[serde(default)]
    call_flips: bool,
    #[serde(default)]
    channel_flips: bool,
    #[serde(default)]
    rows_dropped: bool,
    max_unattributed_share: Option<f64>,
}

/// Reads `[guards]` from `path`; a file without one sets no guard. Bad keys or values are config
/// errors (exit 2) naming the file.
fn read_guards(path: &Path) -> Result<Guards, CliError> {
    let file = path.display().to_string();
    let config = |message: String| CliError::from(DataError::Config { file: file.clone(), message });
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { file: file.clone(), source })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| config(e.to_string()))?;
    let Some(value) = table.get("guards") else { return Ok(Guards::default()) };
    let g: GuardsTable = value.clone().try_into().map_err(|e: toml::de::Error| config(format!("[guards]: {}", e.message())))?;
    if let Some(share) = g.max_unattributed_share
        && !(0.0..=1.0).contains(&share)
    {
        return Err(config(format!("[guards] `max_unattributed_share = {share}` is a share of spend: in [0, 1]")));
    }
    Ok(Guards {
        flips: g.call_flips,
        rows: g.rows_dropped,
        channels: g.channel_flips,
        max_unattributed: g.max_unattributed_share,
    })
}

pub fn cmd(args: &DiffArgs, printer: &Printer) -> Result<(), CliError> {
    let mut guards = match &args.guards {
        Some(path) => read_guards(path)?,
        None => Guards::default(),
    };
    let asked = |g: &str| args.fail_on.iter().any(|x| x == g);
    guards.flips |= asked("flips");
    guards.rows |= asked("rows");
    guards.channels |= asked("channels");
    let diff = compare(&args.old, &args.new)?;
    if let Some(path) = &args.json {
        std::fs::write(path, diff.to_json())
            .map_err(|source| upshot_report::ReportError::Io { path: path.display().to_string(), source })?;
    }
    printer.out(diff.markdown().trim_end());
    let breaches = diff.breaches(guards);
    if breaches.is_empty() { Ok(()) } else { Err(CliError::Guard(breaches)) }
}

//! `upshot diff OLD NEW`: what changed between two runs, as Markdown on stdout (a pull-request
//! comment) and optionally JSON; exit 3 when a `--fail-on` guard breaks.

use upshot_report::diff::{Guards, compare};

use crate::cli::DiffArgs;
use crate::error::CliError;
use crate::printer::Printer;

pub fn cmd(args: &DiffArgs, printer: &Printer) -> Result<(), CliError> {
    let diff = compare(&args.old, &args.new)?;
    if let Some(path) = &args.json {
        std::fs::write(path, diff.to_json())
            .map_err(|source| upshot_report::ReportError::Io { path: path.display().to_string(), source })?;
    }
    printer.out(diff.markdown().trim_end());
    let guards = Guards { flips: args.fail_on.iter().any(|g| g == "flips"), rows: args.fail_on.iter().any(|g| g == "rows") };
    let breaches = diff.breaches(guards);
    if breaches.is_empty() { Ok(()) } else { Err(CliError::Guard(breaches)) }
}

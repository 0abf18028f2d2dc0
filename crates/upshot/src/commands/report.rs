//! `upshot report DIR`: one executive decision summary over every result.json in a folder.

use crate::cli::ReportArgs;
use crate::error::CliError;
use crate::printer::Printer;

pub fn cmd(args: &ReportArgs, printer: &Printer) -> Result<(), CliError> {
    let written = upshot_report::write_executive(&args.dir)?;
    printer.out(&format!("{}: wrote {}, {} and plan.json", args.dir.display(), written.0.display(), written.1.display()));
    Ok(())
}

//! One file per subcommand, each `fn cmd(args, printer) -> Result<(), CliError>`.

mod brand;
mod diff;
mod digest;
mod report;
pub(crate) mod run;
mod synth;
mod validate;

use crate::cli::Command;
use crate::error::CliError;
use crate::printer::Printer;

pub fn run(command: Command, printer: &Printer) -> Result<(), CliError> {
    match command {
        Command::Synth(args) => synth::cmd(&args, printer),
        Command::Validate(args) => validate::cmd(&args, printer),
        Command::Run(args) => run::cmd(&args, printer),
        Command::Digest(args) => digest::cmd(&args, printer),
        Command::Report(args) => report::cmd(&args, printer),
        Command::Diff(args) => diff::cmd(&args, printer),
        Command::BrandTest(crate::cli::BrandTestCommand::Design(args)) => brand::design(&args, printer),
    }
}

//! `upshot digest`: the chat-sized message of a pacing config's last day.

use upshot_analysis::Kind;
use upshot_data::DataError;
use upshot_pacing::Pacing;

use crate::cli::DigestArgs;
use crate::commands::run::load;
use crate::error::CliError;
use crate::printer::Printer;

pub fn cmd(args: &DigestArgs, printer: &Printer) -> Result<(), CliError> {
    let crate::commands::run::Loaded { config, dataset, .. } = load(&args.config, printer)?;
    let config_error = |message: String| DataError::Config { file: config.path.display().to_string(), message };
    if config.kind != Pacing::NAME {
        return Err(config_error(format!("the digest reads a `kind = \"pacing\"` config; this one is `{}`", config.kind)).into());
    }
    let params = upshot_pacing::Params::from_table(&config.params).map_err(|err| config_error(err.to_string()))?;
    let computed = upshot_pacing::compute(&dataset, &params)?;
    printer.product(&upshot_pacing::digest(&computed, &config.currency));
    Ok(())
}

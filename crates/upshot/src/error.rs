//! The CLI's one error type and its exit codes (`CONTRACTS.md`): 1 for an
//! input or analysis failure, 2 for a bad command line or config, 3 for a
//! broken `upshot diff` guard.

use upshot_data::{DataError, ErrorClass};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Data(#[from] DataError),
    /// Any analysis crate's error (brand test, survey, ...).
    #[error(transparent)]
    Analysis(#[from] upshot_data::AnalysisError),
    #[error(transparent)]
    Report(#[from] upshot_report::ReportError),
    #[error(transparent)]
    Synth(#[from] upshot_synth::SynthError),
    /// A usage problem the argument parser cannot see.
    #[error("{0}")]
    Usage(String),
    /// `upshot diff` guards that broke, one sentence each (exit 3).
    #[error("guards failed: {}", .0.join("; "))]
    Guard(Vec<String>),
    /// Several experiments failed; each was reported already.
    #[error("{failed} of {total} experiments failed")]
    Some { failed: usize, total: usize, code: u8 },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Data(err) => match err.class() {
                ErrorClass::Config => 2,
                ErrorClass::Input => 1,
            },
            CliError::Analysis(err) if err.is_config() => 2,
            CliError::Analysis(_) | CliError::Report(_) | CliError::Synth(_) => 1,
            CliError::Usage(_) => 2,
            CliError::Guard(_) => 3,
            CliError::Some { code, .. } => *code,
        }
    }
}

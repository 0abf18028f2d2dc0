//! The export contract of upshot: experiment configs, column mapping,
//! Parquet loading with polars lazy scans, validation and row accounting.
//!
//! Only this crate knows file formats. Analyses receive a [`Dataset`] of
//! validated tables whose columns carry contract names and types, and whose
//! every input row is either used or excluded with a counted reason.
//!
//! ```no_run
//! use std::path::Path;
//! use upshot_data::{ExperimentConfig, Mode, NoProgress, validate_config};
//! let config = ExperimentConfig::from_file(Path::new("experiments/inspect.toml"))?;
//! let dataset = validate_config(&config, Mode::Load, &NoProgress)?;
//! for report in dataset.reports() {
//!     assert_eq!(report.rows, report.rows_used + report.rows_excluded.values().sum::<u64>());
//! }
//! # Ok::<(), upshot_data::DataError>(())
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod contract;
pub mod derive;
pub mod error;
pub mod frame;
pub mod guard;
pub mod infer;
pub mod load;
pub mod validate;

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use config::{ExperimentConfig, InputSpec, Window};
pub use contract::{ColType, ColumnSpec, DEFAULT_STAGES, ScheduleDesign, TableKind};
pub use error::{AnalysisError, DataError, ErrorClass};
pub use infer::{TableGuess, guess_table};
pub use validate::{
    Dataset, LoadedTable, Mode, NoProgress, Progress, Projection, TableReport, validate_config, validate_config_projected,
};

/// Re-export of the polars version the data crate uses, so analyses name the
/// same types.
pub use polars;

/// The largest money value one row may hold (in the currency's units): a row at or past it
/// rejects its file (`huge_cost`, `huge_revenue`, `huge_value`).
pub const MAX_MONEY: f64 = 1e12;
/// [`MAX_MONEY`] as messages write it.
pub const MAX_MONEY_TEXT: &str = "1,000,000,000,000";
/// The largest sum of a money column's absolute values a file may hold: money is summed exactly in
/// integer millionths ([`derive::exact_money_sum`]), and `i64::MAX` millionths is 9.22e12 units, so
/// below this no subset of the rows can overflow the sum (`money_total_too_large` rejects the file).
pub const MAX_MONEY_TOTAL: f64 = 9e12;

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file's bytes, lowercase hex, read in 1 MiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_abc_matches_fips_180_2() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

//! Errors of the data layer. Each names the file, and where it applies the
//! column and example rows; messages read after "error: ".

use thiserror::Error;

/// Whether an error is the user's config (exit 2) or an input (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// An input file broke the contract, or could not be read.
    Input,
    /// The config is wrong.
    Config,
}

/// Everything that can go wrong reading and validating inputs.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A config file is malformed or names something unknown.
    #[error("{file}: {message}")]
    Config {
        /// The config file.
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The file is not a readable Parquet file.
    #[error("{file}: {detail}")]
    NotParquet {
        /// The file.
        file: String,
        /// Why, and what it looks like instead.
        detail: String,
    },
    /// A required column is missing.
    #[error(
        "{file}: column `{column}` is missing\n  expected: {expected} (contract table `{table}`); found columns: {found}{hint}"
    )]
    MissingColumn {
        /// The file.
        file: String,
        /// Contract table.
        table: String,
        /// Canonical column name (or the export name it was renamed to).
        column: String,
        /// Expected type.
        expected: String,
        /// Columns the file has.
        found: String,
        /// A rename hint, starting with a newline, or empty.
        hint: String,
    },
    /// A column has a type the contract cannot read losslessly.
    #[error(
        "{file}: column `{column}` has type {found}, expected {expected} (contract table `{table}`)\n  example rows: {examples}"
    )]
    Mistyped {
        /// The file.
        file: String,
        /// Contract table.
        table: String,
        /// Column name in the file.
        column: String,
        /// Expected contract type.
        expected: String,
        /// Type found in the file.
        found: String,
        /// A few values as found.
        examples: String,
    },
    /// Rows break a rule whose documented action is to reject the file.
    #[error("{file}: {rule} in column `{column}` ({count} rows)\n  example rows:\n{examples}\n  hint: {hint}")]
    Rejected {
        /// The file.
        file: String,
        /// Column the rule checks.
        column: String,
        /// The rule, as a phrase (`negative cost`).
        rule: String,
        /// How many rows break it.
        count: u64,
        /// Example rows, one per line, indented.
        examples: String,
        /// What to do about it.
        hint: String,
    },
    /// The table has no usable rows left.
    #[error("{file}: no usable rows ({detail})")]
    NoRows {
        /// The file.
        file: String,
        /// Why.
        detail: String,
    },
    /// A config names a table the analysis needs but does not have.
    #[error("{file}: kind `{kind}` needs the `{table}` input; add it under [inputs]")]
    MissingInput {
        /// The config file.
        file: String,
        /// Analysis kind.
        kind: String,
        /// Missing table.
        table: String,
    },
    /// Polars failed on a file.
    #[error("{file}: {context}: {source}")]
    Polars {
        /// The file.
        file: String,
        /// What was being done.
        context: String,
        /// The polars error.
        #[source]
        source: polars::error::PolarsError,
    },
}

impl DataError {
    /// The class of the error, which the CLI maps to an exit code.
    pub fn class(&self) -> ErrorClass {
        match self {
            DataError::Config { .. } | DataError::MissingInput { .. } => ErrorClass::Config,
            _ => ErrorClass::Input,
        }
    }
}

/// What can go wrong inside an analysis once its inputs are validated. Every
/// analysis crate uses this one type (under its own alias, e.g. `BrandError`),
/// so the CLI maps all of them to exit codes in one place.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// The inputs pass the contract but cannot support the analysis.
    #[error("{file}: column `{column}`: {message}")]
    Input {
        /// The file.
        file: String,
        /// The column.
        column: String,
        /// What is wrong, with examples.
        message: String,
    },
    /// A table the analysis needs is missing from `[inputs]`.
    #[error("kind `{kind}` needs the `{table}` input; add it under [inputs]")]
    MissingTable {
        /// The analysis kind.
        kind: &'static str,
        /// The contract table.
        table: &'static str,
    },
    /// None of the tables of which the analysis needs one is under `[inputs]`.
    #[error("kind `{kind}` needs at least one of the {tables} inputs; add one under [inputs]")]
    NeedsOneOf {
        /// The analysis kind.
        kind: &'static str,
        /// The tables, named for the message.
        tables: &'static str,
    },
    /// `[params]` is wrong.
    #[error("[params]: {0}")]
    Params(String),
    /// A polars computation failed.
    #[error("cannot {context}: {source}")]
    Polars {
        /// What was being done.
        context: &'static str,
        /// The polars error.
        #[source]
        source: polars::error::PolarsError,
    },
}

impl AnalysisError {
    /// Wraps a polars error with what was being done, for `map_err`.
    pub fn polars(context: &'static str) -> impl Fn(polars::error::PolarsError) -> AnalysisError {
        move |source| AnalysisError::Polars { context, source }
    }

    /// Whether the error is the config's (exit 2) rather than the inputs' (exit 1).
    pub fn is_config(&self) -> bool {
        matches!(self, AnalysisError::Params(_) | AnalysisError::MissingTable { .. } | AnalysisError::NeedsOneOf { .. })
    }
}

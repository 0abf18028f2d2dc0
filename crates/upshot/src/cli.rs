//! The command-line interface definition.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Turns a growth team's Parquet exports into experiment and attribution
/// answers, charts for decks and a decision summary.
#[derive(Debug, Parser)]
#[command(name = "upshot", version, about, max_term_width = 100)]
pub struct Cli {
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate realistic synthetic exports of all seven tables, plus truth.json.
    Synth(SynthArgs),
    /// Check exports against the contract and print the row accounting.
    Validate(ValidateArgs),
    /// Run one experiment config, or every *.toml in a folder, into an output folder.
    Run(RunArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScaleArg {
    /// ~10k orders (the committed sample)
    Small,
    /// ~100k orders
    Medium,
    /// ~1M orders, ~3M spend rows
    Large,
    /// ~10M orders, ~20M spend rows, ~50M touchpoints
    Xl,
}

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Folder to write the exports into.
    #[arg(long, default_value = "notebooks-data")]
    pub out: PathBuf,
    /// Seed of every random draw: same seed and scale, same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Size of the exports.
    #[arg(long, value_enum, default_value = "small")]
    pub scale: ScaleArg,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Experiment configs (*.toml) or a folder of them; or Parquet files with --table.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Contract table of the Parquet files given (spend, leads, orders, touchpoints, survey, plan, schedule).
    #[arg(long)]
    pub table: Option<String>,
    /// Currency the files must hold, for files given directly.
    #[arg(long, default_value = "USD")]
    pub currency: String,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Experiment configs (*.toml) or folders of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output folder; each experiment writes <out>/<name>/.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

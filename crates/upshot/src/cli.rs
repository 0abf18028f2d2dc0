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
    /// Print the daily digest of a pacing config: the last day against the pace the plan needs.
    Digest(DigestArgs),
    /// Gather every result.json under a report folder into one executive decision summary.
    Report(ReportArgs),
    /// Compare two report folders: calls that flipped, metrics outside their previous interval,
    /// inputs excluding more rows. Exit 3 when a --fail-on guard breaks.
    Diff(DiffArgs),
    /// Brand on/off tests: design a schedule (the analysis runs with `run`, kind = "brand-test").
    #[command(subcommand)]
    BrandTest(BrandTestCommand),
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// A `kind = "pacing"` experiment config.
    pub config: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A folder of experiment outputs (what `upshot run --out` wrote); summary.md and summary.html go into it.
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The previous run's report folder (or one experiment's folder).
    pub old: PathBuf,
    /// The new run's report folder (or one experiment's folder).
    pub new: PathBuf,
    /// Also write the comparison as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Guards that fail the command with exit 3: `flips` (any analysis's call changed, appeared or
    /// went away), `channels` (a row of the executive plan changed its call), `rows` (an input
    /// excludes a larger share of its rows). Comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = ["flips", "channels", "rows"])]
    pub fail_on: Vec<String>,
    /// A TOML file whose `[guards]` table sets the guards (`call_flips`, `channel_flips`,
    /// `rows_dropped`, `max_unattributed_share`), for example the folder's `economics.toml`;
    /// `--fail-on` adds to it.
    #[arg(long)]
    pub guards: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BrandTestCommand {
    /// Write a randomized on/off schedule, and with --history simulate the power of candidate designs.
    Design(DesignArgs),
}

#[derive(Debug, clap::Args)]
pub struct DesignArgs {
    /// First test day (YYYY-MM-DD).
    #[arg(long)]
    pub start: String,
    /// Test length in days.
    #[arg(long, default_value_t = 56)]
    pub days: usize,
    /// Regions for a region x day checkerboard, comma-separated; omit for a time-only switchback.
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Days per on/off block (at least the carry-over you expect).
    #[arg(long, default_value_t = 1)]
    pub block_days: usize,
    /// Days at the start of every block left out of the estimation.
    #[arg(long, default_value_t = 0)]
    pub washout_days: usize,
    /// Seed of the randomization (recorded in the file's metadata).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Schedule file to write.
    #[arg(long, default_value = "brand_schedule.parquet")]
    pub out: PathBuf,
    /// Orders export with your history: simulate the minimum detectable effect of candidate designs.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Folder for the power report (with --history).
    #[arg(long, default_value = "reports")]
    pub report_out: PathBuf,
    /// Simulations per design (with --history).
    #[arg(long, default_value_t = 1000)]
    pub simulations: usize,
    /// Re-randomization draws per simulated test (with --history; every assignment when a design has fewer).
    #[arg(long, default_value_t = 1000)]
    pub draws: usize,
    /// Power the detectable effect is defined at (with --history).
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// An effect in purchases per on-day to size the test for, e.g. the campaign's break-even
    /// effect (with --history): its power per design and the days needed.
    #[arg(long)]
    pub effect: Option<f64>,
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
    /// How survey respondents behave: as the survey's measurement model assumes, or in a world
    /// that breaks it (accuracy by origin, confusions between neighbours, response by click and
    /// origin; the survey rows come from their own random stream, every other table keeps its bytes).
    #[arg(long, value_enum, default_value = "model")]
    pub survey_world: SurveyWorldArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SurveyWorldArg {
    /// One accuracy (0.85), wrong answers spread evenly, response by true origin (the committed sample)
    Model,
    /// Accuracy differs by origin, wrong answers go to neighbours, response depends on click and origin
    Misspecified,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Experiment configs (*.toml) or a folder of them; or Parquet exports, whose table comes from
    /// --table, else from the file name (orders.parquet, spend_2025.parquet), else from the columns.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Contract table of every Parquet file given (spend, leads, orders, touchpoints, survey, plan, schedule).
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
    /// Output folder; each experiment writes `<out>/<name>/`.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

//! All terminal output goes through the printer: results to stdout, progress
//! and errors to stderr.

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::CliError;

pub struct Printer {
    quiet: bool,
}

impl Printer {
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// A line of the command's result, on stdout.
    pub fn out(&self, text: &str) {
        if !self.quiet {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}");
        }
    }

    /// The command's product (a digest), on stdout even when quiet.
    pub fn product(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    pub fn error(&self, err: &CliError) {
        let _ = writeln!(std::io::stderr().lock(), "error: {err}");
    }

    /// A progress bar on stderr; hidden when quiet or when stderr is not a terminal.
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_string());
        bar
    }
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// OpenPHM: population health management for an Integrated Care System.
#[derive(Debug, Parser)]
#[command(name = "phm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the synthetic BLMK population as partners' extracts (FHIR NDJSON, CSV, manifest).
    Synth(SynthArgs),
    /// Read a generated drop back and compare it with the calibration targets.
    Calibration(CalibrationArgs),
}

/// Arguments of `phm synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// People alive and registered at the extract date (BLMK has about 1.1 million).
    #[arg(long, default_value_t = 1_100_000)]
    pub population: u64,
    /// Random seed: the same seed gives the same files, whatever the thread count.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Folder to write the drop to (created; existing files with the same names are replaced).
    #[arg(long, default_value = "data/synthetic")]
    pub out: PathBuf,
    /// The date the extracts are taken (YYYY-MM-DD); history runs 7 years back from it.
    #[arg(long, value_parser = parse_date)]
    pub extract_date: Option<chrono::NaiveDate>,
    /// Worker threads (default: all cores). Output does not depend on this.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `phm calibration`.
#[derive(Debug, clap::Args)]
pub struct CalibrationArgs {
    /// The drop folder (holding manifest.json).
    #[arg(long, default_value = "data/synthetic")]
    pub drop: PathBuf,
    /// Also write the report as Markdown to this file (e.g. docs/calibration.md).
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("`{text}` is not a date in the form YYYY-MM-DD"))
}

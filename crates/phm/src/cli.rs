//! Command-line arguments.

pub mod stats;

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
    /// Load partners' extracts into the store: validate, pseudonymise, link, quarantine.
    Ingest(IngestArgs),
    /// Check the data quality of a snapshot, after the OHDSI Data Quality Dashboard:
    /// conformance, completeness and plausibility per source and table, with thresholds.
    Quality(QualityArgs),
    /// List a store's snapshots: when each was committed, what it loaded, its size.
    Snapshots(SnapshotsArgs),
    /// Run definitions (cohorts, indicators, measures) on a snapshot; write Parquet and CSV.
    Run(RunArgs),
    /// Show the DataFusion plan of each cohort, indicator set and measure in definitions.
    Explain(ExplainArgs),
    /// Check definition files and their codelists without running them.
    Check(CheckArgs),
    /// Run a Ballista scheduler that knows OpenPHM's functions (for `phm run --ballista`;
    /// in builds with the `cluster` feature).
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor that knows OpenPHM's functions, attached to a scheduler (in
    /// builds with the `cluster` feature).
    Executor(ExecutorArgs),
    /// Compute the indicator catalogue as place-based profiles: the ICS, each place and each
    /// neighbourhood, by inequality breakdowns, with confidence limits, SII/RII, benchmarks
    /// against the ICS and England, and disclosure control; one tidy table (Parquet + CSV).
    Profiles(ProfilesArgs),
    /// Compute PHEindicatormethods' statistics (proportions, rates, DSR, ISR, means, life
    /// expectancy, healthy life expectancy, SII, SPC, funnel plots, comparisons) from any
    /// aggregate CSV.
    Stats(stats::StatsArgs),
    /// Manage the web app's user accounts (analysts, clinicians, admins).
    Users(crate::commands::accounts::UsersArgs),
    /// Read or verify the audit trail of sign-ins, person-level views and exports.
    Audit(crate::commands::accounts::AuditArgs),
    /// Serve the web app and JSON API for a store's profiles (computing them first if needed).
    Serve(crate::commands::web::ServeArgs),
    /// From nothing to a running dashboard: generate the synthetic BLMK population (or reuse
    /// it), load it, compute the profiles and serve the app on http://127.0.0.1:8080.
    Demo(crate::commands::web::DemoArgs),
}

/// Arguments of `phm scheduler`.
#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 50050)]
    pub port: u16,
    /// Host name executors and clients use to reach this scheduler.
    #[arg(long, default_value = "localhost")]
    pub external_host: String,
}

/// Arguments of `phm executor`.
#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
    /// The scheduler, `HOST:PORT`.
    #[arg(long, default_value = "localhost:50050")]
    pub scheduler: String,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: String,
    /// Flight (shuffle data) port.
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// Task port.
    #[arg(long, default_value_t = 50052)]
    pub grpc_port: u16,
    /// Host name other executors use to fetch this one's shuffle data.
    #[arg(long)]
    pub external_host: Option<String>,
    /// Tasks run at once (default: every core).
    #[arg(long)]
    pub concurrent_tasks: Option<usize>,
    /// Folder for shuffle files.
    #[arg(long)]
    pub work_dir: Option<String>,
}

/// Arguments of `phm run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The store folder.
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
    /// Read this snapshot ("as at"). Default: the latest.
    #[arg(long)]
    pub as_at: Option<u64>,
    /// Index date for cohorts and indicators (YYYY-MM-DD). Default: each file's `index_date`.
    #[arg(long)]
    pub index_date: Option<chrono::NaiveDate>,
    /// Output folder: one subfolder per definition file.
    #[arg(long, default_value = "data/results")]
    pub out: PathBuf,
    /// Run on a Ballista cluster at this scheduler URL (`df://host:50050`) instead of in-process
    /// (in builds with the `cluster` feature).
    /// The store folder must be readable at the same path on the executors.
    #[arg(long)]
    pub ballista: Option<String>,
    /// Compute each indicator with its own plan instead of one shared pass, and each measure
    /// one period at a time instead of all periods in one pass (slower; for measuring what
    /// sharing saves: see bench/measures.sh).
    #[arg(long)]
    pub separate_plans: bool,
    /// Disclosure policy for the indicator and measure tables: `analyst` (counts 1–7
    /// suppressed), `public` (also rounded to the nearest 5), or `FILE.toml:NAME`.
    #[arg(long, default_value = "analyst")]
    pub policy: String,
    /// Definition files (`.phm`) or folders of them.
    #[arg(required = true)]
    pub definitions: Vec<PathBuf>,
}

/// Arguments of `phm profiles`.
#[derive(Debug, clap::Args)]
pub struct ProfilesArgs {
    /// The store folder.
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
    /// Read this snapshot ("as at"). Default: the latest.
    #[arg(long)]
    pub as_at: Option<u64>,
    /// The outcome framework: priorities and their indicators. Its `definitions` folder holds
    /// the indicator definitions.
    #[arg(long, default_value = "definitions/framework.toml")]
    pub framework: PathBuf,
    /// England's values for benchmarking (`indicator,period,value,lower_95,upper_95,source`).
    #[arg(long, default_value = "reference/england.csv")]
    pub england: PathBuf,
    /// Disclosure policy: `public` (counts 1–7 suppressed, others rounded to the nearest 5),
    /// `analyst` (suppression without rounding), or `FILE.toml:NAME` for a policy of your own.
    /// Repeat it to release the same figures under several policies: each policy's tables then
    /// go to `OUT/<policy name>/`.
    #[arg(long, default_values_t = vec!["public".to_owned()])]
    pub policy: Vec<String>,
    /// Output folder: `profiles.parquet`, `profiles.csv`, `trends.parquet`, `trends.csv`,
    /// `population.parquet`, `population.csv`, `framework.json`, `provenance.json`.
    #[arg(long, default_value = "data/profiles")]
    pub out: PathBuf,
    /// Trend points per indicator (for SPC charts): the index date and this many minus one
    /// earlier dates, `--trend-every-months` apart. 0 leaves the trends out.
    #[arg(long, default_value_t = 24)]
    pub trend_points: usize,
    /// Months between trend points.
    #[arg(long, default_value_t = 1)]
    pub trend_every_months: u32,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `phm explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The store folder (plans are built against its latest snapshot).
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
    /// Run each plan and show the physical plan with each operator's rows and time
    /// (EXPLAIN ANALYZE), to see where a slow definition spends it.
    #[arg(long)]
    pub analyze: bool,
    /// Definition files (`.phm`) or folders of them.
    #[arg(required = true)]
    pub definitions: Vec<PathBuf>,
}

/// Arguments of `phm check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Definition files (`.phm`) or folders of them.
    #[arg(required = true)]
    pub definitions: Vec<PathBuf>,
}

/// Arguments of `phm snapshots`.
#[derive(Debug, clap::Args)]
pub struct SnapshotsArgs {
    /// The store folder.
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
}

/// Arguments of `phm quality`.
#[derive(Debug, clap::Args)]
pub struct QualityArgs {
    /// The store folder.
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
    /// The snapshot to assess. Default: the latest.
    #[arg(long)]
    pub snapshot: Option<u64>,
    /// Also write the whole report (every result, and a summary per source) as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write one row per check result as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Arguments of `phm ingest`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["manifest", "paths"])))]
pub struct IngestArgs {
    /// The store folder (created if missing).
    #[arg(long, default_value = "data/store")]
    pub store: PathBuf,
    /// The pseudonymisation key file, kept outside the store (created on first use).
    /// Default: beside the store, `<store>.pseudonym-key`.
    #[arg(long, env = "PHM_PSEUDONYM_KEY")]
    pub key: Option<PathBuf>,
    /// Load every file a drop's manifest.json lists.
    #[arg(long, conflicts_with_all = ["source", "format", "mapping"])]
    pub manifest: Option<PathBuf>,
    /// Name of the source the files come from (a partner's feed, e.g. `gp-A81001`).
    #[arg(long, requires = "format")]
    pub source: Option<String>,
    /// Layout of the files: `fhir` (Bulk NDJSON), `omop` (CDM 5.4 tables), `csv` (with
    /// --mapping), `opt-out`, or a built-in mapping: `social-care-csv`, `postcode-lookup-csv`,
    /// `imd2019`, `epcn`.
    #[arg(long, requires = "source")]
    pub format: Option<String>,
    /// Column mapping for `--format csv` (see mappings/README.md).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Kind of sender: gp_practice, acute_trust, community_trust, mental_health_trust,
    /// local_authority, national, reference, other.
    #[arg(long, default_value = "other")]
    pub source_type: String,
    /// ODS (or ONS) code of the sender; default: the source name.
    #[arg(long)]
    pub source_org: Option<String>,
    /// The date the extract was taken (YYYY-MM-DD); records after it are rejected. Default: today.
    #[arg(long, value_parser = parse_date)]
    pub extract_date: Option<chrono::NaiveDate>,
    /// Load an extract older than the one the store holds for the same source.
    #[arg(long)]
    pub allow_older: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// The files (for --source).
    pub paths: Vec<PathBuf>,
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
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date in the form YYYY-MM-DD"))
}

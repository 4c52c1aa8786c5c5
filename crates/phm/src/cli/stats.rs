//! Arguments of `phm stats`: PHEindicatormethods' methods over any aggregate CSV.

use std::path::PathBuf;

use clap::Subcommand;

/// Arguments of `phm stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The statistical method.
    #[command(subcommand)]
    pub method: StatsMethod,
}

/// The statistical methods; each reads a CSV and writes one (see docs/stats.md).
#[derive(Debug, Subcommand)]
pub enum StatsMethod {
    /// Life expectancy by Chiang's method II (`phe_life_expectancy`): columns age_band or
    /// start_age, deaths, population.
    LifeExpectancy(LifeExpectancyArgs),
}

/// Where the table comes from, where the results go, and how rows are grouped.
#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// The input CSV file: a header row, then one row per record.
    #[arg(long)]
    pub input: PathBuf,
    /// Write the results to this CSV file instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Columns that identify a group, comma-separated: one result per group, groups in the order
    /// they first appear.
    #[arg(long, value_delimiter = ',')]
    pub group_by: Vec<String>,
}

/// The confidence levels of the limits.
#[derive(Debug, clap::Args)]
pub struct ConfidenceArgs {
    /// Confidence levels in percent (or as fractions), comma-separated; each gives a pair of
    /// columns `lower_<level>,upper_<level>` (`.` written `_`).
    #[arg(long, value_delimiter = ',', default_value = "95,99.8")]
    pub confidence: Vec<String>,
}

/// Arguments of `phm stats life-expectancy`.
#[derive(Debug, clap::Args)]
pub struct LifeExpectancyArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// The start ages every group must have, comma-separated; the last band is open-ended.
    /// Default: 0,1,5,10,…,90 (ONS's abridged life table).
    #[arg(long, value_delimiter = ',')]
    pub age_structure: Vec<u32>,
    /// Report only these start ages, comma-separated (default: every band).
    #[arg(long, value_delimiter = ',')]
    pub ages: Vec<u32>,
}

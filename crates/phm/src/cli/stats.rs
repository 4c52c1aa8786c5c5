//! Arguments of `phm stats`: PHEindicatormethods' methods over any aggregate CSV.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

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
    /// Proportion with Wilson score limits (`phe_proportion`): columns numerator, denominator.
    Proportion(ProportionArgs),
    /// Crude rate with Byar's or exact Poisson limits (`phe_rate`): columns numerator, denominator.
    Rate(RateArgs),
    /// Directly standardised rate, Dobson's method (`calculate_dsr`): columns numerator,
    /// denominator, age_band [, standard_population; default ESP2013 by age band] [, eventfreq
    /// for events a person can have more than once].
    Dsr(DsrArgs),
    /// Indirectly standardised ratio or rate (`calculate_ISRatio`/`calculate_ISRate`): columns
    /// observed, expected; or numerator, denominator, x_ref, n_ref per age band.
    Isr(IsrArgs),
    /// Mean with Student's t limits (`phe_mean`): column value, one row per raw value.
    Mean(MeanArgs),
    /// Life expectancy by Chiang's method II (`phe_life_expectancy`): columns age_band or
    /// start_age, deaths, population.
    LifeExpectancy(LifeExpectancyArgs),
    /// Healthy life expectancy by Sullivan's method on the same life table: columns age_band
    /// or start_age, deaths, population, and the survey's healthy and surveyed counts.
    HealthyLifeExpectancy(LifeExpectancyArgs),
    /// Slope and relative index of inequality (`phe_sii`): columns quantile, population, and
    /// value with lower/upper (or se), or numerator.
    Sii(SiiArgs),
    /// Statistical process control, NHS "Making Data Count" XmR chart: columns period, value.
    Spc(SpcArgs),
    /// Funnel plot: where each area falls against control limits around the average of all
    /// areas, and the limits to draw (`assign_funnel_significance`, `calculate_funnel_limits`):
    /// columns numerator, denominator (proportions, ratios) or numerator, rate [, denominator]
    /// (rates).
    Funnel(FunnelArgs),
    /// Compare each row's value with a comparator as Fingertips does (better, similar or worse
    /// at each level): columns value, lower_<level>, upper_<level> (or value, denominator with
    /// --test proportion or rate) and a comparator.
    Compare(CompareArgs),
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

/// Arguments of `phm stats proportion`.
#[derive(Debug, clap::Args)]
pub struct ProportionArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// Scale of the result: 1 for a fraction, 100 for a percentage.
    #[arg(long, default_value_t = 1.0)]
    pub multiplier: f64,
}

/// Arguments of `phm stats rate`.
#[derive(Debug, clap::Args)]
pub struct RateArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// Rate per this many of the denominator.
    #[arg(long, default_value_t = 100_000.0)]
    pub multiplier: f64,
}

/// Arguments of `phm stats dsr`.
#[derive(Debug, clap::Args)]
pub struct DsrArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// Rate per this many of the standard population.
    #[arg(long, default_value_t = 100_000.0)]
    pub multiplier: f64,
}

/// Arguments of `phm stats isr`.
#[derive(Debug, clap::Args)]
pub struct IsrArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// The ratio is multiplied by this (1, or 100 for an SMR written as 100 = as expected).
    /// Ignored with --rate.
    #[arg(long, default_value_t = 1.0)]
    pub multiplier: f64,
    /// Report the indirectly standardised rate (ratio × reference rate) per this many, instead
    /// of the ratio; needs the age-specific columns (numerator, denominator, x_ref, n_ref).
    #[arg(long)]
    pub rate: Option<f64>,
}

/// Arguments of `phm stats mean`.
#[derive(Debug, clap::Args)]
pub struct MeanArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
}

/// Arguments of `phm stats life-expectancy` and `phm stats healthy-life-expectancy`.
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

/// Arguments of `phm stats sii`.
#[derive(Debug, clap::Args)]
pub struct SiiArgs {
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// Scale of the SII and its limits (e.g. 100 for percentages from proportions); a negative
    /// multiplier inverts the RII.
    #[arg(long, default_value_t = 1.0)]
    pub multiplier: f64,
    /// What the values are: rate, proportion or other (decides the transformation of their
    /// limits into standard errors).
    #[arg(long, value_enum, default_value_t = SiiValueType::Other)]
    pub value_type: SiiValueType,
    /// Fit on the log (rates) or logit (proportions) scale and transform back.
    #[arg(long)]
    pub transform: bool,
    /// Random samples drawn for the limits (at least 1000).
    #[arg(long, default_value_t = 100_000)]
    pub repetitions: u32,
    /// Seed of the simulation: the same seed gives the same limits (default: phm-stats' own).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// What the values of `phm stats sii` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SiiValueType {
    /// A rate.
    Rate,
    /// A proportion (between 0 and 1, or numerator / population).
    Proportion,
    /// Anything else (life expectancy, a mean, a score).
    Other,
}

/// Arguments of `phm stats spc`.
#[derive(Debug, clap::Args)]
pub struct SpcArgs {
    #[command(flatten)]
    pub table: TableArgs,
    /// Which direction is good: `higher`, `lower` or `neither`.
    #[arg(long, value_enum, default_value_t = Polarity::Neither)]
    pub polarity: Polarity,
    /// A target value: gives the assurance icon.
    #[arg(long)]
    pub target: Option<f64>,
    /// Compute the mean and limits from the first N points of each series (of each period)
    /// only.
    #[arg(long)]
    pub baseline: Option<usize>,
    /// Start a new period, with its own mean and limits, at these periods (comma-separated
    /// values of the `period` column), after a known change to the process.
    #[arg(long, value_delimiter = ',')]
    pub recalculate_at: Vec<String>,
    /// Points in a row on one side of the mean (a shift) or each rising or falling (a trend)
    /// that make a special cause.
    #[arg(long, default_value_t = 7)]
    pub run: usize,
    /// Leave unusually large moving ranges out of the limits, as NHSRplotthedots does by
    /// default (the Making Data Count Excel tools do not).
    #[arg(long)]
    pub screen_outliers: bool,
    /// Also write one row per series (variation and assurance icons) to this CSV file.
    #[arg(long)]
    pub series_output: Option<PathBuf>,
}

/// Which direction of an indicator is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Polarity {
    /// Higher is better.
    Higher,
    /// Lower is better.
    Lower,
    /// Neither direction is better.
    Neither,
}

/// Arguments of `phm stats funnel`.
#[derive(Debug, clap::Args)]
pub struct FunnelArgs {
    #[command(flatten)]
    pub table: TableArgs,
    /// What each area's value is: a proportion (numerator of denominator), a ratio (observed
    /// numerator to expected denominator) or a rate (numerator events at the given rate).
    #[arg(long, value_enum)]
    pub statistic: FunnelStatistic,
    /// Scale of proportions (default 100, a percentage) or rates (default 100000); not used for
    /// ratios.
    #[arg(long)]
    pub multiplier: Option<f64>,
    /// How ratios are shown: `ratio` (around 1), `isr` (× 100, around 100) or `count` (the
    /// relative excess, around 0).
    #[arg(long, value_enum, default_value_t = FunnelRatioType::Ratio)]
    pub ratio_type: FunnelRatioType,
    /// Whether rates are crude or directly standardised (DSRs on fewer than 10 events are not
    /// assessed).
    #[arg(long, value_enum, default_value_t = FunnelRateType::Crude)]
    pub rate_type: FunnelRateType,
    /// Years of data the rates cover (the chart's populations are per year).
    #[arg(long, default_value_t = 1)]
    pub years_of_data: u32,
    /// Also write the funnel's control limits (100 rows per funnel) to this CSV file.
    #[arg(long)]
    pub chart_output: Option<PathBuf>,
}

/// What the areas of a funnel plot are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunnelStatistic {
    /// Proportions.
    Proportion,
    /// Ratios of observed to expected events.
    Ratio,
    /// Crude or directly standardised rates.
    Rate,
}

/// How a ratio funnel is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunnelRatioType {
    /// The ratio, around 1.
    Ratio,
    /// The ratio × 100, around 100.
    Isr,
    /// The relative excess (ratio − 1), around 0.
    Count,
}

/// Crude or directly standardised rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunnelRateType {
    /// Crude rates.
    Crude,
    /// Directly standardised rates.
    Dsr,
}

/// Arguments of `phm stats compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The input CSV file, e.g. the output of another `phm stats` command.
    #[arg(long)]
    pub input: PathBuf,
    /// Write the results to this CSV file instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub confidence: ConfidenceArgs,
    /// The comparator's value (e.g. England's), in the unit of the values; default: each row's
    /// `comparator` column.
    #[arg(long)]
    pub comparator: Option<f64>,
    /// Which direction is good: `higher`, `lower` or `neither` (then the comparison says higher
    /// or lower); a `polarity` column overrides it row by row.
    #[arg(long, value_enum, default_value_t = Polarity::Neither)]
    pub polarity: Polarity,
    /// The test: `interval` (is the comparator within the row's confidence interval?),
    /// `proportion` (Wilson control limits around the comparator at the row's denominator) or
    /// `rate` (exact Poisson control limits around the comparator).
    #[arg(long, value_enum, default_value_t = CompareTest::Interval)]
    pub test: CompareTest,
    /// The unit of the values for `--test proportion` (default 1, a fraction; 100 for a
    /// percentage) or `--test rate` (default 100000).
    #[arg(long)]
    pub multiplier: Option<f64>,
}

/// How `phm stats compare` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareTest {
    /// The comparator's value within the row's confidence interval.
    Interval,
    /// Fingertips' control limits for proportions.
    Proportion,
    /// Fingertips' control limits for rates and DSRs.
    Rate,
}

//! `phm stats`: every method of `phm-stats` over any aggregate CSV, with the column names of
//! PHEindicatormethods (see docs/stats.md).
//!
//! Each method reads the whole input ([`table::Table`]), checks its columns, groups the rows by
//! `--group-by` (groups in the order they first appear), computes one result per group and
//! writes them ([`output::Csv`]). Input that cannot be read as the method needs (a missing
//! column, a malformed number, a count that cannot be) is an error naming the file, line,
//! column and value, where PHEindicatormethods stops with an error too; data the method cannot
//! report on is a row with an empty value and a `reason`.

mod life_expectancy;
mod output;
mod table;

use crate::cli::stats::{StatsArgs, StatsMethod};

/// Runs `phm stats <method>`.
pub fn run(args: &StatsArgs) -> anyhow::Result<()> {
    match &args.method {
        StatsMethod::LifeExpectancy(args) => life_expectancy::run(args),
    }
}

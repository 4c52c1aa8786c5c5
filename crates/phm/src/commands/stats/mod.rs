//! `phm stats`: every method of `phm-stats` over any aggregate CSV, with the column names of
//! PHEindicatormethods (see docs/stats.md).
//!
//! Each method reads the whole input ([`table::Table`]), checks its columns, groups the rows by
//! `--group-by` (groups in the order they first appear), computes one result per group and
//! writes them ([`output::Csv`]). Input that cannot be read as the method needs (a missing
//! column, a malformed number, a count that cannot be) is an error naming the file, line,
//! column and value, where PHEindicatormethods stops with an error too; data the method cannot
//! report on is a row with an empty value and a `reason`.

mod compare;
mod dsr;
mod funnel;
mod isr;
mod life_expectancy;
mod mean;
mod output;
mod proportion;
mod rate;
mod sii;
mod spc;
mod table;

use phm_stats::Multiplier;

use crate::cli::stats::{StatsArgs, StatsMethod};
use table::{Column, Group, Kind, Row, Table};

/// Runs `phm stats <method>`.
pub fn run(args: &StatsArgs) -> anyhow::Result<()> {
    match &args.method {
        StatsMethod::Proportion(args) => proportion::run(args),
        StatsMethod::Rate(args) => rate::run(args),
        StatsMethod::Dsr(args) => dsr::run(args),
        StatsMethod::Isr(args) => isr::run(args),
        StatsMethod::Mean(args) => mean::run(args),
        StatsMethod::LifeExpectancy(args) => life_expectancy::run(args),
        StatsMethod::HealthyLifeExpectancy(args) => life_expectancy::run_healthy(args),
        StatsMethod::Sii(args) => sii::run(args),
        StatsMethod::Spc(args) => spc::run(args),
        StatsMethod::Funnel(args) => funnel::run(args),
        StatsMethod::Compare(args) => compare::run(args),
    }
}

/// The key columns of the output and the groups: those of `--group-by`; or, with no
/// `--group-by`, for a method that (like `phe_proportion` on an ungrouped data frame) gives one
/// result per row, one group per row keyed by every column the method does not read (`used`),
/// and for any other method one group of every row.
fn grouping(
    table: &Table,
    group_by: &[String],
    row_by_row: Option<&[&str]>,
) -> anyhow::Result<(Vec<String>, Vec<Group>)> {
    match row_by_row {
        Some(used) if group_by.is_empty() => Ok(table.row_groups(used)),
        _ => Ok((group_by.to_vec(), table.groups(group_by)?)),
    }
}

/// The reason a group is not reported when one of its cells is empty or `NA`.
fn missing(row: &Row, column: Column<'_>) -> String {
    format!("line {} has no {} (empty or NA)", row.line, column.name)
}

/// `--multiplier`, checked.
fn multiplier(value: f64) -> anyhow::Result<Multiplier> {
    Multiplier::new(value).map_err(|_| anyhow::anyhow!("--multiplier: expected a number greater than 0, found {value}"))
}

/// A group as named in messages: `area=E06000001, sex=Female`, or `the input` when there is
/// no `--group-by`.
fn describe(group_by: &[String], group: &Group) -> String {
    if group_by.is_empty() {
        "the input".to_owned()
    } else {
        let parts: Vec<String> = group_by.iter().zip(&group.key).map(|(c, v)| format!("{c}={v}")).collect();
        format!("group {}", parts.join(", "))
    }
}

/// Sums two columns over a group's rows, checking each cell: `Ok(Err(reason))` when a cell is
/// empty or `NA`, an error when a cell is malformed or `check` refuses a row.
fn sum_pair(
    table: &Table,
    group: &Group,
    (first, first_kind): (Column<'_>, Kind),
    (second, second_kind): (Column<'_>, Kind),
    check: impl Fn(&Row, f64, f64) -> anyhow::Result<()>,
) -> anyhow::Result<Result<(f64, f64), String>> {
    let (mut a, mut b) = (0.0, 0.0);
    let mut reason = None;
    for &r in &group.rows {
        let row = &table.rows()[r];
        let x = table.number(row, first, first_kind)?;
        let y = table.number(row, second, second_kind)?;
        match (x, y) {
            (Some(x), Some(y)) => {
                check(row, x, y)?;
                a += x;
                b += y;
            }
            (None, _) => reason = reason.or_else(|| Some(missing(row, first))),
            (_, None) => reason = reason.or_else(|| Some(missing(row, second))),
        }
    }
    Ok(reason.map_or(Ok((a, b)), Err))
}

/// An age band label read as `(first age, last age)`, the last `None` for an open-ended band:
/// `0`, `1-4`, `5–9`, `5 to 9`, `90+`, `90 and over`, each optionally followed by `years`. As
/// PHEindicatormethods does, the leading whole number is the first age; a label that does not
/// start with one (`<1`, `under 5`) is refused rather than guessed.
fn age_band(label: &str) -> Option<(u32, Option<u32>)> {
    let label = label.trim();
    let digits = label.bytes().take_while(u8::is_ascii_digit).count();
    let start: u32 = label[..digits].parse().ok()?;
    let rest = label[digits..].trim();
    let rest = rest.strip_suffix("years").or_else(|| rest.strip_suffix("yrs")).unwrap_or(rest).trim();
    if rest.is_empty() {
        return Some((start, Some(start)));
    }
    if matches!(rest, "+" | "and over" | "plus" | "or over") {
        return Some((start, None));
    }
    let end = rest.strip_prefix('-').or_else(|| rest.strip_prefix('–')).or_else(|| rest.strip_prefix("to"))?.trim();
    let end = end.strip_suffix("years").or_else(|| end.strip_suffix("yrs")).unwrap_or(end).trim();
    let end: u32 = end.parse().ok()?;
    (end >= start).then_some((start, Some(end)))
}

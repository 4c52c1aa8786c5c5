//! `phm stats compare`: each row's value against a comparator, as Fingertips compares an area
//! with England (better, similar or worse at each confidence level).

use anyhow::bail;
use phm_stats::compare::{Comparison, Polarity, compare_proportion, compare_rate, compare_with_interval};
use phm_stats::{Estimate, Multiplier};

use super::multiplier;
use super::output::{Csv, levels};
use super::table::{Column, Kind, Row, Table};
use crate::cli::stats::{self, CompareArgs, CompareTest};

/// The test, with the columns it reads.
enum Test<'a> {
    /// Each level's `lower_<level>` and `upper_<level>` columns.
    Interval(Vec<(Column<'a>, Column<'a>)>),
    /// The values' unit and the `denominator` column.
    Proportion(Multiplier, Column<'a>),
    /// The values' unit and the `denominator` column.
    Rate(Multiplier, Column<'a>),
}

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    if args.test == CompareTest::Interval && args.multiplier.is_some() {
        bail!("--multiplier applies to --test proportion or rate only");
    }
    let table = Table::read(&args.input)?;
    let value = table.column("value")?;
    let comparator = match args.comparator {
        Some(_) => None,
        None => Some(
            table
                .column("comparator")
                .map_err(|e| e.context("give the comparator with --comparator, or a comparator column"))?,
        ),
    };
    let polarity = table.optional_column("polarity");
    let test = match args.test {
        CompareTest::Interval => Test::Interval(
            levels
                .iter()
                .map(|l| {
                    Ok((table.column(&format!("lower_{}", l.suffix))?, table.column(&format!("upper_{}", l.suffix))?))
                })
                .collect::<anyhow::Result<_>>()?,
        ),
        CompareTest::Proportion => {
            Test::Proportion(multiplier(args.multiplier.unwrap_or(1.0))?, table.column("denominator")?)
        }
        CompareTest::Rate => {
            Test::Rate(multiplier(args.multiplier.unwrap_or(100_000.0))?, table.column("denominator")?)
        }
    };

    let mut header = table.columns().to_vec();
    header.extend(levels.iter().map(|l| format!("comparison_{}", l.suffix)));
    header.push("comparison_reason".to_owned());
    let mut out = Csv::new(header);
    for row in table.rows() {
        let v = table.number(row, value, Kind::Number)?;
        let c = match comparator {
            Some(column) => table.number(row, column, Kind::Number)?,
            None => args.comparator,
        };
        let polarity = row_polarity(&table, row, polarity, args.polarity)?;
        let mut cells = table.cells(row);
        let mut reason = String::new();
        for (i, level) in levels.iter().enumerate() {
            let comparison = match &test {
                Test::Interval(limits) => {
                    // Missing limits are NaN, which the comparison reports.
                    let (lower_column, upper_column) = limits[i];
                    let lower = table.number(row, lower_column, Kind::Number)?.unwrap_or(f64::NAN);
                    let upper = table.number(row, upper_column, Kind::Number)?.unwrap_or(f64::NAN);
                    if lower > upper {
                        let (l, u) = (table.text(row, lower_column), table.text(row, upper_column));
                        return Err(table.bad_row(
                            row,
                            &format!("\"{}\" ({l}) is above \"{}\" ({u}); a confidence interval's lower limit is at most its upper (are the columns swapped?)", lower_column.name, upper_column.name),
                        ));
                    }
                    let estimate = v.map(|value| Estimate { value, lower, upper, confidence: level.level });
                    compare_with_interval(estimate.as_ref(), c, polarity)
                }
                Test::Proportion(unit, denominator) => compare_proportion(
                    v,
                    table.number(row, *denominator, Kind::NonNegative)?,
                    c,
                    *unit,
                    level.level,
                    polarity,
                ),
                Test::Rate(unit, denominator) => compare_rate(
                    v,
                    table.number(row, *denominator, Kind::NonNegative)?,
                    c,
                    *unit,
                    level.level,
                    polarity,
                ),
            };
            let (cell, why) = name(comparison);
            cells.push(cell.to_owned());
            if let Some(why) = why {
                reason = why;
            }
        }
        cells.push(reason);
        out.push(cells);
    }
    out.write(args.output.as_deref())
}

/// A row's polarity: its `polarity` column if the input has one, else `--polarity`.
fn row_polarity(
    table: &Table,
    row: &Row,
    column: Option<Column<'_>>,
    flag: stats::Polarity,
) -> anyhow::Result<Polarity> {
    let Some(column) = column else {
        return Ok(match flag {
            stats::Polarity::Higher => Polarity::HigherIsBetter,
            stats::Polarity::Lower => Polarity::LowerIsBetter,
            stats::Polarity::Neither => Polarity::NoJudgement,
        });
    };
    match table.text(row, column) {
        "higher" => Ok(Polarity::HigherIsBetter),
        "lower" => Ok(Polarity::LowerIsBetter),
        "neither" => Ok(Polarity::NoJudgement),
        text => Err(table.bad_cell(row, column, "higher, lower or neither", text)),
    }
}

/// The comparison's cell, and the reason when there is none.
fn name(comparison: Comparison) -> (&'static str, Option<String>) {
    match comparison {
        Comparison::Better => ("better", None),
        Comparison::Similar => ("similar", None),
        Comparison::Worse => ("worse", None),
        Comparison::Higher => ("higher", None),
        Comparison::Lower => ("lower", None),
        Comparison::NotCompared(why) => ("not compared", Some(why.to_string())),
    }
}

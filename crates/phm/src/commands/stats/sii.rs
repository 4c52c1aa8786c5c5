//! `phm stats sii`: `phe_sii` (slope and relative index of inequality, limits by simulation)
//! per group of quantile rows.

use anyhow::{Context, bail};
use phm_stats::sii::{QuantileInput, SiiOptions, Uncertainty, Value, ValueType, sii};

use super::output::{Csv, Estimate, levels, num};
use super::table::{Column, Kind, Table};
use super::{describe, grouping};
use crate::cli::stats::{SiiArgs, SiiValueType};

/// Where each quantile's spread comes from.
enum Spread<'a> {
    StandardError(Column<'a>),
    Limits95(Column<'a>, Column<'a>),
}

pub fn run(args: &SiiArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let table = Table::read(&args.table.input)?;
    let quantile = table.column("quantile")?;
    let population = table.column("population")?;
    let value_type = match args.value_type {
        SiiValueType::Rate => ValueType::Rate,
        SiiValueType::Proportion => ValueType::Proportion,
        SiiValueType::Other => ValueType::Other,
    };
    // The value itself, or (for a proportion) the count it is computed from.
    let value = match (table.optional_column("value"), table.optional_column("numerator")) {
        (Some(column), _) => (column, false),
        (None, Some(column)) if value_type == ValueType::Proportion => (column, true),
        (None, Some(_)) => bail!(
            "{}: a numerator gives the value of a proportion only: add --value-type proportion, or give a value column",
            table.name()
        ),
        (None, None) => bail!(
            "{}: no column \"value\" (or \"numerator\" for a proportion); the columns are {}",
            table.name(),
            list(table.columns())
        ),
    };
    let spread = match (
        table.optional_column("se"),
        pair(&table, "lower", "upper").or_else(|| pair(&table, "lower_95", "upper_95")),
    ) {
        (Some(se), _) => Spread::StandardError(se),
        (None, Some((lower, upper))) => Spread::Limits95(lower, upper),
        (None, None) => bail!(
            "{}: no column \"se\", and no \"lower\" and \"upper\" (or \"lower_95\" and \"upper_95\") 95% limits; the SII needs one or the other for each quantile; the columns are {}",
            table.name(),
            list(table.columns())
        ),
    };

    // As phe_sii: the number of quantiles is the number of distinct quantiles in the input.
    let mut distinct: Vec<f64> = Vec::new();
    for row in table.rows() {
        let q = table.required_number(row, quantile, Kind::Number)?;
        if !distinct.contains(&q) {
            distinct.push(q);
        }
    }
    let mut options = SiiOptions::new(value_type).quantiles(distinct.len()).context("--input")?;
    if args.transform {
        options = options.transformed().context("--transform")?;
    }
    options = options
        .multiplier(args.multiplier)
        .context("--multiplier")?
        .repetitions(args.repetitions)
        .context("--repetitions")?
        .confidence(&levels.iter().map(|l| l.level).collect::<Vec<_>>())
        .context("--confidence")?;
    if let Some(seed) = args.seed {
        options = options.seed(seed);
    }

    let (keys, groups) = grouping(&table, &args.table.group_by, None)?;
    let mut columns = vec!["rii".to_owned()];
    for l in &levels {
        columns.push(format!("rii_lower_{}", l.suffix));
        columns.push(format!("rii_upper_{}", l.suffix));
    }
    columns.extend(["intercept".to_owned(), "quantiles".to_owned()]);
    let mut out = Csv::for_estimates(&keys, &levels, &columns.iter().map(String::as_str).collect::<Vec<_>>());
    let mut unstable = false;
    for group in &groups {
        // The quantiles in order, most deprived (the lowest quantile) first, as phe_sii sorts them.
        let mut rows: Vec<(f64, u64, QuantileInput)> = Vec::new();
        for &r in &group.rows {
            let row = &table.rows()[r];
            let q = table.required_number(row, quantile, Kind::Number)?;
            if let Some((_, line, _)) = rows.iter().find(|(p, _, _)| *p == q) {
                bail!(
                    "{} line {}: quantile {q} of {} is already on line {line}",
                    table.name(),
                    row.line,
                    describe(&args.table.group_by, group)
                );
            }
            // A missing number makes the quantile's input non-finite, which the method reports.
            let cell = |column, kind| table.number(row, column, kind).map(|x| x.unwrap_or(f64::NAN));
            let (column, is_count) = value;
            let v = if is_count {
                Value::Count(cell(column, Kind::Count)?)
            } else {
                Value::Given(cell(column, Kind::Number)?)
            };
            let uncertainty = match spread {
                Spread::StandardError(se) => Uncertainty::StandardError(cell(se, Kind::Number)?),
                Spread::Limits95(lower, upper) => {
                    Uncertainty::Limits95 { lower: cell(lower, Kind::Number)?, upper: cell(upper, Kind::Number)? }
                }
            };
            rows.push((q, row.line, QuantileInput::new(cell(population, Kind::Number)?, v, uncertainty)));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let quantiles: Vec<QuantileInput> = rows.iter().map(|(_, _, q)| *q).collect();
        let estimate = match sii(&quantiles, &options) {
            Ok(e) => {
                unstable |= e.many_quantiles;
                let mut cells = vec![num(e.rii)];
                for i in &e.intervals {
                    cells.push(num(i.rii_lower));
                    cells.push(num(i.rii_upper));
                }
                cells.extend([num(e.intercept), quantiles.len().to_string()]);
                let limits = e.intervals.iter().map(|i| phm_stats::Limits { lower: i.sii_lower, upper: i.sii_upper });
                Estimate::reported(e.sii, limits, cells)
            }
            Err(reason) => {
                let mut cells = vec![String::new(); columns.len() - 1];
                cells.push(quantiles.len().to_string());
                Estimate::not_reported(levels.len(), cells, reason)
            }
        };
        out.push_estimate(&group.key, estimate);
    }
    if unstable {
        eprintln!("warning: more than 10 quantiles; small values can make the SII unstable (as phe_sii warns)");
    }
    out.write(args.table.output.as_deref())
}

fn pair<'a>(table: &'a Table, lower: &str, upper: &str) -> Option<(Column<'a>, Column<'a>)> {
    table.optional_column(lower).zip(table.optional_column(upper))
}

fn list(columns: &[String]) -> String {
    columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

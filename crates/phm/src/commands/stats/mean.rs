//! `phm stats mean`: `phe_mean` (Student's t limits) from raw values, or from summaries
//! (`value_sum`, `value_count`, `stdev`, the columns `phe_mean` reports) pooled per group.

use phm_stats::mean::{Mean, NotReported, mean, mean_from_summary};

use super::output::{Csv, Estimate, levels, num};
use super::table::{Kind, Table};
use super::{grouping, missing};
use crate::cli::stats::MeanArgs;

pub fn run(args: &MeanArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let table = Table::read(&args.table.input)?;
    let summaries = ["value_sum", "value_count", "stdev"];
    let has_summaries = summaries.iter().all(|c| table.optional_column(c).is_some());
    let (keys, outcomes) = if table.optional_column("value").is_none() && has_summaries {
        from_summaries(&table, &args.table.group_by)?
    } else {
        from_values(&table, &args.table.group_by)?
    };

    let mut out = Csv::for_estimates(&keys, &levels, &summaries);
    for (key, outcome) in outcomes {
        let estimate = match outcome {
            Ok(m) => Estimate::reported(
                m.value(),
                levels.iter().map(|l| m.limits(l.level)),
                vec![num(m.sum()), num(m.count()), num(m.standard_deviation())],
            ),
            Err((count, reason)) => Estimate::not_reported(
                levels.len(),
                vec![String::new(), count.map(num).unwrap_or_default(), String::new()],
                reason,
            ),
        };
        out.push_estimate(&key, estimate);
    }
    out.write(args.table.output.as_deref())
}

/// The key columns, and each group's key and outcome.
type Outcomes = (Vec<String>, Vec<(Vec<String>, Outcome)>);

/// A group's mean, or why there is none (with the number of values when known).
type Outcome = Result<Mean, (Option<f64>, String)>;

/// One value per row: one mean per group (of the whole input without `--group-by`).
fn from_values(table: &Table, group_by: &[String]) -> anyhow::Result<Outcomes> {
    let value = table
        .column("value")
        .map_err(|e| e.context("give a value column (one row per value), or value_sum, value_count and stdev"))?;
    let (keys, groups) = grouping(table, group_by, None)?;
    let mut outcomes = Vec::new();
    for group in groups {
        let mut values = Vec::with_capacity(group.rows.len());
        let mut reason = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            match table.number(row, value, Kind::Number)? {
                Some(v) => values.push(v),
                None => reason = reason.or_else(|| Some(missing(row, value))),
            }
        }
        let count = Some(group.rows.len() as f64);
        let outcome = match reason {
            Some(reason) => Err((count, reason)),
            None => mean(&values).map_err(|why| (count, why.to_string())),
        };
        outcomes.push((group.key, outcome));
    }
    Ok((keys, outcomes))
}

/// Summaries (sum, count and sample standard deviation) per row: one mean per row, or per group
/// of rows pooled exactly (Chan, Golub and LeVeque's update of the sum of squared deviations:
/// `M = M_a + M_b + δ² n_a n_b / n`, with `M = s² (n − 1)` and δ the difference of the means).
fn from_summaries(table: &Table, group_by: &[String]) -> anyhow::Result<Outcomes> {
    let sum = table.column("value_sum")?;
    let count = table.column("value_count")?;
    let stdev = table.column("stdev")?;
    let (keys, groups) = grouping(table, group_by, Some(&["value_sum", "value_count", "stdev"]))?;
    let mut outcomes = Vec::new();
    for group in groups {
        // Pooled count, mean and sum of squared deviations.
        let (mut n, mut total_sum, mut centre, mut squares) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        let mut reason = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            let (Some(s), Some(k)) = (table.number(row, sum, Kind::Number)?, table.number(row, count, Kind::Count)?)
            else {
                let column = if table.number(row, sum, Kind::Number)?.is_none() { sum } else { count };
                reason = reason.or_else(|| Some(missing(row, column)));
                continue;
            };
            if k == 0.0 {
                continue;
            }
            // The standard deviation of a single value is undefined (R gives NA): it adds nothing.
            let sd = match table.number(row, stdev, Kind::NonNegative)? {
                Some(sd) => sd,
                None if k == 1.0 => 0.0,
                None => {
                    reason = reason.or_else(|| Some(missing(row, stdev)));
                    continue;
                }
            };
            let (m, part_mean) = (sd * sd * (k - 1.0), s / k);
            let total = n + k;
            let delta = part_mean - centre;
            squares += m + delta * delta * n * k / total;
            centre += delta * k / total;
            n = total;
            total_sum += s;
        }
        let outcome = match reason {
            Some(reason) => Err((None, reason)),
            None if n < 2.0 => Err((Some(n), NotReported::TooFewValues { count: n }.to_string())),
            None => {
                mean_from_summary(total_sum, n, (squares / (n - 1.0)).sqrt()).map_err(|why| (Some(n), why.to_string()))
            }
        };
        outcomes.push((group.key, outcome));
    }
    Ok((keys, outcomes))
}

//! `phm stats proportion`: `phe_proportion` (Wilson score limits) per row or per group.

use phm_stats::proportion::proportion;

use super::output::{Csv, Estimate, levels, num};
use super::table::{Kind, Table};
use super::{grouping, multiplier, sum_pair};
use crate::cli::stats::ProportionArgs;

pub fn run(args: &ProportionArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let multiplier = multiplier(args.multiplier)?;
    let table = Table::read(&args.table.input)?;
    let numerator = table.column("numerator")?;
    let denominator = table.column("denominator")?;
    // As phe_proportion: one result per row, or per group of summed rows.
    let (keys, groups) = grouping(&table, &args.table.group_by, Some(&["numerator", "denominator"]))?;

    let mut out = Csv::for_estimates(&keys, &levels, &["numerator", "denominator"]);
    for group in &groups {
        // A numerator counts members of its denominator; phe_proportion stops on one that is
        // larger, and so does this, naming the row.
        let sums = sum_pair(&table, group, (numerator, Kind::Count), (denominator, Kind::Count), |row, x, n| {
            if x > n {
                return Err(table.bad_row(row, &format!("the numerator ({x}) is greater than the denominator ({n}); a proportion's numerator counts members of its denominator")));
            }
            Ok(())
        })?;
        let estimate = match sums {
            Err(reason) => Estimate::not_reported(levels.len(), vec![String::new(); 2], reason),
            Ok((x, n)) => match proportion(x, n, multiplier) {
                Ok(p) => Estimate::reported(p.value(), levels.iter().map(|l| p.limits(l.level)), vec![num(x), num(n)]),
                Err(reason) => Estimate::not_reported(levels.len(), vec![num(x), num(n)], reason),
            },
        };
        out.push_estimate(&group.key, estimate);
    }
    out.write(args.table.output.as_deref())
}

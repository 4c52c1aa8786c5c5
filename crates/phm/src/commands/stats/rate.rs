//! `phm stats rate`: `phe_rate` (exact Poisson limits below 10 events, Byar's from 10) per row
//! or per group.

use phm_stats::poisson::PoissonMethod;
use phm_stats::rate::rate;

use super::output::{Csv, Estimate, levels, num};
use super::table::{Kind, Table};
use super::{grouping, multiplier, sum_pair};
use crate::cli::stats::RateArgs;

pub fn run(args: &RateArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let multiplier = multiplier(args.multiplier)?;
    let table = Table::read(&args.table.input)?;
    let numerator = table.column("numerator")?;
    let denominator = table.column("denominator")?;
    // As phe_rate: one result per row, or per group of summed rows.
    let (keys, groups) = grouping(&table, &args.table.group_by, Some(&["numerator", "denominator"]))?;

    let mut out = Csv::for_estimates(&keys, &levels, &["numerator", "denominator", "method"]);
    for group in &groups {
        // Events are counted (whole numbers); the denominator may be person-years.
        let sums =
            sum_pair(&table, group, (numerator, Kind::Count), (denominator, Kind::NonNegative), |_, _, _| Ok(()))?;
        let estimate = match sums {
            Err(reason) => Estimate::not_reported(levels.len(), vec![String::new(); 3], reason),
            Ok((x, n)) => match rate(x, n, multiplier) {
                Ok(r) => Estimate::reported(
                    r.value(),
                    levels.iter().map(|l| r.limits(l.level)),
                    vec![num(x), num(n), method_name(r.method()).to_owned()],
                ),
                Err(reason) => Estimate::not_reported(levels.len(), vec![num(x), num(n), String::new()], reason),
            },
        };
        out.push_estimate(&group.key, estimate);
    }
    out.write(args.table.output.as_deref())
}

/// The name of the Poisson limits in the output's `method` column.
pub fn method_name(method: PoissonMethod) -> &'static str {
    match method {
        PoissonMethod::Exact => "exact",
        PoissonMethod::Byar => "byar",
    }
}

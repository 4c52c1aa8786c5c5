//! `phm stats funnel`: funnel plots as `assign_funnel_significance` (where each area falls) and
//! `calculate_funnel_limits` (the control limits to draw), one funnel per group.

use std::num::NonZeroU32;

use anyhow::bail;
use phm_stats::funnel::{
    FunnelChart, FunnelPoint, NotReported, ProportionFunnel, ProportionPoint, RateFunnel, RatePoint, RateType,
    RatioFunnel, RatioPoint, RatioScale,
};

use super::output::{Csv, num, opt};
use super::table::{Kind, Table};
use super::{missing, multiplier};
use crate::cli::stats::{FunnelArgs, FunnelRateType, FunnelRatioType, FunnelStatistic};

/// A funnel, once its areas are read.
enum Funnel {
    Proportion(ProportionFunnel),
    Ratio(RatioFunnel, RatioScale),
    Rate(RateFunnel),
}

pub fn run(args: &FunnelArgs) -> anyhow::Result<()> {
    let per = match (args.statistic, args.multiplier) {
        (FunnelStatistic::Ratio, Some(_)) => {
            bail!("--multiplier does not apply to ratios: choose how they are shown with --ratio-type")
        }
        (FunnelStatistic::Ratio, None) => None,
        (FunnelStatistic::Proportion, m) => Some(multiplier(m.unwrap_or(100.0))?),
        (FunnelStatistic::Rate, m) => Some(multiplier(m.unwrap_or(100_000.0))?),
    };
    let Some(years) = NonZeroU32::new(args.years_of_data) else {
        bail!("--years-of-data: expected a whole number of years above 0, found 0")
    };
    let scale = match args.ratio_type {
        FunnelRatioType::Ratio => RatioScale::Ratio,
        FunnelRatioType::Isr => RatioScale::Percent,
        FunnelRatioType::Count => RatioScale::RelativeExcess,
    };
    let rate_type = match args.rate_type {
        FunnelRateType::Crude => RateType::Crude,
        FunnelRateType::Dsr => RateType::Dsr,
    };

    let table = Table::read(&args.table.input)?;
    let numerator = table.column("numerator")?;
    let (denominator, rate) = match args.statistic {
        FunnelStatistic::Proportion | FunnelStatistic::Ratio => (Some(table.column("denominator")?), None),
        FunnelStatistic::Rate => (table.optional_column("denominator"), Some(table.column("rate")?)),
    };
    let used: Vec<&str> = [Some(numerator), denominator, rate].into_iter().flatten().map(|c| c.name).collect();
    // Each area (row) is keyed by the columns the method does not read; each group is a funnel.
    let (keys, areas) = table.row_groups(&used);
    let funnels = table.groups(&args.table.group_by)?;

    let mut header = keys.clone();
    header.extend(used.iter().map(|c| (*c).to_owned()));
    header.extend(["value", "baseline", "significance", "reason"].map(String::from));
    let mut out = Csv::new(header);
    let x = match args.statistic {
        FunnelStatistic::Proportion => "population",
        FunnelStatistic::Ratio => "observed",
        FunnelStatistic::Rate => "events",
    };
    let mut header = args.table.group_by.clone();
    header.extend([x, "baseline"].map(String::from));
    for limit in ["lower_95", "upper_95", "lower_99_8", "upper_99_8"] {
        header.push(limit.to_owned());
        header.push(format!("{limit}_denominator"));
    }
    header.push("reason".to_owned());
    let mut chart = Csv::new(header);

    for group in &funnels {
        // The areas' numbers as given, for the output, and as the method takes them.
        let mut cells: Vec<Vec<Option<f64>>> = Vec::new();
        let mut reason = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            let x = table.number(row, numerator, Kind::NonNegative)?;
            let n = denominator.map(|c| table.number(row, c, Kind::NonNegative)).transpose()?.flatten();
            let rate_value = rate.map(|c| table.number(row, c, Kind::NonNegative)).transpose()?.flatten();
            if x.is_none() {
                reason = reason.or_else(|| Some(missing(row, numerator)));
            }
            if let (Some(column), None, FunnelStatistic::Proportion | FunnelStatistic::Ratio) =
                (denominator, n, args.statistic)
            {
                reason = reason.or_else(|| Some(missing(row, column)));
            }
            let mut row_cells = vec![x];
            if denominator.is_some() {
                row_cells.push(n);
            }
            if rate.is_some() {
                row_cells.push(rate_value);
            }
            cells.push(row_cells);
        }
        let numbers = |i: usize| (cells[i][0].unwrap_or(0.0), cells[i].get(1).copied().flatten().unwrap_or(0.0));
        let built = match reason {
            Some(reason) => Err(reason),
            None => {
                let rows = 0..group.rows.len();
                let result = match args.statistic {
                    FunnelStatistic::Proportion => {
                        let points: Vec<_> = rows
                            .map(&numbers)
                            .map(|(numerator, denominator)| ProportionPoint { numerator, denominator })
                            .collect();
                        ProportionFunnel::new(&points, per.unwrap_or(phm_stats::Multiplier::PERCENT))
                            .map(Funnel::Proportion)
                    }
                    FunnelStatistic::Ratio => {
                        let points: Vec<_> =
                            rows.map(numbers).map(|(observed, expected)| RatioPoint { observed, expected }).collect();
                        RatioFunnel::new(&points).map(|f| Funnel::Ratio(f, scale))
                    }
                    FunnelStatistic::Rate => {
                        let points: Vec<_> = rows
                            .map(|i| RatePoint {
                                events: cells[i][0].unwrap_or(0.0),
                                denominator: if denominator.is_some() { cells[i][1] } else { None },
                                rate: *cells[i].last().unwrap_or(&None),
                            })
                            .collect();
                        RateFunnel::new(&points, rate_type, per.unwrap_or(phm_stats::Multiplier::PER_100_000))
                            .map(Funnel::Rate)
                    }
                };
                result.map_err(|why| explain(why, &table, &group.rows))
            }
        };

        match built {
            Err(reason) => {
                for (i, &r) in group.rows.iter().enumerate() {
                    let mut row = areas[r].key.clone();
                    row.extend(cells[i].iter().map(|c| opt(*c)));
                    row.extend([String::new(), String::new(), String::new(), reason.clone()]);
                    out.push(row);
                }
                let mut row = group.key.clone();
                row.extend(std::iter::repeat_n(String::new(), 10));
                row.push(reason);
                chart.push(row);
            }
            Ok(funnel) => {
                let (baseline, significance, drawn) = match &funnel {
                    Funnel::Proportion(f) => (f.baseline(), f.significance(), f.chart()),
                    Funnel::Ratio(f, scale) => {
                        let drawn = f.chart(*scale);
                        (drawn.baseline, f.significance(), drawn)
                    }
                    Funnel::Rate(f) => (f.baseline(), f.significance(), f.chart(years)),
                };
                for (i, &r) in group.rows.iter().enumerate() {
                    let mut row = areas[r].key.clone();
                    row.extend(cells[i].iter().map(|c| opt(*c)));
                    let value = area_value(&funnel, &cells[i], per.map_or(1.0, |m| m.value()));
                    row.extend([opt(value), num(baseline), significance[i].to_string(), String::new()]);
                    out.push(row);
                }
                write_chart(&mut chart, &group.key, &drawn);
            }
        }
    }
    out.write(args.table.output.as_deref())?;
    match &args.chart_output {
        Some(path) => chart.write(Some(path)),
        None => Ok(()),
    }
}

/// An area's value as the funnel plots it.
fn area_value(funnel: &Funnel, cells: &[Option<f64>], multiplier: f64) -> Option<f64> {
    let x = cells[0]?;
    match funnel {
        Funnel::Proportion(_) => Some(x / cells[1]? * multiplier),
        Funnel::Ratio(_, scale) => {
            let ratio = x / cells[1]?;
            Some(match scale {
                RatioScale::Ratio => ratio,
                RatioScale::Percent => ratio * 100.0,
                RatioScale::RelativeExcess => ratio - 1.0,
            })
        }
        // The rate as given; a crude rate may be left out where the population is given.
        Funnel::Rate(_) => (*cells.last()?)
            .or_else(|| cells.get(1).copied().flatten().filter(|n| *n > 0.0).map(|n| x / n * multiplier)),
    }
}

fn write_chart(chart: &mut Csv, key: &[String], drawn: &FunnelChart) {
    for r in &drawn.rows {
        let mut row = key.to_vec();
        row.extend([num(r.at), num(drawn.baseline)]);
        for p in [r.lower_95, r.upper_95, r.lower_99_8, r.upper_99_8] {
            let FunnelPoint { limit, denominator } = p;
            row.extend([num(limit), num(denominator)]);
        }
        row.push(String::new());
        chart.push(row);
    }
}

/// The reason a funnel is not drawn, naming an area by its line.
fn explain(why: NotReported, table: &Table, rows: &[usize]) -> String {
    match why {
        NotReported::InvalidPoint { point, problem } => match rows.get(point) {
            Some(&r) => format!("line {}: {problem}; every area is needed for the average", table.rows()[r].line),
            None => why.to_string(),
        },
        NotReported::NoPoints | NotReported::NoEvents => why.to_string(),
    }
}

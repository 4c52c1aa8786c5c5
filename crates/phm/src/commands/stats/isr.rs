//! `phm stats isr`: `calculate_ISRatio` / `calculate_ISRate`, from observed and expected counts
//! or from age-specific local counts and reference counts.

use anyhow::bail;
use phm_stats::Multiplier;
use phm_stats::isr::{IndirectlyStandardised, NotReported, ReferenceBand, from_bands, from_expected};

use super::output::{Csv, Estimate, Level, levels, num};
use super::rate::method_name;
use super::table::{Group, Kind, Table};
use super::{grouping, missing, multiplier, sum_pair};
use crate::cli::stats::IsrArgs;

/// The key columns, and each group's key and outcome.
type Outcomes = (Vec<String>, Vec<(Vec<String>, Outcome)>);

/// A group's result: the observed and expected counts, or why there is no result (with the
/// observed count when it is known).
type Outcome = Result<IndirectlyStandardised, (Option<f64>, String)>;

pub fn run(args: &IsrArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let scale = multiplier(args.multiplier)?;
    let rate_per = args
        .rate
        .map(|r| Multiplier::new(r).map_err(|_| anyhow::anyhow!("--rate: expected a number greater than 0, found {r}")))
        .transpose()?;
    let table = Table::read(&args.table.input)?;

    let given = table.optional_column("observed").is_some() && table.optional_column("expected").is_some();
    let (keys, outcomes) = if given {
        if rate_per.is_some() {
            bail!(
                "--rate needs the age-specific columns numerator, denominator, x_ref and n_ref: with observed and expected given there is no reference rate"
            );
        }
        from_observed_and_expected(&table, &args.table.group_by)?
    } else {
        from_age_bands(&table, &args.table.group_by)?
    };

    let mut columns = vec!["observed", "expected"];
    if rate_per.is_some() {
        columns.push("reference_rate");
    }
    columns.push("method");
    let mut out = Csv::for_estimates(&keys, &levels, &columns);
    for (key, outcome) in outcomes {
        let estimate = match outcome {
            Ok(isr) => reported(&isr, &levels, scale, rate_per),
            Err((observed, reason)) => {
                let mut cells = vec![observed.map(num).unwrap_or_default()];
                cells.resize(columns.len(), String::new());
                Estimate::not_reported(levels.len(), cells, reason)
            }
        };
        out.push_estimate(&key, estimate);
    }
    out.write(args.table.output.as_deref())
}

/// Observed and expected counts given: one result per row, or per group of summed rows.
fn from_observed_and_expected(table: &Table, group_by: &[String]) -> anyhow::Result<Outcomes> {
    let observed = table.column("observed")?;
    let expected = table.column("expected")?;
    let (keys, groups) = grouping(table, group_by, Some(&["observed", "expected"]))?;
    let mut outcomes = Vec::new();
    for group in groups {
        let outcome =
            match sum_pair(table, &group, (observed, Kind::Count), (expected, Kind::NonNegative), |_, _, _| Ok(()))? {
                Err(reason) => Err((None, reason)),
                Ok((o, e)) => from_expected(o, e).map_err(|why| (Some(o), why.to_string())),
            };
        outcomes.push((group.key, outcome));
    }
    Ok((keys, outcomes))
}

/// Local counts and populations with the reference counts and populations, one row per age
/// band: one result per group (the whole input without `--group-by`), as calculate_ISRatio.
fn from_age_bands(table: &Table, group_by: &[String]) -> anyhow::Result<Outcomes> {
    let hint = "give observed and expected columns, or numerator, denominator, x_ref and n_ref per age band";
    let numerator = table.column("numerator").map_err(|e| e.context(hint))?;
    let denominator = table.column("denominator").map_err(|e| e.context(hint))?;
    let x_ref = table.column("x_ref").map_err(|e| e.context(hint))?;
    let n_ref = table.column("n_ref").map_err(|e| e.context(hint))?;
    let (keys, groups) = grouping(table, group_by, None)?;
    let mut outcomes = Vec::new();
    for group in groups {
        let mut observed = 0.0;
        let mut bands = Vec::new();
        let mut reason = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            // As calculate_ISRatio: missing local counts, populations and reference events count
            // as 0 (R's na.rm and na.zero); the reference population must be there.
            observed += table.number(row, numerator, Kind::Count)?.unwrap_or(0.0);
            let population = table.number(row, denominator, Kind::NonNegative)?.unwrap_or(0.0);
            let reference_events = table.number(row, x_ref, Kind::NonNegative)?.unwrap_or(0.0);
            match table.number(row, n_ref, Kind::NonNegative)? {
                Some(reference_population) => {
                    bands.push(ReferenceBand { population, reference_events, reference_population })
                }
                None => reason = reason.or_else(|| Some(missing(row, n_ref))),
            }
        }
        let outcome = match reason {
            Some(reason) => Err((Some(observed), reason)),
            None => from_bands(observed, &bands).map_err(|why| (Some(observed), explain(why, table, &group))),
        };
        outcomes.push((group.key, outcome));
    }
    Ok((keys, outcomes))
}

/// The ratio (× `scale`) or, with `--rate`, the rate, with the method's columns.
fn reported(
    isr: &IndirectlyStandardised,
    levels: &[Level],
    scale: Multiplier,
    rate_per: Option<Multiplier>,
) -> Estimate {
    let mut columns = vec![num(isr.observed()), num(isr.expected())];
    let estimates: Vec<_> = match rate_per {
        Some(per) => {
            columns.push(isr.reference_rate().map(|r| num(r * per.value())).unwrap_or_default());
            levels.iter().filter_map(|l| isr.rate(l.level, per)).collect()
        }
        None => levels.iter().map(|l| isr.ratio(l.level, scale)).collect(),
    };
    columns.push(method_name(isr.method()).to_owned());
    match estimates.first() {
        Some(first) => Estimate::reported(first.value, estimates.iter().map(|e| e.limits()), columns),
        // Only a rate without a reference rate has no estimate, and --rate is refused without one.
        None => Estimate::not_reported(levels.len(), columns, "there is no reference rate"),
    }
}

/// The reason an ISR is not reported, naming a band by the line of its row.
fn explain(why: NotReported, table: &Table, group: &Group) -> String {
    let line = |band: usize| group.rows.get(band).map_or(0, |&r| table.rows()[r].line);
    match why {
        NotReported::NegativePopulation { band } => {
            format!("the age band on line {} has a negative population", line(band))
        }
        NotReported::NegativeReferenceEvents { band } => {
            format!("the age band on line {} has negative reference events", line(band))
        }
        NotReported::NonPositiveReferencePopulation { band } => {
            format!("the age band on line {} has a reference population (n_ref) of zero", line(band))
        }
        NotReported::NonFiniteInput
        | NotReported::NegativeObserved { .. }
        | NotReported::NoBands
        | NotReported::NoExpectedEvents { .. } => why.to_string(),
    }
}

//! `phm stats spc`: Making Data Count XmR charts, one per group (series), with a row per point
//! and, with `--series-output`, a row per series with its variation and assurance icons. An
//! empty or `NA` value is a gap: its row has no value, the moving ranges next to it are left
//! out and no run or trend crosses it (`phm_stats::spc`, "Gaps").

use anyhow::{Context, bail};
use phm_stats::spc::{Assurance, NoLimits, NotReported, Polarity, SpcOptions, XmrChart, xmr};

use super::output::{Csv, num};
use super::table::{Column, Group, Kind, Table};
use super::{describe, grouping};
use crate::cli::stats::{self, SpcArgs};

pub fn run(args: &SpcArgs) -> anyhow::Result<()> {
    let table = Table::read(&args.table.input)?;
    let period = table.column("period")?;
    let value = table.column("value")?;
    // A series' polarity and target: its rows' `polarity` and `target` columns if the input has
    // them (the same on every row of the series), else --polarity and --target.
    let polarity_column = table.optional_column("polarity");
    let target_column = table.optional_column("target");
    let (keys, groups) = grouping(&table, &args.table.group_by, None)?;

    let mut header = keys.clone();
    header.extend(
        [
            "period",
            "value",
            "mean",
            "lower_process_limit",
            "upper_process_limit",
            "special_cause",
            "rules",
            "variation",
            "reason",
        ]
        .map(String::from),
    );
    let mut points = Csv::new(header);
    let mut header = keys.clone();
    header.extend(
        [
            "points",
            "mean",
            "lower_process_limit",
            "upper_process_limit",
            "target",
            "variation_icon",
            "assurance_icon",
            "notes",
            "reason",
        ]
        .map(String::from),
    );
    let mut series = Csv::new(header);

    for group in &groups {
        // The series in input order: its periods (each once) and values (a missing value is a
        // gap, which the method reports).
        let mut periods: Vec<(String, u64)> = Vec::new();
        let mut values = Vec::new();
        for &r in &group.rows {
            let row = &table.rows()[r];
            let label = table.text(row, period);
            if label.is_empty() {
                return Err(table.bad_cell(
                    row,
                    period,
                    "a period (a date, month or other label, in time order)",
                    label,
                ));
            }
            if let Some((_, line)) = periods.iter().find(|(p, _)| p == label) {
                bail!(
                    "{} line {}: period {label} of {} is already on line {line}",
                    table.name(),
                    row.line,
                    describe(&args.table.group_by, group)
                );
            }
            periods.push((label.to_owned(), row.line));
            values.push(table.number(row, value, Kind::Number)?);
        }
        let (polarity, target) = series_settings(&table, group, polarity_column, target_column, args)?;
        let mut options = SpcOptions::new(polarity)
            .shift_run(args.run)
            .context("--run")?
            .trend_run(args.run)
            .context("--run")?
            .screen_outliers(args.screen_outliers);
        if let Some(target) = target {
            options = options.target(target).context("--target")?;
        }
        if let Some(points) = args.baseline {
            options = options.baseline(points).context("--baseline")?;
        }
        let mut positions = Vec::new();
        for label in &args.recalculate_at {
            match periods.iter().position(|(p, _)| p == label) {
                Some(position) => positions.push(position),
                None => bail!("--recalculate-at: {} has no period {label}", describe(&args.table.group_by, group)),
            }
        }
        let options = options
            .recalculate_at(&positions)
            .context("--recalculate-at: give the periods in time order, after the first")?;

        match xmr(&values, &options) {
            Ok(chart) => {
                let mut period_of_point = chart.periods.iter().flat_map(|p| std::iter::repeat_n(p, p.end - p.start));
                for ((label, _), p) in periods.iter().zip(&chart.points) {
                    let no_limits = period_of_point.next().and_then(|period| period.limits.err());
                    let reason = match (p.value, no_limits) {
                        (None, _) => "no value (empty or NA): a gap in the series".to_owned(),
                        (Some(_), Some(why)) => explain_no_limits(why, &periods),
                        (Some(_), None) => String::new(),
                    };
                    let mut row = group.key.clone();
                    row.extend([
                        label.clone(),
                        p.value.map(num).unwrap_or_default(),
                        num(p.mean),
                        p.lower_limit.map(num).unwrap_or_default(),
                        p.upper_limit.map(num).unwrap_or_default(),
                        if p.value.is_some() { p.rules.any().to_string() } else { String::new() },
                        p.rules.names(),
                        p.variation.map(|v| v.kind().to_owned()).unwrap_or_default(),
                        reason,
                    ]);
                    points.push(row);
                }
                series.push(series_row(&group.key, &chart, target, &periods));
            }
            Err(why) => {
                let reason = explain(why, &periods);
                for ((label, _), v) in periods.iter().zip(&values) {
                    let mut row = group.key.clone();
                    row.extend([label.clone(), v.map(num).unwrap_or_default()]);
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    row.push(reason.clone());
                    points.push(row);
                }
                let mut row = group.key.clone();
                row.push(periods.len().to_string());
                row.extend(std::iter::repeat_n(String::new(), 7));
                row.push(reason);
                series.push(row);
            }
        }
    }
    points.write(args.table.output.as_deref())?;
    match &args.series_output {
        Some(path) => series.write(Some(path)),
        None => Ok(()),
    }
}

/// A series' polarity and target, from its rows or the command line.
fn series_settings(
    table: &Table,
    group: &Group,
    polarity: Option<Column<'_>>,
    target: Option<Column<'_>>,
    args: &SpcArgs,
) -> anyhow::Result<(Polarity, Option<f64>)> {
    let mut chosen = (from_flag(args.polarity), args.target);
    let mut first: Option<(u64, (Polarity, Option<f64>))> = None;
    for &r in &group.rows {
        let row = &table.rows()[r];
        let mut here = chosen;
        if let Some(column) = polarity {
            let text = table.text(row, column);
            here.0 = match text {
                "higher" => Polarity::HigherIsBetter,
                "lower" => Polarity::LowerIsBetter,
                "neither" => Polarity::Neither,
                _ => return Err(table.bad_cell(row, column, "higher, lower or neither", text)),
            };
        }
        if let Some(column) = target {
            here.1 = table.number(row, column, Kind::Number)?;
        }
        match first {
            None => first = Some((row.line, here)),
            Some((line, settings)) if settings != here => {
                bail!(
                    "{} line {}: the polarity or target differs from line {line} of the same series; give each series one of each",
                    table.name(),
                    row.line
                )
            }
            Some(_) => {}
        }
        chosen = here;
    }
    Ok(chosen)
}

fn from_flag(polarity: stats::Polarity) -> Polarity {
    match polarity {
        stats::Polarity::Higher => Polarity::HigherIsBetter,
        stats::Polarity::Lower => Polarity::LowerIsBetter,
        stats::Polarity::Neither => Polarity::Neither,
    }
}

/// A series' row: its latest period's mean and limits, and its icons. With no variation icon
/// (the latest point is a gap) or no limits, the reason says why.
fn series_row(key: &[String], chart: &XmrChart, target: Option<f64>, periods: &[(String, u64)]) -> Vec<String> {
    let mut row = key.to_vec();
    let latest = chart.periods.last();
    let mut reasons = Vec::new();
    if chart.variation.is_none() {
        reasons.push("the latest point has no value, so there is no variation icon".to_owned());
    }
    if let Some(why) = latest.and_then(|p| p.limits.err()) {
        reasons.push(explain_no_limits(why, periods));
    }
    row.extend([
        chart.points.len().to_string(),
        latest.map(|p| num(p.mean)).unwrap_or_default(),
        latest.and_then(|p| p.lower_limit()).map(num).unwrap_or_default(),
        latest.and_then(|p| p.upper_limit()).map(num).unwrap_or_default(),
        target.map(num).unwrap_or_default(),
        chart.variation.map(|v| v.icon().to_owned()).unwrap_or_default(),
        assurance_icon(chart.assurance).to_owned(),
        chart.notes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        reasons.join("; "),
    ]);
    row
}

/// The Making Data Count assurance icon.
fn assurance_icon(assurance: Assurance) -> &'static str {
    match assurance {
        Assurance::NotAssessed => "none",
        Assurance::ConsistentlyPass => "consistently_pass",
        Assurance::ConsistentlyFail => "consistently_fail",
        Assurance::HitAndMiss => "hit_and_miss",
    }
}

/// Why a series has no chart, naming periods and lines rather than positions.
fn explain(why: NotReported, periods: &[(String, u64)]) -> String {
    match why {
        NotReported::NonFiniteValue { position } => match periods.get(position) {
            Some((label, line)) => format!("line {line} (period {label}) is not a finite number"),
            None => why.to_string(),
        },
        NotReported::NoValue { period_start, points } => match periods.get(period_start) {
            Some((label, _)) => format!(
                "the period starting at {label} has no value in its {points} point(s) (all empty or NA), so not even a mean"
            ),
            None => "the series has no point".to_owned(),
        },
    }
}

/// Why a period has a mean but no process limits, naming periods rather than positions.
fn explain_no_limits(why: NoLimits, periods: &[(String, u64)]) -> String {
    match why {
        NoLimits::NoMovingRange { period_start, points } => format!(
            "no process limits: the period starting at {} has {points} value(s) and no two in consecutive periods, so no moving range",
            periods.get(period_start).map_or("the first point", |(label, _)| label.as_str())
        ),
    }
}

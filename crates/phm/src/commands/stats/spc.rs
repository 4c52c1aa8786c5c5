//! `phm stats spc`: Making Data Count XmR charts, one per group (series), with a row per point
//! and, with `--series-output`, a row per series with its variation and assurance icons.

use anyhow::{Context, bail};
use phm_stats::spc::{Assurance, NotReported, Polarity, SpcOptions, XmrChart, xmr};

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
    header.extend(["period", "value", "mean", "lower_process_limit", "upper_process_limit", "special_cause", "rules", "variation", "reason"].map(String::from));
    let mut points = Csv::new(header);
    let mut header = keys.clone();
    header.extend(["points", "mean", "lower_process_limit", "upper_process_limit", "target", "variation_icon", "assurance_icon", "notes", "reason"].map(String::from));
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
                return Err(table.bad_cell(row, period, "a period (a date, month or other label, in time order)", label));
            }
            if let Some((_, line)) = periods.iter().find(|(p, _)| p == label) {
                bail!("{} line {}: period {label} of {} is already on line {line}", table.name(), row.line, describe(&args.table.group_by, group));
            }
            periods.push((label.to_owned(), row.line));
            values.push(table.number(row, value, Kind::Number)?.unwrap_or(f64::NAN));
        }
        let (polarity, target) = series_settings(&table, group, polarity_column, target_column, args)?;
        let mut options = SpcOptions::new(polarity).shift_run(args.run).context("--run")?.trend_run(args.run).context("--run")?.screen_outliers(args.screen_outliers);
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
        let options = options.recalculate_at(&positions).context("--recalculate-at: give the periods in time order, after the first")?;

        match xmr(&values, &options) {
            Ok(chart) => {
                for ((label, _), p) in periods.iter().zip(&chart.points) {
                    let mut row = group.key.clone();
                    row.extend([
                        label.clone(),
                        num(p.value),
                        num(p.mean),
                        num(p.lower_limit),
                        num(p.upper_limit),
                        p.rules.any().to_string(),
                        p.rules.names(),
                        p.variation.kind().to_owned(),
                        String::new(),
                    ]);
                    points.push(row);
                }
                series.push(series_row(&group.key, &chart, target));
            }
            Err(why) => {
                let reason = explain(why, &periods);
                for ((label, _), v) in periods.iter().zip(&values) {
                    let mut row = group.key.clone();
                    row.extend([label.clone(), num(*v)]);
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
fn series_settings(table: &Table, group: &Group, polarity: Option<Column<'_>>, target: Option<Column<'_>>, args: &SpcArgs) -> anyhow::Result<(Polarity, Option<f64>)> {
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
                bail!("{} line {}: the polarity or target differs from line {line} of the same series; give each series one of each", table.name(), row.line)
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

/// A series' row: its latest period's mean and limits, and its icons.
fn series_row(key: &[String], chart: &XmrChart, target: Option<f64>) -> Vec<String> {
    let mut row = key.to_vec();
    let latest = chart.periods.last();
    row.extend([
        chart.points.len().to_string(),
        latest.map(|p| num(p.mean)).unwrap_or_default(),
        latest.map(|p| num(p.lower_limit)).unwrap_or_default(),
        latest.map(|p| num(p.upper_limit)).unwrap_or_default(),
        target.map(num).unwrap_or_default(),
        chart.variation.icon().to_owned(),
        assurance_icon(chart.assurance).to_owned(),
        chart.notes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        String::new(),
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
            Some((label, line)) => format!("line {line} (period {label}) has no value (empty or NA); a chart needs every point"),
            None => why.to_string(),
        },
        NotReported::TooFewPoints { period_start, points } => match periods.get(period_start) {
            Some((label, _)) => format!("the period starting at {label} has {points} point(s); process limits need at least 2"),
            None => format!("the series has {points} point(s); process limits need at least 2"),
        },
    }
}

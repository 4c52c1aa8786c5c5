//! `phm stats life-expectancy` (`phe_life_expectancy`: Chiang II, Silcocks' limits) and
//! `phm stats healthy-life-expectancy` (Sullivan's method on the same life table, Jagger et al.'s
//! standard error), per group of age-band rows.

use anyhow::bail;
use phm_stats::healthy_life_expectancy::{HealthBand, HealthyLifeExpectancyOptions, healthy_life_expectancy};
use phm_stats::life_expectancy::{AgeBand, AgeStructure, LifeExpectancyOptions, NotReported, life_expectancy};

use super::output::{Csv, Estimate, Level, levels, num};
use super::table::{Column, Group, Kind, Table};
use crate::cli::stats::LifeExpectancyArgs;

pub fn run(args: &LifeExpectancyArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let structure = structure(args)?;
    let table = Table::read(&args.table.input)?;
    let age = table.one_of(&["age_band", "start_age"])?;
    let columns = [table.column("deaths")?, table.column("population")?];
    let groups = table.groups(&args.table.group_by)?;

    let mut out = Csv::for_estimates(&keys_with(&args.table.group_by, age.name), &levels, &["standard_error"]);
    for group in &groups {
        let bands = Bands::read(&table, group, age, &columns)?;
        if bands.write_missing(&mut out, group, &levels, args, 1) {
            continue;
        }
        let input: Vec<AgeBand> = bands.values.iter().map(|(a, v)| AgeBand::new(*a, v[0], v[1])).collect();
        // One life table per level: the value and standard error do not depend on the level.
        let tables: Vec<_> = levels
            .iter()
            .map(|l| {
                life_expectancy(
                    &input,
                    &LifeExpectancyOptions { confidence: l.level, age_structure: structure.clone() },
                )
            })
            .collect();
        for (i, at_age) in tables[0].iter().enumerate() {
            if !wanted(args, at_age.start_age) {
                continue;
            }
            let standard_error = match at_age.result {
                Ok(e) => Some(e.standard_error),
                Err(NotReported::ConfidenceIntervalTooWide { standard_error, .. }) => Some(standard_error),
                Err(_) => None,
            };
            let estimate = Estimate {
                value: at_age.value(),
                limits: tables.iter().map(|t| t[i].limits()).collect(),
                columns: vec![standard_error.map(num).unwrap_or_default()],
                reason: at_age.result.err().map(|r| r.to_string()),
            };
            out.push_estimate(&key_with(&group.key, bands.label(at_age.start_age)), estimate);
        }
    }
    out.write(args.table.output.as_deref())
}

pub fn run_healthy(args: &LifeExpectancyArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let structure = structure(args)?;
    let table = Table::read(&args.table.input)?;
    let age = table.one_of(&["age_band", "start_age"])?;
    let columns =
        [table.column("deaths")?, table.column("population")?, table.column("healthy")?, table.column("surveyed")?];
    let groups = table.groups(&args.table.group_by)?;

    let mut out = Csv::for_estimates(
        &keys_with(&args.table.group_by, age.name),
        &levels,
        &["standard_error", "life_expectancy", "proportion_healthy"],
    );
    for group in &groups {
        let bands = Bands::read(&table, group, age, &columns)?;
        if bands.write_missing(&mut out, group, &levels, args, 3) {
            continue;
        }
        let input: Vec<HealthBand> =
            bands.values.iter().map(|(a, v)| HealthBand::new(*a, v[0], v[1], v[2], v[3])).collect();
        let tables: Vec<_> = levels
            .iter()
            .map(|l| {
                healthy_life_expectancy(
                    &input,
                    &HealthyLifeExpectancyOptions { confidence: l.level, age_structure: structure.clone() },
                )
            })
            .collect();
        for (i, at_age) in tables[0].iter().enumerate() {
            if !wanted(args, at_age.start_age) {
                continue;
            }
            let estimate = match at_age.result {
                Ok(e) => Estimate {
                    value: Some(e.value),
                    limits: tables.iter().map(|t| t[i].result.ok().map(|e| (e.lower, e.upper))).collect(),
                    columns: vec![num(e.standard_error), num(e.life_expectancy), num(e.proportion_healthy)],
                    reason: None,
                },
                Err(reason) => Estimate::not_reported(levels.len(), vec![String::new(); 3], reason),
            };
            out.push_estimate(&key_with(&group.key, bands.label(at_age.start_age)), estimate);
        }
    }
    out.write(args.table.output.as_deref())
}

/// `--age-structure` (default: ONS's 0, 1, 5, 10, …, 90), with `--ages` checked against it.
fn structure(args: &LifeExpectancyArgs) -> anyhow::Result<AgeStructure> {
    let structure = if args.age_structure.is_empty() {
        AgeStructure::standard()
    } else {
        AgeStructure::new(args.age_structure.clone()).map_err(|e| anyhow::anyhow!("--age-structure: {e}"))?
    };
    if let Some(age) = args.ages.iter().find(|a| !structure.start_ages().contains(a)) {
        let ages: Vec<String> = structure.start_ages().iter().map(u32::to_string).collect();
        bail!("--ages: {age} is not a start age of the age structure ({})", ages.join(","));
    }
    Ok(structure)
}

fn wanted(args: &LifeExpectancyArgs, start_age: u32) -> bool {
    args.ages.is_empty() || args.ages.contains(&start_age)
}

/// A group's age bands: each band's start age, its label as written, and the values of the
/// method's columns, or the reason the group cannot be computed (a missing cell).
struct Bands {
    /// `(start age, label)`, by start age.
    labels: Vec<(u32, String)>,
    /// `(start age, values)` in input order.
    values: Vec<(u32, Vec<f64>)>,
    missing: Option<String>,
}

impl Bands {
    fn read(table: &Table, group: &Group, age: Column<'_>, columns: &[Column<'_>]) -> anyhow::Result<Self> {
        let mut bands = Self { labels: Vec::new(), values: Vec::new(), missing: None };
        for &r in &group.rows {
            let row = &table.rows()[r];
            let label = table.text(row, age);
            let start_age = if age.name == "start_age" {
                label.parse::<u32>().map_err(|_| table.bad_cell(row, age, "a whole number of years ≥ 0", label))?
            } else {
                super::age_band(label)
                    .map(|(start, _)| start)
                    .ok_or_else(|| table.bad_cell(row, age, "an age band such as 0, 1-4, 5-9 or 90+", label))?
            };
            let mut values = Vec::with_capacity(columns.len());
            for &column in columns {
                match table.number(row, column, Kind::Number)? {
                    Some(x) => values.push(x),
                    None => bands.missing = bands.missing.take().or_else(|| Some(super::missing(row, column))),
                }
            }
            bands.values.push((start_age, values));
            if !bands.labels.iter().any(|(a, _)| *a == start_age) {
                bands.labels.push((start_age, label.to_owned()));
            }
        }
        bands.labels.sort_by_key(|(a, _)| *a);
        Ok(bands)
    }

    /// With a missing cell, writes a row with the reason for each wanted band (with `columns`
    /// empty method columns) and says so.
    fn write_missing(
        &self,
        out: &mut Csv,
        group: &Group,
        levels: &[Level],
        args: &LifeExpectancyArgs,
        columns: usize,
    ) -> bool {
        let Some(reason) = &self.missing else { return false };
        for (_, label) in self.labels.iter().filter(|(a, _)| wanted(args, *a)) {
            out.push_estimate(
                &key_with(&group.key, label),
                Estimate::not_reported(levels.len(), vec![String::new(); columns], reason),
            );
        }
        true
    }

    fn label(&self, start_age: u32) -> &str {
        self.labels.iter().find(|(a, _)| *a == start_age).map_or("", |(_, l)| l.as_str())
    }
}

fn keys_with(group_by: &[String], extra: &str) -> Vec<String> {
    let mut keys = group_by.to_vec();
    keys.push(extra.to_owned());
    keys
}

fn key_with(key: &[String], extra: &str) -> Vec<String> {
    let mut key = key.to_vec();
    key.push(extra.to_owned());
    key
}

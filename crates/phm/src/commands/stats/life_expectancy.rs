//! `phm stats life-expectancy`: `phe_life_expectancy` (Chiang II, Silcocks' limits) per group.

use anyhow::bail;
use phm_stats::life_expectancy::{AgeBand, AgeStructure, LifeExpectancyOptions, NotReported, life_expectancy};

use super::output::{Csv, Estimate, levels, num};
use super::table::{Kind, Table};
use crate::cli::stats::LifeExpectancyArgs;

pub fn run(args: &LifeExpectancyArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let structure = if args.age_structure.is_empty() {
        AgeStructure::standard()
    } else {
        AgeStructure::new(args.age_structure.clone()).map_err(|e| anyhow::anyhow!("--age-structure: {e}"))?
    };
    if let Some(age) = args.ages.iter().find(|a| !structure.start_ages().contains(a)) {
        bail!("--ages: {age} is not a start age of the age structure ({})", join(structure.start_ages()));
    }
    let table = Table::read(&args.table.input)?;
    let age = table.one_of(&["age_band", "start_age"])?;
    let deaths = table.column("deaths")?;
    let population = table.column("population")?;
    let groups = table.groups(&args.table.group_by)?;

    let mut out = Csv::for_estimates(&keys_with(&args.table.group_by, age.name), &levels, &["standard_error"]);
    for group in &groups {
        // Each band: its label as written, its start age, and its deaths and population (or the
        // reason the group cannot be computed: a missing cell).
        let mut bands = Vec::new();
        let mut labels: Vec<(u32, String)> = Vec::new();
        let mut missing = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            let label = table.text(row, age);
            let start_age = if age.name == "start_age" {
                label.parse::<u32>().map_err(|_| table.bad_cell(row, age, "a whole number of years ≥ 0", label))?
            } else {
                super::age_band(label).map(|(start, _)| start).ok_or_else(|| table.bad_cell(row, age, "an age band such as 0, 1-4, 5-9 or 90+", label))?
            };
            let d = table.number(row, deaths, Kind::Number)?;
            let p = table.number(row, population, Kind::Number)?;
            match (d, p) {
                (Some(d), Some(p)) => bands.push(AgeBand::new(start_age, d, p)),
                (None, _) => missing = missing.or_else(|| Some(super::missing(row, deaths))),
                (_, None) => missing = missing.or_else(|| Some(super::missing(row, population))),
            }
            if !labels.iter().any(|(a, _)| *a == start_age) {
                labels.push((start_age, label.to_owned()));
            }
        }
        labels.sort_by_key(|(a, _)| *a);
        let wanted = |a: u32| args.ages.is_empty() || args.ages.contains(&a);

        if let Some(reason) = missing {
            for (_, label) in labels.iter().filter(|(a, _)| wanted(*a)) {
                out.push_estimate(&key_with(&group.key, label), Estimate::not_reported(levels.len(), vec![String::new()], &reason));
            }
            continue;
        }

        // One life table per level: the value and standard error do not depend on the level.
        let tables: Vec<_> = levels
            .iter()
            .map(|l| life_expectancy(&bands, &LifeExpectancyOptions { confidence: l.level, age_structure: structure.clone() }))
            .collect();
        for (i, at_age) in tables[0].iter().enumerate() {
            if !wanted(at_age.start_age) {
                continue;
            }
            let label = labels.iter().find(|(a, _)| *a == at_age.start_age).map_or_else(|| at_age.start_age.to_string(), |(_, l)| l.clone());
            let standard_error = match at_age.result {
                Ok(e) => Some(e.standard_error),
                Err(NotReported::ConfidenceIntervalTooWide { standard_error, .. }) => Some(standard_error),
                Err(_) => None,
            };
            out.push_estimate(
                &key_with(&group.key, &label),
                Estimate {
                    value: at_age.value(),
                    limits: tables.iter().map(|t| t[i].limits()).collect(),
                    columns: vec![standard_error.map(num).unwrap_or_default()],
                    reason: at_age.result.err().map(|r| r.to_string()),
                },
            );
        }
    }
    out.write(args.table.output.as_deref())
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

fn join(ages: &[u32]) -> String {
    ages.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

//! `phm stats dsr`: `calculate_dsr` (Dobson's limits) per group, standardised to the
//! `standard_population` column or, without one, to ESP2013 from the reference data.

use anyhow::bail;
use phm_core::reference::{EspBand, ReferenceData};
use phm_stats::dsr::{DsrBand, EventFrequency, NotReported, RecurrentEventsBand, dsr, dsr_recurrent};

use super::output::{Csv, Estimate, levels, num};
use super::table::{Column, Kind, Row, Table};
use super::{age_band, describe, grouping, missing, multiplier};
use crate::cli::stats::DsrArgs;

/// One standardisation band of a group, gathered from its row (or, for non-independent events,
/// its rows, one per event frequency).
struct Band {
    label: String,
    line: u64,
    population: Option<f64>,
    standard: f64,
    /// Persons by event frequency; a single frequency of 1 for independent events.
    frequencies: Vec<EventFrequency>,
}

/// Where each band's standard population comes from.
enum Standard<'a> {
    /// The input's `standard_population` column.
    Column(Column<'a>),
    /// ESP2013 from the reference data, matched by age band.
    Esp2013(Vec<EspBand>),
}

pub fn run(args: &DsrArgs) -> anyhow::Result<()> {
    let levels = levels(&args.confidence.confidence)?;
    let multiplier = multiplier(args.multiplier)?;
    let table = Table::read(&args.table.input)?;
    let numerator = table.column("numerator")?;
    let denominator = table.column("denominator")?;
    let age = table.column("age_band")?;
    let frequency = table.optional_column("eventfreq");
    let standard = match table.optional_column("standard_population") {
        Some(column) => Standard::Column(column),
        None => Standard::Esp2013(ReferenceData::builtin()?.esp2013),
    };
    let (keys, groups) = grouping(&table, &args.table.group_by, None)?;

    let mut out = Csv::for_estimates(&keys, &levels, &["total_count", "total_pop"]);
    for group in &groups {
        let mut bands: Vec<Band> = Vec::new();
        let mut reason = None;
        for &r in &group.rows {
            let row = &table.rows()[r];
            let (label, weight) = match &standard {
                Standard::Column(column) => {
                    (table.text(row, age).to_owned(), table.required_number(row, *column, Kind::NonNegative)?)
                }
                Standard::Esp2013(esp) => {
                    esp_band(&table, row, age, esp).map(|b| (b.age_band.clone(), f64::from(b.standard_population)))?
                }
            };
            if label.is_empty() {
                return Err(table.bad_cell(row, age, "an age band", ""));
            }
            // As calculate_dsr: a missing count is no events (R's na.zero).
            let persons = table.number(row, numerator, Kind::Count)?.unwrap_or(0.0);
            let population = table.number(row, denominator, Kind::NonNegative)?;
            if population.is_none() {
                reason = reason.or_else(|| Some(missing(row, denominator)));
            }
            let times = match frequency {
                Some(column) => table.required_number(row, column, Kind::Count)?,
                None => 1.0,
            };
            let entry = EventFrequency { frequency: times, persons };
            match bands.iter_mut().find(|b| b.label == label) {
                None => {
                    bands.push(Band { label, line: row.line, population, standard: weight, frequencies: vec![entry] })
                }
                Some(band) if frequency.is_some() => {
                    if band.population != population || band.standard != weight {
                        bail!(
                            "{} line {}: age band {} of {} has another population or standard population than on line {}; with eventfreq, every row of a band repeats the band's",
                            table.name(),
                            row.line,
                            band.label,
                            describe(&args.table.group_by, group),
                            band.line
                        );
                    }
                    band.frequencies.push(entry);
                }
                Some(band) => bail!(
                    "{} line {}: age band {} of {} is already on line {}; give each band once (or an eventfreq column for events a person can have more than once)",
                    table.name(),
                    row.line,
                    band.label,
                    describe(&args.table.group_by, group),
                    band.line
                ),
            }
        }
        if let Standard::Esp2013(esp) = &standard
            && let Some(absent) = esp.iter().find(|e| !bands.iter().any(|b| b.label == e.age_band))
        {
            bail!(
                "{}: {} has no row for the ESP2013 age band {}; every band is needed (a numerator of 0 where there were no events)",
                table.name(),
                describe(&args.table.group_by, group),
                absent.age_band
            );
        }

        let total_count: f64 = bands.iter().flat_map(|b| &b.frequencies).map(|f| f.frequency * f.persons).sum();
        let total_population: f64 = bands.iter().filter_map(|b| b.population).sum();
        let columns = vec![num(total_count), if reason.is_some() { String::new() } else { num(total_population) }];
        if let Some(reason) = reason {
            out.push_estimate(&group.key, Estimate::not_reported(levels.len(), columns, reason));
            continue;
        }
        let result = if frequency.is_some() {
            let recurrent: Vec<RecurrentEventsBand<'_>> = bands
                .iter()
                .map(|b| RecurrentEventsBand {
                    persons_by_frequency: &b.frequencies,
                    population: b.population.unwrap_or(0.0),
                    standard_population: b.standard,
                })
                .collect();
            dsr_recurrent(&recurrent, multiplier)
        } else {
            let independent: Vec<DsrBand> = bands
                .iter()
                .map(|b| DsrBand {
                    events: b.frequencies[0].persons,
                    population: b.population.unwrap_or(0.0),
                    standard_population: b.standard,
                })
                .collect();
            dsr(&independent, multiplier)
        };
        let estimate = match result {
            Ok(d) => Estimate::reported(d.value(), levels.iter().map(|l| d.limits(l.level)), columns),
            Err(why) => Estimate::not_reported(levels.len(), columns, explain(why, &bands)),
        };
        out.push_estimate(&group.key, estimate);
    }
    out.write(args.table.output.as_deref())
}

/// The ESP2013 band a row's `age_band` names: the same first and last age (`0-4` and `00-04`
/// are the same band; `0-9` is none).
fn esp_band<'a>(table: &Table, row: &Row, age: Column<'_>, esp: &'a [EspBand]) -> anyhow::Result<&'a EspBand> {
    let label = table.text(row, age);
    let wanted = age_band(label);
    esp.iter().find(|e| wanted == Some((u32::from(e.start_age), e.end_age.map(u32::from)))).ok_or_else(|| {
        let names: Vec<&str> = esp.iter().map(|e| e.age_band.as_str()).collect();
        table.bad_cell(
            row,
            age,
            &format!("an ESP2013 age band ({}), or a standard_population column", names.join(", ")),
            label,
        )
    })
}

/// The reason a DSR is not reported, naming a band by its label rather than its position.
fn explain(why: NotReported, bands: &[Band]) -> String {
    let label = |band: usize| bands.get(band).map_or_else(|| band.to_string(), |b| b.label.clone());
    match why {
        NotReported::NonFiniteInput { band } => {
            format!("age band {} has a value that is not a finite number", label(band))
        }
        NotReported::NegativeEvents { band } => format!("age band {} has negative events", label(band)),
        NotReported::NonPositivePopulation { band } => format!("age band {} has a population of zero", label(band)),
        NotReported::NegativeStandardPopulation { band } => {
            format!("age band {} has a negative standard population", label(band))
        }
        NotReported::NoBands | NotReported::ZeroStandardPopulation | NotReported::TotalCountTooSmall { .. } => {
            why.to_string()
        }
    }
}

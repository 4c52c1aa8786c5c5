//! Reads a drop back *from its files* and measures what the calibration promised: population
//! structure by place, ethnic mix, condition prevalence and its gradients, immunisation
//! coverage and its gradient, life expectancy by place and by deprivation, activity rates.
//!
//! Everything here is computed from the partner files through `phm-formats` readers, never from
//! the generator's internal state, so it checks what a partner-facing consumer would see.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use phm_core::age::esp_band_index;
use phm_core::ethnicity::{EthnicCategory, EthnicGroup5};
use phm_core::reference::ReferenceData;
use phm_formats::fhir::{
    Condition as FhirCondition, Encounter, EpisodeOfCare, Immunization, NdjsonLines, Observation, Patient, Resource,
};
use phm_formats::manifest::Manifest;
use phm_stats::life_expectancy::{AgeBand, LifeExpectancyOptions, NotReported, life_expectancy};

use crate::calibration::Targets;
use crate::codes::Codes;
use crate::{Error, Result};

/// One line of the calibration report.
#[derive(Clone, Debug)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// For which group.
    pub group: String,
    /// The target, if one is set.
    pub target: Option<f64>,
    /// What was achieved in the files.
    pub achieved: f64,
    /// Allowed absolute difference from the target for the model itself; `None` for figures
    /// reported without a target.
    pub tolerance: Option<f64>,
    /// Standard error of the achieved figure from the drop's finite size, where it is known.
    /// A figure measured on few people may differ from its target by chance as well.
    pub standard_error: Option<f64>,
    /// Source of the target.
    pub source: String,
}

impl Row {
    /// Whether the achieved figure is within tolerance of the target, widened by 1.96 standard
    /// errors where the figure's sampling error is known.
    pub fn ok(&self) -> bool {
        self.target.is_none_or(|t| (self.achieved - t).abs() <= self.allowed())
    }

    /// The allowed absolute difference: the tolerance plus 1.96 standard errors.
    pub fn allowed(&self) -> f64 {
        self.tolerance.unwrap_or(f64::INFINITY) + 1.96 * self.standard_error.unwrap_or(0.0)
    }
}

#[derive(Default, Clone)]
struct PersonInfo {
    birth: Option<NaiveDate>,
    female: bool,
    ethnicity: Option<EthnicCategory>,
    area: Option<usize>,
    death: Option<NaiveDate>,
    registrations: Vec<(NaiveDate, Option<NaiveDate>)>,
    conditions: u32,
    mmr: Vec<(u32, NaiveDate)>,
    smoking: Option<(NaiveDate, u8)>,
}

fn parse_date(text: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text?.get(..10)?, "%Y-%m-%d").ok()
}

fn each<R: Resource>(path: &Path, mut f: impl FnMut(R)) -> Result<u64> {
    let file = File::open(path).map_err(|source| Error::Write { path: path.to_owned(), source })?;
    let mut bad = 0;
    for item in NdjsonLines::<R, _>::new(BufReader::with_capacity(1 << 20, file)) {
        match item.map_err(|source| Error::Write { path: path.to_owned(), source })? {
            Ok((_, resource)) => f(resource),
            Err(_) => bad += 1,
        }
    }
    Ok(bad)
}

/// Measures a drop. Also returns the number of records that failed to parse or validate.
///
/// The steps, in the order of the report's rows: read the GP extracts into one record per
/// person ([`read_gp_extracts`]), then population structure, condition prevalence, MMR
/// coverage, smoking, life expectancy, and hospital activity read from the acute trusts'
/// encounters.
pub fn check(drop: &Path) -> Result<(Vec<Row>, u64)> {
    let manifest = Manifest::read(&drop.join("manifest.json"))?;
    let extract = NaiveDate::parse_from_str(&manifest.extract_date, "%Y-%m-%d")
        .map_err(|_| Error::Config(format!("manifest extract_date `{}` is not a date", manifest.extract_date)))?;
    let reference = ReferenceData::builtin()?;
    let targets = Targets::builtin()?;
    let codes = Codes::builtin()?;
    let postcode_area = postcode_areas(drop, &reference)?;
    let lookup = CodeLookup::new(&codes);
    let (people, mut bad) = read_gp_extracts(drop, &reference, &postcode_area, &lookup, extract)?;
    let pop = Population::new(&people, &reference, extract);

    let mut rows = Vec::new();
    population_structure(&pop, &targets, &mut rows);
    condition_prevalence(&pop, &targets, &lookup.condition_keys, &mut rows);
    mmr_coverage(&pop, &targets, &mut rows);
    smoking(&pop, &targets, &mut rows);
    life_expectancy_by_place_and_deprivation(&pop, &targets, &mut rows);
    bad += hospital_activity(drop, &manifest, &pop, &targets, &mut rows)?;
    Ok((rows, bad))
}

/// Postcode → area index, from the drop's postcode lookup.
fn postcode_areas(drop: &Path, reference: &ReferenceData) -> Result<HashMap<String, usize>> {
    let area_index: HashMap<&str, usize> =
        reference.areas.iter().enumerate().map(|(i, a)| (a.area_code.as_str(), i)).collect();
    let mut postcode_area: HashMap<String, usize> = HashMap::new();
    let mut lookup =
        csv::Reader::from_path(drop.join("reference/postcode_lookup.csv")).map_err(phm_formats::Error::Csv)?;
    for row in lookup.records() {
        let row = row.map_err(phm_formats::Error::Csv)?;
        if let (Some(pc), Some(area)) = (row.get(0), row.get(1).and_then(|a| area_index.get(a))) {
            postcode_area.insert(pc.to_owned(), *area);
        }
    }
    Ok(postcode_area)
}

/// The codes the check looks for in the GP extracts.
struct CodeLookup<'c> {
    /// The model's condition keys; a condition's index is its bit in [`PersonInfo::conditions`].
    condition_keys: Vec<&'static str>,
    /// SNOMED code → condition index.
    code_condition: HashMap<String, usize>,
    /// Never, ex, current smoker (the position is the status).
    smoking_codes: [&'c str; 3],
    mmr_code: &'c str,
}

impl<'c> CodeLookup<'c> {
    fn new(codes: &'c Codes) -> Self {
        let condition_keys: Vec<&'static str> = crate::model::Condition::ALL.iter().map(|c| c.key()).collect();
        let mut code_condition: HashMap<String, usize> = HashMap::new();
        for code in codes.all() {
            let key = match code.concept.as_str() {
                "diabetes_type_1" | "diabetes_type_2" => "diabetes",
                "cancer_lung" | "cancer_prostate" | "cancer_colorectal" => "cancer",
                "smi_bipolar" => "smi",
                other => other,
            };
            if code.system == "snomed"
                && let Some(ci) = condition_keys.iter().position(|k| *k == key)
            {
                code_condition.insert(code.code.clone(), ci);
            }
        }
        let smoking_codes = [
            codes.get("smoking_never").code.as_str(),
            codes.get("smoking_ex").code.as_str(),
            codes.get("smoking_current").code.as_str(),
        ];
        Self { condition_keys, code_condition, smoking_codes, mmr_code: codes.get("mmr_vaccination").code.as_str() }
    }
}

/// People by NHS number, built from every practice's GP extract. Also returns the number of
/// records that failed to parse or validate.
fn read_gp_extracts(
    drop: &Path,
    reference: &ReferenceData,
    postcode_area: &HashMap<String, usize>,
    lookup: &CodeLookup<'_>,
    extract: NaiveDate,
) -> Result<(HashMap<String, PersonInfo>, u64)> {
    let mut people: HashMap<String, PersonInfo> = HashMap::new();
    let mut bad = 0;
    for practice in &reference.practices {
        let dir = drop.join("gp").join(&practice.practice_code);
        let mut local: HashMap<String, String> = HashMap::new();
        bad += each::<Patient>(&dir.join("Patient.ndjson"), |p| {
            let Some(nhs) = p.nhs_number().map(str::to_owned) else { return };
            if let Some(id) = &p.id {
                local.insert(id.clone(), nhs.clone());
            }
            let info = people.entry(nhs).or_default();
            info.birth = parse_date(p.birth_date.as_deref());
            info.female = p.gender.as_deref() == Some("female");
            info.ethnicity = p.ethnic_category().and_then(EthnicCategory::from_code);
            info.death = parse_date(p.deceased_date_time.as_deref());
            info.area =
                p.address.first().and_then(|a| a.postal_code.as_ref()).and_then(|pc| postcode_area.get(pc)).copied();
        })?;
        let person = |reference: Option<&phm_formats::fhir::Reference>| {
            reference.and_then(|r| r.id_of("Patient")).and_then(|id| local.get(id)).cloned()
        };
        bad += each::<EpisodeOfCare>(&dir.join("EpisodeOfCare.ndjson"), |e| {
            if let (Some(nhs), Some(period)) = (person(e.patient.as_ref()), &e.period)
                && let (Some(info), Some(start)) = (people.get_mut(&nhs), parse_date(period.start.as_deref()))
            {
                info.registrations.push((start, parse_date(period.end.as_deref())));
            }
        })?;
        bad += each::<FhirCondition>(&dir.join("Condition.ndjson"), |c| {
            let code = c.code.as_ref().and_then(|k| k.coding.first()).and_then(|k| k.code.as_deref());
            if let (Some(nhs), Some(ci)) = (person(c.subject.as_ref()), code.and_then(|k| lookup.code_condition.get(k)))
            {
                let date = parse_date(c.onset_date_time.as_deref());
                if let Some(info) = people.get_mut(&nhs)
                    && date.is_some_and(|d| d <= extract)
                {
                    info.conditions |= 1 << ci;
                }
            }
        })?;
        bad += each::<Immunization>(&dir.join("Immunization.ndjson"), |i| {
            if i.vaccination_procedure().and_then(|c| c.code.as_deref()) == Some(lookup.mmr_code)
                && let (Some(nhs), Some(date)) =
                    (person(i.patient.as_ref()), parse_date(i.occurrence_date_time.as_deref()))
            {
                let dose = i.protocol_applied.first().and_then(|p| p.dose_number_positive_int).unwrap_or(1);
                if let Some(info) = people.get_mut(&nhs) {
                    info.mmr.push((dose, date));
                }
            }
        })?;
        bad += each::<Observation>(&dir.join("Observation.ndjson"), |o| {
            let code = o.code.as_ref().and_then(|k| k.coding.first()).and_then(|k| k.code.as_deref());
            if let Some(status) = code.and_then(|k| lookup.smoking_codes.iter().position(|s| *s == k))
                && let (Some(nhs), Some(date)) =
                    (person(o.subject.as_ref()), parse_date(o.effective_date_time.as_deref()))
                && let Some(info) = people.get_mut(&nhs)
                && info.smoking.is_none_or(|(d, _)| date >= d)
            {
                info.smoking = Some((date, status as u8));
            }
        })?;
    }
    Ok((people, bad))
}

/// Everyone read from the GP extracts, those living and registered at the extract date, and
/// how each is grouped.
struct Population<'a> {
    people: &'a HashMap<String, PersonInfo>,
    /// Alive and registered at the extract date, with a known area.
    living: Vec<&'a PersonInfo>,
    reference: &'a ReferenceData,
    extract: NaiveDate,
}

impl<'a> Population<'a> {
    fn new(people: &'a HashMap<String, PersonInfo>, reference: &'a ReferenceData, extract: NaiveDate) -> Self {
        let alive = |p: &PersonInfo, on: NaiveDate| {
            p.death.is_none_or(|d| d > on) && p.registrations.iter().any(|(s, e)| *s <= on && e.is_none_or(|e| e >= on))
        };
        let living = people.values().filter(|p| alive(p, extract) && p.area.is_some()).collect();
        Self { people, living, reference, extract }
    }

    /// Age at the extract date (0 when the birth date is unknown).
    fn age(&self, p: &PersonInfo) -> i32 {
        p.birth.map_or(0, |b| phm_core::age::age_on(b, self.extract))
    }

    fn place_of(&self, p: &PersonInfo) -> usize {
        p.area.map_or(0, |a| {
            self.reference.places.iter().position(|pl| pl.place_code == self.reference.areas[a].place_code).unwrap_or(0)
        })
    }

    fn quintile_of(&self, p: &PersonInfo) -> u8 {
        p.area.map_or(3, |a| self.reference.areas[a].imd_quintile())
    }
}

/// Population structure by place: share of the ICS, age-sex pyramid, ethnic mix, Core20.
fn population_structure(pop: &Population<'_>, targets: &Targets, rows: &mut Vec<Row>) {
    let (reference, living) = (pop.reference, &pop.living);
    let total_registered: u32 = reference.places.iter().map(|p| p.registered_population).sum();
    for (pi, place) in reference.places.iter().enumerate() {
        let members: Vec<&&PersonInfo> = living.iter().filter(|p| pop.place_of(p) == pi).collect();
        let n = members.len().max(1) as f64;
        rows.push(Row {
            measure: "Share of ICS population, %".into(),
            group: place.place_name.clone(),
            target: Some(100.0 * f64::from(place.registered_population) / f64::from(total_registered)),
            achieved: 100.0 * members.len() as f64 / living.len().max(1) as f64,
            tolerance: Some(1.5),
            standard_error: None,
            source: place.registered_population_source.clone(),
        });
        let mut worst: f64 = 0.0;
        for sex in ["female", "male"] {
            for (band, label) in phm_core::age::ESP_BANDS.iter().enumerate() {
                let target = targets
                    .age_sex
                    .iter()
                    .find(|r| r.place_code == place.place_code && r.sex == sex && r.age_band == *label)
                    .map_or(0.0, |r| r.percent);
                let count = members
                    .iter()
                    .filter(|p| p.female == (sex == "female") && esp_band_index(pop.age(p)) == band)
                    .count();
                worst = worst.max((100.0 * count as f64 / n - target).abs());
            }
        }
        rows.push(Row {
            measure: "Age-sex pyramid: largest gap in any 5-year band, percentage points".into(),
            group: place.place_name.clone(),
            target: Some(0.0),
            achieved: worst,
            tolerance: Some(0.8),
            standard_error: None,
            source: targets.age_sex.first().map(|r| r.source.clone()).unwrap_or_default(),
        });
        for group in [EthnicGroup5::White, EthnicGroup5::Asian, EthnicGroup5::Black] {
            let target: f64 = targets
                .ethnicity
                .iter()
                .filter(|r| {
                    r.place_code == place.place_code
                        && EthnicCategory::from_code(&r.ethnic_category).is_some_and(|c| c.group5() == group)
                })
                .map(|r| r.percent)
                .sum();
            let known: Vec<_> = members.iter().filter(|p| p.ethnicity.is_some()).collect();
            let achieved = 100.0
                * known.iter().filter(|p| p.ethnicity.is_some_and(|c| c.group5() == group)).count() as f64
                / known.len().max(1) as f64;
            rows.push(Row {
                measure: format!("Ethnic group {}, % of those with ethnicity recorded", group.name()),
                group: place.place_name.clone(),
                target: Some(target),
                achieved,
                tolerance: Some(2.5),
                standard_error: None,
                source: targets.ethnicity.first().map(|r| r.source.clone()).unwrap_or_default(),
            });
        }
        let q1 = 100.0 * members.iter().filter(|p| pop.quintile_of(p) == 1).count() as f64 / n;
        rows.push(Row {
            measure: "Residents in England's most deprived quintile (Core20), %".into(),
            group: place.place_name.clone(),
            target: None,
            achieved: q1,
            tolerance: None,
            standard_error: None,
            source: "areas.csv deciles".into(),
        });
    }
}

/// Directly standardised prevalence (ESP 2013) of condition `ci` among the living of `group`
/// aged `min_age` and over, and the variance of its estimate, from the binomial variance of
/// each band's proportion.
fn standardised_prevalence(
    pop: &Population<'_>,
    esp: &[f64],
    group: &dyn Fn(&PersonInfo) -> bool,
    ci: usize,
    min_age: i32,
) -> (f64, f64) {
    let mut num = [0.0; 19];
    let mut den = [0.0; 19];
    for p in pop.living.iter().filter(|p| group(p) && pop.age(p) >= min_age) {
        let band = esp_band_index(pop.age(p));
        den[band] += 1.0;
        if p.conditions & (1 << ci) != 0 {
            num[band] += 1.0;
        }
    }
    let (mut rate, mut variance, mut weight) = (0.0, 0.0, 0.0);
    for b in 0..19 {
        if den[b] > 0.0 {
            let share = num[b] / den[b];
            rate += esp[b] * share;
            variance += esp[b] * esp[b] * share * (1.0 - share) / den[b];
            weight += esp[b];
        }
    }
    if weight > 0.0 { (rate / weight, variance / (weight * weight)) } else { (0.0, 0.0) }
}

/// The ratio of two standardised rates and its standard error (delta method on the log).
fn rate_ratio((a, var_a): (f64, f64), (b, var_b): (f64, f64)) -> (f64, f64) {
    let value = a / b.max(1e-12);
    let log_se = (var_a / (a * a).max(1e-24) + var_b / (b * b).max(1e-24)).sqrt();
    (value, value * log_se)
}

/// Conditions: crude prevalence and age-standardised gradients (deprivation; ethnicity for
/// diabetes).
fn condition_prevalence(pop: &Population<'_>, targets: &Targets, condition_keys: &[&str], rows: &mut Vec<Row>) {
    let esp: Vec<f64> = pop.reference.esp2013.iter().map(|b| f64::from(b.standard_population)).collect();
    let dsr = |group: &dyn Fn(&PersonInfo) -> bool, ci: usize, min_age: i32| {
        standardised_prevalence(pop, &esp, group, ci, min_age)
    };
    for (ci, key) in condition_keys.iter().enumerate() {
        let Ok(target) = targets.condition(key) else { continue };
        let min_age = target.register_age_min as i32;
        let eligible: Vec<_> = pop.living.iter().filter(|p| pop.age(p) >= min_age).collect();
        let cases = eligible.iter().filter(|p| p.conditions & (1 << ci) != 0).count();
        let achieved = 100.0 * cases as f64 / eligible.len().max(1) as f64;
        rows.push(Row {
            measure: format!("Prevalence {key} (age {min_age}+), %"),
            group: "BLMK".into(),
            target: Some(target.blmk_percent),
            achieved,
            tolerance: Some((0.20 * target.blmk_percent).max(0.15)),
            standard_error: Some(
                100.0 * (achieved / 100.0 * (1.0 - achieved / 100.0) / eligible.len().max(1) as f64).sqrt(),
            ),
            source: target.source.clone(),
        });
        let q1 = dsr(&|p| pop.quintile_of(p) == 1, ci, min_age);
        let q5 = dsr(&|p| pop.quintile_of(p) == 5, ci, min_age);
        if q5.0 > 0.0 {
            let (value, se) = rate_ratio(q1, q5);
            rows.push(Row {
                measure: format!("Prevalence {key}: most / least deprived quintile, age-standardised ratio"),
                group: "BLMK".into(),
                target: Some(target.rr_most_vs_least_deprived),
                achieved: value,
                tolerance: Some(0.35 * target.rr_most_vs_least_deprived.max(1.0)),
                standard_error: Some(se),
                source: target.source.clone(),
            });
        }
        if *key == "diabetes" {
            let sa = dsr(&|p| p.ethnicity.is_some_and(EthnicCategory::is_south_asian), ci, min_age);
            let white = dsr(&|p| p.ethnicity.is_some_and(|c| c.group5() == EthnicGroup5::White), ci, min_age);
            let (value, se) = rate_ratio(sa, white);
            rows.push(Row {
                measure: "Prevalence diabetes: South Asian / White, age-standardised ratio".into(),
                group: "BLMK".into(),
                target: Some(target.rr_south_asian_vs_white),
                achieved: value,
                tolerance: Some(0.35 * target.rr_south_asian_vs_white),
                standard_error: Some(se),
                source: target.source.clone(),
            });
        }
    }
}

/// MMR: first dose by the second birthday, for children who turned two in the last year; by
/// place, and in the most and least deprived quintiles.
fn mmr_coverage(pop: &Population<'_>, targets: &Targets, rows: &mut Vec<Row>) {
    let extract = pop.extract;
    let cohort = |p: &PersonInfo| {
        p.birth.is_some_and(|b| {
            let second = b.with_year(b.year() + 2).unwrap_or(b);
            second <= extract && second > extract - chrono::Duration::days(365)
        })
    };
    let covered = |p: &PersonInfo| {
        p.birth
            .is_some_and(|b| p.mmr.iter().any(|(dose, d)| *dose == 1 && *d <= b.with_year(b.year() + 2).unwrap_or(b)))
    };
    for (pi, place) in pop.reference.places.iter().enumerate() {
        let kids: Vec<_> = pop.living.iter().filter(|p| pop.place_of(p) == pi && cohort(p)).collect();
        let achieved = 100.0 * kids.iter().filter(|p| covered(p)).count() as f64 / kids.len().max(1) as f64;
        rows.push(Row {
            measure: "MMR dose 1 by 24 months, %".into(),
            group: place.place_name.clone(),
            target: targets.coverage("mmr", "1", &place.place_code).map(|c| c * 100.0),
            achieved,
            tolerance: Some(if kids.len() > 2000 { 2.5 } else { 6.0 }),
            standard_error: None,
            source: targets
                .immunisations
                .iter()
                .find(|r| r.vaccine == "mmr" && r.place_code == place.place_code)
                .map(|r| r.source.clone())
                .unwrap_or_default(),
        });
    }
    for q in [1u8, 5] {
        let kids: Vec<_> = pop.living.iter().filter(|p| pop.quintile_of(p) == q && cohort(p)).collect();
        rows.push(Row {
            measure: format!("MMR dose 1 by 24 months, deprivation quintile {q}, %"),
            group: "BLMK".into(),
            target: None,
            achieved: 100.0 * kids.iter().filter(|p| covered(p)).count() as f64 / kids.len().max(1) as f64,
            tolerance: None,
            standard_error: None,
            source: "direction: lower coverage in more deprived areas (UKHSA COVER)".into(),
        });
    }
}

/// Smoking: latest recorded status among adults.
fn smoking(pop: &Population<'_>, targets: &Targets, rows: &mut Vec<Row>) {
    let adults: Vec<_> = pop.living.iter().filter(|p| pop.age(p) >= 18 && p.smoking.is_some()).collect();
    rows.push(Row {
        measure: "Current smokers among adults with a recorded status, %".into(),
        group: "BLMK".into(),
        target: targets.activity.get("adult_smoking_percent_blmk").map(|r| r.value),
        achieved: 100.0 * adults.iter().filter(|p| p.smoking.is_some_and(|(_, s)| s == 2)).count() as f64
            / adults.len().max(1) as f64,
        tolerance: Some(3.0),
        standard_error: None,
        source: targets.activity.get("adult_smoking_percent_blmk").map(|r| r.source.clone()).unwrap_or_default(),
    });
}

/// Life expectancy at birth (and its standard error) of the people of `group` of one sex, from
/// the last three years of deaths and registered person-years.
fn life_expectancy_of(pop: &Population<'_>, group: &dyn Fn(&PersonInfo) -> bool, female: bool) -> (f64, f64) {
    let extract = pop.extract;
    let period_start = extract - chrono::Duration::days(3 * 365);
    let mut deaths = [0.0; 20];
    let mut years = [0.0; 20];
    for p in pop.people.values().filter(|p| p.female == female && p.area.is_some() && group(p)) {
        let Some(birth) = p.birth else { continue };
        for (s, e) in &p.registrations {
            let from = (*s).max(period_start);
            let to = e.unwrap_or(extract).min(extract).min(p.death.unwrap_or(extract));
            if to <= from {
                continue;
            }
            // Split the exposure by life-table band, a year at a time.
            let mut t = from;
            while t < to {
                let next = (t + chrono::Duration::days(365)).min(to);
                let band = life_table_band(phm_core::age::age_on(birth, t));
                years[band] += (next - t).num_days() as f64 / 365.25;
                t = next;
            }
        }
        if let Some(d) = p.death.filter(|d| *d > period_start && *d <= extract) {
            deaths[life_table_band(phm_core::age::age_on(birth, d))] += 1.0;
        }
    }
    life_expectancy_at_birth(&deaths, &years)
}

/// Life expectancy at birth by place and sex, and the gaps between the least and most deprived
/// deciles and quintiles.
fn life_expectancy_by_place_and_deprivation(pop: &Population<'_>, targets: &Targets, rows: &mut Vec<Row>) {
    let reference = pop.reference;
    let le = |group: &dyn Fn(&PersonInfo) -> bool, female: bool| life_expectancy_of(pop, group, female);
    for female in [false, true] {
        let sex = if female { "female" } else { "male" };
        for (pi, place) in reference.places.iter().enumerate() {
            let (achieved, se) = le(&|p| pop.place_of(p) == pi, female);
            rows.push(Row {
                measure: format!("Life expectancy at birth, {sex}, years"),
                group: place.place_name.clone(),
                target: targets.life_expectancy(&place.place_code, sex, "life_expectancy_at_birth"),
                achieved,
                tolerance: Some(1.0),
                standard_error: Some(se),
                source: targets
                    .life_expectancy
                    .iter()
                    .find(|r| r.place_code == place.place_code)
                    .map(|r| r.source.clone())
                    .unwrap_or_default(),
            });
        }
        let gap_target = targets
            .activity
            .get(&format!("target_le_gap_deciles_years_{sex}"))
            .or_else(|| targets.activity.get("target_le_gap_deciles_years"));
        let d1 = le(&|p| p.area.is_some_and(|a| reference.areas[a].imd_decile <= 1), female);
        let d10 = le(&|p| p.area.is_some_and(|a| reference.areas[a].imd_decile >= 10), female);
        rows.push(Row {
            measure: format!("Life expectancy gap, least minus most deprived decile, {sex}, years"),
            group: "BLMK".into(),
            target: gap_target.map(|r| r.value),
            achieved: d10.0 - d1.0,
            tolerance: Some(2.0),
            standard_error: Some(d1.1.hypot(d10.1)),
            source: gap_target.map(|r| r.source.clone()).unwrap_or_default(),
        });
        let q1 = le(&|p| pop.quintile_of(p) == 1, female);
        let q5 = le(&|p| pop.quintile_of(p) == 5, female);
        rows.push(Row {
            measure: format!("Life expectancy gap, least minus most deprived quintile, {sex}, years"),
            group: "BLMK".into(),
            target: None,
            achieved: q5.0 - q1.0,
            tolerance: None,
            standard_error: Some(q1.1.hypot(q5.1)),
            source: "reported".into(),
        });
    }
}

/// Hospital activity in the last year, per 1,000 registered, from the acute trusts'
/// encounters. Returns the number of records that failed to parse or validate.
fn hospital_activity(
    drop: &Path,
    manifest: &Manifest,
    pop: &Population<'_>,
    targets: &Targets,
    rows: &mut Vec<Row>,
) -> Result<u64> {
    let extract = pop.extract;
    let mut bad = 0;
    let mut ae = 0u64;
    let mut emergency = 0u64;
    let year_ago = extract - chrono::Duration::days(365);
    for f in manifest.files.iter().filter(|f| f.source_type == "acute_trust" && f.resource_type == "Encounter") {
        bad += each::<Encounter>(&drop.join(&f.path), |e| {
            let start = parse_date(e.period.as_ref().and_then(|p| p.start.as_deref()));
            if start.is_some_and(|d| d > year_ago && d <= extract) {
                match e.class.as_ref().and_then(|c| c.code.as_deref()) {
                    Some("EMER") => ae += 1,
                    Some("IMP") if e.admission_method().is_some_and(|m| m.starts_with('2')) => emergency += 1,
                    _ => {}
                }
            }
        })?;
    }
    let per_1000 = |n: u64| 1000.0 * n as f64 / pop.living.len().max(1) as f64;
    for (measure, key, value) in [
        ("A&E attendances per 1,000 per year", "ae_attendances_per_1000", per_1000(ae)),
        ("Emergency admissions per 1,000 per year", "emergency_admissions_per_1000", per_1000(emergency)),
    ] {
        let target = targets.activity.get(key);
        rows.push(Row {
            measure: measure.into(),
            group: "BLMK".into(),
            target: target.map(|r| r.value),
            achieved: value,
            tolerance: target.map(|r| 0.25 * r.value),
            standard_error: None,
            source: target.map(|r| r.source.clone()).unwrap_or_default(),
        });
    }
    Ok(bad)
}

/// Life-table bands: 0, 1-4, 5-9, …, 85-89, 90+ (20 bands).
fn life_table_band(age: i32) -> usize {
    match age {
        i32::MIN..=0 => 0,
        1..=4 => 1,
        _ => (usize::try_from(age / 5).unwrap_or(0) + 1).min(19),
    }
}

/// Life expectancy at birth and its standard error from deaths and person-years in the 20
/// life-table bands (0, 1–4, 5–9, …, 90+), by the Chiang II method of `phm_stats`. A table the
/// method will not report on (too few people, no deaths at 90+) gives NaN, which no tolerance
/// accepts.
pub fn life_expectancy_at_birth(deaths: &[f64; 20], years: &[f64; 20]) -> (f64, f64) {
    let structure = LifeExpectancyOptions::default();
    let bands: Vec<AgeBand> = structure
        .age_structure
        .start_ages()
        .iter()
        .zip(deaths.iter().zip(years))
        .map(|(&start, (&d, &y))| AgeBand::new(start, d, y))
        .collect();
    match life_expectancy(&bands, &structure).first().map(|at_birth| at_birth.result) {
        Some(Ok(estimate)) => (estimate.value, estimate.standard_error),
        Some(Err(NotReported::ConfidenceIntervalTooWide { lower, upper, standard_error })) => {
            ((lower + upper) / 2.0, standard_error)
        }
        _ => (f64::NAN, f64::NAN),
    }
}

/// Renders the report as a Markdown page.
pub fn markdown(rows: &[Row], drop_note: &str) -> String {
    let mut out = String::from("# Synthetic population: calibration\n\n");
    out.push_str("<!-- Generated by `phm calibration --markdown docs/calibration.md`; do not edit by hand. -->\n\n");
    out.push_str("Each figure is measured from the partner files of a generated drop (read back through the FHIR and CSV readers), ");
    out.push_str(
        "not from the generator's internals. Targets and their sources are in `reference/calibration/`; a ✓ means the ",
    );
    out.push_str("achieved figure is within the tolerance the tests use.\n\n");
    out.push_str(drop_note);
    out.push_str(
        "\n\n| measure | group | target | achieved | within tolerance | target source |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let target = row.target.map_or_else(|| "—".to_owned(), |t| format!("{t:.2}"));
        let status = match (row.target, row.tolerance) {
            (Some(_), Some(tol)) => {
                let mark = if row.ok() { "✓" } else { "✗" };
                match row.standard_error {
                    Some(se) if se.is_finite() => format!("{mark} (±{tol:.2} + 1.96 × SE {se:.2})"),
                    _ => format!("{mark} (±{tol:.2})"),
                }
            }
            _ => "reported".to_owned(),
        };
        let achieved = if row.achieved.is_finite() {
            format!("{:.2}", row.achieved)
        } else {
            "not reported (too few people or deaths)".to_owned()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.measure,
            row.group,
            target,
            achieved,
            status,
            row.source.replace('|', "/")
        ));
    }
    out
}

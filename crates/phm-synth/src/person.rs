//! One synthetic person: their life over the history window, and the records each partner
//! holds about them.

use chrono::{Datelike, Duration, NaiveDate};
use phm_core::nhs_number::NhsNumber;
use rand::Rng;
use rand_distr::{Distribution, Poisson};

use crate::model::{Condition, Demographics, HISTORY_YEARS, Model, N_CONDITIONS, Sex, Smoking, pick_weighted};
use crate::names;

/// A period of registration with a practice.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Practice index.
    pub practice: usize,
    /// First day.
    pub start: NaiveDate,
    /// Last day, if ended.
    pub end: Option<NaiveDate>,
}

/// Frailty as coded by the practice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frailty {
    /// Mild.
    Mild,
    /// Moderate.
    Moderate,
    /// Severe.
    Severe,
}

/// A person and their simulated life.
#[derive(Clone, Debug)]
pub struct Person {
    /// Index within the run (determines the random stream).
    pub index: u64,
    /// NHS number (test ranges only).
    pub nhs_number: NhsNumber,
    /// Demographics.
    pub demo: Demographics,
    /// Conditions with diagnosis dates, in draw order.
    pub conditions: Vec<(Condition, NaiveDate)>,
    /// Presence flags by condition (at the end of life or the window).
    pub has: [bool; N_CONDITIONS],
    /// Raised blood pressure without a diagnosis (for case-finding).
    pub undiagnosed_hypertension: bool,
    /// Blood pressure controlled on treatment (diagnosed hypertension).
    pub bp_controlled: bool,
    /// Cancer site concept, if cancer.
    pub cancer_site: &'static str,
    /// Type 1 (rather than type 2) diabetes.
    pub type_1_diabetes: bool,
    /// Coded frailty and when.
    pub frailty: Option<(Frailty, NaiveDate)>,
    /// Date of death, if in the window.
    pub death: Option<NaiveDate>,
    /// Died in hospital (an emergency admission ends in death).
    pub died_in_hospital: bool,
    /// Registrations, oldest first.
    pub registrations: Vec<Registration>,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Address line.
    pub address_line: String,
    /// Postcode.
    pub postcode: String,
    /// Registered a national data opt-out.
    pub opt_out: bool,
    /// Usual BMI (adults).
    pub bmi: f64,
}

/// Adds whole years (as days) to a date.
pub fn add_years(date: NaiveDate, years: f64) -> NaiveDate {
    date + Duration::days((years * 365.25) as i64)
}

/// A uniformly random date in `[from, to]`.
pub fn date_between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let days = (to - from).num_days();
    if days <= 0 { from } else { from + Duration::days(rng.random_range(0..=days)) }
}

/// Years between two dates.
pub fn years_between(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / 365.25
}

/// The first day of the history window.
pub fn window_start(model: &Model) -> NaiveDate {
    model.extract_date.with_year(model.extract_date.year() - HISTORY_YEARS).unwrap_or(model.extract_date)
        + Duration::days(1)
}

impl Person {
    /// Simulates person `index` with their own random stream.
    pub fn simulate(model: &Model, index: u64, nhs_number: NhsNumber, rng: &mut impl Rng) -> Self {
        let demo = model.demographics(rng, true);
        let extract = model.extract_date;
        let start = window_start(model);

        // Conditions, drawn as if alive at the extract date.
        let mut has = [false; N_CONDITIONS];
        let mut onset = [None; N_CONDITIONS];
        for (ci, condition) in Condition::ALL.iter().enumerate() {
            let p = model.condition_probability(ci, &demo, &has, demo.age_at_extract);
            if rng.random::<f64>() < p {
                has[ci] = true;
                let age = if *condition == Condition::LearningDisability {
                    // Recorded in childhood.
                    rng.random_range(3.0..12.0f64).min(demo.age_at_extract)
                } else {
                    model.onset_age(ci, demo.age_at_extract, rng)
                };
                onset[ci] = Some(add_years(demo.birth, age).min(extract));
            }
        }

        // Death: yearly hazard over the window, with conditions active from onset.
        let mut death = None;
        let mut year_start = start.max(demo.birth);
        while year_start <= extract && death.is_none() {
            let year_end = (year_start + Duration::days(364)).min(extract);
            let age = years_between(demo.birth, year_start) + 0.5;
            let mut active = [false; N_CONDITIONS];
            for ci in 0..N_CONDITIONS {
                active[ci] = onset[ci].is_some_and(|d| d <= year_start);
            }
            let fraction = ((year_end - year_start).num_days() + 1) as f64 / 365.25;
            let q = 1.0 - (-model.death_hazard(&demo, age, &active) * fraction).exp();
            if rng.random::<f64>() < q {
                death = Some(date_between(rng, year_start, year_end));
            }
            year_start = year_end + Duration::days(1);
        }
        let end = death.unwrap_or(extract);
        let mut conditions = Vec::new();
        for (ci, condition) in Condition::ALL.iter().enumerate() {
            match onset[ci] {
                Some(d) if d <= end => conditions.push((*condition, d)),
                Some(_) => has[ci] = false,
                None => {}
            }
        }

        let age_end = years_between(demo.birth, end);
        let hypertension = has[Condition::Hypertension as usize];
        let undiagnosed_hypertension = !hypertension
            && age_end >= 30.0
            && rng.random::<f64>()
                < 0.45 * model.condition_probability(Condition::Hypertension as usize, &demo, &has, age_end);
        let bp_controlled = rng.random::<f64>() < 0.66;
        let cancer_site = {
            let lung = if demo.smoking == Smoking::Current {
                0.30
            } else if demo.smoking == Smoking::Ex {
                0.18
            } else {
                0.05
            };
            let u: f64 = rng.random();
            if u < lung {
                "cancer_lung"
            } else if u < lung + 0.25 {
                "cancer_colorectal"
            } else if demo.sex == Sex::Female {
                "cancer"
            } else {
                "cancer_prostate"
            }
        };
        let type_1_diabetes =
            conditions.iter().any(|(c, d)| *c == Condition::Diabetes && years_between(demo.birth, *d) < 30.0)
                && rng.random::<f64>() < 0.7;

        // Frailty: coded for people 65+ from the GP's annual frailty identification.
        let frailty = if age_end >= 65.0 {
            let score = conditions.len() as f64 * 0.55 + 0.6 * demo.frailty_z + (age_end - 65.0) / 9.0;
            let level = if score >= 4.2 {
                Some(Frailty::Severe)
            } else if score >= 3.0 {
                Some(Frailty::Moderate)
            } else if score >= 2.0 {
                Some(Frailty::Mild)
            } else {
                None
            };
            let from = add_years(demo.birth, 65.0).max(start);
            level.filter(|_| rng.random::<f64>() < 0.75 && from < end).map(|l| (l, date_between(rng, from, end)))
        } else {
            None
        };

        let died_in_hospital = death.is_some() && rng.random::<f64>() < 0.44;

        // Registrations: long-standing for most; newcomers and babies start in the window.
        let practices = &model.reference.practices;
        let area = &model.reference.areas[demo.area];
        let home_weights: Vec<f64> = practices
            .iter()
            .map(|p| {
                if p.pcn_code == area.pcn_code {
                    p.list_size_weight * 12.0
                } else if p.place_code == area.place_code {
                    p.list_size_weight * 0.15
                } else {
                    0.0
                }
            })
            .collect();
        let current = pick_weighted(rng, &home_weights);
        let years_registered = -20.0 * (1.0 - rng.random::<f64>()).ln();
        let first_start =
            (demo.birth + Duration::days(rng.random_range(10..60))).max(add_years(extract, -years_registered)).min(end);
        let mut registrations = Vec::new();
        if rng.random::<f64>() < 0.08 && first_start < start {
            let switch = date_between(rng, start, end);
            let mut previous = pick_weighted(rng, &home_weights);
            if previous == current {
                previous = (current + 1) % practices.len();
            }
            registrations.push(Registration {
                practice: previous,
                start: first_start,
                end: Some(switch - Duration::days(1)),
            });
            registrations.push(Registration { practice: current, start: switch, end: death });
        } else {
            registrations.push(Registration { practice: current, start: first_start, end: death });
        }

        let (given_name, family_name) = names::name(rng, demo.sex, demo.ethnicity);
        let (address_line, postcode) = names::address(rng, &area.postcode_district, model.area_in_district[demo.area]);
        let opt_out_rate = model.targets.activity.get("national_data_opt_out_percent").map_or(3.5, |r| r.value) / 100.0;
        let opt_out = rng.random::<f64>() < opt_out_rate;
        let bmi = if has[Condition::Obesity as usize] {
            30.0 + rng.random_range(0.0..1.0f64).powf(1.8) * 16.0
        } else {
            let quintile = f64::from(demo.decile.div_ceil(2));
            let spread: f64 = rand_distr::StandardNormal.sample(rng);
            (25.2 + 0.3 * (3.0 - quintile) + 3.0 * spread.clamp(-2.5, 1.6)).min(29.9)
        };

        Self {
            index,
            nhs_number,
            demo,
            conditions,
            has,
            undiagnosed_hypertension,
            bp_controlled,
            cancer_site,
            type_1_diabetes,
            frailty,
            death,
            died_in_hospital,
            registrations,
            given_name,
            family_name,
            address_line,
            postcode,
            opt_out,
            bmi,
        }
    }

    /// Last day of the person's record: death or the extract date.
    pub fn end(&self, model: &Model) -> NaiveDate {
        self.death.unwrap_or(model.extract_date)
    }

    /// Age in years on a date.
    pub fn age_on(&self, date: NaiveDate) -> f64 {
        years_between(self.demo.birth, date)
    }

    /// Whether the condition is present, and its diagnosis date.
    pub fn diagnosed(&self, condition: Condition) -> Option<NaiveDate> {
        self.conditions.iter().find(|(c, _)| *c == condition).map(|(_, d)| *d)
    }

    /// Number of conditions diagnosed by a date.
    pub fn conditions_by(&self, date: NaiveDate) -> usize {
        self.conditions.iter().filter(|(_, d)| *d <= date).count()
    }

    /// The practice registered with on a date, if any.
    pub fn practice_on(&self, date: NaiveDate) -> Option<usize> {
        self.registrations.iter().find(|r| r.start <= date && r.end.is_none_or(|e| date <= e)).map(|r| r.practice)
    }
}

/// Draws a Poisson count, treating bad rates as zero.
pub fn poisson(rng: &mut impl Rng, mean: f64) -> u64 {
    if mean <= 0.0 || !mean.is_finite() {
        return 0;
    }
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as u64)
}

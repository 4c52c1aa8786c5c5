//! Calibration targets: published figures the synthetic population is tuned to.
//!
//! Read from the CSV files in the repository's `reference/calibration/` folder (compiled in);
//! each row carries its public source. [`Targets::builtin`] parses them; the generator turns
//! them into sampling tables in [`crate::model`].

use std::collections::HashMap;

use phm_core::reference::parse_csv;
use serde::Deserialize;

use crate::{Error, Result};

/// Age-sex structure: one row per place, sex and ESP band.
#[derive(Clone, Debug, Deserialize)]
pub struct AgeSexRow {
    /// ONS place code.
    pub place_code: String,
    /// `female` or `male`.
    pub sex: String,
    /// ESP2013 band label.
    pub age_band: String,
    /// Percent of the place's total population.
    pub percent: f64,
    /// Public source.
    pub source: String,
}

/// Ethnic mix: one row per place and NHS ethnic category.
#[derive(Clone, Debug, Deserialize)]
pub struct EthnicityRow {
    /// ONS place code.
    pub place_code: String,
    /// NHS ethnic category code.
    pub ethnic_category: String,
    /// Percent of the place's population.
    pub percent: f64,
    /// Public source.
    pub source: String,
}

/// A long-term condition's recorded prevalence and its gradients.
#[derive(Clone, Debug, Deserialize)]
pub struct ConditionRow {
    /// Condition key (matches [`crate::model::Condition::key`]).
    pub condition: String,
    /// Youngest age on the QOF register.
    pub register_age_min: f64,
    /// England QOF prevalence, percent of the register's age range.
    pub england_percent: f64,
    /// BLMK QOF prevalence, percent.
    pub blmk_percent: f64,
    /// Age-standardised prevalence ratio, most vs least deprived quintile.
    pub rr_most_vs_least_deprived: f64,
    /// Age-standardised prevalence ratio, South Asian vs White.
    pub rr_south_asian_vs_white: f64,
    /// Age-standardised prevalence ratio, Black vs White.
    pub rr_black_vs_white: f64,
    /// Prevalence ratio, female to male.
    pub female_to_male_ratio: f64,
    /// Public source.
    pub source: String,
}

/// Immunisation coverage.
#[derive(Clone, Debug, Deserialize)]
pub struct ImmunisationRow {
    /// `mmr`, `hpv_female`, `hpv_male`, `menacwy`.
    pub vaccine: String,
    /// Dose number (or empty).
    pub dose: String,
    /// Where coverage is measured, e.g. `24 months`.
    pub measured_at: String,
    /// ONS place code, `E92000001` for England, or `gradient`.
    pub place_code: String,
    /// Coverage, percent.
    pub percent: f64,
    /// Year or period.
    pub year: String,
    /// Public source.
    pub source: String,
}

/// Life expectancy and its inequality.
#[derive(Clone, Debug, Deserialize)]
pub struct LifeExpectancyRow {
    /// ONS place code or `E92000001`.
    pub place_code: String,
    /// `female` or `male`.
    pub sex: String,
    /// `life_expectancy_at_birth`, `healthy_life_expectancy_at_birth`, `slope_index_of_inequality_le`.
    pub measure: String,
    /// Years.
    pub value: f64,
    /// Period.
    pub period: String,
    /// Public source.
    pub source: String,
}

/// An activity rate or other single figure.
#[derive(Clone, Debug, Deserialize)]
pub struct ActivityRow {
    /// Name of the measure.
    pub measure: String,
    /// Value.
    pub value: f64,
    /// Unit.
    pub unit: String,
    /// Public source.
    pub source: String,
}

/// All calibration targets.
#[derive(Clone, Debug)]
pub struct Targets {
    /// Age-sex structure.
    pub age_sex: Vec<AgeSexRow>,
    /// Ethnic mix.
    pub ethnicity: Vec<EthnicityRow>,
    /// Condition prevalences and gradients.
    pub conditions: Vec<ConditionRow>,
    /// Immunisation coverage.
    pub immunisations: Vec<ImmunisationRow>,
    /// Life expectancy.
    pub life_expectancy: Vec<LifeExpectancyRow>,
    /// Activity rates and other single figures, by measure name.
    pub activity: HashMap<String, ActivityRow>,
}

macro_rules! calibration_file {
    ($name:literal) => {
        (concat!("calibration/", $name), include_str!(concat!("../../../reference/calibration/", $name)))
    };
}

impl Targets {
    /// The targets compiled into this build.
    pub fn builtin() -> Result<Self> {
        let (f, t) = calibration_file!("age_sex.csv");
        let age_sex = parse_csv(f, t)?;
        let (f, t) = calibration_file!("ethnicity.csv");
        let ethnicity = parse_csv(f, t)?;
        let (f, t) = calibration_file!("conditions.csv");
        let conditions = parse_csv(f, t)?;
        let (f, t) = calibration_file!("immunisations.csv");
        let immunisations = parse_csv(f, t)?;
        let (f, t) = calibration_file!("life_expectancy.csv");
        let life_expectancy = parse_csv(f, t)?;
        let (f, t) = calibration_file!("activity.csv");
        let activity_rows: Vec<ActivityRow> = parse_csv(f, t)?;
        let activity = activity_rows.into_iter().map(|r| (r.measure.clone(), r)).collect();
        Ok(Self { age_sex, ethnicity, conditions, immunisations, life_expectancy, activity })
    }

    /// The condition row for a key.
    pub fn condition(&self, key: &str) -> Result<&ConditionRow> {
        self.conditions
            .iter()
            .find(|c| c.condition == key)
            .ok_or_else(|| Error::Calibration(format!("calibration/conditions.csv has no row for `{key}`")))
    }

    /// Coverage (0-1) for a vaccine, dose and place, falling back to England.
    pub fn coverage(&self, vaccine: &str, dose: &str, place_code: &str) -> Option<f64> {
        let pick = |place: &str| {
            self.immunisations
                .iter()
                .filter(|r| r.vaccine == vaccine && r.dose == dose && r.place_code == place)
                .max_by(|a, b| a.year.cmp(&b.year))
                .map(|r| r.percent / 100.0)
        };
        pick(place_code).or_else(|| pick("E92000001"))
    }

    /// Life expectancy target for a place (or England) and sex.
    pub fn life_expectancy(&self, place_code: &str, sex: &str, measure: &str) -> Option<f64> {
        self.life_expectancy
            .iter()
            .find(|r| r.place_code == place_code && r.sex == sex && r.measure == measure)
            .map(|r| r.value)
    }
}

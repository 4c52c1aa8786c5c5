//! Healthy life expectancy by Sullivan's method, with the standard error of Jagger et al.
//!
//! Sullivan's method splits the person-years of a period life table by the share of each age
//! band found in good health in a survey (for ONS healthy life expectancy, "very good" or "good"
//! self-rated health in the Annual Population Survey). The life table is the abridged table of
//! the [`life_expectancy`] module (Chiang's method II), so healthy life expectancy and life
//! expectancy come from the same table.
//!
//! # Method
//!
//! With `l_j` survivors to the start of band j and `L_j` person-years lived in it (see
//! [`life_table`]), and `π_j = h_j / N_j` the proportion in good health among the `N_j` surveyed
//! in the band:
//!
//! * healthy person-years `L_j π_j`, and from age band i on `T′_i = Σ_{j≥i} L_j π_j`;
//! * healthy life expectancy `HLE_i = T′_i / l_i` (life expectancy is `T_i / l_i` with
//!   `T_i = Σ_{j≥i} L_j`, so `HLE_i ≤ LE_i`, with equality when everyone is healthy);
//! * the variance counts the sampling error of the survey proportions (binomial), and treats the
//!   life table as fixed, being from the whole population's deaths:
//!   `Var(HLE_i) = Σ_{j≥i} L_j² π_j (1 − π_j) / N_j / l_i²`;
//! * limits `HLE_i ± z SE_i`, with z the normal quantile of the chosen [`ConfidenceLevel`].
//!
//! The survey must give a proportion for every band of the life table. Surveys rarely reach the
//! oldest ages in numbers; the usual remedy is to apply the oldest surveyed band's proportion
//! (e.g. 85+) to every older band of the life table (85–89 and 90+), which the caller does by
//! giving the same counts to each.
//!
//! # When a value is not reported
//!
//! The life table's own rules, in the same order as for life expectancy (see
//! [`life_expectancy`](crate::life_expectancy#when-a-value-is-not-reported)), then the survey's:
//! a health count that is not a finite number, a band where no one was surveyed, or a band with
//! fewer than zero or more healthy people than surveyed. An age with no survivors in the table is
//! not reported. Life expectancy's rule that suppresses a value whose 95% interval is wider than
//! 20 years is not applied to healthy life expectancy, whose interval reflects the survey; the
//! life expectancy given alongside is the table's, whatever its own interval.
//!
//! # References
//!
//! 1. Sullivan DF. A single index of mortality and morbidity. *HSMHA Health Reports* 1971; 86:
//!    347–354.
//! 2. Jagger C, Cox B, Le Roy S, EHEMU. *Health Expectancy Calculation by the Sullivan Method: A
//!    Practical Guide.* EHEMU Technical Report 2006_3 (3rd edition), and later editions; the
//!    variance is its equation for the standard error of the Sullivan health expectancy.
//! 3. Hauet E, REVES. *Practical Guide on Health Expectancy Calculation: Sullivan Method.*
//!    European Concerted Action on the Harmonization of Health Expectancy Calculations in Europe,
//!    1996 (revised 1997), annex on the variance of the Sullivan index.
//! 4. Office for National Statistics. *Health state life expectancies, UK: Quality and
//!    Methodology Information* (healthy life expectancy from the Annual Population Survey).

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::life_expectancy::{self, AgeBand, AgeStructure, LifeTableRow, life_table};

/// One age band of the input: the deaths and population of the life table, and the survey's
/// count of people in good health among those surveyed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthBand {
    /// Age at the start of the band in whole years.
    pub start_age: u32,
    /// Deaths in the band.
    pub deaths: f64,
    /// Population (person-years at risk) in the band.
    pub population: f64,
    /// People in the survey in good health in the band (the numerator).
    pub healthy: f64,
    /// People surveyed in the band (the denominator).
    pub surveyed: f64,
}

impl HealthBand {
    /// A band from its start age, deaths, population, healthy count and survey count.
    pub const fn new(start_age: u32, deaths: f64, population: f64, healthy: f64, surveyed: f64) -> Self {
        Self { start_age, deaths, population, healthy, surveyed }
    }
}

/// The survey's counts for one band, for [`sullivan`] on a life table already built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthSurvey {
    /// People in good health (the numerator).
    pub healthy: f64,
    /// People surveyed (the denominator).
    pub surveyed: f64,
}

/// Parameters of [`healthy_life_expectancy`]. The default is a 95% confidence level and the
/// [standard](AgeStructure::standard) 20-band structure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthyLifeExpectancyOptions {
    /// Confidence level of the limits.
    pub confidence: ConfidenceLevel,
    /// The start ages the input must have.
    pub age_structure: AgeStructure,
}

/// A reported healthy life expectancy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthyLifeExpectancyEstimate {
    /// Healthy life expectancy in years at the band's start age, `HLE_i = T′_i / l_i`.
    pub value: f64,
    /// Lower confidence limit, `HLE_i − z SE_i`.
    pub lower: f64,
    /// Upper confidence limit, `HLE_i + z SE_i`.
    pub upper: f64,
    /// Standard error from the survey's sampling error (Jagger et al.).
    pub standard_error: f64,
    /// Life expectancy at the same age from the same life table, `T_i / l_i`.
    pub life_expectancy: f64,
    /// The share of remaining life in good health, `HLE_i / LE_i`.
    pub proportion_healthy: f64,
}

/// Why a healthy life expectancy is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// The life table is not reported, for this reason (see
    /// [`life_expectancy::NotReported`]).
    LifeTable(life_expectancy::NotReported),
    /// The survey has a different number of bands from the life table.
    SurveyBandsDoNotMatch,
    /// A healthy or surveyed count is NaN or infinite.
    NonFiniteHealthCount {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// No one was surveyed in a band.
    NoOneSurveyed {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// A band has a negative healthy count, or more healthy people than surveyed.
    HealthyOutOfRange {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// No one in the life table survives to this age.
    NoSurvivors,
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LifeTable(reason) => write!(f, "the life table is not reported: {reason}"),
            Self::SurveyBandsDoNotMatch => {
                write!(f, "the survey does not have one band for each band of the life table")
            }
            Self::NonFiniteHealthCount { start_age } => write!(
                f,
                "the band starting at age {start_age} has a healthy or surveyed count that is not a finite number"
            ),
            Self::NoOneSurveyed { start_age } => {
                write!(f, "no one was surveyed in the band starting at age {start_age}")
            }
            Self::HealthyOutOfRange { start_age } => write!(
                f,
                "the band starting at age {start_age} has fewer than zero, or more than surveyed, healthy people"
            ),
            Self::NoSurvivors => write!(f, "no one in the life table survives to this age"),
        }
    }
}

/// Healthy life expectancy at one start age, or why it is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthyLifeExpectancyAtAge {
    /// Start age of the band.
    pub start_age: u32,
    /// The estimate, or why there is none.
    pub result: Result<HealthyLifeExpectancyEstimate, NotReported>,
}

impl HealthyLifeExpectancyAtAge {
    /// The reported healthy life expectancy, if any.
    pub fn value(&self) -> Option<f64> {
        self.result.as_ref().ok().map(|e| e.value)
    }
}

/// Healthy life expectancy at each start age by Sullivan's method on the Chiang II life table
/// (see the [module documentation](self)).
///
/// `bands` may be in any order; the result has one entry per input band, sorted by start age.
pub fn healthy_life_expectancy(
    bands: &[HealthBand],
    options: &HealthyLifeExpectancyOptions,
) -> Vec<HealthyLifeExpectancyAtAge> {
    let mut sorted = bands.to_vec();
    sorted.sort_by_key(|b| b.start_age);
    let mortality: Vec<AgeBand> = sorted.iter().map(|b| AgeBand::new(b.start_age, b.deaths, b.population)).collect();
    match life_table(&mortality, &options.age_structure) {
        Ok(table) => {
            let survey: Vec<HealthSurvey> =
                sorted.iter().map(|b| HealthSurvey { healthy: b.healthy, surveyed: b.surveyed }).collect();
            sullivan(&table, &survey, options.confidence)
        }
        Err(reason) => sorted
            .iter()
            .map(|b| HealthyLifeExpectancyAtAge { start_age: b.start_age, result: Err(NotReported::LifeTable(reason)) })
            .collect(),
    }
}

/// Sullivan's method on a life table already built (for example by [`life_table`], or taken
/// from a published table): `table` and `survey` are band by band, in order of age.
pub fn sullivan(
    table: &[LifeTableRow],
    survey: &[HealthSurvey],
    confidence: ConfidenceLevel,
) -> Vec<HealthyLifeExpectancyAtAge> {
    let all = |reason: NotReported| {
        table.iter().map(|row| HealthyLifeExpectancyAtAge { start_age: row.start_age, result: Err(reason) }).collect()
    };
    if survey.len() != table.len() {
        return all(NotReported::SurveyBandsDoNotMatch);
    }
    if let Some(reason) = survey_reason(table, survey) {
        return all(reason);
    }

    let z = confidence.z();
    let k = table.len();
    // Tail sums from the oldest band down: T, T′ and Σ L² Var(π).
    let mut tails = vec![(0.0, 0.0, 0.0); k];
    let mut running = (0.0, 0.0, 0.0);
    for j in (0..k).rev() {
        let big_l = table[j].person_years;
        let pi = survey[j].healthy / survey[j].surveyed;
        running.0 += big_l;
        running.1 += big_l * pi;
        running.2 += big_l * big_l * pi * (1.0 - pi) / survey[j].surveyed;
        tails[j] = running;
    }

    table
        .iter()
        .zip(tails)
        .map(|(row, (t, t_healthy, w))| {
            let l = row.survivors;
            let result = if l > 0.0 {
                let value = t_healthy / l;
                let standard_error = w.sqrt() / l;
                let life_expectancy = t / l;
                Ok(HealthyLifeExpectancyEstimate {
                    value,
                    lower: value - z * standard_error,
                    upper: value + z * standard_error,
                    standard_error,
                    life_expectancy,
                    proportion_healthy: value / life_expectancy,
                })
            } else {
                Err(NotReported::NoSurvivors)
            };
            HealthyLifeExpectancyAtAge { start_age: row.start_age, result }
        })
        .collect()
}

/// The first reason the survey cannot be used, rule by rule over all bands.
fn survey_reason(table: &[LifeTableRow], survey: &[HealthSurvey]) -> Option<NotReported> {
    let first = |bad: &dyn Fn(&HealthSurvey) -> bool| {
        survey.iter().zip(table).find(|(s, _)| bad(s)).map(|(_, row)| row.start_age)
    };
    if let Some(start_age) = first(&|s| !s.healthy.is_finite() || !s.surveyed.is_finite()) {
        return Some(NotReported::NonFiniteHealthCount { start_age });
    }
    if let Some(start_age) = first(&|s| s.surveyed <= 0.0) {
        return Some(NotReported::NoOneSurveyed { start_age });
    }
    if let Some(start_age) = first(&|s| s.healthy < 0.0 || s.healthy > s.surveyed) {
        return Some(NotReported::HealthyOutOfRange { start_age });
    }
    None
}

//! Life expectancy from an abridged life table (Chiang's method II), with confidence limits
//! from the variance of Silcocks, Jenner and Reza (2001).
//!
//! This follows `phe_life_expectancy` in PHEindicatormethods (and PHE's Life Expectancy
//! Calculator), which is the method ONS uses for national and local-authority life expectancy.
//!
//! # Method
//!
//! The bands are sorted by start age `x_i`, i = 0 … k−1; band k−1 is open-ended (e.g. 90+).
//! With `D_i` deaths and `P_i` person-years in band i:
//!
//! * width `n_i = x_{i+1} − x_i`; fraction of the band lived by those who die in it
//!   `a_i = 0.1` for the band starting at age 0 and `a_i = 0.5` otherwise;
//! * death rate `M_i = D_i / P_i`;
//! * probability of dying in the band
//!   `q_i = n_i M_i / (1 + n_i M_i (1 − a_i))`, capped at `q_i = 1` when `D_i > P_i / (n_i a_i)`;
//!   for the open band `q_{k−1} = 1`;
//! * survivors `l_0 = 100 000`, `l_{i+1} = l_i (1 − q_i)`, and deaths `d_i = l_i − l_{i+1}`
//!   (`l_k = 0`);
//! * person-years lived `L_i = n_i (l_{i+1} + a_i d_i)`, and `L_{k−1} = l_{k−1} / M_{k−1}` for the
//!   open band;
//! * `T_i = Σ_{j≥i} L_j` and life expectancy `e_i = T_i / l_i`.
//!
//! The variance of `e_i` (Chiang, with Silcocks' term for the open band) is
//!
//! * `S²(q_j) = q_j² (1 − q_j) / D_j` (0 when `d_j = 0`) for the closed bands, and
//!   `S²_{k−1} = 4 / (D_{k−1} M_{k−1}²)` for the open band;
//! * `W_j = l_j² ((1 − a_j) n_j + e_{j+1})² S²(q_j)` for the closed bands, and
//!   `W_{k−1} = (l_{k−1} / 2)² S²_{k−1} = l_{k−1}² / (D_{k−1} M_{k−1}²)`;
//! * `Var(e_i) = Σ_{j≥i} W_j / l_i²`, `SE_i = √Var(e_i)`, and limits `e_i ± z SE_i` with z the
//!   normal quantile of the chosen [`ConfidenceLevel`].
//!
//! # When a value is not reported
//!
//! As in PHEindicatormethods, a whole table is not reported ([`NotReported`]) when any band has
//! negative deaths, any band has a population of zero or less, the bands do not match the
//! expected age structure, any band has more deaths than population, the total population is
//! 5 000 or less, or the open band has no deaths. A single age's value is not reported when
//! the 95% confidence interval is wider than 20 years (1.96 × SE > 10), though its limits are
//! still given.
//!
//! # References
//!
//! 1. Chiang CL. *The Life Table and its Construction.* In: Introduction to Stochastic Processes
//!    in Biostatistics. New York: John Wiley & Sons, 1968: 189–214.
//! 2. Silcocks PBS, Jenner DA, Reza R. Life expectancy as a summary of mortality in a
//!    population: statistical considerations and suitability for use by health authorities.
//!    *J Epidemiol Community Health* 2001; 55: 38–43.
//! 3. Eayres DP, Williams ES. Evaluation of methodologies for small area life expectancy
//!    estimation. *J Epidemiol Community Health* 2004; 58: 243–249.
//! 4. Toson B, Baker A. Life expectancy at birth: methodological options for small populations.
//!    National Statistics Methodological Series No 33. HMSO, 2003 (the 5 000 minimum).

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::error::{Error, Result};

/// Tables whose total population is at or below this are not reported (Toson and Baker, 2003).
pub const MIN_TOTAL_POPULATION: f64 = 5000.0;

/// A value whose 95% confidence interval is wider than this many years is not reported.
pub const MAX_CI_WIDTH_YEARS: f64 = 20.0;

/// The radix of the life table: survivors at age 0.
const RADIX: f64 = 100_000.0;

/// The two-sided 95% normal quantile Φ⁻¹(0.975), used for the 20-year width rule whatever the
/// chosen confidence level.
const Z_95: f64 = 1.959_963_984_540_054;

/// One age band of the input: its start age, the deaths in it and the population (person-years)
/// at risk in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgeBand {
    /// Age at the start of the band in whole years (0, 1, 5, 10, …, 90).
    pub start_age: u32,
    /// Deaths in the band.
    pub deaths: f64,
    /// Population (person-years at risk) in the band.
    pub population: f64,
}

impl AgeBand {
    /// An age band from its start age, deaths and population.
    pub const fn new(start_age: u32, deaths: f64, population: f64) -> Self {
        Self { start_age, deaths, population }
    }
}

/// The start ages a life table expects, in increasing order; the last band is open-ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeStructure {
    start_ages: Vec<u32>,
}

impl AgeStructure {
    /// The standard abridged structure used by ONS and PHEindicatormethods: 0, 1–4, 5–9, …,
    /// 85–89 and 90+ (20 bands).
    pub fn standard() -> Self {
        let mut start_ages = vec![0, 1];
        start_ages.extend((5..=90).step_by(5));
        Self { start_ages }
    }

    /// A custom structure.
    ///
    /// # Errors
    /// [`Error::AgeStructure`] unless there are at least two bands, the first starts at 0 and
    /// the start ages strictly increase.
    pub fn new(start_ages: Vec<u32>) -> Result<Self> {
        let reason = if start_ages.len() < 2 {
            Some("at least two bands are needed")
        } else if start_ages[0] != 0 {
            Some("the first band must start at age 0")
        } else if start_ages.windows(2).any(|w| w[0] >= w[1]) {
            Some("start ages must strictly increase")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::AgeStructure { start_ages, reason }),
            None => Ok(Self { start_ages }),
        }
    }

    /// The start ages, in increasing order.
    pub fn start_ages(&self) -> &[u32] {
        &self.start_ages
    }
}

impl Default for AgeStructure {
    fn default() -> Self {
        Self::standard()
    }
}

/// Parameters of [`life_expectancy`]. The default is a 95% confidence level and the
/// [standard](AgeStructure::standard) 20-band structure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LifeExpectancyOptions {
    /// Confidence level of the limits.
    pub confidence: ConfidenceLevel,
    /// The start ages the input must have.
    pub age_structure: AgeStructure,
}

/// A reported life expectancy with its confidence limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeExpectancyEstimate {
    /// Life expectancy in years at the band's start age, `e_i = T_i / l_i`.
    pub value: f64,
    /// Lower confidence limit, `e_i − z SE_i`.
    pub lower: f64,
    /// Upper confidence limit, `e_i + z SE_i`.
    pub upper: f64,
    /// Standard error `SE_i` (Chiang's variance with Silcocks' open-band term).
    pub standard_error: f64,
}

/// Why a life expectancy is not reported.
///
/// The first six apply to a whole table, and are checked in this order; the last two apply to
/// one age only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// A death count or population is NaN or infinite.
    NonFiniteInput,
    /// The input's start ages are not exactly those of the expected [`AgeStructure`] (a band is
    /// missing, repeated or unexpected).
    AgeBandsDoNotMatch,
    /// A band has negative deaths.
    NegativeDeaths {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// A band has a population of zero or less.
    NonPositivePopulation {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// A band has more deaths than population.
    DeathsExceedPopulation {
        /// Start age of the first such band.
        start_age: u32,
    },
    /// The total population is at or below [`MIN_TOTAL_POPULATION`].
    TotalPopulationTooSmall {
        /// The total population of the table.
        total: f64,
    },
    /// The open-ended final band has no deaths, so its mean survival `1 / M` is infinite.
    NoDeathsInFinalBand,
    /// No one in the life table survives to this age (an earlier band has `q = 1`), so
    /// `e = T / l` is undefined.
    NoSurvivors,
    /// The 95% confidence interval is wider than [`MAX_CI_WIDTH_YEARS`]; the limits at the chosen
    /// level are still given.
    ConfidenceIntervalTooWide {
        /// Lower confidence limit at the chosen level.
        lower: f64,
        /// Upper confidence limit at the chosen level.
        upper: f64,
        /// Standard error of the suppressed value.
        standard_error: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteInput => write!(f, "a death count or population is not a finite number"),
            Self::AgeBandsDoNotMatch => {
                write!(f, "the age bands do not match the expected age structure")
            }
            Self::NegativeDeaths { start_age } => {
                write!(f, "the band starting at age {start_age} has negative deaths")
            }
            Self::NonPositivePopulation { start_age } => {
                write!(f, "the band starting at age {start_age} has a population of zero or less")
            }
            Self::DeathsExceedPopulation { start_age } => {
                write!(f, "the band starting at age {start_age} has more deaths than population")
            }
            Self::TotalPopulationTooSmall { total } => {
                write!(f, "the total population ({total}) is not above the minimum of {MIN_TOTAL_POPULATION}")
            }
            Self::NoDeathsInFinalBand => write!(f, "the open-ended final band has no deaths"),
            Self::NoSurvivors => write!(f, "no one in the life table survives to this age"),
            Self::ConfidenceIntervalTooWide { .. } => {
                write!(f, "the 95% confidence interval is wider than {MAX_CI_WIDTH_YEARS} years")
            }
        }
    }
}

/// Life expectancy at one start age, or why it is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeExpectancyAtAge {
    /// Start age of the band.
    pub start_age: u32,
    /// The estimate, or why there is none.
    pub result: std::result::Result<LifeExpectancyEstimate, NotReported>,
}

impl LifeExpectancyAtAge {
    /// The reported life expectancy, if any.
    pub fn value(&self) -> Option<f64> {
        self.result.as_ref().ok().map(|e| e.value)
    }

    /// The confidence limits `(lower, upper)`, if they could be computed. Like
    /// PHEindicatormethods, these are given even when the value is suppressed for a too-wide
    /// interval.
    pub fn limits(&self) -> Option<(f64, f64)> {
        match self.result {
            Ok(e) => Some((e.lower, e.upper)),
            Err(NotReported::ConfidenceIntervalTooWide { lower, upper, .. }) => Some((lower, upper)),
            Err(_) => None,
        }
    }
}

/// Life expectancy at each start age by Chiang's method II, with confidence limits from the
/// Silcocks et al. (2001) variance (see the [module documentation](self) for the formulas).
///
/// `bands` may be in any order; the result has one entry per input band, sorted by start age.
/// Data the method cannot report on gives a [`NotReported`] reason instead of a value.
pub fn life_expectancy(bands: &[AgeBand], options: &LifeExpectancyOptions) -> Vec<LifeExpectancyAtAge> {
    let mut sorted = bands.to_vec();
    sorted.sort_by_key(|b| b.start_age);

    if let Some(reason) = table_reason(&sorted, &options.age_structure) {
        return sorted.iter().map(|b| LifeExpectancyAtAge { start_age: b.start_age, result: Err(reason) }).collect();
    }

    let z = options.confidence.z();
    chiang_ii(&sorted)
        .into_iter()
        .zip(&sorted)
        .map(|(row, band)| LifeExpectancyAtAge {
            start_age: band.start_age,
            result: row.and_then(|(value, se)| report(value, se, z)),
        })
        .collect()
}

/// One band of the abridged life table: the columns that methods built on the life table, such
/// as Sullivan's healthy life expectancy, need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeTableRow {
    /// Start age of the band.
    pub start_age: u32,
    /// Survivors to the start of the band out of 100 000 born, `l_i`.
    pub survivors: f64,
    /// Person-years lived in the band by those survivors, `L_i` (`l_i / M_i` for the open band).
    pub person_years: f64,
    /// Probability of dying in the band, `q_i` (1 for the open band).
    pub probability_of_dying: f64,
}

/// The abridged life table by Chiang's method II (see the [module documentation](self)), one row
/// per band sorted by start age, or the table-wide reason the table is not reported (the same
/// rules, in the same order, as [`life_expectancy`]).
///
/// # Errors
/// Not an [`Error`]: the `Err` is the table-wide [`NotReported`] reason.
pub fn life_table(bands: &[AgeBand], structure: &AgeStructure) -> std::result::Result<Vec<LifeTableRow>, NotReported> {
    let mut sorted = bands.to_vec();
    sorted.sort_by_key(|b| b.start_age);
    if let Some(reason) = table_reason(&sorted, structure) {
        return Err(reason);
    }
    let columns = columns(&sorted);
    Ok(sorted
        .iter()
        .enumerate()
        .map(|(i, band)| LifeTableRow {
            start_age: band.start_age,
            survivors: columns.l[i],
            person_years: columns.big_l[i],
            probability_of_dying: columns.q[i],
        })
        .collect())
}

/// The first table-wide reason not to report, in the order PHEindicatormethods checks.
/// `bands` is sorted by start age.
fn table_reason(bands: &[AgeBand], structure: &AgeStructure) -> Option<NotReported> {
    if bands.iter().any(|b| !b.deaths.is_finite() || !b.population.is_finite()) {
        return Some(NotReported::NonFiniteInput);
    }
    if !bands.iter().map(|b| b.start_age).eq(structure.start_ages().iter().copied()) {
        return Some(NotReported::AgeBandsDoNotMatch);
    }
    if let Some(b) = bands.iter().find(|b| b.deaths < 0.0) {
        return Some(NotReported::NegativeDeaths { start_age: b.start_age });
    }
    if let Some(b) = bands.iter().find(|b| b.population <= 0.0) {
        return Some(NotReported::NonPositivePopulation { start_age: b.start_age });
    }
    if let Some(b) = bands.iter().find(|b| b.deaths > b.population) {
        return Some(NotReported::DeathsExceedPopulation { start_age: b.start_age });
    }
    let total: f64 = bands.iter().map(|b| b.population).sum();
    if total <= MIN_TOTAL_POPULATION {
        return Some(NotReported::TotalPopulationTooSmall { total });
    }
    // The structure has at least two bands, so there is a last one.
    if bands.last().is_some_and(|b| b.deaths == 0.0) {
        return Some(NotReported::NoDeathsInFinalBand);
    }
    None
}

/// Applies the 20-year width rule and builds the limits.
fn report(value: f64, standard_error: f64, z: f64) -> std::result::Result<LifeExpectancyEstimate, NotReported> {
    let lower = value - z * standard_error;
    let upper = value + z * standard_error;
    if Z_95 * standard_error > MAX_CI_WIDTH_YEARS / 2.0 {
        Err(NotReported::ConfidenceIntervalTooWide { lower, upper, standard_error })
    } else {
        Ok(LifeExpectancyEstimate { value, lower, upper, standard_error })
    }
}

/// The columns of the life table (see the [module documentation](self)); `l` has `k + 1`
/// entries, the last being `l_k = 0`.
struct Columns {
    m: Vec<f64>,
    a: Vec<f64>,
    n: Vec<f64>,
    q: Vec<f64>,
    l: Vec<f64>,
    d: Vec<f64>,
    big_l: Vec<f64>,
    e: Vec<f64>,
}

/// The life table's columns by Chiang's method II.
///
/// Preconditions (checked by [`table_reason`]): at least two bands sorted by strictly
/// increasing start age; all counts finite; `0 ≤ D_i ≤ P_i`, `P_i > 0`; `D_{k−1} > 0`.
fn columns(bands: &[AgeBand]) -> Columns {
    let k = bands.len();
    let last = k - 1;

    let m: Vec<f64> = bands.iter().map(|b| b.deaths / b.population).collect();
    let a: Vec<f64> = bands.iter().map(|b| if b.start_age == 0 { 0.1 } else { 0.5 }).collect();
    // Width of each closed band; the open band is given 2 / M so that q = 1 below.
    let n: Vec<f64> = (0..k)
        .map(|i| match bands.get(i + 1) {
            Some(next) => f64::from(next.start_age - bands[i].start_age),
            None => 2.0 / m[i],
        })
        .collect();

    // q_i = n M / (1 + n M (1 − a)), or 1 when D > P / n / a.
    let q: Vec<f64> = (0..k)
        .map(|i| {
            if i == last {
                1.0
            } else if bands[i].deaths <= bands[i].population / n[i] / a[i] {
                m[i] * n[i] / (1.0 + m[i] * n[i] * (1.0 - a[i]))
            } else {
                1.0
            }
        })
        .collect();

    // l_0 = radix, l_{i+1} = l_i (1 − q_i); l_k = 0.
    let mut l = Vec::with_capacity(k + 1);
    l.push(RADIX);
    for i in 0..last {
        l.push(l[i] * (1.0 - q[i]));
    }
    l.push(0.0);
    let d: Vec<f64> = (0..k).map(|i| l[i] - l[i + 1]).collect();

    // Person-years lived in each band.
    let big_l: Vec<f64> =
        (0..k).map(|i| if i == last { l[i] / m[i] } else { n[i] * (l[i + 1] + a[i] * d[i]) }).collect();

    // T_i and e_i (e_i = 0 where l_i = 0, as the variance weights need).
    let mut t = vec![0.0; k];
    let mut running = 0.0;
    for i in (0..k).rev() {
        running += big_l[i];
        t[i] = running;
    }
    let e: Vec<f64> = (0..k).map(|i| if l[i] == 0.0 { 0.0 } else { t[i] / l[i] }).collect();

    Columns { m, a, n, q, l, d, big_l, e }
}

/// Life expectancy and its standard error: `(e_i, SE_i)` per band, or
/// [`NotReported::NoSurvivors`] where `l_i = 0`. Preconditions as for [`columns`].
fn chiang_ii(bands: &[AgeBand]) -> Vec<std::result::Result<(f64, f64), NotReported>> {
    let k = bands.len();
    let last = k - 1;
    let Columns { m, a, n, q, l, d, e, .. } = columns(bands);

    // Variance weights W_j and their tail sums.
    let w: Vec<f64> = (0..k)
        .map(|i| {
            let deaths = bands[i].deaths;
            if i == last {
                let s2 = 4.0 / (deaths * m[i] * m[i]);
                (l[i] / 2.0).powi(2) * s2
            } else {
                let s2 = if d[i] == 0.0 { 0.0 } else { q[i] * q[i] * (1.0 - q[i]) / deaths };
                s2 * l[i] * l[i] * ((1.0 - a[i]) * n[i] + e[i + 1]).powi(2)
            }
        })
        .collect();
    let mut st = vec![0.0; k];
    let mut running = 0.0;
    for i in (0..k).rev() {
        running += w[i];
        st[i] = running;
    }

    (0..k)
        .map(|i| if l[i] == 0.0 { Err(NotReported::NoSurvivors) } else { Ok((e[i], (st[i] / (l[i] * l[i])).sqrt())) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_structure_has_twenty_bands() {
        let s = AgeStructure::standard();
        assert_eq!(s.start_ages().len(), 20);
        assert_eq!(s.start_ages()[..3], [0, 1, 5]);
        assert_eq!(s.start_ages().last(), Some(&90));
    }

    #[test]
    fn invalid_structures_are_rejected() {
        assert!(AgeStructure::new(vec![0]).is_err());
        assert!(AgeStructure::new(vec![1, 5]).is_err());
        assert!(AgeStructure::new(vec![0, 5, 5, 10]).is_err());
        assert!(AgeStructure::new(vec![0, 10, 5]).is_err());
        assert!(AgeStructure::new(vec![0, 1, 5]).is_ok());
    }

    #[test]
    fn z_95_constant_matches_statrs() {
        assert!((ConfidenceLevel::NINETY_FIVE.z() - Z_95).abs() < 1e-12);
    }
}

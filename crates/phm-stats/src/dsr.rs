//! Directly standardised rates (DSRs) with confidence limits by Dobson et al.'s method, as
//! PHEindicatormethods `calculate_dsr` computes them, including its adjustment for
//! non-independent (recurrent) events.
//!
//! The standard population is the caller's: OpenPHM passes the European Standard Population
//! 2013 from `reference/esp2013.csv`, but any standard with one weight per band will do.
//!
//! # Method
//!
//! With `O_i` events, `n_i` population (person-years) and `w_i` standard population in band i,
//! `O = Σ O_i` and `W = Σ w_i`:
//!
//! * `DSR = Σ (w_i O_i / n_i) / W × multiplier`;
//! * its variance (per person, before the multiplier) `V = Σ w_i² O_i / n_i² / W²`;
//! * Dobson's limits (Dobson et al. 1991) carry Byar's limits `O_L`, `O_U` of the total count
//!   over to the DSR: `DSR + √(V / O) (O_L − O) × multiplier` and
//!   `DSR + √(V / O) (O_U − O) × multiplier` (Byar's approximation, Breslow and Day 1987; see
//!   [`poisson`]).
//!
//! **Non-independent events** (a person can have the event more than once, e.g. admissions):
//! each band gives the number of persons `P_{f,i}` with each event frequency f. The events are
//! `O_i = Σ_f f P_{f,i}` and the variance becomes `V = Σ_f f² Σ_i w_i² P_{f,i} / n_i² / W²`,
//! which widens the limits; the DSR itself is unchanged (Fingertips Public Health Technical
//! Guidance, DSR chapter; `calculate_dsr(independent_events = FALSE)`).
//!
//! # When a value is not reported
//!
//! As `calculate_dsr`: a band with a population of zero or below, negative events or a negative
//! standard population (the R function stops with an error, so a band with no population is
//! never silently dropped or given a rate of zero); and a total count below
//! [`MIN_TOTAL_COUNT`] (10), where the R function returns `NA` for the value and its limits.
//! Also when the standard population sums to zero, there are no bands, or an input is not a
//! finite number. A missing count (R's `NA`) should be passed as 0, as the R function treats it.
//!
//! # References
//!
//! 1. Dobson AJ, Kuulasmaa K, Eberle E, Scherer J. Confidence intervals for weighted sums of
//!    Poisson parameters. *Stat Med* 1991; 10: 457–462.
//! 2. Breslow NE, Day NE. *Statistical Methods in Cancer Research, volume II.* Lyon: IARC, 1987.
//! 3. Office for Health Improvement and Disparities. *Public Health Technical Guidance*
//!    (Fingertips), chapter on directly standardised rates.

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Limits, Multiplier};
use crate::poisson;

/// DSRs whose total count is below this are not reported.
pub const MIN_TOTAL_COUNT: f64 = 10.0;

/// One standardisation band (usually an age band) of an area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsrBand {
    /// Events observed in the band.
    pub events: f64,
    /// Population (person-years at risk) of the band.
    pub population: f64,
    /// The standard population's weight for the band (e.g. ESP 2013).
    pub standard_population: f64,
}

/// Persons who had the event a given number of times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventFrequency {
    /// How many times each of these persons had the event (1, 2, 3, …).
    pub frequency: f64,
    /// How many persons had it that many times.
    pub persons: f64,
}

/// One standardisation band for non-independent events: persons by event frequency instead of
/// a count of events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecurrentEventsBand<'a> {
    /// Persons by the number of events they had in the band.
    pub persons_by_frequency: &'a [EventFrequency],
    /// Population (person-years at risk) of the band.
    pub population: f64,
    /// The standard population's weight for the band.
    pub standard_population: f64,
}

/// Why a DSR is not reported. `band` is the position of the offending band in the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// No bands were given.
    NoBands,
    /// A count, population, weight, frequency or number of persons is NaN or infinite.
    NonFiniteInput {
        /// Position of the first such band.
        band: usize,
    },
    /// A band has negative events (or a negative number of persons or frequency).
    NegativeEvents {
        /// Position of the first such band.
        band: usize,
    },
    /// A band has a population of zero or below.
    NonPositivePopulation {
        /// Position of the first such band.
        band: usize,
    },
    /// A band has a negative standard population.
    NegativeStandardPopulation {
        /// Position of the first such band.
        band: usize,
    },
    /// The standard population sums to zero.
    ZeroStandardPopulation,
    /// The total count is below [`MIN_TOTAL_COUNT`].
    TotalCountTooSmall {
        /// The total count.
        total_count: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBands => write!(f, "no standardisation bands were given"),
            Self::NonFiniteInput { band } => write!(f, "band {band} has a value that is not a finite number"),
            Self::NegativeEvents { band } => write!(f, "band {band} has negative events"),
            Self::NonPositivePopulation { band } => {
                write!(f, "band {band} has a population of zero or less")
            }
            Self::NegativeStandardPopulation { band } => {
                write!(f, "band {band} has a negative standard population")
            }
            Self::ZeroStandardPopulation => write!(f, "the standard population sums to zero"),
            Self::TotalCountTooSmall { total_count } => {
                write!(f, "the total count ({total_count}) is below the minimum of {MIN_TOTAL_COUNT} for a DSR")
            }
        }
    }
}

/// A reported DSR; its limits can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dsr {
    /// Σ w_i O_i / n_i / W, per person.
    rate: f64,
    /// V, per person².
    variance: f64,
    total_count: f64,
    total_population: f64,
    independent_events: bool,
    multiplier: Multiplier,
}

/// The DSR of independent events (see the [module documentation](self)), or why it is not
/// reported.
pub fn dsr(bands: &[DsrBand], multiplier: Multiplier) -> Result<Dsr, NotReported> {
    let rows: Vec<Row> = bands
        .iter()
        .map(|b| Row {
            counts: vec![b.events],
            population: b.population,
            standard: b.standard_population,
            // Σ_f f² P_f for the single frequency 1 is the count itself.
            events: b.events,
            events_squared: b.events,
        })
        .collect();
    build(&rows, true, multiplier)
}

/// The DSR of non-independent events, with the variance adjusted for persons who had the event
/// more than once (see the [module documentation](self)), or why it is not reported.
pub fn dsr_recurrent(bands: &[RecurrentEventsBand<'_>], multiplier: Multiplier) -> Result<Dsr, NotReported> {
    let rows: Vec<Row> = bands
        .iter()
        .map(|b| Row {
            counts: b.persons_by_frequency.iter().flat_map(|f| [f.frequency, f.persons]).collect(),
            population: b.population,
            standard: b.standard_population,
            events: b.persons_by_frequency.iter().map(|f| f.frequency * f.persons).sum(),
            events_squared: b.persons_by_frequency.iter().map(|f| f.frequency * f.frequency * f.persons).sum(),
        })
        .collect();
    build(&rows, false, multiplier)
}

/// One band as the calculation sees it.
struct Row {
    /// The numbers that must be finite and not negative: the count, or frequencies and persons.
    counts: Vec<f64>,
    population: f64,
    standard: f64,
    /// `O_i = Σ_f f P_{f,i}`.
    events: f64,
    /// `Σ_f f² P_{f,i}` (equal to `O_i` for independent events).
    events_squared: f64,
}

/// Checks the bands rule by rule in `calculate_dsr`'s order, then sums them into a DSR.
fn build(rows: &[Row], independent_events: bool, multiplier: Multiplier) -> Result<Dsr, NotReported> {
    let first = |bad: &dyn Fn(&Row) -> bool| rows.iter().position(bad);
    if rows.is_empty() {
        return Err(NotReported::NoBands);
    }
    if let Some(band) =
        first(&|r| !r.population.is_finite() || !r.standard.is_finite() || r.counts.iter().any(|c| !c.is_finite()))
    {
        return Err(NotReported::NonFiniteInput { band });
    }
    if let Some(band) = first(&|r| r.counts.iter().any(|&c| c < 0.0)) {
        return Err(NotReported::NegativeEvents { band });
    }
    if let Some(band) = first(&|r| r.population <= 0.0) {
        return Err(NotReported::NonPositivePopulation { band });
    }
    if let Some(band) = first(&|r| r.standard < 0.0) {
        return Err(NotReported::NegativeStandardPopulation { band });
    }

    let total_count: f64 = rows.iter().map(|r| r.events).sum();
    let total_population: f64 = rows.iter().map(|r| r.population).sum();
    let weights: f64 = rows.iter().map(|r| r.standard).sum();
    let weighted: f64 = rows.iter().map(|r| r.events * r.standard / r.population).sum();
    let squared: f64 = rows.iter().map(|r| r.events_squared * (r.standard / r.population).powi(2)).sum();
    if weights == 0.0 {
        return Err(NotReported::ZeroStandardPopulation);
    }
    if total_count < MIN_TOTAL_COUNT {
        return Err(NotReported::TotalCountTooSmall { total_count });
    }
    Ok(Dsr {
        rate: weighted / weights,
        variance: squared / (weights * weights),
        total_count,
        total_population,
        independent_events,
        multiplier,
    })
}

impl Dsr {
    /// The DSR, `Σ (w_i O_i / n_i) / W × multiplier`.
    pub fn value(&self) -> f64 {
        self.rate * self.multiplier.value()
    }

    /// The total count `O`.
    pub fn total_count(&self) -> f64 {
        self.total_count
    }

    /// The total population `Σ n_i`.
    pub fn total_population(&self) -> f64 {
        self.total_population
    }

    /// The variance `V` of the DSR per person (before the multiplier).
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// Whether the events were taken as independent (`false` for [`dsr_recurrent`]).
    pub fn independent_events(&self) -> bool {
        self.independent_events
    }

    /// Dobson's limits at `confidence`: `DSR + √(V / O) (O_{L,U} − O) × multiplier`.
    ///
    /// The total count is at least 10, where Byar's lower limit is positive at any level up to
    /// about 99.999 999 99%; beyond that the count's lower limit is taken as 0.
    pub fn limits(&self, confidence: ConfidenceLevel) -> Limits {
        let o = self.total_count;
        let lower_count = poisson::byar_lower(o, confidence).unwrap_or(0.0);
        let upper_count = poisson::byar_upper(o, confidence).unwrap_or(f64::NAN);
        let spread = (self.variance / o).sqrt() * self.multiplier.value();
        let value = self.value();
        Limits { lower: value + spread * (lower_count - o), upper: value + spread * (upper_count - o) }
    }

    /// The DSR with its limits at `confidence`.
    pub fn estimate(&self, confidence: ConfidenceLevel) -> Estimate {
        Estimate::new(self.value(), self.limits(confidence), confidence)
    }
}

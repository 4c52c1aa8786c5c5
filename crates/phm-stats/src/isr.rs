//! Indirect standardisation: the indirectly standardised ratio (ISR; a standardised mortality
//! ratio, SMR, when the events are deaths) and the indirectly standardised rate, as
//! PHEindicatormethods `calculate_ISRatio` and `calculate_ISRate` compute them.
//!
//! # Method
//!
//! The expected count is either given, or computed from the reference population's rates in
//! each band applied to the local population: `E = Σ_i (R_i / N_i) n_i`, with `R_i` reference
//! events, `N_i` reference population and `n_i` local population in band i. With O observed
//! events:
//!
//! * ratio `O / E × scale` (`scale` is R's `refvalue`: 1, or 100 for an SMR of 100);
//! * rate `O / E × r × multiplier`, where `r = Σ R_i / Σ N_i` is the reference population's
//!   crude rate (so the rate can only be had when the expected count comes from bands);
//! * limits: the Poisson limits `O_L`, `O_U` of the observed count (exact below 10, Byar's from
//!   10; see [`poisson`](crate::poisson)) put in place of O.
//!
//! # When a value is not reported
//!
//! When the observed count is negative, a local population is negative, a reference population
//! is zero or below, reference events are negative, the expected count is not above zero (the
//! ratio would be infinite), or an input is not a finite number. A local band with no
//! population (or R's `NA`, which the R functions treat as 0) simply expects no events.
//!
//! # References
//!
//! 1. Breslow NE, Day NE. *Statistical Methods in Cancer Research, volume II.* Lyon: IARC, 1987.
//! 2. Armitage P, Berry G. *Statistical Methods in Medical Research* (4th edn). Oxford:
//!    Blackwell, 2002.

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Limits, Multiplier};
use crate::poisson::PoissonMethod;
use crate::rate::{self, Count};

/// One standardisation band (usually an age band): the local population and the reference
/// population's events and population.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceBand {
    /// Local population (person-years) of the band.
    pub population: f64,
    /// Events in the reference population in the band.
    pub reference_events: f64,
    /// The reference population (person-years) of the band.
    pub reference_population: f64,
}

/// Why an indirectly standardised ratio or rate is not reported. `band` is the position of the
/// offending band in the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// The observed or expected count, or a band's value, is NaN or infinite.
    NonFiniteInput,
    /// The observed count is below zero.
    NegativeObserved {
        /// The observed count given.
        observed: f64,
    },
    /// No bands were given.
    NoBands,
    /// A band has a negative local population.
    NegativePopulation {
        /// Position of the first such band.
        band: usize,
    },
    /// A band has negative reference events.
    NegativeReferenceEvents {
        /// Position of the first such band.
        band: usize,
    },
    /// A band has a reference population of zero or below, so it has no reference rate.
    NonPositiveReferencePopulation {
        /// Position of the first such band.
        band: usize,
    },
    /// The expected count is not above zero.
    NoExpectedEvents {
        /// The expected count.
        expected: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteInput => write!(f, "an observed, expected or band value is not a finite number"),
            Self::NegativeObserved { observed } => write!(f, "the observed count ({observed}) is below zero"),
            Self::NoBands => write!(f, "no standardisation bands were given"),
            Self::NegativePopulation { band } => write!(f, "band {band} has a negative population"),
            Self::NegativeReferenceEvents { band } => write!(f, "band {band} has negative reference events"),
            Self::NonPositiveReferencePopulation { band } => {
                write!(f, "band {band} has a reference population of zero or less")
            }
            Self::NoExpectedEvents { expected } => {
                write!(f, "the expected count ({expected}) is not greater than zero")
            }
        }
    }
}

/// A validated observed and expected count; the ratio and (when the expected count came from
/// bands) the rate can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndirectlyStandardised {
    observed: Count,
    expected: f64,
    /// `Σ R_i / Σ N_i`, per person; `None` when the expected count was given.
    reference_rate: Option<f64>,
}

/// Observed against a given expected count (the ratio only), or why it is not reported.
pub fn from_expected(observed: f64, expected: f64) -> Result<IndirectlyStandardised, NotReported> {
    let observed = observed_count(observed)?;
    if !expected.is_finite() {
        return Err(NotReported::NonFiniteInput);
    }
    if expected <= 0.0 {
        return Err(NotReported::NoExpectedEvents { expected });
    }
    Ok(IndirectlyStandardised { observed, expected, reference_rate: None })
}

/// Observed against the count expected from reference rates by band,
/// `E = Σ_i (R_i / N_i) n_i`, or why it is not reported.
pub fn from_bands(observed: f64, bands: &[ReferenceBand]) -> Result<IndirectlyStandardised, NotReported> {
    let observed = observed_count(observed)?;
    if bands.is_empty() {
        return Err(NotReported::NoBands);
    }
    let first = |bad: &dyn Fn(&ReferenceBand) -> bool| bands.iter().position(bad);
    if first(&|b| !b.population.is_finite() || !b.reference_events.is_finite() || !b.reference_population.is_finite())
        .is_some()
    {
        return Err(NotReported::NonFiniteInput);
    }
    if let Some(band) = first(&|b| b.population < 0.0) {
        return Err(NotReported::NegativePopulation { band });
    }
    if let Some(band) = first(&|b| b.reference_events < 0.0) {
        return Err(NotReported::NegativeReferenceEvents { band });
    }
    if let Some(band) = first(&|b| b.reference_population <= 0.0) {
        return Err(NotReported::NonPositiveReferencePopulation { band });
    }
    let expected: f64 = bands.iter().map(|b| b.reference_events / b.reference_population * b.population).sum();
    let reference_events: f64 = bands.iter().map(|b| b.reference_events).sum();
    let reference_population: f64 = bands.iter().map(|b| b.reference_population).sum();
    if expected <= 0.0 {
        return Err(NotReported::NoExpectedEvents { expected });
    }
    Ok(IndirectlyStandardised { observed, expected, reference_rate: Some(reference_events / reference_population) })
}

fn observed_count(observed: f64) -> Result<Count, NotReported> {
    rate::count(observed).map_err(|reason| match reason {
        rate::NotReported::NegativeCount { count } => NotReported::NegativeObserved { observed: count },
        rate::NotReported::NonFiniteInput | rate::NotReported::NonPositiveDenominator { .. } => {
            NotReported::NonFiniteInput
        }
    })
}

impl IndirectlyStandardised {
    /// The observed count O.
    pub fn observed(&self) -> f64 {
        self.observed.value()
    }

    /// The expected count E.
    pub fn expected(&self) -> f64 {
        self.expected
    }

    /// The reference population's crude rate `Σ R_i / Σ N_i` per person, when the expected count
    /// came from bands.
    pub fn reference_rate(&self) -> Option<f64> {
        self.reference_rate
    }

    /// Which limits the observed count gets.
    pub fn method(&self) -> PoissonMethod {
        self.observed.method()
    }

    /// The ratio `O / E × scale` with limits `O_{L,U} / E × scale` at `confidence`.
    pub fn ratio(&self, confidence: ConfidenceLevel, scale: Multiplier) -> Estimate {
        self.scaled(confidence, scale.value())
    }

    /// The indirectly standardised rate `O / E × r × multiplier` with limits
    /// `O_{L,U} / E × r × multiplier` at `confidence`, or `None` when the expected count was given
    /// rather than computed from bands (there is then no reference rate r).
    pub fn rate(&self, confidence: ConfidenceLevel, multiplier: Multiplier) -> Option<Estimate> {
        self.reference_rate.map(|r| self.scaled(confidence, r * multiplier.value()))
    }

    fn scaled(&self, confidence: ConfidenceLevel, factor: f64) -> Estimate {
        let Limits { lower, upper } = self.observed.limits(confidence);
        Estimate {
            value: self.observed.value() / self.expected * factor,
            lower: lower / self.expected * factor,
            upper: upper / self.expected * factor,
            confidence,
        }
    }
}

//! A crude rate, and a count on its own, with Poisson confidence limits, as PHEindicatormethods
//! `phe_rate` computes them.
//!
//! # Method
//!
//! For O events in a denominator n (persons or person-years), the rate is `O / n × multiplier`
//! and its limits are the count's limits `O_L`, `O_U` divided by n and multiplied likewise:
//! exact limits `χ²_{α/2}(2O)/2` and `χ²_{1−α/2}(2O + 2)/2` when O < 10, and Byar's
//! approximation otherwise (see [`poisson`] for both formulas and references).
//! A [`Count`] is the same without a denominator: O with limits `O_L`, `O_U`.
//!
//! # When a value is not reported
//!
//! As `phe_rate` (which stops with an error): the count is below zero, the denominator is not
//! above zero, or either is not a finite number. A count may exceed its denominator (a rate of
//! events, not of persons), and fractional counts are allowed.

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Limits, Multiplier};
use crate::poisson::{self, PoissonMethod};

/// Why a rate or count is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// The count or denominator is NaN or infinite.
    NonFiniteInput,
    /// The count is below zero.
    NegativeCount {
        /// The count given.
        count: f64,
    },
    /// The denominator is zero or below.
    NonPositiveDenominator {
        /// The denominator given.
        denominator: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteInput => write!(f, "the count or denominator is not a finite number"),
            Self::NegativeCount { count } => write!(f, "the count ({count}) is below zero"),
            Self::NonPositiveDenominator { denominator } => {
                write!(f, "the denominator ({denominator}) is not greater than zero")
            }
        }
    }
}

/// A validated count of events; its limits can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Count {
    count: f64,
}

/// A count with Poisson limits (exact below 10, Byar's from 10), or why it is not reported.
pub fn count(count: f64) -> Result<Count, NotReported> {
    if !count.is_finite() {
        return Err(NotReported::NonFiniteInput);
    }
    if count < 0.0 {
        return Err(NotReported::NegativeCount { count });
    }
    Ok(Count { count })
}

impl Count {
    /// The count.
    pub fn value(&self) -> f64 {
        self.count
    }

    /// Which limits the count gets.
    pub fn method(&self) -> PoissonMethod {
        PoissonMethod::for_count(self.count)
    }

    /// The count's limits at `confidence`.
    pub fn limits(&self, confidence: ConfidenceLevel) -> Limits {
        // Validated on construction, so the limits exist.
        poisson::limits(self.count, confidence).unwrap_or(Limits { lower: f64::NAN, upper: f64::NAN })
    }

    /// The count with its limits at `confidence`.
    pub fn estimate(&self, confidence: ConfidenceLevel) -> Estimate {
        Estimate::new(self.count, self.limits(confidence), confidence)
    }
}

/// A validated crude rate; its limits can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    count: Count,
    denominator: f64,
    multiplier: Multiplier,
}

/// The crude rate `count / denominator × multiplier` (see the [module documentation](self)), or
/// why it is not reported.
pub fn rate(count: f64, denominator: f64, multiplier: Multiplier) -> Result<Rate, NotReported> {
    if !denominator.is_finite() {
        return Err(NotReported::NonFiniteInput);
    }
    let count = self::count(count)?;
    if denominator <= 0.0 {
        return Err(NotReported::NonPositiveDenominator { denominator });
    }
    Ok(Rate { count, denominator, multiplier })
}

impl Rate {
    /// The count of events.
    pub fn count(&self) -> f64 {
        self.count.value()
    }

    /// The denominator.
    pub fn denominator(&self) -> f64 {
        self.denominator
    }

    /// Which limits the rate gets (by its count).
    pub fn method(&self) -> PoissonMethod {
        self.count.method()
    }

    /// The rate, `O / n × multiplier`.
    pub fn value(&self) -> f64 {
        self.count.value() / self.denominator * self.multiplier.value()
    }

    /// The rate's limits at `confidence`: the count's limits `/ n × multiplier`.
    pub fn limits(&self, confidence: ConfidenceLevel) -> Limits {
        self.count.limits(confidence).scaled(self.multiplier.value() / self.denominator)
    }

    /// The rate with its limits at `confidence`.
    pub fn estimate(&self, confidence: ConfidenceLevel) -> Estimate {
        Estimate::new(self.value(), self.limits(confidence), confidence)
    }
}

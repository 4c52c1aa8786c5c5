//! A proportion with Wilson score confidence limits, as PHEindicatormethods `phe_proportion`
//! computes it.
//!
//! # Method
//!
//! For a numerator x of a denominator n and z the two-sided normal quantile of the confidence
//! level, the value is `x / n × multiplier` and the limits (Wilson 1927; Newcombe and Altman
//! 2000, pp. 46–48) are
//!
//! ```text
//! (2x + z² ∓ z √(z² + 4x (1 − x/n))) / (2 (n + z²)) × multiplier
//! ```
//!
//! They lie within [0, 1] × multiplier for any 0 ≤ x ≤ n, unlike the normal approximation, and
//! are the set of true proportions p for which |x/n − p| ≤ z √(p (1 − p) / n).
//!
//! # When a value is not reported
//!
//! As `phe_proportion` (which stops with an error), when the numerator is negative, the
//! denominator is not above zero, the numerator exceeds the denominator, or either is not a
//! finite number. Fractional counts are allowed.
//!
//! # References
//!
//! 1. Wilson EB. Probable inference, the law of succession, and statistical inference.
//!    *J Am Stat Assoc* 1927; 22: 209–212.
//! 2. Newcombe RG, Altman DG. Proportions and their differences. In: Altman DG et al. (eds),
//!    *Statistics with Confidence* (2nd edn). London: BMJ Books, 2000: 46–48.

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Limits, Multiplier};

/// Why a proportion is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// The numerator or denominator is NaN or infinite.
    NonFiniteInput,
    /// The numerator is below zero.
    NegativeNumerator {
        /// The numerator given.
        numerator: f64,
    },
    /// The denominator is zero or below.
    NonPositiveDenominator {
        /// The denominator given.
        denominator: f64,
    },
    /// The numerator is larger than the denominator.
    NumeratorExceedsDenominator {
        /// The numerator given.
        numerator: f64,
        /// The denominator given.
        denominator: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteInput => write!(f, "the numerator or denominator is not a finite number"),
            Self::NegativeNumerator { numerator } => write!(f, "the numerator ({numerator}) is below zero"),
            Self::NonPositiveDenominator { denominator } => {
                write!(f, "the denominator ({denominator}) is not greater than zero")
            }
            Self::NumeratorExceedsDenominator { numerator, denominator } => {
                write!(f, "the numerator ({numerator}) is larger than the denominator ({denominator})")
            }
        }
    }
}

/// A validated proportion; its limits can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    numerator: f64,
    denominator: f64,
    multiplier: Multiplier,
}

/// The proportion `numerator / denominator × multiplier` (see the [module documentation](self)),
/// or why it is not reported.
pub fn proportion(numerator: f64, denominator: f64, multiplier: Multiplier) -> Result<Proportion, NotReported> {
    if !numerator.is_finite() || !denominator.is_finite() {
        return Err(NotReported::NonFiniteInput);
    }
    if numerator < 0.0 {
        return Err(NotReported::NegativeNumerator { numerator });
    }
    if denominator <= 0.0 {
        return Err(NotReported::NonPositiveDenominator { denominator });
    }
    if numerator > denominator {
        return Err(NotReported::NumeratorExceedsDenominator { numerator, denominator });
    }
    Ok(Proportion { numerator, denominator, multiplier })
}

impl Proportion {
    /// The numerator.
    pub fn numerator(&self) -> f64 {
        self.numerator
    }

    /// The denominator.
    pub fn denominator(&self) -> f64 {
        self.denominator
    }

    /// The value, `x / n × multiplier`.
    pub fn value(&self) -> f64 {
        self.numerator / self.denominator * self.multiplier.value()
    }

    /// Wilson score limits at `confidence`, in the same unit as the value.
    pub fn limits(&self, confidence: ConfidenceLevel) -> Limits {
        wilson_limits(self.numerator, self.denominator, confidence).scaled(self.multiplier.value())
    }

    /// The value with its limits at `confidence`.
    pub fn estimate(&self, confidence: ConfidenceLevel) -> Estimate {
        Estimate::new(self.value(), self.limits(confidence), confidence)
    }
}

/// Wilson score limits of the fraction `numerator / denominator` (multiplier 1), or `None` unless
/// `0 ≤ numerator ≤ denominator`, `denominator > 0` and both are finite.
pub fn wilson(numerator: f64, denominator: f64, confidence: ConfidenceLevel) -> Option<Limits> {
    proportion(numerator, denominator, Multiplier::ONE)
        .ok()
        .map(|p| wilson_limits(p.numerator, p.denominator, confidence))
}

/// `(2x + z² ∓ z √(z² + 4x (1 − x/n))) / (2 (n + z²))` for valid x and n.
pub(crate) fn wilson_limits(x: f64, n: f64, confidence: ConfidenceLevel) -> Limits {
    let z = confidence.z();
    let z2 = z * z;
    // x ≤ n, so the term under the root is at least z²; max() guards rounding when x = n.
    let root = z * (z2 + 4.0 * x * (1.0 - x / n)).max(0.0).sqrt();
    let denominator = 2.0 * (n + z2);
    Limits {
        lower: ((2.0 * x + z2 - root) / denominator).max(0.0),
        upper: ((2.0 * x + z2 + root) / denominator).min(1.0),
    }
}

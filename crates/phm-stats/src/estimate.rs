//! The shapes every method reports in: a [`Multiplier`] that scales a fraction or a rate per
//! person to the unit an indicator is published in, the confidence [`Limits`] at one level, and an
//! [`Estimate`]: a value with its limits.
//!
//! Each method validates its data once (or says why it will not report), then gives its limits
//! at any [`ConfidenceLevel`] the caller asks for, so 95% and 99.8% limits come from the same
//! validated input.

use crate::confidence::ConfidenceLevel;
use crate::error::{Error, Result};

/// The number a fraction or a rate per person is multiplied by to express it in the indicator's
/// unit: 1 for a fraction, 100 for a percentage, 100 000 for a rate per 100 000.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Multiplier(f64);

impl Multiplier {
    /// 1: a plain fraction or ratio.
    pub const ONE: Self = Self(1.0);
    /// 100: a percentage (or an indirectly standardised ratio × 100).
    pub const PERCENT: Self = Self(100.0);
    /// 1 000: per 1 000.
    pub const PER_THOUSAND: Self = Self(1_000.0);
    /// 100 000: per 100 000, the default of PHEindicatormethods' rates and DSRs.
    pub const PER_100_000: Self = Self(100_000.0);

    /// A multiplier from a number.
    ///
    /// # Errors
    /// [`Error::Multiplier`] unless `value` is finite and greater than zero.
    pub fn new(value: f64) -> Result<Self> {
        if value.is_finite() && value > 0.0 { Ok(Self(value)) } else { Err(Error::Multiplier { value }) }
    }

    /// The multiplier as a number.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// Lower and upper confidence limits at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
}

impl Limits {
    /// Both limits multiplied by `factor`.
    pub(crate) fn scaled(self, factor: f64) -> Self {
        Self { lower: self.lower * factor, upper: self.upper * factor }
    }

    /// Whether `x` lies within the limits, ends included.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// A reported value with its confidence limits at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The value, in the indicator's unit.
    pub value: f64,
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
    /// The level of the limits.
    pub confidence: ConfidenceLevel,
}

impl Estimate {
    /// An estimate from a value and its limits at `confidence`.
    pub fn new(value: f64, limits: Limits, confidence: ConfidenceLevel) -> Self {
        Self { value, lower: limits.lower, upper: limits.upper, confidence }
    }

    /// The limits alone.
    pub fn limits(&self) -> Limits {
        Limits { lower: self.lower, upper: self.upper }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_must_be_finite_and_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Multiplier::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Multiplier::new(100.0), Ok(Multiplier::PERCENT));
    }

    #[test]
    fn limits_contain_their_ends() {
        let l = Limits { lower: 1.0, upper: 2.0 };
        assert!(l.contains(1.0) && l.contains(2.0) && l.contains(1.5));
        assert!(!l.contains(0.999) && !l.contains(2.001) && !l.contains(f64::NAN));
    }
}

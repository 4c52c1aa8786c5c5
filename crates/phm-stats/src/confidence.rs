//! Confidence levels for two-sided confidence intervals.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// A two-sided confidence level, stored as a fraction strictly between 0 and 1 (0.95 for 95%).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct ConfidenceLevel(f64);

impl ConfidenceLevel {
    /// 95%, the default of every PHEindicatormethods function.
    pub const NINETY_FIVE: Self = Self(0.95);
    /// 99.8%, the outer control limit used in funnel plots.
    pub const NINETY_NINE_POINT_EIGHT: Self = Self(0.998);

    /// A confidence level from a fraction, e.g. `0.95`.
    ///
    /// # Errors
    /// [`Error::ConfidenceLevel`] unless `0 < level < 1`.
    pub fn new(level: f64) -> Result<Self> {
        if level > 0.0 && level < 1.0 { Ok(Self(level)) } else { Err(Error::ConfidenceLevel { level }) }
    }

    /// A confidence level from a percentage, e.g. `95.0`.
    ///
    /// # Errors
    /// [`Error::ConfidenceLevel`] unless `0 < percent < 100`.
    pub fn from_percent(percent: f64) -> Result<Self> {
        Self::new(percent / 100.0).map_err(|_| Error::ConfidenceLevel { level: percent / 100.0 })
    }

    /// The level as a fraction.
    pub fn fraction(self) -> f64 {
        self.0
    }

    /// The standard normal quantile for a two-sided interval at this level:
    /// z = Φ⁻¹(1 − (1 − c)/2), e.g. 1.959964 for 95%.
    pub fn z(self) -> f64 {
        Normal::standard().inverse_cdf(1.0 - (1.0 - self.0) / 2.0)
    }
}

impl Default for ConfidenceLevel {
    fn default() -> Self {
        Self::NINETY_FIVE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_for_95_percent() {
        assert!((ConfidenceLevel::NINETY_FIVE.z() - 1.959_963_984_540_054).abs() < 1e-12);
    }

    #[test]
    fn rejects_levels_outside_open_unit_interval() {
        for bad in [0.0, 1.0, -0.1, 95.0, f64::NAN] {
            assert!(ConfidenceLevel::new(bad).is_err(), "{bad}");
        }
        assert_eq!(ConfidenceLevel::from_percent(95.0), Ok(ConfidenceLevel::NINETY_FIVE));
    }
}

//! Comparing an area's value with a comparator (England, the region, the ICS), as Fingertips
//! colours its tartan rugs and spine charts.
//!
//! # Method
//!
//! The statistical question is whether the area is [`Significance::Higher`], [`Similar`] or
//! [`Lower`] than the comparator at a confidence level (Fingertips uses 95% and 99.8%). The
//! answer is then read through the indicator's [`Polarity`]: Better/Worse when higher is better
//! or lower is better, Higher/Lower when there is no judgement (Fingertips' blue "no polarity"
//! colours). An area or comparator with no value is [`Comparison::NotCompared`], with the reason.
//!
//! Three tests are offered, the three Fingertips uses (comparator methods 1, 5 and 6 of its
//! source, `PholioVisualisationWS/Analysis`):
//!
//! * [`compare_with_interval`], the **default** for every kind of indicator: the area is Similar
//!   when the comparator's *value* lies within the area's confidence interval (ends included),
//!   otherwise Higher or Lower as the area's value is above or below it. It needs only the area's
//!   limits, so it works for any method of this crate, and it is what the Fingertips technical
//!   guidance describes. Note that it is not a test of two intervals overlapping.
//! * [`compare_proportion`], Fingertips' "SPC for proportions": control limits are built around
//!   the comparator instead of the area, as the Wilson score interval of `E = n P₀` events out of
//!   the area's denominator n, `(2E + z² ∓ z √(z² + 4E (1 − E/n))) / (2 (n + z²))`; the area is
//!   Higher or Lower when its proportion lies strictly outside them. This is a score test of the
//!   area's proportion against the comparator's and is preferred where the comparator is a
//!   population value, e.g. screening coverage.
//! * [`compare_rate`], Fingertips' "SPC for DSRs": exact Poisson limits of the count expected at
//!   the comparator's rate, `E = R₀ n / multiplier`, i.e. `χ²_{α/2}(2E)/2` and `χ²_{1−α/2}(2E+2)/2`,
//!   divided by n and multiplied back; the area is Higher or Lower when its rate lies strictly
//!   outside them. Fingertips sums the Poisson series over whole counts, which for a
//!   non-integer E amounts to using ⌈E⌉ for the lower and ⌊E⌋ for the upper limit; here E is used
//!   as it is (the chi-squared form, as PHEindicatormethods treats non-integer counts), which can
//!   differ from Fingertips only for an area whose rate lies within that rounding of a limit.
//!
//! # References
//!
//! 1. Office for Health Improvement and Disparities. *Public Health Technical Guidance*
//!    (Fingertips): "Comparing indicator values with a benchmark".
//! 2. Fingertips source, `ukhsa-collaboration/fingertips-open`:
//!    `SingleOverlappingCIsForOneCILevelComparer`, `SpcForProportionsComparer`,
//!    `SpcForDsrComparer`.
//! 3. Wilson EB. *J Am Stat Assoc* 1927; 22: 209–212. Armitage P, Berry G. *Statistical Methods
//!    in Medical Research* (4th edn), 2002.
//!
//! [`Similar`]: Significance::Similar
//! [`Lower`]: Significance::Lower

use std::fmt;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Multiplier};
use crate::{poisson, proportion};

/// Which direction is good for an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// A higher value is better (e.g. screening coverage).
    HigherIsBetter,
    /// A lower value is better (e.g. mortality).
    LowerIsBetter,
    /// Neither is better (e.g. a prevalence); comparisons say Higher or Lower.
    NoJudgement,
}

/// The statistical result, before polarity: where the area lies relative to the comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Significance {
    /// Significantly lower than the comparator.
    Lower,
    /// Not significantly different from the comparator.
    Similar,
    /// Significantly higher than the comparator.
    Higher,
}

/// Why an area was not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCompared {
    /// The area has no value (e.g. it was not reported).
    AreaValueMissing,
    /// The area's confidence limits are missing or not finite.
    AreaLimitsMissing,
    /// The area's lower confidence limit is above its upper limit: the limits are not an
    /// interval (columns swapped, or a mistake upstream).
    AreaLimitsReversed,
    /// The comparator has no value.
    ComparatorValueMissing,
    /// The area's denominator is missing, not finite, or not above zero.
    InvalidDenominator,
    /// The comparator's value is impossible for the test (a negative rate, or a proportion
    /// outside 0 to the multiplier).
    ComparatorOutOfRange,
}

impl fmt::Display for NotCompared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AreaValueMissing => "the area has no value",
            Self::AreaLimitsMissing => "the area has no confidence limits",
            Self::AreaLimitsReversed => "the area's lower confidence limit is above its upper limit",
            Self::ComparatorValueMissing => "the comparator has no value",
            Self::InvalidDenominator => "the area's denominator is missing or not greater than zero",
            Self::ComparatorOutOfRange => "the comparator's value is outside the range the test allows",
        })
    }
}

/// The outcome of comparing an area with a comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Significantly better (the indicator has a polarity).
    Better,
    /// Not significantly different.
    Similar,
    /// Significantly worse (the indicator has a polarity).
    Worse,
    /// Significantly higher (the indicator has no polarity).
    Higher,
    /// Significantly lower (the indicator has no polarity).
    Lower,
    /// Not compared, and why.
    NotCompared(NotCompared),
}

impl Comparison {
    /// A significance read through a polarity.
    pub fn from_significance(significance: Significance, polarity: Polarity) -> Self {
        match (significance, polarity) {
            (Significance::Similar, _) => Self::Similar,
            (Significance::Higher, Polarity::HigherIsBetter) | (Significance::Lower, Polarity::LowerIsBetter) => {
                Self::Better
            }
            (Significance::Lower, Polarity::HigherIsBetter) | (Significance::Higher, Polarity::LowerIsBetter) => {
                Self::Worse
            }
            (Significance::Higher, Polarity::NoJudgement) => Self::Higher,
            (Significance::Lower, Polarity::NoJudgement) => Self::Lower,
        }
    }

    fn from_result(result: Result<Significance, NotCompared>, polarity: Polarity) -> Self {
        match result {
            Ok(significance) => Self::from_significance(significance, polarity),
            Err(reason) => Self::NotCompared(reason),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Better => f.write_str("better"),
            Self::Similar => f.write_str("similar"),
            Self::Worse => f.write_str("worse"),
            Self::Higher => f.write_str("higher"),
            Self::Lower => f.write_str("lower"),
            Self::NotCompared(reason) => write!(f, "not compared: {reason}"),
        }
    }
}

/// The default comparison: is the comparator's value within the area's confidence interval (at
/// the interval's level)? See the [module documentation](self).
pub fn compare_with_interval(area: Option<&Estimate>, comparator: Option<f64>, polarity: Polarity) -> Comparison {
    Comparison::from_result(significance_with_interval(area, comparator), polarity)
}

/// The [`Significance`] behind [`compare_with_interval`].
pub fn significance_with_interval(
    area: Option<&Estimate>,
    comparator: Option<f64>,
) -> Result<Significance, NotCompared> {
    let area = area.filter(|a| a.value.is_finite()).ok_or(NotCompared::AreaValueMissing)?;
    let comparator = comparator.filter(|c| c.is_finite()).ok_or(NotCompared::ComparatorValueMissing)?;
    if !area.lower.is_finite() || !area.upper.is_finite() {
        return Err(NotCompared::AreaLimitsMissing);
    }
    if area.lower > area.upper {
        return Err(NotCompared::AreaLimitsReversed);
    }
    Ok(if area.limits().contains(comparator) {
        Significance::Similar
    } else if area.value < comparator {
        Significance::Lower
    } else {
        Significance::Higher
    })
}

/// Fingertips' "SPC for proportions": the area's proportion against Wilson control limits around
/// the comparator at the area's denominator. `area` and `comparator` are in the unit given by
/// `multiplier` (e.g. percentages with [`Multiplier::PERCENT`]).
pub fn compare_proportion(
    area: Option<f64>,
    denominator: Option<f64>,
    comparator: Option<f64>,
    multiplier: Multiplier,
    confidence: ConfidenceLevel,
    polarity: Polarity,
) -> Comparison {
    let result = area_inputs(area, denominator, comparator).and_then(|(area, n, comparator)| {
        let unit = multiplier.value();
        let p0 = comparator / unit;
        let limits = proportion::wilson(n * p0, n, confidence).ok_or(NotCompared::ComparatorOutOfRange)?;
        Ok(outside(area / unit, limits.lower, limits.upper))
    });
    Comparison::from_result(result, polarity)
}

/// Fingertips' "SPC for DSRs" (used for rates too): the area's rate against exact Poisson control
/// limits of the count expected at the comparator's rate in the area's denominator (person-years).
/// `area` and `comparator` are rates per `multiplier`.
pub fn compare_rate(
    area: Option<f64>,
    denominator: Option<f64>,
    comparator: Option<f64>,
    multiplier: Multiplier,
    confidence: ConfidenceLevel,
    polarity: Polarity,
) -> Comparison {
    let result = area_inputs(area, denominator, comparator).and_then(|(area, n, comparator)| {
        let unit = multiplier.value();
        let expected = comparator * n / unit;
        let lower = poisson::exact_lower(expected, confidence).ok_or(NotCompared::ComparatorOutOfRange)?;
        let upper = poisson::exact_upper(expected, confidence).ok_or(NotCompared::ComparatorOutOfRange)?;
        Ok(outside(area, lower / n * unit, upper / n * unit))
    });
    Comparison::from_result(result, polarity)
}

/// Checks the inputs of the control-limit tests.
fn area_inputs(
    area: Option<f64>,
    denominator: Option<f64>,
    comparator: Option<f64>,
) -> Result<(f64, f64, f64), NotCompared> {
    let area = area.filter(|a| a.is_finite()).ok_or(NotCompared::AreaValueMissing)?;
    let comparator = comparator.filter(|c| c.is_finite()).ok_or(NotCompared::ComparatorValueMissing)?;
    let n = denominator.filter(|n| n.is_finite() && *n > 0.0).ok_or(NotCompared::InvalidDenominator)?;
    Ok((area, n, comparator))
}

/// Higher when `x` is strictly above `upper`, Lower when strictly below `lower`.
fn outside(x: f64, lower: f64, upper: f64) -> Significance {
    if x > upper {
        Significance::Higher
    } else if x < lower {
        Significance::Lower
    } else {
        Significance::Similar
    }
}

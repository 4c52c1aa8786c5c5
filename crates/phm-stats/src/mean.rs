//! A mean with confidence limits from Student's t-distribution, as PHEindicatormethods
//! `phe_mean` computes it.
//!
//! # Method
//!
//! For n values with sum S and sample standard deviation s (denominator n − 1), the mean is
//! `x̄ = S / n` and the limits are `x̄ ∓ t_{1−α/2, n−1} s / √n`, where `t_{p, ν}` is the
//! p-quantile of Student's t-distribution with ν degrees of freedom and α = 1 − c (Armitage and
//! Berry 2002, §4.6).
//!
//! # When a value is not reported
//!
//! When there are fewer than two values (the standard deviation, and so the limits, need n ≥ 2;
//! `phe_mean` returns `NA` limits there), the standard deviation is negative, or an input is not
//! a finite number.
//!
//! # References
//!
//! 1. Armitage P, Berry G. *Statistical Methods in Medical Research* (4th edn). Oxford:
//!    Blackwell, 2002.

use std::fmt;

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Estimate, Limits};

/// Why a mean is not reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReported {
    /// A value, the sum, the count or the standard deviation is NaN or infinite.
    NonFiniteInput,
    /// Fewer than two values, so there is no standard deviation.
    TooFewValues {
        /// The number of values.
        count: f64,
    },
    /// The standard deviation given is below zero.
    NegativeStandardDeviation {
        /// The standard deviation given.
        standard_deviation: f64,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteInput => write!(f, "a value, sum, count or standard deviation is not a finite number"),
            Self::TooFewValues { count } => {
                write!(f, "a mean with confidence limits needs at least two values, not {count}")
            }
            Self::NegativeStandardDeviation { standard_deviation } => {
                write!(f, "the standard deviation ({standard_deviation}) is below zero")
            }
        }
    }
}

/// A validated mean; its limits can be had at any confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mean {
    sum: f64,
    count: f64,
    standard_deviation: f64,
}

/// The mean of `values` with its sample standard deviation, or why it is not reported.
pub fn mean(values: &[f64]) -> Result<Mean, NotReported> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(NotReported::NonFiniteInput);
    }
    let n = values.len() as f64;
    if values.len() < 2 {
        return Err(NotReported::TooFewValues { count: n });
    }
    let sum: f64 = values.iter().sum();
    let centre = sum / n;
    // Two passes: the sum of squared deviations from the mean, not Σx² − n x̄².
    let squares: f64 = values.iter().map(|v| (v - centre).powi(2)).sum();
    mean_from_summary(sum, n, (squares / (n - 1.0)).sqrt())
}

/// The mean from the sum of the values, their count and their sample standard deviation, or why
/// it is not reported.
pub fn mean_from_summary(sum: f64, count: f64, standard_deviation: f64) -> Result<Mean, NotReported> {
    if !sum.is_finite() || !count.is_finite() || !standard_deviation.is_finite() {
        return Err(NotReported::NonFiniteInput);
    }
    if count < 2.0 {
        return Err(NotReported::TooFewValues { count });
    }
    if standard_deviation < 0.0 {
        return Err(NotReported::NegativeStandardDeviation { standard_deviation });
    }
    Ok(Mean { sum, count, standard_deviation })
}

impl Mean {
    /// The mean `S / n`.
    pub fn value(&self) -> f64 {
        self.sum / self.count
    }

    /// The sum of the values S.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The number of values n.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// The sample standard deviation s.
    pub fn standard_deviation(&self) -> f64 {
        self.standard_deviation
    }

    /// `x̄ ∓ t_{1−α/2, n−1} s / √n` at `confidence`.
    pub fn limits(&self, confidence: ConfidenceLevel) -> Limits {
        let half_width = t_quantile(self.count - 1.0, confidence) * self.standard_deviation / self.count.sqrt();
        Limits { lower: self.value() - half_width, upper: self.value() + half_width }
    }

    /// The mean with its limits at `confidence`.
    pub fn estimate(&self, confidence: ConfidenceLevel) -> Estimate {
        Estimate::new(self.value(), self.limits(confidence), confidence)
    }
}

/// `t_{1−α/2, ν}`, for ν ≥ 1.
fn t_quantile(freedom: f64, confidence: ConfidenceLevel) -> f64 {
    let p = 1.0 - (1.0 - confidence.fraction()) / 2.0;
    match StudentsT::new(0.0, 1.0, freedom) {
        Ok(t) => t.inverse_cdf(p),
        // ν ≥ 1 is finite and positive, which StudentsT accepts; unreachable in practice.
        Err(_) => f64::NAN,
    }
}

//! Errors from `phm-stats`.
//!
//! Only method *parameters* can be invalid. Data a method cannot report on is described by a
//! typed reason in that method's output (for example
//! [`NotReported`](crate::life_expectancy::NotReported)), never by an [`Error`].

/// An invalid parameter for a statistical method.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A confidence level must lie strictly between 0 and 1.
    #[error("Confidence level {level} is not strictly between 0 and 1 (for 95% use 0.95)")]
    ConfidenceLevel {
        /// The level that was given.
        level: f64,
    },
    /// A life-table age structure needs at least two bands, the first starting at age 0, and
    /// strictly increasing start ages.
    #[error("Invalid life-table age structure {start_ages:?}: {reason}")]
    AgeStructure {
        /// The start ages that were given.
        start_ages: Vec<u32>,
        /// Which rule they break.
        reason: &'static str,
    },
    /// A multiplier (e.g. 100 for a percentage, 100 000 for a rate per 100 000) must be a finite
    /// number greater than zero.
    #[error("Multiplier {value} is not a finite number greater than zero (for a percentage use 100)")]
    Multiplier {
        /// The multiplier that was given.
        value: f64,
    },
    /// The SII's log/logit transform applies only to rates and proportions.
    #[error(
        "The SII transform (log for rates, logit for proportions) needs a rate or a proportion, not another value type"
    )]
    SiiTransform,
    /// The SII's multiplier must be finite and not zero.
    #[error("SII multiplier {multiplier} is not a finite, non-zero number (use -1 to reverse polarity)")]
    SiiMultiplier {
        /// The multiplier that was given.
        multiplier: f64,
    },
    /// The SII needs between 5 and 100 quantiles.
    #[error("The SII needs between 5 and 100 quantiles, not {quantiles} (10 for deciles, 5 for quintiles)")]
    SiiQuantiles {
        /// The number of quantiles that was given.
        quantiles: usize,
    },
    /// The SII's simulated limits need at least 1 000 repetitions.
    #[error("The SII's simulated limits need at least 1000 repetitions, not {repetitions} (the default is 100000)")]
    SiiRepetitions {
        /// The number of repetitions that was given.
        repetitions: u32,
    },
    /// The SII needs at least one confidence level, each at least 0.9.
    #[error("SII confidence levels {levels:?} are not one or more levels of at least 0.9 (e.g. 0.95 and 0.998)")]
    SiiConfidence {
        /// The levels that were given, as fractions.
        levels: Vec<f64>,
    },
    /// An SPC target must be a finite number.
    #[error("SPC target {target} is not a finite number")]
    SpcTarget {
        /// The target that was given.
        target: f64,
    },
    /// An SPC baseline needs at least two points (one moving range).
    #[error("An SPC baseline of {points} points is too short: the limits need at least 2 points")]
    SpcBaseline {
        /// The number of points that was given.
        points: usize,
    },
    /// SPC recalculation points must strictly increase, after the first point.
    #[error("SPC recalculation positions {positions:?} must strictly increase and be after position 0")]
    SpcRecalculation {
        /// The positions that were given.
        positions: Vec<usize>,
    },
    /// An SPC shift or trend needs at least three points.
    #[error("An SPC run or trend of {points} points is too short: at least 3 (Making Data Count uses 7)")]
    SpcRunLength {
        /// The number of points that was given.
        points: usize,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

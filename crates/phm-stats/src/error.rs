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
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

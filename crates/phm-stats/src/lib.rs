//! Statistical methods for OpenPHM public-health indicators.
//!
//! Each method family lives in its own module and follows the method used by
//! PHEindicatormethods (the UKHSA R package behind Fingertips), so that results can be checked
//! against its published test vectors:
//!
//! * [`life_expectancy`]: abridged life table by Chiang's method II, with confidence limits from
//!   the Silcocks et al. (2001) variance.
//! * [`confidence`]: the [`ConfidenceLevel`] shared by every method that reports limits.
//!
//! Inputs are plain numbers and slices; outputs are plain values. Data that a method cannot
//! report on (too small a population, impossible counts, ...) is not an error: it is a typed
//! reason in the output, as PHEindicatormethods returns `NA` with a warning. [`Error`] is only
//! for invalid *parameters*, such as a confidence level outside (0, 1), and is raised when the
//! parameter is built, so the calculations themselves cannot fail.
//!
//! **Architecture invariant:** this crate has no workspace dependencies and does no IO.
#![warn(missing_docs)]

pub mod confidence;
pub mod error;
pub mod life_expectancy;

pub use confidence::ConfidenceLevel;
pub use error::{Error, Result};

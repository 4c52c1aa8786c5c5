//! Statistical methods for OpenPHM public-health indicators.
//!
//! Each method family lives in its own module and follows the method used by
//! PHEindicatormethods (the UKHSA R package behind Fingertips), so that results can be checked
//! against its published test vectors:
//!
//! * [`life_expectancy`]: abridged life table by Chiang's method II, with confidence limits from
//!   the Silcocks et al. (2001) variance.
//! * [`proportion`]: proportions with Wilson score limits.
//! * [`rate`]: crude rates and counts with exact (below 10) or Byar's Poisson limits, from
//!   [`poisson`].
//! * [`dsr`]: directly standardised rates with Dobson's limits, for independent or recurrent
//!   events.
//! * [`isr`]: indirectly standardised ratios and rates.
//! * [`mean`]: means with Student's t limits.
//! * [`compare`]: an area against a comparator (Better/Similar/Worse or Higher/Similar/Lower).
//! * [`funnel`]: funnel-plot control limits and where each area falls.
//! * [`healthy_life_expectancy`]: healthy life expectancy by Sullivan's method on the same life
//!   table, with the standard error of Jagger et al.
//! * [`sii`]: slope and relative indices of inequality across deprivation quantiles, with
//!   simulated confidence limits, as `phe_sii`.
//! * [`spc`]: XmR charts with NHS England's "Making Data Count" special-cause rules and icons.
//! * [`confidence`]: the [`ConfidenceLevel`] shared by every method that reports limits, and
//!   [`estimate`]: the [`Multiplier`], [`Limits`] and [`Estimate`] they report in.
//!
//! Inputs are plain numbers and slices; outputs are plain values. Data that a method cannot
//! report on (too small a population, impossible counts, ...) is not an error: it is a typed
//! reason in the output, as PHEindicatormethods returns `NA` with a warning. [`Error`] is only
//! for invalid *parameters*, such as a confidence level outside (0, 1), and is raised when the
//! parameter is built, so the calculations themselves cannot fail.
//!
//! **Architecture invariant:** this crate has no workspace dependencies and does no IO.
#![warn(missing_docs)]

pub mod compare;
pub mod confidence;
pub mod dsr;
pub mod error;
pub mod estimate;
pub mod funnel;
pub mod healthy_life_expectancy;
pub mod isr;
pub mod life_expectancy;
pub mod mean;
pub mod poisson;
pub mod proportion;
pub mod rate;
pub mod sii;
pub mod spc;

pub use confidence::ConfidenceLevel;
pub use error::{Error, Result};
pub use estimate::{Estimate, Limits, Multiplier};

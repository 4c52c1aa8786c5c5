//! Confidence limits for a Poisson count: exact limits from the chi-squared distribution, and
//! Byar's approximation to them. Crude rates, counts, indirectly standardised ratios and rates,
//! DSRs (through Dobson's method) and funnel plots all build on these.
//!
//! # Method
//!
//! For an observed count O and confidence level c (α = 1 − c, z the two-sided normal quantile
//! of c):
//!
//! * **Exact** (Armitage and Berry 2002, §5.7): the lower limit is `χ²_{α/2}(2O) / 2` (0 when
//!   O = 0) and the upper limit `χ²_{1−α/2}(2O + 2) / 2`, where `χ²_p(ν)` is the p-quantile of
//!   the chi-squared distribution with ν degrees of freedom. Equivalently they are the
//!   α/2-quantile of Gamma(O, 1) and the (1 − α/2)-quantile of Gamma(O + 1, 1), which is how they
//!   are computed here, so that a non-integer count (as PHEindicatormethods allows) works too.
//! * **Byar's approximation** (Breslow and Day 1987, p. 69):
//!   lower `O (1 − 1/(9O) − z/(3√O))³`, upper `(O + 1) (1 − 1/(9(O + 1)) + z/(3√(O + 1)))³`.
//!
//! PHEindicatormethods (`phe_rate`, `calculate_ISRatio`, `calculate_ISRate`) and Fingertips use
//! the exact limits when O < 10 and Byar's when O ≥ 10 ([`EXACT_BELOW`]); [`limits`] does the
//! same. DSRs use Byar's limits of the total count inside Dobson's method (see
//! [`dsr`](crate::dsr)).
//!
//! # References
//!
//! 1. Armitage P, Berry G. *Statistical Methods in Medical Research* (4th edn). Oxford:
//!    Blackwell, 2002.
//! 2. Breslow NE, Day NE. *Statistical Methods in Cancer Research, volume II: The Design and
//!    Analysis of Cohort Studies.* Lyon: IARC, 1987.

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::gamma::{gamma_lr, gamma_ur, ln_gamma};

use crate::confidence::ConfidenceLevel;
use crate::estimate::Limits;

/// Counts below this get exact limits, counts at or above it Byar's approximation.
pub const EXACT_BELOW: f64 = 10.0;

/// Which limits a count gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoissonMethod {
    /// Exact limits from the chi-squared distribution (counts below [`EXACT_BELOW`]).
    Exact,
    /// Byar's approximation (counts of [`EXACT_BELOW`] or more).
    Byar,
}

impl PoissonMethod {
    /// The method PHEindicatormethods uses for `count`.
    pub fn for_count(count: f64) -> Self {
        if count < EXACT_BELOW { Self::Exact } else { Self::Byar }
    }
}

/// Whether `count` is a count these limits apply to: finite and not negative.
fn is_count(count: f64) -> bool {
    count.is_finite() && count >= 0.0
}

/// Exact lower limit `χ²_{α/2}(2O) / 2` (0 when O = 0), or `None` if `count` is negative or not
/// finite.
pub fn exact_lower(count: f64, confidence: ConfidenceLevel) -> Option<f64> {
    if !is_count(count) {
        return None;
    }
    if count == 0.0 {
        return Some(0.0);
    }
    Some(gamma_quantile(count, (1.0 - confidence.fraction()) / 2.0))
}

/// Exact upper limit `χ²_{1−α/2}(2O + 2) / 2`, or `None` if `count` is negative or not finite.
pub fn exact_upper(count: f64, confidence: ConfidenceLevel) -> Option<f64> {
    if !is_count(count) {
        return None;
    }
    Some(gamma_quantile(count + 1.0, 1.0 - (1.0 - confidence.fraction()) / 2.0))
}

/// Byar's lower limit `O (1 − 1/(9O) − z/(3√O))³`, or `None` if `count` is negative, zero or not
/// finite, or the approximation falls below zero (which happens only for small counts at high
/// confidence, e.g. O = 1 at 99.8%; PHEindicatormethods' `byars_lower` gives `NA` there too).
pub fn byar_lower(count: f64, confidence: ConfidenceLevel) -> Option<f64> {
    if !is_count(count) || count == 0.0 {
        return None;
    }
    let z = confidence.z();
    let lower = count * (1.0 - 1.0 / (9.0 * count) - z / (3.0 * count.sqrt())).powi(3);
    (lower >= 0.0).then_some(lower)
}

/// Byar's upper limit `(O + 1) (1 − 1/(9(O + 1)) + z/(3√(O + 1)))³`, or `None` if `count` is
/// negative or not finite.
pub fn byar_upper(count: f64, confidence: ConfidenceLevel) -> Option<f64> {
    if !is_count(count) {
        return None;
    }
    let z = confidence.z();
    let o = count + 1.0;
    Some(o * (1.0 - 1.0 / (9.0 * o) + z / (3.0 * o.sqrt())).powi(3))
}

/// Limits for `count` by the method PHEindicatormethods uses for it ([`PoissonMethod::for_count`]),
/// or `None` if `count` is negative or not finite.
///
/// At counts of 10 or more Byar's lower limit is positive at any level up to about
/// 99.999 999 99%; beyond that it is taken as 0 rather than left undefined.
pub fn limits(count: f64, confidence: ConfidenceLevel) -> Option<Limits> {
    if !is_count(count) {
        return None;
    }
    let limits = match PoissonMethod::for_count(count) {
        PoissonMethod::Exact => {
            Limits { lower: exact_lower(count, confidence)?, upper: exact_upper(count, confidence)? }
        }
        PoissonMethod::Byar => {
            Limits { lower: byar_lower(count, confidence).unwrap_or(0.0), upper: byar_upper(count, confidence)? }
        }
    };
    Some(limits)
}

/// The p-quantile of the Gamma(`shape`, 1) distribution: the x with P(shape, x) = p, where P is
/// the regularised lower incomplete gamma function. `χ²_p(ν) = 2 × gamma_quantile(ν/2, p)`.
///
/// Preconditions: `shape > 0` and finite, `0 < p < 1`.
///
/// Newton's method on P, started from the Wilson–Hilferty approximation and kept inside a
/// bracket by bisection, to full double precision. The residual is taken on whichever of P and
/// Q = 1 − P is smaller, so that extreme tails keep their relative accuracy.
pub(crate) fn gamma_quantile(shape: f64, p: f64) -> f64 {
    debug_assert!(shape > 0.0 && shape.is_finite() && p > 0.0 && p < 1.0);
    let upper_tail = p > 0.5;
    // f(x) = P(x) − p, written on the smaller tail; increasing in x.
    let f = |x: f64| -> f64 {
        if x <= 0.0 {
            -p
        } else if upper_tail {
            (1.0 - p) - gamma_ur(shape, x)
        } else {
            gamma_lr(shape, x) - p
        }
    };
    let ln_gamma_shape = ln_gamma(shape);
    let density = |x: f64| ((shape - 1.0) * x.ln() - x - ln_gamma_shape).exp();

    // Bracket [lo, hi] with f(lo) ≤ 0 ≤ f(hi).
    let mut lo = 0.0;
    let mut hi = shape.max(1.0);
    while f(hi) < 0.0 {
        lo = hi;
        hi *= 2.0;
    }

    // Wilson–Hilferty start, clamped into the bracket.
    let z = Normal::standard().inverse_cdf(p);
    let wh = shape * (1.0 - 1.0 / (9.0 * shape) + z / (3.0 * shape.sqrt())).powi(3);
    let mut x = if wh > lo && wh < hi { wh } else { (lo + hi) / 2.0 };

    for _ in 0..200 {
        let fx = f(x);
        if fx == 0.0 {
            return x;
        }
        if fx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = density(x);
        let newton = if d > 0.0 && d.is_finite() { x - fx / d } else { f64::NAN };
        let next = if newton > lo && newton < hi { newton } else { (lo + hi) / 2.0 };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs() || hi - lo <= 4.0 * f64::EPSILON * hi {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;

    #[test]
    fn gamma_quantile_of_shape_one_is_the_exponential_quantile() {
        // Gamma(1, 1) is the standard exponential: x = −ln(1 − p).
        for p in [1e-9_f64, 0.001, 0.025, 0.5, 0.975, 0.999, 1.0 - 1e-9] {
            let want = -(-p).ln_1p();
            let got = gamma_quantile(1.0, p);
            assert!((got - want).abs() <= 1e-12 * want, "p={p}: {got} vs {want}");
        }
    }

    #[test]
    fn gamma_quantile_inverts_the_cdf() {
        for shape in [0.3, 1.0, 2.5, 10.0, 123.0, 1e4, 7.7e6] {
            for p in [0.0005, 0.025, 0.3, 0.7, 0.975, 0.9995] {
                let x = gamma_quantile(shape, p);
                let back = if p > 0.5 { 1.0 - gamma_ur(shape, x) } else { gamma_lr(shape, x) };
                // statrs' incomplete gamma itself is good to about 1e-9 at shapes in the millions
                // (x is then within 3e-12 of SciPy's gammaincinv).
                assert!((back - p).abs() <= 1e-9, "shape={shape} p={p}: P(x)={back}");
            }
        }
    }

    #[test]
    fn exact_limits_of_zero_are_zero_and_minus_log_half_alpha() {
        assert_eq!(exact_lower(0.0, C95), Some(0.0));
        let upper = exact_upper(0.0, C95).expect("0 is a count");
        assert!((upper - 40f64.ln()).abs() < 1e-12, "{upper}");
    }

    #[test]
    fn invalid_counts_have_no_limits() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(limits(bad, C95), None);
            assert_eq!(exact_lower(bad, C95), None);
            assert_eq!(byar_upper(bad, C95), None);
        }
        assert_eq!(byar_lower(0.0, C95), None);
    }

    #[test]
    fn method_switches_at_ten() {
        assert_eq!(PoissonMethod::for_count(9.999), PoissonMethod::Exact);
        assert_eq!(PoissonMethod::for_count(10.0), PoissonMethod::Byar);
    }
}

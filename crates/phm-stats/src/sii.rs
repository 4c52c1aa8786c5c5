//! Slope index of inequality (SII) and relative index of inequality (RII) across deprivation
//! quantiles, with confidence limits by simulation.
//!
//! This follows `phe_sii` in PHEindicatormethods (2.1.0), the method behind the inequality
//! indicators in Fingertips, itself after Low and Low (2004).
//!
//! # Method
//!
//! The `k` quantiles (5 to 100; deciles or quintiles of deprivation, usually) are given in order
//! from the most deprived (rank 0) to the least deprived (rank 1). With `P_i` the population of
//! quantile i:
//!
//! * population share `a_i = P_i / Σ P`, and relative rank `b_i` the midpoint of the quantile's
//!   range in the cumulative population distribution: `b_1 = a_1 / 2`,
//!   `b_i = a_1 + … + a_{i−1} + a_i / 2`;
//! * the value `y_i` of the indicator is put on the scale `g` of its type: `g(y) = y` for a
//!   [`ValueType::Other`] (e.g. life expectancy), `g(y) = ln y` for a [`ValueType::Rate`] and
//!   `g(y) = ln(y / (1 − y))` for a [`ValueType::Proportion`];
//! * its standard error `s_i` on that scale is either given, or found from its 95% confidence
//!   limits as `s_i = (g(U_i) − g(L_i)) / (2 × 1.959964)` (always 95%, whatever the SII's level);
//! * the regression, weighted for heteroskedasticity by the population share, is fitted by least
//!   squares without a free constant: `√a_i Y_i = β₀ √a_i + β₁ b_i √a_i`, where the response
//!   `Y_i = y_i` on the original scale, or `Y_i = g(y_i)` when the [`SiiOptions::transformed`]
//!   option (log for rates, logit for proportions) is chosen.
//!
//! Without the transform, the fitted line is the indicator against rank, so `SII = m β₁` (the
//! fitted value at rank 1 minus that at rank 0, times the multiplier `m`),
//! `RII = (β₀ + β₁) / β₀` (the fitted value at rank 1 over that at rank 0) and the intercept,
//! the fitted value at rank 0, is `β₀`. With the transform, the fitted values are taken back
//! through `g⁻¹`: `SII = m (g⁻¹(β₀ + β₁) − g⁻¹(β₀))`, `RII = g⁻¹(β₀ + β₁) / g⁻¹(β₀)` and the
//! intercept is `|m| g⁻¹(β₀)`. A negative multiplier reverses polarity (e.g. `−100` to show a
//! gap in a "higher is better" percentage as a positive number), and then the reported RII is
//! `1 / RII`.
//!
//! # Confidence limits
//!
//! As in `phe_sii`, each repetition draws every quantile's value on the scale `g` from
//! `N(g(y_i), s_i²)` (independently), takes it back to the original scale unless the transform is
//! chosen, and refits the regression. Without the transform the simulated SIIs (`m β₁`) and RIIs
//! are sorted and the limits at level `c` are the values at positions `round(R (1 − c′))` and
//! `round(R c′)` (1-based, `c′ = c + (1 − c)/2`, `R` repetitions; rounding half to even, as R
//! does, and kept within `1 … R`). With the transform the simulated slopes `β₁` on the `g` scale
//! are sorted, and each limit `β₁*` is taken back around the fitted line's midpoint
//! `μ = β₀ + β₁/2`: `m (g⁻¹(μ + β₁*/2) − g⁻¹(μ − β₁*/2))` for the SII and
//! `g⁻¹(μ + β₁*/2) / g⁻¹(μ − β₁*/2)` for the RII (with a negative multiplier the two limits swap
//! and the RII's are inverted).
//!
//! The draws come from a ChaCha8 generator seeded from [`SiiOptions::seed`], so a given input,
//! options and seed always give the same limits; they are not R's random numbers, so limits
//! agree with PHEindicatormethods only to within the simulation error (about
//! `√(p(1−p)/R) σ / φ(z_p)` for the p-quantile of a normal with standard deviation σ).
//!
//! # When a value is not reported
//!
//! `phe_sii` stops with an error for the whole data frame, or drops an area with a warning, on
//! data it cannot use; here that is a [`NotReported`] reason for the area: a quantile missing
//! (the number given is not the expected number), a non-finite input, a population of zero or
//! less, a negative standard error, a proportion or proportion limit outside 0–1, a count of zero
//! or less when a proportion's value comes from its count, or a standard error given with the
//! transform (which needs the limits). Two further reasons cover inputs on which R would return
//! `NaN` silently: a value or limit outside the domain of the log or logit (a rate ≤ 0, a
//! proportion of exactly 0 or 1), and a lower limit above the upper.
//!
//! Differences from `phe_sii`, on purpose: for rates with the transform, R swaps the limits when
//! the multiplier is below 1 (not below 0, as it does for proportions), which gives lower > upper
//! for a multiplier between 0 and 1; here both swap only for a negative multiplier. R's
//! `reliability_stat` (repeating the simulation ten times) is not offered; running again with
//! other seeds does the same.
//!
//! # References
//!
//! 1. Low A, Low A. Measuring the gap: quantifying and comparing local health inequalities.
//!    *J Public Health* 2004; 26: 388–395.
//! 2. UKHSA. PHEindicatormethods: `phe_sii` (R package, version 2.1.0), and Fingertips technical
//!    guidance on the slope index of inequality.

use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::confidence::ConfidenceLevel;
use crate::error::{Error, Result};
use crate::life_expectancy::LifeExpectancyEstimate;

/// The fewest repetitions `phe_sii` accepts.
pub const MIN_REPETITIONS: u32 = 1_000;

/// The default number of repetitions, as in `phe_sii`.
pub const DEFAULT_REPETITIONS: u32 = 100_000;

/// The fewest quantiles `phe_sii` accepts.
pub const MIN_QUANTILES: usize = 5;

/// The most quantiles `phe_sii` accepts.
pub const MAX_QUANTILES: usize = 100;

/// Above this many quantiles `phe_sii` warns that small values can make the SII unstable.
pub const MANY_QUANTILES: usize = 10;

/// The lowest confidence level `phe_sii` accepts for the SII's limits.
pub const MIN_CONFIDENCE: f64 = 0.9;

/// The default seed of the simulation.
pub const DEFAULT_SEED: u64 = 20_040_388;

/// The two-sided 95% normal quantile Φ⁻¹(0.975): quantile confidence limits are always read as
/// 95% limits when turned into standard errors.
const Z_95: f64 = 1.959_963_984_540_054;

/// What kind of number the indicator is; this sets the scale on which each quantile's value is
/// simulated (and, with the transform, regressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Any other value, simulated on its own scale (e.g. life expectancy); `value_type = 0`.
    Other,
    /// A rate, simulated on the log scale; `value_type = 1`.
    Rate,
    /// A proportion between 0 and 1, simulated on the logit scale; `value_type = 2`.
    Proportion,
}

impl ValueType {
    /// `g`: the scale of the simulation.
    fn forward(self, y: f64) -> f64 {
        match self {
            Self::Other => y,
            Self::Rate => y.ln(),
            Self::Proportion => (y / (1.0 - y)).ln(),
        }
    }

    /// `g⁻¹`: back to the indicator's scale.
    fn back(self, t: f64) -> f64 {
        match self {
            Self::Other => t,
            Self::Rate => t.exp(),
            Self::Proportion => t.exp() / (1.0 + t.exp()),
        }
    }

    /// Whether `y` is in the domain of `g`.
    fn in_domain(self, y: f64) -> bool {
        match self {
            Self::Other => true,
            Self::Rate => y > 0.0,
            Self::Proportion => y > 0.0 && y < 1.0,
        }
    }
}

/// A quantile's indicator value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// The value itself (for a proportion, between 0 and 1).
    Given(f64),
    /// For a [`ValueType::Proportion`] only: the count with the attribute (the numerator); the
    /// value is `count / population`.
    Count(f64),
}

/// How uncertain a quantile's value is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Uncertainty {
    /// The standard error, on the simulation scale of the [`ValueType`]: as it is for
    /// [`ValueType::Other`], of `ln y` for a rate and of `logit y` for a proportion. Not accepted
    /// with the transform.
    StandardError(f64),
    /// The 95% confidence limits of the value, on the value's own scale.
    Limits95 {
        /// Lower 95% limit.
        lower: f64,
        /// Upper 95% limit.
        upper: f64,
    },
}

/// One quantile of the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileInput {
    /// Population of the quantile (the denominator).
    pub population: f64,
    /// The indicator's value in the quantile.
    pub value: Value,
    /// Its standard error or 95% limits.
    pub uncertainty: Uncertainty,
}

impl QuantileInput {
    /// A quantile from its population, value and uncertainty.
    pub const fn new(population: f64, value: Value, uncertainty: Uncertainty) -> Self {
        Self { population, value, uncertainty }
    }

    /// The 95% limits, if the uncertainty is given that way.
    fn limits(&self) -> Option<(f64, f64)> {
        match self.uncertainty {
            Uncertainty::StandardError(_) => None,
            Uncertainty::Limits95 { lower, upper } => Some((lower, upper)),
        }
    }

    /// Whether every number given is finite.
    fn is_finite(&self) -> bool {
        let value = match self.value {
            Value::Given(v) | Value::Count(v) => v,
        };
        let spread = match self.uncertainty {
            Uncertainty::StandardError(se) => se.is_finite(),
            Uncertainty::Limits95 { lower, upper } => lower.is_finite() && upper.is_finite(),
        };
        self.population.is_finite() && value.is_finite() && spread
    }

    /// A quantile's life expectancy, with its standard error, from
    /// [`life_expectancy`](crate::life_expectancy::life_expectancy); use with
    /// [`ValueType::Other`].
    pub const fn from_life_expectancy(population: f64, estimate: &LifeExpectancyEstimate) -> Self {
        Self::new(population, Value::Given(estimate.value), Uncertainty::StandardError(estimate.standard_error))
    }
}

/// Parameters of [`sii`], built and checked with the methods below. The default is
/// [`ValueType::Other`], no transform, multiplier 1, 10 quantiles, 100 000 repetitions, 95%
/// limits and [`DEFAULT_SEED`].
#[derive(Debug, Clone, PartialEq)]
pub struct SiiOptions {
    value_type: ValueType,
    transform: bool,
    multiplier: f64,
    quantiles: usize,
    repetitions: u32,
    confidence: Vec<ConfidenceLevel>,
    seed: u64,
}

impl Default for SiiOptions {
    fn default() -> Self {
        Self::new(ValueType::Other)
    }
}

impl SiiOptions {
    /// The defaults for an indicator of this type.
    pub fn new(value_type: ValueType) -> Self {
        Self {
            value_type,
            transform: false,
            multiplier: 1.0,
            quantiles: 10,
            repetitions: DEFAULT_REPETITIONS,
            confidence: vec![ConfidenceLevel::NINETY_FIVE],
            seed: DEFAULT_SEED,
        }
    }

    /// Regress on the log (rates) or logit (proportions) scale, which PHEindicatormethods
    /// recommends for rates and proportions; `transform = TRUE`. Quantiles must then give their
    /// 95% limits, not a standard error.
    ///
    /// # Errors
    /// [`Error::SiiTransform`] for [`ValueType::Other`].
    pub fn transformed(mut self) -> Result<Self> {
        if self.value_type == ValueType::Other {
            return Err(Error::SiiTransform);
        }
        self.transform = true;
        Ok(self)
    }

    /// Multiply the SII and its limits (and, with the transform, the intercept) by this, e.g. 100
    /// for a percentage. A negative multiplier also inverts the RII.
    ///
    /// # Errors
    /// [`Error::SiiMultiplier`] unless the multiplier is finite and not zero.
    pub fn multiplier(mut self, multiplier: f64) -> Result<Self> {
        if !multiplier.is_finite() || multiplier == 0.0 {
            return Err(Error::SiiMultiplier { multiplier });
        }
        self.multiplier = multiplier;
        Ok(self)
    }

    /// The number of quantiles every area must have (10 for deciles, 5 for quintiles).
    ///
    /// # Errors
    /// [`Error::SiiQuantiles`] unless [`MIN_QUANTILES`] ≤ `quantiles` ≤ [`MAX_QUANTILES`].
    pub fn quantiles(mut self, quantiles: usize) -> Result<Self> {
        if !(MIN_QUANTILES..=MAX_QUANTILES).contains(&quantiles) {
            return Err(Error::SiiQuantiles { quantiles });
        }
        self.quantiles = quantiles;
        Ok(self)
    }

    /// The number of simulated repetitions behind the limits.
    ///
    /// # Errors
    /// [`Error::SiiRepetitions`] below [`MIN_REPETITIONS`].
    pub fn repetitions(mut self, repetitions: u32) -> Result<Self> {
        if repetitions < MIN_REPETITIONS {
            return Err(Error::SiiRepetitions { repetitions });
        }
        self.repetitions = repetitions;
        Ok(self)
    }

    /// The confidence levels of the limits (one interval each, in this order).
    ///
    /// # Errors
    /// [`Error::SiiConfidence`] if there are none, or one is below [`MIN_CONFIDENCE`].
    pub fn confidence(mut self, levels: &[ConfidenceLevel]) -> Result<Self> {
        let bad = levels.is_empty() || levels.iter().any(|c| c.fraction() < MIN_CONFIDENCE);
        if bad {
            return Err(Error::SiiConfidence { levels: levels.iter().map(|c| c.fraction()).collect() });
        }
        self.confidence = levels.to_vec();
        Ok(self)
    }

    /// The seed of the simulation.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The indicator's type.
    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// Whether the regression is on the log/logit scale.
    pub fn is_transformed(&self) -> bool {
        self.transform
    }
}

/// The SII and RII of an area.
#[derive(Debug, Clone, PartialEq)]
pub struct SiiEstimate {
    /// Slope index of inequality: the fitted value at the least deprived end (rank 1) minus that
    /// at the most deprived end (rank 0), times the multiplier.
    pub sii: f64,
    /// Relative index of inequality: the fitted value at rank 1 over that at rank 0 (inverted
    /// for a negative multiplier).
    pub rii: f64,
    /// The fitted value at rank 0 (most deprived), as `phe_sii(intercept = TRUE)` reports it:
    /// `β₀` without the transform (not multiplied), `|m| g⁻¹(β₀)` with it.
    pub intercept: f64,
    /// Simulated limits, one per requested confidence level, in the order requested.
    pub intervals: Vec<SiiInterval>,
    /// More than [`MANY_QUANTILES`] quantiles, where `phe_sii` warns that small values can make
    /// the SII unstable.
    pub many_quantiles: bool,
}

/// Simulated confidence limits of the SII and RII at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiiInterval {
    /// The confidence level.
    pub confidence: ConfidenceLevel,
    /// Lower limit of the SII.
    pub sii_lower: f64,
    /// Upper limit of the SII.
    pub sii_upper: f64,
    /// Lower limit of the RII.
    pub rii_lower: f64,
    /// Upper limit of the RII.
    pub rii_upper: f64,
}

/// Why an area's SII is not reported. `quantile` is the 1-based position of the first quantile
/// at fault, in the order given (1 = most deprived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReported {
    /// The area does not have exactly the expected number of quantiles.
    WrongNumberOfQuantiles {
        /// The number the options expect.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// A population, value, count, standard error or limit is NaN or infinite (missing).
    NonFiniteInput {
        /// The quantile.
        quantile: usize,
    },
    /// A population is zero or less.
    NonPositivePopulation {
        /// The quantile.
        quantile: usize,
    },
    /// A standard error is negative.
    NegativeStandardError {
        /// The quantile.
        quantile: usize,
    },
    /// A proportion, or one of its limits, is outside 0–1.
    ProportionOutsideZeroToOne {
        /// The quantile.
        quantile: usize,
    },
    /// A proportion's count is zero or less.
    NonPositiveCount {
        /// The quantile.
        quantile: usize,
    },
    /// A value was given as a count, but the indicator is not a proportion.
    CountWithoutProportion {
        /// The quantile.
        quantile: usize,
    },
    /// With the transform, every quantile needs its 95% limits, not a standard error.
    StandardErrorWithTransform {
        /// The quantile.
        quantile: usize,
    },
    /// A value or limit has no log (a rate ≤ 0) or logit (a proportion of 0 or 1).
    OutsideTransformDomain {
        /// The quantile.
        quantile: usize,
    },
    /// A lower 95% limit is above its upper limit.
    LimitsReversed {
        /// The quantile.
        quantile: usize,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::WrongNumberOfQuantiles { expected, found } => {
                write!(f, "{found} quantiles were given, but the SII needs all {expected}")
            }
            Self::NonFiniteInput { quantile } => {
                write!(f, "quantile {quantile} has a missing or non-finite number")
            }
            Self::NonPositivePopulation { quantile } => {
                write!(f, "quantile {quantile} has a population of zero or less")
            }
            Self::NegativeStandardError { quantile } => {
                write!(f, "quantile {quantile} has a negative standard error")
            }
            Self::ProportionOutsideZeroToOne { quantile } => {
                write!(f, "quantile {quantile} has a proportion or limit outside 0 to 1")
            }
            Self::NonPositiveCount { quantile } => {
                write!(f, "quantile {quantile} has a count of zero or less")
            }
            Self::CountWithoutProportion { quantile } => {
                write!(f, "quantile {quantile} gives a count, which only a proportion can be computed from")
            }
            Self::StandardErrorWithTransform { quantile } => {
                write!(f, "quantile {quantile} gives a standard error, but the log/logit transform needs 95% limits")
            }
            Self::OutsideTransformDomain { quantile } => write!(
                f,
                "quantile {quantile} has a value or limit with no log (rate ≤ 0) or logit (proportion 0 or 1)"
            ),
            Self::LimitsReversed { quantile } => {
                write!(f, "quantile {quantile} has a lower limit above its upper limit")
            }
        }
    }
}

/// A quantile's value and standard error on the simulation scale, once checked.
struct Prepared {
    /// Population share `a_i`.
    share: f64,
    /// `g(y_i)`.
    scaled: f64,
    /// Standard error of `g(y_i)`.
    se: f64,
}

/// The SII and RII of one area with simulated confidence limits (see the
/// [module documentation](self) for the method).
///
/// `quantiles` are in order from the most deprived (rank 0) to the least deprived (rank 1), and
/// there must be exactly [`SiiOptions::quantiles`] of them.
///
/// # Errors
/// Not an [`Error`]: the `Err` is the [`NotReported`] reason for the area.
pub fn sii(quantiles: &[QuantileInput], options: &SiiOptions) -> std::result::Result<SiiEstimate, NotReported> {
    let prepared = prepare(quantiles, options)?;
    let vt = options.value_type;
    let m = options.multiplier;

    // Regressors √a_i and b_i √a_i, and the least-squares hat rows H = (XᵀX)⁻¹ Xᵀ.
    let sqrt_a: Vec<f64> = prepared.iter().map(|q| q.share.sqrt()).collect();
    let ranks = relative_ranks(&prepared);
    let b_sqrt_a: Vec<f64> = ranks.iter().zip(&sqrt_a).map(|(b, s)| b * s).collect();
    let hat = Hat::new(&sqrt_a, &b_sqrt_a);

    // Point estimate: the response is √a_i Y_i.
    let response = |scaled: f64| if options.transform { scaled } else { vt.back(scaled) };
    let y: Vec<f64> = prepared.iter().zip(&sqrt_a).map(|(q, s)| s * response(q.scaled)).collect();
    let (beta0, beta1) = hat.fit(&y);

    let (sii, rii, intercept) = if options.transform {
        let at0 = vt.back(beta0);
        let at1 = vt.back(beta0 + beta1);
        (m * (at1 - at0), invert_if(m, at1 / at0), m.abs() * at0)
    } else {
        (m * beta1, invert_if(m, (beta0 + beta1) / beta0), beta0)
    };

    // Simulation: one draw per quantile per repetition, refitted each time.
    let reps = options.repetitions as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut slopes = Vec::with_capacity(reps);
    let mut riis = Vec::with_capacity(if options.transform { 0 } else { reps });
    let mut y = vec![0.0; prepared.len()];
    for _ in 0..reps {
        for ((yi, q), s) in y.iter_mut().zip(&prepared).zip(&sqrt_a) {
            let z: f64 = StandardNormal.sample(&mut rng);
            *yi = s * response(q.scaled + q.se * z);
        }
        let (b0, b1) = hat.fit(&y);
        if options.transform {
            slopes.push(b1);
        } else {
            slopes.push(m * b1);
            riis.push(invert_if(m, (b0 + b1) / b0));
        }
    }
    slopes.sort_by(f64::total_cmp);
    riis.sort_by(f64::total_cmp);

    let intervals = options
        .confidence
        .iter()
        .map(|&confidence| {
            let (lo, hi) = positions(options.repetitions, confidence);
            if options.transform {
                let mid = beta0 + beta1 / 2.0;
                let ends = |slope: f64| (vt.back(mid - slope / 2.0), vt.back(mid + slope / 2.0));
                let (l0, l1) = ends(slopes[lo]);
                let (u0, u1) = ends(slopes[hi]);
                if m < 0.0 {
                    SiiInterval {
                        confidence,
                        sii_lower: m * (u1 - u0),
                        sii_upper: m * (l1 - l0),
                        rii_lower: u0 / u1,
                        rii_upper: l0 / l1,
                    }
                } else {
                    SiiInterval {
                        confidence,
                        sii_lower: m * (l1 - l0),
                        sii_upper: m * (u1 - u0),
                        rii_lower: l1 / l0,
                        rii_upper: u1 / u0,
                    }
                }
            } else {
                SiiInterval {
                    confidence,
                    sii_lower: slopes[lo],
                    sii_upper: slopes[hi],
                    rii_lower: riis[lo],
                    rii_upper: riis[hi],
                }
            }
        })
        .collect();

    Ok(SiiEstimate { sii, rii, intercept, intervals, many_quantiles: quantiles.len() > MANY_QUANTILES })
}

/// `1 / x` for a negative multiplier, else `x`.
fn invert_if(multiplier: f64, x: f64) -> f64 {
    if multiplier < 0.0 { 1.0 / x } else { x }
}

/// Checks the quantiles in the order `phe_sii` does and puts each on the simulation scale.
fn prepare(quantiles: &[QuantileInput], options: &SiiOptions) -> std::result::Result<Vec<Prepared>, NotReported> {
    let vt = options.value_type;
    if quantiles.len() != options.quantiles {
        return Err(NotReported::WrongNumberOfQuantiles { expected: options.quantiles, found: quantiles.len() });
    }
    // Each rule over every quantile before the next rule, as phe_sii checks its columns.
    let limits = QuantileInput::limits;
    let rules: [Rule<'_>; 9] = [
        (&|q| !q.is_finite(), |quantile| NotReported::NonFiniteInput { quantile }),
        (&|q| q.population <= 0.0, |quantile| NotReported::NonPositivePopulation { quantile }),
        (&|q| matches!(q.uncertainty, Uncertainty::StandardError(se) if se < 0.0), |quantile| {
            NotReported::NegativeStandardError { quantile }
        }),
        (&|q| vt != ValueType::Proportion && matches!(q.value, Value::Count(_)), |quantile| {
            NotReported::CountWithoutProportion { quantile }
        }),
        (
            &|q| {
                let outside = |p: f64| !(0.0..=1.0).contains(&p);
                let value_outside = matches!(q.value, Value::Given(v) if outside(v));
                let limit_outside = limits(q).is_some_and(|(l, u)| outside(l) || outside(u));
                vt == ValueType::Proportion && (value_outside || limit_outside)
            },
            |quantile| NotReported::ProportionOutsideZeroToOne { quantile },
        ),
        (&|q| matches!(q.value, Value::Count(c) if c <= 0.0), |quantile| NotReported::NonPositiveCount { quantile }),
        (&|q| options.transform && limits(q).is_none(), |quantile| NotReported::StandardErrorWithTransform {
            quantile,
        }),
        (
            &|q| {
                let limits_ok = limits(q).is_none_or(|(l, u)| vt.in_domain(l) && vt.in_domain(u));
                !(vt.in_domain(value_of(q)) && limits_ok)
            },
            |quantile| NotReported::OutsideTransformDomain { quantile },
        ),
        (&|q| limits(q).is_some_and(|(l, u)| l > u), |quantile| NotReported::LimitsReversed { quantile }),
    ];
    for (bad, reason) in rules {
        if let Some(i) = quantiles.iter().position(bad) {
            return Err(reason(i + 1));
        }
    }

    let total: f64 = quantiles.iter().map(|q| q.population).sum();
    Ok(quantiles
        .iter()
        .map(|q| {
            let se = match q.uncertainty {
                Uncertainty::StandardError(se) => se,
                Uncertainty::Limits95 { lower, upper } => (vt.forward(upper) - vt.forward(lower)) / (2.0 * Z_95),
            };
            Prepared { share: q.population / total, scaled: vt.forward(value_of(q)), se }
        })
        .collect())
}

/// A rule on one quantile, and the reason it gives for a quantile's 1-based position.
type Rule<'a> = (&'a dyn Fn(&QuantileInput) -> bool, fn(usize) -> NotReported);

/// The quantile's value: given, or count / population.
fn value_of(q: &QuantileInput) -> f64 {
    match q.value {
        Value::Given(v) => v,
        Value::Count(c) => c / q.population,
    }
}

/// Relative ranks: the midpoint of each quantile's range in the cumulative population share.
fn relative_ranks(prepared: &[Prepared]) -> Vec<f64> {
    let mut below = 0.0;
    prepared
        .iter()
        .map(|q| {
            let mid = below + q.share / 2.0;
            below += q.share;
            mid
        })
        .collect()
}

/// 0-based positions of the lower and upper limits in `repetitions` sorted draws:
/// `round(R (1 − c′))` and `round(R c′)`, 1-based, with `c′ = c + (1 − c)/2`.
fn positions(repetitions: u32, confidence: ConfidenceLevel) -> (usize, usize) {
    let c = confidence.fraction();
    let upper_tail = c + (1.0 - c) / 2.0;
    let r = f64::from(repetitions);
    let at = |p: f64| {
        // Within 1 … R, so the cast cannot truncate or wrap.
        let one_based = (r * p).round_ties_even().clamp(1.0, r);
        one_based as usize - 1
    };
    (at(1.0 - upper_tail), at(upper_tail))
}

/// The two rows of `(XᵀX)⁻¹ Xᵀ` for the regressors `√a` and `b √a` (no free constant), so that
/// `(β₀, β₁) = H y`.
struct Hat {
    row0: Vec<f64>,
    row1: Vec<f64>,
}

impl Hat {
    fn new(x0: &[f64], x1: &[f64]) -> Self {
        let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        let (s00, s01, s11) = (dot(x0, x0), dot(x0, x1), dot(x1, x1));
        // XᵀX is positive definite: the ranks differ whenever every population is positive.
        let det = s00 * s11 - s01 * s01;
        let row0 = x0.iter().zip(x1).map(|(a, b)| (s11 * a - s01 * b) / det).collect();
        let row1 = x0.iter().zip(x1).map(|(a, b)| (s00 * b - s01 * a) / det).collect();
        Self { row0, row1 }
    }

    fn fit(&self, y: &[f64]) -> (f64, f64) {
        let dot = |h: &[f64]| h.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        (dot(&self.row0), dot(&self.row1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_midpoints_of_cumulative_shares() {
        let prepared: Vec<Prepared> =
            [0.12, 0.10, 0.78].iter().map(|&share| Prepared { share, scaled: 0.0, se: 0.0 }).collect();
        let ranks = relative_ranks(&prepared);
        let expected = [0.06, 0.17, 0.61];
        for (got, want) in ranks.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn limit_positions_follow_r() {
        // 100 000 repetitions at 95%: the 2 500th and 97 500th sorted draws.
        assert_eq!(positions(100_000, ConfidenceLevel::NINETY_FIVE), (2_499, 97_499));
        // Kept within the draws even when the tail holds less than half a draw.
        let extreme = ConfidenceLevel::new(0.9999).expect("valid level");
        assert_eq!(positions(1_000, extreme), (0, 999));
    }

    #[test]
    fn hat_recovers_an_exact_line() {
        let x0 = [0.5, 0.6, 0.7];
        let x1 = [0.1, 0.3, 0.6];
        let y: Vec<f64> = x0.iter().zip(&x1).map(|(a, b)| 2.0 * a - 3.0 * b).collect();
        let (b0, b1) = Hat::new(&x0, &x1).fit(&y);
        assert!((b0 - 2.0).abs() < 1e-12 && (b1 + 3.0).abs() < 1e-12);
    }

    #[test]
    fn options_reject_what_phe_sii_rejects() {
        assert_eq!(SiiOptions::new(ValueType::Other).transformed(), Err(Error::SiiTransform));
        assert!(SiiOptions::default().repetitions(999).is_err());
        assert!(SiiOptions::default().quantiles(4).is_err());
        assert!(SiiOptions::default().quantiles(101).is_err());
        assert!(SiiOptions::default().multiplier(0.0).is_err());
        assert!(SiiOptions::default().multiplier(f64::NAN).is_err());
        let low = ConfidenceLevel::new(0.8).expect("valid level");
        assert!(SiiOptions::default().confidence(&[low]).is_err());
        assert!(SiiOptions::default().confidence(&[]).is_err());
        assert!(
            SiiOptions::new(ValueType::Rate)
                .transformed()
                .and_then(|o| o.repetitions(1_000))
                .and_then(|o| o.quantiles(5))
                .and_then(|o| o.multiplier(-100.0))
                .is_ok()
        );
    }
}

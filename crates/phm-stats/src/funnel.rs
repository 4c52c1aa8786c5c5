//! Funnel plots: control limits for proportions, ratios and rates, and where each area falls, as
//! PHEindicatormethods `calculate_funnel_limits` and `assign_funnel_significance` (and the
//! Fingertips funnel-plot tool they reproduce) compute them.
//!
//! A funnel plot shows each area's value against its size (denominator, expected or observed
//! events), with control limits at 95% and 99.8% around the average of all areas; an area
//! outside them differs from the average by more than chance would explain (Spiegelhalter 2005).
//!
//! # Method
//!
//! With z the normal quantile `Φ⁻¹(1 − α/2)` of the level and `O_L`, `O_U` the exact Poisson limits
//! of a count O (see [`poisson`]):
//!
//! * **Proportions.** The average is `p̄ = Σ numerators / Σ denominators`. At denominator n the
//!   limits are `p̄ ∓ z √(p̄ (1 − p̄) / n)`, kept within 0 and 1, times the multiplier. These are
//!   the proportions x/n whose Wilson score interval has `p̄` on its boundary: PHEindicatormethods
//!   solves that quadratic (`sigma_adjustment`), and its roots simplify to this form. An area is
//!   High or Low when its proportion is strictly above or below the limits at its denominator.
//! * **Ratios** of observed O to expected E events (SMRs, ISRs), around 1. The limits are drawn
//!   by observed events: at O, the ratio limits are `O / O_U` and `O / O_L`, reached when E is
//!   `O_U` or `O_L`. An area is High when its ratio's lower confidence limit is above 1 and Low
//!   when its upper limit is below 1, with the limits of [`poisson::limits`] (exact below 10
//!   observed events, Byar's from 10), divided by E.
//! * **Rates** (crude or directly standardised). Each area's denominator is derived from its
//!   events and rate, `multiplier × O / rate` (for a crude rate with no events, its population;
//!   for a DSR with no events, none), and the average is `r̄ = Σ O / Σ derived denominators`. The
//!   limits are drawn by events: at O events they are `O r̄ / O_U` and `O r̄ / O_L` times the
//!   multiplier, reached at populations `O_U / r̄` and `O_L / r̄` (divided by the years of data for
//!   the chart's x-axis). An area is High when its rate's lower limit `O_L / derived` is above `r̄`
//!   and Low when its upper limit is below it (limits as for ratios); DSRs with fewer than 10
//!   events are not assessed, as they are not reported.
//!
//! Where an area is checked at both levels, 99.8% is checked first, so an area beyond both
//! limits is High (or Low) at 99.8%.
//!
//! PHEindicatormethods finds `O_L` and `O_U` for the chart by bisection to |Δv| < 10⁻⁷ on
//! `v = λ / (1 + O + λ)` (as the Fingertips Excel tool did); here they come from the chi-squared
//! quantiles to full precision, so charted limits agree with the R package's to within its
//! bisection error (about 10⁻⁷/(v(1 − v)) relative).
//!
//! **The chart's x-axis.** [`ProportionFunnel::chart`] and its siblings return the 100 rows
//! `calculate_funnel_limits` returns: from `max(1, axis minimum)` to the axis maximum, each
//! row `max(round((axis_max / x)^(1/(101 − k)) x), x + 1)` after the previous one x (k the row
//! number, one less for ratios), rounding half to even as R does. The axis maximum is the
//! largest denominator × 1.05 rounded up at its second significant digit; the minimum is 0 when
//! the largest denominator is more than twice the smallest, otherwise the smallest × 0.95
//! rounded down at its first significant digit (per year of data for rates, whose axis is then
//! turned into events by `r̄`). Digits are counted on the number itself; R counts the characters
//! of its printed form, which differs for whole powers of ten R prints as e.g. `1e+05`.
//!
//! The upper limit of a proportion is capped at the multiplier (a proportion of 1);
//! PHEindicatormethods caps it at 100, which is the same for percentages.
//!
//! # References
//!
//! 1. Spiegelhalter DJ. Funnel plots for comparing institutional performance. *Stat Med* 2005;
//!    24: 1185–1202.
//! 2. Office for Health Improvement and Disparities. *Public Health Technical Guidance*
//!    (Fingertips), chapter on funnel plots.
//! 3. Wilson EB. *J Am Stat Assoc* 1927; 22: 209–212.

use std::fmt;
use std::num::NonZeroU32;

use crate::confidence::ConfidenceLevel;
use crate::estimate::{Limits, Multiplier};
use crate::poisson;

/// The two levels every funnel is drawn and assessed at.
const LEVELS: [ConfidenceLevel; 2] = [ConfidenceLevel::NINETY_FIVE, ConfidenceLevel::NINETY_NINE_POINT_EIGHT];

/// DSRs with fewer events than this are not assessed.
pub const MIN_DSR_EVENTS: f64 = 10.0;

/// Where an area falls on a funnel plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelSignificance {
    /// Above the upper 99.8% limit (R: "High (0.001)").
    HighAt99_8,
    /// Above the upper 95% limit, within the 99.8% one (R: "High (0.025)").
    HighAt95,
    /// Within the 95% limits (R: "Not significant").
    NotSignificant,
    /// Below the lower 95% limit, within the 99.8% one (R: "Low (0.025)").
    LowAt95,
    /// Below the lower 99.8% limit (R: "Low (0.001)").
    LowAt99_8,
    /// A DSR with fewer than [`MIN_DSR_EVENTS`] events, which is not assessed (R: "Not applicable
    /// for events less than 10 for dsrs").
    NotApplicable,
}

impl fmt::Display for FunnelSignificance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HighAt99_8 => "High (0.001)",
            Self::HighAt95 => "High (0.025)",
            Self::NotSignificant => "Not significant",
            Self::LowAt95 => "Low (0.025)",
            Self::LowAt99_8 => "Low (0.001)",
            Self::NotApplicable => "Not applicable for events less than 10 for dsrs",
        })
    }
}

/// What is wrong with one area's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointProblem {
    /// A number is NaN or infinite.
    NonFinite,
    /// The numerator (events) is below zero.
    NegativeNumerator,
    /// The denominator (or expected count) is zero or below.
    NonPositiveDenominator,
    /// A proportion's numerator exceeds its denominator.
    NumeratorExceedsDenominator,
    /// A rate with events has no rate above zero (a crude rate may give its population instead).
    MissingRate,
    /// A crude rate with no events has no population to place it on the funnel.
    MissingDenominator,
}

impl fmt::Display for PointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonFinite => "a value is not a finite number",
            Self::NegativeNumerator => "the numerator is below zero",
            Self::NonPositiveDenominator => "the denominator is not greater than zero",
            Self::NumeratorExceedsDenominator => "the numerator is larger than the denominator",
            Self::MissingRate => "there are events but no rate greater than zero",
            Self::MissingDenominator => "there are no events and no population",
        })
    }
}

/// Why a funnel plot is not drawn. As in PHEindicatormethods, one bad area stops the whole plot,
/// since the average depends on every area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReported {
    /// No areas were given.
    NoPoints,
    /// An area's data cannot be used.
    InvalidPoint {
        /// Position of the first such area in the input.
        point: usize,
        /// What is wrong with it.
        problem: PointProblem,
    },
    /// A rate funnel whose areas have no events at all has no average to draw limits around.
    NoEvents,
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPoints => write!(f, "no areas were given"),
            Self::InvalidPoint { point, problem } => write!(f, "area {point}: {problem}"),
            Self::NoEvents => write!(f, "no area has any events, so there is no average rate"),
        }
    }
}

/// A limit on the chart and the denominator at which it holds: the population for proportions,
/// the expected events for ratios, the population per year of data for rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelPoint {
    /// The limit, in the plotted unit.
    pub limit: f64,
    /// The denominator at which the limit holds.
    pub denominator: f64,
}

/// One row of a funnel chart: the four limits at one point of the x-axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelRow {
    /// Where the row is computed: the population (proportions), the observed events (ratios) or
    /// the events (rates).
    pub at: f64,
    /// Lower 95% limit.
    pub lower_95: FunnelPoint,
    /// Upper 95% limit.
    pub upper_95: FunnelPoint,
    /// Lower 99.8% limit.
    pub lower_99_8: FunnelPoint,
    /// Upper 99.8% limit.
    pub upper_99_8: FunnelPoint,
}

/// The data to draw a funnel chart: its centre line and 100 rows of limits.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelChart {
    /// The centre line, in the plotted unit.
    pub baseline: f64,
    /// The limits, by increasing x.
    pub rows: Vec<FunnelRow>,
}

// ---------------------------------------------------------------------------------------------
// Proportions

/// One area of a proportion funnel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionPoint {
    /// The numerator.
    pub numerator: f64,
    /// The denominator.
    pub denominator: f64,
}

/// A funnel plot of proportions.
#[derive(Debug, Clone, PartialEq)]
pub struct ProportionFunnel {
    points: Vec<ProportionPoint>,
    average: f64,
    multiplier: Multiplier,
}

impl ProportionFunnel {
    /// A funnel around the pooled proportion of `points`, or why there is none.
    pub fn new(points: &[ProportionPoint], multiplier: Multiplier) -> Result<Self, NotReported> {
        if points.is_empty() {
            return Err(NotReported::NoPoints);
        }
        for (point, p) in points.iter().enumerate() {
            let problem = if !p.numerator.is_finite() || !p.denominator.is_finite() {
                Some(PointProblem::NonFinite)
            } else if p.numerator < 0.0 {
                Some(PointProblem::NegativeNumerator)
            } else if p.denominator <= 0.0 {
                Some(PointProblem::NonPositiveDenominator)
            } else if p.numerator > p.denominator {
                Some(PointProblem::NumeratorExceedsDenominator)
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(NotReported::InvalidPoint { point, problem });
            }
        }
        let numerators: f64 = points.iter().map(|p| p.numerator).sum();
        let denominators: f64 = points.iter().map(|p| p.denominator).sum();
        Ok(Self { points: points.to_vec(), average: numerators / denominators, multiplier })
    }

    /// The pooled proportion `p̄` (a fraction).
    pub fn average(&self) -> f64 {
        self.average
    }

    /// The centre line, `p̄ × multiplier`.
    pub fn baseline(&self) -> f64 {
        self.average * self.multiplier.value()
    }

    /// The limits at `denominator` n: `p̄ ∓ z √(p̄ (1 − p̄) / n)`, within 0 and 1, × multiplier;
    /// `None` unless n is a finite number above zero.
    pub fn limits(&self, denominator: f64, confidence: ConfidenceLevel) -> Option<Limits> {
        if !(denominator > 0.0 && denominator.is_finite()) {
            return None;
        }
        let (lower, upper) = self.fraction_limits(denominator, confidence);
        let limits = Limits { lower: lower.max(0.0), upper: upper.min(1.0) };
        Some(limits.scaled(self.multiplier.value()))
    }

    fn fraction_limits(&self, n: f64, confidence: ConfidenceLevel) -> (f64, f64) {
        let half = confidence.z() * (self.average * (1.0 - self.average) / n).sqrt();
        (self.average - half, self.average + half)
    }

    /// Where each area falls, in input order.
    pub fn significance(&self) -> Vec<FunnelSignificance> {
        self.points
            .iter()
            .map(|p| {
                let value = p.numerator / p.denominator;
                classify(|c| {
                    let (lower, upper) = self.fraction_limits(p.denominator, c);
                    (value > upper, value < lower)
                })
            })
            .collect()
    }

    /// The chart's 100 rows by population (see the [module documentation](self)).
    pub fn chart(&self) -> FunnelChart {
        let (min, max) = min_max(self.points.iter().map(|p| p.denominator));
        let (axis_min, axis_max) = axis(min, max, 1.0);
        let rows = x_values(axis_min, axis_max, 0)
            .into_iter()
            .filter_map(|n| {
                let at = |limits: Limits, upper: bool| FunnelPoint {
                    limit: if upper { limits.upper } else { limits.lower },
                    denominator: n,
                };
                let [l95, l998] = LEVELS.map(|c| self.limits(n, c));
                let (l95, l998) = (l95?, l998?);
                Some(FunnelRow {
                    at: n,
                    lower_95: at(l95, false),
                    upper_95: at(l95, true),
                    lower_99_8: at(l998, false),
                    upper_99_8: at(l998, true),
                })
            })
            .collect();
        FunnelChart { baseline: self.baseline(), rows }
    }
}

// ---------------------------------------------------------------------------------------------
// Ratios

/// One area of a ratio funnel: observed and expected events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioPoint {
    /// Observed events O.
    pub observed: f64,
    /// Expected events E.
    pub expected: f64,
}

/// How ratio limits are expressed on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioScale {
    /// The ratio itself, around 1.
    Ratio,
    /// The ratio × 100, around 100 (an SMR or ISR of 100; R's `ratio_type = "isr"`).
    Percent,
    /// The ratio − 1, the relative excess `(O − E) / E`, around 0 (R's `ratio_type = "count"`).
    RelativeExcess,
}

impl RatioScale {
    fn apply(self, ratio: f64) -> f64 {
        match self {
            Self::Ratio => ratio,
            Self::Percent => ratio * 100.0,
            Self::RelativeExcess => ratio - 1.0,
        }
    }
}

/// A funnel plot of ratios of observed to expected events, around 1.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioFunnel {
    points: Vec<RatioPoint>,
}

impl RatioFunnel {
    /// A funnel for `points`, or why there is none.
    pub fn new(points: &[RatioPoint]) -> Result<Self, NotReported> {
        if points.is_empty() {
            return Err(NotReported::NoPoints);
        }
        for (point, p) in points.iter().enumerate() {
            let problem = if !p.observed.is_finite() || !p.expected.is_finite() {
                Some(PointProblem::NonFinite)
            } else if p.observed < 0.0 {
                Some(PointProblem::NegativeNumerator)
            } else if p.expected <= 0.0 {
                Some(PointProblem::NonPositiveDenominator)
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(NotReported::InvalidPoint { point, problem });
            }
        }
        Ok(Self { points: points.to_vec() })
    }

    /// The ratio limits at `observed` events, `O / O_U` and `O / O_L`, each with the expected
    /// count at which it is reached (`O_U`, `O_L`). `observed` must be a count above zero;
    /// otherwise `None`.
    pub fn limits(observed: f64, confidence: ConfidenceLevel) -> Option<(FunnelPoint, FunnelPoint)> {
        if !(observed > 0.0 && observed.is_finite()) {
            return None;
        }
        let upper_count = poisson::exact_upper(observed, confidence)?;
        let lower_count = poisson::exact_lower(observed, confidence)?;
        Some((
            FunnelPoint { limit: observed / upper_count, denominator: upper_count },
            FunnelPoint { limit: observed / lower_count, denominator: lower_count },
        ))
    }

    /// Where each area falls, in input order: its ratio's limits against 1.
    pub fn significance(&self) -> Vec<FunnelSignificance> {
        self.points
            .iter()
            .map(|p| {
                classify(|c| match poisson::limits(p.observed, c) {
                    Some(l) => (l.lower / p.expected > 1.0, l.upper / p.expected < 1.0),
                    None => (false, false),
                })
            })
            .collect()
    }

    /// The chart's 100 rows by observed events, with limits on `scale` (see the
    /// [module documentation](self)).
    pub fn chart(&self, scale: RatioScale) -> FunnelChart {
        let (min, max) = min_max(self.points.iter().map(|p| p.expected));
        let (axis_min, axis_max) = axis(min, max, 1.0);
        let rows = x_values(axis_min, axis_max, 1)
            .into_iter()
            .filter_map(|o| {
                let [at_95, at_99_8] = LEVELS.map(|c| Self::limits(o, c));
                let ((l95, u95), (l998, u998)) = (at_95?, at_99_8?);
                let [l95, u95, l998, u998] = [l95, u95, l998, u998]
                    .map(|p| FunnelPoint { limit: scale.apply(p.limit), denominator: p.denominator });
                Some(FunnelRow { at: o, lower_95: l95, upper_95: u95, lower_99_8: l998, upper_99_8: u998 })
            })
            .collect();
        FunnelChart { baseline: scale.apply(1.0), rows }
    }
}

// ---------------------------------------------------------------------------------------------
// Rates

/// One area of a rate funnel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    /// Events O.
    pub events: f64,
    /// The area's rate per multiplier (crude or DSR); needed when there are events, except for a
    /// crude rate whose population is given.
    pub rate: Option<f64>,
    /// The area's population; needed for a crude rate with no events.
    pub denominator: Option<f64>,
}

/// Whether a rate funnel is of crude rates or of directly standardised rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateType {
    /// Crude rates.
    Crude,
    /// Directly standardised rates: those with fewer than 10 events are not assessed.
    Dsr,
}

/// A funnel plot of rates, around the average rate.
#[derive(Debug, Clone, PartialEq)]
pub struct RateFunnel {
    points: Vec<RatePoint>,
    derived: Vec<Option<f64>>,
    average: f64,
    rate_type: RateType,
    multiplier: Multiplier,
}

impl RateFunnel {
    /// A funnel around the average rate of `points` (rates per `multiplier`), or why there is
    /// none.
    pub fn new(points: &[RatePoint], rate_type: RateType, multiplier: Multiplier) -> Result<Self, NotReported> {
        if points.is_empty() {
            return Err(NotReported::NoPoints);
        }
        let derived = points
            .iter()
            .enumerate()
            .map(|(point, p)| {
                derive_denominator(p, rate_type, multiplier)
                    .map_err(|problem| NotReported::InvalidPoint { point, problem })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let events: f64 = points.iter().map(|p| p.events).sum();
        if events == 0.0 {
            return Err(NotReported::NoEvents);
        }
        let denominators: f64 = derived.iter().flatten().sum();
        Ok(Self { points: points.to_vec(), derived, average: events / denominators, rate_type, multiplier })
    }

    /// The average rate per person, `r̄ = Σ O / Σ derived denominators`.
    pub fn average(&self) -> f64 {
        self.average
    }

    /// The centre line, `r̄ × multiplier`.
    pub fn baseline(&self) -> f64 {
        self.average * self.multiplier.value()
    }

    /// Each area's derived denominator, `multiplier × O / rate` (a crude rate with no events: its
    /// population; a DSR with no events: none), in input order.
    pub fn derived_denominators(&self) -> &[Option<f64>] {
        &self.derived
    }

    /// The rate limits at `events` O, `O r̄ / O_U` and `O r̄ / O_L` × multiplier, each with the
    /// population (person-years) at which it is reached (`O_U / r̄`, `O_L / r̄`). `events` must be
    /// above zero; otherwise `None`.
    pub fn limits(&self, events: f64, confidence: ConfidenceLevel) -> Option<(FunnelPoint, FunnelPoint)> {
        let (lower, upper) = RatioFunnel::limits(events, confidence)?;
        let at = |p: FunnelPoint| {
            let population = p.denominator / self.average;
            FunnelPoint { limit: events / population * self.multiplier.value(), denominator: population }
        };
        Some((at(lower), at(upper)))
    }

    /// Where each area falls, in input order: its rate's limits against the average.
    pub fn significance(&self) -> Vec<FunnelSignificance> {
        self.points
            .iter()
            .zip(&self.derived)
            .map(|(p, derived)| {
                if self.rate_type == RateType::Dsr && p.events < MIN_DSR_EVENTS {
                    return FunnelSignificance::NotApplicable;
                }
                let Some(n) = derived else {
                    return FunnelSignificance::NotSignificant;
                };
                classify(|c| match poisson::limits(p.events, c) {
                    Some(l) => (l.lower / n > self.average, l.upper / n < self.average),
                    None => (false, false),
                })
            })
            .collect()
    }

    /// The chart's 100 rows by events, for data covering `years` years (the populations at the
    /// limits are per year; see the [module documentation](self)).
    pub fn chart(&self, years: NonZeroU32) -> FunnelChart {
        let years = f64::from(years.get());
        let (min, max) = min_max(self.derived.iter().flatten().copied());
        let (axis_min, axis_max) = axis(min, max, years);
        let (events_min, events_max) = ((axis_min * self.average).floor(), (axis_max * self.average).ceil());
        let rows = x_values(events_min, events_max, 0)
            .into_iter()
            .filter_map(|events| {
                let [at_95, at_99_8] = LEVELS.map(|c| self.limits(events, c));
                let ((l95, u95), (l998, u998)) = (at_95?, at_99_8?);
                let [l95, u95, l998, u998] =
                    [l95, u95, l998, u998].map(|p| FunnelPoint { limit: p.limit, denominator: p.denominator / years });
                Some(FunnelRow { at: events, lower_95: l95, upper_95: u95, lower_99_8: l998, upper_99_8: u998 })
            })
            .collect();
        FunnelChart { baseline: self.baseline(), rows }
    }
}

/// An area as a rate funnel chart plots it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateChartPoint {
    /// The area's rate per multiplier.
    pub rate: f64,
    /// Its derived denominator divided by the years of data.
    pub population_per_year: f64,
}

impl RateFunnel {
    /// Each area as `calculate_funnel_points` places it on the chart, in input order: its rate
    /// against its derived denominator per year of data. DSRs with fewer than
    /// [`MIN_DSR_EVENTS`] events are not plotted (`None`), as they are not reported.
    pub fn chart_points(&self, years: NonZeroU32) -> Vec<Option<RateChartPoint>> {
        let years = f64::from(years.get());
        self.points
            .iter()
            .zip(&self.derived)
            .map(|(p, derived)| {
                if self.rate_type == RateType::Dsr && p.events < MIN_DSR_EVENTS {
                    return None;
                }
                let n = (*derived)?;
                Some(RateChartPoint {
                    rate: p.rate.unwrap_or(p.events / n * self.multiplier.value()),
                    population_per_year: n / years,
                })
            })
            .collect()
    }
}

/// An area's derived denominator, or what is wrong with it.
fn derive_denominator(p: &RatePoint, rate_type: RateType, multiplier: Multiplier) -> Result<Option<f64>, PointProblem> {
    let finite = |x: Option<f64>| x.is_none_or(f64::is_finite);
    if !p.events.is_finite() || !finite(p.rate) || !finite(p.denominator) {
        return Err(PointProblem::NonFinite);
    }
    if p.events < 0.0 {
        return Err(PointProblem::NegativeNumerator);
    }
    if p.denominator.is_some_and(|n| n <= 0.0) {
        return Err(PointProblem::NonPositiveDenominator);
    }
    let from_rate = p.rate.filter(|r| *r > 0.0).map(|r| multiplier.value() * p.events / r);
    match (rate_type, p.events == 0.0) {
        (RateType::Crude, true) => p.denominator.map(Some).ok_or(PointProblem::MissingDenominator),
        // A crude rate's population is what its rate gives.
        (RateType::Crude, false) => from_rate.or(p.denominator).map(Some).ok_or(PointProblem::MissingRate),
        (RateType::Dsr, true) => Ok(None),
        (RateType::Dsr, false) => from_rate.map(Some).ok_or(PointProblem::MissingRate),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared

/// Classifies an area from `(above the upper limit, below the lower limit)` at a level, checking
/// 99.8% before 95% and high before low, as PHEindicatormethods does.
fn classify(outside: impl Fn(ConfidenceLevel) -> (bool, bool)) -> FunnelSignificance {
    let [at_95, at_99_8] = LEVELS.map(&outside);
    if at_99_8.0 {
        FunnelSignificance::HighAt99_8
    } else if at_95.0 {
        FunnelSignificance::HighAt95
    } else if at_99_8.1 {
        FunnelSignificance::LowAt99_8
    } else if at_95.1 {
        FunnelSignificance::LowAt95
    } else {
        FunnelSignificance::NotSignificant
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// The axis minimum and maximum for denominators from `min` to `max`, computed per `years`.
fn axis(min: f64, max: f64, years: f64) -> (f64, f64) {
    let axis_min = if max > 2.0 * min { 0.0 } else { signif_floor(min / years) * years };
    (axis_min, signif_ceiling(max / years) * years)
}

/// `x × 0.95` rounded down at its first significant digit (0 for 0).
fn signif_floor(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let y = x * 0.95;
    let scale = 10f64.powi(digits(y.floor()) - 1);
    (y / scale).floor() * scale
}

/// `x × 1.05` rounded up at its second significant digit (0 for 0).
fn signif_ceiling(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let y = x * 1.05;
    let scale = 10f64.powi(digits(y.ceil()) - 2);
    (y / scale).ceil() * scale
}

/// Decimal digits of a whole number ≥ 0 (1 for 0).
fn digits(whole: f64) -> i32 {
    let mut digits = 1;
    let mut bound = 10.0;
    while whole >= bound && digits < 309 {
        digits += 1;
        bound *= 10.0;
    }
    digits
}

/// The chart's 100 x-values from `max(1, axis_min)` to about `axis_max`; `shift` is 1 for ratio
/// charts, whose exponent runs one row behind (as in PHEindicatormethods).
fn x_values(axis_min: f64, axis_max: f64, shift: i32) -> Vec<f64> {
    let mut xs = Vec::with_capacity(100);
    let mut x = axis_min.max(1.0);
    xs.push(x);
    for row in 2..=100 {
        let offset = f64::from(row - shift);
        let next = ((axis_max / x).powf(1.0 / (101.0 - offset)) * x).round_ties_even();
        x = next.max(x + 1.0);
        xs.push(x);
    }
    xs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signif_rounding_matches_the_r_helpers() {
        // signif.floor(12345) = floor(11727.75 / 10^4) * 10^4; signif.ceiling(12345) rounds
        // 12962.25 up at 10^3.
        assert_eq!(signif_floor(12_345.0), 10_000.0);
        assert_eq!(signif_ceiling(12_345.0), 13_000.0);
        assert_eq!(signif_floor(0.0), 0.0);
        assert!((signif_ceiling(5.0) - 5.3).abs() < 1e-12);
    }

    #[test]
    fn digits_counts_decimal_digits() {
        assert_eq!(digits(0.0), 1);
        assert_eq!(digits(9.0), 1);
        assert_eq!(digits(10.0), 2);
        assert_eq!(digits(99_999.0), 5);
        assert_eq!(digits(100_000.0), 6);
    }

    #[test]
    fn x_values_start_at_one_and_reach_the_axis_maximum() {
        let xs = x_values(0.0, 50_000.0, 0);
        assert_eq!(xs.len(), 100);
        assert_eq!(xs[0], 1.0);
        assert_eq!(xs[99], 50_000.0);
        assert!(xs.windows(2).all(|w| w[1] >= w[0] + 1.0));
    }
}

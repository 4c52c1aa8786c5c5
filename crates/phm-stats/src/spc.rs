//! Statistical process control in the style of NHS England's "Making Data Count" (MDC): the XmR
//! chart, its special-cause rules, and the variation and assurance icons.
//!
//! This follows the MDC guidance and its Excel tools, as the NHS-R community's
//! `NHSRplotthedots` package implements them (it documents where it departs from the Excel tools,
//! and this module takes the Excel behaviour there).
//!
//! # The XmR chart
//!
//! For values `x_1 … x_n` in time order, within one period (see recalculation below):
//!
//! * moving ranges `mR_i = |x_i − x_{i−1}|`, and their mean `mR̄`;
//! * the centre line is the mean `x̄`; the process limits are `x̄ ± 2.66 mR̄` (2.66 = 3 / 1.128,
//!   three sigma with sigma estimated as `mR̄ / d₂`, `d₂ = 1.128` for ranges of two);
//! * a point is "close to" a limit when it lies beyond two sigma, `x̄ ± (2/3) 2.66 mR̄`, but not
//!   beyond the limit itself.
//!
//! The mean and `mR̄` come from the baseline, the period's first N points when a baseline is given
//! ([`SpcOptions::baseline`], `fix_after_n_points` in `NHSRplotthedots`), else from every point of
//! the period; the limits then extend over the whole period. The MDC Excel tools keep every
//! moving range in `mR̄`. Screening ([`SpcOptions::screen_outliers`], `NHSRplotthedots`' default,
//! after Nelson 1982) first drops moving ranges of 3.267 `mR̄` or more (the upper range limit) and
//! recomputes `mR̄`.
//!
//! # Baselines and recalculation
//!
//! MDC asks for limits from a stable period: at least 15 points (20 or more is better). With
//! fewer, the limits are "trial" limits that move with each new point; the chart then carries a
//! [`Note::FewPointsForLimits`]. Limits are recalculated ([`SpcOptions::recalculate_at`],
//! `rebase` in `NHSRplotthedots`) only when the process has changed for a known reason, shown by
//! a sustained special cause such as a shift; the new period starts at the change, and every
//! period has its own mean, limits and rules (no run, trend or moving range crosses into the
//! next period).
//!
//! # Special-cause rules
//!
//! Within each period:
//!
//! * (a) [`Rules::beyond_limit`]: a single point above the upper or below the lower process
//!   limit;
//! * (b) [`Rules::shift`]: a run of 7 (or [`SpcOptions::shift_run`]) or more consecutive points
//!   all above, or all below, the mean; a point on the mean breaks the run; every point of the
//!   run is flagged;
//! * (c) [`Rules::trend`]: 7 (or [`SpcOptions::trend_run`]) or more consecutive points each
//!   higher, or each lower, than the one before; two equal points break the trend; every point
//!   of the trend is flagged;
//! * (d) [`Rules::two_of_three`]: two out of three consecutive points close to a process limit
//!   (beyond two sigma), the three all on the same side of the mean; the points close to the limit
//!   are flagged.
//!
//! A point may break several rules. Its side (high or low) is taken, as `NHSRplotthedots` takes
//! it, from the first of: beyond a limit (the side it is on), trend (increasing is high; a point
//! that ends one trend and starts the opposite one takes the later), two of three (the side of
//! the mean), shift (the side of the mean). With the indicator's [`Polarity`], the side makes the
//! point's [`Variation`]: special cause of improvement, of concern, or (with no polarity) of
//! neither, high or low.
//!
//! # Gaps
//!
//! A missing value (`None`: not collected, or suppressed before release) is a gap, handled as
//! the Making Data Count tools do (`NHSRplotthedots` takes means with `na.rm = TRUE` over
//! `abs(diff(y))`, so a range next to a missing value drops out):
//!
//! * the mean is of the values there are; a moving range needs two consecutive values, so the
//!   ranges either side of a gap are left out of `mR̄`;
//! * a gap has no side and no direction: a run on one side of the mean, a trend, and three
//!   consecutive points for two-of-three all stop at it, and start again after it;
//! * a period whose baseline has values but no two consecutive ones (a single point, say) has
//!   its mean and no limits, with the reason ([`NoLimits`]); only a period with no value at all
//!   has no chart ([`NotReported::NoValue`]);
//! * the gap keeps its place in the chart (a [`Point`] with no value and no variation), and the
//!   chart carries a [`Note::Gaps`]; when the latest point is a gap there is no variation icon.
//!
//! # Icons
//!
//! * The variation icon is the [`Variation`] of the latest point.
//! * The assurance icon compares a target with the latest point's process limits: with "higher
//!   is better", a target below the lower limit will consistently be passed, a target above the
//!   upper limit consistently failed, and a target between the limits (on them included) hit and
//!   missed at random; the reverse with "lower is better". There is none without a target, nor
//!   for an indicator with no polarity.
//!
//! # References
//!
//! 1. NHS England and NHS Improvement. *Making Data Count* (2017) and *Making Data Count:
//!    Strengthening your decisions* (2019); the MDC SPC Excel tools.
//! 2. NHS-R Community. `NHSRplotthedots`: draw XmR charts for the NHS England "Making Data Count"
//!    programme (R package), including its vignette on deviations from the Excel tools.
//! 3. Wheeler DJ. *Understanding Variation: The Key to Managing Chaos.* SPC Press, 2000.
//! 4. Nelson LS. Control charts for individual measurements. *J Qual Technol* 1982; 14: 172–173.

use std::fmt;

use crate::error::{Error, Result};

/// Process limits lie this many mean moving ranges from the mean: `3 / d₂`, `d₂ = 1.128`.
pub const LIMIT_FACTOR: f64 = 2.66;

/// Points beyond this many mean moving ranges from the mean (two sigma) are close to a limit.
pub const NEAR_LIMIT_FACTOR: f64 = 2.0 * LIMIT_FACTOR / 3.0;

/// With screening, moving ranges of this many mean moving ranges or more (the upper range limit
/// `D₄ = 3.267`) are left out of the mean moving range.
pub const MOVING_RANGE_LIMIT: f64 = 3.267;

/// The MDC run length for a shift or a trend.
pub const DEFAULT_RUN: usize = 7;

/// The shortest run or trend that can be asked for.
pub const MIN_RUN: usize = 3;

/// MDC asks for limits from at least this many points.
pub const MIN_POINTS_FOR_LIMITS: usize = 15;

/// Which direction is better for the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Higher values are better (e.g. screening coverage).
    HigherIsBetter,
    /// Lower values are better (e.g. emergency admissions).
    LowerIsBetter,
    /// Neither direction is better (e.g. activity volumes).
    Neither,
}

/// Parameters of [`xmr`], built and checked with the methods below. The defaults follow the
/// MDC Excel tools: limits from every point, no recalculation, runs and trends of 7, no screening,
/// no target.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcOptions {
    polarity: Polarity,
    target: Option<f64>,
    baseline: Option<usize>,
    recalculate_at: Vec<usize>,
    shift_run: usize,
    trend_run: usize,
    screen_outliers: bool,
}

impl SpcOptions {
    /// The MDC defaults for an indicator of this polarity.
    pub fn new(polarity: Polarity) -> Self {
        Self {
            polarity,
            target: None,
            baseline: None,
            recalculate_at: Vec::new(),
            shift_run: DEFAULT_RUN,
            trend_run: DEFAULT_RUN,
            screen_outliers: false,
        }
    }

    /// A target for the assurance icon.
    ///
    /// # Errors
    /// [`Error::SpcTarget`] unless the target is finite.
    pub fn target(mut self, target: f64) -> Result<Self> {
        if !target.is_finite() {
            return Err(Error::SpcTarget { target });
        }
        self.target = Some(target);
        Ok(self)
    }

    /// Compute each period's mean and limits from its first `points` points only.
    ///
    /// # Errors
    /// [`Error::SpcBaseline`] for fewer than 2 points (one moving range needs two).
    pub fn baseline(mut self, points: usize) -> Result<Self> {
        if points < 2 {
            return Err(Error::SpcBaseline { points });
        }
        self.baseline = Some(points);
        Ok(self)
    }

    /// Start a new period, with its own mean and limits, at each of these 0-based positions in
    /// the series. A position at or beyond the series' end starts nothing.
    ///
    /// # Errors
    /// [`Error::SpcRecalculation`] unless the positions strictly increase and the first is above
    /// 0 (the first period always starts at 0).
    pub fn recalculate_at(mut self, positions: &[usize]) -> Result<Self> {
        let increasing = positions.windows(2).all(|w| w[0] < w[1]);
        if !increasing || positions.first() == Some(&0) {
            return Err(Error::SpcRecalculation { positions: positions.to_vec() });
        }
        self.recalculate_at = positions.to_vec();
        Ok(self)
    }

    /// The number of consecutive points on one side of the mean that make a shift (rule b).
    ///
    /// # Errors
    /// [`Error::SpcRunLength`] below [`MIN_RUN`].
    pub fn shift_run(mut self, points: usize) -> Result<Self> {
        self.shift_run = run_length(points)?;
        Ok(self)
    }

    /// The number of consecutive increasing or decreasing points that make a trend (rule c).
    ///
    /// # Errors
    /// [`Error::SpcRunLength`] below [`MIN_RUN`].
    pub fn trend_run(mut self, points: usize) -> Result<Self> {
        self.trend_run = run_length(points)?;
        Ok(self)
    }

    /// Leave moving ranges at or above the upper range limit out of the mean moving range, as
    /// `NHSRplotthedots` does by default (the MDC Excel tools do not).
    #[must_use]
    pub fn screen_outliers(mut self, screen: bool) -> Self {
        self.screen_outliers = screen;
        self
    }

    /// The indicator's polarity.
    pub fn polarity(&self) -> Polarity {
        self.polarity
    }
}

fn run_length(points: usize) -> Result<usize> {
    if points < MIN_RUN { Err(Error::SpcRunLength { points }) } else { Ok(points) }
}

/// Which special-cause rules a point breaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// (a) Beyond a process limit.
    pub beyond_limit: bool,
    /// (b) Part of a run on one side of the mean.
    pub shift: bool,
    /// (c) Part of a run of increasing or decreasing points.
    pub trend: bool,
    /// (d) Close to a limit, with another of three consecutive points on the same side.
    pub two_of_three: bool,
}

impl Rules {
    /// The rules broken, `;`-separated in the guidance's order: `astronomical` (beyond a
    /// process limit), `shift` (a run on one side of the mean), `trend` (a run rising or
    /// falling), `two_of_three` (two of three points close to a limit); empty when none.
    pub fn names(self) -> String {
        let names = [
            (self.beyond_limit, "astronomical"),
            (self.shift, "shift"),
            (self.trend, "trend"),
            (self.two_of_three, "two_of_three"),
        ];
        names.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect::<Vec<_>>().join(";")
    }

    /// Whether any rule is broken.
    pub fn any(self) -> bool {
        self.beyond_limit || self.shift || self.trend || self.two_of_three
    }
}

/// High or low.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Above the mean, or increasing.
    High,
    /// Below the mean, or decreasing.
    Low,
}

/// What a point shows; the latest point's is the chart's variation icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variation {
    /// Common-cause variation: no rule is broken.
    CommonCause,
    /// Special cause of improvement, high (higher is better).
    ImprovementHigh,
    /// Special cause of improvement, low (lower is better).
    ImprovementLow,
    /// Special cause of concern, high (lower is better).
    ConcernHigh,
    /// Special cause of concern, low (higher is better).
    ConcernLow,
    /// Special cause, high, for an indicator with no polarity.
    NeitherHigh,
    /// Special cause, low, for an indicator with no polarity.
    NeitherLow,
}

impl Variation {
    fn special(side: Side, polarity: Polarity) -> Self {
        match (polarity, side) {
            (Polarity::HigherIsBetter, Side::High) => Self::ImprovementHigh,
            (Polarity::HigherIsBetter, Side::Low) => Self::ConcernLow,
            (Polarity::LowerIsBetter, Side::High) => Self::ConcernHigh,
            (Polarity::LowerIsBetter, Side::Low) => Self::ImprovementLow,
            (Polarity::Neither, Side::High) => Self::NeitherHigh,
            (Polarity::Neither, Side::Low) => Self::NeitherLow,
        }
    }

    /// What a point shows: `common_cause`, or a special cause of `improvement`, of `concern`,
    /// or (with no polarity) `neither`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::CommonCause => "common_cause",
            Self::ImprovementHigh | Self::ImprovementLow => "improvement",
            Self::ConcernHigh | Self::ConcernLow => "concern",
            Self::NeitherHigh | Self::NeitherLow => "neither",
        }
    }

    /// The Making Data Count variation icon's name: `common_cause`, `improvement_high`,
    /// `improvement_low`, `concern_high`, `concern_low`, `neither_high`, `neither_low`.
    pub fn icon(self) -> &'static str {
        match self {
            Self::CommonCause => "common_cause",
            Self::ImprovementHigh => "improvement_high",
            Self::ImprovementLow => "improvement_low",
            Self::ConcernHigh => "concern_high",
            Self::ConcernLow => "concern_low",
            Self::NeitherHigh => "neither_high",
            Self::NeitherLow => "neither_low",
        }
    }

    /// Whether this is special-cause variation.
    pub fn is_special_cause(self) -> bool {
        self != Self::CommonCause
    }

    /// The side of a special cause.
    pub fn side(self) -> Option<Side> {
        match self {
            Self::CommonCause => None,
            Self::ImprovementHigh | Self::ConcernHigh | Self::NeitherHigh => Some(Side::High),
            Self::ImprovementLow | Self::ConcernLow | Self::NeitherLow => Some(Side::Low),
        }
    }
}

/// The assurance icon: will the process meet the target?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// No target was given, the indicator has no polarity, or the current period has no
    /// limits.
    NotAssessed,
    /// The target lies outside the limits on the good side: it will consistently be met.
    ConsistentlyPass,
    /// The target lies outside the limits on the bad side: it will consistently be missed.
    ConsistentlyFail,
    /// The target lies within the limits: it will be hit and missed at random.
    HitAndMiss,
}

/// Something to bear in mind when reading the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// A period's limits come from fewer than [`MIN_POINTS_FOR_LIMITS`] points: they are trial
    /// limits.
    FewPointsForLimits {
        /// 0-based position of the period's first point.
        period_start: usize,
        /// The number of points behind its limits.
        points: usize,
    },
    /// Some points have no value: each is a gap (see [Gaps](self#gaps)).
    Gaps {
        /// How many points have no value.
        missing: usize,
        /// How many points the series has.
        points: usize,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FewPointsForLimits { period_start, points } => write!(
                f,
                "the limits of the period starting at point {} come from {points} points, fewer than the \
                 {MIN_POINTS_FOR_LIMITS} Making Data Count asks for: treat them as trial limits",
                period_start + 1
            ),
            Self::Gaps { missing, points } => write!(
                f,
                "{missing} of {points} points have no value: each is a gap, the moving ranges either side of \
                 it are left out and no run or trend crosses it"
            ),
        }
    }
}

/// Why a period has a mean but no process limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLimits {
    /// No two consecutive points of the baseline both have a value (one point, or points
    /// separated by gaps), so there is no moving range to estimate the variation from.
    NoMovingRange {
        /// 0-based position of the period's first point.
        period_start: usize,
        /// The number of points with a value in the baseline.
        points: usize,
    },
}

impl fmt::Display for NoLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMovingRange { period_start, points } => write!(
                f,
                "the period starting at point {} has {points} point(s) with a value and no two of them \
                 consecutive, so no moving range: its mean is given, its process limits cannot be",
                period_start + 1
            ),
        }
    }
}

/// A period's process limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Mean moving range of the baseline (after screening, if asked for).
    pub mean_moving_range: f64,
    /// The moving ranges behind it (pairs of consecutive points that both have a value).
    pub moving_ranges: usize,
    /// Moving ranges left out by screening.
    pub screened_moving_ranges: usize,
    /// Lower process limit, `x̄ − 2.66 mR̄`.
    pub lower: f64,
    /// Upper process limit, `x̄ + 2.66 mR̄`.
    pub upper: f64,
}

/// One period of the chart, with its own mean and limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    /// 0-based position of its first point.
    pub start: usize,
    /// 0-based position one past its last point.
    pub end: usize,
    /// The number of points with a value behind its mean and limits (in the baseline).
    pub baseline_points: usize,
    /// Mean of the baseline's values, the centre line.
    pub mean: f64,
    /// Its process limits, or why there are none.
    pub limits: std::result::Result<Limits, NoLimits>,
}

impl Period {
    /// The lower process limit, if there are limits.
    pub fn lower_limit(&self) -> Option<f64> {
        self.limits.as_ref().ok().map(|l| l.lower)
    }

    /// The upper process limit, if there are limits.
    pub fn upper_limit(&self) -> Option<f64> {
        self.limits.as_ref().ok().map(|l| l.upper)
    }
}

/// One point of the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The value; `None` for a gap.
    pub value: Option<f64>,
    /// `|x_i − x_{i−1}|`, or `None` for the first point of a period and either side of a gap.
    pub moving_range: Option<f64>,
    /// The period's mean.
    pub mean: f64,
    /// The period's lower process limit, if it has limits.
    pub lower_limit: Option<f64>,
    /// The period's upper process limit, if it has limits.
    pub upper_limit: Option<f64>,
    /// The rules the point breaks (none for a gap).
    pub rules: Rules,
    /// What the point shows, given the polarity; `None` for a gap.
    pub variation: Option<Variation>,
}

/// An XmR chart with its rules and icons.
#[derive(Debug, Clone, PartialEq)]
pub struct XmrChart {
    /// One per value, in order, gaps included.
    pub points: Vec<Point>,
    /// The periods, in order.
    pub periods: Vec<Period>,
    /// The variation icon: the latest point's [`Variation`]; `None` when the latest point is a
    /// gap.
    pub variation: Option<Variation>,
    /// The assurance icon.
    pub assurance: Assurance,
    /// Things to bear in mind.
    pub notes: Vec<Note>,
}

/// Why a chart is not drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReported {
    /// A value is NaN or infinite: not a measurement (a missing one is `None`, a gap).
    NonFiniteValue {
        /// 0-based position of the first such value.
        position: usize,
    },
    /// A period's baseline has no point with a value, so not even a mean (an empty series is
    /// one empty period).
    NoValue {
        /// 0-based position of the period's first point.
        period_start: usize,
        /// Its number of points, all gaps.
        points: usize,
    },
}

impl fmt::Display for NotReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteValue { position } => {
                write!(f, "value {} is not a finite number", position + 1)
            }
            Self::NoValue { period_start, points } => write!(
                f,
                "the period starting at point {} has no value in its baseline of {points} point(s)",
                period_start + 1
            ),
        }
    }
}

/// The XmR chart of `values` (in time order; `None` is a missing value, a gap), its special
/// causes and its icons (see the [module documentation](self)).
///
/// # Errors
/// Not an [`Error`]: the `Err` is the [`NotReported`] reason there is no chart.
pub fn xmr(values: &[Option<f64>], options: &SpcOptions) -> std::result::Result<XmrChart, NotReported> {
    if let Some(position) = values.iter().position(|v| v.is_some_and(|x| !x.is_finite())) {
        return Err(NotReported::NonFiniteValue { position });
    }
    let mut starts = vec![0];
    starts.extend(options.recalculate_at.iter().copied().filter(|&p| p < values.len()));
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([values.len()]).collect();

    let mut periods = Vec::with_capacity(starts.len());
    let mut points = Vec::with_capacity(values.len());
    let mut notes = Vec::new();
    for (&start, &end) in starts.iter().zip(&ends) {
        let period = limits(&values[start..end], start, options)?;
        if period.limits.is_ok() && period.baseline_points < MIN_POINTS_FOR_LIMITS {
            notes.push(Note::FewPointsForLimits { period_start: start, points: period.baseline_points });
        }
        points.extend(special_causes(&values[start..end], &period, options));
        periods.push(period);
    }
    let missing = values.iter().filter(|v| v.is_none()).count();
    if missing > 0 {
        notes.push(Note::Gaps { missing, points: values.len() });
    }

    let (Some(latest), Some(current)) = (points.last(), periods.last()) else {
        // `limits` refused an empty series as a period with no value.
        return Err(NotReported::NoValue { period_start: 0, points: 0 });
    };
    let assurance = assurance(options, current);
    Ok(XmrChart { variation: latest.variation, assurance, points, periods, notes })
}

/// A period's mean, mean moving range and limits, from its baseline.
fn limits(values: &[Option<f64>], start: usize, options: &SpcOptions) -> std::result::Result<Period, NotReported> {
    let baseline = &values[..options.baseline.map_or(values.len(), |n| n.min(values.len()))];
    let present: Vec<f64> = baseline.iter().flatten().copied().collect();
    let Some(&origin) = present.first() else {
        return Err(NotReported::NoValue { period_start: start, points: baseline.len() });
    };
    let count = |n: usize| n as f64; // a count of points: exact in f64
    // Summed as differences from the first value, so that a constant series has its value as
    // its mean exactly (a plain sum / n can round off it, and put every point on one side).
    let mean = origin + present.iter().map(|v| v - origin).sum::<f64>() / count(present.len());
    // A moving range needs two consecutive values: the ranges either side of a gap are left
    // out, as NHSRplotthedots' `abs(diff(y))` leaves them NA and its mean drops them.
    let ranges: Vec<f64> = baseline
        .windows(2)
        .filter_map(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => Some((b - a).abs()),
            _ => None,
        })
        .collect();
    let limits = if ranges.is_empty() {
        Err(NoLimits::NoMovingRange { period_start: start, points: present.len() })
    } else {
        let mut mean_moving_range = ranges.iter().sum::<f64>() / count(ranges.len());
        let mut screened_moving_ranges = 0;
        if options.screen_outliers && mean_moving_range > 0.0 {
            let cut = MOVING_RANGE_LIMIT * mean_moving_range;
            let kept: Vec<f64> = ranges.iter().copied().filter(|&r| r < cut).collect();
            screened_moving_ranges = ranges.len() - kept.len();
            // The smallest range is below the cut, so `kept` is never empty.
            mean_moving_range = kept.iter().sum::<f64>() / count(kept.len());
        }
        Ok(Limits {
            mean_moving_range,
            moving_ranges: ranges.len() - screened_moving_ranges,
            screened_moving_ranges,
            lower: mean - LIMIT_FACTOR * mean_moving_range,
            upper: mean + LIMIT_FACTOR * mean_moving_range,
        })
    };
    Ok(Period { start, end: start + values.len(), baseline_points: present.len(), mean, limits })
}

/// The rules broken by each point of one period, and what each point shows. A gap has no
/// side, is never close to or beyond a limit, and so breaks every run, trend and window of
/// three that would include it.
fn special_causes(values: &[Option<f64>], period: &Period, options: &SpcOptions) -> Vec<Point> {
    let n = values.len();
    let side_of_mean = |v: Option<f64>| match v {
        Some(v) if v > period.mean => Some(Side::High),
        Some(v) if v < period.mean => Some(Side::Low),
        _ => None,
    };
    let sides: Vec<Option<Side>> = values.iter().map(|&v| side_of_mean(v)).collect();
    let (beyond, close): (Vec<bool>, Vec<bool>) = match &period.limits {
        Ok(limits) => {
            let near = NEAR_LIMIT_FACTOR * limits.mean_moving_range;
            values
                .iter()
                .map(|v| match *v {
                    Some(v) => {
                        let out = v > limits.upper || v < limits.lower;
                        (out, !out && (v > period.mean + near || v < period.mean - near))
                    }
                    None => (false, false),
                })
                .unzip()
        }
        // Without limits, only the rules about the mean and the direction apply.
        Err(_) => (vec![false; n], vec![false; n]),
    };

    // (b) Shift: a run of `shift_run` points on one side of the mean.
    let mut shift = vec![false; n];
    let k = options.shift_run;
    for end in k.saturating_sub(1)..n {
        let run = &sides[end + 1 - k..=end];
        if run[0].is_some() && run.iter().all(|s| *s == run[0]) {
            shift[end + 1 - k..=end].fill(true);
        }
    }

    // (c) Trend: `trend_run` points each above (below) the one before; later trends overwrite
    // the direction of a shared point. Every point of the window must have a value.
    let mut trend: Vec<Option<Side>> = vec![None; n];
    let k = options.trend_run;
    for end in k.saturating_sub(1)..n {
        let Some(window) = values[end + 1 - k..=end].iter().copied().collect::<Option<Vec<f64>>>() else {
            continue;
        };
        let direction = if window.windows(2).all(|w| w[1] > w[0]) {
            Some(Side::High)
        } else if window.windows(2).all(|w| w[1] < w[0]) {
            Some(Side::Low)
        } else {
            None
        };
        if direction.is_some() {
            trend[end + 1 - k..=end].fill(direction);
        }
    }

    // (d) Two of three: in three consecutive points all on one side of the mean, at least two
    // close to a limit; those are flagged.
    let mut two_of_three = vec![false; n];
    for start in 0..n.saturating_sub(2) {
        let window = start..start + 3;
        let same_side = sides[window.clone()].iter().all(|s| s.is_some() && *s == sides[start]);
        let close_points = close[window.clone()].iter().filter(|&&c| c).count();
        if same_side && close_points >= 2 {
            for i in window {
                two_of_three[i] |= close[i];
            }
        }
    }

    (0..n)
        .map(|i| {
            let rules = Rules {
                beyond_limit: beyond[i],
                shift: shift[i],
                trend: trend[i].is_some(),
                two_of_three: two_of_three[i],
            };
            // The side, by the first rule in NHSRplotthedots' order that the point breaks.
            let side = if rules.beyond_limit || (!rules.trend && (rules.two_of_three || rules.shift)) {
                sides[i]
            } else {
                trend[i]
            };
            let variation =
                values[i].map(|_| side.map_or(Variation::CommonCause, |s| Variation::special(s, options.polarity)));
            let moving_range = match (i.checked_sub(1).and_then(|j| values[j]), values[i]) {
                (Some(a), Some(b)) => Some((b - a).abs()),
                _ => None,
            };
            Point {
                value: values[i],
                moving_range,
                mean: period.mean,
                lower_limit: period.lower_limit(),
                upper_limit: period.upper_limit(),
                rules,
                variation,
            }
        })
        .collect()
}

/// The assurance icon from the target and the current period's limits.
fn assurance(options: &SpcOptions, current: &Period) -> Assurance {
    let (Some(target), Ok(limits)) = (options.target, &current.limits) else {
        return Assurance::NotAssessed;
    };
    let (below_lower, above_upper) = (target < limits.lower, target > limits.upper);
    match options.polarity {
        Polarity::Neither => Assurance::NotAssessed,
        _ if !below_lower && !above_upper => Assurance::HitAndMiss,
        Polarity::HigherIsBetter if below_lower => Assurance::ConsistentlyPass,
        Polarity::LowerIsBetter if above_upper => Assurance::ConsistentlyPass,
        _ => Assurance::ConsistentlyFail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_limit_is_two_sigma() {
        // Two sigma is 2 × mR̄ / 1.128 ≈ 1.773 mR̄.
        assert!((NEAR_LIMIT_FACTOR - 1.773_333).abs() < 1e-6);
    }

    #[test]
    fn options_reject_impossible_parameters() {
        let base = SpcOptions::new(Polarity::HigherIsBetter);
        assert_eq!(base.clone().shift_run(2), Err(Error::SpcRunLength { points: 2 }));
        assert!(base.clone().trend_run(1).is_err());
        assert!(base.clone().baseline(1).is_err());
        assert!(base.clone().recalculate_at(&[0, 5]).is_err());
        assert!(base.clone().recalculate_at(&[5, 5]).is_err());
        assert!(base.clone().target(f64::INFINITY).is_err());
        assert!(base.recalculate_at(&[5, 12]).is_ok());
    }
}

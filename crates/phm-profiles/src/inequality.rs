//! The slope and relative indices of inequality of each area's figures across IMD deciles,
//! as Fingertips publishes them (`phm_stats::sii`, after `phe_sii`).
//!
//! Deciles run from 1 (most deprived, rank 0) to 10 (least deprived, rank 1), so a positive SII
//! means the value rises with affluence: for life expectancy, the gap in years between the
//! least and the most deprived ends of the area. Proportions are given to the method as
//! fractions with their Wilson limits, rates with their limits, and life expectancies with
//! their standard errors (read back from their published limits). The deciles are those the area's residents live in: the synthetic
//! areas, like real ones, do not cover every national decile in every place, so an area's SII
//! is over the deciles present (at least 5, as `phe_sii` requires), and an area with a decile
//! that has residents but no figure has no SII, with the reason.

use phm_model::{Indicator, Method};
use phm_stats::ConfidenceLevel;
use phm_stats::sii::{self, QuantileInput, SiiOptions, Uncertainty, Value, ValueType};

use phm_disclosure::ReleasedCell;

/// Simulated repetitions behind the SII's limits. Fingertips uses 100,000; 10,000 keeps the
/// whole catalogue quick while the limits move by well under 1% of their width between seeds.
pub const REPETITIONS: u32 = 10_000;

/// An area's SII and RII, or why there is none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inequality {
    /// Slope index of inequality, in the indicator's unit.
    pub sii: Option<f64>,
    /// Its 95% limits.
    pub sii_limits: Option<(f64, f64)>,
    /// Relative index of inequality.
    pub rii: Option<f64>,
    /// Its 95% limits.
    pub rii_limits: Option<(f64, f64)>,
    /// Why there is no SII.
    pub reason: Option<String>,
}

/// Whether indicators of `method` have an SII.
pub fn has_sii(method: Method) -> bool {
    value_type(method).is_some()
}

fn value_type(method: Method) -> Option<(ValueType, bool)> {
    match method {
        Method::Proportion => Some((ValueType::Proportion, true)),
        Method::CrudeRate | Method::Dsr | Method::Isr => Some((ValueType::Rate, false)),
        Method::LifeExpectancy | Method::HealthyLifeExpectancy => Some((ValueType::Other, false)),
        Method::Count => None,
    }
}

/// The SII and RII of `ind` across an area's released IMD decile rows (decile, cell), in
/// decile order, or why there are none.
///
/// Only published figures go in: each decile's value and 95% limits as released, and its
/// denominator as released (rounded under a rounding policy). An area with a decile whose
/// counts are suppressed has no SII. Computed from every decile's exact figures, the SII and
/// RII are two more equations in the suppressed counts: with the area's total and the published
/// deciles, an outside test solved 27 suppressed counts from 7 rows that way. Computed from
/// what the release publishes, they reveal nothing the release does not
/// (`crates/phm-profiles/tests/attacks.rs`).
pub fn from_released<K>(ind: &Indicator, deciles: &[(u8, &ReleasedCell<K>)]) -> Inequality {
    match compute(ind, deciles) {
        Ok(q) => q,
        Err(reason) => Inequality { reason: Some(reason), ..Inequality::default() },
    }
}

fn compute<K>(ind: &Indicator, deciles: &[(u8, &ReleasedCell<K>)]) -> Result<Inequality, String> {
    let Some((value_type, scaled)) = value_type(ind.method) else {
        return Err(format!("no SII for the method `{}`", ind.method));
    };
    let scale = if scaled { ind.multiplier } else { 1.0 };
    if deciles.len() < sii::MIN_QUANTILES {
        return Err(format!(
            "residents live in only {} IMD deciles; the SII needs at least {}",
            deciles.len(),
            sii::MIN_QUANTILES
        ));
    }
    let mut inputs = Vec::new();
    for (decile, cell) in deciles {
        if cell.has_suppressed_count() {
            return Err(format!(
                "withheld: IMD decile {decile} is suppressed, and the SII is computed only from published figures"
            ));
        }
        let (c, d) = (cell.counts(), cell.derived());
        let population =
            c.get(1).and_then(|f| f.value()).ok_or_else(|| format!("IMD decile {decile} has no denominator"))? as f64;
        let value = d.first().and_then(|f| f.value()).ok_or_else(|| format!("IMD decile {decile} has no value"))?;
        let (Some(lower), Some(upper)) = (d.get(1).and_then(|f| f.value()), d.get(2).and_then(|f| f.value())) else {
            return Err(format!("IMD decile {decile} has no confidence limits"));
        };
        let uncertainty = if value_type == ValueType::Other {
            // Life tables' limits are value ± z·SE: the SE is read back from the published limits.
            Uncertainty::StandardError((upper - lower) / (2.0 * Z_95))
        } else {
            Uncertainty::Limits95 { lower: lower / scale, upper: upper / scale }
        };
        inputs.push(QuantileInput::new(population, Value::Given(value / scale), uncertainty));
    }
    let options = SiiOptions::new(value_type)
        .multiplier(scale)
        .and_then(|o| o.quantiles(inputs.len().max(sii::MIN_QUANTILES)))
        .and_then(|o| o.repetitions(REPETITIONS))
        .and_then(|o| o.confidence(&[ConfidenceLevel::NINETY_FIVE]))
        .map_err(|e| e.to_string())?;
    let est = sii::sii(&inputs, &options).map_err(|e| e.to_string())?;
    let limits = est.intervals.first();
    Ok(Inequality {
        sii: Some(est.sii),
        sii_limits: limits.map(|l| (l.sii_lower, l.sii_upper)),
        rii: Some(est.rii),
        rii_limits: limits.map(|l| (l.rii_lower, l.rii_upper)),
        reason: None,
    })
}

/// The 97.5th percentile of the standard normal distribution.
const Z_95: f64 = 1.959_963_984_540_054;

//! The slope and relative indices of inequality of each area's figures across IMD deciles,
//! as Fingertips publishes them (`phm_stats::sii`, after `phe_sii`).
//!
//! Deciles run from 1 (most deprived, rank 0) to 10 (least deprived, rank 1), so a positive SII
//! means the value rises with affluence: for life expectancy, the gap in years between the
//! least and the most deprived ends of the area. Proportions are given to the method as
//! fractions with their Wilson limits, rates with their limits, and life expectancies with
//! their standard errors. The deciles are those the area's residents live in: the synthetic
//! areas, like real ones, do not cover every national decile in every place, so an area's SII
//! is over the deciles present (at least 5, as `phe_sii` requires), and an area with a decile
//! that has residents but no figure has no SII, with the reason.

use phm_model::Indicator;
use phm_stats::ConfidenceLevel;
use phm_stats::sii::{self, QuantileInput, SiiOptions, Uncertainty, Value, ValueType};

use crate::cells::Bands;
use crate::figures::Figure;

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

/// The SII and RII of `ind` across `deciles` (decile, its counts, its figure), in decile order.
pub fn by_decile(ind: &Indicator, deciles: &[(u8, &Bands, Figure)]) -> Inequality {
    match compute(ind, deciles) {
        Ok(q) => q,
        Err(reason) => Inequality { reason: Some(reason), ..Inequality::default() },
    }
}

fn compute(ind: &Indicator, deciles: &[(u8, &Bands, Figure)]) -> Result<Inequality, String> {
    let (value_type, scale) = match ind.method.as_str() {
        "proportion" => (ValueType::Proportion, ind.multiplier),
        "crude_rate" | "dsr" | "isr" => (ValueType::Rate, 1.0),
        "life_expectancy" | "healthy_life_expectancy" => (ValueType::Other, 1.0),
        other => return Err(format!("no SII for the method `{other}`")),
    };
    let mut inputs = Vec::new();
    if deciles.len() < sii::MIN_QUANTILES {
        return Err(format!("residents live in only {} IMD deciles; the SII needs at least {}", deciles.len(), sii::MIN_QUANTILES));
    }
    for (decile, bands, figure) in deciles {
        let population: f64 = bands.iter().map(|b| b.1 as f64).sum();
        let value = figure.value.ok_or_else(|| format!("IMD decile {decile} has no value{}", figure.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()))?;
        let uncertainty = match (figure.standard_error, figure.limits[0]) {
            (Some(se), _) if value_type == ValueType::Other => Uncertainty::StandardError(se),
            (_, Some((lower, upper))) => Uncertainty::Limits95 { lower: lower / scale, upper: upper / scale },
            _ => return Err(format!("IMD decile {decile} has no confidence limits")),
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

//! Each indicator's statistical method applied to the sums of cells: a value, 95% and 99.8%
//! confidence limits, or the reason there is no value.
//!
//! The methods themselves live in `phm-stats` (which cites their formulas); this module only
//! chooses which one an indicator names and feeds it the right counts:
//!
//! | method | counts |
//! |---|---|
//! | `proportion` | numerator and denominator over every age |
//! | `crude_rate`, `count` | the same |
//! | `dsr` | numerator and denominator per ESP2013 band (life-table bands `0` and `1-4` fold into `0-4`), weighted by the standard population, over the bands the indicator covers (those with anyone in the ICS's denominator); within one age band, the crude rate |
//! | `isr` | observed = the numerator; expected = the area's denominator per ESP2013 band × the ICS's rate in that band |
//! | `life_expectancy` | deaths (numerator) and person-years (`years` × denominator) per life-table band |
//! | `healthy_life_expectancy` | that life table, and the proportion in good health per band |
//!
//! People whose age is not recorded count in crude figures but cannot be placed in an age
//! band, so standardised figures and life tables leave them out.
//!
//! **Figures under a rounding policy are computed from rounded counts** (OpenSAFELY's
//! practice). A value or limit computed from exact counts and published beside counts rounded
//! to 5 gives the exact counts straight back: a reader tries the 25 pairs within ±2 of the
//! published numerator and denominator and keeps the one whose proportion matches the
//! published value to its last digit (an outside test recovered 97.8% of profile rows that
//! way). So [`figure`] takes the policy's [`Rounding`] and applies it to every count before a
//! method sees it: for the methods of totals (`proportion`, `crude_rate`, `count`) to the
//! totals, which makes the figure a function of the published numerator and denominator; for
//! the methods of age bands (`dsr`, `isr`, the life tables) to each band's counts, so the
//! figure reveals no more than rounded band counts would. `crates/phm-profiles/tests/attacks.rs`
//! runs the inversion attack on the released rows.

use phm_core::reference::EspBand;
use phm_model::{Indicator, Method};
use phm_stats::ConfidenceLevel;
use phm_stats::estimate::{Estimate, Multiplier};
use phm_stats::healthy_life_expectancy as hle;
use phm_stats::life_expectancy::{self as le, AgeStructure, LifeExpectancyOptions};

use phm_disclosure::Rounding;

use crate::cells::{BANDS, Bands, Breakdown, esp_band_of};

/// The confidence levels every figure is given at: 95% and 99.8%.
pub const LEVELS: [ConfidenceLevel; 2] = [ConfidenceLevel::NINETY_FIVE, ConfidenceLevel::NINETY_NINE_POINT_EIGHT];

/// A computed figure: the value with limits at [`LEVELS`], or why there is none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// The value in the indicator's unit.
    pub value: Option<f64>,
    /// (lower, upper) at 95% and at 99.8%.
    pub limits: [Option<(f64, f64)>; 2],
    /// The standard error, where the method gives one (life expectancy: used by the SII).
    pub standard_error: Option<f64>,
    /// Why there is no value (or why it should be read with care).
    pub reason: Option<String>,
}

impl Figure {
    /// A figure with no value, for `reason`.
    pub fn not_reported(reason: impl Into<String>) -> Self {
        Self { reason: Some(reason.into()), ..Self::default() }
    }

    fn from_estimates(estimates: [Estimate; 2]) -> Self {
        Self {
            value: Some(estimates[0].value),
            limits: estimates.map(|e| Some((e.lower, e.upper))),
            standard_error: None,
            reason: None,
        }
    }

    /// The estimate at 95%, if there is a value.
    pub fn estimate95(&self) -> Option<Estimate> {
        match (self.value, self.limits[0]) {
            (Some(value), Some((lower, upper))) => Some(Estimate { value, lower, upper, confidence: LEVELS[0] }),
            _ => None,
        }
    }
}

/// What a method needs besides an area's own counts.
pub struct Context<'a> {
    /// ESP2013 bands (from `reference/esp2013.csv`).
    pub esp: &'a [EspBand],
    /// The ICS's counts for the same indicator and index date, everyone: the reference
    /// population of an indirectly standardised ratio, and the age bands a DSR covers.
    pub ics: Option<&'a Bands>,
    /// The life-expectancy indicator's counts for the same key (healthy life expectancy).
    pub life_table: Option<(&'a Indicator, &'a Bands)>,
}

/// A count as a method may see it under `rounding` (negative counts, which the engine never
/// makes, count as 0 like everywhere in the release).
fn round(count: i64, rounding: Rounding) -> i64 {
    let published = rounding.apply(u64::try_from(count).unwrap_or(0));
    i64::try_from(published).unwrap_or(i64::MAX)
}

/// Every band's counts rounded (see the [module documentation](self)).
pub fn rounded_bands(bands: &Bands, rounding: Rounding) -> Bands {
    bands.map(|(n, d)| (round(n, rounding), round(d, rounding)))
}

/// The totals of `bands`, each rounded once: exactly the numerator and denominator that a
/// release under `rounding` publishes.
fn rounded_totals(bands: &Bands, rounding: Rounding) -> (f64, f64) {
    let (n, d) = bands.iter().fold((0i64, 0i64), |(n, d), (bn, bd)| (n.saturating_add(*bn), d.saturating_add(*bd)));
    (round(n, rounding) as f64, round(d, rounding) as f64)
}

/// Sums of life-table bands by ESP2013 band, in the order of `esp`.
fn by_esp_band(bands: &Bands, esp: &[EspBand]) -> Vec<(f64, f64)> {
    let life = phm_model::AgeBands::LifeTable.bands();
    let mut out = vec![(0.0, 0.0); esp.len()];
    for (i, (_, label)) in life.iter().enumerate() {
        let target = esp_band_of(label);
        if let Some(j) = esp.iter().position(|b| b.age_band == target) {
            out[j].0 += bands[i].0 as f64;
            out[j].1 += bands[i].1 as f64;
        }
    }
    out
}

fn multiplier(ind: &Indicator) -> Result<Multiplier, Figure> {
    Multiplier::new(ind.multiplier).map_err(|e| Figure::not_reported(e.to_string()))
}

/// The figure of indicator `ind` for one key's `bands`, by the indicator's method, from counts
/// rounded by `rounding` (see the [module documentation](self); `Rounding::None` for exact).
pub fn figure(ind: &Indicator, breakdown: Breakdown, bands: &Bands, cx: &Context<'_>, rounding: Rounding) -> Figure {
    let totals = rounded_totals(bands, rounding);
    if rounding == Rounding::None {
        return match figure_inner(ind, breakdown, totals, bands, cx) {
            Ok(f) | Err(f) => f,
        };
    }
    let bands = rounded_bands(bands, rounding);
    let ics = cx.ics.map(|b| rounded_bands(b, rounding));
    let life_table = cx.life_table.map(|(i, b)| (i, rounded_bands(b, rounding)));
    let cx = Context { esp: cx.esp, ics: ics.as_ref(), life_table: life_table.as_ref().map(|(i, b)| (*i, b)) };
    match figure_inner(ind, breakdown, totals, &bands, &cx) {
        Ok(f) | Err(f) => f,
    }
}

fn figure_inner(
    ind: &Indicator,
    breakdown: Breakdown,
    (n, d): (f64, f64),
    bands: &Bands,
    cx: &Context<'_>,
) -> Result<Figure, Figure> {
    let crude_rate = |n: f64, d: f64| -> Result<Figure, Figure> {
        let r = phm_stats::rate::rate(n, d, multiplier(ind)?).map_err(|e| Figure::not_reported(e.to_string()))?;
        Ok(Figure::from_estimates(LEVELS.map(|l| r.estimate(l))))
    };
    match ind.method {
        Method::Proportion => {
            let p = phm_stats::proportion::proportion(n, d, multiplier(ind)?)
                .map_err(|e| Figure::not_reported(e.to_string()))?;
            Ok(Figure::from_estimates(LEVELS.map(|l| p.estimate(l))))
        }
        Method::CrudeRate => crude_rate(n, d),
        Method::Count => {
            let c = phm_stats::rate::count(n).map_err(|e| Figure::not_reported(e.to_string()))?;
            Ok(Figure::from_estimates(LEVELS.map(|l| c.estimate(l))))
        }
        Method::Dsr if breakdown == Breakdown::AgeBand => {
            let mut f = crude_rate(n, d)?;
            f.reason = Some("within one age band: the crude rate".into());
            Ok(f)
        }
        Method::Dsr => {
            // Only the age bands the indicator covers: those with anyone in the ICS's
            // denominator (an indicator of deaths under 75 standardises over the bands to 70-74).
            let covered: Vec<bool> = match cx.ics {
                Some(ics) => by_esp_band(ics, cx.esp).iter().map(|(_, d)| *d > 0.0).collect(),
                None => vec![true; cx.esp.len()],
            };
            let esp_bands: Vec<phm_stats::dsr::DsrBand> = by_esp_band(bands, cx.esp)
                .into_iter()
                .zip(cx.esp)
                .zip(covered)
                .filter(|(_, covered)| *covered)
                .map(|(((events, population), b), _)| phm_stats::dsr::DsrBand {
                    events,
                    population,
                    standard_population: f64::from(b.standard_population),
                })
                .collect();
            let r =
                phm_stats::dsr::dsr(&esp_bands, multiplier(ind)?).map_err(|e| Figure::not_reported(e.to_string()))?;
            Ok(Figure::from_estimates(LEVELS.map(|l| r.estimate(l))))
        }
        Method::Isr => {
            let ics = cx.ics.ok_or_else(|| Figure::not_reported("no ICS reference rates"))?;
            let local = by_esp_band(bands, cx.esp);
            let reference = by_esp_band(ics, cx.esp);
            let ref_bands: Vec<phm_stats::isr::ReferenceBand> = local
                .iter()
                .zip(&reference)
                .map(|((_, population), (events, reference_population))| phm_stats::isr::ReferenceBand {
                    population: *population,
                    reference_events: *events,
                    reference_population: *reference_population,
                })
                .collect();
            let observed: f64 = local.iter().map(|x| x.0).sum();
            let r =
                phm_stats::isr::from_bands(observed, &ref_bands).map_err(|e| Figure::not_reported(e.to_string()))?;
            let m = multiplier(ind)?;
            Ok(Figure::from_estimates(LEVELS.map(|l| r.ratio(l, m))))
        }
        Method::LifeExpectancy if breakdown == Breakdown::AgeBand => {
            Err(Figure::not_reported("life expectancy is not given by age band"))
        }
        Method::LifeExpectancy => {
            let years = ind.about.years.unwrap_or(1.0);
            life_expectancy_at_birth(bands, years)
        }
        Method::HealthyLifeExpectancy if breakdown == Breakdown::AgeBand => {
            Err(Figure::not_reported("healthy life expectancy is not given by age band"))
        }
        Method::HealthyLifeExpectancy => {
            let (le_ind, le_bands) =
                cx.life_table.ok_or_else(|| Figure::not_reported("its life table is not in the same run"))?;
            healthy_life_expectancy(le_bands, le_ind.about.years.unwrap_or(1.0), bands)
        }
    }
}

fn life_bands(bands: &Bands, years: f64) -> Vec<le::AgeBand> {
    let life = phm_model::AgeBands::LifeTable.bands();
    (0..BANDS).map(|i| le::AgeBand::new(life[i].0 as u32, bands[i].0 as f64, years * bands[i].1 as f64)).collect()
}

/// A figure from a method that reports at each start age: its value at birth (start age 0),
/// with limits at each of [`LEVELS`] and the standard error, or the method's reason.
fn at_birth<R: ToString>(
    at_level: impl Fn(ConfidenceLevel) -> Option<Result<(f64, f64, f64, f64), R>>,
) -> Result<Figure, Figure> {
    let mut figure = Figure::default();
    for (k, level) in LEVELS.iter().enumerate() {
        let (value, lower, upper, se) = at_level(*level)
            .ok_or_else(|| Figure::not_reported("no band starting at age 0"))?
            .map_err(|r| Figure::not_reported(r.to_string()))?;
        figure.value = Some(value);
        figure.limits[k] = Some((lower, upper));
        figure.standard_error = Some(se);
    }
    Ok(figure)
}

fn life_expectancy_at_birth(bands: &Bands, years: f64) -> Result<Figure, Figure> {
    let input = life_bands(bands, years);
    at_birth(|confidence| {
        let options = LifeExpectancyOptions { confidence, age_structure: AgeStructure::standard() };
        let birth = le::life_expectancy(&input, &options).into_iter().find(|r| r.start_age == 0)?;
        Some(birth.result.map(|e| (e.value, e.lower, e.upper, e.standard_error)))
    })
}

/// Healthy life expectancy at birth by Sullivan's method: the life table of the
/// life-expectancy indicator's deaths and person-years, split by the proportion in good health
/// counted in each band of the whole population (not a survey sample, so the binomial variance
/// is small).
fn healthy_life_expectancy(le_bands: &Bands, years: f64, healthy: &Bands) -> Result<Figure, Figure> {
    let input: Vec<hle::HealthBand> = life_bands(le_bands, years)
        .iter()
        .zip(healthy.iter())
        .map(|(b, (good, counted))| {
            hle::HealthBand::new(b.start_age, b.deaths, b.population, *good as f64, *counted as f64)
        })
        .collect();
    at_birth(|confidence| {
        let options = hle::HealthyLifeExpectancyOptions { confidence, age_structure: AgeStructure::standard() };
        let birth = hle::healthy_life_expectancy(&input, &options).into_iter().find(|r| r.start_age == 0)?;
        Some(birth.result.map(|e| (e.value, e.lower, e.upper, e.standard_error)))
    })
}

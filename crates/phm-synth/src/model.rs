//! The population model: who lives where, what conditions they have, when they die.
//!
//! Shapes (how prevalence rises with age, which conditions raise the risk of which) are
//! parameters here, documented beside each; levels and gradients come from
//! [`crate::calibration::Targets`]. At start-up [`Model::new`] draws a fixed calibration sample
//! and solves, condition by condition, for the odds multiplier that makes the model's
//! prevalence among the living equal the published BLMK figure, so targets are met by
//! construction and tested from the generated files.

use chrono::NaiveDate;
use phm_core::ethnicity::{EthnicCategory, EthnicGroup5};
use phm_core::reference::ReferenceData;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::calibration::Targets;
use crate::{Error, Result};

/// Sex as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

impl Sex {
    /// FHIR `gender` value.
    pub fn fhir(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
        }
    }
}

/// Long-term conditions the generator models, in the order they are drawn (a condition may
/// depend only on conditions before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// Learning disability (from birth).
    LearningDisability,
    /// Asthma.
    Asthma,
    /// Obesity (BMI 30 or more recorded).
    Obesity,
    /// Hypertension.
    Hypertension,
    /// Diabetes (type 2, with a small share of type 1).
    Diabetes,
    /// Chronic kidney disease stage 3-5.
    Ckd,
    /// Coronary heart disease.
    Chd,
    /// Stroke or TIA.
    StrokeTia,
    /// Atrial fibrillation.
    AtrialFibrillation,
    /// Heart failure.
    HeartFailure,
    /// COPD.
    Copd,
    /// Cancer.
    Cancer,
    /// Depression.
    Depression,
    /// Severe mental illness.
    Smi,
    /// Dementia.
    Dementia,
    /// Epilepsy.
    Epilepsy,
    /// Osteoporosis.
    Osteoporosis,
    /// Rheumatoid arthritis.
    RheumatoidArthritis,
}

/// Number of modelled conditions.
pub const N_CONDITIONS: usize = 18;

impl Condition {
    /// All conditions in draw order.
    pub const ALL: [Self; N_CONDITIONS] = [
        Self::LearningDisability,
        Self::Asthma,
        Self::Obesity,
        Self::Hypertension,
        Self::Diabetes,
        Self::Ckd,
        Self::Chd,
        Self::StrokeTia,
        Self::AtrialFibrillation,
        Self::HeartFailure,
        Self::Copd,
        Self::Cancer,
        Self::Depression,
        Self::Smi,
        Self::Dementia,
        Self::Epilepsy,
        Self::Osteoporosis,
        Self::RheumatoidArthritis,
    ];

    /// Key used in `calibration/conditions.csv` and `synth/codes.csv`.
    pub fn key(self) -> &'static str {
        match self {
            Self::LearningDisability => "learning_disability",
            Self::Asthma => "asthma",
            Self::Obesity => "obesity",
            Self::Hypertension => "hypertension",
            Self::Diabetes => "diabetes",
            Self::Ckd => "ckd",
            Self::Chd => "chd",
            Self::StrokeTia => "stroke_tia",
            Self::AtrialFibrillation => "atrial_fibrillation",
            Self::HeartFailure => "heart_failure",
            Self::Copd => "copd",
            Self::Cancer => "cancer",
            Self::Depression => "depression",
            Self::Smi => "smi",
            Self::Dementia => "dementia",
            Self::Epilepsy => "epilepsy",
            Self::Osteoporosis => "osteoporosis",
            Self::RheumatoidArthritis => "rheumatoid_arthritis",
        }
    }

    /// Shape of the age curve: prevalence (before calibration) is logistic in age with
    /// midpoint `a50` and scale `width`; `onset_min` is the youngest onset age.
    /// Values chosen so the curve follows the QOF age profile of each register.
    fn shape(self) -> Shape {
        let s = |onset_min, a50, width| Shape { onset_min, a50, width };
        match self {
            Self::LearningDisability => s(0.0, 0.0, 1000.0),
            Self::Asthma => s(2.0, 5.0, 6.0),
            Self::Obesity => s(18.0, 35.0, 12.0),
            Self::Hypertension => s(25.0, 62.0, 10.0),
            Self::Diabetes => s(17.0, 58.0, 9.0),
            Self::Ckd => s(40.0, 80.0, 8.0),
            Self::Chd => s(35.0, 76.0, 8.0),
            Self::StrokeTia => s(35.0, 80.0, 8.0),
            Self::AtrialFibrillation => s(40.0, 81.0, 7.0),
            Self::HeartFailure => s(45.0, 84.0, 7.0),
            Self::Copd => s(40.0, 70.0, 8.0),
            Self::Cancer => s(20.0, 74.0, 10.0),
            Self::Depression => s(16.0, 30.0, 6.0),
            Self::Smi => s(17.0, 28.0, 5.0),
            Self::Dementia => s(60.0, 87.0, 5.0),
            Self::Epilepsy => s(1.0, 10.0, 8.0),
            Self::Osteoporosis => s(50.0, 75.0, 7.0),
            Self::RheumatoidArthritis => s(20.0, 60.0, 10.0),
        }
    }

    /// Odds ratios from earlier conditions (and smoking) that raise this one's risk.
    fn parents(self) -> &'static [(Parent, f64)] {
        use Parent::{C, EverSmoked};
        match self {
            Self::Hypertension => &[(C(Condition::Obesity), 2.0)],
            Self::Diabetes => &[(C(Condition::Obesity), 3.5), (C(Condition::Hypertension), 1.6)],
            Self::Ckd => &[(C(Condition::Diabetes), 2.5), (C(Condition::Hypertension), 2.0)],
            Self::Chd => &[(C(Condition::Hypertension), 1.8), (C(Condition::Diabetes), 1.8), (EverSmoked, 1.6)],
            Self::StrokeTia => &[(C(Condition::Hypertension), 1.8), (C(Condition::Diabetes), 1.5), (EverSmoked, 1.4)],
            Self::AtrialFibrillation => &[(C(Condition::Hypertension), 1.5), (C(Condition::Obesity), 1.4)],
            Self::HeartFailure => {
                &[(C(Condition::Chd), 3.0), (C(Condition::AtrialFibrillation), 2.5), (C(Condition::Hypertension), 1.5)]
            }
            Self::Copd => &[(EverSmoked, 5.0)],
            Self::Cancer => &[(EverSmoked, 1.5)],
            Self::Smi => &[(C(Condition::Depression), 1.5)],
            Self::Dementia => &[(C(Condition::StrokeTia), 2.0), (C(Condition::Diabetes), 1.4)],
            Self::Epilepsy => &[(C(Condition::LearningDisability), 8.0)],
            _ => &[],
        }
    }

    /// Hazard ratio for death while living with the condition (normalised by age later).
    fn death_hazard_ratio(self) -> f64 {
        match self {
            Self::HeartFailure => 2.5,
            Self::Dementia => 3.0,
            Self::Copd => 2.0,
            Self::Cancer => 2.2,
            Self::StrokeTia => 1.5,
            Self::Chd => 1.4,
            Self::Diabetes => 1.5,
            Self::Ckd => 1.5,
            Self::AtrialFibrillation => 1.3,
            Self::Smi => 2.0,
            Self::LearningDisability => 2.5,
            Self::Epilepsy => 1.6,
            _ => 1.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Shape {
    onset_min: f64,
    a50: f64,
    width: f64,
}

#[derive(Clone, Copy, Debug)]
enum Parent {
    C(Condition),
    EverSmoked,
}

/// Smoking history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smoking {
    /// Never smoked.
    Never,
    /// Ex-smoker.
    Ex,
    /// Current smoker.
    Current,
}

/// A person's demographics and latent traits, before any events.
#[derive(Clone, Debug)]
pub struct Demographics {
    /// Index of the place in the reference data.
    pub place: usize,
    /// Index of the area.
    pub area: usize,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth: NaiveDate,
    /// Age in whole years at the extract date (if alive then).
    pub age_at_extract: f64,
    /// Ethnic category.
    pub ethnicity: EthnicCategory,
    /// IMD decile of the area.
    pub decile: u8,
    /// Latent ill-health propensity, standard normal.
    pub frailty_z: f64,
    /// Smoking status at the extract date (adults).
    pub smoking: Smoking,
}

/// Everything the generator needs, derived once from reference data and targets.
pub struct Model {
    /// Reference data.
    pub reference: ReferenceData,
    /// Targets.
    pub targets: Targets,
    /// The extract date; history runs back `HISTORY_YEARS` from it.
    pub extract_date: NaiveDate,
    place_weights: Vec<f64>,
    /// Per place: cumulative distribution over (sex, band) cells, sampling weights corrected for
    /// death during the history window.
    age_sex_cdf: Vec<Vec<(f64, Sex, usize)>>,
    /// Per place: areas (index, weight) and their mean decile.
    areas_by_place: Vec<Vec<(usize, f64)>>,
    /// Per place: ethnic shares in category order.
    ethnic_shares: Vec<[f64; 16]>,
    /// Per place: odds multiplier for White British so that the marginal share holds after
    /// the age and deprivation tilt.
    white_british_k: Vec<f64>,
    condition_params: Vec<ConditionParams>,
    /// Mean product of death hazard ratios by 5-year age band at the extract date.
    hazard_norm: [f64; 19],
    /// Death hazard multiplier per place and sex (female, male), solved so that each place's
    /// period life expectancy at birth meets its target.
    place_hazard: Vec<[f64; 2]>,
    /// Hazard multiplier per IMD decile step (log scale), from the life-expectancy gap target.
    pub deprivation_log_hazard_per_decile: f64,
    /// Per area: its position among the areas of its postcode district (for postcodes).
    pub area_in_district: Vec<usize>,
    /// Per place: mean IMD decile of its areas, weighted by population.
    pub place_mean_decile: Vec<f64>,
}

/// Years of history before the extract date.
pub const HISTORY_YEARS: i32 = 7;

#[derive(Clone, Debug)]
struct ConditionParams {
    condition: Condition,
    register_min_age: f64,
    target: f64,
    log_rr_dep_per_quintile: f64,
    log_rr_south_asian: f64,
    log_rr_black: f64,
    log_sex_female: f64,
    /// Target age-standardised prevalence ratios among the living: most / least deprived
    /// quintile, South Asian / White, Black / White. The log-odds coefficients above start at
    /// their logarithms and are then calibrated until the living population shows them.
    target_ratios: [f64; 3],
    /// Calibrated log-odds offset.
    offset: f64,
}

/// Gompertz-Makeham baseline mortality, per year: `makeham + b * exp(c * age)`, plus infant
/// mortality in the first year. Parameters give England-like life expectancy at birth
/// (about 79.3 male, 83.1 female, ONS national life tables 2020-2022 before COVID years).
pub fn baseline_hazard(age: f64, sex: Sex) -> f64 {
    let (b, c) = match sex {
        Sex::Male => (2.75e-5, 0.0945),
        Sex::Female => (1.7e-5, 0.0960),
    };
    let infant = if age < 1.0 { 0.0037 } else { 0.0 };
    0.00015 + infant + b * (c * age).exp()
}

/// Age at onset for someone who has condition `ci` by `age`, from a uniform draw `u` in [0, 1):
/// the inverse of the condition's logistic age curve restricted to [onset minimum, `age`].
fn onset_age_from_draw(ci: usize, age: f64, u: f64) -> f64 {
    let shape = Condition::ALL[ci].shape();
    let lo = shape.onset_min;
    if age <= lo {
        return age;
    }
    let f = |a: f64| logistic((a - shape.a50) / shape.width);
    let (flo, fhi) = (f(lo), f(age));
    let onset = shape.a50 + shape.width * logit(flo + u * (fhi - flo));
    onset.clamp(lo, age)
}

/// `a / b`, or `None` when either is not positive.
fn ratio(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0).then(|| a / b)
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

const SEXES: [Sex; 2] = [Sex::Female, Sex::Male];

impl Model {
    /// Builds the model and runs the start-up calibration (deterministic in `seed`).
    pub fn new(reference: ReferenceData, targets: Targets, extract_date: NaiveDate, seed: u64) -> Result<Self> {
        let places = &reference.places;
        let place_weights: Vec<f64> = places.iter().map(|p| f64::from(p.registered_population)).collect();

        let age_sex_cdf = age_sex_cdf(&reference, &targets, &vec![[1.0; 2]; places.len()])?;

        let areas_by_place: Vec<Vec<(usize, f64)>> = places
            .iter()
            .map(|p| {
                reference
                    .areas
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.place_code == p.place_code)
                    .map(|(i, a)| (i, a.population_weight))
                    .collect()
            })
            .collect();
        if areas_by_place.iter().any(Vec::is_empty) {
            return Err(Error::Calibration("a place has no areas in reference/areas.csv".into()));
        }

        let mut ethnic_shares = Vec::new();
        for place in places {
            let mut shares = [0.0; 16];
            for (i, category) in EthnicCategory::ALL.iter().enumerate() {
                shares[i] = targets
                    .ethnicity
                    .iter()
                    .filter(|r| r.place_code == place.place_code && r.ethnic_category == category.code())
                    .map(|r| r.percent)
                    .sum::<f64>();
            }
            let total: f64 = shares.iter().sum();
            if total <= 0.0 {
                return Err(Error::Calibration(format!(
                    "calibration/ethnicity.csv has no rows for {}",
                    place.place_code
                )));
            }
            shares.iter_mut().for_each(|s| *s /= total);
            ethnic_shares.push(shares);
        }

        let mut condition_params = Vec::new();
        for condition in Condition::ALL {
            let row = targets.condition(condition.key())?;
            let ln = |x: f64| if x > 0.0 { x.ln() } else { 0.0 };
            condition_params.push(ConditionParams {
                condition,
                register_min_age: row.register_age_min,
                target: row.blmk_percent / 100.0,
                // Quintile 1 vs 5 is four steps.
                log_rr_dep_per_quintile: ln(row.rr_most_vs_least_deprived) / 4.0,
                log_rr_south_asian: ln(row.rr_south_asian_vs_white),
                log_rr_black: ln(row.rr_black_vs_white),
                log_sex_female: ln(row.female_to_male_ratio),
                target_ratios: [row.rr_most_vs_least_deprived, row.rr_south_asian_vs_white, row.rr_black_vs_white],
                offset: 0.0,
            });
        }

        let le_gap = targets.activity.get("target_le_gap_deciles_years").map_or(8.5, |r| r.value);
        let n_places = places.len();
        let place_mean_decile: Vec<f64> = areas_by_place
            .iter()
            .map(|areas| {
                let total: f64 = areas.iter().map(|(_, w)| w).sum();
                areas.iter().map(|(i, w)| w * f64::from(reference.areas[*i].imd_decile)).sum::<f64>() / total.max(1e-9)
            })
            .collect();
        let area_in_district: Vec<usize> = reference
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| reference.areas[..i].iter().filter(|b| b.postcode_district == a.postcode_district).count())
            .collect();
        let mut model = Self {
            reference,
            targets,
            extract_date,
            place_weights,
            age_sex_cdf,
            areas_by_place,
            ethnic_shares,
            white_british_k: vec![1.0; n_places],
            condition_params,
            hazard_norm: [1.0; 19],
            place_hazard: vec![[1.0; 2]; n_places],
            // The condition hazard ratios (conditions are commoner where deprivation is higher) add
            // a good part of the gap on their own; the rest
            // comes from this per-decile factor (Gompertz slope about 0.095 per year of age).
            deprivation_log_hazard_per_decile: le_gap * 0.75 * 0.095 / 9.0,
            area_in_district,
            place_mean_decile,
        };
        model.calibrate(seed)?;
        Ok(model)
    }

    /// Draws a calibration sample and solves for the free parameters.
    fn calibrate(&mut self, seed: u64) -> Result<()> {
        const SAMPLE: usize = 80_000;
        /// Rounds of adjusting each condition's gradients towards their targets.
        const GRADIENT_ROUNDS: usize = 5;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_ca1b_7a7e);
        // 1. Ethnicity: White British odds multiplier per place.
        let mut sample: Vec<Demographics> = (0..SAMPLE).map(|_| self.demographics(&mut rng, false)).collect();
        for place in 0..self.reference.places.len() {
            let members: Vec<&Demographics> = sample.iter().filter(|d| d.place == place).collect();
            let target = self.ethnic_shares[place][0];
            let (mut lo, mut hi) = (-6.0f64, 6.0f64);
            for _ in 0..50 {
                let mid = (lo + hi) / 2.0;
                let k = mid.exp();
                let mean: f64 = members
                    .iter()
                    .map(|d| white_british_probability(target, k, d.age_at_extract, d.decile))
                    .sum::<f64>()
                    / members.len().max(1) as f64;
                if mean < target { lo = mid } else { hi = mid }
            }
            self.white_british_k[place] = ((lo + hi) / 2.0).exp();
        }
        // Redraw ethnicity and smoking with the calibrated tilt.
        sample = (0..SAMPLE).map(|_| self.demographics(&mut rng, false)).collect();

        // 2. Conditions in draw order: solve each offset so prevalence among the survivors to
        //    the extract date, in the register's age range, equals the BLMK target; then draw
        //    it so later conditions see it. A person with a deadly condition is less likely to
        //    be alive at the extract date, so each person's chance of having the condition is
        //    weighted by their chance of surviving the window *with* it, and of not having it
        //    by their chance of surviving *without* it (both relative to the baseline the
        //    sampling already allows for). Survival needs every condition's onset, so the
        //    conditions not yet drawn in this pass take their onsets from the previous pass,
        //    and the first pass, with no mortality model yet, weights everyone equally.
        let esp: Vec<f64> = self.reference.esp2013.iter().map(|b| f64::from(b.standard_population)).collect();
        let draws: Vec<Vec<f64>> =
            (0..SAMPLE).map(|_| (0..2 * N_CONDITIONS).map(|_| rng.random::<f64>()).collect()).collect();
        let mut onset: Vec<[f64; N_CONDITIONS]> = vec![[f64::INFINITY; N_CONDITIONS]; SAMPLE];
        for pass in 0..3 {
            let mut has: Vec<[bool; N_CONDITIONS]> = vec![[false; N_CONDITIONS]; SAMPLE];
            for ci in 0..N_CONDITIONS {
                let min_age = self.condition_params[ci].register_min_age;
                let eligible: Vec<usize> = (0..SAMPLE).filter(|&i| sample[i].age_at_extract >= min_age).collect();
                // (weight if the person has the condition, weight if not)
                let weights: Vec<(f64, f64)> = if pass == 0 {
                    vec![(1.0, 1.0); eligible.len()]
                } else {
                    let this = &*self;
                    eligible
                        .par_iter()
                        .map(|&i| {
                            let mut with = onset[i];
                            with[ci] = onset_age_from_draw(ci, sample[i].age_at_extract, draws[i][N_CONDITIONS + ci]);
                            let mut without = onset[i];
                            without[ci] = f64::INFINITY;
                            let w1 = this.relative_survival(&sample[i], &with);
                            let w0 = if Condition::ALL[ci].death_hazard_ratio() == 1.0 {
                                w1
                            } else {
                                this.relative_survival(&sample[i], &without)
                            };
                            (w1, w0)
                        })
                        .collect()
                };
                // Gradients need survival weights, so they are calibrated from the second pass.
                let rounds = if pass == 0 { 1 } else { GRADIENT_ROUNDS };
                for round in 0..rounds {
                    // The linear predictor without the offset, or None where the probability
                    // is zero (too young, or a women's register).
                    let current = self.condition_params[ci].offset;
                    let predictors: Vec<Option<f64>> = eligible
                        .iter()
                        .map(|&i| {
                            self.condition_logit(ci, &sample[i], &has[i], sample[i].age_at_extract).map(|x| x - current)
                        })
                        .collect();
                    let survivor_share = |offset: f64, member: &dyn Fn(usize) -> bool| {
                        let (mut cases, mut survivors) = ([0.0; 19], [0.0; 19]);
                        for ((&i, &(w1, w0)), x) in eligible.iter().zip(&weights).zip(&predictors) {
                            if member(i) {
                                let p = x.map_or(0.0, |x| logistic(x + offset));
                                let band = phm_core::age::esp_band_index(sample[i].age_at_extract as i32);
                                cases[band] += p * w1;
                                survivors[band] += p * w1 + (1.0 - p) * w0;
                            }
                        }
                        (cases, survivors)
                    };
                    // Survivor prevalence rises with the offset: Newton's method on it, kept
                    // inside a shrinking bracket (bisection whenever a step would leave it).
                    let target = self.condition_params[ci].target;
                    let prevalence_and_slope = |offset: f64| {
                        let (mut cases, mut survivors, mut d_cases, mut d_survivors) = (0.0, 0.0, 0.0, 0.0);
                        for (&(w1, w0), x) in weights.iter().zip(&predictors) {
                            if let Some(x) = x {
                                let p = logistic(x + offset);
                                let dp = p * (1.0 - p);
                                cases += p * w1;
                                survivors += p * w1 + (1.0 - p) * w0;
                                d_cases += dp * w1;
                                d_survivors += dp * (w1 - w0);
                            } else {
                                survivors += w0;
                            }
                        }
                        let survivors = survivors.max(1e-12);
                        (cases / survivors, (d_cases * survivors - cases * d_survivors) / (survivors * survivors))
                    };
                    let (mut lo, mut hi) = (-15.0f64, 15.0f64);
                    let mut offset = current;
                    for _ in 0..60 {
                        let (value, slope) = prevalence_and_slope(offset);
                        if (value - target).abs() <= 1e-10 * target.max(1e-6) {
                            break;
                        }
                        if value < target {
                            lo = offset
                        } else {
                            hi = offset
                        }
                        let step = offset - (value - target) / slope;
                        offset = if slope > 0.0 && step > lo && step < hi { step } else { (lo + hi) / 2.0 };
                    }
                    self.condition_params[ci].offset = offset;
                    if round + 1 == rounds {
                        break;
                    }
                    // Age-standardised (ESP 2013) ratio between two groups of survivors, as the
                    // calibration report measures it from the files.
                    let standardised = |member: &dyn Fn(usize) -> bool| {
                        let (cases, survivors) = survivor_share(offset, member);
                        let (mut rate, mut weight) = (0.0, 0.0);
                        for band in 0..19 {
                            if survivors[band] > 0.0 {
                                rate += esp[band] * cases[band] / survivors[band];
                                weight += esp[band];
                            }
                        }
                        if weight > 0.0 { rate / weight } else { 0.0 }
                    };
                    let white = |i: usize| sample[i].ethnicity.group5() == EthnicGroup5::White;
                    let achieved = [
                        ratio(standardised(&|i| sample[i].decile <= 2), standardised(&|i| sample[i].decile >= 9)),
                        ratio(standardised(&|i| sample[i].ethnicity.is_south_asian()), standardised(&white)),
                        ratio(
                            standardised(&|i| sample[i].ethnicity.group5() == EthnicGroup5::Black),
                            standardised(&white),
                        ),
                    ];
                    let params = &mut self.condition_params[ci];
                    let step = |target: f64, achieved: Option<f64>| match achieved {
                        Some(a) if target > 0.0 => (target / a).ln(),
                        _ => 0.0,
                    };
                    // Quintile 1 against 5 is four steps of the per-quintile coefficient.
                    params.log_rr_dep_per_quintile = (params.log_rr_dep_per_quintile
                        + step(params.target_ratios[0], achieved[0]) / 4.0)
                        .clamp(-1.0, 1.0);
                    params.log_rr_south_asian =
                        (params.log_rr_south_asian + step(params.target_ratios[1], achieved[1])).clamp(-3.0, 3.0);
                    params.log_rr_black =
                        (params.log_rr_black + step(params.target_ratios[2], achieved[2])).clamp(-3.0, 3.0);
                }
                for i in 0..SAMPLE {
                    let p = self.condition_probability(ci, &sample[i], &has[i], sample[i].age_at_extract);
                    has[i][ci] = draws[i][ci] < p;
                    onset[i][ci] = if has[i][ci] {
                        onset_age_from_draw(ci, sample[i].age_at_extract, draws[i][N_CONDITIONS + ci])
                    } else {
                        f64::INFINITY
                    };
                }
            }
            // 3. Normalise the death hazard by age band at mid-window, over the conditions
            //    active then and the deprivation and latent factors, so each age band dies at
            //    the baseline rate on average and places differ by their mix.
            let mut sums = [0.0; 19];
            let mut counts = [0.0; 19];
            for i in 0..SAMPLE {
                let mid_age = sample[i].age_at_extract - f64::from(HISTORY_YEARS) / 2.0;
                if mid_age < 0.0 {
                    continue;
                }
                let band = phm_core::age::esp_band_index(mid_age as i32);
                let mut active = [false; N_CONDITIONS];
                for ci in 0..N_CONDITIONS {
                    active[ci] = onset[i][ci] <= mid_age;
                }
                sums[band] += self.raw_hazard_multiplier(&sample[i], &active);
                counts[band] += 1.0;
            }
            for band in 0..19 {
                self.hazard_norm[band] = if counts[band] > 0.0 { sums[band] / counts[band] } else { 1.0 };
            }
            // 4. Each place's level of mortality: the multiplier that gives its period life
            //    expectancy at birth, by sex, from the mean hazard of its people in each age band.
            self.calibrate_place_mortality(&sample, &onset);
        }
        // Ages are oversampled by the chance of surviving the window: redo it at each place's
        // mortality level.
        self.age_sex_cdf = age_sex_cdf(&self.reference, &self.targets, &self.place_hazard)?;
        Ok(())
    }

    /// Solves each place's death hazard multiplier by sex so that the period life expectancy at
    /// birth implied by the model (baseline hazard times the mean multiplier of the place's
    /// people at risk in each ESP band) meets the target in
    /// `life_expectancy.csv`. Places without a target keep a multiplier of 1.
    fn calibrate_place_mortality(&mut self, sample: &[Demographics], onset: &[[f64; N_CONDITIONS]]) {
        for place in 0..self.reference.places.len() {
            for sex in SEXES {
                let Some(target) = self.targets.life_expectancy(
                    &self.reference.places[place].place_code,
                    sex.fhir(),
                    "life_expectancy_at_birth",
                ) else {
                    continue;
                };
                let (mut sums, mut counts) = ([0.0; 19], [0.0; 19]);
                for (d, onset) in sample.iter().zip(onset).filter(|(d, _)| d.place == place && d.sex == sex) {
                    // The people at risk of dying are the survivors plus those who died: each
                    // survivor stands for 1 / (relative survival) people at risk. Their
                    // conditions are taken as at the middle of the last three years, the
                    // period over which life expectancy is measured.
                    let age = (d.age_at_extract - 1.5).max(0.0);
                    let band = phm_core::age::esp_band_index(age as i32);
                    let active: [bool; N_CONDITIONS] = std::array::from_fn(|ci| onset[ci] <= age);
                    let at_risk = 1.0 / self.relative_survival(d, onset).max(1e-6);
                    sums[band] += at_risk * self.raw_hazard_multiplier(d, &active) / self.hazard_norm[band];
                    counts[band] += at_risk;
                }
                let multiplier: [f64; 19] =
                    std::array::from_fn(|b| if counts[b] > 0.0 { sums[b] / counts[b] } else { 1.0 });
                let (mut lo, mut hi) = (-2.0f64, 2.0f64);
                for _ in 0..50 {
                    let mid = (lo + hi) / 2.0;
                    let k = mid.exp();
                    let e0 = period_life_expectancy(|age| {
                        k * baseline_hazard(age, sex) * multiplier[phm_core::age::esp_band_index(age as i32)]
                    });
                    // More hazard, shorter lives.
                    if e0 > target { lo = mid } else { hi = mid }
                }
                self.place_hazard[place][sex as usize] = ((lo + hi) / 2.0).exp();
            }
        }
    }

    /// Samples demographics. With `survival_weighted`, ages are oversampled by the inverse of
    /// surviving the history window (the full generator); without, the living structure itself
    /// (the calibration sample).
    pub fn demographics(&self, rng: &mut impl Rng, survival_weighted: bool) -> Demographics {
        let place = pick_weighted(rng, &self.place_weights);
        let (sex, band) = if survival_weighted {
            let u: f64 = rng.random();
            let cells = &self.age_sex_cdf[place];
            let cell = cells.iter().find(|c| u <= c.0).unwrap_or(&cells[cells.len() - 1]);
            (cell.1, cell.2)
        } else {
            // Undo the survival weighting by rejection.
            loop {
                let u: f64 = rng.random();
                let cells = &self.age_sex_cdf[place];
                let cell = cells.iter().find(|c| u <= c.0).unwrap_or(&cells[cells.len() - 1]);
                if rng.random::<f64>()
                    < window_survival(band_mid_age(cell.2), cell.1).powf(self.place_hazard[place][cell.1 as usize])
                {
                    break (cell.1, cell.2);
                }
            }
        };
        let start = (band * 5) as f64;
        let age = if band == 18 {
            // 90+: ages thin out quickly; an exponential tail with mean 4 years, capped at 109.
            (start - 4.0 * (1.0 - rng.random::<f64>()).ln()).min(109.9)
        } else {
            start + 5.0 * rng.random::<f64>()
        };
        let days = (age * 365.25) as i64;
        let birth = self.extract_date - chrono::Duration::days(days.max(0));
        let age_whole = phm_core::age::age_on(birth, self.extract_date) as f64;

        // Area: deprived areas hold younger populations; tilt the area weights by age.
        let tilt = ((age_whole - 40.0) / 25.0).clamp(-1.0, 2.0) * 0.05;
        let areas = &self.areas_by_place[place];
        let weights: Vec<f64> = areas
            .iter()
            .map(|(i, w)| w * (tilt * (f64::from(self.reference.areas[*i].imd_decile) - 5.5)).exp())
            .collect();
        let area = areas[pick_weighted(rng, &weights)].0;
        let decile = self.reference.areas[area].imd_decile;

        // Ethnicity: White British more common among older people and in less deprived areas.
        let shares = &self.ethnic_shares[place];
        let p_wb = white_british_probability(shares[0], self.white_british_k[place], age_whole, decile);
        let ethnicity = if rng.random::<f64>() < p_wb {
            EthnicCategory::WhiteBritish
        } else {
            let rest = &shares[1..];
            EthnicCategory::ALL[1 + pick_weighted(rng, rest)]
        };

        let frailty_z: f64 = StandardNormal.sample(rng);
        let smoking = sample_smoking(rng, age_whole, sex, decile, ethnicity);
        Demographics { place, area, sex, birth, age_at_extract: age_whole, ethnicity, decile, frailty_z, smoking }
    }

    /// Probability of having condition `ci` by `age`, given earlier conditions.
    pub fn condition_probability(&self, ci: usize, d: &Demographics, has: &[bool; N_CONDITIONS], age: f64) -> f64 {
        self.condition_logit(ci, d, has, age).map_or(0.0, logistic)
    }

    /// Log-odds of having condition `ci` by `age`, or `None` where the probability is zero.
    fn condition_logit(&self, ci: usize, d: &Demographics, has: &[bool; N_CONDITIONS], age: f64) -> Option<f64> {
        let params = &self.condition_params[ci];
        let condition = params.condition;
        let shape = condition.shape();
        if age < shape.onset_min || age < params.register_min_age {
            return None;
        }
        if condition == Condition::Osteoporosis && d.sex == Sex::Male {
            // Largely a women's register; men are rare enough to leave out.
            return None;
        }
        let quintile = f64::from(d.decile.div_ceil(2));
        let mut x = params.offset + (age - shape.a50) / shape.width;
        x += params.log_rr_dep_per_quintile * (3.0 - quintile);
        if d.ethnicity.is_south_asian() {
            x += params.log_rr_south_asian;
        } else if d.ethnicity.group5() == EthnicGroup5::Black {
            x += params.log_rr_black;
        }
        if d.sex == Sex::Female {
            x += params.log_sex_female / 2.0;
        } else {
            x -= params.log_sex_female / 2.0;
        }
        x += 0.5 * d.frailty_z;
        for (parent, odds_ratio) in condition.parents() {
            let present = match parent {
                Parent::C(c) => has[*c as usize],
                Parent::EverSmoked => d.smoking != Smoking::Never,
            };
            if present {
                x += odds_ratio.ln();
            }
        }
        Some(x)
    }

    /// Age at onset for someone who has the condition by `age`: drawn from the age curve's
    /// increments between the onset minimum and `age`.
    pub fn onset_age(&self, ci: usize, age: f64, rng: &mut impl Rng) -> f64 {
        if age <= Condition::ALL[ci].shape().onset_min {
            return age;
        }
        onset_age_from_draw(ci, age, rng.random::<f64>())
    }

    /// The chance of surviving the history window with conditions starting at these ages
    /// (`f64::INFINITY` for never), relative to the baseline survival that the sampling of ages
    /// already allows for.
    fn relative_survival(&self, d: &Demographics, onset_ages: &[f64; N_CONDITIONS]) -> f64 {
        let (mut cumulative, mut baseline) = (0.0, 0.0);
        for year in 0..HISTORY_YEARS {
            let age = d.age_at_extract - f64::from(year) - 0.5;
            if age < 0.0 {
                continue;
            }
            let active: [bool; N_CONDITIONS] = std::array::from_fn(|ci| onset_ages[ci] <= age);
            cumulative += self.death_hazard(d, age, &active);
            baseline += baseline_hazard(age, d.sex);
        }
        (self.place_hazard[d.place][d.sex as usize] * baseline - cumulative).exp()
    }

    /// Product of death hazard ratios of the conditions present, capped at 5: multiplied
    /// without a cap, the hazard ratios of a very multimorbid 90-year-old reach the hundreds and
    /// the age-band normalisation then starves everyone else of deaths.
    pub fn condition_hazard_product(&self, has: &[bool; N_CONDITIONS]) -> f64 {
        let product: f64 =
            Condition::ALL.iter().zip(has).filter(|(_, h)| **h).map(|(c, _)| c.death_hazard_ratio()).product();
        product.min(5.0)
    }

    /// Person-level hazard multiplier before normalisation: conditions, deprivation, latent.
    fn raw_hazard_multiplier(&self, d: &Demographics, has: &[bool; N_CONDITIONS]) -> f64 {
        let deprivation = (self.deprivation_log_hazard_per_decile * (5.5 - f64::from(d.decile))).exp();
        let latent = (0.25 * d.frailty_z).exp();
        self.condition_hazard_product(has) * deprivation * latent
    }

    /// Yearly death hazard for a person at `age` with these conditions active.
    pub fn death_hazard(&self, d: &Demographics, age: f64, has: &[bool; N_CONDITIONS]) -> f64 {
        let band = phm_core::age::esp_band_index(age as i32);
        self.place_hazard[d.place][d.sex as usize] * baseline_hazard(age, d.sex) * self.raw_hazard_multiplier(d, has)
            / self.hazard_norm[band]
    }

    /// Number of reference places.
    pub fn place_count(&self) -> usize {
        self.reference.places.len()
    }

    /// Calibrated prevalence target of a condition (0-1) and its register's minimum age.
    pub fn condition_target(&self, ci: usize) -> (f64, f64) {
        (self.condition_params[ci].target, self.condition_params[ci].register_min_age)
    }
}

/// Probability of White British given the place share, calibrated multiplier, age and decile.
fn white_british_probability(share: f64, k: f64, age: f64, decile: u8) -> f64 {
    let tilt = (0.015 * (age - 38.0) + 0.08 * (f64::from(decile) - 5.5)).exp();
    let odds = k * tilt * share / (1.0 - share).max(1e-9);
    odds / (1.0 + odds)
}

/// Smoking status by age, sex, deprivation and ethnicity (APS/HSE directions: current smoking
/// about twice as common in the most deprived quintile, lower in South Asian women).
fn sample_smoking(rng: &mut impl Rng, age: f64, sex: Sex, decile: u8, ethnicity: EthnicCategory) -> Smoking {
    if age < 16.0 {
        return Smoking::Never;
    }
    let quintile = f64::from(decile.div_ceil(2));
    let ever_base: f64 = match age as u32 {
        16..=24 => 0.20,
        25..=34 => 0.33,
        35..=54 => 0.42,
        55..=74 => 0.52,
        _ => 0.50,
    };
    let mut x = logit(ever_base) + 0.22 * (3.0 - quintile);
    if sex == Sex::Male {
        x += 0.2;
    }
    if ethnicity.is_south_asian() && sex == Sex::Female {
        x -= 2.0;
    }
    if rng.random::<f64>() >= logistic(x) {
        return Smoking::Never;
    }
    let current_base: f64 = match age as u32 {
        16..=24 => 0.45,
        25..=34 => 0.40,
        35..=54 => 0.28,
        55..=74 => 0.17,
        _ => 0.09,
    };
    let y = logit(current_base) + 0.18 * (3.0 - quintile);
    if rng.random::<f64>() < logistic(y) { Smoking::Current } else { Smoking::Ex }
}

fn band_mid_age(band: usize) -> f64 {
    if band == 18 { 93.0 } else { (band * 5) as f64 + 2.5 }
}

/// Period life expectancy at birth for a yearly hazard by age: survivors through single years
/// of age to 120, each year's deaths living half of it.
fn period_life_expectancy(hazard: impl Fn(f64) -> f64) -> f64 {
    let (mut survivors, mut years) = (1.0, 0.0);
    for age in 0..120 {
        let next = survivors * (-hazard(f64::from(age) + 0.5)).exp();
        years += (survivors + next) / 2.0;
        survivors = next;
    }
    years
}

/// Cumulative distribution of (sex, ESP band) per place for sampling people to simulate: the
/// target shares of the living, each oversampled by the inverse of surviving the history window
/// at the place's mortality level (`place_hazard`, female and male), so that the living
/// population at the extract date keeps the target structure.
fn age_sex_cdf(
    reference: &ReferenceData,
    targets: &Targets,
    place_hazard: &[[f64; 2]],
) -> Result<Vec<Vec<(f64, Sex, usize)>>> {
    let mut cdf = Vec::new();
    for (place, hazard) in reference.places.iter().zip(place_hazard) {
        let mut cells = Vec::new();
        let mut total = 0.0;
        for sex in SEXES {
            for (band, label) in phm_core::age::ESP_BANDS.iter().enumerate() {
                let row = targets
                    .age_sex
                    .iter()
                    .find(|r| r.place_code == place.place_code && r.sex == sex.fhir() && r.age_band == *label)
                    .ok_or_else(|| {
                        Error::Calibration(format!(
                            "calibration/age_sex.csv has no row for {} {} {label}",
                            place.place_code,
                            sex.fhir()
                        ))
                    })?;
                total += row.percent / window_survival(band_mid_age(band), sex).powf(hazard[sex as usize]);
                cells.push((total, sex, band));
            }
        }
        for cell in &mut cells {
            cell.0 /= total;
        }
        cdf.push(cells);
    }
    Ok(cdf)
}

/// Probability that someone who would be `age_at_extract` survives the whole history window.
fn window_survival(age_at_extract: f64, sex: Sex) -> f64 {
    let mut cumulative = 0.0;
    for year in 0..HISTORY_YEARS {
        let age = age_at_extract - f64::from(year) - 0.5;
        if age >= 0.0 {
            cumulative += baseline_hazard(age, sex);
        }
    }
    (-cumulative).exp()
}

/// Index drawn with probability proportional to `weights`.
pub fn pick_weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len().saturating_sub(1)
}

impl Model {
    /// Ratio of people simulated to people alive at the extract date: the survival-weighted
    /// sampling's mean inverse survival.
    pub fn oversampling(&self) -> f64 {
        let mut weighted = 0.0;
        let mut total = 0.0;
        for (place, row_place) in self.reference.places.iter().enumerate() {
            let share = self.place_weights[place];
            for row in self.targets.age_sex.iter().filter(|r| r.place_code == row_place.place_code) {
                let band = phm_core::age::ESP_BANDS.iter().position(|b| *b == row.age_band).unwrap_or(0);
                let sex = if row.sex == "female" { Sex::Female } else { Sex::Male };
                weighted += share * row.percent / window_survival(band_mid_age(band), sex);
                total += share * row.percent;
            }
        }
        if total > 0.0 { weighted / total } else { 1.0 }
    }
}

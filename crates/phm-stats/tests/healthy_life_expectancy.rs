//! Healthy life expectancy by Sullivan's method: a worked example by hand, the published example
//! of the REVES practical guide, the survey's validity rules, and properties of any table.

use std::path::Path;

use phm_stats::ConfidenceLevel;
use phm_stats::healthy_life_expectancy::{
    HealthBand, HealthSurvey, HealthyLifeExpectancyOptions, NotReported, healthy_life_expectancy, sullivan,
};
use phm_stats::life_expectancy::{self, AgeBand, AgeStructure, LifeExpectancyOptions, LifeTableRow, life_expectancy};
use proptest::prelude::*;
use serde::Deserialize;

const DF1_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/pheindicatormethods-testdata/life_expectancy_df1.json"
);

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, expected {want} (difference {:e})",
        (got - want).abs()
    );
}

// ---- a worked example, by hand ----
//
// Three bands, 0–49, 50–79 and 80+, with death rates 0.001, 0.015 and 0.1, and a survey finding
// 90%, 75% and 40% in good health. Chiang's method II (a = 0.1 in the first band, 0.5 after):
//
// * 80+: L/l = 1/M = 10 years, so LE = 10 and HLE = 0.4 × 10 = 4;
//   SE = (L/l) √(π(1−π)/N) = 10 √(0.4 × 0.6 / 250) = 0.309839.
// * 50–79: q = 30 × 0.015 / (1 + 30 × 0.015 × 0.5) = 18/49, so of l = 1 at 50, 31/49 reach 80,
//   L = 30 (31/49 + 0.5 × 18/49) = 1200/49 in the band and 10 × 31/49 = 310/49 after it:
//   LE = 1510/49 = 30.816327 and HLE = (0.75 × 1200 + 0.4 × 310)/49 = 1024/49 = 20.897959.
// * 0–49: q = 50 × 0.001 / (1 + 50 × 0.001 × 0.9) = 10/209, so 199/209 reach 50 and
//   L = 50 (199/209 + 0.1 × 10/209) = 10000/209 in the band:
//   HLE = (0.9 × 10000 + 199 × 1024/49)/209 = 62.960258.

fn worked_example() -> (Vec<HealthBand>, HealthyLifeExpectancyOptions) {
    let bands = vec![
        HealthBand::new(0, 20.0, 20_000.0, 900.0, 1_000.0),
        HealthBand::new(50, 150.0, 10_000.0, 600.0, 800.0),
        HealthBand::new(80, 300.0, 3_000.0, 100.0, 250.0),
    ];
    let options = HealthyLifeExpectancyOptions {
        confidence: ConfidenceLevel::NINETY_FIVE,
        age_structure: AgeStructure::new(vec![0, 50, 80]).expect("a valid structure"),
    };
    (bands, options)
}

#[test]
fn worked_example_by_hand() {
    let (bands, options) = worked_example();
    let rows = healthy_life_expectancy(&bands, &options);
    let ages: Vec<u32> = rows.iter().map(|r| r.start_age).collect();
    assert_eq!(ages, [0, 50, 80]);
    let at = |i: usize| rows[i].result.expect("reported");

    close("HLE at 80", at(2).value, 4.0, 1e-9);
    close("LE at 80", at(2).life_expectancy, 10.0, 1e-9);
    close("SE at 80", at(2).standard_error, 10.0 * (0.4 * 0.6 / 250.0_f64).sqrt(), 1e-12);
    close("HLE at 50", at(1).value, 1024.0 / 49.0, 1e-9);
    close("LE at 50", at(1).life_expectancy, 1510.0 / 49.0, 1e-9);
    close("HLE at 0", at(0).value, (0.9 * 10_000.0 + 199.0 * 1024.0 / 49.0) / 209.0, 1e-9);
    close("share healthy at 80", at(2).proportion_healthy, 0.4, 1e-12);

    // SE at 50: √((1200/49)² × 0.75 × 0.25 / 800 + (310/49)² × 0.4 × 0.6 / 250).
    let se50 = ((1200.0_f64 / 49.0).powi(2) * 0.1875 / 800.0 + (310.0_f64 / 49.0).powi(2) * 0.24 / 250.0).sqrt();
    close("SE at 50", at(1).standard_error, se50, 1e-12);
    let z = ConfidenceLevel::NINETY_FIVE.z();
    close("lower limit at 50", at(1).lower, 1024.0 / 49.0 - z * se50, 1e-9);
    close("upper limit at 50", at(1).upper, 1024.0 / 49.0 + z * se50, 1e-9);
}

#[test]
fn life_expectancy_alongside_is_the_life_expectancy_modules() {
    let (bands, options) = worked_example();
    let mortality: Vec<AgeBand> = bands.iter().map(|b| AgeBand::new(b.start_age, b.deaths, b.population)).collect();
    let le_options =
        LifeExpectancyOptions { confidence: options.confidence, age_structure: options.age_structure.clone() };
    let le = life_expectancy(&mortality, &le_options);
    for (h, e) in healthy_life_expectancy(&bands, &options).iter().zip(&le) {
        let hle = h.result.expect("reported");
        close("LE", hle.life_expectancy, e.value().expect("reported"), 1e-9);
    }
}

// ---- the REVES practical guide's example (France, males, 1991) ----
//
// Hauet's guide gives the life table's l and L from age 65 (its table 1) and the disability
// prevalence and its variance by band (its table 3), and reports the Sullivan index (table 1,
// one decimal) and its variance (table 3, three figures). The survey size N = π(1−π)/Var(π) is
// recovered from the rounded prevalence and variance. Table 1 prints 0.710 as the disability-free
// prevalence at 85+; its own person-years (83 967 of 289 068) and table 3 show 0.290.

#[test]
fn reves_practical_guide_example_from_age_65() {
    // (age, l, L, disability prevalence, its variance, published HLE, published Var(HLE))
    let published = [
        (65, 89_367.0, 436_589.0, 0.196, 0.000_281, 12.3, 0.0466),
        (70, 84_968.0, 408_793.0, 0.286, 0.000_507, 8.8, 0.0441),
        (75, 78_012.0, 364_013.0, 0.370, 0.000_675, 5.8, 0.0384),
        (80, 66_625.0, 290_533.0, 0.513, 0.000_914, 3.4, 0.0325),
        (85, 48_532.0, 289_068.0, 0.710, 0.000_805, 1.7, 0.0285),
    ];
    let table: Vec<LifeTableRow> = published
        .iter()
        .map(|&(age, l, big_l, ..)| LifeTableRow {
            start_age: age,
            survivors: l,
            person_years: big_l,
            probability_of_dying: f64::NAN, // not used by Sullivan's method
        })
        .collect();
    let survey: Vec<HealthSurvey> = published
        .iter()
        .map(|&(_, _, _, disabled, variance, ..)| {
            let surveyed = disabled * (1.0 - disabled) / variance;
            HealthSurvey { healthy: (1.0 - disabled) * surveyed, surveyed }
        })
        .collect();
    let rows = sullivan(&table, &survey, ConfidenceLevel::NINETY_FIVE);
    for (row, &(age, .., hle, variance)) in rows.iter().zip(&published) {
        let got = row.result.expect("reported");
        close(&format!("HLE at {age}"), got.value, hle, 0.05);
        let var = got.standard_error.powi(2);
        assert!((var - variance).abs() / variance < 0.01, "Var(HLE) at {age}: got {var}, published {variance}");
    }
}

// ---- when a value is not reported ----

fn standard_bands(healthy: impl Fn(usize) -> f64, surveyed: f64) -> Vec<HealthBand> {
    df1()
        .iter()
        .enumerate()
        .map(|(i, b)| HealthBand::new(b.start_age, b.deaths, b.population, healthy(i), surveyed))
        .collect()
}

fn reasons(bands: &[HealthBand]) -> Vec<Result<(), NotReported>> {
    healthy_life_expectancy(bands, &HealthyLifeExpectancyOptions::default())
        .iter()
        .map(|r| r.result.map(|_| ()))
        .collect()
}

#[test]
fn a_life_table_that_is_not_reported_gives_its_reason() {
    let mut bands = standard_bands(|_| 50.0, 100.0);
    let last = bands.len() - 1;
    bands[last].deaths = 0.0;
    let want = NotReported::LifeTable(life_expectancy::NotReported::NoDeathsInFinalBand);
    assert!(reasons(&bands).iter().all(|r| *r == Err(want)));
}

#[test]
fn a_band_no_one_was_surveyed_in_is_not_reported() {
    let mut bands = standard_bands(|_| 50.0, 100.0);
    bands[3].surveyed = 0.0;
    bands[3].healthy = 0.0;
    let want = NotReported::NoOneSurveyed { start_age: bands[3].start_age };
    assert!(reasons(&bands).iter().all(|r| *r == Err(want)));
}

#[test]
fn more_healthy_than_surveyed_or_a_negative_count_is_not_reported() {
    let mut bands = standard_bands(|_| 50.0, 100.0);
    bands[5].healthy = 101.0;
    bands[7].healthy = -1.0;
    let want = NotReported::HealthyOutOfRange { start_age: bands[5].start_age };
    assert!(reasons(&bands).iter().all(|r| *r == Err(want)));
}

#[test]
fn a_missing_health_count_is_not_reported() {
    let mut bands = standard_bands(|_| 50.0, 100.0);
    bands[2].healthy = f64::NAN;
    let want = NotReported::NonFiniteHealthCount { start_age: bands[2].start_age };
    assert!(reasons(&bands).iter().all(|r| *r == Err(want)));
}

#[test]
fn a_survey_with_the_wrong_number_of_bands_is_not_reported() {
    let (bands, options) = worked_example();
    let mortality: Vec<AgeBand> = bands.iter().map(|b| AgeBand::new(b.start_age, b.deaths, b.population)).collect();
    let table = life_expectancy::life_table(&mortality, &options.age_structure).expect("reported");
    let survey = [HealthSurvey { healthy: 1.0, surveyed: 2.0 }];
    let rows = sullivan(&table, &survey, ConfidenceLevel::NINETY_FIVE);
    assert!(rows.iter().all(|r| r.result == Err(NotReported::SurveyBandsDoNotMatch)));
}

// ---- properties, on PHEindicatormethods' life-table test vector ----

#[derive(Deserialize)]
struct Fixture {
    inputs: Inputs,
}

#[derive(Deserialize)]
struct Inputs {
    startage: Vec<f64>,
    pops: Vec<f64>,
    deaths: Vec<f64>,
}

fn df1() -> Vec<AgeBand> {
    let path = Path::new(DF1_JSON);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "PHEindicatormethods test vector missing: could not read {} ({e}). \
             It is expected in shared/reference/pheindicatormethods-testdata/ beside the repository.",
            path.display()
        )
    });
    let fixture: Fixture = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not the expected fixture layout: {e}", path.display()));
    let i = fixture.inputs;
    i.startage
        .iter()
        .zip(&i.deaths)
        .zip(&i.pops)
        .map(|((&age, &deaths), &pops)| AgeBand::new(age as u32, deaths, pops))
        .collect()
}

#[test]
fn everyone_healthy_gives_life_expectancy_with_no_sampling_error() {
    let bands = standard_bands(|_| 400.0, 400.0);
    let le = life_expectancy(&df1(), &LifeExpectancyOptions::default());
    for (h, e) in healthy_life_expectancy(&bands, &HealthyLifeExpectancyOptions::default()).iter().zip(&le) {
        let hle = h.result.expect("reported");
        close("HLE = LE", hle.value, e.value().expect("reported"), 1e-9);
        assert_eq!(hle.standard_error, 0.0);
        assert_eq!(hle.proportion_healthy, 1.0);
    }
}

#[test]
fn no_one_healthy_gives_zero() {
    let bands = standard_bands(|_| 0.0, 400.0);
    for h in healthy_life_expectancy(&bands, &HealthyLifeExpectancyOptions::default()) {
        let hle = h.result.expect("reported");
        assert_eq!((hle.value, hle.standard_error), (0.0, 0.0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn healthy_life_expectancy_never_exceeds_life_expectancy(
        shares in prop::collection::vec(0.0..=1.0f64, 20),
        surveyed in 10.0..5_000.0f64,
    ) {
        let bands = standard_bands(|i| (shares[i] * surveyed).round().min(surveyed), surveyed);
        for h in healthy_life_expectancy(&bands, &HealthyLifeExpectancyOptions::default()) {
            let hle = h.result.expect("reported");
            prop_assert!(hle.value >= 0.0);
            prop_assert!(hle.value <= hle.life_expectancy + 1e-9);
            prop_assert!(hle.lower <= hle.value && hle.value <= hle.upper);
        }
    }

    #[test]
    fn a_constant_share_healthy_scales_life_expectancy(share in 0.0..=1.0f64) {
        let bands = standard_bands(|_| share * 1_000.0, 1_000.0);
        for h in healthy_life_expectancy(&bands, &HealthyLifeExpectancyOptions::default()) {
            let hle = h.result.expect("reported");
            prop_assert!((hle.value - share * hle.life_expectancy).abs() < 1e-9);
        }
    }

    #[test]
    fn a_larger_survey_gives_a_smaller_standard_error(share in 0.05..0.95f64, surveyed in 50.0..1_000.0f64) {
        let small = standard_bands(|_| share * surveyed, surveyed);
        let large = standard_bands(|_| share * surveyed * 4.0, surveyed * 4.0);
        let options = HealthyLifeExpectancyOptions::default();
        for (s, l) in healthy_life_expectancy(&small, &options).iter().zip(healthy_life_expectancy(&large, &options)) {
            let (s, l) = (s.result.expect("reported"), l.result.expect("reported"));
            // Var ∝ 1/N: four times the survey halves the standard error.
            prop_assert!((l.standard_error * 2.0 - s.standard_error).abs() < 1e-9);
        }
    }
}

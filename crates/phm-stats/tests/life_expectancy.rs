//! Life expectancy (Chiang II with Silcocks et al. limits) against the PHEindicatormethods test
//! vectors, the validity rules of `phe_life_expectancy`, and properties of any life table.
//!
//! `LE_testdata.csv` in the same reference folder is not used here: it holds life expectancy and
//! its standard error by deprivation decile (inputs to the slope index of inequality), not
//! deaths and populations by age band, so it has no life-table cases.

use std::path::Path;

use phm_stats::ConfidenceLevel;
use phm_stats::life_expectancy::{
    AgeBand, AgeStructure, LifeExpectancyAtAge, LifeExpectancyOptions, NotReported, life_expectancy,
};
use proptest::prelude::*;
use serde::Deserialize;

const DF1_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/pheindicatormethods-testdata/life_expectancy_df1.json"
);

/// The R test compares after rounding to 4 dp.
const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
struct Fixture {
    inputs: Inputs,
    expected: Expected,
}

#[derive(Deserialize)]
struct Inputs {
    startage: Vec<f64>,
    pops: Vec<f64>,
    deaths: Vec<f64>,
}

#[derive(Deserialize)]
struct Expected {
    value: Vec<f64>,
    lowercl_95: Vec<f64>,
    uppercl_95: Vec<f64>,
}

fn load_df1() -> (Vec<AgeBand>, Expected) {
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
    let inputs = fixture.inputs;
    assert_eq!(inputs.startage.len(), inputs.pops.len());
    assert_eq!(inputs.startage.len(), inputs.deaths.len());
    let bands = inputs
        .startage
        .iter()
        .zip(&inputs.deaths)
        .zip(&inputs.pops)
        .map(|((&age, &deaths), &pops)| {
            assert!(age >= 0.0 && age.fract() == 0.0, "start age {age} is not a whole number");
            AgeBand::new(age as u32, deaths, pops)
        })
        .collect();
    (bands, fixture.expected)
}

fn df1_bands() -> Vec<AgeBand> {
    load_df1().0
}

fn assert_close(what: &str, age: u32, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOLERANCE,
        "{what} at age {age}: got {got}, expected {want} (diff {})",
        (got - want).abs()
    );
}

fn assert_matches_df1(rows: &[LifeExpectancyAtAge], expected: &Expected) {
    assert_eq!(rows.len(), expected.value.len());
    for (i, row) in rows.iter().enumerate() {
        let est = row.result.unwrap_or_else(|r| panic!("age {} not reported: {r}", row.start_age));
        assert_close("value", row.start_age, est.value, expected.value[i]);
        assert_close("lower 95% limit", row.start_age, est.lower, expected.lowercl_95[i]);
        assert_close("upper 95% limit", row.start_age, est.upper, expected.uppercl_95[i]);
    }
}

fn assert_all(rows: &[LifeExpectancyAtAge], reason: NotReported) {
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row.result, Err(reason), "age {}", row.start_age);
        assert_eq!(row.value(), None);
    }
}

fn le(bands: &[AgeBand]) -> Vec<LifeExpectancyAtAge> {
    life_expectancy(bands, &LifeExpectancyOptions::default())
}

// ---- PHEindicatormethods test vectors (testLifeExpectancy.R) ----

#[test]
fn df1_matches_pheindicatormethods() {
    let (bands, expected) = load_df1();
    let rows = le(&bands);
    let ages: Vec<u32> = rows.iter().map(|r| r.start_age).collect();
    assert_eq!(ages, AgeStructure::standard().start_ages());
    assert_matches_df1(&rows, &expected);
}

#[test]
fn df1_value_and_standard_error_match_to_1e7() {
    // The fixture's limits were made with z = 1.96 exactly (PHE's Excel calculator); R, and
    // this crate, use Φ⁻¹(0.975) = 1.959964, a difference of ~5e-6 that vanishes at 4 dp.
    // With z = 1.96 the fixture is reproduced to its own 10 significant figures, which checks
    // the Silcocks variance itself, not just its rounding.
    let (bands, expected) = load_df1();
    for (i, row) in le(&bands).iter().enumerate() {
        let e = row.result.expect("reported");
        let age = row.start_age;
        let close = |what, got: f64, want: f64| {
            assert!((got - want).abs() < 1e-7, "{what} at age {age}: got {got}, expected {want}");
        };
        close("value", e.value, expected.value[i]);
        close("value - 1.96 SE", e.value - 1.96 * e.standard_error, expected.lowercl_95[i]);
        close("value + 1.96 SE", e.value + 1.96 * e.standard_error, expected.uppercl_95[i]);
    }
}

#[test]
fn bands_in_any_order_give_the_same_answer() {
    // As R's df2: the 65-69 band moved to the end. And fully reversed.
    let (bands, expected) = load_df1();
    let mut moved = bands.clone();
    let band_65 = moved.remove(14);
    moved.push(band_65);
    assert_matches_df1(&le(&moved), &expected);

    let mut reversed = bands;
    reversed.reverse();
    assert_matches_df1(&le(&reversed), &expected);
}

#[test]
fn percent_and_fraction_confidence_agree() {
    let (bands, expected) = load_df1();
    let options = LifeExpectancyOptions {
        confidence: ConfidenceLevel::from_percent(95.0).expect("95% is valid"),
        ..LifeExpectancyOptions::default()
    };
    assert_matches_df1(&life_expectancy(&bands, &options), &expected);
}

#[test]
fn other_confidence_levels_use_the_same_standard_error() {
    let bands = df1_bands();
    let at_95 = le(&bands);
    let options = LifeExpectancyOptions {
        confidence: ConfidenceLevel::NINETY_NINE_POINT_EIGHT,
        ..LifeExpectancyOptions::default()
    };
    let at_998 = life_expectancy(&bands, &options);
    let z = ConfidenceLevel::NINETY_NINE_POINT_EIGHT.z();
    assert!((z - 3.090_232_306_167_813).abs() < 1e-9);
    for (a, b) in at_95.iter().zip(&at_998) {
        let (a, b) = (a.result.expect("reported"), b.result.expect("reported"));
        assert_eq!(a.value, b.value);
        assert_eq!(a.standard_error, b.standard_error);
        assert!((b.upper - (b.value + z * b.standard_error)).abs() < 1e-12);
        assert!(b.lower < a.lower && a.upper < b.upper);
    }
}

#[test]
fn negative_deaths_are_not_reported() {
    // R's df_neg_deaths: -5 deaths in the 10-14 band.
    let mut bands = df1_bands();
    bands[3].deaths = -5.0;
    assert_all(&le(&bands), NotReported::NegativeDeaths { start_age: 10 });
}

#[test]
fn zero_population_is_not_reported() {
    // R's df_zero_pop: no population in the 20-24 band.
    let mut bands = df1_bands();
    bands[5].population = 0.0;
    assert_all(&le(&bands), NotReported::NonPositivePopulation { start_age: 20 });
    bands[5].population = -10.0;
    assert_all(&le(&bands), NotReported::NonPositivePopulation { start_age: 20 });
}

#[test]
fn deaths_above_population_are_not_reported() {
    // R's df_deaths_greater_pops: 119 people and 1936 deaths in the 85-89 band.
    let mut bands = df1_bands();
    bands[18].population = 119.0;
    assert_all(&le(&bands), NotReported::DeathsExceedPopulation { start_age: 85 });
}

#[test]
fn deaths_equal_to_population_are_allowed() {
    let mut bands = df1_bands();
    bands[19].population = bands[19].deaths;
    assert!(le(&bands).iter().any(|r| r.value().is_some()));
}

#[test]
fn missing_extra_or_repeated_bands_are_not_reported() {
    // R's df_missing_age: no 90+ band.
    let mut bands = df1_bands();
    bands.pop();
    assert_all(&le(&bands), NotReported::AgeBandsDoNotMatch);

    let mut bands = df1_bands();
    let repeat = bands[4];
    bands.push(repeat);
    let rows = le(&bands);
    assert_eq!(rows.len(), 21);
    assert_all(&rows, NotReported::AgeBandsDoNotMatch);

    let mut bands = df1_bands();
    bands[19].start_age = 95;
    assert_all(&le(&bands), NotReported::AgeBandsDoNotMatch);

    assert!(le(&[]).is_empty());
}

#[test]
fn small_total_population_is_not_reported() {
    // R's df_low_pops: total population 2,883.
    let pops = [
        128., 152., 120., 176., 194., 180., 145., 149., 107., 185., 165., 109., 100., 122., 133., 189., 123., 121.,
        147., 138.,
    ];
    let deaths = [58., 93., 78., 94., 59., 71., 80., 73., 69., 72., 91., 69., 78., 71., 54., 91., 82., 53., 50., 84.];
    let bands: Vec<AgeBand> = AgeStructure::standard()
        .start_ages()
        .iter()
        .zip(deaths.iter().zip(pops))
        .map(|(&age, (&d, p))| AgeBand::new(age, d, p))
        .collect();
    assert_all(&le(&bands), NotReported::TotalPopulationTooSmall { total: 2883.0 });
}

#[test]
fn total_population_of_exactly_5000_is_not_reported() {
    // PHEindicatormethods suppresses `total_pop <= 5000`.
    let bands: Vec<AgeBand> =
        AgeStructure::standard().start_ages().iter().map(|&age| AgeBand::new(age, 10.0, 250.0)).collect();
    assert_all(&le(&bands), NotReported::TotalPopulationTooSmall { total: 5000.0 });
}

#[test]
fn no_deaths_in_the_open_band_is_not_reported() {
    let mut bands = df1_bands();
    bands[19].deaths = 0.0;
    assert_all(&le(&bands), NotReported::NoDeathsInFinalBand);
}

#[test]
fn non_finite_inputs_are_not_reported() {
    let mut bands = df1_bands();
    bands[7].deaths = f64::NAN;
    assert_all(&le(&bands), NotReported::NonFiniteInput);
    let mut bands = df1_bands();
    bands[2].population = f64::INFINITY;
    assert_all(&le(&bands), NotReported::NonFiniteInput);
}

#[test]
fn reasons_follow_pheindicatormethods_order() {
    // Negative deaths is checked before a zero population, which is checked before deaths
    // above population.
    let mut bands = df1_bands();
    bands[18].population = 119.0;
    bands[5].population = 0.0;
    bands[3].deaths = -5.0;
    assert_all(&le(&bands), NotReported::NegativeDeaths { start_age: 10 });
}

#[test]
fn too_wide_interval_suppresses_the_value_but_keeps_limits() {
    // One death among 100 person-years in the open band: Var(e_90) = P² / D³ = 10,000.
    let mut bands = df1_bands();
    bands[19] = AgeBand::new(90, 1.0, 100.0);
    let rows = le(&bands);
    let last = rows[19];
    match last.result {
        Err(NotReported::ConfidenceIntervalTooWide { lower, upper, standard_error }) => {
            assert!((standard_error - 100.0).abs() < 1e-9);
            assert!(upper - lower > 20.0);
            assert_eq!(last.limits(), Some((lower, upper)));
        }
        other => panic!("expected a too-wide interval, got {other:?}"),
    }
    assert_eq!(last.value(), None);
}

#[test]
fn ages_no_one_reaches_are_not_reported() {
    // 90% of the 1-4 band die: D > P / (n a) = P / 2, so q = 1 and l = 0 from age 5.
    let mut bands = df1_bands();
    bands[1].deaths = 0.9 * bands[1].population;
    let rows = le(&bands);
    assert!(rows[0].value().is_some());
    assert!(rows[1].value().is_some());
    for row in &rows[2..] {
        assert_eq!(row.result, Err(NotReported::NoSurvivors), "age {}", row.start_age);
    }
}

#[test]
fn custom_age_structure() {
    // Collapse df1 into 0, 1-4, then 10-year bands from 5 to 84, and 85+.
    let bands = df1_bands();
    let mut starts = vec![0u32, 1];
    starts.extend((5..=75).step_by(10));
    starts.push(85);
    let mut grouped = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(u32::MAX);
        let (d, p) = bands
            .iter()
            .filter(|b| b.start_age >= start && b.start_age < end)
            .fold((0.0, 0.0), |(d, p), b| (d + b.deaths, p + b.population));
        grouped.push(AgeBand::new(start, d, p));
    }
    let options = LifeExpectancyOptions {
        age_structure: AgeStructure::new(starts).expect("valid structure"),
        ..LifeExpectancyOptions::default()
    };
    let rows = life_expectancy(&grouped, &options);
    let e0 = rows[0].value().expect("reported");
    // Coarser bands change the estimate a little, not a lot.
    assert!((e0 - 80.1696).abs() < 0.5, "e0 = {e0}");
    // The standard structure rejects this input.
    assert_all(&le(&grouped), NotReported::AgeBandsDoNotMatch);
}

// ---- properties ----

/// A valid standard table: populations of 2,000-50,000 per band, death rates below 0.3 (so no
/// band reaches q = 1) and 5-30% in the open band.
fn valid_table() -> impl Strategy<Value = Vec<AgeBand>> {
    (prop::collection::vec((2_000u32..50_000, 0.0f64..0.3), 19), (2_000u32..50_000, 0.05f64..0.3)).prop_map(
        |(closed, (open_pop, open_rate))| {
            let starts = AgeStructure::standard();
            closed
                .into_iter()
                .chain(std::iter::once((open_pop, open_rate)))
                .zip(starts.start_ages())
                .map(|((pop, rate), &age)| {
                    let pop = f64::from(pop);
                    AgeBand::new(age, (pop * rate).round(), pop)
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn limits_bracket_the_value(bands in valid_table()) {
        for row in le(&bands) {
            match row.result {
                Ok(e) => {
                    prop_assert!(e.lower <= e.value && e.value <= e.upper, "{row:?}");
                    prop_assert!(e.value >= 0.0 && e.standard_error >= 0.0);
                }
                Err(NotReported::ConfidenceIntervalTooWide { lower, upper, .. }) => {
                    prop_assert!(lower <= upper);
                }
                Err(other) => prop_assert!(false, "valid table not reported: {other}"),
            }
        }
    }

    #[test]
    fn fewer_deaths_raise_life_expectancy_at_birth(
        bands in valid_table(),
        factor in 0.5f64..0.99,
    ) {
        let scaled: Vec<AgeBand> = bands
            .iter()
            .map(|b| AgeBand::new(b.start_age, b.deaths * factor, b.population))
            .collect();
        let before = le(&bands)[0].result;
        let after = le(&scaled)[0].result;
        let (Ok(before), Ok(after)) = (before, after) else {
            return Err(TestCaseError::reject("e0 suppressed"));
        };
        prop_assert!(after.value > before.value, "{} -> {}", before.value, after.value);
    }

    #[test]
    fn expected_age_at_death_never_falls_with_age(bands in valid_table()) {
        // x + e_x is non-decreasing: surviving to an older age cannot lower the expected age at
        // death. Follows from e_i = L_i / l_i + p_i e_{i+1} with L_i <= n_i l_i.
        let rows = le(&bands);
        let mut previous = f64::NEG_INFINITY;
        for row in rows {
            if let Ok(e) = row.result {
                let age_at_death = f64::from(row.start_age) + e.value;
                prop_assert!(age_at_death >= previous - 1e-9, "{row:?}");
                previous = age_at_death;
            }
        }
    }

    #[test]
    fn input_order_does_not_matter(bands in valid_table(), seed in any::<u64>()) {
        let mut shuffled = bands.clone();
        // A simple deterministic shuffle.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        prop_assert_eq!(le(&bands), le(&shuffled));
    }

    #[test]
    fn higher_confidence_widens_the_interval(bands in valid_table(), level in 0.5f64..0.99) {
        let narrow = LifeExpectancyOptions {
            confidence: ConfidenceLevel::new(level).expect("in range"),
            ..LifeExpectancyOptions::default()
        };
        let wide = LifeExpectancyOptions {
            confidence: ConfidenceLevel::new(level + 0.005).expect("in range"),
            ..LifeExpectancyOptions::default()
        };
        for (n, w) in life_expectancy(&bands, &narrow).iter().zip(&life_expectancy(&bands, &wide)) {
            if let (Some((nl, nu)), Some((wl, wu))) = (n.limits(), w.limits()) {
                prop_assert!(wl <= nl && nu <= wu);
            }
        }
    }
}

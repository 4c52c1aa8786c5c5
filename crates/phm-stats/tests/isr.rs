//! Indirectly standardised ratios and rates: PHEindicatormethods' `calculate_ISRatio` and
//! `calculate_ISRate` test vectors (reference rates by band, exact limits below 10 observed and
//! Byar's from 10, a band with no local population), the validity rules, and properties.
//!
//! The workbook holds full double precision, so values are matched to 1e-9 relative.

mod common;

use common::{Table, assert_close, group_by};
use phm_stats::isr::{NotReported, ReferenceBand, from_bands, from_expected};
use phm_stats::poisson::PoissonMethod;
use phm_stats::{ConfidenceLevel, Estimate, Multiplier};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;

/// The reference events and populations by band (`refdata`).
fn reference() -> Vec<(f64, f64)> {
    let table = Table::xlsx("testdata_DSR_ISR.xlsx", "refdata");
    table.rows().map(|r| (r.number("refcount"), r.number("refpop"))).collect()
}

/// Each area of `sheet`: its observed total and its bands against `refdata`. As the R functions
/// do, a missing count or population (R's NA) counts as 0.
fn areas(sheet: &str) -> Vec<(String, f64, Vec<ReferenceBand>)> {
    let table = Table::xlsx("testdata_DSR_ISR.xlsx", sheet);
    let reference = reference();
    group_by(&table, "area")
        .into_iter()
        .map(|(area, rows)| {
            assert_eq!(rows.len(), reference.len(), "{area} has one row per reference band");
            let observed = rows.iter().map(|r| r.maybe_number("count").unwrap_or(0.0)).sum();
            let bands = rows
                .iter()
                .zip(&reference)
                .map(|(r, &(reference_events, reference_population))| ReferenceBand {
                    population: r.maybe_number("pop").unwrap_or(0.0),
                    reference_events,
                    reference_population,
                })
                .collect();
            (area, observed, bands)
        })
        .collect()
}

fn assert_estimate(row: &common::Row<'_>, got: Estimate, lower: &str, upper: &str) {
    assert_close(&row.at("value"), got.value, row.number("value"), TOLERANCE);
    assert_close(&row.at(lower), got.lower, row.number(lower), TOLERANCE);
    assert_close(&row.at(upper), got.upper, row.number(upper), TOLERANCE);
}

#[test]
fn ratios_and_rates_match_the_r_functions_for_big_small_and_tiny_areas() {
    let results = Table::xlsx("testdata_DSR_ISR.xlsx", "testresults_ISR");
    let mut checked = 0;
    for (area, observed, bands) in areas("testdata_multiarea") {
        let isr = from_bands(observed, &bands).unwrap_or_else(|r| panic!("{area}: not reported: {r}"));
        for want in results.rows().filter(|r| r.text("area") == area) {
            assert_eq!(isr.observed(), want.number("observed"), "{}", want.at("observed"));
            assert_close(&want.at("expected"), isr.expected(), want.number("expected"), TOLERANCE);
            let method = match isr.method() {
                PoissonMethod::Exact => "Exact",
                PoissonMethod::Byar => "Byars",
            };
            assert_eq!(method, want.text("method"), "{}", want.at("method"));
            let statistic = want.text("statistic");
            for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
                let got = if let Some(per) = statistic.strip_prefix("indirectly standardised rate per ") {
                    let multiplier = Multiplier::new(per.parse().expect("a number")).expect("positive");
                    let reference_rate = isr.reference_rate().expect("from bands") * multiplier.value();
                    assert_close(&want.at("ref_rate"), reference_rate, want.number("ref_rate"), TOLERANCE);
                    isr.rate(level, multiplier).expect("from bands")
                } else if let Some(scale) = statistic.strip_prefix("indirectly standardised ratio x ") {
                    isr.ratio(level, Multiplier::new(scale.parse().expect("a number")).expect("positive"))
                } else {
                    panic!("{}: unexpected statistic {statistic}", want.at("statistic"))
                };
                assert_estimate(&want, got, lower, upper);
            }
            checked += 1;
        }
    }
    // Big (895 observed), small (91) and tiny (9, exact limits; one band has no count or
    // population), each per 100 000, per 1 000, × 1 and × 100.
    assert_eq!(checked, 12);
}

#[test]
fn a_band_with_no_local_population_expects_no_events() {
    // calculate_ISRatio(test_err2, ...): Area1's second band has a population of 0.
    let results = Table::xlsx("testdata_DSR_ISR.xlsx", "testresults_ISR");
    let mut checked = 0;
    for (area, observed, bands) in areas("testdata_err2") {
        let isr = from_bands(observed, &bands).unwrap_or_else(|r| panic!("{area}: not reported: {r}"));
        for want in results.rows().filter(|r| r.text("area") == area) {
            assert_close(&want.at("expected"), isr.expected(), want.number("expected"), TOLERANCE);
            let got = if want.text("statistic").contains("rate per 100000") {
                isr.rate(C95, Multiplier::PER_100_000).expect("from bands")
            } else {
                isr.ratio(C95, Multiplier::PERCENT)
            };
            assert_estimate(&want, got, "lower95_0cl", "upper95_0cl");
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn a_given_expected_count_gives_the_ratio_but_no_rate() {
    let isr = from_expected(895.0, 835.883_561_231_174_3).expect("valid");
    assert_eq!(isr.reference_rate(), None);
    assert_eq!(isr.rate(C95, Multiplier::PER_100_000), None);
    // The same as from the bands (testresults_ISR, testdata_big, ratio × 1).
    let e = isr.ratio(C95, Multiplier::ONE);
    assert_close("ratio", e.value, 1.070_723_293_902_027_5, 1e-12);
    assert_close("lower", e.lower, 1.001_714_771_255_398_7, 1e-12);
    assert_close("upper", e.upper, 1.143_233_287_249_895, 1e-12);
}

#[test]
fn no_observed_events_have_a_ratio_of_zero_with_an_exact_upper_limit() {
    let e = from_expected(0.0, 4.0).expect("valid").ratio(C95, Multiplier::ONE);
    assert_eq!((e.value, e.lower), (0.0, 0.0));
    assert_close("upper", e.upper, 40f64.ln() / 4.0, 1e-12);
}

#[test]
fn impossible_inputs_are_not_reported() {
    let band = |population, reference_events, reference_population| ReferenceBand {
        population,
        reference_events,
        reference_population,
    };
    assert_eq!(from_expected(-1.0, 3.0), Err(NotReported::NegativeObserved { observed: -1.0 }));
    assert_eq!(from_expected(3.0, 0.0), Err(NotReported::NoExpectedEvents { expected: 0.0 }));
    assert_eq!(from_expected(3.0, f64::NAN), Err(NotReported::NonFiniteInput));
    assert_eq!(from_bands(3.0, &[]), Err(NotReported::NoBands));
    assert_eq!(
        from_bands(3.0, &[band(10.0, 1.0, 100.0), band(-1.0, 1.0, 100.0)]),
        Err(NotReported::NegativePopulation { band: 1 })
    );
    assert_eq!(from_bands(3.0, &[band(10.0, -1.0, 100.0)]), Err(NotReported::NegativeReferenceEvents { band: 0 }));
    assert_eq!(
        from_bands(3.0, &[band(10.0, 1.0, 100.0), band(10.0, 0.0, 0.0)]),
        Err(NotReported::NonPositiveReferencePopulation { band: 1 })
    );
    assert_eq!(from_bands(3.0, &[band(0.0, 1.0, 100.0)]), Err(NotReported::NoExpectedEvents { expected: 0.0 }));
}

proptest! {
    #[test]
    fn limits_bracket_the_ratio_and_nest(observed in 0u32..5_000, expected in 0.1f64..5_000.0) {
        let isr = from_expected(f64::from(observed), expected).expect("valid");
        let (narrow, wide) = (isr.ratio(C95, Multiplier::PERCENT), isr.ratio(C998, Multiplier::PERCENT));
        prop_assert!(0.0 <= narrow.lower && narrow.lower <= narrow.value && narrow.value < narrow.upper, "{narrow:?}");
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper, "{narrow:?} {wide:?}");
    }

    #[test]
    fn local_rates_equal_to_the_reference_give_a_ratio_of_one(
        bands in prop::collection::vec((1u32..10_000, 1u32..1_000, 1_000u32..100_000), 1..20),
    ) {
        // An area whose observed count is exactly its expected count has a ratio of 1 and an ISR
        // equal to the reference rate.
        let bands: Vec<ReferenceBand> = bands.iter().map(|&(n, r, big_n)| ReferenceBand {
            population: f64::from(n), reference_events: f64::from(r), reference_population: f64::from(big_n),
        }).collect();
        let expected: f64 = bands.iter().map(|b| b.reference_events / b.reference_population * b.population).sum();
        let isr = from_bands(expected, &bands).expect("valid");
        prop_assert!((isr.ratio(C95, Multiplier::ONE).value - 1.0).abs() < 1e-12);
        let rate = isr.rate(C95, Multiplier::ONE).expect("from bands");
        prop_assert!((rate.value - isr.reference_rate().expect("from bands")).abs() <= 1e-12 * rate.value);
    }
}

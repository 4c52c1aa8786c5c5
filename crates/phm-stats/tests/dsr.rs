//! Directly standardised rates with Dobson's limits: PHEindicatormethods' `calculate_dsr` test
//! vectors (independent and non-independent events, ESP 2013 and a user-given standard), its
//! validity rules, and properties of any DSR.
//!
//! ESP 2013 comes from the repository's `reference/esp2013.csv`. The results in the workbook
//! hold full double precision, except the non-independent-events rows, which are written to
//! 8 decimal places; values are matched to 1e-9 relative, and those rows to 1e-10 relative
//! (5e-9 absolute on values of about 1 000 to 12 000).

mod common;

use common::{Table, assert_close, esp2013, group_by};
use phm_stats::dsr::{DsrBand, EventFrequency, NotReported, RecurrentEventsBand, dsr, dsr_recurrent};
use phm_stats::{ConfidenceLevel, Multiplier};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;

/// The expected results by area and statistic ("dsr per 100000", ...).
fn expected_row<'a>(results: &'a Table, area: &str, statistic_prefix: &str) -> Vec<common::Row<'a>> {
    results.rows().filter(|r| r.text("area") == area && r.text("statistic").starts_with(statistic_prefix)).collect()
}

/// Bands of one area of `testdata_multiarea`, with ESP 2013 in band order. A missing count
/// (R's NA) counts as 0, as `calculate_dsr` treats it.
fn multiarea_bands() -> Vec<(String, Vec<DsrBand>)> {
    let table = Table::xlsx("testdata_DSR_ISR.xlsx", "testdata_multiarea");
    let esp = esp2013();
    group_by(&table, "area")
        .into_iter()
        .map(|(area, rows)| {
            assert_eq!(rows.len(), esp.len(), "{area} has one row per ESP band");
            let bands = rows
                .iter()
                .zip(&esp)
                .map(|(r, &w)| DsrBand {
                    events: r.maybe_number("count").unwrap_or(0.0),
                    population: r.number("pop"),
                    standard_population: w,
                })
                .collect();
            (area, bands)
        })
        .collect()
}

#[test]
fn each_area_matches_calculate_dsr_per_10_000_and_per_100_000() {
    let results = Table::xlsx("testdata_DSR_ISR.xlsx", "testresults_DSR");
    let mut checked = 0;
    for (area, bands) in multiarea_bands() {
        for (multiplier, statistic) in [(10_000.0, "dsr per 10000"), (100_000.0, "dsr per 100000")] {
            let rows = results
                .rows()
                .filter(|r| {
                    r.text("area") == area && r.maybe_number("value").is_some() && r.text("statistic") == statistic
                })
                .collect::<Vec<_>>();
            let result = dsr(&bands, Multiplier::new(multiplier).expect("positive"));
            if rows.is_empty() {
                // testdata_tiny: 9 events, below the minimum of 10.
                assert_eq!(result, Err(NotReported::TotalCountTooSmall { total_count: 9.0 }), "{area}");
                continue;
            }
            let want = &rows[0];
            let d = result.unwrap_or_else(|r| panic!("{area}: not reported: {r}"));
            assert_eq!(d.total_count(), want.number("total_count"), "{}", want.at("total_count"));
            assert_eq!(d.total_population(), want.number("total_pop"), "{}", want.at("total_pop"));
            assert_close(&want.at("value"), d.value(), want.number("value"), TOLERANCE);
            for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
                let e = d.estimate(level);
                assert_close(&want.at(lower), e.lower, want.number(lower), TOLERANCE);
                assert_close(&want.at(upper), e.upper, want.number(upper), TOLERANCE);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "big and small, per 10 000 and per 100 000");
}

#[test]
fn a_user_given_standard_population_gives_the_1976_result() {
    // calculate_dsr(test_DSR_1976, count, pop, stdpop = esp1976, type = "standard"), 95% only:
    // the R test compares total count, population, value and the 95% limits of this row (its
    // 99.8% columns in the workbook are not produced by this call and are not used).
    let table = Table::xlsx("testdata_DSR_ISR.xlsx", "testdata_1976");
    let bands: Vec<DsrBand> = table
        .rows()
        .map(|r| DsrBand {
            events: r.number("count"),
            population: r.number("pop"),
            standard_population: r.number("esp1976"),
        })
        .collect();
    let results = Table::xlsx("testdata_DSR_ISR.xlsx", "testresults_DSR");
    for want in expected_row(&results, "testdata_1976", "dsr per") {
        let multiplier = if want.text("statistic") == "dsr per 10000" { 10_000.0 } else { 100_000.0 };
        let d = dsr(&bands, Multiplier::new(multiplier).expect("positive")).expect("reported");
        assert_eq!(d.total_count(), want.number("total_count"));
        assert_eq!(d.total_population(), want.number("total_pop"));
        let e = d.estimate(C95);
        assert_close(&want.at("value"), e.value, want.number("value"), TOLERANCE);
        assert_close(&want.at("lower95_0cl"), e.lower, want.number("lower95_0cl"), TOLERANCE);
        assert_close(&want.at("upper95_0cl"), e.upper, want.number("upper95_0cl"), TOLERANCE);
    }
}

#[test]
fn non_independent_events_widen_the_limits_as_calculate_dsr_does() {
    // testdata_nonindepe gives, per band, the persons with 1, 2, 3 and 4 events (f1..f4). As in
    // the R package's test data, frequency 4 is not used for the dummy, small and tiny areas,
    // and a missing number of persons counts as 0.
    let table = Table::xlsx("testdata_DSR_ISR.xlsx", "testdata_nonindepe");
    let results = Table::xlsx("testdata_DSR_ISR.xlsx", "testresults_DSR");
    let esp = esp2013();
    let mut checked = 0;
    for (area, rows) in group_by(&table, "area") {
        let frequencies: &[(&str, f64)] = if area == "testdata_nonind_big" {
            &[("f1", 1.0), ("f2", 2.0), ("f3", 3.0), ("f4", 4.0)]
        } else {
            &[("f1", 1.0), ("f2", 2.0), ("f3", 3.0)]
        };
        let persons: Vec<Vec<EventFrequency>> = rows
            .iter()
            .map(|r| {
                frequencies
                    .iter()
                    .map(|&(column, frequency)| EventFrequency {
                        frequency,
                        persons: r.maybe_number(column).unwrap_or(0.0),
                    })
                    .collect()
            })
            .collect();
        let bands: Vec<RecurrentEventsBand<'_>> = rows
            .iter()
            .zip(&persons)
            .zip(&esp)
            .map(|((r, p), &w)| RecurrentEventsBand {
                persons_by_frequency: p,
                population: r.number("pop"),
                standard_population: w,
            })
            .collect();
        let want = expected_row(&results, &area, "dsr");
        assert_eq!(want.len(), 1, "one result row for {area}");
        let want = &want[0];
        let result = dsr_recurrent(&bands, Multiplier::PER_100_000);
        let Some(value) = want.maybe_number("value") else {
            assert_eq!(
                result,
                Err(NotReported::TotalCountTooSmall { total_count: want.number("total_count") }),
                "{area}"
            );
            continue;
        };
        let d = result.unwrap_or_else(|r| panic!("{area}: not reported: {r}"));
        assert!(!d.independent_events());
        assert_eq!(d.total_count(), want.number("total_count"), "{}", want.at("total_count"));
        // Written to 8 decimal places.
        let rounded = 1e-10;
        assert_close(&want.at("value"), d.value(), value, rounded);
        for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
            let e = d.estimate(level);
            assert_close(&want.at(lower), e.lower, want.number(lower), rounded);
            assert_close(&want.at(upper), e.upper, want.number(upper), rounded);
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "big, dummy and small (tiny is not reported)");
}

#[test]
fn recurrent_events_that_are_all_single_give_the_independent_dsr() {
    let (_, bands) = multiarea_bands().into_iter().next().expect("an area");
    let singles: Vec<[EventFrequency; 1]> =
        bands.iter().map(|b| [EventFrequency { frequency: 1.0, persons: b.events }]).collect();
    let recurrent: Vec<RecurrentEventsBand<'_>> = bands
        .iter()
        .zip(&singles)
        .map(|(b, s)| RecurrentEventsBand {
            persons_by_frequency: s,
            population: b.population,
            standard_population: b.standard_population,
        })
        .collect();
    let a = dsr(&bands, Multiplier::PER_100_000).expect("reported").estimate(C95);
    let b = dsr_recurrent(&recurrent, Multiplier::PER_100_000).expect("reported").estimate(C95);
    assert_close("value", b.value, a.value, 1e-12);
    assert_close("lower", b.lower, a.lower, 1e-12);
    assert_close("upper", b.upper, a.upper, 1e-12);
}

#[test]
fn invalid_bands_are_not_reported_with_the_first_offending_band() {
    // calculate_dsr's error cases: a negative count (err1), a population of 0 (err2, Area1) or
    // below 0 (err3), and a negative standard population (err4). Each is in the sixth or
    // second band of the workbook.
    let read = |sheet: &str, weight_column: Option<&str>| -> Vec<DsrBand> {
        let table = Table::xlsx("testdata_DSR_ISR.xlsx", sheet);
        let esp = esp2013();
        table
            .rows()
            .take(19)
            .zip(&esp)
            .map(|(r, &w)| DsrBand {
                events: r.number("count"),
                population: r.number("pop"),
                standard_population: weight_column.map_or(w, |c| r.number(c)),
            })
            .collect()
    };
    let m = Multiplier::PER_100_000;
    assert_eq!(dsr(&read("testdata_err1", Some("stdpop")), m), Err(NotReported::NegativeEvents { band: 5 }));
    assert_eq!(dsr(&read("testdata_err2", None), m), Err(NotReported::NonPositivePopulation { band: 1 }));
    assert_eq!(dsr(&read("testdata_err3", Some("stdpop")), m), Err(NotReported::NonPositivePopulation { band: 1 }));
    assert_eq!(
        dsr(&read("testdata_err4", Some("stdpop")), m),
        Err(NotReported::NegativeStandardPopulation { band: 5 })
    );
    assert_eq!(dsr(&[], m), Err(NotReported::NoBands));
    let band = |events, population, standard_population| DsrBand { events, population, standard_population };
    assert_eq!(dsr(&[band(20.0, 100.0, 0.0)], m), Err(NotReported::ZeroStandardPopulation));
    assert_eq!(dsr(&[band(20.0, f64::NAN, 1.0)], m), Err(NotReported::NonFiniteInput { band: 0 }));
    // A band with no population is never silently dropped, even with no events.
    assert_eq!(
        dsr(&[band(20.0, 100.0, 1.0), band(0.0, 0.0, 1.0)], m),
        Err(NotReported::NonPositivePopulation { band: 1 })
    );
}

#[test]
fn the_minimum_count_is_ten_events() {
    let bands = |events: f64| [DsrBand { events, population: 1_000.0, standard_population: 1.0 }];
    assert_eq!(dsr(&bands(9.0), Multiplier::PER_100_000), Err(NotReported::TotalCountTooSmall { total_count: 9.0 }));
    assert!(dsr(&bands(10.0), Multiplier::PER_100_000).is_ok());
}

#[test]
fn a_single_band_dsr_is_the_crude_rate() {
    let d = dsr(&[DsrBand { events: 50.0, population: 20_000.0, standard_population: 7.0 }], Multiplier::PER_100_000)
        .expect("reported");
    assert_close("value", d.value(), 250.0, 1e-12);
    // V = O / n², so √(V/O) = 1/n and the limits are Byar's limits of O divided by n.
    let rate = phm_stats::rate::rate(50.0, 20_000.0, Multiplier::PER_100_000).expect("valid").limits(C95);
    let limits = d.limits(C95);
    assert_close("lower", limits.lower, rate.lower, 1e-12);
    assert_close("upper", limits.upper, rate.upper, 1e-12);
}

proptest! {
    #[test]
    fn limits_bracket_the_value_and_nest(
        bands in prop::collection::vec((0u32..500, 1u32..50_000, 0u32..8_000), 1..25),
    ) {
        let bands: Vec<DsrBand> = bands
            .into_iter()
            .map(|(o, n, w)| DsrBand { events: f64::from(o), population: f64::from(n), standard_population: f64::from(w) })
            .collect();
        let Ok(d) = dsr(&bands, Multiplier::PER_100_000) else {
            return Ok(());
        };
        let (narrow, wide) = (d.estimate(C95), d.estimate(C998));
        prop_assert!(narrow.lower <= narrow.value && narrow.value <= narrow.upper, "{narrow:?}");
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper, "{narrow:?} {wide:?}");
    }

    #[test]
    fn scaling_the_standard_population_changes_nothing(
        bands in prop::collection::vec((10u32..500, 100u32..50_000, 1u32..8_000), 1..25), k in 0.01f64..100.0,
    ) {
        let make = |k: f64| -> Vec<DsrBand> {
            bands.iter().map(|&(o, n, w)| DsrBand {
                events: f64::from(o), population: f64::from(n), standard_population: f64::from(w) * k,
            }).collect()
        };
        let (a, b) = (dsr(&make(1.0), Multiplier::ONE).expect("ok"), dsr(&make(k), Multiplier::ONE).expect("ok"));
        prop_assert!((a.value() - b.value()).abs() <= 1e-9 * a.value().abs());
        prop_assert!((a.limits(C95).upper - b.limits(C95).upper).abs() <= 1e-9 * a.limits(C95).upper.abs());
    }
}

//! Means with Student's t limits: PHEindicatormethods' `phe_mean` test vectors (by area and for
//! all values together), from raw values and from a summary, the validity rules, and properties.
//!
//! The workbook holds full double precision, so values are matched to 1e-9 relative.

mod common;

use common::{Table, assert_close, group_by};
use phm_stats::ConfidenceLevel;
use phm_stats::mean::{NotReported, mean, mean_from_summary};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;

#[test]
fn each_area_and_all_values_match_phe_mean() {
    let values = Table::xlsx("testdata_Mean.xlsx", "testdata_Mean");
    let results = Table::xlsx("testdata_Mean.xlsx", "testdata_Mean_results");
    let mut groups: Vec<(String, Vec<f64>)> = group_by(&values, "area")
        .into_iter()
        .map(|(area, rows)| (area, rows.iter().map(|r| r.number("values")).collect()))
        .collect();
    let all = groups.iter().flat_map(|(_, v)| v.clone()).collect();
    groups.push(("No grouping".to_string(), all));
    let mut checked = 0;
    for (area, values) in &groups {
        let want =
            results.rows().find(|r| r.text("area") == *area).unwrap_or_else(|| panic!("no result row for {area}"));
        let m = mean(values).unwrap_or_else(|r| panic!("{area}: not reported: {r}"));
        assert_close(&want.at("value_sum"), m.sum(), want.number("value_sum"), TOLERANCE);
        assert_eq!(m.count(), want.number("value_count"), "{}", want.at("value_count"));
        assert_close(&want.at("stdev"), m.standard_deviation(), want.number("stdev"), TOLERANCE);
        assert_close(&want.at("value"), m.value(), want.number("value"), TOLERANCE);
        // The same from the summary the R function computes first.
        let from_summary = mean_from_summary(m.sum(), m.count(), m.standard_deviation()).expect("valid");
        for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
            for e in [m.estimate(level), from_summary.estimate(level)] {
                assert_close(&want.at(lower), e.lower, want.number(lower), TOLERANCE);
                assert_close(&want.at(upper), e.upper, want.number(upper), TOLERANCE);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn two_values_use_one_degree_of_freedom() {
    // Values 1 and 3: mean 2, s = √2, t_{0.975,1} = 12.706 204 736; half-width t s / √2 = t.
    let e = mean(&[1.0, 3.0]).expect("valid").estimate(C95);
    assert_close("lower", e.lower, 2.0 - 12.706_204_736_174_7, 1e-9);
    assert_close("upper", e.upper, 2.0 + 12.706_204_736_174_7, 1e-9);
}

#[test]
fn fewer_than_two_values_or_impossible_summaries_are_not_reported() {
    assert_eq!(mean(&[]), Err(NotReported::TooFewValues { count: 0.0 }));
    assert_eq!(mean(&[4.0]), Err(NotReported::TooFewValues { count: 1.0 }));
    assert_eq!(mean(&[4.0, f64::NAN]), Err(NotReported::NonFiniteInput));
    assert_eq!(
        mean_from_summary(10.0, 5.0, -1.0),
        Err(NotReported::NegativeStandardDeviation { standard_deviation: -1.0 })
    );
    assert_eq!(mean_from_summary(10.0, f64::INFINITY, 1.0), Err(NotReported::NonFiniteInput));
}

proptest! {
    #[test]
    fn limits_are_symmetric_about_the_mean_and_nest(values in prop::collection::vec(-1e6f64..1e6, 2..200)) {
        let m = mean(&values).expect("valid");
        let (narrow, wide) = (m.estimate(C95), m.estimate(C998));
        prop_assert!(((narrow.value - narrow.lower) - (narrow.upper - narrow.value)).abs() <= 1e-9 * (1.0 + narrow.upper.abs()));
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper);
    }

    #[test]
    fn shifting_every_value_shifts_the_mean_and_its_limits(values in prop::collection::vec(-1e3f64..1e3, 2..50), shift in -1e3f64..1e3) {
        let a = mean(&values).expect("valid").limits(C95);
        let moved: Vec<f64> = values.iter().map(|v| v + shift).collect();
        let b = mean(&moved).expect("valid").limits(C95);
        prop_assert!((b.lower - a.lower - shift).abs() < 1e-6 && (b.upper - a.upper - shift).abs() < 1e-6);
    }
}

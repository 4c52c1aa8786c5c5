//! Crude rates and counts with Poisson limits: PHEindicatormethods' `phe_rate` and `byars_*`
//! test vectors, the exact/Byar switch at 10, the validity rules, and properties of any rate.
//!
//! The workbooks hold full double precision, so values are matched to 1e-9 relative.

mod common;

use common::{Table, assert_close, group_by};
use phm_stats::poisson::{self, PoissonMethod};
use phm_stats::rate::{NotReported, count, rate};
use phm_stats::{ConfidenceLevel, Multiplier};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;

fn level(text: &str) -> ConfidenceLevel {
    match text {
        "95%" => C95,
        "99.8%" => C998,
        other => panic!("unexpected confidence level {other}"),
    }
}

#[test]
fn each_area_matches_phe_rate_at_95_and_99_8_percent() {
    let table = Table::xlsx("testdata_Rate.xlsx", "testdata_Rate");
    let mut checked = 0;
    for row in table.rows() {
        let (Some(x), Some(n)) = (row.maybe_number("Numerator"), row.maybe_number("Denominator")) else {
            assert_eq!(row.maybe_number("value"), None, "{}", row.at("value"));
            continue;
        };
        let multiplier = Multiplier::new(row.number("multiplier")).expect("fixture multipliers are positive");
        let r = rate(x, n, multiplier).unwrap_or_else(|e| panic!("{}: not reported: {e}", row.at("Numerator")));
        let method = match r.method() {
            PoissonMethod::Exact => "Exact",
            PoissonMethod::Byar => "Byars",
        };
        assert_eq!(method, row.text("method"), "{}", row.at("method"));
        assert_close(&row.at("value"), r.value(), row.number("value"), TOLERANCE);
        for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
            let e = r.estimate(level);
            assert_close(&row.at(lower), e.lower, row.number(lower), TOLERANCE);
            assert_close(&row.at(upper), e.upper, row.number(upper), TOLERANCE);
        }
        checked += 1;
    }
    // Includes counts of 1 and 5 (exact), 20 and more (Byar's), and 250 events in 220 people.
    assert_eq!(checked, 17);
}

#[test]
fn grouped_areas_sum_counts_and_denominators_first() {
    let inputs = Table::xlsx("testdata_Rate.xlsx", "testdata_Rate");
    let expected = Table::xlsx("testdata_Rate.xlsx", "testdata_Rate_g");
    let groups = group_by(&inputs, "Area");
    let mut checked = 0;
    for want in expected.rows() {
        let area = want.text("Area");
        let rows = &groups.iter().find(|(a, _)| *a == area).unwrap_or_else(|| panic!("no input rows for {area}")).1;
        let sum = |column: &str| rows.iter().map(|r| r.maybe_number(column)).sum::<Option<f64>>();
        let (Some(x), Some(n)) = (sum("Numerator"), sum("Denominator")) else {
            assert_eq!(want.maybe_number("value"), None, "{}", want.at("value"));
            continue;
        };
        let e = rate(x, n, Multiplier::PER_100_000).expect("valid area").estimate(C95);
        assert_close(&want.at("value"), e.value, want.number("value"), TOLERANCE);
        assert_close(&want.at("lowercl"), e.lower, want.number("lowercl"), TOLERANCE);
        assert_close(&want.at("uppercl"), e.upper, want.number("uppercl"), TOLERANCE);
        checked += 1;
    }
    assert_eq!(checked, 9);
}

#[test]
fn byars_approximation_matches_the_byars_test_vectors() {
    // The raw approximation at any count, as `byars_lower`/`byars_upper`: at a count of 1 it is
    // not the exact limit, and at 99.8% its lower limit is below zero, which R reports as NA.
    let table = Table::xlsx("testdata_Byars_Wilson.xlsx", "testdata_B_W");
    let mut checked = 0;
    for row in table.rows().filter(|r| r.text("method") == "Byars") {
        let (x, level) = (row.number("x"), level(&row.text("confidence")));
        match (poisson::byar_lower(x, level), row.maybe_number("lowercl")) {
            (None, None) => {}
            (Some(got), Some(want)) => assert_close(&row.at("lowercl"), got, want, TOLERANCE),
            (got, want) => panic!("{}: got {got:?}, expected {want:?}", row.at("lowercl")),
        }
        let upper = poisson::byar_upper(x, level).expect("a count");
        assert_close(&row.at("uppercl"), upper, row.number("uppercl"), TOLERANCE);
        checked += 1;
    }
    assert_eq!(checked, 7);
}

#[test]
fn counts_below_ten_get_exact_limits_and_from_ten_byars() {
    for x in [0.0, 1.0, 9.0, 9.5] {
        let c = count(x).expect("a count");
        assert_eq!(c.method(), PoissonMethod::Exact, "{x}");
        assert_eq!(c.limits(C95).lower, poisson::exact_lower(x, C95).expect("count"));
        assert_eq!(c.limits(C95).upper, poisson::exact_upper(x, C95).expect("count"));
    }
    for x in [10.0, 11.0, 1e6] {
        let c = count(x).expect("a count");
        assert_eq!(c.method(), PoissonMethod::Byar, "{x}");
        assert_eq!(Some(c.limits(C998).lower), poisson::byar_lower(x, C998));
        assert_eq!(Some(c.limits(C998).upper), poisson::byar_upper(x, C998));
    }
}

#[test]
fn no_events_have_a_rate_of_zero_and_an_upper_limit_of_minus_log_half_alpha() {
    // χ²_{0.975}(2)/2 = −ln(0.025); R: qchisq(0.975, 2)/2 = 3.688879.
    let r = rate(0.0, 2_000.0, Multiplier::PER_100_000).expect("valid").estimate(C95);
    assert_eq!((r.value, r.lower), (0.0, 0.0));
    assert_close("upper limit of 0 in 2000", r.upper, 40f64.ln() / 2_000.0 * 1e5, 1e-12);
    let at_998 = count(0.0).expect("count").limits(C998);
    assert_close("upper 99.8% limit of 0", at_998.upper, 1000f64.ln(), 1e-12);
}

#[test]
fn impossible_rates_are_not_reported() {
    let m = Multiplier::PER_100_000;
    assert_eq!(rate(-1.0, 10.0, m), Err(NotReported::NegativeCount { count: -1.0 }));
    assert_eq!(rate(1.0, 0.0, m), Err(NotReported::NonPositiveDenominator { denominator: 0.0 }));
    assert_eq!(rate(f64::NAN, 10.0, m), Err(NotReported::NonFiniteInput));
    assert_eq!(rate(1.0, f64::INFINITY, m), Err(NotReported::NonFiniteInput));
    assert_eq!(count(-0.5), Err(NotReported::NegativeCount { count: -0.5 }));
    // More events than people is a rate, not an error.
    assert!(rate(250.0, 220.0, m).is_ok());
}

proptest! {
    #[test]
    fn limits_bracket_the_value(x in 0u32..100_000, n in 1.0f64..1e7) {
        let r = rate(f64::from(x), n, Multiplier::PER_100_000).expect("valid");
        for level in [C95, C998] {
            let e = r.estimate(level);
            prop_assert!(0.0 <= e.lower && e.lower <= e.value && e.value < e.upper, "{x}/{n}: {e:?}");
        }
    }

    #[test]
    fn the_99_8_percent_interval_contains_the_95_percent_one(x in 0u32..100_000) {
        let c = count(f64::from(x)).expect("count");
        let (narrow, wide) = (c.limits(C95), c.limits(C998));
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper, "{x}: {narrow:?} {wide:?}");
    }

    #[test]
    fn limits_rise_with_the_count_including_across_the_switch_at_ten(x in 0u32..2_000) {
        let (a, b) = (count(f64::from(x)).expect("count"), count(f64::from(x + 1)).expect("count"));
        for level in [C95, C998] {
            let (la, lb) = (a.limits(level), b.limits(level));
            prop_assert!(la.lower < lb.lower || (la.lower == 0.0 && lb.lower >= 0.0), "{x}: {la:?} then {lb:?}");
            prop_assert!(la.upper < lb.upper, "{x}: {la:?} then {lb:?}");
        }
    }
}

//! Proportions with Wilson score limits: PHEindicatormethods' `phe_proportion` and `wilson_*`
//! test vectors, the validity rules, and properties of any proportion.
//!
//! The workbooks hold full double precision, so values are matched to 1e-9 relative.

mod common;

use common::{Table, assert_close, group_by};
use phm_stats::proportion::{NotReported, proportion, wilson};
use phm_stats::{ConfidenceLevel, Multiplier};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;

#[test]
fn each_area_matches_phe_proportion_at_95_and_99_8_percent() {
    let table = Table::xlsx("testdata_Proportion.xlsx", "testdata_Prop");
    let mut checked = 0;
    for row in table.rows() {
        let (Some(x), Some(n)) = (row.maybe_number("Numerator"), row.maybe_number("Denominator")) else {
            // A missing numerator or denominator: R reports nothing, and so does the fixture.
            assert_eq!(row.maybe_number("value"), None, "{}", row.at("value"));
            continue;
        };
        let multiplier = Multiplier::new(row.number("multiplier")).expect("fixture multipliers are positive");
        let p = proportion(x, n, multiplier).unwrap_or_else(|r| panic!("{}: not reported: {r}", row.at("Numerator")));
        assert_close(&row.at("value"), p.value(), row.number("value"), TOLERANCE);
        for (level, lower, upper) in [(C95, "lower95_0cl", "upper95_0cl"), (C998, "lower99_8cl", "upper99_8cl")] {
            let e = p.estimate(level);
            assert_close(&row.at(lower), e.lower, row.number(lower), TOLERANCE);
            assert_close(&row.at(upper), e.upper, row.number(upper), TOLERANCE);
        }
        checked += 1;
    }
    assert_eq!(checked, 16, "areas with data in testdata_Prop");
}

#[test]
fn grouped_areas_sum_numerators_and_denominators_first() {
    // phe_proportion on data grouped by area sums each area's two rows before dividing.
    let inputs = Table::xlsx("testdata_Proportion.xlsx", "testdata_Prop");
    let expected = Table::xlsx("testdata_Proportion.xlsx", "testdata_Prop_g");
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
        let e = proportion(x, n, Multiplier::ONE).expect("valid area").estimate(C95);
        assert_close(&want.at("value"), e.value, want.number("value"), TOLERANCE);
        assert_close(&want.at("lowercl"), e.lower, want.number("lowercl"), TOLERANCE);
        assert_close(&want.at("uppercl"), e.upper, want.number("uppercl"), TOLERANCE);
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn wilson_limits_match_the_wilson_test_vectors() {
    let table = Table::xlsx("testdata_Byars_Wilson.xlsx", "testdata_B_W");
    let mut checked = 0;
    for row in table.rows().filter(|r| r.text("method") == "Wilson") {
        let level = match row.text("confidence").as_str() {
            "95%" => C95,
            "99.8%" => C998,
            other => panic!("{}: unexpected level {other}", row.at("confidence")),
        };
        // Includes a fractional numerator, 0.445 of 1.
        let limits = wilson(row.number("x"), row.number("n"), level).expect("valid proportion");
        assert_close(&row.at("lowercl"), limits.lower, row.number("lowercl"), TOLERANCE);
        assert_close(&row.at("uppercl"), limits.upper, row.number("uppercl"), TOLERANCE);
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn impossible_proportions_are_not_reported() {
    let pct = Multiplier::PERCENT;
    assert_eq!(proportion(-1.0, 10.0, pct), Err(NotReported::NegativeNumerator { numerator: -1.0 }));
    assert_eq!(proportion(1.0, 0.0, pct), Err(NotReported::NonPositiveDenominator { denominator: 0.0 }));
    assert_eq!(proportion(0.0, -5.0, pct), Err(NotReported::NonPositiveDenominator { denominator: -5.0 }));
    assert_eq!(
        proportion(11.0, 10.0, pct),
        Err(NotReported::NumeratorExceedsDenominator { numerator: 11.0, denominator: 10.0 })
    );
    assert_eq!(proportion(f64::NAN, 10.0, pct), Err(NotReported::NonFiniteInput));
    assert_eq!(proportion(1.0, f64::INFINITY, pct), Err(NotReported::NonFiniteInput));
    assert_eq!(wilson(3.0, 2.0, C95), None);
}

#[test]
fn none_of_many_has_a_lower_limit_of_zero_and_all_of_them_an_upper_limit_of_the_whole() {
    let none = proportion(0.0, 40.0, Multiplier::PERCENT).expect("valid").estimate(C95);
    assert_eq!((none.value, none.lower), (0.0, 0.0));
    assert!(none.upper > 0.0 && none.upper < 100.0);
    let all = proportion(40.0, 40.0, Multiplier::PERCENT).expect("valid").estimate(C95);
    assert_eq!((all.value, all.upper), (100.0, 100.0));
    assert!(all.lower > 0.0 && all.lower < 100.0);
}

proptest! {
    #[test]
    fn limits_bracket_the_value_within_zero_and_the_multiplier(
        n in 1u32..1_000_000, share in 0.0f64..=1.0, multiplier in prop::sample::select(vec![1.0, 100.0, 1000.0]),
    ) {
        let n = f64::from(n);
        let x = (share * n).round();
        let m = Multiplier::new(multiplier).expect("positive");
        let p = proportion(x, n, m).expect("0 ≤ x ≤ n");
        for level in [C95, C998] {
            let e = p.estimate(level);
            prop_assert!(0.0 <= e.lower && e.lower <= e.value && e.value <= e.upper && e.upper <= multiplier,
                "{x}/{n}: {e:?}");
        }
    }

    #[test]
    fn the_99_8_percent_interval_contains_the_95_percent_one(n in 1u32..100_000, share in 0.0f64..=1.0) {
        let n = f64::from(n);
        let p = proportion((share * n).round(), n, Multiplier::ONE).expect("valid");
        let (narrow, wide) = (p.limits(C95), p.limits(C998));
        prop_assert!(wide.lower <= narrow.lower && narrow.upper <= wide.upper, "{narrow:?} {wide:?}");
    }

    #[test]
    fn limits_rise_with_the_numerator(n in 2u32..10_000, x in 0u32..10_000) {
        let (n, x) = (f64::from(n), f64::from(x));
        prop_assume!(x < n);
        let a = proportion(x, n, Multiplier::ONE).expect("valid").limits(C95);
        let b = proportion(x + 1.0, n, Multiplier::ONE).expect("valid").limits(C95);
        prop_assert!(a.lower <= b.lower && a.upper <= b.upper, "{a:?} then {b:?}");
    }

    #[test]
    fn the_interval_narrows_as_the_sample_grows(share in 0.01f64..0.99, n in 10u32..10_000) {
        let n = f64::from(n);
        let small = proportion(share * n, n, Multiplier::ONE).expect("valid").limits(C95);
        let large = proportion(share * n * 4.0, n * 4.0, Multiplier::ONE).expect("valid").limits(C95);
        prop_assert!(large.upper - large.lower < small.upper - small.lower);
    }
}

//! Comparing an area with a comparator as Fingertips does. The worked examples are the values in
//! Fingertips' own comparer tests (`ukhsa-collaboration/fingertips-open`,
//! `PholioVisualisationWS/AnalysisTest`): real indicator values for PCTs against England, with
//! the significance Fingertips assigns at 95% and 99.8%.

use phm_stats::compare::{
    Comparison, NotCompared, Polarity, Significance, compare_proportion, compare_rate, compare_with_interval,
    significance_with_interval,
};
use phm_stats::{ConfidenceLevel, Estimate, Limits, Multiplier};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;

fn estimate(value: f64, lower: f64, upper: f64) -> Estimate {
    Estimate::new(value, Limits { lower, upper }, C95)
}

#[test]
fn the_comparator_inside_the_interval_is_similar_whatever_the_polarity() {
    // SingleOverlappingCIsForOneCILevelComparatorTest: TestSameExactly, TestSame.
    for polarity in [Polarity::HigherIsBetter, Polarity::LowerIsBetter, Polarity::NoJudgement] {
        assert_eq!(compare_with_interval(Some(&estimate(11.0, 10.0, 12.0)), Some(11.0), polarity), Comparison::Similar);
        assert_eq!(compare_with_interval(Some(&estimate(3.05, 2.7, 3.1)), Some(3.0), polarity), Comparison::Similar);
    }
}

#[test]
fn the_interval_ends_count_as_inside() {
    assert_eq!(
        compare_with_interval(Some(&estimate(3.3, 3.0, 3.5)), Some(3.0), Polarity::NoJudgement),
        Comparison::Similar
    );
    assert_eq!(
        compare_with_interval(Some(&estimate(2.5, 2.2, 3.0)), Some(3.0), Polarity::NoJudgement),
        Comparison::Similar
    );
}

#[test]
fn an_interval_above_the_comparator_is_better_worse_or_higher_by_polarity() {
    // TestHigher: value 3.3 (3.2 to 3.5) against 3.0.
    let area = estimate(3.3, 3.2, 3.5);
    assert_eq!(significance_with_interval(Some(&area), Some(3.0)), Ok(Significance::Higher));
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::LowerIsBetter), Comparison::Worse);
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::HigherIsBetter), Comparison::Better);
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::NoJudgement), Comparison::Higher);
}

#[test]
fn an_interval_below_the_comparator_is_better_worse_or_lower_by_polarity() {
    // TestLower: value 2.5 (2.2 to 2.8) against 3.0.
    let area = estimate(2.5, 2.2, 2.8);
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::LowerIsBetter), Comparison::Better);
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::HigherIsBetter), Comparison::Worse);
    assert_eq!(compare_with_interval(Some(&area), Some(3.0), Polarity::NoJudgement), Comparison::Lower);
}

#[test]
fn missing_values_or_limits_are_not_compared_with_the_reason() {
    let area = estimate(2.5, 2.2, 2.8);
    let p = Polarity::HigherIsBetter;
    assert_eq!(compare_with_interval(None, Some(3.0), p), Comparison::NotCompared(NotCompared::AreaValueMissing));
    assert_eq!(
        compare_with_interval(Some(&area), None, p),
        Comparison::NotCompared(NotCompared::ComparatorValueMissing)
    );
    assert_eq!(compare_with_interval(None, None, p), Comparison::NotCompared(NotCompared::AreaValueMissing));
    assert_eq!(
        compare_with_interval(Some(&area), Some(f64::NAN), p),
        Comparison::NotCompared(NotCompared::ComparatorValueMissing)
    );
    // TestNoCIsOnLocalDataReturnNoneSignificance.
    assert_eq!(
        compare_with_interval(Some(&estimate(4.0, f64::NAN, 5.0)), Some(3.0), p),
        Comparison::NotCompared(NotCompared::AreaLimitsMissing)
    );
}

#[test]
fn limits_the_wrong_way_round_are_not_compared_with_the_reason() {
    // A lower limit above the upper is not an interval: whether 3.0 is "inside" 3.5 to 2.2
    // has no answer, so no colour is given.
    let swapped = Estimate { value: 2.5, lower: 3.5, upper: 2.2, confidence: C95 };
    for comparator in [3.0, 1.0, 9.0] {
        assert_eq!(significance_with_interval(Some(&swapped), Some(comparator)), Err(NotCompared::AreaLimitsReversed));
    }
    assert_eq!(
        compare_with_interval(Some(&swapped), Some(3.0), Polarity::HigherIsBetter).to_string(),
        "not compared: the area's lower confidence limit is above its upper limit"
    );
    // Equal limits are an interval of one point.
    assert_eq!(
        significance_with_interval(Some(&Estimate { value: 2.5, lower: 2.5, upper: 2.5, confidence: C95 }), Some(2.5)),
        Ok(Significance::Similar)
    );
}

#[test]
fn proportions_against_control_limits_around_england() {
    // SpcForProportionsComparerTest: indicator 1 (2010), England 8.961%, lower is better.
    let england = Some(8.961_108_687_627_933);
    let check = |value: f64, denominator: f64, at_95: Comparison, at_99_8: Comparison| {
        for (level, want) in [(C95, at_95), (C998, at_99_8)] {
            let got = compare_proportion(
                Some(value),
                Some(denominator),
                england,
                Multiplier::PERCENT,
                level,
                Polarity::LowerIsBetter,
            );
            assert_eq!(got, want, "{value}% of {denominator} at {level:?}");
        }
    };
    check(7.706_576_728_499_156, 5930.0, Comparison::Better, Comparison::Better); // 5PP
    check(9.898_812_142_542_896, 2273.0, Comparison::Similar, Comparison::Similar); // 5PN
    check(12.474_645_030_425_965, 1972.0, Comparison::Worse, Comparison::Worse); // 5PR

    // Indicator 514 (2010), England 12.838%: significant at 95% only.
    let england = Some(12.837_954_689_571_7);
    for (value, denominator, at_95) in
        [(10.978_342_046_303_2, 1339.0, Comparison::Better), (15.906_562_847_608_5, 899.0, Comparison::Worse)]
    {
        let pct = Multiplier::PERCENT;
        assert_eq!(
            compare_proportion(Some(value), Some(denominator), england, pct, C95, Polarity::LowerIsBetter),
            at_95
        );
        assert_eq!(
            compare_proportion(Some(value), Some(denominator), england, pct, C998, Polarity::LowerIsBetter),
            Comparison::Similar
        );
    }
}

#[test]
fn proportions_without_a_valid_denominator_are_not_compared() {
    // SpcForProportionsComparerTest.TestDenominatorInvalid.
    for denominator in [Some(0.0), Some(-1.0), None] {
        assert_eq!(
            compare_proportion(Some(10.0), denominator, Some(10.0), Multiplier::PERCENT, C95, Polarity::LowerIsBetter),
            Comparison::NotCompared(NotCompared::InvalidDenominator)
        );
    }
    assert_eq!(
        compare_proportion(Some(10.0), Some(100.0), Some(120.0), Multiplier::PERCENT, C95, Polarity::LowerIsBetter),
        Comparison::NotCompared(NotCompared::ComparatorOutOfRange)
    );
}

#[test]
fn rates_against_poisson_control_limits_around_england() {
    // SpcForDsrComparerTest: MRSA per 100 000 population (indicator 501, 2011), England 2.1327,
    // lower is better; none is significant at 99.8%.
    let england = Some(2.132_708_657_734_625);
    let per = Multiplier::PER_100_000;
    let cases = [
        (1.135_843_655_988_654_4, 616_282.0, Comparison::Better), // 5PP Cambridgeshire
        (2.657_913_272_289_925, 601_976.0, Comparison::Similar),  // 5PT Suffolk
        (4.151_515_669_529_584_5, 409_489.0, Comparison::Worse),  // 5PG Birmingham and East
    ];
    for (value, population, at_95) in cases {
        assert_eq!(
            compare_rate(Some(value), Some(population), england, per, C95, Polarity::LowerIsBetter),
            at_95,
            "{value}"
        );
        assert_eq!(
            compare_rate(Some(value), Some(population), england, per, C998, Polarity::LowerIsBetter),
            Comparison::Similar,
            "{value}"
        );
    }
    assert_eq!(
        compare_rate(Some(1.0), Some(1000.0), Some(-1.0), per, C95, Polarity::LowerIsBetter),
        Comparison::NotCompared(NotCompared::ComparatorOutOfRange)
    );
}

proptest! {
    #[test]
    fn swapping_polarity_swaps_better_and_worse(value in 0.0f64..10.0, half in 0.01f64..2.0, comparator in 0.0f64..10.0) {
        let area = estimate(value, value - half, value + half);
        let high = compare_with_interval(Some(&area), Some(comparator), Polarity::HigherIsBetter);
        let low = compare_with_interval(Some(&area), Some(comparator), Polarity::LowerIsBetter);
        let none = compare_with_interval(Some(&area), Some(comparator), Polarity::NoJudgement);
        let swapped = match high {
            Comparison::Better => Comparison::Worse,
            Comparison::Worse => Comparison::Better,
            other => other,
        };
        prop_assert_eq!(low, swapped);
        prop_assert_eq!(none == Comparison::Similar, high == Comparison::Similar);
    }

    #[test]
    fn an_area_at_the_comparators_value_is_always_similar(
        p0 in 0.0f64..=100.0, n in 1.0f64..1e6, rate in 0.0f64..1e4, population in 1.0f64..1e7,
    ) {
        let none = Polarity::NoJudgement;
        prop_assert_eq!(compare_proportion(Some(p0), Some(n), Some(p0), Multiplier::PERCENT, C95, none), Comparison::Similar);
        prop_assert_eq!(compare_rate(Some(rate), Some(population), Some(rate), Multiplier::PER_100_000, C95, none), Comparison::Similar);
    }

    #[test]
    fn what_differs_at_99_8_percent_differs_at_95_percent(value in 0.0f64..100.0, n in 10.0f64..1e5, p0 in 0.0f64..100.0) {
        let none = Polarity::NoJudgement;
        let at = |level| compare_proportion(Some(value), Some(n), Some(p0), Multiplier::PERCENT, level, none);
        if at(C998) != Comparison::Similar {
            prop_assert_eq!(at(C95), at(C998));
        }
    }
}

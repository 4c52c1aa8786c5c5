//! Funnel plots: PHEindicatormethods' `calculate_funnel_limits`, `assign_funnel_significance`
//! and `calculate_funnel_points` test vectors for proportions, ratios and rates, the validity
//! rules, and properties of any funnel.
//!
//! Precision. The CSV fixtures are written to 6 decimal places (proportion limits), 8 decimal
//! places (proportion limits with axis variation) or about 10 significant digits (ratios and
//! rates), and are matched to half a unit in that last place. The ratio and rate limits come, in
//! the R package, from Poisson limits found by bisection to |Δv| < 6e-8 on v = λ / (1 + O + λ);
//! this crate computes them exactly, so those values are matched to within the bisection's error,
//! a relative 1.2e-7 / (v (1 − v)) (with a factor of 2 to spare), about 3e-7 for most rows and up
//! to 1e-4 for the 99.8% upper limit at one or two events.

mod common;

use std::num::NonZeroU32;

use common::{Table, assert_close};
use phm_stats::funnel::{
    FunnelChart, FunnelPoint, FunnelSignificance, NotReported, PointProblem, ProportionFunnel, ProportionPoint,
    RateFunnel, RatePoint, RateType, RatioFunnel, RatioPoint, RatioScale,
};
use phm_stats::{ConfidenceLevel, Multiplier, proportion};
use proptest::prelude::*;

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;

fn significance(label: &str) -> FunnelSignificance {
    match label {
        "High (0.001)" => FunnelSignificance::HighAt99_8,
        "High (0.025)" => FunnelSignificance::HighAt95,
        "Not significant" => FunnelSignificance::NotSignificant,
        "Low (0.025)" => FunnelSignificance::LowAt95,
        "Low (0.001)" => FunnelSignificance::LowAt99_8,
        "Not applicable for events less than 10 for dsrs" => FunnelSignificance::NotApplicable,
        other => panic!("unknown significance label {other:?}"),
    }
}

/// Asserts |got − want| ≤ `absolute`.
#[track_caller]
fn assert_within(what: &str, got: f64, want: f64, absolute: f64) {
    assert!((got - want).abs() <= absolute, "{what}: got {got}, expected {want} (allowed ±{absolute:e})");
}

/// The relative error of a Poisson limit λ at O events found by R's bisection.
fn bisection_error(observed: f64, lambda: f64) -> f64 {
    let v = lambda / (1.0 + observed + lambda);
    1.2e-7 / (v * (1.0 - v)) + 1e-9
}

fn proportion_points(table: &Table) -> Vec<ProportionPoint> {
    table
        .rows()
        .map(|r| ProportionPoint { numerator: r.number("numerator"), denominator: r.number("denominator") })
        .collect()
}

fn assert_proportion_chart(chart: &FunnelChart, expected: &Table, decimals: i32) {
    let half_unit = 0.5 * 10f64.powi(-decimals) + 1e-12;
    assert_eq!(chart.rows.len(), expected.rows.len(), "{}: rows", expected.source);
    for (row, want) in chart.rows.iter().zip(expected.rows()) {
        assert_eq!(row.at, want.number("Population"), "{}", want.at("Population"));
        for (point, column) in [
            (row.lower_95, "Lower2s0025limit"),
            (row.upper_95, "Upper2s0025limit"),
            (row.lower_99_8, "Lower3s0001limit"),
            (row.upper_99_8, "Upper3s0001limit"),
        ] {
            assert_within(&want.at(column), point.limit, want.number(column), half_unit);
            assert_eq!(point.denominator, row.at);
        }
        assert_within(&want.at("Baseline"), chart.baseline, want.number("Baseline"), half_unit);
    }
}

#[test]
fn proportion_limits_match_calculate_funnel_limits() {
    let inputs = Table::csv("testdata_funnel_prop_inputs.csv");
    let funnel = ProportionFunnel::new(&proportion_points(&inputs), Multiplier::PERCENT).expect("valid areas");
    assert_proportion_chart(&funnel.chart(), &Table::csv("testdata_funnel_prop_outputs.csv"), 6);
}

#[test]
fn proportion_limits_start_above_zero_when_areas_are_of_similar_size() {
    // The same areas with denominators below 31 000: the largest is less than twice the
    // smallest, so the axis starts at the smallest × 0.95 rounded down (10 000).
    let inputs = Table::csv("testdata_funnel_prop_inputs.csv");
    let points: Vec<ProportionPoint> =
        proportion_points(&inputs).into_iter().filter(|p| p.denominator < 31_000.0).collect();
    let funnel = ProportionFunnel::new(&points, Multiplier::PERCENT).expect("valid areas");
    let expected = Table::csv("testdata_funnel_prop_outputs_with_axis_variation.csv");
    assert_proportion_chart(&funnel.chart(), &expected, 8);
}

#[test]
fn proportion_significance_matches_assign_funnel_significance() {
    let inputs = Table::csv("testdata_funnel_prop_inputs.csv");
    let funnel = ProportionFunnel::new(&proportion_points(&inputs), Multiplier::ONE).expect("valid areas");
    let got = funnel.significance();
    assert_eq!(got.len(), inputs.rows.len());
    for (got, row) in got.iter().zip(inputs.rows()) {
        assert_eq!(*got, significance(&row.text("significance")), "{}", row.at("significance"));
    }
    // Every category occurs, so each branch is exercised.
    for category in [
        FunnelSignificance::HighAt99_8,
        FunnelSignificance::HighAt95,
        FunnelSignificance::NotSignificant,
        FunnelSignificance::LowAt95,
        FunnelSignificance::LowAt99_8,
    ] {
        assert!(got.contains(&category), "{category:?} does not occur");
    }
}

#[test]
fn ratio_limits_match_calculate_funnel_limits_as_counts_and_isrs() {
    let inputs = Table::csv("testdata_funnel_ratio_inputs.csv");
    let points: Vec<RatioPoint> =
        inputs.rows().map(|r| RatioPoint { observed: r.number("obs"), expected: r.number("expected") }).collect();
    let funnel = RatioFunnel::new(&points).expect("valid areas");
    let expected = Table::csv("testdata_funnel_ratio_outputs.csv");
    let (counts, isrs) = (funnel.chart(RatioScale::RelativeExcess), funnel.chart(RatioScale::Percent));
    assert_eq!((counts.baseline, isrs.baseline), (0.0, 100.0));
    assert_eq!(counts.rows.len(), expected.rows.len());
    for ((count, isr), want) in counts.rows.iter().zip(&isrs.rows).zip(expected.rows()) {
        let o = want.number("Observed_events");
        assert_eq!(count.at, o, "{}", want.at("Observed_events"));
        for (side, c, i) in [
            ("lower_2s", count.lower_95, isr.lower_95),
            ("upper_2s", count.upper_95, isr.upper_95),
            ("lower_3s", count.lower_99_8, isr.lower_99_8),
            ("upper_3s", count.upper_99_8, isr.upper_99_8),
        ] {
            let tolerance = bisection_error(o, c.denominator);
            let column = format!("{side}_exp_events");
            assert_close(&want.at(&column), c.denominator, want.number(&column), tolerance);
            // The count column is the ratio − 1; compare the ratio.
            let column = format!("{side}_count");
            assert_close(&want.at(&column), c.limit + 1.0, want.number(&column) + 1.0, tolerance);
            let column = format!("{side}_isr");
            assert_close(&want.at(&column), i.limit, want.number(&column), tolerance);
        }
    }
}

#[test]
fn ratio_significance_matches_assign_funnel_significance() {
    let inputs = Table::csv("testdata_funnel_ratio_inputs.csv");
    let points: Vec<RatioPoint> =
        inputs.rows().map(|r| RatioPoint { observed: r.number("obs"), expected: r.number("expected") }).collect();
    let got = RatioFunnel::new(&points).expect("valid areas").significance();
    for (got, row) in got.iter().zip(inputs.rows()) {
        assert_eq!(*got, significance(&row.text("significance")), "{}", row.at("significance"));
    }
}

/// The rows of `testdata_funnel_rate_input_funnels.csv` as `(events, rate, population)`.
fn rate_funnel_inputs() -> Vec<(f64, f64, f64)> {
    let table = Table::csv("testdata_funnel_rate_input_funnels.csv");
    table.rows().map(|r| (r.number("ev"), r.number("rate"), r.number("pop"))).collect()
}

fn assert_rate_chart(chart: &FunnelChart, file: &str) {
    let expected = Table::csv(file);
    assert_eq!(chart.rows.len(), expected.rows.len(), "{file}: rows");
    for (row, want) in chart.rows.iter().zip(expected.rows()) {
        let events = want.number("Events");
        assert_eq!(row.at, events, "{}", want.at("Events"));
        for (side, point) in [
            ("lower_2s", row.lower_95),
            ("upper_2s", row.upper_95),
            ("lower_3s", row.lower_99_8),
            ("upper_3s", row.upper_99_8),
        ] {
            // λ = population per year × years × average; its bisection error carries to both
            // columns.
            let lambda = point.denominator * f64::from(THREE_YEARS.get()) * chart.baseline / 1e5;
            let tolerance = bisection_error(events, lambda);
            let column = format!("{side}_population_1_year");
            assert_close(&want.at(&column), point.denominator, want.number(&column), tolerance);
            let column = format!("{side}_limit");
            assert_close(&want.at(&column), point.limit, want.number(&column), tolerance);
        }
        assert_close(&want.at("baseline"), chart.baseline, want.number("baseline"), 1e-9);
    }
}

const THREE_YEARS: NonZeroU32 = NonZeroU32::new(3).expect("3 is not zero");

#[test]
fn dsr_limits_match_calculate_funnel_limits() {
    let points: Vec<RatePoint> = rate_funnel_inputs()
        .into_iter()
        .map(|(events, rate, _)| RatePoint { events, rate: Some(rate), denominator: None })
        .collect();
    let funnel = RateFunnel::new(&points, RateType::Dsr, Multiplier::PER_100_000).expect("valid areas");
    assert_rate_chart(&funnel.chart(THREE_YEARS), "testdata_funnel_rate_outputs.csv");
}

#[test]
fn crude_rate_limits_match_calculate_funnel_limits_with_fewer_than_ten_events() {
    // As the R test: the area with most events is given 5.
    let inputs = rate_funnel_inputs();
    let most = inputs.iter().map(|r| r.0).fold(0.0, f64::max);
    let points: Vec<RatePoint> = inputs
        .into_iter()
        .map(|(events, rate, _)| RatePoint {
            events: if events == most { 5.0 } else { events },
            rate: Some(rate),
            denominator: None,
        })
        .collect();
    let funnel = RateFunnel::new(&points, RateType::Crude, Multiplier::PER_100_000).expect("valid areas");
    assert_rate_chart(&funnel.chart(THREE_YEARS), "testdata_funnel_rate_outputs_2.csv");
}

#[test]
fn crude_rate_limits_match_calculate_funnel_limits_with_no_events_and_a_population() {
    // As the R test: populations from events and rates, the area with most events given none
    // (and a rate of 0), and only areas above half the largest population kept.
    let inputs = rate_funnel_inputs();
    let most = inputs.iter().map(|r| r.0).fold(0.0, f64::max);
    let with_population: Vec<(f64, f64, f64)> = inputs.iter().map(|&(e, r, _)| (e, r, 1e5 * e / r)).collect();
    let largest = with_population.iter().map(|r| r.2).fold(0.0, f64::max);
    let points: Vec<RatePoint> = with_population
        .into_iter()
        .filter(|r| r.2 > largest / 2.0)
        .map(|(events, rate, population)| {
            let none = events == most;
            RatePoint {
                events: if none { 0.0 } else { events },
                rate: Some(if none { 0.0 } else { rate }),
                denominator: Some(population),
            }
        })
        .collect();
    assert!(points.iter().any(|p| p.events == 0.0), "the area with no events is kept");
    let funnel = RateFunnel::new(&points, RateType::Crude, Multiplier::PER_100_000).expect("valid areas");
    assert_rate_chart(&funnel.chart(THREE_YEARS), "testdata_funnel_rate_outputs_3.csv");
}

#[test]
fn rate_significance_matches_assign_funnel_significance() {
    let table = Table::csv("testdata_funnel_rate_dsr_inputs.csv");
    let cases = [
        (RateType::Dsr, "rate_dsr", 1e5, "dsr_per_100000"),
        (RateType::Dsr, "rate_dsr", 100.0, "dsr_per_100"),
        (RateType::Crude, "rate_crude_per_100000", 1e5, "crude_per_100000"),
        (RateType::Crude, "rate_crude_per_100", 100.0, "crude_per_100"),
    ];
    for (rate_type, rate_column, multiplier, label) in cases {
        for with_zero in [true, false] {
            let rows: Vec<_> = table.rows().filter(|r| with_zero || r.number("count") != 0.0).collect();
            let points: Vec<RatePoint> = rows
                .iter()
                .map(|r| RatePoint {
                    events: r.number("count"),
                    rate: r.maybe_number(rate_column),
                    denominator: Some(r.number("pop")),
                })
                .collect();
            let funnel = RateFunnel::new(&points, rate_type, Multiplier::new(multiplier).expect("positive"))
                .expect("valid areas");
            let column = format!("{label}_{}", if with_zero { "with_0" } else { "without_0" });
            for (got, row) in funnel.significance().iter().zip(&rows) {
                assert_eq!(*got, significance(&row.text(&column)), "{}", row.at(&column));
            }
        }
    }
}

#[test]
fn chart_points_match_calculate_funnel_points() {
    let inputs = rate_funnel_inputs();
    let table = Table::csv("testdata_funnel_rate_input_funnels.csv");
    let most = inputs.iter().map(|r| r.0).fold(0.0, f64::max);
    let cases: [(RateType, f64, bool, u32, &str, &str); 3] = [
        // DSRs, the area with most events given 5: not plotted below 10 events.
        (RateType::Dsr, 5.0, false, 3, "rate_chart", "denominator_derived"),
        // Crude rates as they are.
        (RateType::Crude, most, false, 3, "rate_chart_crude", "denominator_derived_crude"),
        // Crude rates, the area with most events given none, with populations, over 5 years.
        (RateType::Crude, 0.0, true, 5, "rate_chart_crude_with_denom", "denominator_derived_crude_with_denom"),
    ];
    for (rate_type, replacement, with_population, years, rate_column, denominator_column) in cases {
        let points: Vec<RatePoint> = inputs
            .iter()
            .map(|&(events, rate, population)| RatePoint {
                events: if events == most { replacement } else { events },
                rate: Some(rate),
                denominator: with_population.then_some(population),
            })
            .collect();
        let funnel = RateFunnel::new(&points, rate_type, Multiplier::PER_100_000).expect("valid areas");
        let years = NonZeroU32::new(years).expect("not zero");
        for (got, want) in funnel.chart_points(years).iter().zip(table.rows()) {
            match (got, want.maybe_number(rate_column), want.maybe_number(denominator_column)) {
                (None, None, None) => {}
                (Some(p), Some(rate), Some(population)) => {
                    assert_close(&want.at(rate_column), p.rate, rate, 1e-9);
                    // Written to 10 significant digits.
                    assert_close(&want.at(denominator_column), p.population_per_year, population, 5e-10);
                }
                (got, rate, population) => {
                    panic!("{}: got {got:?}, expected {rate:?} and {population:?}", want.at(rate_column))
                }
            }
        }
    }
}

#[test]
fn limits_at_a_point_are_what_a_wilson_interval_or_exact_poisson_limits_invert_to() {
    let funnel = ProportionFunnel::new(&[ProportionPoint { numerator: 30.0, denominator: 100.0 }], Multiplier::ONE)
        .expect("valid");
    // At n = 100 the lower limit x/n has the average 0.3 as the upper end of its Wilson interval.
    let lower = funnel.limits(100.0, C95).expect("a denominator").lower;
    assert_eq!(funnel.limits(0.0, C95), None);
    let wilson = proportion::wilson(lower * 100.0, 100.0, C95).expect("valid");
    assert_close("Wilson upper end at the lower limit", wilson.upper, 0.3, 1e-12);
    // A ratio limit at O observed: the expected count at which O is the upper exact limit.
    let (low, high): (FunnelPoint, FunnelPoint) = RatioFunnel::limits(12.0, C998).expect("a count");
    assert_close("lower ratio", low.limit, 12.0 / low.denominator, 1e-15);
    assert!(low.limit < 1.0 && high.limit > 1.0);
    assert_eq!(RatioFunnel::limits(0.0, C95), None);
}

#[test]
fn invalid_areas_stop_the_funnel_with_the_first_one() {
    let p = |numerator, denominator| ProportionPoint { numerator, denominator };
    assert_eq!(ProportionFunnel::new(&[], Multiplier::ONE), Err(NotReported::NoPoints));
    assert_eq!(
        ProportionFunnel::new(&[p(1.0, 2.0), p(3.0, 2.0)], Multiplier::ONE),
        Err(NotReported::InvalidPoint { point: 1, problem: PointProblem::NumeratorExceedsDenominator })
    );
    assert_eq!(
        RatioFunnel::new(&[RatioPoint { observed: 1.0, expected: 0.0 }]),
        Err(NotReported::InvalidPoint { point: 0, problem: PointProblem::NonPositiveDenominator })
    );
    let r = |events, rate, denominator| RatePoint { events, rate, denominator };
    let m = Multiplier::PER_100_000;
    assert_eq!(
        RateFunnel::new(&[r(5.0, Some(10.0), None), r(0.0, Some(0.0), None)], RateType::Crude, m),
        Err(NotReported::InvalidPoint { point: 1, problem: PointProblem::MissingDenominator })
    );
    assert_eq!(
        RateFunnel::new(&[r(5.0, None, Some(100.0))], RateType::Dsr, m),
        Err(NotReported::InvalidPoint { point: 0, problem: PointProblem::MissingRate })
    );
    assert_eq!(RateFunnel::new(&[r(0.0, None, Some(100.0))], RateType::Crude, m), Err(NotReported::NoEvents));
    // A crude rate whose population is given needs no rate: the population is what it gives.
    let funnel =
        RateFunnel::new(&[r(5.0, None, Some(1_000.0)), r(10.0, Some(500.0), None)], RateType::Crude, m).expect("valid");
    assert_eq!(funnel.derived_denominators(), &[Some(1_000.0), Some(2_000.0)]);
}

proptest! {
    #[test]
    fn proportion_funnels_narrow_as_the_denominator_grows_and_nest(
        points in prop::collection::vec((0u32..1_000, 1u32..1_000), 1..30), n in 1.0f64..1e5,
    ) {
        let points: Vec<ProportionPoint> = points.iter().map(|&(x, extra)| ProportionPoint {
            numerator: f64::from(x), denominator: f64::from(x + extra),
        }).collect();
        let funnel = ProportionFunnel::new(&points, Multiplier::PERCENT).expect("valid");
        let limits = |n: f64, c| funnel.limits(n, c).expect("a denominator");
        let (here, further) = (limits(n, C95), limits(n * 2.0, C95));
        prop_assert!(further.upper - further.lower <= here.upper - here.lower + 1e-12);
        let wide = limits(n, C998);
        prop_assert!(wide.lower <= here.lower && here.upper <= wide.upper);
        prop_assert!(0.0 <= wide.lower && wide.upper <= 100.0);
        prop_assert!(here.lower <= funnel.baseline() && funnel.baseline() <= here.upper);
    }

    #[test]
    fn an_area_at_the_average_is_not_significant(x in 1u32..10_000, n in 1u32..10_000) {
        let point = ProportionPoint { numerator: f64::from(x), denominator: f64::from(x + n) };
        let funnel = ProportionFunnel::new(&[point, point], Multiplier::ONE).expect("valid");
        prop_assert!(funnel.significance().iter().all(|s| *s == FunnelSignificance::NotSignificant));
        let ratio = RatioFunnel::new(&[RatioPoint { observed: f64::from(x), expected: f64::from(x) }]).expect("valid");
        prop_assert_eq!(ratio.significance(), vec![FunnelSignificance::NotSignificant]);
    }
}

//! XmR charts in the Making Data Count style: limits, each special-cause rule on a series made to
//! break it at a known point, the variation and assurance icons, recalculation, screening of
//! moving ranges (NHSRplotthedots' published example), and properties of any series.

use phm_stats::spc::{
    Assurance, Limits, MIN_POINTS_FOR_LIMITS, NoLimits, NotReported, Note, Period, Polarity, Rules, SpcOptions,
    Variation, XmrChart, xmr,
};
use proptest::prelude::*;

/// The chart of a series with a value at every point.
fn xmr_of(values: &[f64], options: &SpcOptions) -> Result<XmrChart, NotReported> {
    xmr(&values.iter().copied().map(Some).collect::<Vec<_>>(), options)
}

/// A period's limits, which it must have.
fn lim(period: &Period) -> Limits {
    period.limits.expect("the period has limits")
}

fn close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, expected {want}");
}

/// Twenty points alternating 12, 10, 12, …, 10: mean 11, every moving range 2, so the process
/// limits are 11 ± 2.66 × 2 = 5.68 and 16.32, and "close to a limit" (two sigma) is beyond
/// 11 ± 1.7733 × 2, i.e. above 14.5467 or below 7.4533. No rule is broken.
fn baseline() -> Vec<f64> {
    (0..20).map(|i| if i % 2 == 0 { 12.0 } else { 10.0 }).collect()
}

/// The baseline followed by `tail`, with limits from the baseline's twenty points.
fn after_baseline(tail: &[f64], polarity: Polarity) -> XmrChart {
    let mut values = baseline();
    values.extend_from_slice(tail);
    let options = SpcOptions::new(polarity).baseline(20).expect("valid");
    xmr_of(&values, &options).expect("a chart")
}

fn flagged(chart: &XmrChart, rule: fn(&Rules) -> bool) -> Vec<usize> {
    chart.points.iter().enumerate().filter(|(_, p)| rule(&p.rules)).map(|(i, _)| i).collect()
}

fn special(chart: &XmrChart) -> Vec<usize> {
    flagged(chart, |r| r.any())
}

// ---- limits ----

#[test]
fn limits_are_the_mean_plus_and_minus_2_66_mean_moving_ranges() {
    let chart = xmr_of(&baseline(), &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
    let period = chart.periods[0];
    close("mean", period.mean, 11.0);
    close("mean moving range", lim(&period).mean_moving_range, 2.0);
    close("lower limit", lim(&period).lower, 5.68);
    close("upper limit", lim(&period).upper, 16.32);
    assert_eq!(chart.points[0].moving_range, None);
    assert_eq!(chart.points[1].moving_range, Some(2.0));
    assert!(special(&chart).is_empty());
    assert_eq!(chart.variation, Some(Variation::CommonCause));
}

#[test]
fn a_baseline_fixes_the_limits_for_the_points_after_it() {
    let chart = after_baseline(&[100.0, 200.0, 300.0], Polarity::HigherIsBetter);
    let period = chart.periods[0];
    assert_eq!(period.baseline_points, 20);
    close("mean", period.mean, 11.0);
    close("upper limit", chart.points[22].upper_limit.expect("limits"), 16.32);
}

// ---- each rule, broken at a known point ----

#[test]
fn rule_a_one_point_beyond_a_limit() {
    let chart = after_baseline(&[17.0, 12.0, 10.0], Polarity::HigherIsBetter);
    assert_eq!(special(&chart), [20]);
    let point = chart.points[20];
    assert_eq!(point.rules, Rules { beyond_limit: true, ..Rules::default() });
    assert_eq!(point.variation, Some(Variation::ImprovementHigh));

    let low = after_baseline(&[5.0, 12.0, 10.0], Polarity::HigherIsBetter);
    assert_eq!(special(&low), [20]);
    assert_eq!(low.points[20].variation, Some(Variation::ConcernLow));

    // On the limit is not beyond it.
    let limit = lim(&chart.periods[0]).upper;
    let on = after_baseline(&[limit, 10.0], Polarity::HigherIsBetter);
    assert!(!on.points[20].rules.beyond_limit);
}

#[test]
fn rule_b_a_run_of_seven_on_one_side_of_the_mean() {
    // The baseline ends below the mean (10); then points at 11.5, just above it.
    let six = after_baseline(&[11.5; 6], Polarity::HigherIsBetter);
    assert!(special(&six).is_empty(), "six points above the mean are not a shift");
    let seven = after_baseline(&[11.5; 7], Polarity::HigherIsBetter);
    assert_eq!(special(&seven), (20..27).collect::<Vec<_>>());
    for p in &seven.points[20..] {
        assert_eq!(p.rules, Rules { shift: true, ..Rules::default() });
        assert_eq!(p.variation, Some(Variation::ImprovementHigh));
    }
}

#[test]
fn a_point_on_the_mean_breaks_a_run() {
    let chart = after_baseline(&[11.5, 11.5, 11.5, 11.0, 11.5, 11.5, 11.5, 11.5], Polarity::HigherIsBetter);
    assert!(special(&chart).is_empty());
}

#[test]
fn the_run_length_is_a_parameter() {
    let options = SpcOptions::new(Polarity::HigherIsBetter).baseline(20).and_then(|o| o.shift_run(6)).expect("valid");
    let mut values = baseline();
    values.extend_from_slice(&[11.5; 6]);
    let chart = xmr_of(&values, &options).expect("a chart");
    assert_eq!(flagged(&chart, |r| r.shift), (20..26).collect::<Vec<_>>());
}

#[test]
fn rule_c_a_trend_of_seven_increasing_points() {
    // From the baseline's last point (10), six points each higher: 10 < 10.1 < … < 11.1. Only the
    // last is above the mean, so there is no shift.
    let tail = [10.1, 10.3, 10.5, 10.7, 10.9, 11.1];
    let six = after_baseline(&tail[..5], Polarity::HigherIsBetter);
    assert!(special(&six).is_empty(), "six increasing points are not a trend");
    let seven = after_baseline(&tail, Polarity::HigherIsBetter);
    assert_eq!(special(&seven), (19..26).collect::<Vec<_>>());
    for p in &seven.points[19..] {
        assert_eq!(p.rules, Rules { trend: true, ..Rules::default() });
        // Increasing is high, whichever side of the mean the point is on.
        assert_eq!(p.variation, Some(Variation::ImprovementHigh));
    }
}

#[test]
fn a_decreasing_trend_is_low_and_equal_points_break_a_trend() {
    // The baseline ends at 10, so a fall starts at the first point after it.
    let six = after_baseline(&[11.9, 11.7, 11.5, 11.3, 11.1, 10.9, 12.0], Polarity::LowerIsBetter);
    assert!(flagged(&six, |r| r.trend).is_empty(), "six decreasing points are not a trend");
    let down = after_baseline(&[11.9, 11.7, 11.5, 11.3, 11.1, 10.9, 10.7, 12.0], Polarity::LowerIsBetter);
    assert_eq!(flagged(&down, |r| r.trend), (20..27).collect::<Vec<_>>());
    assert_eq!(down.points[26].variation, Some(Variation::ImprovementLow));

    let flat = after_baseline(&[10.1, 10.3, 10.5, 10.5, 10.7, 10.9, 11.1], Polarity::HigherIsBetter);
    assert!(flagged(&flat, |r| r.trend).is_empty());
}

#[test]
fn rule_d_two_of_three_close_to_a_limit_on_one_side() {
    // 15 is beyond two sigma (14.5467) but inside the limit (16.32); 12 is above the mean.
    let chart = after_baseline(&[15.0, 12.0, 15.0, 10.0], Polarity::HigherIsBetter);
    assert_eq!(special(&chart), [20, 22]);
    for i in [20, 22] {
        assert_eq!(chart.points[i].rules, Rules { two_of_three: true, ..Rules::default() });
        assert_eq!(chart.points[i].variation, Some(Variation::ImprovementHigh));
    }

    // The three must be on one side of the mean, and two of them close to the limit.
    let across = after_baseline(&[15.0, 10.0, 15.0, 10.0], Polarity::HigherIsBetter);
    assert!(special(&across).is_empty());
    let one_close = after_baseline(&[15.0, 12.0, 12.0, 10.0], Polarity::HigherIsBetter);
    assert!(special(&one_close).is_empty());

    let low = after_baseline(&[7.0, 7.2, 12.0], Polarity::LowerIsBetter);
    assert_eq!(special(&low), [20, 21]);
    assert_eq!(low.points[21].variation, Some(Variation::ImprovementLow));
}

#[test]
fn a_point_breaking_several_rules_takes_its_side_from_the_first_rule() {
    // Seven points above the mean (a shift) whose last is beyond the upper limit and which also
    // fall: the shift's points are high, the trend is low, and the point beyond the limit is high.
    let tail = [16.0, 15.5, 15.0, 14.5, 14.0, 13.5, 13.0];
    let chart = after_baseline(&tail, Polarity::HigherIsBetter);
    let p = chart.points[20];
    assert!(p.rules.shift && p.rules.trend && p.rules.two_of_three);
    // Trend comes before two-of-three and shift.
    assert_eq!(p.variation, Some(Variation::ConcernLow));

    let beyond = after_baseline(&[17.0, 16.0, 15.5, 15.0, 14.5, 14.0, 13.5], Polarity::HigherIsBetter);
    let p = beyond.points[20];
    assert!(p.rules.beyond_limit && p.rules.trend);
    assert_eq!(p.variation, Some(Variation::ImprovementHigh));
}

// ---- icons ----

#[test]
fn the_variation_icon_is_the_latest_points() {
    let cases = [
        (vec![12.0], Polarity::HigherIsBetter, Variation::CommonCause),
        (vec![17.0], Polarity::HigherIsBetter, Variation::ImprovementHigh),
        (vec![5.0], Polarity::HigherIsBetter, Variation::ConcernLow),
        (vec![17.0], Polarity::LowerIsBetter, Variation::ConcernHigh),
        (vec![5.0], Polarity::LowerIsBetter, Variation::ImprovementLow),
        (vec![17.0], Polarity::Neither, Variation::NeitherHigh),
        (vec![5.0], Polarity::Neither, Variation::NeitherLow),
        // A special cause earlier on does not set the icon.
        (vec![17.0, 12.0], Polarity::HigherIsBetter, Variation::CommonCause),
    ];
    for (tail, polarity, want) in cases {
        let chart = after_baseline(&tail, polarity);
        assert_eq!(chart.variation, Some(want), "{tail:?} with {polarity:?}");
    }
}

#[test]
fn the_assurance_icon_places_the_target_against_the_limits() {
    // Limits 5.68 and 16.32.
    let cases = [
        (Polarity::HigherIsBetter, Some(5.0), Assurance::ConsistentlyPass),
        (Polarity::HigherIsBetter, Some(17.0), Assurance::ConsistentlyFail),
        (Polarity::HigherIsBetter, Some(11.0), Assurance::HitAndMiss),
        (Polarity::LowerIsBetter, Some(17.0), Assurance::ConsistentlyPass),
        (Polarity::LowerIsBetter, Some(5.0), Assurance::ConsistentlyFail),
        (Polarity::LowerIsBetter, Some(11.0), Assurance::HitAndMiss),
        (Polarity::HigherIsBetter, None, Assurance::NotAssessed),
        (Polarity::Neither, Some(5.0), Assurance::NotAssessed),
    ];
    for (polarity, target, want) in cases {
        let mut options = SpcOptions::new(polarity);
        if let Some(t) = target {
            options = options.target(t).expect("finite");
        }
        let chart = xmr_of(&baseline(), &options).expect("a chart");
        assert_eq!(chart.assurance, want, "target {target:?} with {polarity:?}");
    }
    // A target on a limit is within the limits.
    let limits = xmr_of(&baseline(), &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart").periods[0];
    for target in [lim(&limits).lower, lim(&limits).upper] {
        let options = SpcOptions::new(Polarity::HigherIsBetter).target(target).expect("finite");
        assert_eq!(xmr_of(&baseline(), &options).expect("a chart").assurance, Assurance::HitAndMiss);
    }
}

// ---- periods, notes and screening ----

#[test]
fn fewer_than_fifteen_points_give_trial_limits() {
    let options = SpcOptions::new(Polarity::HigherIsBetter);
    let fourteen = xmr_of(&baseline()[..14], &options).expect("a chart");
    assert_eq!(fourteen.notes, [Note::FewPointsForLimits { period_start: 0, points: 14 }]);
    let fifteen = xmr_of(&baseline()[..MIN_POINTS_FOR_LIMITS], &options).expect("a chart");
    assert!(fifteen.notes.is_empty());
    // A short baseline gives trial limits however long the series.
    let short = xmr_of(&baseline(), &options.clone().baseline(12).expect("valid")).expect("a chart");
    assert_eq!(short.notes, [Note::FewPointsForLimits { period_start: 0, points: 12 }]);
}

#[test]
fn recalculation_starts_a_period_with_its_own_limits_and_rules() {
    // Twenty points around 11, then twenty around 31: one long run above 11 without
    // recalculation, two common-cause periods with it.
    let mut values = baseline();
    values.extend(baseline().iter().map(|v| v + 20.0));
    let options = SpcOptions::new(Polarity::HigherIsBetter);
    assert!(!special(&xmr_of(&values, &options).expect("a chart")).is_empty());

    let chart = xmr_of(&values, &options.recalculate_at(&[20]).expect("valid")).expect("a chart");
    assert_eq!(chart.periods.len(), 2);
    close("second mean", chart.periods[1].mean, 31.0);
    close("second upper limit", chart.points[39].upper_limit.expect("limits"), 36.32);
    assert_eq!((chart.periods[1].start, chart.periods[1].end), (20, 40));
    assert_eq!(chart.points[20].moving_range, None, "no moving range across periods");
    assert!(special(&chart).is_empty());
}

#[test]
fn runs_do_not_cross_into_the_next_period() {
    // Four points above the mean at the end of one period and four at the start of the next.
    let mut first = baseline();
    first.extend_from_slice(&[11.5; 4]);
    let mut second = vec![31.5; 4];
    second.extend(baseline().iter().map(|v| v + 20.0));
    let start = first.len();
    let values: Vec<f64> = first.into_iter().chain(second).collect();
    let options =
        SpcOptions::new(Polarity::HigherIsBetter).baseline(20).and_then(|o| o.recalculate_at(&[start])).expect("valid");
    // The second period's baseline is its first 20 points: four at 31.5 and sixteen alternating.
    let chart = xmr_of(&values, &options).expect("a chart");
    assert!(flagged(&chart, |r| r.shift).is_empty());
}

#[test]
fn screening_leaves_large_moving_ranges_out_as_nhsrplotthedots_does() {
    // NHSRplotthedots' vignette "Deviations from Excel defaults": the Excel tools (no screening)
    // give limits -3.06 and 6.95 around 1.94; screening gives -0.72 and 4.6.
    let values = [1.0, 2.0, 1.0, 2.0, 10.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0];
    let excel = xmr_of(&values, &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
    let p = excel.periods[0];
    assert_eq!(
        ((p.mean * 100.0).round(), (lim(&p).lower * 100.0).round(), (lim(&p).upper * 100.0).round()),
        (194.0, -306.0, 695.0)
    );
    assert_eq!(lim(&p).screened_moving_ranges, 0);

    let screened = xmr_of(&values, &SpcOptions::new(Polarity::HigherIsBetter).screen_outliers(true)).expect("a chart");
    let p = screened.periods[0];
    assert_eq!(((lim(&p).lower * 100.0).round(), (lim(&p).upper * 100.0).round()), (-72.0, 460.0));
    assert_eq!(lim(&p).screened_moving_ranges, 2);
    // Either way, the 10 is the one special cause, an improvement.
    for chart in [&excel, &screened] {
        assert_eq!(special(chart), [4]);
        assert_eq!(chart.points[4].variation, Some(Variation::ImprovementHigh));
    }
}

#[test]
fn a_non_finite_value_or_a_period_with_no_value_gives_no_chart() {
    let options = SpcOptions::new(Polarity::HigherIsBetter);
    assert_eq!(
        xmr(&[Some(1.0), Some(f64::NAN), Some(2.0)], &options),
        Err(NotReported::NonFiniteValue { position: 1 })
    );
    assert_eq!(xmr(&[], &options), Err(NotReported::NoValue { period_start: 0, points: 0 }));
    assert_eq!(xmr(&[None, None], &options), Err(NotReported::NoValue { period_start: 0, points: 2 }));
    let mut values: Vec<Option<f64>> = baseline().into_iter().map(Some).collect();
    values[19] = None;
    let split = options.recalculate_at(&[19]).expect("valid");
    assert_eq!(xmr(&values, &split), Err(NotReported::NoValue { period_start: 19, points: 1 }));
}

// ---- gaps (missing points) ----

/// The baseline with gaps at `missing`, and then `tail`.
fn with_gaps(missing: &[usize], tail: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut values: Vec<Option<f64>> = baseline().into_iter().map(Some).collect();
    for &i in missing {
        values[i] = None;
    }
    values.extend_from_slice(tail);
    values
}

#[test]
fn a_gap_leaves_out_the_moving_ranges_either_side_of_it() {
    // Twenty points alternating 12 and 10 with point 10 missing: its two moving ranges are left
    // out and the other 17 are 2 (joining across the gap would add a range of 0).
    let mut values = with_gaps(&[], &[]);
    values[10] = None;
    let chart = xmr(&values, &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
    let p = chart.periods[0];
    close("mean of the 19 values", p.mean, (11.0 * 20.0 - 12.0) / 19.0);
    assert_eq!(lim(&p).moving_ranges, 17, "19 ranges less the two next to the gap");
    close("mean moving range", lim(&p).mean_moving_range, 2.0);
    assert_eq!(p.baseline_points, 19);
    assert_eq!(
        (chart.points[10].value, chart.points[10].moving_range, chart.points[11].moving_range),
        (None, None, None)
    );
    assert_eq!(chart.points[10].variation, None);
    assert_eq!(chart.points[10].rules, Rules::default());
    assert_eq!(chart.points[12].moving_range, Some(2.0));
    assert!(chart.notes.contains(&Note::Gaps { missing: 1, points: 20 }), "{:?}", chart.notes);
}

#[test]
fn a_gap_breaks_a_run_on_one_side_of_the_mean() {
    // Seven points above the mean with a gap after the third: two runs, of three and four.
    let above = Some(11.5);
    let broken = with_gaps(&[], &[above, above, above, None, above, above, above, above]);
    let chart = xmr(&broken, &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid")).expect("a chart");
    assert!(flagged(&chart, |r| r.shift).is_empty());
    // Without the gap, the eight points are a shift.
    let whole = with_gaps(&[], &[above; 8]);
    let chart = xmr(&whole, &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid")).expect("a chart");
    assert_eq!(flagged(&chart, |r| r.shift), (20..28).collect::<Vec<_>>());
    // After the gap, a run of seven counts again.
    let after = with_gaps(&[], &[above, None, above, above, above, above, above, above, above]);
    let chart = xmr(&after, &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid")).expect("a chart");
    assert_eq!(flagged(&chart, |r| r.shift), (22..29).collect::<Vec<_>>());
}

#[test]
fn a_gap_breaks_a_trend() {
    let rising = [10.1, 10.3, 10.5, 10.7, 10.9, 11.1, 11.3, 11.5];
    let mut tail: Vec<Option<f64>> = rising.iter().copied().map(Some).collect();
    tail.insert(4, None);
    let chart = xmr(&with_gaps(&[], &tail), &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid"))
        .expect("a chart");
    assert!(flagged(&chart, |r| r.trend).is_empty(), "{:?}", flagged(&chart, |r| r.trend));
}

#[test]
fn a_gap_breaks_two_of_three() {
    // 15 and 15 close to the upper limit with a gap between: not three consecutive points.
    let chart = xmr(
        &with_gaps(&[], &[Some(15.0), None, Some(15.0), Some(10.0)]),
        &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid"),
    )
    .expect("a chart");
    assert!(special(&chart).is_empty(), "{:?}", special(&chart));
}

#[test]
fn a_missing_latest_point_leaves_no_variation_icon() {
    let chart = xmr(
        &with_gaps(&[], &[Some(17.0), None]),
        &SpcOptions::new(Polarity::HigherIsBetter).baseline(20).expect("valid"),
    )
    .expect("a chart");
    assert_eq!(chart.points[20].variation, Some(Variation::ImprovementHigh));
    assert_eq!(chart.variation, None);
}

#[test]
fn a_one_point_series_reports_its_mean_and_why_there_are_no_limits() {
    let chart =
        xmr(&[Some(42.0)], &SpcOptions::new(Polarity::HigherIsBetter).target(40.0).expect("finite")).expect("a chart");
    let p = chart.periods[0];
    assert_eq!(p.mean, 42.0);
    assert_eq!(p.limits, Err(NoLimits::NoMovingRange { period_start: 0, points: 1 }));
    assert_eq!((chart.points[0].lower_limit, chart.points[0].upper_limit), (None, None));
    assert_eq!(chart.variation, Some(Variation::CommonCause));
    assert_eq!(chart.assurance, Assurance::NotAssessed);
    assert!(!chart.notes.iter().any(|n| matches!(n, Note::FewPointsForLimits { .. })));
    // Points that are never next to each other have no moving range either.
    let apart =
        xmr(&[Some(1.0), None, Some(3.0), None, Some(5.0)], &SpcOptions::new(Polarity::Neither)).expect("a chart");
    assert_eq!(apart.periods[0].mean, 3.0);
    assert_eq!(apart.periods[0].limits, Err(NoLimits::NoMovingRange { period_start: 0, points: 3 }));
}

// ---- properties ----

fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-50.0..50.0f64, 2..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn limits_are_symmetric_about_the_mean(values in series()) {
        let chart = xmr_of(&values, &SpcOptions::new(Polarity::Neither)).expect("a chart");
        let p = chart.periods[0];
        let l = lim(&p);
        prop_assert!(((l.upper - p.mean) - (p.mean - l.lower)).abs() < 1e-9);
        prop_assert!(l.lower <= p.mean && p.mean <= l.upper);
    }

    #[test]
    fn a_constant_series_has_no_special_cause(value in -1e6..1e6f64, n in 2usize..60) {
        let chart = xmr_of(&vec![value; n], &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
        prop_assert!(chart.points.iter().all(|p| p.variation == Some(Variation::CommonCause) && !p.rules.any()));
        prop_assert_eq!(lim(&chart.periods[0]).lower, lim(&chart.periods[0]).upper);
    }

    #[test]
    fn reversing_polarity_swaps_improvement_and_concern(values in series()) {
        let higher = xmr_of(&values, &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
        let lower = xmr_of(&values, &SpcOptions::new(Polarity::LowerIsBetter)).expect("a chart");
        for (h, l) in higher.points.iter().zip(&lower.points) {
            prop_assert_eq!(h.rules, l.rules);
            let swapped = h.variation.map(|v| match v {
                Variation::ImprovementHigh => Variation::ConcernHigh,
                Variation::ConcernLow => Variation::ImprovementLow,
                other => other,
            });
            prop_assert_eq!(swapped, l.variation);
        }
    }

    #[test]
    fn mirroring_the_series_mirrors_every_side(values in series()) {
        let mirrored: Vec<f64> = values.iter().map(|v| -v).collect();
        let a = xmr_of(&values, &SpcOptions::new(Polarity::Neither)).expect("a chart");
        let b = xmr_of(&mirrored, &SpcOptions::new(Polarity::Neither)).expect("a chart");
        for (p, q) in a.points.iter().zip(&b.points) {
            prop_assert_eq!(p.rules, q.rules);
            let mirror = p.variation.map(|v| match v {
                Variation::NeitherHigh => Variation::NeitherLow,
                Variation::NeitherLow => Variation::NeitherHigh,
                other => other,
            });
            prop_assert_eq!(mirror, q.variation);
        }
    }

    #[test]
    fn shifts_and_trends_come_in_runs_of_at_least_seven(values in prop::collection::vec(0.0..10.0f64, 2..80)) {
        let chart = xmr_of(&values, &SpcOptions::new(Polarity::Neither)).expect("a chart");
        for rule in [(|r: &Rules| r.shift) as fn(&Rules) -> bool, |r: &Rules| r.trend] {
            let flags: Vec<bool> = chart.points.iter().map(|p| rule(&p.rules)).collect();
            for run in flags.split(|f| !f).filter(|run| !run.is_empty()) {
                prop_assert!(run.len() >= 7, "a run of {} flagged points", run.len());
            }
        }
    }

    #[test]
    fn with_no_target_there_is_no_assurance(values in series()) {
        let chart = xmr_of(&values, &SpcOptions::new(Polarity::HigherIsBetter)).expect("a chart");
        prop_assert_eq!(chart.assurance, Assurance::NotAssessed);
    }

    #[test]
    fn gaps_change_nothing_but_the_ranges_and_runs_they_touch(
        values in prop::collection::vec(-50.0..50.0f64, 3..60),
        gaps in prop::collection::vec(any::<bool>(), 60),
    ) {
        // Missing points are left out of the mean, and of every moving range they touch; the
        // mean moving range is that of the pairs of consecutive values.
        let with: Vec<Option<f64>> = values.iter().zip(&gaps).map(|(v, g)| (!g).then_some(*v)).collect();
        let Ok(chart) = xmr(&with, &SpcOptions::new(Polarity::Neither)) else {
            prop_assert!(with.iter().all(Option::is_none));
            return Ok(());
        };
        let present: Vec<f64> = with.iter().flatten().copied().collect();
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        prop_assert!((chart.periods[0].mean - mean).abs() < 1e-9);
        let ranges: Vec<f64> = with.windows(2).filter_map(|w| Some((w[1]? - w[0]?).abs())).collect();
        match chart.periods[0].limits {
            Ok(l) => {
                prop_assert_eq!(l.moving_ranges, ranges.len());
                prop_assert!((l.mean_moving_range - ranges.iter().sum::<f64>() / ranges.len() as f64).abs() < 1e-9);
            }
            Err(_) => prop_assert!(ranges.is_empty()),
        }
        for (p, v) in chart.points.iter().zip(&with) {
            prop_assert_eq!(p.value, *v);
            prop_assert_eq!(p.variation.is_none(), v.is_none());
            if v.is_none() {
                prop_assert_eq!(p.rules, Rules::default());
            }
        }
        // No shift or trend is flagged across a gap: flagged points come in runs of at least
        // seven consecutive values.
        for rule in [(|r: &Rules| r.shift) as fn(&Rules) -> bool, |r: &Rules| r.trend] {
            let flags: Vec<bool> = chart.points.iter().map(|p| rule(&p.rules)).collect();
            for run in flags.split(|f| !f).filter(|run| !run.is_empty()) {
                prop_assert!(run.len() >= 7, "a run of {} flagged points", run.len());
            }
        }
    }

    #[test]
    fn a_series_without_gaps_is_charted_as_before(values in series()) {
        // Wrapping every value in Some is the complete series: no gap note, every point charted.
        let chart = xmr_of(&values, &SpcOptions::new(Polarity::Neither)).expect("a chart");
        let gap_note = chart.notes.iter().any(|n| matches!(n, Note::Gaps { .. }));
        prop_assert!(!gap_note);
        prop_assert!(chart.points.iter().all(|p| p.variation.is_some()));
        prop_assert_eq!(lim(&chart.periods[0]).moving_ranges, values.len() - 1);
    }
}

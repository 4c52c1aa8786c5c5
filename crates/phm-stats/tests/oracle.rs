//! An independent oracle: many random and edge-case inputs run through this crate and through
//! PHStatsMethods, DHSC's Python port of PHEindicatormethods (`tests/oracle/phstats_oracle.py`),
//! compared value by value.
//!
//! Needs Python with `pip install phstatsmethods==0.1.16`; the interpreter is `$PHM_PYTHON`
//! (CI sets it to `.ci/.venv/bin/python`), else `python3`. The test fails, rather than skipping,
//! when either is missing.
//!
//! Closed-form results (Wilson, exact and Byar's limits, Dobson, Student's t) are matched to
//! 1e-9 relative. Funnel limits drawn from Poisson limits are matched to the error of the
//! package's bisection (see `tests/funnel.rs`).
//!
//! Where PHStatsMethods 0.1.16 departs from PHEindicatormethods the case checks this crate
//! against the R package's rule and checks that the Python package still departs, so that a fix
//! upstream is noticed:
//! * a crude rate, count or ISR with **zero events**: PHStatsMethods raises "'Value' must be a
//!   positive number" (its `byars_upper` rejects 0), while `phe_rate` gives the exact limits 0
//!   and `χ²_{1−α/2}(2)/2 = −ln(α/2)`;
//! * a mean of values that include **negative numbers**: PHStatsMethods raises "No negative
//!   numbers can be used", while `phe_mean` accepts them. Such cases are sent to PHStatsMethods
//!   shifted to positive values, and this crate's mean of the original values, shifted the same,
//!   is compared (a mean and its limits move with the values);
//! * a DSR funnel area with fewer than 10 events is labelled "...for DSRs" rather than R's
//!   "...for dsrs" (the same category).

mod common;

use std::io::Write;
use std::num::NonZeroU32;
use std::process::{Command, Stdio};

use common::{assert_close, esp2013};
use phm_stats::dsr::{self, DsrBand};
use phm_stats::funnel::{
    FunnelChart, FunnelSignificance, ProportionFunnel, ProportionPoint, RateFunnel, RatePoint, RateType, RatioFunnel,
    RatioPoint, RatioScale,
};
use phm_stats::isr::{self, ReferenceBand};
use phm_stats::{ConfidenceLevel, Estimate, Multiplier, mean, proportion, rate};
use serde_json::{Value, json};

const C95: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
const C998: ConfidenceLevel = ConfidenceLevel::NINETY_NINE_POINT_EIGHT;
const TOLERANCE: f64 = 1e-9;
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/phstats_oracle.py");
const INSTALL: &str = "pip install phstatsmethods==0.1.16";

/// A small deterministic generator (SplitMix64), so every run checks the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A whole number uniform in [lo, hi].
    fn int(&mut self, lo: u64, hi: u64) -> f64 {
        (lo + self.next() % (hi - lo + 1)) as f64
    }

    /// A whole number spread evenly on a log scale over [lo, hi].
    fn log_int(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp().round().max(lo)
    }
}

/// One case, as this crate sees it.
enum Case {
    Proportion {
        x: f64,
        n: f64,
        multiplier: f64,
    },
    Rate {
        x: f64,
        n: f64,
        multiplier: f64,
    },
    Dsr {
        bands: Vec<DsrBand>,
    },
    Isr {
        observed: Vec<f64>,
        bands: Vec<ReferenceBand>,
    },
    /// Values, and the shift that makes them all positive for PHStatsMethods.
    Mean {
        values: Vec<f64>,
        shift: f64,
    },
    /// Values with a negative one, which PHStatsMethods refuses.
    NegativeMean {
        values: Vec<f64>,
    },
    ProportionSignificance(Vec<ProportionPoint>),
    RatioSignificance(Vec<RatioPoint>),
    RateSignificance(Vec<RatePoint>, RateType, f64),
    ProportionChart(Vec<ProportionPoint>),
    RatioChart(Vec<RatioPoint>),
    RateChart(Vec<RatePoint>, RateType, u32),
}

impl Case {
    fn json(&self) -> Value {
        match self {
            Self::Proportion { x, n, multiplier } => {
                json!({"kind": "proportion", "numerator": x, "denominator": n, "multiplier": multiplier})
            }
            Self::Rate { x, n, multiplier } => {
                json!({"kind": "rate", "count": x, "denominator": n, "multiplier": multiplier})
            }
            Self::Dsr { bands } => json!({"kind": "dsr", "multiplier": 100_000, "bands": bands.iter().map(|b| json!({
                "events": b.events, "population": b.population, "standard": b.standard_population})).collect::<Vec<_>>()}),
            Self::Isr { observed, bands } => json!({"kind": "isr", "scale": 100, "multiplier": 100_000,
                "bands": bands.iter().zip(observed).map(|(b, o)| json!({"observed": o, "population": b.population,
                    "reference_events": b.reference_events, "reference_population": b.reference_population})).collect::<Vec<_>>()}),
            Self::Mean { values, shift } => {
                json!({"kind": "mean", "values": values.iter().map(|v| v + shift).collect::<Vec<_>>()})
            }
            Self::NegativeMean { values } => json!({"kind": "mean", "values": values}),
            Self::ProportionSignificance(points) => json!({"kind": "funnel_significance", "statistic": "proportion",
                "points": proportion_points(points)}),
            Self::RatioSignificance(points) => json!({"kind": "funnel_significance", "statistic": "ratio",
                "points": ratio_points(points)}),
            Self::RateSignificance(points, rate_type, multiplier) => {
                json!({"kind": "funnel_significance", "statistic": "rate",
                "rate_type": rate_type_name(*rate_type), "multiplier": multiplier, "points": rate_points(points)})
            }
            Self::ProportionChart(points) => {
                json!({"kind": "funnel_limits", "statistic": "proportion", "multiplier": 100,
                "points": proportion_points(points)})
            }
            Self::RatioChart(points) => {
                json!({"kind": "funnel_limits", "statistic": "ratio", "points": ratio_points(points)})
            }
            Self::RateChart(points, rate_type, years) => json!({"kind": "funnel_limits", "statistic": "rate",
                "rate_type": rate_type_name(*rate_type), "multiplier": 100_000, "years": years, "points": rate_points(points)}),
        }
    }
}

fn proportion_points(points: &[ProportionPoint]) -> Vec<Value> {
    points.iter().map(|p| json!({"numerator": p.numerator, "denominator": p.denominator})).collect()
}

fn ratio_points(points: &[RatioPoint]) -> Vec<Value> {
    points.iter().map(|p| json!({"observed": p.observed, "expected": p.expected})).collect()
}

fn rate_points(points: &[RatePoint]) -> Vec<Value> {
    points.iter().map(|p| json!({"events": p.events, "rate": p.rate, "denominator": p.denominator})).collect()
}

fn rate_type_name(rate_type: RateType) -> &'static str {
    match rate_type {
        RateType::Crude => "crude",
        RateType::Dsr => "dsr",
    }
}

fn cases() -> Vec<Case> {
    let mut rng = Rng(0x0BE5_EED5_2024);
    let mut cases = Vec::new();

    // Proportions: edges (none, all, denominators of 1 and 2, numerator above denominator),
    // then random sizes from 1 to 10 million.
    for (x, n) in [(0.0, 1.0), (1.0, 1.0), (0.0, 2.0), (1.0, 2.0), (2.0, 2.0), (0.0, 50_000.0), (7.0, 7.0), (3.0, 2.0)]
    {
        for multiplier in [1.0, 100.0] {
            cases.push(Case::Proportion { x, n, multiplier });
        }
    }
    for _ in 0..300 {
        let n = rng.log_int(1.0, 1e7);
        let x = (rng.unit() * n).round();
        cases.push(Case::Proportion { x, n, multiplier: if rng.unit() < 0.5 { 1.0 } else { 100.0 } });
    }

    // Rates: every count from 0 to 30 (across the exact/Byar switch at 10), then random ones,
    // with denominators from 1 (more events than people) to 10 million.
    for x in 0..=30 {
        cases.push(Case::Rate { x: f64::from(x), n: rng.log_int(1.0, 1e6), multiplier: 100_000.0 });
    }
    for _ in 0..300 {
        let x = rng.log_int(1.0, 1e6);
        cases.push(Case::Rate {
            x,
            n: rng.log_int(1.0, 1e7),
            multiplier: if rng.unit() < 0.5 { 100.0 } else { 100_000.0 },
        });
    }

    // DSRs over ESP 2013: totals just below and above 10, bands with no events, a band with no
    // population (refused by both), then random areas.
    let esp = esp2013();
    let area = |rng: &mut Rng, scale: f64, empty_band: Option<usize>| -> Vec<DsrBand> {
        esp.iter()
            .enumerate()
            .map(|(i, &w)| DsrBand {
                events: (rng.unit() * scale).floor(),
                population: if Some(i) == empty_band { 0.0 } else { rng.int(1, 40_000) },
                standard_population: w,
            })
            .collect()
    };
    for total in [9.0, 10.0, 11.0] {
        let mut bands = area(&mut rng, 0.0, None);
        bands[18].events = total;
        cases.push(Case::Dsr { bands });
    }
    cases.push(Case::Dsr { bands: area(&mut rng, 20.0, Some(3)) });
    for _ in 0..120 {
        let scale = [1.0, 3.0, 30.0, 500.0][rng.next() as usize % 4];
        cases.push(Case::Dsr { bands: area(&mut rng, scale, None) });
    }

    // ISRs: observed per band, some local bands with no population, and no events at all.
    for k in 0..120 {
        let scale = [0.0, 0.5, 2.0, 40.0][k % 4];
        let bands: Vec<ReferenceBand> = (0..19)
            .map(|_| ReferenceBand {
                population: if rng.unit() < 0.1 { 0.0 } else { rng.int(1, 20_000) },
                reference_events: rng.int(0, 5_000),
                reference_population: rng.int(1_000, 100_000),
            })
            .collect();
        let observed = (0..19).map(|_| (rng.unit() * scale).floor()).collect();
        cases.push(Case::Isr { observed, bands });
    }

    // Means: two values, constant values (no spread), then random ones of any sign.
    cases.push(Case::Mean { values: vec![1.0, 3.0], shift: 0.0 });
    cases.push(Case::Mean { values: vec![5.5; 6], shift: 0.0 });
    cases.push(Case::NegativeMean { values: vec![-1.0, 2.0, 4.0] });
    for _ in 0..100 {
        let n = rng.int(2, 60) as usize;
        let (centre, spread) = (rng.unit() * 2_000.0 - 1_000.0, rng.log_int(1.0, 1e4));
        let values: Vec<f64> = (0..n).map(|_| centre + spread * (rng.unit() - 0.5)).collect();
        let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
        cases.push(Case::Mean { values, shift: if lowest < 0.0 { 1.0 - lowest } else { 0.0 } });
    }

    // Funnel significance: sets of areas around a common average.
    for _ in 0..15 {
        let p = rng.unit();
        let points = (0..40)
            .map(|_| {
                let n = rng.log_int(20.0, 1e5);
                let share = (p + 0.2 * (rng.unit() - 0.5)).clamp(0.0, 1.0);
                ProportionPoint { numerator: (share * n).round(), denominator: n }
            })
            .collect();
        cases.push(Case::ProportionSignificance(points));
        let points = (0..40)
            .map(|_| {
                let expected = rng.log_int(1.0, 2_000.0) + rng.unit();
                RatioPoint { observed: (expected * (0.5 + rng.unit())).round(), expected }
            })
            .collect();
        cases.push(Case::RatioSignificance(points));
        for (rate_type, multiplier) in
            [(RateType::Crude, 100_000.0), (RateType::Dsr, 100_000.0), (RateType::Crude, 100.0)]
        {
            let base = rng.unit() * 0.01;
            let points = (0..40)
                .map(|_| {
                    let population = rng.log_int(100.0, 1e6);
                    let events = (population * base * (0.5 + rng.unit())).round();
                    let rate = (events > 0.0).then(|| events / population * multiplier * (0.9 + 0.2 * rng.unit()));
                    RatePoint { events, rate, denominator: Some(population) }
                })
                .collect();
            cases.push(Case::RateSignificance(points, rate_type, multiplier));
        }
    }

    // Funnel charts: wide and narrow spreads of size; small event counts for the Poisson ones
    // (the package's bisection is slow in pure Python).
    for spread in [1.5, 50.0, 1e4] {
        let p = rng.unit();
        let smallest = rng.log_int(10.0, 1e4);
        let points = (0..30)
            .map(|_| {
                let n = (smallest * (1.0 + rng.unit() * (spread - 1.0))).round();
                ProportionPoint { numerator: (p * n).round(), denominator: n }
            })
            .collect();
        cases.push(Case::ProportionChart(points));
    }
    for spread in [1.5, 20.0] {
        let smallest = rng.log_int(5.0, 60.0);
        let points = (0..20)
            .map(|_| {
                let expected = smallest * (1.0 + rng.unit() * (spread - 1.0));
                RatioPoint { observed: (expected * (0.7 + 0.6 * rng.unit())).round(), expected }
            })
            .collect();
        cases.push(Case::RatioChart(points));
    }
    for (rate_type, years) in [(RateType::Crude, 1), (RateType::Dsr, 3)] {
        let points = (0..20)
            .map(|_| {
                let events = rng.int(5, 150);
                RatePoint { events, rate: Some(rng.int(50, 400)), denominator: None }
            })
            .collect();
        cases.push(Case::RateChart(points, rate_type, years));
    }
    cases
}

/// Runs the cases through the Python oracle.
fn oracle(cases: &[Case]) -> Vec<Value> {
    let python = std::env::var("PHM_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut child = Command::new(&python)
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("could not run `{python}` ({e}); install Python 3 and then `{INSTALL}`, or set PHM_PYTHON")
        });
    let input = json!({"cases": cases.iter().map(Case::json).collect::<Vec<_>>()});
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(input.to_string().as_bytes()));
    let output = child.wait_with_output().expect("the oracle runs to completion");
    // A script that exits early (e.g. the package is missing) closes its input: say why it
    // exited rather than that the pipe broke.
    assert!(
        output.status.success() && matches!(written, Some(Ok(()))),
        "the oracle `{python} {SCRIPT}` failed ({}): {}\n(needs `{INSTALL}`)",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Value = serde_json::from_slice(&output.stdout).expect("the oracle writes JSON");
    let results = parsed["results"].as_array().expect("a list of results").clone();
    assert_eq!(results.len(), cases.len(), "one result per case");
    results
}

fn number(v: &Value, what: &str) -> Option<f64> {
    match v {
        Value::Null => None,
        v => Some(v.as_f64().unwrap_or_else(|| panic!("{what}: {v} is not a number"))),
    }
}

/// Compares an estimate at both levels with the oracle's value and limits.
fn assert_limits(what: &str, got: [Estimate; 2], want: &Value) {
    let value = number(&want["value"], what).unwrap_or_else(|| panic!("{what}: the oracle has no value"));
    assert_close(&format!("{what} value"), got[0].value, value, TOLERANCE);
    for (e, level) in got.iter().zip(["95", "99_8"]) {
        for (side, x) in [("lower", e.lower), ("upper", e.upper)] {
            let key = format!("{side}_{level}");
            let want = number(&want[&key], what).unwrap_or_else(|| panic!("{what}: no {key}"));
            assert_close(&format!("{what} {key}"), x, want, TOLERANCE);
        }
    }
}

/// The oracle refused the case with the departure documented above.
fn assert_refused_zero_count(what: &str, result: &Value) {
    let error =
        result["error"].as_str().unwrap_or_else(|| panic!("{what}: PHStatsMethods now accepts a zero count: {result}"));
    assert!(error.contains("must be a positive number"), "{what}: {error}");
}

fn assert_significance(what: &str, got: &[FunnelSignificance], want: &Value) {
    let want = want["significance"].as_array().unwrap_or_else(|| panic!("{what}: no significance"));
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (got, want)) in got.iter().zip(want).enumerate() {
        let want = want.as_str().expect("a label");
        assert!(got.to_string().eq_ignore_ascii_case(want), "{what} area {i}: got {got}, PHStatsMethods says {want}");
    }
}

/// Compares a chart with the oracle's; `poisson` charts allow for the package's bisection.
fn assert_chart(what: &str, chart: &FunnelChart, want: &Value, poisson: Option<(f64, f64)>) {
    let at: Vec<Option<f64>> = want["at"].as_array().expect("x values").iter().map(|v| number(v, what)).collect();
    assert_eq!(chart.rows.len(), at.len(), "{what}: rows");
    if let Some(baseline) = number(&want["baseline"], what) {
        assert_close(&format!("{what} baseline"), chart.baseline, baseline, TOLERANCE);
    }
    for (i, row) in chart.rows.iter().enumerate() {
        assert_eq!(Some(row.at), at[i], "{what} row {i}");
        for (k, point) in [row.lower_95, row.upper_95, row.lower_99_8, row.upper_99_8].iter().enumerate() {
            let limit = number(&want["limits"][k][i], what).expect("a limit");
            let denominator = number(&want["denominators"][k][i], what).expect("a denominator");
            let tolerance = match poisson {
                // (years × average, 1) for rates, (1, 0) for ratios: λ = denominator × factor.
                Some((factor, _)) => {
                    let lambda = point.denominator * factor;
                    let v = lambda / (1.0 + row.at + lambda);
                    1.2e-7 / (v * (1.0 - v)) + 1e-9
                }
                None => TOLERANCE,
            };
            let what = format!("{what} row {i} limit {k}");
            if poisson.is_none() {
                // Proportion limits near 0 are compared absolutely.
                assert!(
                    (point.limit - limit).abs() <= TOLERANCE * limit.abs().max(1.0),
                    "{what}: got {}, expected {limit}",
                    point.limit
                );
            } else {
                assert_close(&what, point.limit, limit, tolerance);
            }
            assert_close(&format!("{what} denominator"), point.denominator, denominator, tolerance);
        }
    }
}

#[test]
fn this_crate_agrees_with_phstatsmethods() {
    let cases = cases();
    let results = oracle(&cases);
    let mut compared = 0;
    for (i, (case, result)) in cases.iter().zip(&results).enumerate() {
        let ok = &result["ok"];
        match case {
            Case::Proportion { x, n, multiplier } => {
                let what = format!("case {i}: proportion {x}/{n} × {multiplier}");
                match proportion::proportion(*x, *n, Multiplier::new(*multiplier).expect("positive")) {
                    Ok(p) => assert_limits(&what, [p.estimate(C95), p.estimate(C998)], ok),
                    Err(reason) => assert!(result["error"].is_string(), "{what}: not reported ({reason}) but {result}"),
                }
            }
            Case::Rate { x, n, multiplier } => {
                let what = format!("case {i}: rate {x}/{n} × {multiplier}");
                let r = rate::rate(*x, *n, Multiplier::new(*multiplier).expect("positive")).expect("valid rate");
                if *x == 0.0 {
                    assert_refused_zero_count(&what, result);
                    let upper = |alpha: f64| -(alpha / 2.0).ln() / n * multiplier;
                    assert_close(&what, r.estimate(C95).upper, upper(0.05), TOLERANCE);
                    assert_close(&what, r.estimate(C998).upper, upper(0.002), TOLERANCE);
                    assert_eq!(r.estimate(C95).lower, 0.0);
                } else {
                    assert_limits(&what, [r.estimate(C95), r.estimate(C998)], ok);
                }
            }
            Case::Dsr { bands } => {
                let what = format!("case {i}: DSR");
                match dsr::dsr(bands, Multiplier::PER_100_000) {
                    Ok(d) => assert_limits(&what, [d.estimate(C95), d.estimate(C998)], ok),
                    Err(dsr::NotReported::TotalCountTooSmall { total_count }) => {
                        assert_eq!(number(&ok["total_count"], &what), Some(total_count), "{what}");
                        assert_eq!(ok["value"], Value::Null, "{what}: PHStatsMethods reports a DSR below 10 events");
                    }
                    Err(reason) => assert!(result["error"].is_string(), "{what}: not reported ({reason}) but {result}"),
                }
            }
            Case::Isr { observed, bands } => {
                let what = format!("case {i}: ISR");
                let total: f64 = observed.iter().sum();
                let s = isr::from_bands(total, bands).unwrap_or_else(|r| panic!("{what}: not reported: {r}"));
                if total == 0.0 {
                    assert_refused_zero_count(&what, result);
                    let e = s.ratio(C95, Multiplier::PERCENT);
                    assert_eq!((e.value, e.lower), (0.0, 0.0));
                    assert_close(&what, e.upper, 40f64.ln() / s.expected() * 100.0, TOLERANCE);
                } else {
                    assert_close(&what, s.expected(), number(&ok["expected"], &what).expect("expected"), TOLERANCE);
                    let pct = Multiplier::PERCENT;
                    assert_limits(&format!("{what} ratio"), [s.ratio(C95, pct), s.ratio(C998, pct)], &ok["ratio"]);
                    let rates = [C95, C998].map(|c| s.rate(c, Multiplier::PER_100_000).expect("from bands"));
                    assert_limits(&format!("{what} rate"), rates, &ok["rate"]);
                }
            }
            Case::Mean { values, shift } => {
                let what = format!("case {i}: mean of {} values shifted by {shift}", values.len());
                let m = mean::mean(values).unwrap_or_else(|r| panic!("{what}: not reported: {r}"));
                let sd = number(&ok["standard_deviation"], &what).unwrap_or_else(|| panic!("{what}: {result}"));
                assert!(
                    (m.standard_deviation() - sd).abs() <= TOLERANCE * sd.max(1.0),
                    "{what}: sd {} vs {sd}",
                    m.standard_deviation()
                );
                let shifted = [C95, C998].map(|c| {
                    let e = m.estimate(c);
                    Estimate { value: e.value + shift, lower: e.lower + shift, upper: e.upper + shift, ..e }
                });
                assert_limits(&what, shifted, ok);
            }
            Case::NegativeMean { values } => {
                let what = format!("case {i}: mean of {values:?}");
                let error = result["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}: PHStatsMethods now accepts negatives: {result}"));
                assert!(error.contains("No negative numbers"), "{what}: {error}");
                assert!(mean::mean(values).is_ok(), "{what}: phe_mean reports a mean of negative values");
            }
            Case::ProportionSignificance(points) => {
                let funnel = ProportionFunnel::new(points, Multiplier::ONE).expect("valid areas");
                assert_significance(&format!("case {i}: proportion funnel"), &funnel.significance(), ok);
            }
            Case::RatioSignificance(points) => {
                let funnel = RatioFunnel::new(points).expect("valid areas");
                assert_significance(&format!("case {i}: ratio funnel"), &funnel.significance(), ok);
            }
            Case::RateSignificance(points, rate_type, multiplier) => {
                let funnel = RateFunnel::new(points, *rate_type, Multiplier::new(*multiplier).expect("positive"))
                    .expect("valid");
                assert_significance(&format!("case {i}: rate funnel"), &funnel.significance(), ok);
            }
            Case::ProportionChart(points) => {
                let funnel = ProportionFunnel::new(points, Multiplier::PERCENT).expect("valid areas");
                assert_chart(&format!("case {i}: proportion chart"), &funnel.chart(), ok, None);
            }
            Case::RatioChart(points) => {
                let funnel = RatioFunnel::new(points).expect("valid areas");
                assert_chart(
                    &format!("case {i}: ratio chart"),
                    &funnel.chart(RatioScale::Percent),
                    ok,
                    Some((1.0, 0.0)),
                );
            }
            Case::RateChart(points, rate_type, years) => {
                let funnel = RateFunnel::new(points, *rate_type, Multiplier::PER_100_000).expect("valid areas");
                let years = NonZeroU32::new(*years).expect("not zero");
                let factor = f64::from(years.get()) * funnel.average();
                assert_chart(&format!("case {i}: rate chart"), &funnel.chart(years), ok, Some((factor, 0.0)));
            }
        }
        compared += 1;
    }
    assert!(compared >= 1_000, "only {compared} cases compared");
}

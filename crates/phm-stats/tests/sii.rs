//! The slope and relative indices of inequality against PHEindicatormethods' own test workbook
//! (`testdata_SII.xlsx`, read in place), the data `phe_sii` refuses, and properties of any SII.
//!
//! The workbook holds one block of rows per test case and area: the inputs of each quantile, and
//! on the block's first row the expected SII, RII, their limits at one or two levels, and the
//! intercept. The case's parameters are in its description, as `testSII.R` reads them:
//!
//! | description contains | parameter |
//! |---|---|
//! | `transform` | log (rates) or logit (proportions) transform |
//! | `x 100`, `x -100`, `negative multiplier` | multiplier 100, −100, −1 |
//! | column `Confidence` (`95`, `99`, `c(95, 99)`) | confidence levels |
//! | `98` (and `95`) | levels 98% (95% and 98%): these rows kept a stale `95` in `Confidence` |
//! | column `ValueType` (0, 1, 2) | other, rate, proportion |
//! | column `Repetitions` | repetitions of the simulation |

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use phm_stats::ConfidenceLevel;
use phm_stats::life_expectancy::LifeExpectancyEstimate;
use phm_stats::sii::{NotReported, QuantileInput, SiiEstimate, SiiOptions, Uncertainty, Value, ValueType, sii};
use proptest::prelude::*;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

const WORKBOOK: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/pheindicatormethods-testdata/testdata_SII.xlsx");

/// Point estimates are a weighted least-squares fit, computed in closed form here and by QR
/// decomposition in R: they agree to rounding.
const POINT_TOLERANCE: f64 = 1e-6;

/// How many Monte Carlo standard errors a simulated limit may be from the workbook's.
const SIMULATION_SES: f64 = 5.0;

/// One row of the workbook.
#[derive(Debug, Clone)]
struct Row {
    record: u32,
    description: String,
    area: String,
    population: Option<f64>,
    count: Option<f64>,
    value: Option<f64>,
    value_type: u32,
    lower: Option<f64>,
    upper: Option<f64>,
    se: Option<f64>,
    confidence: String,
    repetitions: Option<f64>,
    expected: Expected,
}

/// The expected outputs, on a block's first row.
#[derive(Debug, Clone, Default)]
struct Expected {
    sii: Option<f64>,
    rii: Option<f64>,
    /// Limits per level: `[sii_lower, sii_upper, rii_lower, rii_upper]`.
    limits: [[Option<f64>; 4]; 2],
    intercept: Option<f64>,
}

/// One test case for one area: a block of consecutive rows with the same description and area.
#[derive(Debug, Clone)]
struct Case {
    description: String,
    area: String,
    rows: Vec<Row>,
}

fn number(cell: &Data) -> Option<f64> {
    match cell {
        Data::Float(x) => Some(*x),
        Data::Int(x) => Some(*x as f64),
        _ => None,
    }
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(x) => format!("{x}"),
        Data::Int(x) => format!("{x}"),
        _ => String::new(),
    }
}

fn load_rows() -> Vec<Row> {
    let path = Path::new(WORKBOOK);
    let mut workbook: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| {
        panic!(
            "PHEindicatormethods test workbook missing: could not open {} ({e}). \
             It is expected in shared/reference/pheindicatormethods-testdata/ beside the repository.",
            path.display()
        )
    });
    let range = workbook
        .worksheet_range("testdata_SII")
        .unwrap_or_else(|e| panic!("{}: no sheet `testdata_SII` ({e})", path.display()));
    let mut rows = range.rows();
    let header: Vec<String> =
        rows.next().unwrap_or_else(|| panic!("{}: the sheet is empty", path.display())).iter().map(text).collect();
    let column: HashMap<&str, usize> = header.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let col = |name: &str| {
        *column.get(name).unwrap_or_else(|| panic!("{}: no column `{name}` in the header {header:?}", path.display()))
    };
    let names = [
        "RecordNo",
        "TestDescription",
        "Area",
        "Population",
        "Count",
        "Value",
        "ValueType",
        "LowerCL",
        "UpperCL",
        "StandardError",
        "Confidence",
        "Repetitions",
        "sii",
        "rii",
        "sii_lowercl_1",
        "sii_uppercl_1",
        "rii_lowercl_1",
        "rii_uppercl_1",
        "sii_lowercl_2",
        "sii_uppercl_2",
        "rii_lowercl_2",
        "rii_uppercl_2",
        "Intercept",
    ];
    let at: HashMap<&str, usize> = names.iter().map(|&n| (n, col(n))).collect();
    rows.enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| *c != Data::Empty))
        .map(|(i, cells)| {
            let line = i + 2;
            let get = |name: &str| cells.get(at[name]).unwrap_or(&Data::Empty);
            let num = |name: &str| number(get(name));
            let required = |name: &str| {
                num(name).unwrap_or_else(|| {
                    panic!("{} row {line}: column `{name}` is not a number: {:?}", path.display(), get(name))
                })
            };
            let limit = |name: &str| num(name);
            Row {
                record: required("RecordNo") as u32,
                description: text(get("TestDescription")),
                area: text(get("Area")),
                population: num("Population"),
                count: num("Count"),
                value: num("Value"),
                value_type: required("ValueType") as u32,
                lower: num("LowerCL"),
                upper: num("UpperCL"),
                se: num("StandardError"),
                confidence: text(get("Confidence")),
                repetitions: num("Repetitions"),
                expected: Expected {
                    sii: num("sii"),
                    rii: num("rii"),
                    limits: [
                        [
                            limit("sii_lowercl_1"),
                            limit("sii_uppercl_1"),
                            limit("rii_lowercl_1"),
                            limit("rii_uppercl_1"),
                        ],
                        [
                            limit("sii_lowercl_2"),
                            limit("sii_uppercl_2"),
                            limit("rii_lowercl_2"),
                            limit("rii_uppercl_2"),
                        ],
                    ],
                    intercept: num("Intercept"),
                },
            }
        })
        .collect()
}

fn load_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for row in load_rows() {
        match cases.last_mut() {
            Some(case) if case.description == row.description && case.area == row.area => {
                case.rows.push(row);
            }
            _ => cases.push(Case { description: row.description.clone(), area: row.area.clone(), rows: vec![row] }),
        }
    }
    cases
}

/// The cases with expected results (not the error and warning blocks).
fn calculation_cases() -> Vec<Case> {
    let cases: Vec<Case> = load_cases().into_iter().filter(|c| !c.description.contains("handling")).collect();
    // 22 calculation tests, for two areas each.
    assert_eq!(cases.len(), 44, "the workbook's calculation cases");
    cases
}

fn case_named(description: &str) -> Case {
    load_cases()
        .into_iter()
        .find(|c| c.description == description)
        .unwrap_or_else(|| panic!("no case `{description}` in the workbook"))
}

impl Case {
    fn name(&self) -> String {
        format!("`{}` {} (record {})", self.description, self.area, self.rows[0].record)
    }

    fn value_type(&self) -> ValueType {
        match self.rows[0].value_type {
            0 => ValueType::Other,
            1 => ValueType::Rate,
            2 => ValueType::Proportion,
            other => panic!("{}: unknown ValueType {other}", self.name()),
        }
    }

    fn transform(&self) -> bool {
        self.description.contains("transform")
    }

    fn multiplier(&self) -> f64 {
        if self.description.contains("x -100") {
            -100.0
        } else if self.description.contains("x 100") {
            100.0
        } else if self.description.contains("negative multiplier") {
            -1.0
        } else {
            1.0
        }
    }

    fn confidence(&self) -> Vec<ConfidenceLevel> {
        // The 98% cases kept the column's 95 from the sheet they were copied from; testSII.R
        // passes the levels its description names.
        let percent = |p: f64| ConfidenceLevel::from_percent(p).expect("a valid percentage");
        if self.description.contains("98") {
            return if self.description.contains("95") {
                vec![percent(95.0), percent(98.0)]
            } else {
                vec![percent(98.0)]
            };
        }
        self.rows[0]
            .confidence
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let percent: f64 = s.parse().unwrap_or_else(|e| panic!("{}: confidence {s}: {e}", self.name()));
                ConfidenceLevel::from_percent(percent).expect("a valid percentage")
            })
            .collect()
    }

    fn repetitions(&self) -> u32 {
        self.rows[0].repetitions.map_or(100_000, |r| r as u32)
    }

    fn options(&self) -> SiiOptions {
        let mut options = SiiOptions::new(self.value_type())
            .quantiles(self.rows.len())
            .and_then(|o| o.multiplier(self.multiplier()))
            .and_then(|o| o.confidence(&self.confidence()))
            .and_then(|o| o.repetitions(self.repetitions()))
            .unwrap_or_else(|e| panic!("{}: {e}", self.name()));
        if self.transform() {
            options = options.transformed().expect("rates and proportions can be transformed");
        }
        options
    }

    /// The quantiles with the given kind of uncertainty.
    fn quantiles(&self, with_se: bool) -> Vec<QuantileInput> {
        self.rows
            .iter()
            .map(|r| {
                let missing = f64::NAN;
                let population = r.population.unwrap_or(missing);
                let value = Value::Given(r.value.unwrap_or(missing));
                if with_se && self.value_type() == ValueType::Other {
                    // Life expectancy by quantile, as `life_expectancy` reports it.
                    let le = LifeExpectancyEstimate {
                        value: r.value.unwrap_or(missing),
                        lower: r.lower.unwrap_or(missing),
                        upper: r.upper.unwrap_or(missing),
                        standard_error: r.se.unwrap_or(missing),
                    };
                    QuantileInput::from_life_expectancy(population, &le)
                } else if with_se {
                    QuantileInput::new(population, value, Uncertainty::StandardError(r.se.unwrap_or(missing)))
                } else {
                    let lower = r.lower.unwrap_or(missing);
                    let upper = r.upper.unwrap_or(missing);
                    QuantileInput::new(population, value, Uncertainty::Limits95 { lower, upper })
                }
            })
            .collect()
    }

    /// Runs the case as `testSII.R` does: limits when the transform needs them, else the
    /// standard error when the workbook has one.
    fn run(&self) -> SiiEstimate {
        let with_se = !self.transform() && self.rows.iter().all(|r| r.se.is_some());
        sii(&self.quantiles(with_se), &self.options()).unwrap_or_else(|r| panic!("{}: not reported: {r}", self.name()))
    }
}

fn assert_relative(what: &str, case: &Case, got: f64, want: f64, tolerance: f64) {
    let scale = want.abs().max(1e-12);
    assert!(
        (got - want).abs() / scale <= tolerance,
        "{} {what}: got {got}, expected {want} (relative difference {:e})",
        case.name(),
        (got - want).abs() / scale
    );
}

// ---- point estimates ----

#[test]
fn sii_rii_and_intercept_match_the_workbook_to_1e6() {
    let mut checked = 0;
    for case in calculation_cases() {
        let expected = &case.rows[0].expected;
        let got = case.run();
        let want_sii = expected.sii.unwrap_or_else(|| panic!("{}: no expected SII", case.name()));
        assert_relative("SII", &case, got.sii, want_sii, POINT_TOLERANCE);
        if let Some(want) = expected.rii {
            assert_relative("RII", &case, got.rii, want, POINT_TOLERANCE);
        }
        if let Some(want) = expected.intercept {
            assert_relative("intercept", &case, got.intercept, want, POINT_TOLERANCE);
        }
        checked += 1;
    }
    assert_eq!(checked, 44);
}

#[test]
fn standard_error_or_limits_give_the_same_point_estimates() {
    // testSII.R runs the default case both ways against the same expected values.
    let case = case_named("default (e.g. life expectancy) - default parameters");
    let options = case.options();
    let by_se = sii(&case.quantiles(true), &options).expect("reported");
    let by_limits = sii(&case.quantiles(false), &options).expect("reported");
    assert_eq!(by_se.sii, by_limits.sii);
    assert_eq!(by_se.rii, by_limits.rii);
}

// ---- simulated limits ----

/// The Monte Carlo standard error of the difference between two simulated limits at tail
/// probability `p = (1 − c)/2`, one from `ours` draws and one from `theirs`: the p-quantile of `N`
/// draws from a distribution with density `f` has standard error `√(p(1−p)/N) / f(ξ_p)`; for a
/// near-normal distribution `f(ξ_p) = φ(z_p)/σ`, and σ is read from the expected interval,
/// `σ = (U − L) / (2 z_p)`.
fn limit_tolerance(confidence: ConfidenceLevel, lower: f64, upper: f64, ours: u32, theirs: u32) -> f64 {
    let normal = Normal::standard();
    let p = (1.0 - confidence.fraction()) / 2.0;
    let z = normal.inverse_cdf(1.0 - p);
    let sigma = (upper - lower).abs() / (2.0 * z);
    let draws = 1.0 / f64::from(ours) + 1.0 / f64::from(theirs);
    SIMULATION_SES * (p * (1.0 - p) * draws).sqrt() * sigma / normal.pdf(z)
}

#[test]
fn simulated_limits_match_the_workbook_within_simulation_error() {
    let mut checked = 0;
    for case in calculation_cases() {
        let got = case.run();
        let levels = case.confidence();
        assert_eq!(got.intervals.len(), levels.len(), "{}", case.name());
        let reps = case.repetitions();
        let expected_levels = case.rows[0].expected.limits.iter().filter(|l| l[0].is_some()).count();
        let quintiles = case.description.contains("quintiles"); // SII and RII only
        assert_eq!(levels.len(), if quintiles { levels.len() } else { expected_levels }, "{}", case.name());
        for (level, (interval, want)) in got.intervals.iter().zip(&case.rows[0].expected.limits).enumerate() {
            let names = ["SII lower", "SII upper", "RII lower", "RII upper"];
            let values = [interval.sii_lower, interval.sii_upper, interval.rii_lower, interval.rii_upper];
            for pair in [0, 2] {
                let (Some(lo), Some(hi)) = (want[pair], want[pair + 1]) else {
                    continue; // the workbook leaves RII limits out of "without rii" cases
                };
                let tolerance = limit_tolerance(interval.confidence, lo, hi, reps, reps);
                for (i, want) in [(pair, lo), (pair + 1, hi)] {
                    let got = values[i];
                    assert!(
                        (got - want).abs() <= tolerance,
                        "{} level {}: {} {got}, expected {want} ± {tolerance} ({} Monte Carlo SEs)",
                        case.name(),
                        level + 1,
                        names[i],
                        SIMULATION_SES
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 150, "{checked} limits checked");
}

#[test]
fn limits_bracket_the_estimates_and_widen_with_confidence() {
    let case = case_named("default - testing 99% confidence");
    let c95 = ConfidenceLevel::NINETY_FIVE;
    let c99 = ConfidenceLevel::new(0.99).expect("valid");
    let options = case.options().confidence(&[c95, c99]).expect("valid levels");
    let got = sii(&case.quantiles(true), &options).expect("reported");
    let [i95, i99] = [got.intervals[0], got.intervals[1]];
    assert!(i95.sii_lower < got.sii && got.sii < i95.sii_upper);
    assert!(i95.rii_lower < got.rii && got.rii < i95.rii_upper);
    assert!(i99.sii_lower < i95.sii_lower && i95.sii_upper < i99.sii_upper);
}

#[test]
fn the_same_seed_gives_the_same_limits_and_another_seed_close_ones() {
    let case = case_named("rate (e.g. infant mortality) - log transform with intercept");
    let options = case.options().repetitions(10_000).expect("valid");
    let quantiles = case.quantiles(false);
    let first = sii(&quantiles, &options).expect("reported");
    assert_eq!(first, sii(&quantiles, &options).expect("reported"));
    let other = sii(&quantiles, &options.clone().seed(7)).expect("reported");
    assert_ne!(first.intervals, other.intervals);
    let (a, b) = (first.intervals[0], other.intervals[0]);
    let tolerance = limit_tolerance(a.confidence, a.sii_lower, a.sii_upper, 10_000, 10_000);
    assert!((a.sii_lower - b.sii_lower).abs() <= tolerance);
    assert!((a.sii_upper - b.sii_upper).abs() <= tolerance);
}

// ---- what phe_sii refuses (the workbook's error and warning blocks) ----

fn refused(description: &str, value_type: ValueType, build: impl Fn(&Row) -> QuantileInput) -> NotReported {
    let case = case_named(description);
    let quantiles: Vec<QuantileInput> = case.rows.iter().map(build).collect();
    let options = SiiOptions::new(value_type)
        .quantiles(quantiles.len())
        .and_then(|o| o.repetitions(1_000))
        .expect("valid options");
    sii(&quantiles, &options).expect_err("phe_sii refuses this data")
}

fn given(r: &Row) -> Value {
    Value::Given(r.value.unwrap_or(f64::NAN))
}

fn se(r: &Row) -> Uncertainty {
    Uncertainty::StandardError(r.se.unwrap_or(f64::NAN))
}

fn limits(r: &Row) -> Uncertainty {
    Uncertainty::Limits95 { lower: r.lower.unwrap_or(f64::NAN), upper: r.upper.unwrap_or(f64::NAN) }
}

fn population(r: &Row) -> f64 {
    r.population.unwrap_or(f64::NAN)
}

#[test]
fn a_zero_or_negative_population_is_not_reported() {
    let reason = refused("error handling - negative populations", ValueType::Other, |r| {
        QuantileInput::new(population(r), given(r), se(r))
    });
    assert_eq!(reason, NotReported::NonPositivePopulation { quantile: 2 });
}

#[test]
fn a_negative_standard_error_is_not_reported() {
    let reason = refused("error handling - negative counts/standard error", ValueType::Other, |r| {
        QuantileInput::new(population(r), given(r), se(r))
    });
    assert_eq!(reason, NotReported::NegativeStandardError { quantile: 3 });
}

#[test]
fn a_zero_count_is_not_reported_when_the_proportion_comes_from_counts() {
    let reason = refused("error handling - negative counts/standard error", ValueType::Proportion, |r| {
        QuantileInput::new(population(r), Value::Count(r.count.unwrap_or(f64::NAN)), limits(r))
    });
    assert_eq!(reason, NotReported::NonPositiveCount { quantile: 8 });
}

#[test]
fn a_proportion_limit_outside_zero_to_one_is_not_reported() {
    let reason = refused("error handling - invalid proportion in CLs", ValueType::Proportion, |r| {
        QuantileInput::new(population(r), given(r), limits(r))
    });
    assert_eq!(reason, NotReported::ProportionOutsideZeroToOne { quantile: 4 });
}

#[test]
fn a_proportion_value_outside_zero_to_one_is_not_reported() {
    // testSII.R: life expectancies (about 75) passed as proportions.
    let reason = refused("default (e.g. life expectancy) - default parameters", ValueType::Proportion, |r| {
        QuantileInput::new(population(r), given(r), limits(r))
    });
    assert_eq!(reason, NotReported::ProportionOutsideZeroToOne { quantile: 1 });
}

#[test]
fn a_missing_value_limit_or_population_is_not_reported() {
    let missing_value = refused("error handling - missing value field", ValueType::Other, |r| {
        QuantileInput::new(population(r), given(r), se(r))
    });
    assert_eq!(missing_value, NotReported::NonFiniteInput { quantile: 1 });
    let missing_limits = refused("error handling - missing confidence limits and se", ValueType::Other, |r| {
        QuantileInput::new(population(r), given(r), limits(r))
    });
    assert_eq!(missing_limits, NotReported::NonFiniteInput { quantile: 1 });
    // phe_sii drops such an area with a warning; the first gap is quantile 5's population.
    let missing_population =
        refused("warning handling - missing populations, counts or values", ValueType::Other, |r| {
            QuantileInput::new(population(r), given(r), limits(r))
        });
    assert_eq!(missing_population, NotReported::NonFiniteInput { quantile: 5 });
}

#[test]
fn an_area_without_every_quantile_is_not_reported() {
    let case = case_named("default (e.g. life expectancy) - default parameters");
    let nine: Vec<QuantileInput> = case.quantiles(true).into_iter().take(9).collect();
    let options = SiiOptions::default().repetitions(1_000).expect("valid");
    assert_eq!(sii(&nine, &options), Err(NotReported::WrongNumberOfQuantiles { expected: 10, found: 9 }));
}

#[test]
fn more_than_ten_quantiles_are_flagged_as_possibly_unstable() {
    let case = case_named("warning handling - large number of quantiles (>10)");
    assert_eq!(case.rows.len(), 15);
    let options = SiiOptions::default().quantiles(15).and_then(|o| o.repetitions(1_000)).expect("valid");
    let got = sii(&case.quantiles(false), &options).expect("reported");
    assert!(got.many_quantiles);
    assert!(!case_named("default - testing quintiles").run().many_quantiles);
}

#[test]
fn a_standard_error_with_the_transform_is_not_reported() {
    let case = case_named("rate (e.g. infant mortality) - log transform with intercept");
    let options = case.options();
    assert!(options.is_transformed());
    assert_eq!(sii(&case.quantiles(true), &options), Err(NotReported::StandardErrorWithTransform { quantile: 1 }));
}

#[test]
fn a_rate_of_zero_has_no_log_and_is_not_reported() {
    let case = case_named("rate (e.g. infant mortality) - default parameters");
    let mut quantiles = case.quantiles(false);
    quantiles[6].value = Value::Given(0.0);
    assert_eq!(sii(&quantiles, &case.options()), Err(NotReported::OutsideTransformDomain { quantile: 7 }));
}

// ---- properties ----

/// Ten deciles with the given populations whose values lie exactly on `α + β × rank`, with no
/// uncertainty.
fn exact_line(populations: &[f64], alpha: f64, beta: f64) -> Vec<QuantileInput> {
    let total: f64 = populations.iter().sum();
    let mut below = 0.0;
    populations
        .iter()
        .map(|&p| {
            let rank = (below + p / 2.0) / total;
            below += p;
            QuantileInput::new(p, Value::Given(alpha + beta * rank), Uncertainty::StandardError(0.0))
        })
        .collect()
}

fn quick() -> SiiOptions {
    SiiOptions::default().repetitions(1_000).expect("valid")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn values_on_a_line_give_its_slope_and_ratio_with_no_width(
        populations in prop::collection::vec(100.0..50_000.0f64, 10),
        alpha in 50.0..90.0f64,
        beta in -20.0..20.0f64,
    ) {
        let got = sii(&exact_line(&populations, alpha, beta), &quick()).expect("reported");
        prop_assert!((got.sii - beta).abs() < 1e-9);
        prop_assert!((got.rii - (alpha + beta) / alpha).abs() < 1e-9);
        prop_assert!((got.intercept - alpha).abs() < 1e-9);
        let i = got.intervals[0];
        prop_assert!((i.sii_lower - beta).abs() < 1e-9 && (i.sii_upper - beta).abs() < 1e-9);
    }

    #[test]
    fn reversing_the_order_of_quantiles_negates_the_sii(
        populations in prop::collection::vec(100.0..50_000.0f64, 10),
        values in prop::collection::vec(60.0..90.0f64, 10),
    ) {
        let forward: Vec<QuantileInput> = populations
            .iter()
            .zip(&values)
            .map(|(&p, &v)| QuantileInput::new(p, Value::Given(v), Uncertainty::StandardError(1.0)))
            .collect();
        let mut backward = forward.clone();
        backward.reverse();
        let a = sii(&forward, &quick()).expect("reported");
        let b = sii(&backward, &quick()).expect("reported");
        prop_assert!((a.sii + b.sii).abs() < 1e-9 * (1.0 + a.sii.abs()));
    }

    #[test]
    fn a_negative_multiplier_scales_the_sii_and_inverts_the_rii(
        populations in prop::collection::vec(100.0..50_000.0f64, 10),
        values in prop::collection::vec(0.05..0.5f64, 10),
        transform in any::<bool>(),
    ) {
        let quantiles: Vec<QuantileInput> = populations
            .iter()
            .zip(&values)
            .map(|(&p, &v)| {
                let limits = Uncertainty::Limits95 { lower: v * 0.9, upper: v * 1.1 };
                QuantileInput::new(p, Value::Given(v), limits)
            })
            .collect();
        let mut options = SiiOptions::new(ValueType::Proportion).repetitions(1_000).expect("valid");
        if transform {
            options = options.transformed().expect("a proportion");
        }
        let plain = sii(&quantiles, &options).expect("reported");
        let flipped = sii(&quantiles, &options.clone().multiplier(-100.0).expect("valid")).expect("reported");
        prop_assert!((flipped.sii + 100.0 * plain.sii).abs() < 1e-9);
        prop_assert!((flipped.rii * plain.rii - 1.0).abs() < 1e-9);
        if !transform {
            // Without the transform the flipped draws are re-sorted, and R's positions
            // round(R(1 − c′)) and round(R c′) (the 25th and 975th of 1 000) are not mirror images
            // (the 976th and 26th), so the limits swap only to within one order statistic.
            return Ok(());
        }
        let (p, f) = (plain.intervals[0], flipped.intervals[0]);
        prop_assert!((f.sii_lower + 100.0 * p.sii_upper).abs() < 1e-9);
        prop_assert!((f.sii_upper + 100.0 * p.sii_lower).abs() < 1e-9);
        prop_assert!((f.rii_lower * p.rii_upper - 1.0).abs() < 1e-9);
        prop_assert!((f.rii_upper * p.rii_lower - 1.0).abs() < 1e-9);
    }
}

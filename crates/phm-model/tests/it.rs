//! phm-model's integration tests, one test binary (`it`): the typed contract's own rules.

use phm_model::Method;

/// A method is written, read and shown by the name a definition writes, so every output that
/// carries one (CSV, JSON, pages) reads as it did when the method was a string.
#[test]
fn a_method_is_written_and_read_by_the_name_a_definition_writes() {
    for method in Method::ALL {
        let name = method.as_str();
        assert_eq!(method.to_string(), name);
        assert_eq!(Method::from_name(name), Some(method));
        assert_eq!(serde_json::to_string(&method).expect("serialise"), format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<Method>(&format!("\"{name}\"")).expect("deserialise"), method);
    }
}

#[test]
fn every_method_is_listed_once() {
    // No catch-all: a new method fails to compile here until it is given a place in `ALL`.
    let position = |m: Method| match m {
        Method::Proportion => 0,
        Method::CrudeRate => 1,
        Method::Dsr => 2,
        Method::Isr => 3,
        Method::Count => 4,
        Method::LifeExpectancy => 5,
        Method::HealthyLifeExpectancy => 6,
    };
    let positions: Vec<usize> = Method::ALL.into_iter().map(position).collect();
    assert_eq!(positions, (0..Method::ALL.len()).collect::<Vec<_>>());
}

#[test]
fn an_unknown_method_name_is_refused() {
    for name in ["", "Proportion", "proportion ", "mean", "rate", "life-expectancy"] {
        assert_eq!(Method::from_name(name), None, "{name:?}");
        assert!(serde_json::from_str::<Method>(&format!("\"{name}\"")).is_err(), "{name:?}");
    }
}

#[test]
fn only_life_expectancy_counts_its_numerator_outside_the_denominator() {
    let outside: Vec<Method> = Method::ALL.into_iter().filter(|m| !m.numerator_within_denominator()).collect();
    assert_eq!(outside, [Method::LifeExpectancy]);
}

#[test]
fn default_multipliers_give_percentages_rates_per_100000_and_plain_ratios() {
    let by_method: Vec<(&str, f64)> = Method::ALL.into_iter().map(|m| (m.as_str(), m.default_multiplier())).collect();
    assert_eq!(
        by_method,
        [
            ("proportion", 100.0),
            ("crude_rate", 100_000.0),
            ("dsr", 100_000.0),
            ("isr", 1.0),
            ("count", 1.0),
            ("life_expectancy", 1.0),
            ("healthy_life_expectancy", 1.0),
        ]
    );
}

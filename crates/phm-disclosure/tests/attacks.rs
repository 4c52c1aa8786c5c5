//! Attacks on a release, run as tests so that a new derived figure cannot bring them back.
//!
//! **Inversion.** Under a rounding policy a reader knows each published count only to within
//! its rounding bucket (with nearest-5 rounding, 25 numerator–denominator pairs could have
//! given a published pair). A proportion printed in full narrows that down: keep the pairs of
//! the two buckets whose ratio is the published value. Computed from exact counts, the value
//! leaves one pair, the exact one, for most cells (an outside test recovered 97.8% of profile
//! rows). Computed from the published counts ([`Table::ratio`]), it leaves the published pair
//! and its multiples, and the exact pair is never singled out unless it *is* the published one.
//!
//! The attack itself is checked to work: on values computed from exact counts it recovers most
//! exact pairs (`the_attack_recovers_exact_counts_from_values_computed_from_them`), so the
//! property that it recovers none from a release is not vacuous.

use phm_disclosure::{Policy, Rounding, Table, release};
use proptest::prelude::*;

/// Every count that `rounding` publishes as `published`.
fn bucket(rounding: Rounding, published: u64) -> Vec<u64> {
    let width = match rounding {
        Rounding::None => 0,
        Rounding::Nearest { base } | Rounding::Midpoint { base } => base,
    };
    (published.saturating_sub(width)..=published + width).filter(|&x| rounding.apply(x) == published).collect()
}

/// The inversion attack: the pairs the published counts could have come from whose ratio,
/// computed the way the value is computed, is exactly the published value.
fn candidates(rounding: Rounding, numerator: u64, denominator: u64, value: f64, multiplier: f64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for d in bucket(rounding, denominator).into_iter().filter(|&d| d > 0) {
        for n in bucket(rounding, numerator).into_iter().filter(|&n| n <= d) {
            if n as f64 / d as f64 * multiplier == value {
                out.push((n, d));
            }
        }
    }
    out
}

/// Releases one-cell tables of proportions, the value either left to the layer (a ratio of the
/// published counts) or computed by the caller from the exact counts, and returns, per cell,
/// the exact pair, the published pair and what the attack found.
type Outcome = ((u64, u64), (u64, u64), Vec<(u64, u64)>);

fn attack(pairs: &[(u64, u64)], policy: &Policy, ratio_in_layer: bool) -> Vec<Outcome> {
    let multiplier = 100.0;
    let mut table = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
    table.proportion("numerator", "denominator").expect("proportion");
    if ratio_in_layer {
        table.ratio("percent", "numerator", "denominator", multiplier).expect("ratio");
    }
    for (i, &(n, d)) in pairs.iter().enumerate() {
        let exact = (d > 0).then(|| n as f64 / d as f64 * multiplier);
        table.push(format!("cell {i}"), &[n, d], &[exact]).expect("push");
    }
    let released = release(table, policy).expect("release");
    released
        .cells()
        .iter()
        .zip(pairs)
        .filter_map(|(cell, &exact)| {
            let (n, d, v) = (cell.counts()[0].value()?, cell.counts()[1].value()?, cell.derived()[0].value()?);
            Some((exact, (n, d), candidates(policy.rounding(), n, d, v, multiplier)))
        })
        .collect()
}

/// Whether the attack singled out a pair the release did not publish, and got it right.
fn recovered(outcome: &Outcome) -> bool {
    let (exact, published, found) = outcome;
    exact != published && found.as_slice() == [*exact]
}

#[test]
fn the_attack_recovers_exact_counts_from_values_computed_from_them() {
    // Proportions a profile shows every day: 20 to 400 people, any numerator above the
    // threshold. With values from exact counts the attack must find most exact pairs, or the
    // property below proves nothing.
    let pairs: Vec<(u64, u64)> =
        (20u64..=400).step_by(7).flat_map(|d| (8..=d.saturating_sub(8)).step_by(5).map(move |n| (n, d))).collect();
    let public = Policy::builtin("public").expect("public");
    let outcomes = attack(&pairs, &public, false);
    let hidden = outcomes.iter().filter(|(exact, published, _)| exact != published).count();
    let found = outcomes.iter().filter(|o| recovered(o)).count();
    assert!(hidden > 1000, "{hidden} cells whose exact counts rounding hides");
    assert!(
        found * 10 > hidden * 8,
        "the attack recovered only {found} of {hidden} exact pairs: it is too weak to test anything"
    );
}

#[test]
fn ratio_columns_give_the_attack_nothing_on_the_same_cells() {
    let pairs: Vec<(u64, u64)> =
        (20u64..=400).step_by(7).flat_map(|d| (8..=d.saturating_sub(8)).step_by(5).map(move |n| (n, d))).collect();
    let public = Policy::builtin("public").expect("public");
    let outcomes = attack(&pairs, &public, true);
    assert!(outcomes.len() > 1000);
    let found: Vec<&Outcome> = outcomes.iter().filter(|o| recovered(o)).collect();
    assert!(found.is_empty(), "exact counts recovered: {:?}", &found[..found.len().min(5)]);
    // The value is the published counts' ratio, so the published pair is always a candidate.
    assert!(outcomes.iter().all(|(_, published, found)| found.contains(published)));
}

#[test]
fn without_rounding_a_ratio_column_is_the_exact_ratio() {
    let analyst = Policy::builtin("analyst").expect("analyst");
    let pairs = [(17u64, 130u64), (250, 251), (0, 9), (9, 9)];
    let mut table = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
    table.ratio("percent", "numerator", "denominator", 100.0).expect("ratio");
    for (i, (n, d)) in pairs.iter().enumerate() {
        table.push(i, &[*n, *d], &[None]).expect("push");
    }
    let released = release(table, &analyst).expect("release");
    let values: Vec<Option<f64>> = released.cells().iter().map(|c| c.derived()[0].value()).collect();
    assert_eq!(values, [Some(17.0 / 130.0 * 100.0), Some(250.0 / 251.0 * 100.0), Some(0.0), Some(100.0)]);
}

#[test]
fn a_ratio_over_a_published_zero_is_not_available() {
    let mut table = Table::new(&["events", "population"], &["rate"]).expect("table");
    table.ratio("rate", "events", "population", 1000.0).expect("ratio");
    table.push("empty", &[0, 0], &[Some(12.0)]).expect("push");
    let released = release(table, &Policy::builtin("analyst").expect("analyst")).expect("release");
    let f = released.cells()[0].derived()[0];
    assert_eq!((f.value(), f.status().code()), (None, "not_available"));
}

#[test]
fn a_ratio_must_name_columns_the_table_has() {
    let mut table: Table<&str> = Table::new(&["n", "d"], &["v"]).expect("table");
    assert!(table.ratio("w", "n", "d", 1.0).is_err());
    assert!(table.ratio("v", "n", "x", 1.0).is_err());
    assert!(table.ratio("v", "n", "d", 0.0).is_err());
    assert!(table.ratio("v", "n", "d", f64::NAN).is_err());
    table.ratio("v", "n", "d", 1.0).expect("ratio");
    assert!(table.ratio("v", "n", "d", 2.0).is_err(), "declared twice");
}

fn policy() -> impl Strategy<Value = Policy> {
    let rounding = prop_oneof![
        Just(Rounding::Nearest { base: 5 }),
        Just(Rounding::Nearest { base: 10 }),
        Just(Rounding::Midpoint { base: 6 }),
    ];
    (0u64..=10, any::<bool>(), rounding)
        .prop_filter_map("valid policy", |(t, c, r)| Policy::new("random", t, c, r).ok())
}

proptest! {
    /// Under any rounding policy, on any one-way table with its total, the inversion attack
    /// never singles out an exact pair the release did not publish.
    #[test]
    fn no_rounding_policy_lets_the_inversion_attack_recover_a_count(
        parts in prop::collection::vec((0u64..=600).prop_flat_map(|d| (0..=d, Just(d))), 1..8),
        policy in policy(),
    ) {
        let mut table = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
        table.proportion("numerator", "denominator").expect("proportion");
        table.ratio("percent", "numerator", "denominator", 100.0).expect("ratio");
        let total = parts.iter().fold((0, 0), |(n, d), (pn, pd)| (n + pn, d + pd));
        let mut all = vec![total];
        all.extend(&parts);
        let t = table.push("total".to_owned(), &[total.0, total.1], &[None]).expect("push");
        let cells: Vec<usize> = parts.iter().enumerate().map(|(i, (n, d))| table.push(format!("part {i}"), &[*n, *d], &[None]).expect("push")).collect();
        table.group(t, &cells).expect("group");
        let released = release(table, &policy).expect("release");
        for (cell, exact) in released.cells().iter().zip(&all) {
            let (Some(n), Some(d), Some(v)) = (cell.counts()[0].value(), cell.counts()[1].value(), cell.derived()[0].value()) else { continue };
            let outcome = (*exact, (n, d), candidates(policy.rounding(), n, d, v, 100.0));
            prop_assert!(!recovered(&outcome), "{} recovered from ({n}, {d}, {v})", format!("{exact:?}"));
        }
    }
}

//! Each disclosure rule on a small worked table, with every figure's published value and the
//! reason recorded for it.

use phm_disclosure::{
    Policy, PolicySet, PublishedTable, ReleasedTable, Rounding, Rule, Status, Suppression, Table, audit,
    audit_published, release,
};

fn public() -> Policy {
    Policy::builtin("public").expect("public policy")
}

fn analyst() -> Policy {
    Policy::builtin("analyst").expect("analyst policy")
}

/// Releases a one-count table and returns `(label, shown value, reason)` per cell.
fn shown(table: Table<String>, policy: &Policy) -> Vec<(String, Option<u64>, String)> {
    let released = release(table, policy).expect("releases");
    assert_eq!(audit(&released), []);
    column(&released, 0)
}

/// `(label, shown value, reason)` of one count column.
fn column(released: &ReleasedTable<String>, count: usize) -> Vec<(String, Option<u64>, String)> {
    released
        .cells()
        .iter()
        .map(|c| (c.key().clone(), c.counts()[count].value(), c.counts()[count].status().to_string()))
        .collect()
}

fn row(label: &str, value: Option<u64>, reason: &str) -> (String, Option<u64>, String) {
    (label.to_owned(), value, reason.to_owned())
}

/// A one-count table of named cells, without groups.
fn cells(counts: &[(&str, u64)]) -> Table<String> {
    let mut t = Table::new(&["patients"], &[]).expect("table");
    for (label, n) in counts {
        t.push((*label).to_owned(), &[*n], &[]).expect("cell");
    }
    t
}

const PUBLISHED: &str = "published";
const ROUNDED: &str = "rounded to nearest 5";
const PRIMARY: &str = "suppressed: count 1–7";
const COMPLEMENT: &str = "suppressed: complement 1–7";
const SECONDARY: &str = "suppressed: secondary (protects another cell in the same total)";
const LINKED: &str = "suppressed: secondary (protects a cell that several totals together would reveal)";
const WITHHELD: &str = "withheld: derived from a suppressed count";

#[test]
fn primary_counts_from_one_to_seven_are_suppressed_and_zero_is_not() {
    let table = cells(&[("none", 0), ("one", 1), ("seven", 7), ("eight", 8), ("twelve", 12)]);
    assert_eq!(
        shown(table, &analyst()),
        [
            row("none", Some(0), PUBLISHED),
            row("one", None, PRIMARY),
            row("seven", None, PRIMARY),
            row("eight", Some(8), PUBLISHED),
            row("twelve", Some(12), PUBLISHED),
        ]
    );
}

#[test]
fn public_rounds_every_published_count_to_the_nearest_five_after_suppression() {
    let table = cells(&[("none", 0), ("seven", 7), ("eight", 8), ("twelve", 12), ("thirteen", 13), ("big", 1002)]);
    assert_eq!(
        shown(table, &public()),
        [
            row("none", Some(0), ROUNDED),
            row("seven", None, PRIMARY),
            row("eight", Some(10), ROUNDED),
            row("twelve", Some(10), ROUNDED),
            row("thirteen", Some(15), ROUNDED),
            row("big", Some(1000), ROUNDED),
        ]
    );
}

#[test]
fn a_total_is_rounded_on_its_own_not_summed_from_rounded_parts() {
    // 13 + 13 + 13 = 39: each part shows 15, the total shows 40 (not 45).
    let mut t = cells(&[("ICS", 39), ("A", 13), ("B", 13), ("C", 13)]);
    t.group(0, &[1, 2, 3]).expect("adds up");
    let values: Vec<Option<u64>> = shown(t, &public()).into_iter().map(|(_, v, _)| v).collect();
    assert_eq!(values, [Some(40), Some(15), Some(15), Some(15)]);
}

#[test]
fn midpoint_six_rounding_keeps_zeros_and_shows_band_midpoints() {
    // The OpenSAFELY way for rates: no suppression, every non-zero count to its band's midpoint.
    let set =
        PolicySet::parse("research.toml", "[policies.research]\nthreshold = 0\nrounding = \"midpoint\"\nbase = 6\n")
            .expect("policy");
    let research = set.get("research").expect("research");
    let table = cells(&[("zero", 0), ("one", 1), ("six", 6), ("seven", 7), ("twelve", 12), ("thirteen", 13)]);
    let m = "rounded to midpoint 6";
    assert_eq!(
        shown(table, research),
        [
            row("zero", Some(0), m),
            row("one", Some(3), m),
            row("six", Some(3), m),
            row("seven", Some(9), m),
            row("twelve", Some(9), m),
            row("thirteen", Some(15), m),
        ]
    );
}

/// A proportion table: numerator, denominator and a percentage from the exact counts.
fn proportions(rows: &[(&str, u64, u64)]) -> Table<String> {
    let mut t = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
    t.proportion("numerator", "denominator").expect("proportion");
    for (label, n, d) in rows {
        t.push((*label).to_owned(), &[*n, *d], &[Some(100.0 * *n as f64 / *d as f64)]).expect("cell");
    }
    t
}

#[test]
fn a_small_complement_suppresses_the_numerator_and_its_percentage() {
    // 95 of 100 vaccinated: "all but 5" discloses as much as "5".
    let table = proportions(&[("all but five", 95, 100), ("all but eight", 92, 100), ("everyone", 100, 100)]);
    let released = release(table, &public()).expect("releases");
    assert_eq!(
        column(&released, 0),
        [
            row("all but five", None, COMPLEMENT),
            row("all but eight", Some(90), ROUNDED),
            row("everyone", Some(100), ROUNDED)
        ]
    );
    assert_eq!(column(&released, 1).iter().map(|(_, v, _)| *v).collect::<Vec<_>>(), [Some(100); 3]);
    let percent: Vec<String> = released.cells().iter().map(|c| c.derived()[0].status().to_string()).collect();
    assert_eq!(percent, [WITHHELD, PUBLISHED, PUBLISHED]);
    assert_eq!(released.cells()[1].derived()[0].value(), Some(92.0));
    assert_eq!(audit(&released), []);

    // The analyst policy has the complement rule off: the numerator is shown.
    let released = release(proportions(&[("all but five", 95, 100)]), &analyst()).expect("releases");
    assert_eq!(column(&released, 0), [row("all but five", Some(95), PUBLISHED)]);
}

#[test]
fn every_derived_figure_of_a_cell_with_a_suppressed_count_is_withheld() {
    // A small denominator hides the rate and its confidence limits, even with a zero numerator.
    let mut t = Table::new(&["events", "population"], &["rate", "lower", "upper"]).expect("table");
    t.push("small population".to_owned(), &[0, 5], &[Some(0.0), Some(0.0), Some(52.2)]).expect("cell");
    t.push("large population".to_owned(), &[40, 2000], &[Some(20.0), Some(14.3), Some(27.2)]).expect("cell");
    t.push("no rate".to_owned(), &[40, 2000], &[None, None, None]).expect("cell");
    let released = release(t, &analyst()).expect("releases");
    let derived: Vec<Vec<(Option<f64>, String)>> = released
        .cells()
        .iter()
        .map(|c| c.derived().iter().map(|f| (f.value(), f.status().to_string())).collect())
        .collect();
    let w = (None, WITHHELD.to_owned());
    let p = |v: f64| (Some(v), PUBLISHED.to_owned());
    let na = (None, "not available".to_owned());
    assert_eq!(
        derived,
        [vec![w.clone(), w.clone(), w], vec![p(20.0), p(14.3), p(27.2)], vec![na.clone(), na.clone(), na]]
    );
    assert_eq!(column(&released, 0)[0], row("small population", Some(0), PUBLISHED));
    assert_eq!(column(&released, 1)[0], row("small population", None, PRIMARY));
}

#[test]
fn a_lone_suppression_in_a_total_takes_the_smallest_non_zero_part_with_it() {
    // ICS 52 = 3 + 0 + 20 + 29. Without a second suppression, A = 52 − 0 − 20 − 29. The zero
    // part protects nothing, so B (20) is suppressed, not the zero.
    let mut t = cells(&[("ICS", 52), ("A", 3), ("zero", 0), ("B", 20), ("C", 29)]);
    t.group(0, &[1, 2, 3, 4]).expect("adds up");
    assert_eq!(
        shown(t, &analyst()),
        [
            row("ICS", Some(52), PUBLISHED),
            row("A", None, PRIMARY),
            row("zero", Some(0), PUBLISHED),
            row("B", None, SECONDARY),
            row("C", Some(29), PUBLISHED)
        ]
    );
}

#[test]
fn a_suppressed_total_takes_a_part_with_it_so_the_parts_do_not_add_up_to_it() {
    // Place 5 = 2 + 3 (all primary); in the ICS total the place is a lone suppression, so the
    // smallest other place goes too. Its own neighbourhoods then have a lone suppression (the
    // total), so the smallest of them goes as well.
    let mut t =
        cells(&[("ICS", 75), ("P1", 5), ("P2", 30), ("P3", 40), ("P1a", 2), ("P1b", 3), ("P2a", 12), ("P2b", 18)]);
    t.group(0, &[1, 2, 3]).expect("ICS adds up");
    t.group(1, &[4, 5]).expect("P1 adds up");
    t.group(2, &[6, 7]).expect("P2 adds up");
    assert_eq!(
        shown(t, &analyst()),
        [
            row("ICS", Some(75), PUBLISHED),
            row("P1", None, PRIMARY),
            row("P2", None, SECONDARY),
            row("P3", Some(40), PUBLISHED),
            row("P1a", None, PRIMARY),
            row("P1b", None, PRIMARY),
            row("P2a", None, SECONDARY),
            row("P2b", Some(18), PUBLISHED),
        ]
    );
}

fn shown_values(table: Table<String>, policy: &Policy) -> Vec<Option<u64>> {
    shown(table, policy).into_iter().map(|(_, v, _)| v).collect()
}

#[test]
fn when_the_other_parts_are_zero_the_total_goes_instead() {
    // top 17 = A 12 + S 5: S is primary, so A goes with it. A is also a part of T 12 = A 12 + Z 0,
    // where it is now a lone suppression. The only other part is zero, which protects nothing,
    // so the total T goes instead: T = A is then known, but neither value.
    let mut t = cells(&[("top", 17), ("A", 12), ("S", 5), ("T", 12), ("Z", 0)]);
    t.group(0, &[1, 2]).expect("top adds up");
    t.group(3, &[1, 4]).expect("T adds up");
    assert_eq!(
        shown(t, &analyst()),
        [
            row("top", Some(17), PUBLISHED),
            row("A", None, SECONDARY),
            row("S", None, PRIMARY),
            row("T", None, SECONDARY),
            row("Z", Some(0), PUBLISHED)
        ]
    );
}

#[test]
fn a_group_whose_only_small_part_is_zero_needs_nothing() {
    // ICS 9 = A 9 + B 0: nothing is suppressed, so nothing needs protecting.
    let mut t = cells(&[("ICS", 9), ("A", 9), ("B", 0)]);
    t.group(0, &[1, 2]).expect("adds up");
    assert_eq!(shown_values(t, &analyst()), [Some(9), Some(9), Some(0)]);
}

/// Builds a two-way table of `interior` counts with a row total per row, a column total per
/// column and a grand total; groups: each row, each column, and the grand total both ways.
/// Cells are pushed row by row, each row followed by its total, then the column totals and the
/// grand total.
fn two_way(interior: &[&[u64]]) -> Table<String> {
    let (rows, cols) = (interior.len(), interior[0].len());
    let mut t = Table::new(&["patients"], &[]).expect("table");
    let mut index = vec![vec![0; cols]; rows];
    let mut row_totals = Vec::new();
    for (r, values) in interior.iter().enumerate() {
        for (c, &v) in values.iter().enumerate() {
            index[r][c] = t.push(format!("r{}c{}", r + 1, c + 1), &[v], &[]).expect("cell");
        }
        row_totals.push(t.push(format!("r{}", r + 1), &[values.iter().sum()], &[]).expect("row total"));
    }
    let col_totals: Vec<usize> = (0..cols)
        .map(|c| t.push(format!("c{}", c + 1), &[interior.iter().map(|r| r[c]).sum()], &[]).expect("column total"))
        .collect();
    let grand = t.push("all".to_owned(), &[interior.iter().flat_map(|r| r.iter()).sum()], &[]).expect("grand total");
    for r in 0..rows {
        t.group(row_totals[r], &index[r]).expect("row adds up");
    }
    for c in 0..cols {
        t.group(col_totals[c], &index.iter().map(|row| row[c]).collect::<Vec<_>>()).expect("column adds up");
    }
    t.group(grand, &row_totals).expect("grand = rows");
    t.group(grand, &col_totals).expect("grand = columns");
    t
}

/// The reasons of every cell of a released two-way table whose reason is not `published`.
fn not_published(table: Table<String>, policy: &Policy) -> Vec<(String, String)> {
    shown(table, policy)
        .into_iter()
        .filter(|(_, _, why)| why != PUBLISHED)
        .map(|(label, _, why)| (label, why))
        .collect()
}

fn why(label: &str, reason: &str) -> (String, String) {
    (label.to_owned(), reason.to_owned())
}

#[test]
fn in_a_two_way_table_one_small_cell_costs_a_rectangle_of_four() {
    //        c1  c2  c3 | total
    //   r1   20   3  15 |  38
    //   r2   12  25  30 |  67
    //   r3   40  18  22 |  80
    // Row 1 and column 2 each need a second suppression (15 and 18, the smallest non-zero
    // parts); that leaves column 3 with one (r1c3), so 22 goes too. The four cells form a
    // rectangle: each row and column total now hides two unknowns whose sum it gives, and
    // r1c2 could be anything from 0 to 18 without changing a published figure.
    let t = two_way(&[&[20, 3, 15], &[12, 25, 30], &[40, 18, 22]]);
    assert_eq!(
        not_published(t, &analyst()),
        [why("r1c2", PRIMARY), why("r1c3", SECONDARY), why("r3c2", SECONDARY), why("r3c3", SECONDARY)]
    );
}

#[test]
fn a_small_cell_joining_two_protected_blocks_is_caught_by_the_linear_check() {
    //        c1  c2  c3  c4 | total
    //   r1    2   3  20  30 |  55
    //   r2    4   5   6  25 |  40
    //   r3   15  18   1   2 |  36
    //   r4   22  14   3   4 |  43
    // Nine primary suppressions; every row and column has at least two, so no total has a lone
    // one. Yet rows r3 and r4 less their published cells give the lower block's sum, column c4
    // less its published cells gives the block's right half, so r3c3 + r4c3 is known, and
    // column c3 less r1c3 and that sum is r2c3. The linear check finds it and suppresses the
    // smallest published part of its row or column, r1c3 (20).
    let t = two_way(&[&[2, 3, 20, 30], &[4, 5, 6, 25], &[15, 18, 1, 2], &[22, 14, 3, 4]]);
    let mut expected: Vec<(String, String)> = ["r1c1", "r1c2", "r2c1", "r2c2", "r2c3", "r3c3", "r3c4", "r4c3", "r4c4"]
        .iter()
        .map(|c| why(c, PRIMARY))
        .collect();
    expected.insert(2, why("r1c3", LINKED));
    assert_eq!(not_published(t, &analyst()), expected);
}

#[test]
fn the_ics_total_minus_the_other_places_does_not_reveal_a_place() {
    // ICS > places > neighbourhoods, two counts. Luton's numerator (4) is primary; in the ICS
    // numerator total the smallest other place (Bedford, 30) goes with it; Bedford's total is
    // then a lone suppression among its neighbourhoods, so its smallest neighbourhood goes too
    // (Luton's are small themselves). The denominators are all large and published, rounded.
    let mut t = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
    t.proportion("numerator", "denominator").expect("proportion");
    let mut push = |label: &str, n: u64, d: u64| {
        t.push(label.to_owned(), &[n, d], &[Some(100.0 * n as f64 / d as f64)]).expect("cell")
    };
    let ics = push("BLMK", 134, 2400);
    let places = [push("Bedford", 30, 600), push("Central Beds", 60, 900), push("Luton", 4, 500), push("MK", 40, 400)];
    let bedford = [push("Bedford N1", 12, 250), push("Bedford N2", 18, 350)];
    let luton = [push("Luton N1", 1, 200), push("Luton N2", 3, 300)];
    t.group(ics, &places).expect("ICS adds up");
    t.group(places[0], &bedford).expect("Bedford adds up");
    t.group(places[2], &luton).expect("Luton adds up");
    let released = release(t, &public()).expect("releases");
    assert_eq!(audit(&released), []);
    let numerators: Vec<(String, String)> =
        column(&released, 0).into_iter().filter(|(_, _, w)| w != ROUNDED).map(|(l, _, w)| (l, w)).collect();
    assert_eq!(
        numerators,
        [
            why("Bedford", SECONDARY),
            why("Luton", PRIMARY),
            why("Bedford N1", SECONDARY),
            why("Luton N1", PRIMARY),
            why("Luton N2", PRIMARY)
        ]
    );
    assert!(column(&released, 1).iter().all(|(_, v, w)| v.is_some() && w == ROUNDED));
    let withheld: Vec<&str> = released
        .cells()
        .iter()
        .filter(|c| c.derived()[0].status() == Status::Withheld)
        .map(|c| c.key().as_str())
        .collect();
    assert_eq!(withheld, ["Bedford", "Luton", "Bedford N1", "Luton N1", "Luton N2"]);
}

#[test]
fn statuses_have_stable_codes() {
    let codes: Vec<&str> = [
        Status::Published,
        Status::Rounded(Rounding::Nearest { base: 5 }),
        Status::Suppressed(Suppression::Primary { threshold: 7 }),
        Status::Suppressed(Suppression::Complement { threshold: 7 }),
        Status::Suppressed(Suppression::Secondary),
        Status::Suppressed(Suppression::Linked),
        Status::Withheld,
        Status::NotAvailable,
    ]
    .iter()
    .map(|s| s.code())
    .collect();
    assert_eq!(
        codes,
        [
            "published",
            "rounded",
            "suppressed_primary",
            "suppressed_complement",
            "suppressed_secondary",
            "suppressed_linked",
            "withheld",
            "not_available"
        ]
    );
}

#[test]
fn a_table_that_does_not_add_up_is_refused_with_its_cells_named() {
    let mut t = cells(&[("ICS", 50), ("A", 20), ("B", 25)]);
    let err = t.group(0, &[1, 2]).expect_err("45 ≠ 50");
    assert_eq!(err.to_string(), "Invalid table: `patients` of total `ICS` is 50, but its parts (A, B) add up to 45");
    assert_eq!(
        t.group(0, &[1, 1]).expect_err("twice").to_string(),
        "Invalid table: group for `patients` with total `ICS` lists part `A` twice"
    );
    assert_eq!(
        t.group(0, &[0, 1]).expect_err("self").to_string(),
        "Invalid table: group for `patients`: `ICS` is both the total and one of its parts"
    );
    assert_eq!(
        t.group(0, &[7]).expect_err("no cell").to_string(),
        "Invalid table: group for `patients` names cell 7, but the table has 3 cells"
    );
    assert_eq!(
        t.push("C".to_owned(), &[1, 2], &[]).expect_err("two counts").to_string(),
        "Invalid table: cell `C` has 2 counts and 0 derived figures; expected the table's columns: counts [patients], derived []"
    );
    let mut p = proportions(&[("ok", 3, 10)]);
    assert_eq!(
        p.push("bad".to_owned(), &[11, 10], &[Some(110.0)]).expect_err("n > d").to_string(),
        "Invalid table: cell `bad`: numerator `numerator` = 11 exceeds denominator `denominator` = 10"
    );
    assert!(p.push("nan".to_owned(), &[1, 10], &[Some(f64::NAN)]).is_err());
    assert!(Table::<String>::new(&["n", "n"], &[]).is_err());
    assert!(Table::<String>::new(&[], &["rate"]).is_err());
}

/// A published one-count table with a total and three parts, for the audit.
fn published(values: &[Option<u64>]) -> PublishedTable<&'static str> {
    let mut t = PublishedTable::new(&["patients"], &["rate"]).expect("table");
    for (label, v) in ["ICS", "A", "B", "C"].into_iter().zip(values) {
        t.push(label, &[*v], &[None]).expect("row");
    }
    t.group(0, &[1, 2, 3]).expect("group");
    t
}

#[test]
fn the_audit_lists_every_figure_that_breaks_the_policy() {
    let public = public();
    // Clean: suppressed in pairs, rounded to 5, no small counts.
    assert_eq!(audit_published(&public, &published(&[Some(50), None, None, Some(30)])), []);

    let rules = |t: &PublishedTable<&str>| {
        audit_published(&public, t).into_iter().map(|v| (v.label, v.rule)).collect::<Vec<_>>()
    };
    // A small count, and a count not rounded to 5.
    assert_eq!(
        rules(&published(&[Some(50), Some(5), Some(12), Some(30)])),
        [
            ("A".to_owned(), Rule::SmallCount { value: 5, threshold: 7 }),
            ("B".to_owned(), Rule::OffGrid { value: 12, rounding: Rounding::Nearest { base: 5 } })
        ]
    );
    // One suppression alone in its total.
    assert_eq!(
        rules(&published(&[Some(50), None, Some(20), Some(30)])),
        [("A".to_owned(), Rule::LoneSuppression { group: 0 })]
    );

    // A rate published beside a suppressed count.
    let mut t = PublishedTable::new(&["events"], &["rate"]).expect("table");
    t.push("A", &[None], &[Some(1.2)]).expect("row");
    let found = audit_published(&public, &t);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string(),
        "cell 0 `A`, `rate`: derived figure published although count `events` is suppressed"
    );

    // A small complement, checked when counts are exact.
    let mut t = PublishedTable::new(&["numerator", "denominator"], &[]).expect("table");
    t.proportion("numerator", "denominator").expect("proportion");
    t.push("A", &[Some(95), Some(100)], &[]).expect("row");
    let strict = Policy::new("strict", 7, true, Rounding::None).expect("policy");
    assert_eq!(
        audit_published(&strict, &t).into_iter().map(|v| v.rule).collect::<Vec<_>>(),
        [Rule::SmallComplement { numerator: 95, denominator: 100, threshold: 7 }]
    );
}

#[test]
fn the_audit_finds_a_count_that_several_totals_reveal_together() {
    // The two-blocks table of the linear-check example, published with only the nine primary
    // suppressions: no total has a lone suppression, but r2c3 is determined.
    let interior: [[u64; 4]; 4] = [[2, 3, 20, 30], [4, 5, 6, 25], [15, 18, 1, 2], [22, 14, 3, 4]];
    let mut t = PublishedTable::new(&["patients"], &[]).expect("table");
    let mut index = [[0usize; 4]; 4];
    let mut row_totals = Vec::new();
    for r in 0..4 {
        for c in 0..4 {
            let v = interior[r][c];
            index[r][c] = t.push(format!("r{}c{}", r + 1, c + 1), &[(v > 7).then_some(v)], &[]).expect("cell");
        }
        row_totals.push(t.push(format!("r{}", r + 1), &[Some(interior[r].iter().sum())], &[]).expect("row"));
    }
    let col_totals: Vec<usize> = (0..4)
        .map(|c| t.push(format!("c{}", c + 1), &[Some(interior.iter().map(|r| r[c]).sum())], &[]).expect("col"))
        .collect();
    for r in 0..4 {
        t.group(row_totals[r], &index[r]).expect("row group");
    }
    for c in 0..4 {
        t.group(col_totals[c], &index.iter().map(|row| row[c]).collect::<Vec<_>>()).expect("col group");
    }
    let found: Vec<(String, Rule)> = audit_published(&analyst(), &t).into_iter().map(|v| (v.label, v.rule)).collect();
    assert_eq!(found, [("r2c3".to_owned(), Rule::Recoverable)]);
}

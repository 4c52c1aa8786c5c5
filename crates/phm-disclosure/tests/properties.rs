//! Properties of `release` on random tables (one-way with a total, two-way with row, column
//! and grand totals, and the ICS > places > neighbourhoods hierarchy) under random policies:
//!
//! (a) no published figure breaks the policy;
//! (b) no suppressed count is determined by the published figures, checked by a naive
//!     exact-rational rank test written here, independent of the crate's elimination;
//! (c) published counts are the exact counts, rounded by the policy, and nothing small is shown;
//! (d) releasing the same table twice gives the same result.
//!
//! And the audit's linear check agrees with the naive rank test on random suppression patterns.

use phm_disclosure::{Group, Policy, PublishedTable, Rounding, Rule, Status, Table, audit, audit_published, release};
use proptest::prelude::*;

/// A numerator and denominator, numerator ≤ denominator.
type Pair = (u64, u64);

/// Counts skewed towards the small values disclosure control is about.
fn pair() -> impl Strategy<Value = Pair> {
    prop_oneof![0u64..=12, 0u64..=40, 0u64..=400]
        .prop_flat_map(|d| (prop_oneof![0..=d, d.saturating_sub(10)..=d], Just(d)))
}

/// Mostly tiny counts, so that most cells of a table are suppressed.
fn small_pair() -> impl Strategy<Value = Pair> {
    prop_oneof![3 => 0u64..=9, 1 => 0u64..=60].prop_flat_map(|d| (0..=d, Just(d)))
}

fn policy() -> impl Strategy<Value = Policy> {
    let rounding = prop_oneof![
        Just(Rounding::None),
        Just(Rounding::Nearest { base: 5 }),
        Just(Rounding::Nearest { base: 10 }),
        Just(Rounding::Midpoint { base: 6 }),
    ];
    // Combinations that would show a rounded count inside 1..=threshold are invalid policies.
    (0u64..=10, any::<bool>(), rounding)
        .prop_filter_map("valid policy", |(t, c, r)| Policy::new("random", t, c, r).ok())
}

#[derive(Debug, Clone)]
enum Shape {
    /// Parts of one total.
    OneWay(Vec<Pair>),
    /// Interior cells, row by row, with margins.
    TwoWay(Vec<Vec<Pair>>),
    /// Places, each a list of neighbourhoods, under one ICS.
    Hierarchy(Vec<Vec<Pair>>),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        prop::collection::vec(pair(), 1..10).prop_map(Shape::OneWay),
        (1usize..=5, 1usize..=5)
            .prop_flat_map(|(r, c)| prop::collection::vec(prop::collection::vec(pair(), c), r))
            .prop_map(Shape::TwoWay),
        prop::collection::vec(prop::collection::vec(pair(), 1..=4), 1..=4).prop_map(Shape::Hierarchy),
    ]
}

/// Two-way tables of 3–6 rows and columns dense with small counts: where suppressions chain
/// across rows and columns and the linear check has the most to do.
fn dense_two_way() -> impl Strategy<Value = Shape> {
    (3usize..=6, 3usize..=6)
        .prop_flat_map(|(r, c)| prop::collection::vec(prop::collection::vec(small_pair(), c), r))
        .prop_map(Shape::TwoWay)
}

fn sum(pairs: &[Pair]) -> Pair {
    pairs.iter().fold((0, 0), |(n, d), &(a, b)| (n + a, d + b))
}

/// The table for a shape: counts `numerator`, `denominator` (a proportion), and a derived
/// percentage from the exact counts (`None` for a zero denominator).
fn table(shape: &Shape) -> Table<String> {
    let mut t = Table::new(&["numerator", "denominator"], &["percent"]).expect("table");
    t.proportion("numerator", "denominator").expect("proportion");
    let push = |t: &mut Table<String>, label: String, (n, d): Pair| {
        let percent = (d > 0).then(|| 100.0 * n as f64 / d as f64);
        t.push(label, &[n, d], &[percent]).expect("cell")
    };
    match shape {
        Shape::OneWay(parts) => {
            let total = push(&mut t, "total".into(), sum(parts));
            let ids: Vec<usize> =
                parts.iter().enumerate().map(|(i, &p)| push(&mut t, format!("part {i}"), p)).collect();
            t.group(total, &ids).expect("adds up");
        }
        Shape::TwoWay(rows) => {
            let cols = rows[0].len();
            let mut ids = Vec::new();
            let mut row_totals = Vec::new();
            for (r, row) in rows.iter().enumerate() {
                ids.push(
                    row.iter().enumerate().map(|(c, &p)| push(&mut t, format!("r{r}c{c}"), p)).collect::<Vec<_>>(),
                );
                row_totals.push(push(&mut t, format!("r{r}"), sum(row)));
            }
            let col_totals: Vec<usize> = (0..cols)
                .map(|c| push(&mut t, format!("c{c}"), sum(&rows.iter().map(|row| row[c]).collect::<Vec<_>>())))
                .collect();
            let grand = push(&mut t, "all".into(), sum(&rows.concat()));
            for (r, row) in ids.iter().enumerate() {
                t.group(row_totals[r], row).expect("row adds up");
            }
            for c in 0..cols {
                t.group(col_totals[c], &ids.iter().map(|row| row[c]).collect::<Vec<_>>()).expect("column adds up");
            }
            t.group(grand, &row_totals).expect("grand = rows");
            t.group(grand, &col_totals).expect("grand = columns");
        }
        Shape::Hierarchy(places) => {
            let ics = push(&mut t, "ICS".into(), sum(&places.concat()));
            let place_ids: Vec<usize> =
                places.iter().enumerate().map(|(p, n)| push(&mut t, format!("place {p}"), sum(n))).collect();
            for (p, neighbourhoods) in places.iter().enumerate() {
                let ids: Vec<usize> = neighbourhoods
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| push(&mut t, format!("place {p} nbhd {i}"), n))
                    .collect();
                t.group(place_ids[p], &ids).expect("place adds up");
            }
            t.group(ics, &place_ids).expect("ICS adds up");
        }
    }
    t
}

/// An exact rational, denominator positive and coprime to the numerator.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Q {
    n: i128,
    d: i128,
}

impl Q {
    fn int(n: i128) -> Q {
        Q { n, d: 1 }
    }
    fn new(n: i128, d: i128) -> Q {
        fn gcd(a: i128, b: i128) -> i128 {
            if b == 0 { a.abs() } else { gcd(b, a % b) }
        }
        let g = gcd(n, d).max(1) * d.signum();
        Q { n: n / g, d: d / g }
    }
    fn is_zero(self) -> bool {
        self.n == 0
    }
    fn sub(self, o: Q) -> Q {
        Q::new(self.n * o.d - o.n * self.d, self.d * o.d)
    }
    fn mul(self, o: Q) -> Q {
        Q::new(self.n * o.n, self.d * o.d)
    }
    fn div(self, o: Q) -> Q {
        Q::new(self.n * o.d, self.d * o.n)
    }
}

/// Rank by plain Gaussian elimination over the rationals.
fn rank(mut m: Vec<Vec<Q>>) -> usize {
    let cols = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for c in 0..cols {
        let Some(p) = (rank..m.len()).find(|&r| !m[r][c].is_zero()) else { continue };
        m.swap(rank, p);
        for r in rank + 1..m.len() {
            if !m[r][c].is_zero() {
                let f = m[r][c].div(m[rank][c]);
                let pivot = m[rank].clone();
                for (x, p) in m[r].iter_mut().zip(pivot).skip(c) {
                    *x = x.sub(f.mul(p));
                }
            }
        }
        rank += 1;
    }
    rank
}

/// Suppressed entries (cell · n_counts + count) whose unit vector lies in the row space of the
/// group equations restricted to the suppressed entries: rank(A) = rank(A + e_j).
fn determined_naively(groups: &[Group], n_counts: usize, suppressed: &[bool]) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..suppressed.len()).filter(|&e| suppressed[e]).collect();
    let column = |e: usize| unknowns.iter().position(|&u| u == e);
    let a: Vec<Vec<Q>> = groups
        .iter()
        .map(|g| {
            let mut row = vec![Q::int(0); unknowns.len()];
            if let Some(j) = column(g.total() * n_counts + g.count()) {
                row[j] = Q::int(1);
            }
            for &p in g.parts() {
                if let Some(j) = column(p * n_counts + g.count()) {
                    row[j] = Q::int(-1);
                }
            }
            row
        })
        .collect();
    let base = rank(a.clone());
    unknowns
        .iter()
        .enumerate()
        .filter(|&(j, _)| {
            let mut with_unit = a.clone();
            let mut unit = vec![Q::int(0); unknowns.len()];
            unit[j] = Q::int(1);
            with_unit.push(unit);
            rank(with_unit) == base
        })
        .map(|(_, &e)| e)
        .collect()
}

/// Releases the shape's table under `policy` and checks properties (a)–(d).
fn check_release(shape: &Shape, policy: &Policy) -> Result<(), TestCaseError> {
    let input = table(shape);
    let released = release(input.clone(), policy).expect("releases");
    let n_counts = input.count_names().len();
    let rounding = policy.rounding();

    // (a) The audit finds nothing, and the rules hold when checked directly.
    prop_assert_eq!(audit(&released), vec![]);
    let mut suppressed = vec![false; input.len() * n_counts];
    for (i, (before, after)) in input.cells().iter().zip(released.cells()).enumerate() {
        let mut any_suppressed = false;
        for (c, (&exact, figure)) in before.counts().iter().zip(after.counts()).enumerate() {
            match figure.value() {
                // (c) Published counts are the exact ones, rounded; nothing small is shown.
                Some(shown) => {
                    prop_assert_eq!(shown, rounding.apply(exact));
                    prop_assert!(!policy.is_small(exact), "{} shown for exact {}", shown, exact);
                    prop_assert!(rounding.is_on_grid(shown));
                    prop_assert!(figure.status().is_published());
                }
                None => {
                    prop_assert!(matches!(figure.status(), Status::Suppressed(_)));
                    suppressed[i * n_counts + c] = true;
                    any_suppressed = true;
                }
            }
        }
        if policy.complement() && policy.is_small(before.counts()[1] - before.counts()[0]) {
            prop_assert_eq!(after.counts()[0].value(), None, "small complement shown in {}", after.key());
        }
        for (&exact, figure) in before.derived().iter().zip(after.derived()) {
            if any_suppressed {
                prop_assert_eq!(figure.status(), Status::Withheld);
            } else {
                prop_assert_eq!(figure.value(), exact);
            }
        }
    }
    for g in input.groups() {
        let hidden = g.cells().filter(|&cell| suppressed[cell * n_counts + g.count()]).count();
        prop_assert_ne!(hidden, 1, "lone suppression in {:?}", g);
    }

    // (b) No suppressed count is determined by the published figures.
    prop_assert_eq!(determined_naively(input.groups(), n_counts, &suppressed), Vec::<usize>::new());

    // (d) Deterministic.
    prop_assert_eq!(release(input, policy).expect("releases again"), released);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn released_tables_keep_the_policy(shape in shape(), policy in policy()) {
        check_release(&shape, &policy)?;
    }

    #[test]
    fn dense_two_way_tables_keep_the_policy(shape in dense_two_way(), policy in policy()) {
        check_release(&shape, &policy)?;
    }

    #[test]
    fn the_audits_linear_check_agrees_with_the_naive_rank_test(shape in shape(), mask in prop::collection::vec(any::<bool>(), 200)) {
        // Publish exact counts except a random set, and audit with a policy that checks only
        // the groups: every determined suppressed count is reported, and nothing else.
        let input = table(&shape);
        let n_counts = input.count_names().len();
        let suppressed: Vec<bool> = (0..input.len() * n_counts).map(|e| mask[e % mask.len()] && mask[(e * 7 + 3) % mask.len()]).collect();
        let mut published = PublishedTable::new(&["numerator", "denominator"], &[]).expect("table");
        for (i, cell) in input.cells().iter().enumerate() {
            let counts: Vec<Option<u64>> = (0..n_counts).map(|c| (!suppressed[i * n_counts + c]).then_some(cell.counts()[c])).collect();
            published.push(cell.key().clone(), &counts, &[]).expect("row");
        }
        for g in input.groups() {
            published.group_for(&input.count_names()[g.count()], g.total(), g.parts()).expect("group");
        }
        let checks_groups_only = Policy::new("groups", 0, false, Rounding::None).expect("policy");
        let mut reported: Vec<usize> = audit_published(&checks_groups_only, &published)
            .into_iter()
            .map(|v| {
                assert!(matches!(v.rule, Rule::LoneSuppression { .. } | Rule::Recoverable), "{v}");
                v.cell * n_counts + input.count_names().iter().position(|c| *c == v.column).expect("count column")
            })
            .collect();
        reported.sort_unstable();
        reported.dedup();
        prop_assert_eq!(reported, determined_naively(input.groups(), n_counts, &suppressed));
    }
}

//! [`release`]: a [`Table`] of exact counts in, a [`Released`] table of published figures out.
//!
//! The steps, in order:
//!
//! 1. **Primary suppression.** A count from 1 to the policy's threshold is suppressed.
//! 2. **Complement.** If the policy says so, for each declared proportion, a numerator whose
//!    complement `denominator − numerator` is from 1 to the threshold is suppressed: "all but 3"
//!    discloses as much as "3".
//! 3. **Secondary suppression, per group.** No group may have exactly one suppressed entry
//!    (the total or a part), or that entry is the total minus the published parts (or the total
//!    itself, the sum of the parts). For such a group one more entry is suppressed: the
//!    **smallest non-zero published part**; if it has none, the total if non-zero; otherwise
//!    the smallest published zero. Ties go to the earlier cell. Smallest, because it costs the
//!    least information and is most often already small; parts before the total, because totals
//!    (the ICS, a place) are the figures readers most need. Suppressing one group's complement
//!    can leave another group with a lone suppression, so the groups are swept again and again
//!    until none has exactly one (a fixpoint; each sweep suppresses at least one more entry, so
//!    at most as many sweeps as entries).
//! 4. **Linear check.** The fixpoint rules out differencing within one total but not across
//!    several (e.g. row, column and grand totals together). The `solve` module finds every
//!    suppressed count still uniquely determined by the published figures; for the first one,
//!    one more entry is suppressed (same ranking, among the groups containing it, or failing
//!    that among the groups of its connected component), then steps 3–4 are repeated until
//!    nothing is determined. Each round suppresses one more entry, so it ends.
//! 5. **Derived figures.** In a cell with any suppressed count, every derived figure is
//!    withheld.
//! 6. **Rounding.** Published counts are rounded by the policy (independently, totals too);
//!    the linear check uses exact counts, so rounding only adds protection. A derived figure
//!    must not undo the rounding: a proportion computed from exact counts and printed in full
//!    beside counts rounded to 5 singles out the exact pair among the 25 the rounding could have
//!    come from. Ratio columns ([`Table::ratio`]) are therefore computed here, from the
//!    published counts; any other derived figure is the caller's, who must compute it from
//!    counts rounded the same way (as `phm-profiles` does) when the policy rounds.
//!
//! Cost: steps 1–2 and 5–6 are linear in the number of figures. A sweep of step 3 is linear in
//! the total size of the groups. Step 4 eliminates each connected component of `g` groups and
//! `u` suppressed counts in `O(g · u · min(g, u))`, once per extra suppression it makes. For
//! the tables OpenPHM publishes (tens to a few hundred cells) that is well under a millisecond
//! to a few milliseconds.
//!
//! Not covered: bounds. The check is about exact values; an attacker who knows counts are
//! non-negative may still bound a suppressed count by a published total (never tighter than the
//! complementary counts it was hidden with, which are above the threshold unless a zero had to
//! be used).

use std::fmt;

use crate::Released;
use crate::error::{Error, Result};
use crate::policy::{Policy, Rounding};
use crate::solve;
use crate::table::{Group, Shape, Table};

/// Why a count was suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suppression {
    /// The count is from 1 to the threshold.
    Primary {
        /// The policy's threshold.
        threshold: u64,
    },
    /// A proportion's numerator whose complement (denominator − numerator) is from 1 to the
    /// threshold.
    Complement {
        /// The policy's threshold.
        threshold: u64,
    },
    /// The complementary suppression in a total that would otherwise have had exactly one
    /// suppressed entry.
    Secondary,
    /// Suppressed because several totals together would otherwise have revealed another
    /// suppressed count (found by the linear check).
    Linked,
}

/// What happened to one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Published as it is.
    Published,
    /// Published after rounding (whether or not rounding changed the value).
    Rounded(Rounding),
    /// A count not published.
    Suppressed(Suppression),
    /// A derived figure not published because a count of its cell is suppressed.
    Withheld,
    /// A derived figure the caller did not have (`None` in the table), published as blank.
    NotAvailable,
}

impl Status {
    /// Whether the figure's value is shown.
    pub fn is_published(self) -> bool {
        matches!(self, Status::Published | Status::Rounded(_))
    }

    /// A short stable code for files and APIs (`published`, `rounded`, `suppressed_primary`,
    /// `suppressed_complement`, `suppressed_secondary`, `suppressed_linked`, `withheld`,
    /// `not_available`).
    pub fn code(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Rounded(_) => "rounded",
            Status::Suppressed(Suppression::Primary { .. }) => "suppressed_primary",
            Status::Suppressed(Suppression::Complement { .. }) => "suppressed_complement",
            Status::Suppressed(Suppression::Secondary) => "suppressed_secondary",
            Status::Suppressed(Suppression::Linked) => "suppressed_linked",
            Status::Withheld => "withheld",
            Status::NotAvailable => "not_available",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Published => f.write_str("published"),
            Status::Rounded(Rounding::None) => f.write_str("published"),
            Status::Rounded(Rounding::Nearest { base }) => write!(f, "rounded to nearest {base}"),
            Status::Rounded(Rounding::Midpoint { base }) => write!(f, "rounded to midpoint {base}"),
            Status::Suppressed(Suppression::Primary { threshold }) => write!(f, "suppressed: count 1–{threshold}"),
            Status::Suppressed(Suppression::Complement { threshold }) => {
                write!(f, "suppressed: complement 1–{threshold}")
            }
            Status::Suppressed(Suppression::Secondary) => {
                f.write_str("suppressed: secondary (protects another cell in the same total)")
            }
            Status::Suppressed(Suppression::Linked) => {
                f.write_str("suppressed: secondary (protects a cell that several totals together would reveal)")
            }
            Status::Withheld => f.write_str("withheld: derived from a suppressed count"),
            Status::NotAvailable => f.write_str("not available"),
        }
    }
}

/// A released figure: its value if published, and what happened to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure<T> {
    value: Option<T>,
    status: Status,
}

impl<T: Copy> Figure<T> {
    /// The published value (`None` when suppressed, withheld or not available).
    pub fn value(&self) -> Option<T> {
        self.value
    }

    /// What happened to the figure.
    pub fn status(&self) -> Status {
        self.status
    }
}

/// A released cell: the caller's key and its figures, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedCell<K> {
    key: K,
    counts: Vec<Figure<u64>>,
    derived: Vec<Figure<f64>>,
}

impl<K> ReleasedCell<K> {
    /// The caller's label for the cell.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The counts, in the order of the table's count columns.
    pub fn counts(&self) -> &[Figure<u64>] {
        &self.counts
    }

    /// The derived figures, in the order of the table's derived columns.
    pub fn derived(&self) -> &[Figure<f64>] {
        &self.derived
    }

    /// Whether any count of the cell is suppressed (and so every derived figure withheld).
    pub fn has_suppressed_count(&self) -> bool {
        self.counts.iter().any(|c| matches!(c.status, Status::Suppressed(_)))
    }
}

/// A table after disclosure control. Only [`release`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedTable<K> {
    policy: Policy,
    pub(crate) shape: Shape,
    cells: Vec<ReleasedCell<K>>,
}

impl<K> ReleasedTable<K> {
    /// The policy it was released under (for footnotes: [`Policy::summary`]).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The cells, in the order of the input table.
    pub fn cells(&self) -> &[ReleasedCell<K>] {
        &self.cells
    }

    /// The names of the count columns.
    pub fn count_names(&self) -> &[String] {
        &self.shape.counts
    }

    /// The names of the derived columns.
    pub fn derived_names(&self) -> &[String] {
        &self.shape.derived
    }

    /// The position of a count column by name.
    pub fn count_index(&self, name: &str) -> Option<usize> {
        self.shape.counts.iter().position(|c| c == name)
    }

    /// The position of a derived column by name.
    pub fn derived_index(&self, name: &str) -> Option<usize> {
        self.shape.derived.iter().position(|c| c == name)
    }

    /// The groups of the input table.
    pub fn groups(&self) -> &[Group] {
        &self.shape.groups
    }

    /// The cells, by value.
    pub fn into_cells(self) -> Vec<ReleasedCell<K>> {
        self.cells
    }

    /// What was done to a cell's counts, for a file's `disclosure` column: `published` when
    /// every count is shown as computed, otherwise `<count> <status>` for each of the others,
    /// joined by `; ` (e.g. `numerator suppressed: count 1–7; denominator rounded to nearest 5`).
    pub fn counts_status(&self, cell: &ReleasedCell<K>) -> String {
        let changed: Vec<String> = self
            .shape
            .counts
            .iter()
            .zip(&cell.counts)
            .map(|(name, f)| (name, f.status.to_string()))
            .filter(|(_, status)| status != "published")
            .map(|(name, status)| format!("{name} {status}"))
            .collect();
        if changed.is_empty() { "published".to_owned() } else { changed.join("; ") }
    }
}

/// Applies `policy` to `table`: the only way to obtain a [`Released`] value.
///
/// See the [module documentation](self) for the steps. Fails only when a count cannot be
/// protected whatever is suppressed ([`Error::Unprotectable`], which needs contradictory groups)
/// or the groups overflow exact elimination ([`Error::Overflow`]); the table's own consistency
/// was checked as it was built.
///
/// ```
/// use phm_disclosure::{Policy, Status, Table, release};
/// let mut t = Table::new(&["patients"], &[]).unwrap();
/// let ics = t.push("ICS", &[52], &[]).unwrap();
/// let a = t.push("A", &[3], &[]).unwrap();
/// let b = t.push("B", &[20], &[]).unwrap();
/// let c = t.push("C", &[29], &[]).unwrap();
/// t.group(ics, &[a, b, c]).unwrap();
///
/// let released = release(t, &Policy::builtin("public").unwrap()).unwrap();
/// let shown: Vec<Option<u64>> = released.cells().iter().map(|c| c.counts()[0].value()).collect();
/// assert_eq!(shown, [Some(50), None, None, Some(30)]); // B hides A; the rest rounded to 5
/// assert_eq!(released.cells()[2].counts()[0].status().to_string(),
///            "suppressed: secondary (protects another cell in the same total)");
/// ```
pub fn release<K: fmt::Display>(table: Table<K>, policy: &Policy) -> Result<Released<ReleasedTable<K>>> {
    let Table { shape, cells } = table;
    let n_counts = shape.counts.len();
    let value = |e: usize| cells[e / n_counts].counts[e % n_counts];

    // 1–2. Primary and complement suppression.
    let mut suppressed: Vec<Option<Suppression>> = vec![None; cells.len() * n_counts];
    for (i, cell) in cells.iter().enumerate() {
        for (c, &count) in cell.counts.iter().enumerate() {
            if policy.is_small(count) {
                suppressed[i * n_counts + c] = Some(Suppression::Primary { threshold: policy.threshold() });
            }
        }
        if policy.complement() {
            for p in &shape.proportions {
                let e = i * n_counts + p.numerator;
                // numerator ≤ denominator is checked as cells are pushed.
                let complement = cell.counts[p.denominator].saturating_sub(cell.counts[p.numerator]);
                if suppressed[e].is_none() && policy.is_small(complement) {
                    suppressed[e] = Some(Suppression::Complement { threshold: policy.threshold() });
                }
            }
        }
    }

    // 3–4. Secondary suppression until no group has a lone suppression and no suppressed count
    // is determined by the published figures.
    let groups = &shape.groups;
    loop {
        let mut changed = true;
        while changed {
            changed = false;
            for group in groups {
                let mut hidden = entries(group, n_counts).filter(|&e| suppressed[e].is_some());
                if let (Some(_), None) = (hidden.next(), hidden.next()) {
                    let pick = complementary(std::slice::from_ref(group), n_counts, &suppressed, &value);
                    // A group of two or more entries with one suppressed always has a published one.
                    if let Some(e) = pick {
                        suppressed[e] = Some(Suppression::Secondary);
                        changed = true;
                    }
                }
            }
        }
        let is_suppressed = |e: usize| suppressed[e].is_some();
        let determined = solve::determined(groups, n_counts, &is_suppressed)?;
        let Some(&target) = determined.first() else { break };
        let containing: Vec<Group> =
            groups.iter().filter(|g| entries(g, n_counts).any(|e| e == target)).cloned().collect();
        let pick = complementary(&containing, n_counts, &suppressed, &value).or_else(|| {
            let component = solve::components(groups, n_counts, &is_suppressed)
                .into_iter()
                .find(|c| c.entries.binary_search(&target).is_ok())?;
            let linked: Vec<Group> = component.groups.iter().map(|&g| groups[g].clone()).collect();
            complementary(&linked, n_counts, &suppressed, &value)
        });
        match pick {
            Some(e) => suppressed[e] = Some(Suppression::Linked),
            None => {
                return Err(Error::Unprotectable {
                    cell: cells[target / n_counts].key.to_string(),
                    count: shape.counts[target % n_counts].clone(),
                });
            }
        }
    }

    // 5–6. Derived figures and rounding.
    let rounding = policy.rounding();
    let count_status = match rounding {
        Rounding::None => Status::Published,
        r => Status::Rounded(r),
    };
    let ratios = shape.ratios.clone();
    let released = cells
        .into_iter()
        .enumerate()
        .map(|(i, cell)| {
            let counts: Vec<Figure<u64>> = cell
                .counts
                .iter()
                .enumerate()
                .map(|(c, &count)| match suppressed[i * n_counts + c] {
                    Some(s) => Figure { value: None, status: Status::Suppressed(s) },
                    None => Figure { value: Some(rounding.apply(count)), status: count_status },
                })
                .collect();
            let withhold = counts.iter().any(|f| matches!(f.status, Status::Suppressed(_)));
            let derived = cell
                .derived
                .iter()
                .enumerate()
                .map(|(k, &d)| {
                    // A ratio column is the published counts' ratio, whatever the caller pushed.
                    let d = match ratios.iter().find(|r| r.derived == k) {
                        Some(r) => match (counts[r.numerator].value, counts[r.denominator].value) {
                            (Some(n), Some(d)) if d > 0 => Some(n as f64 / d as f64 * r.multiplier),
                            _ => None,
                        },
                        None => d,
                    };
                    match (withhold, d) {
                        (true, _) => Figure { value: None, status: Status::Withheld },
                        (false, None) => Figure { value: None, status: Status::NotAvailable },
                        (false, Some(v)) => Figure { value: Some(v), status: Status::Published },
                    }
                })
                .collect();
            ReleasedCell { key: cell.key, counts, derived }
        })
        .collect();
    Ok(Released::new(ReleasedTable { policy: policy.clone(), shape, cells: released }))
}

/// The entries (cell, count) a group relates, total first.
pub(crate) fn entries(group: &Group, n_counts: usize) -> impl Iterator<Item = usize> + '_ {
    group.cells().map(move |cell| cell * n_counts + group.count)
}

/// The published entry to suppress to protect a suppressed entry in one of `groups`: the
/// smallest non-zero published part, else the smallest non-zero published total, else the
/// smallest published zero; ties to the lower entry (earlier cell).
fn complementary(
    groups: &[Group],
    n_counts: usize,
    suppressed: &[Option<Suppression>],
    value: &dyn Fn(usize) -> u64,
) -> Option<usize> {
    let mut best: Option<((u8, u64, usize), usize)> = None;
    for g in groups {
        let total = g.total * n_counts + g.count;
        for (e, is_total) in
            std::iter::once((total, true)).chain(g.parts.iter().map(|p| (p * n_counts + g.count, false)))
        {
            if suppressed[e].is_some() {
                continue;
            }
            let v = value(e);
            let tier = match (v, is_total) {
                (0, _) => 2,
                (_, false) => 0,
                (_, true) => 1,
            };
            let rank = (tier, v, e);
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, e));
            }
        }
    }
    best.map(|(_, e)| e)
}

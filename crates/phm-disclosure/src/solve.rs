//! Which suppressed counts the published figures still determine.
//!
//! Number the figures of a table as *entries* `e = cell · n_counts + count`. Each [`Group`] is
//! the equation `x[total] − Σ x[part] = 0`. Once the published entries are moved to the right,
//! the suppressed entries `u` satisfy `A u = b`, with one row of `A` per group and one column per
//! suppressed entry (coefficients +1, −1, 0), and `b` known to anyone who reads the table. A
//! suppressed entry `j` is **uniquely determined** exactly when the unit vector `e_j` lies in
//! the row space of `A`: then some combination of the published totals equals `x_j`.
//!
//! Test: bring `A` to reduced row echelon form by exact integer Gauss–Jordan elimination. A
//! free (non-pivot) column is never determined. A pivot column is determined exactly when its
//! row has no other non-zero entry (otherwise the value moves with the free unknowns in that
//! row). Rows with no suppressed entry are zero and are skipped, and the problem splits into
//! connected components (groups linked through shared suppressed entries), each eliminated on
//! its own: for a component with `g` groups and `u` suppressed entries the cost is
//! `O(g · u · min(g, u))` integer operations, and memory `g · u`.
//!
//! The matrices of hierarchies (ICS > places > neighbourhoods) and of two-way tables with
//! margins are totally unimodular, so every entry of their reduced form is −1, 0 or +1; rows
//! are divided by their gcd after each step and arithmetic is checked, so other structures
//! either stay exact or fail with [`Error::Overflow`], never a wrong answer.

use crate::error::{Error, Result};
use crate::table::Group;

/// The suppressed entries that the groups determine, in increasing order.
///
/// `suppressed(e)` says whether entry `e` is suppressed; `n_counts` is the number of count
/// columns (entries of group `g` are `cell · n_counts + g.count`).
pub(crate) fn determined(groups: &[Group], n_counts: usize, suppressed: &dyn Fn(usize) -> bool) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for component in components(groups, n_counts, suppressed) {
        out.extend(determined_in(&component, groups, n_counts)?);
    }
    out.sort_unstable();
    Ok(out)
}

/// A set of groups linked through shared suppressed entries, and those entries (sorted).
pub(crate) struct Component {
    pub(crate) groups: Vec<usize>,
    pub(crate) entries: Vec<usize>,
}

/// Splits the groups that contain a suppressed entry into connected components, in order of
/// their first group.
pub(crate) fn components(groups: &[Group], n_counts: usize, suppressed: &dyn Fn(usize) -> bool) -> Vec<Component> {
    // Union–find over group indices, joined through the first group seen for each entry.
    let mut parent: Vec<usize> = (0..groups.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_group_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut has_suppressed = vec![false; groups.len()];
    for (g, group) in groups.iter().enumerate() {
        for cell in group.cells() {
            let e = cell * n_counts + group.count;
            if suppressed(e) {
                has_suppressed[g] = true;
                match first_group_of.get(&e) {
                    Some(&h) => {
                        let (a, b) = (find(&mut parent, g), find(&mut parent, h));
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first_group_of.insert(e, g);
                    }
                }
            }
        }
    }
    let mut by_root: Vec<(usize, Component)> = Vec::new();
    for g in (0..groups.len()).filter(|&g| has_suppressed[g]) {
        let root = find(&mut parent, g);
        match by_root.iter_mut().find(|(r, _)| *r == root) {
            Some((_, c)) => c.groups.push(g),
            None => by_root.push((root, Component { groups: vec![g], entries: Vec::new() })),
        }
    }
    let mut out: Vec<Component> = by_root.into_iter().map(|(_, c)| c).collect();
    for c in &mut out {
        for &g in &c.groups {
            let group = &groups[g];
            c.entries.extend(group.cells().map(|cell| cell * n_counts + group.count).filter(|&e| suppressed(e)));
        }
        c.entries.sort_unstable();
        c.entries.dedup();
    }
    out
}

fn determined_in(component: &Component, groups: &[Group], n_counts: usize) -> Result<Vec<usize>> {
    let columns = &component.entries;
    let column_of = |e: usize| columns.binary_search(&e).ok();
    let mut rows: Vec<Vec<i128>> = component
        .groups
        .iter()
        .map(|&g| {
            let group = &groups[g];
            let mut row = vec![0i128; columns.len()];
            if let Some(j) = column_of(group.total * n_counts + group.count) {
                row[j] += 1;
            }
            for &p in &group.parts {
                if let Some(j) = column_of(p * n_counts + group.count) {
                    row[j] -= 1;
                }
            }
            row
        })
        .collect();

    // Gauss–Jordan: each pivot column is cleared in every other row, above and below.
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    let mut next_row = 0;
    for col in 0..columns.len() {
        let Some(r) = (next_row..rows.len()).find(|&r| rows[r][col] != 0) else { continue };
        rows.swap(r, next_row);
        for i in 0..rows.len() {
            if i != next_row && rows[i][col] != 0 {
                let (a, b) = (rows[next_row][col], rows[i][col]);
                let pivot_row = rows[next_row].clone();
                let row = &mut rows[i];
                for (x, &p) in row.iter_mut().zip(&pivot_row) {
                    let ax = a.checked_mul(*x).ok_or(Error::Overflow)?;
                    let bp = b.checked_mul(p).ok_or(Error::Overflow)?;
                    *x = ax.checked_sub(bp).ok_or(Error::Overflow)?;
                }
                let g = row.iter().fold(0i128, |g, &x| gcd(g, x));
                if g > 1 {
                    row.iter_mut().for_each(|x| *x /= g);
                }
            }
        }
        pivots.push((next_row, col));
        next_row += 1;
    }
    Ok(pivots
        .into_iter()
        .filter(|&(r, _)| rows[r].iter().filter(|&&x| x != 0).count() == 1)
        .map(|(_, col)| columns[col])
        .collect())
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    // Row entries are bounded well below i128::MAX by the checked arithmetic above.
    i128::try_from(a).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(total: usize, parts: &[usize]) -> Group {
        Group { count: 0, total, parts: parts.to_vec() }
    }

    #[test]
    fn a_lone_suppressed_part_is_determined_and_a_pair_is_not() {
        let groups = [group(0, &[1, 2, 3])];
        assert_eq!(determined(&groups, 1, &|e| e == 2).ok(), Some(vec![2]));
        assert_eq!(determined(&groups, 1, &|e| e == 2 || e == 3).ok(), Some(vec![]));
    }

    #[test]
    fn two_totals_together_can_determine_a_cell_that_neither_does_alone() {
        // Cell 3 is a part of 0 and of 1; 0 = 2 + 3 and 1 = 3 + 4. With 2, 3 and 4 suppressed,
        // each group has two suppressed entries, yet nothing is determined: 3 moves with 2 and 4.
        let groups = [group(0, &[2, 3]), group(1, &[3, 4])];
        assert_eq!(determined(&groups, 1, &|e| (2..=4).contains(&e)).ok(), Some(vec![]));
        // Add 5 = 2 + 4: then x0 + x1 − x5 = 2·x3, so 3 is determined, and with it 2 and 4.
        let groups = [group(0, &[2, 3]), group(1, &[3, 4]), group(5, &[2, 4])];
        assert_eq!(determined(&groups, 1, &|e| (2..=4).contains(&e)).ok(), Some(vec![2, 3, 4]));
    }
}

//! The tables disclosure control works on: cells with protected counts and derived figures,
//! and the additive groups (a total and the parts that sum to it) that tie cells together.
//!
//! A [`Table`] holds the exact counts that go into [`release`](fn@crate::release); a
//! [`PublishedTable`] holds figures as someone published them (a suppressed figure is `None`),
//! for [`audit_published`](crate::audit_published).

use std::fmt;

use crate::error::{Error, Result};

/// A total and the parts that sum to it, for one count column: for every released table,
/// `count(total) = Σ count(part)`. Cells are named by their index in the table (the order they
/// were pushed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub(crate) count: usize,
    pub(crate) total: usize,
    pub(crate) parts: Vec<usize>,
}

impl Group {
    /// The index of the count column the group adds up.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The index of the total cell.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The indices of the part cells.
    pub fn parts(&self) -> &[usize] {
        &self.parts
    }

    /// The total and then the parts: every cell whose count the group relates.
    pub fn cells(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.total).chain(self.parts.iter().copied())
    }
}

/// A proportion: two count columns of which the first counts a subset of the second, so that
/// `denominator − numerator` is itself a count of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Proportion {
    pub(crate) numerator: usize,
    pub(crate) denominator: usize,
}

/// A derived column that [`release`](fn@crate::release) computes itself from the cell's
/// *published* counts: `multiplier × numerator / denominator`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ratio {
    pub(crate) derived: usize,
    pub(crate) numerator: usize,
    pub(crate) denominator: usize,
    pub(crate) multiplier: f64,
}

/// Column names, proportions, ratios and groups: everything about a table except its figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub(crate) counts: Vec<String>,
    pub(crate) derived: Vec<String>,
    pub(crate) proportions: Vec<Proportion>,
    pub(crate) ratios: Vec<Ratio>,
    pub(crate) groups: Vec<Group>,
}

impl Shape {
    fn new(counts: &[&str], derived: &[&str]) -> Result<Self> {
        if counts.is_empty() {
            return Err(Error::Table("a table needs at least one count column".to_owned()));
        }
        let mut seen: Vec<&str> = Vec::new();
        for name in counts.iter().chain(derived) {
            if name.is_empty() {
                return Err(Error::Table("a column name is empty".to_owned()));
            }
            if seen.contains(name) {
                return Err(Error::Table(format!("column `{name}` is named twice")));
            }
            seen.push(name);
        }
        Ok(Shape {
            counts: counts.iter().map(|s| (*s).to_owned()).collect(),
            derived: derived.iter().map(|s| (*s).to_owned()).collect(),
            proportions: Vec::new(),
            ratios: Vec::new(),
            groups: Vec::new(),
        })
    }

    fn count_index(&self, name: &str) -> Result<usize> {
        self.counts.iter().position(|c| c == name).ok_or_else(|| {
            Error::Table(format!("no count column `{name}` (the count columns are: {})", self.counts.join(", ")))
        })
    }

    fn proportion(&mut self, numerator: &str, denominator: &str) -> Result<Proportion> {
        let p = Proportion { numerator: self.count_index(numerator)?, denominator: self.count_index(denominator)? };
        if p.numerator == p.denominator {
            return Err(Error::Table(format!(
                "a proportion needs two different count columns, not `{numerator}` twice"
            )));
        }
        if !self.proportions.contains(&p) {
            self.proportions.push(p);
        }
        Ok(p)
    }

    fn ratio(&mut self, derived: &str, numerator: &str, denominator: &str, multiplier: f64) -> Result<()> {
        let d = self.derived.iter().position(|c| c == derived).ok_or_else(|| {
            Error::Table(format!(
                "no derived column `{derived}` (the derived columns are: {})",
                self.derived.join(", ")
            ))
        })?;
        if !multiplier.is_finite() || multiplier <= 0.0 {
            return Err(Error::Table(format!(
                "the ratio `{derived}` needs a positive finite multiplier, not {multiplier}"
            )));
        }
        let ratio = Ratio {
            derived: d,
            numerator: self.count_index(numerator)?,
            denominator: self.count_index(denominator)?,
            multiplier,
        };
        if self.ratios.iter().any(|r| r.derived == d) {
            return Err(Error::Table(format!("derived column `{derived}` is declared a ratio twice")));
        }
        self.ratios.push(ratio);
        Ok(())
    }

    /// Checks a group against the number of cells and adds it.
    fn group<L: Fn(usize) -> String>(
        &mut self,
        count: usize,
        total: usize,
        parts: &[usize],
        n_cells: usize,
        label: L,
    ) -> Result<()> {
        let name = &self.counts[count];
        for &c in std::iter::once(&total).chain(parts) {
            if c >= n_cells {
                return Err(Error::Table(format!(
                    "group for `{name}` names cell {c}, but the table has {n_cells} cells"
                )));
            }
        }
        if parts.is_empty() {
            return Err(Error::Table(format!("group for `{name}` with total `{}` has no parts", label(total))));
        }
        if parts.contains(&total) {
            return Err(Error::Table(format!(
                "group for `{name}`: `{}` is both the total and one of its parts",
                label(total)
            )));
        }
        for (i, p) in parts.iter().enumerate() {
            if parts[..i].contains(p) {
                return Err(Error::Table(format!(
                    "group for `{name}` with total `{}` lists part `{}` twice",
                    label(total),
                    label(*p)
                )));
            }
        }
        let group = Group { count, total, parts: parts.to_vec() };
        if !self.groups.contains(&group) {
            self.groups.push(group);
        }
        Ok(())
    }

    fn check_row(&self, what: &str, counts: usize, derived: usize) -> Result<()> {
        if counts != self.counts.len() || derived != self.derived.len() {
            return Err(Error::Table(format!(
                "{what} has {counts} counts and {derived} derived figures; expected the table's columns: counts [{}], derived [{}]",
                self.counts.join(", "),
                self.derived.join(", ")
            )));
        }
        Ok(())
    }
}

/// One cell of a [`Table`]: its label, exact counts and derived figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell<K> {
    pub(crate) key: K,
    pub(crate) counts: Vec<u64>,
    pub(crate) derived: Vec<Option<f64>>,
}

impl<K> Cell<K> {
    /// The caller's label for the cell (area, period, breakdown…).
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The exact counts, in the order of the table's count columns.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The derived figures, in the order of the table's derived columns (`None`: not available).
    pub fn derived(&self) -> &[Option<f64>] {
        &self.derived
    }
}

/// A table of exact counts, ready for [`release`](fn@crate::release).
///
/// Every cell has the same columns: **protected counts** (numbers of people or events, e.g.
/// `numerator`, `denominator`), which disclosure control suppresses and rounds, and **derived
/// figures** (rates, proportions, confidence limits, computed by the caller from the exact
/// counts), which are published unchanged or withheld as a whole when any count of their cell
/// is suppressed. A cell's key `K` is the caller's label for it and is released as it is: it
/// must not carry figures itself.
///
/// Groups say which cells add up: a place's total and its neighbourhoods, a row total and its
/// cells, the ICS and its places. Push the cells first, then add the groups by cell index; each
/// group is checked to add up exactly when it is added.
///
/// ```
/// use phm_disclosure::Table;
/// let mut t = Table::new(&["patients"], &[]).unwrap();
/// let ics = t.push("ICS", &[40], &[]).unwrap();
/// let a = t.push("Place A", &[3], &[]).unwrap();
/// let b = t.push("Place B", &[37], &[]).unwrap();
/// t.group(ics, &[a, b]).unwrap();
/// assert!(t.group(a, &[b]).is_err()); // 3 ≠ 37
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table<K> {
    pub(crate) shape: Shape,
    pub(crate) cells: Vec<Cell<K>>,
}

impl<K: fmt::Display> Table<K> {
    /// An empty table with these count columns (at least one) and derived columns.
    pub fn new(counts: &[&str], derived: &[&str]) -> Result<Self> {
        Ok(Table { shape: Shape::new(counts, derived)?, cells: Vec::new() })
    }

    /// Declares that count column `numerator` counts a subset of `denominator`, so that the
    /// complement rule applies to them and every cell must have numerator ≤ denominator.
    pub fn proportion(&mut self, numerator: &str, denominator: &str) -> Result<()> {
        let p = self.shape.proportion(numerator, denominator)?;
        for cell in &self.cells {
            check_proportion(&self.shape, p, cell)?;
        }
        Ok(())
    }

    /// Declares derived column `derived` to be `multiplier × numerator / denominator` of two
    /// count columns, and leaves computing it to [`release`](fn@crate::release), which computes
    /// it from the cell's **published** counts (after rounding): a value computed from exact
    /// counts and shown beside rounded ones gives the exact counts back (try each pair the
    /// rounding could have come from and keep the one whose ratio matches). The figure pushed
    /// in this column is ignored; the released one is blank when the published denominator is 0.
    ///
    /// ```
    /// use phm_disclosure::{Policy, Table, release};
    /// let mut t = Table::new(&["numerator", "denominator"], &["percent"]).unwrap();
    /// t.ratio("percent", "numerator", "denominator", 100.0).unwrap();
    /// t.push("A", &[123, 1002], &[None]).unwrap();
    /// let released = release(t, &Policy::builtin("public").unwrap()).unwrap();
    /// let a = &released.cells()[0];
    /// assert_eq!(a.counts()[0].value(), Some(125)); // 123 rounded to 5
    /// assert_eq!(a.derived()[0].value(), Some(12.5)); // 125 / 1000, not 12.275…
    /// ```
    pub fn ratio(&mut self, derived: &str, numerator: &str, denominator: &str, multiplier: f64) -> Result<()> {
        self.shape.ratio(derived, numerator, denominator, multiplier)
    }

    /// Adds a cell and returns its index. `counts` and `derived` follow the table's columns; a
    /// derived figure may be `None` (not available) but not NaN or infinite.
    pub fn push(&mut self, key: K, counts: &[u64], derived: &[Option<f64>]) -> Result<usize> {
        self.shape.check_row(&format!("cell `{key}`"), counts.len(), derived.len())?;
        if let Some(i) = derived.iter().position(|d| d.is_some_and(|v| !v.is_finite())) {
            return Err(Error::Table(format!(
                "cell `{key}`: derived figure `{}` is not a finite number",
                self.shape.derived[i]
            )));
        }
        let cell = Cell { key, counts: counts.to_vec(), derived: derived.to_vec() };
        for &p in &self.shape.proportions {
            check_proportion(&self.shape, p, &cell)?;
        }
        self.cells.push(cell);
        Ok(self.cells.len() - 1)
    }

    /// Adds a group for **every** count column: in each, the total cell's count is the sum of
    /// the parts' counts. Fails if a cell index is unknown, the parts are empty or repeated, the
    /// total is among its parts, or the counts do not add up.
    pub fn group(&mut self, total: usize, parts: &[usize]) -> Result<()> {
        for count in 0..self.shape.counts.len() {
            self.add_group(count, total, parts)?;
        }
        Ok(())
    }

    /// Adds a group for one count column only (for a count that is not additive in the others).
    pub fn group_for(&mut self, count: &str, total: usize, parts: &[usize]) -> Result<()> {
        let count = self.shape.count_index(count)?;
        self.add_group(count, total, parts)
    }

    fn add_group(&mut self, count: usize, total: usize, parts: &[usize]) -> Result<()> {
        let cells = &self.cells;
        self.shape.group(count, total, parts, cells.len(), |i| cells[i].key.to_string())?;
        let sum = parts.iter().try_fold(0u64, |s, &p| s.checked_add(cells[p].counts[count]));
        let total_value = cells[total].counts[count];
        if sum != Some(total_value) {
            return Err(Error::NotAdditive {
                count: self.shape.counts[count].clone(),
                total: cells[total].key.to_string(),
                total_value,
                parts: parts.iter().map(|&p| cells[p].key.to_string()).collect(),
                parts_sum: parts.iter().fold(0u64, |s, &p| s.saturating_add(cells[p].counts[count])),
            });
        }
        Ok(())
    }
}

impl<K> Table<K> {
    /// The cells, in the order they were pushed.
    pub fn cells(&self) -> &[Cell<K>] {
        &self.cells
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the table has no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The names of the count columns.
    pub fn count_names(&self) -> &[String] {
        &self.shape.counts
    }

    /// The names of the derived columns.
    pub fn derived_names(&self) -> &[String] {
        &self.shape.derived
    }

    /// The groups, in the order they were added (one per count column for [`Table::group`]).
    pub fn groups(&self) -> &[Group] {
        &self.shape.groups
    }
}

fn check_proportion<K: fmt::Display>(shape: &Shape, p: Proportion, cell: &Cell<K>) -> Result<()> {
    let (n, d) = (cell.counts[p.numerator], cell.counts[p.denominator]);
    if n > d {
        return Err(Error::Table(format!(
            "cell `{}`: numerator `{}` = {n} exceeds denominator `{}` = {d}",
            cell.key, shape.counts[p.numerator], shape.counts[p.denominator]
        )));
    }
    Ok(())
}

/// One row of a [`PublishedTable`]: figures as published, `None` where suppressed or withheld.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedCell<K> {
    pub(crate) key: K,
    pub(crate) counts: Vec<Option<u64>>,
    pub(crate) derived: Vec<Option<f64>>,
}

/// Figures as someone published them (read back from a CSV, say), with the table's groups, for
/// [`audit_published`](crate::audit_published). A blank is `None`: the audit treats a blank
/// count as suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedTable<K> {
    pub(crate) shape: Shape,
    pub(crate) cells: Vec<PublishedCell<K>>,
}

impl<K: fmt::Display> PublishedTable<K> {
    /// An empty table with these count and derived columns.
    pub fn new(counts: &[&str], derived: &[&str]) -> Result<Self> {
        Ok(PublishedTable { shape: Shape::new(counts, derived)?, cells: Vec::new() })
    }

    /// Declares a proportion (see [`Table::proportion`]).
    pub fn proportion(&mut self, numerator: &str, denominator: &str) -> Result<()> {
        self.shape.proportion(numerator, denominator).map(|_| ())
    }

    /// Adds a row of published figures and returns its index.
    pub fn push(&mut self, key: K, counts: &[Option<u64>], derived: &[Option<f64>]) -> Result<usize> {
        self.shape.check_row(&format!("cell `{key}`"), counts.len(), derived.len())?;
        self.cells.push(PublishedCell { key, counts: counts.to_vec(), derived: derived.to_vec() });
        Ok(self.cells.len() - 1)
    }

    /// Adds a group for every count column (see [`Table::group`]); published figures are not
    /// expected to add up, so only the cell indices are checked.
    pub fn group(&mut self, total: usize, parts: &[usize]) -> Result<()> {
        for count in 0..self.shape.counts.len() {
            let cells = &self.cells;
            self.shape.group(count, total, parts, cells.len(), |i| cells[i].key.to_string())?;
        }
        Ok(())
    }

    /// Adds a group for one count column.
    pub fn group_for(&mut self, count: &str, total: usize, parts: &[usize]) -> Result<()> {
        let count = self.shape.count_index(count)?;
        let cells = &self.cells;
        self.shape.group(count, total, parts, cells.len(), |i| cells[i].key.to_string())
    }
}

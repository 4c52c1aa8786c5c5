//! The audit: every figure of a published table that breaks a policy.
//!
//! It reads only what is published (a blank count counts as suppressed), so it can check a
//! [`ReleasedTable`] and also figures that reached a file some other way
//! ([`PublishedTable`]). Rules, per cell and column:
//!
//! * a published count from 1 to the threshold ([`Rule::SmallCount`]);
//! * under rounding, a published count that the rounding cannot produce ([`Rule::OffGrid`]);
//! * without rounding and with the complement rule, a published numerator and denominator whose
//!   difference is from 1 to the threshold ([`Rule::SmallComplement`]; with rounding the exact
//!   complement is not recoverable from the published figures, so it is not checked);
//! * a derived figure published in a cell with a suppressed count
//!   ([`Rule::DerivedBesideSuppressed`]);
//! * a group with exactly one suppressed entry ([`Rule::LoneSuppression`]);
//! * a suppressed count determined by the published figures of several groups together
//!   ([`Rule::Recoverable`], by the same exact elimination [`release`](fn@crate::release) uses;
//!   the property tests check that with an independent rank test).

use std::fmt;

use crate::policy::{Policy, Rounding};
use crate::release::{ReleasedTable, entries};
use crate::solve;
use crate::table::{PublishedTable, Shape};

/// A figure that breaks the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The index of the cell.
    pub cell: usize,
    /// The cell's label.
    pub label: String,
    /// The column (count or derived) the figure is in.
    pub column: String,
    /// What is wrong.
    pub rule: Rule,
}

/// The rule a [`Violation`] breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A published count from 1 to the threshold.
    SmallCount {
        /// The count.
        value: u64,
        /// The policy's threshold.
        threshold: u64,
    },
    /// A published numerator and denominator whose difference is from 1 to the threshold.
    SmallComplement {
        /// The numerator.
        numerator: u64,
        /// The denominator.
        denominator: u64,
        /// The policy's threshold.
        threshold: u64,
    },
    /// A published count that is not a value of the policy's rounding.
    OffGrid {
        /// The count.
        value: u64,
        /// The policy's rounding.
        rounding: Rounding,
    },
    /// A derived figure published beside a suppressed count.
    DerivedBesideSuppressed {
        /// The suppressed count column.
        count: String,
    },
    /// The only suppressed entry of a group: the total and the other parts reveal it.
    LoneSuppression {
        /// The index of the group.
        group: usize,
    },
    /// A suppressed count that the published figures of several groups determine.
    Recoverable,
    /// The groups were too entangled to check exactly (integer overflow); treat as failing.
    Unverifiable,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::SmallCount { value, threshold } => write!(f, "published count {value} is from 1 to {threshold}"),
            Rule::SmallComplement { numerator, denominator, threshold } => write!(
                f,
                "published numerator {numerator} and denominator {denominator} reveal a complement of {}, from 1 to {threshold}",
                denominator - numerator
            ),
            Rule::OffGrid { value, rounding } => {
                write!(f, "published count {value} is not a value of rounding to {rounding}")
            }
            Rule::DerivedBesideSuppressed { count } => {
                write!(f, "derived figure published although count `{count}` is suppressed")
            }
            Rule::LoneSuppression { group } => {
                write!(f, "the only suppressed figure of group {group}: its total and other parts reveal it")
            }
            Rule::Recoverable => f.write_str("suppressed, yet the published totals together determine it"),
            Rule::Unverifiable => f.write_str("could not be checked: the groups overflow exact elimination"),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cell {} `{}`, `{}`: {}", self.cell, self.label, self.column, self.rule)
    }
}

/// Every figure of a released table that breaks the policy it was released under. Empty for
/// anything [`release`](fn@crate::release) produced; the catalogue's tests call it on every output.
pub fn audit<K: fmt::Display>(table: &ReleasedTable<K>) -> Vec<Violation> {
    let rows: Vec<Row> = table
        .cells()
        .iter()
        .map(|c| Row {
            label: c.key().to_string(),
            counts: c.counts().iter().map(|f| f.value()).collect(),
            derived: c.derived().iter().map(|f| f.value()).collect(),
        })
        .collect();
    check(table.policy(), &table.shape, &rows)
}

/// Every figure of a table of published figures that breaks `policy`.
pub fn audit_published<K: fmt::Display>(policy: &Policy, table: &PublishedTable<K>) -> Vec<Violation> {
    let rows: Vec<Row> = table
        .cells
        .iter()
        .map(|c| Row { label: c.key.to_string(), counts: c.counts.clone(), derived: c.derived.clone() })
        .collect();
    check(policy, &table.shape, &rows)
}

struct Row {
    label: String,
    counts: Vec<Option<u64>>,
    derived: Vec<Option<f64>>,
}

fn check(policy: &Policy, shape: &Shape, rows: &[Row]) -> Vec<Violation> {
    let mut out = Vec::new();
    let violation = |cell: usize, column: &str, rule: Rule| Violation {
        cell,
        label: rows[cell].label.clone(),
        column: column.to_owned(),
        rule,
    };
    let rounding = policy.rounding();
    for (i, row) in rows.iter().enumerate() {
        for (c, &count) in row.counts.iter().enumerate() {
            let Some(value) = count else { continue };
            if policy.is_small(value) {
                out.push(violation(i, &shape.counts[c], Rule::SmallCount { value, threshold: policy.threshold() }));
            }
            if !rounding.is_on_grid(value) {
                out.push(violation(i, &shape.counts[c], Rule::OffGrid { value, rounding }));
            }
        }
        if policy.complement() && rounding == Rounding::None {
            for p in &shape.proportions {
                if let (Some(numerator), Some(denominator)) = (row.counts[p.numerator], row.counts[p.denominator])
                    && numerator <= denominator
                    && policy.is_small(denominator - numerator)
                {
                    let rule = Rule::SmallComplement { numerator, denominator, threshold: policy.threshold() };
                    out.push(violation(i, &shape.counts[p.numerator], rule));
                }
            }
        }
        if let Some(c) = row.counts.iter().position(Option::is_none) {
            for (d, figure) in row.derived.iter().enumerate() {
                if figure.is_some() {
                    out.push(violation(
                        i,
                        &shape.derived[d],
                        Rule::DerivedBesideSuppressed { count: shape.counts[c].clone() },
                    ));
                }
            }
        }
    }

    let n_counts = shape.counts.len();
    let is_suppressed = |e: usize| rows[e / n_counts].counts[e % n_counts].is_none();
    for (g, group) in shape.groups.iter().enumerate() {
        let mut hidden = entries(group, n_counts).filter(|&e| is_suppressed(e));
        if let (Some(e), None) = (hidden.next(), hidden.next()) {
            out.push(violation(e / n_counts, &shape.counts[e % n_counts], Rule::LoneSuppression { group: g }));
        }
    }
    match solve::determined(&shape.groups, n_counts, &is_suppressed) {
        Ok(determined) => {
            for e in determined {
                let lone = out.iter().any(|v| {
                    matches!(v.rule, Rule::LoneSuppression { .. })
                        && v.cell == e / n_counts
                        && v.column == shape.counts[e % n_counts]
                });
                if !lone {
                    out.push(violation(e / n_counts, &shape.counts[e % n_counts], Rule::Recoverable));
                }
            }
        }
        Err(_) => {
            if let Some(group) = shape.groups.first() {
                out.push(violation(group.total, &shape.counts[group.count], Rule::Unverifiable));
            }
        }
    }
    out
}

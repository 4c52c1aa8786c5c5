//! Errors from `phm-disclosure`.
//!
//! Two kinds of input can be wrong: a policy file (reported with the file, line, column and key,
//! and what was expected there), and a table handed to [`release`](fn@crate::release) whose cells
//! do not fit its columns or whose totals do not add up (reported with the cell's label). A
//! figure that disclosure control withholds is not an error: it is a
//! [`Status`](crate::Status) in the released table.

use std::path::PathBuf;

/// What went wrong reading a policy or building a table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy file could not be read.
    #[error("Failed to read disclosure policy file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A policy file is not valid TOML.
    #[error("{origin}:{line}:{column}: not valid TOML: {message}")]
    Syntax {
        /// The file (or the name given to the text).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The TOML parser's message.
        message: String,
    },
    /// A policy file is valid TOML but a key is missing, unknown or has the wrong value.
    #[error("{origin}:{line}:{column}: `{key}`: {message}")]
    Policy {
        /// The file (or the name given to the text).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The dotted key, e.g. `policies.public.base`.
        key: String,
        /// What was expected, and what was found.
        message: String,
    },
    /// A policy's parameters are inconsistent (built in code with [`Policy::new`](crate::Policy::new)).
    #[error("Invalid disclosure policy `{name}`: {message}")]
    InvalidPolicy {
        /// The policy's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// No policy of that name.
    #[error("No disclosure policy `{name}` in {origin} (it has: {})", known.join(", "))]
    UnknownPolicy {
        /// The name asked for.
        name: String,
        /// Where the policies came from.
        origin: String,
        /// The names it does have.
        known: Vec<String>,
    },
    /// A table's columns, cells, proportions or groups are inconsistent.
    #[error("Invalid table: {0}")]
    Table(String),
    /// A group's total is not the sum of its parts.
    #[error(
        "Invalid table: `{count}` of total `{total}` is {total_value}, but its parts ({}) add up to {parts_sum}",
        parts.join(", ")
    )]
    NotAdditive {
        /// The count column.
        count: String,
        /// The label of the total cell.
        total: String,
        /// The total's value.
        total_value: u64,
        /// The labels of the part cells.
        parts: Vec<String>,
        /// What the parts add up to (saturating).
        parts_sum: u64,
    },
    /// A suppressed count stays determined by the table's totals even with every other figure
    /// of its totals suppressed. This happens only when the groups themselves force the count
    /// (for example the same total split twice, one split having a part the other lacks).
    #[error("`{count}` of `{cell}` is fixed by the table's totals whatever is suppressed; check the table's groups")]
    Unprotectable {
        /// The label of the cell.
        cell: String,
        /// The count column.
        count: String,
    },
    /// Exact elimination over the groups exceeded 128-bit integers (groups far from the
    /// tree-like or two-way tables disclosure control is built for).
    #[error("The table's groups are too entangled to check exactly (integer overflow in elimination)")]
    Overflow,
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

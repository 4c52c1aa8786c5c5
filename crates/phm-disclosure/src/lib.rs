//! Disclosure control: the one layer every aggregate output of OpenPHM passes through.
//!
//! ```text
//! statistics / analytics ──► Table<K> ──► release(table, policy) ──► Released<ReleasedTable<K>> ──► API / web / CLI
//!   (exact counts, derived       (cells,         (suppress, protect,          (only this crate
//!    figures from exact counts)   groups)          withhold, round)             can make one)
//! ```
//!
//! * A [`Policy`] says which counts are too small to show, whether a proportion's small
//!   complement is protected too, and how published counts are rounded. Policies are data:
//!   `reference/disclosure.toml` holds `public` (NHS England's rule for published hospital
//!   statistics: counts 1–7 suppressed, everything else rounded to the nearest 5) and
//!   `analyst` (1–7 suppressed, no rounding); [`PolicySet::load`] reads any other file.
//! * A [`Table`] holds cells with **protected counts** (numerator, denominator, …) and
//!   **derived figures** (rates, proportions, confidence limits), and the additive **groups**
//!   between cells (ICS = Σ places, place = Σ neighbourhoods, row and column totals).
//! * [`release`](fn@release) suppresses small counts and small complements, adds secondary suppressions
//!   until no suppressed count can be recovered from the published figures (checked by exact
//!   linear algebra, see [`release`'s module](mod@crate::release)), withholds every derived figure
//!   of a cell with a suppressed count, rounds the published counts, and records a [`Status`]
//!   with a readable reason for every figure.
//! * [`Released<T>`] can only be built here, so a writer or handler that takes
//!   `Released<ReleasedTable<K>>` cannot be given figures that skipped disclosure control.
//! * [`audit`](fn@audit) lists every published figure that breaks the policy; [`audit_published`] does
//!   the same for figures read back from a file.
//!
//! ```
//! use phm_disclosure::{Policy, Table, audit, release};
//!
//! // A proportion by place, with the ICS total; the value is computed from exact counts.
//! let mut table = Table::new(&["numerator", "denominator"], &["percent"]).unwrap();
//! table.proportion("numerator", "denominator").unwrap();
//! let mut push = |name: &str, n: u64, d: u64| {
//!     table.push(name.to_owned(), &[n, d], &[Some(100.0 * n as f64 / d as f64)]).unwrap()
//! };
//! let ics = push("BLMK", 218, 1340);
//! let places = [push("Bedford", 61, 410), push("Central Beds", 94, 520), push("Luton", 5, 130), push("MK", 58, 280)];
//! table.group(ics, &places).unwrap();
//!
//! let released = release(table, &Policy::builtin("public").unwrap()).unwrap();
//! let luton = &released.cells()[3];
//! assert_eq!(luton.counts()[0].value(), None);
//! assert_eq!(luton.counts()[0].status().to_string(), "suppressed: count 1–7");
//! assert_eq!(luton.derived()[0].status().to_string(), "withheld: derived from a suppressed count");
//! assert!(audit(&released).is_empty());
//! ```
//!
//! **Architecture invariant:** no workspace dependencies and no IO except reading a policy file
//! the caller names. Nothing outside this crate can construct a [`Released`] value. Code that
//! shows figures names the type and reads through it:
//!
//! ```
//! use phm_disclosure::{Released, ReleasedTable};
//! fn rows_shown(table: &Released<ReleasedTable<String>>) -> usize {
//!     table.cells().iter().filter(|c| !c.has_suppressed_count()).count()
//! }
//! ```
//!
//! but cannot make one (stable rustdoc does not check the error code, hence the twin above):
//!
//! ```compile_fail,E0423
//! // The field is private: a Released value cannot be made by hand…
//! let fake = phm_disclosure::Released(vec![3u64]);
//! ```
//!
//! ```compile_fail,E0277
//! // …nor converted into, nor deserialised, nor defaulted.
//! let fake: phm_disclosure::Released<Vec<u64>> = vec![3u64].into();
//! ```
#![warn(missing_docs)]

pub mod audit;
pub mod error;
pub mod policy;
pub mod release;
mod solve;
pub mod table;

use std::ops::Deref;

pub use audit::{Rule, Violation, audit, audit_published};
pub use error::{Error, Result};
pub use policy::{Policy, PolicySet, Rounding};
pub use release::{Figure, ReleasedCell, ReleasedTable, Status, Suppression, release};
pub use table::{Cell, Group, PublishedCell, PublishedTable, Table};

/// A value that has been through disclosure control.
///
/// Only [`release`](fn@release) returns one: the field is private, and there is no public constructor,
/// `From`, `Default` or `Deserialize`. Aggregate writers, API handlers and web pages take
/// `Released<_>`, so a table that skipped disclosure control does not compile where one is
/// shown. Reading is free ([`Released::get`], `Deref`, [`Released::into_inner`]); what comes
/// out cannot be put back. The wrapper adds nothing at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Released<T>(T);

impl<T> Released<T> {
    /// Wraps a value that has just been through disclosure control. Crate-private on purpose.
    pub(crate) fn new(value: T) -> Self {
        Released(value)
    }

    /// The released value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// The released value, unwrapped (it can no longer be passed where `Released` is required).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Released<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Released<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

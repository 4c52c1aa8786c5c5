//! Test support for OpenPHM (a dev-dependency only, never part of a product binary).
//!
//! - [`tables`]: small canonical tables written as ASCII text, for fixtures and spec files.
//! - [`reference`]: a deliberately naive interpreter of the query model (`phm-model`), written
//!   straight from its doc comments, which the property tests in
//!   `tests/reference_vs_engine.rs` compare with the DataFusion engine (`phm-engine`) on
//!   random stores and random valid definitions.
//!
//! The reference engine has no optimisation on purpose: every person is evaluated on their
//! own, every aggregate re-reads that person's rows, and every rule is one `match` arm, so it
//! can be checked by reading. When the two engines disagree, the doc comments of `phm-model`
//! decide which one is wrong.

pub mod reference;
pub mod spec;
pub mod tables;

pub use reference::{engine_cohort, values_match};
pub use tables::table_from_text;

//! The vocabulary every other OpenPHM crate speaks.
//!
//! * [`schema`]: the canonical tables (person, registration, identity and the event tables),
//!   declared once with a description and constraints per column, and turned into Arrow schemas.
//! * [`reference`]: places, neighbourhoods (PCNs), practices, areas with IMD deciles, partner
//!   organisations and the 2013 European Standard Population, read from the CSV files in the
//!   repository's `reference/` folder, which are compiled into the binary.
//! * [`nhs_number`], [`ethnicity`], [`age`], [`codes`], [`setting`]: value types.
//!
//! **Architecture invariant:** this crate does no IO and knows no source format.
#![warn(missing_docs)]

pub mod age;
pub mod codes;
pub mod error;
pub mod ethnicity;
pub mod nhs_number;
pub mod reference;
pub mod schema;
pub mod setting;

pub use error::{Error, Result};

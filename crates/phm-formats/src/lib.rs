//! What partners send, as types that can be both written and read.
//!
//! * [`fhir`]: FHIR R4 resources as UK Core uses them (Patient, Condition, Observation,
//!   MedicationStatement, Immunization, Encounter, Procedure, EpisodeOfCare for GP registration),
//!   an NDJSON writer and a reader
//!   that locates every bad line, and a structural validator.
//! * [`social_care`]: the flat CSV layout of a council's adult social care extract.
//! * [`manifest`]: `manifest.json`, the list of files in a drop.
//!
//! **Architecture invariant:** this crate knows no canonical schema; mapping a format onto the
//! store's tables is `phm-ingest`'s job.
#![warn(missing_docs)]

pub mod error;
pub mod fhir;
pub mod manifest;
pub mod social_care;

pub use error::{Error, Result};

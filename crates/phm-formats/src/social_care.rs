//! A council's adult social care extract: flat CSV, one row per event.
//!
//! Modelled on the Adult Social Care Client Level Data (CLD) return that English councils send
//! to NHS England: each row is a request, assessment, service or review for one person,
//! identified by NHS number, with dates and the primary support reason.

use serde::{Deserialize, Serialize};

/// The header row of a social care extract, in order.
pub const COLUMNS: [&str; 12] = [
    "event_id",
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "postcode",
    "event_type",
    "service_type",
    "primary_support_reason",
    "event_start_date",
    "event_end_date",
];

/// Event types of the CLD return.
pub const EVENT_TYPES: [&str; 4] = ["request", "assessment", "service", "review"];

/// One row of a social care extract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SocialCareEvent {
    /// Council's identifier of the event.
    pub event_id: String,
    /// NHS number (10 digits).
    pub nhs_number: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth (YYYY-MM-DD).
    pub date_of_birth: String,
    /// `female`, `male`, `other`, `unknown`.
    pub gender: String,
    /// Postcode.
    pub postcode: String,
    /// One of [`EVENT_TYPES`].
    pub event_type: String,
    /// For services: e.g. `Long Term Support: Residential`; empty otherwise.
    pub service_type: String,
    /// CLD primary support reason, e.g. `Physical Support: Personal Care Support`.
    pub primary_support_reason: String,
    /// Start date (YYYY-MM-DD).
    pub event_start_date: String,
    /// End date (YYYY-MM-DD), empty while open; not before `event_start_date` (ingest rejects
    /// an event that ends before it starts).
    pub event_end_date: String,
}

/// The header row of a national data opt-out list.
pub const OPT_OUT_COLUMNS: [&str; 1] = ["nhs_number"];

//! Place-based profiles: the indicator catalogue for the ICS, each place and each
//! neighbourhood, by the inequality breakdowns, with confidence limits, inequality measures,
//! benchmarks and disclosure control, as one tidy long table.
//!
//! ```text
//! definitions ──► engine: cells (one pass per date) ──► cells::sum_cells ──► figures (phm-stats,
//!             from exact counts and from counts rounded as each policy rounds them)
//!             ──► disclosure (phm-disclosure::release) ──► inequality (SII/RII from the
//!             released IMD decile rows) ──► benchmarks (against the ICS and England, released
//!             values only) ──► write (Parquet + CSV)
//!   trend dates ──► the same passes, breakdown `all` ──► disclosure ──► SPC (phm_stats::spc)
//!   population  ──► one more count in each index date's pass ──► disclosure ──► pyramid
//! ```
//!
//! * [`compute`] runs the engine once per index date for every indicator, adds cells up into
//!   every area × breakdown × category, and applies each indicator's method; with [`Extras`],
//!   also at each earlier trend date ([`dates`], for [`trend`]) and counting the registered
//!   population by sex and age band ([`population`]).
//! * [`release`] builds one disclosure table per indicator, with the additive groups a reader
//!   could subtract (an area's categories add up to its total; places, and neighbourhoods, add
//!   up to the ICS; two IMD deciles make a quintile), and releases it under a policy.
//! * [`ProfileTable`] is only made from released figures, and [`write::write`] takes only a
//!   [`phm_disclosure::Released`] table: the type gate of the architecture.
//!
//! **Architecture invariant:** every figure this crate writes has been through
//! `phm_disclosure::release`; comparisons are only made for published values.
//! **Architecture invariant:** no published figure reveals more than the published counts: under
//! a rounding policy every figure is computed from rounded counts ([`figures`]), and figures
//! across cells (the SII and RII) are computed after release from published figures only
//! ([`inequality::from_released`]). `tests/attacks.rs` runs the inversion and SII attacks.
#![warn(missing_docs)]

pub mod cells;
pub mod comparators;
pub mod dates;
pub mod figures;
pub mod framework;
pub mod inequality;
pub mod population;
pub mod profile;
pub mod trend;
pub mod write;

pub use population::{PopulationRow, PopulationTable};
pub use profile::{Extras, ProfileRow, ProfileTable, compute, release};
pub use trend::{TrendRow, TrendTable};

/// Errors of the profiles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Counting the cells failed (the engine's error).
    #[error(transparent)]
    Cells(Box<dyn std::error::Error + Send + Sync>),
    /// A released table could not be written.
    #[error(transparent)]
    Release(#[from] phm_release::Error),
    /// Disclosure control refused a table.
    #[error(transparent)]
    Disclosure(#[from] phm_disclosure::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A configuration or reference file is malformed.
    #[error("{0}")]
    Invalid(String),
    /// A broken assumption inside the profiles (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of the profiles.
pub type Result<T> = std::result::Result<T, Error>;

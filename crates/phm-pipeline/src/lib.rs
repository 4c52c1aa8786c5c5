//! The one pipeline from definitions to a release folder.
//!
//! ```text
//! definitions (.phm, framework.toml) ──► phm-lang ──► phm-model indicators (opt-out applied)
//!   ──► phm-engine: typed cells (phm_model::Cells) ──► phm-profiles: sums and statistics
//!   ──► phm-disclosure: Released tables (audited) ──► phm-release: tables + Manifest
//! ```
//!
//! `phm profiles` ([`profiles`]) and `phm run` ([`run`], [`disclosure`]) release through here; the web
//! app reads only what this writes (a release folder and its [`phm_release::Manifest`]), so it
//! needs neither the language nor the engine.
//!
//! **Architecture invariant:** nothing is written before every table of a release has been
//! through `phm_disclosure::release` and passed [`disclosure::audited`].

pub mod definitions;
pub mod disclosure;
pub mod profiles;
pub mod run;

/// Errors of the pipeline, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Definitions with errors (already rendered to the diagnostics writer).
    #[error("{count} error{} in the definitions: nothing was run", if *count == 1 { "" } else { "s" })]
    Definitions {
        /// How many errors.
        count: usize,
    },
    /// Definitions that cannot be used as asked (with what to do).
    #[error("{0}")]
    Invalid(String),
    /// A file or folder could not be read or written.
    #[error("{message}: {source}")]
    Io {
        /// What was being done.
        message: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A disclosure policy could not be found or read.
    #[error("{message}: {source}")]
    Policy {
        /// What was asked for.
        message: String,
        /// Why it failed.
        #[source]
        source: phm_disclosure::Error,
    },
    /// Disclosure control refused a table.
    #[error(transparent)]
    Disclosure(#[from] phm_disclosure::Error),
    /// A released table broke its policy: nothing was written.
    #[error(
        "disclosure control left {count} figure(s) that break the policy (nothing was written):\n  {}",
        first.join("\n  ")
    )]
    Audit {
        /// How many figures.
        count: usize,
        /// The first 20.
        first: Vec<String>,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] phm_engine::Error),
    /// The profiles failed.
    #[error(transparent)]
    Profiles(#[from] phm_profiles::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] phm_store::Error),
    /// A release folder could not be written.
    #[error(transparent)]
    Release(#[from] phm_release::Error),
    /// The built-in reference data failed to load (a committed file is malformed).
    #[error("reference data: {0}")]
    Reference(String),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

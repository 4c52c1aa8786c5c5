//! Errors from the generator.

use std::path::PathBuf;

/// Errors that stop generation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Built-in reference data is malformed.
    #[error(transparent)]
    Reference(#[from] phm_core::Error),
    /// Calibration targets are missing or inconsistent.
    #[error("Calibration data: {0}")]
    Calibration(String),
    /// Writing output failed.
    #[error("Failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing a record failed.
    #[error(transparent)]
    Format(#[from] phm_formats::Error),
    /// The requested configuration cannot be generated.
    #[error("{0}")]
    Config(String),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

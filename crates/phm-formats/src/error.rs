//! Errors from reading or writing partner files.

use std::path::PathBuf;

/// Errors that stop a whole file. A bad *record* is not an error: readers report it with its
/// line number and carry on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("Failed to access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Serialising a record failed.
    #[error("Failed to write a {what} record")]
    Serialise {
        /// What was being written.
        what: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Writing a CSV record failed.
    #[error("Failed to write a CSV record")]
    Csv(#[from] csv::Error),
    /// A manifest is not valid JSON of the expected shape.
    #[error("`{}` is not a valid manifest", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Errors that stop an ingest. A bad *record* is never an error: it is quarantined and counted.

use std::path::PathBuf;

/// What stops an ingest (nothing is committed when one happens).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input or output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The store refused.
    #[error(transparent)]
    Store(#[from] phm_store::Error),
    /// The manifest could not be read.
    #[error(transparent)]
    Format(#[from] phm_formats::Error),
    /// A column-mapping file is wrong.
    #[error("{path}: {reason}")]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong, naming the key.
        reason: String,
    },
    /// What was asked cannot be done (unknown format, a file in two sources, ...).
    #[error("{0}")]
    Usage(String),
    /// A file does not have the layout its format requires (a CSV without a required column).
    #[error("{path}: {reason}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A manifest entry names a file ingest will not read (outside the manifest's folder, not
    /// a regular file, ...).
    #[error("{}: file entry `{entry}`: {reason}", manifest.display())]
    ManifestEntry {
        /// The manifest.
        manifest: PathBuf,
        /// The entry's `path` as written.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// A file did not hold the number of records its manifest declares: the load is refused.
    #[error("{path}: the manifest declares {declared} records but {found} were read; nothing was committed")]
    DeclaredCount {
        /// The file as the manifest names it.
        path: String,
        /// Records declared.
        declared: u64,
        /// Records read.
        found: u64,
    },
}

/// Result with the ingest [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

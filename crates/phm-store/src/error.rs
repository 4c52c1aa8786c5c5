//! Errors of the store. A store error is about the store itself (IO, a damaged manifest, a
//! writer already at work); records never fail here.

use std::path::PathBuf;

/// What can go wrong opening, reading or writing a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder of the store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A manifest or store description could not be parsed.
    #[error("{path}: not a valid OpenPHM store file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A Parquet file could not be written or read.
    #[error("{path}: Parquet: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: parquet::errors::ParquetError,
    },
    /// A batch did not match its table's schema (a bug in the caller).
    #[error("table `{table}`: {reason}")]
    Schema {
        /// The table.
        table: String,
        /// What did not match.
        reason: String,
    },
    /// Another process is writing to the store.
    #[error("{path}: another ingest is writing to this store; wait for it to finish")]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// The folder exists but is not a store.
    #[error("{path}: exists and is not an OpenPHM store (no store.json); choose an empty or new folder")]
    NotAStore {
        /// The folder.
        path: PathBuf,
    },
    /// There is no store at this path.
    #[error("{path}: no store here (load one with `phm ingest --store {path} ...`)")]
    Missing {
        /// The folder.
        path: PathBuf,
    },
    /// The named snapshot does not exist.
    #[error("{path}: there is no snapshot {id}{}", if *latest == 0 { " (the store is empty)".to_owned() } else { format!(" (latest is {latest})") })]
    NoSnapshot {
        /// The store.
        path: PathBuf,
        /// The snapshot asked for.
        id: u64,
        /// The latest snapshot, 0 if none.
        latest: u64,
    },
    /// The store was made with another pseudonymisation key.
    #[error(
        "{path}: this store's pseudonyms were made with key {expected}, but the key given is {found}; loading would break linkage (use the store's own key file)"
    )]
    WrongKey {
        /// The store.
        path: PathBuf,
        /// Fingerprint recorded in the store.
        expected: String,
        /// Fingerprint of the key given.
        found: String,
    },
}

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

//! Errors of the quality report. An error is about reading the snapshot (a missing or damaged
//! file, a column of the wrong type) or the built-in thresholds; a bad *row* is never an error:
//! it is what the checks count.

use std::path::PathBuf;

/// What can go wrong assessing a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read (its own error names the file).
    #[error(transparent)]
    Store(#[from] phm_store::Error),
    /// A file of the snapshot could not be opened.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A Parquet file of the snapshot could not be read.
    #[error("{path}: Parquet: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: parquet::errors::ParquetError,
    },
    /// A table file lacks a column of the canonical table.
    #[error("{path}: column `{column}` is missing; is this snapshot from another version of OpenPHM?")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// A table file holds a column with another type than the canonical table's.
    #[error("{path}: column `{column}` is not of type {expected}; is this snapshot from another version of OpenPHM?")]
    Column {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The Arrow type expected.
        expected: &'static str,
    },
    /// The built-in thresholds file is malformed (a test catches this before release).
    #[error("reference/quality-thresholds.csv line {line}: {message}")]
    Thresholds {
        /// Line in the file (1 = header).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The built-in reference data is malformed (a test catches this before release).
    #[error(transparent)]
    Reference(#[from] phm_core::Error),
}

/// Result with the quality report's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

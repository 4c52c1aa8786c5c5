//! Why a codelist file could not be read at all. A bad *code* is never a [`LoadError`]: it is a
//! located [`Problem`](crate::Problem), and the caller decides what to do with it.

use std::path::PathBuf;

/// What stops a codelist file from being read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is missing or cannot be read.
    #[error("codelist {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not readable as CSV (the reader stopped at `line`).
    #[error("codelist {path}:{line}: not readable as CSV: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line the reader stopped at (1-based; 0 if unknown).
        line: u64,
        /// What went wrong.
        source: csv::Error,
    },
    /// The file is empty, so it has no header line naming its columns.
    #[error("codelist {path}: the file is empty; an OpenCodelists CSV starts with a header line such as `code,term`")]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// No column holds the codes.
    #[error("codelist {path}: {}; its columns are: {}", wanted_text(.wanted), columns_text(.columns))]
    NoCodeColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for, if one was named; otherwise the known code columns were tried.
        wanted: Option<String>,
        /// The columns the header names.
        columns: Vec<String>,
    },
}

fn wanted_text(wanted: &Option<String>) -> String {
    match wanted {
        Some(w) => format!("there is no column `{w}`"),
        None => format!(
            "no code column (looked for {}); name the column that holds the codes",
            crate::CODE_COLUMNS.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn columns_text(columns: &[String]) -> String {
    columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

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
    /// Not a regular file (a folder, a device such as `/dev/zero`, a pipe), or larger than
    /// [`MAX_CODELIST_BYTES`](crate::MAX_CODELIST_BYTES): refused before it is read.
    #[error("codelist {path}: {source}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        source: crate::ReadError,
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

/// The header's columns, if they look like column names; otherwise only how many there are.
/// The first line of a file that is not a codelist (a key, a password file) is not echoed.
fn columns_text(columns: &[String]) -> String {
    if columns.iter().all(|c| looks_like_a_column_name(c)) {
        columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    } else {
        let n = if columns.len() == 1 {
            "1 field that does not look like a column name".to_owned()
        } else {
            format!("{} fields that do not look like column names", columns.len())
        };
        format!("{n} (the first line is not a CSV header)")
    }
}

/// Up to 64 letters, digits, spaces and `_-.()/#%`, as spreadsheet and OpenCodelists headers are.
pub(crate) fn looks_like_a_column_name(name: &str) -> bool {
    name.chars().count() <= 64 && name.chars().all(|c| c.is_alphanumeric() || " _-.()/#%".contains(c))
}

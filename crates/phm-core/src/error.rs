//! Errors from `phm-core`.

/// Errors from reading the built-in reference data or from parsing a value type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row of a built-in reference file does not match its declared layout.
    #[error("Reference file `{file}` line {line}: {message}")]
    Reference {
        /// The file, relative to the repository's `reference/` folder.
        file: &'static str,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A string is not a valid NHS number.
    #[error("`{value}` is not a valid NHS number: {reason}")]
    NhsNumber {
        /// The offending text.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

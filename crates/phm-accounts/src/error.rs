//! Errors of the account store, sign-in, CSRF checks and the audit trail.

use std::path::PathBuf;
use std::time::Duration;

use crate::throttle::ThrottleScope;

/// Errors of the user store and of making secrets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The users file is not the JSON this crate writes.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Malformed {
        /// The users file.
        path: PathBuf,
        /// Line of the problem (1-based).
        line: usize,
        /// Column of the problem (1-based).
        column: usize,
        /// What was expected.
        message: String,
    },
    /// A username breaks the rules (1–64 characters from `a-z`, `0-9`, `.`, `_`, `-`).
    #[error("username `{username}`: {reason}")]
    BadUsername {
        /// The username as given.
        username: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A password breaks the rules (at least 12 characters, not the username).
    #[error("password: {0}")]
    WeakPassword(String),
    /// A practice code is missing, not allowed for the role, or not of the ODS form.
    #[error("{0}")]
    BadPractice(String),
    /// A role name is not one of `analyst`, `clinician`, `admin`.
    #[error("unknown role `{0}`: expected analyst, clinician or admin")]
    UnknownRole(String),
    /// Adding a user whose name is taken.
    #[error("user `{0}` already exists")]
    UserExists(String),
    /// Changing or removing a user that does not exist.
    #[error("no user `{0}`")]
    NoSuchUser(String),
    /// The password hasher refused its parameters or failed.
    #[error("password hashing: {0}")]
    Hashing(String),
    /// The operating system gave no random bytes.
    #[error("no randomness available: {0}")]
    Random(String),
    /// The audit trail could not be opened or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Why a sign-in did not succeed. The message never says whether the username exists.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown username or wrong password (deliberately not told apart).
    #[error("the username or password is not right")]
    InvalidCredentials,
    /// Too many recent failures: sign-in is refused for a while.
    #[error("too many failed sign-ins: try again in {}", crate::throttle::describe_wait(*retry_after))]
    Throttled {
        /// How long until an attempt will be considered again.
        retry_after: Duration,
        /// Which counter refused it (the username, the client address, or every sign-in).
        scope: ThrottleScope,
    },
    /// The user store could not be read.
    #[error(transparent)]
    Store(#[from] Error),
    /// The attempt could not be written to the audit trail, so it is refused (fail closed).
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Why a CSRF token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    /// The token is not of the form this server issues.
    #[error("the form's security token is malformed")]
    Malformed,
    /// The token was issued too long ago (or by a server started since: the key is new).
    #[error("the form has expired: reload the page and try again")]
    Expired,
    /// The token does not match (another session's token, a forged one, or a different key).
    #[error("the form's security token does not match")]
    Mismatch,
}

/// Errors of the audit trail. A broken chain names the line and what broke.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The trail or its head file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A line of the trail is not a valid link of the chain.
    #[error("{}:{line}: {problem}", path.display())]
    Line {
        /// The trail.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// The head file (the last line's seq and hash) disagrees with the trail.
    #[error("{}: {problem}", path.display())]
    Head {
        /// The head file.
        path: PathBuf,
        /// What disagrees.
        problem: String,
    },
}

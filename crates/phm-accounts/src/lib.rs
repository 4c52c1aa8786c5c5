//! Access control for the web app, with no web dependency: user accounts, sessions, CSRF
//! tokens, sign-in throttling and the audit trail.
//!
//! * [`Users`]: accounts in one JSON file (`data/accounts/users.json`), argon2id password hashes
//!   ([`password`]), roles `analyst`, `clinician` (with a practice) and `admin`.
//! * [`Sessions`]: in-memory sessions with random tokens, 30 minutes idle and 8 hours in all.
//! * [`csrf`]: each session's CSRF token, and signed double-submit tokens for the sign-in form.
//! * [`Throttle`]: failed sign-ins slow down a username at an address, an address, a username
//!   and everyone, without letting anyone lock an account's owner out.
//! * [`Audit`]: an append-only, hash-chained JSON Lines trail (`data/accounts/audit.jsonl`) of
//!   sign-ins, sign-outs, person-level and restricted views, exports and account changes.
//! * [`Accounts`] holds one of each and does a whole sign-in: throttle, verify, record, session.
//!
//! Time comes from a [`Clock`], so tests move it rather than wait.
#![warn(missing_docs)]

pub mod audit;
pub mod clock;
pub mod csrf;
pub mod error;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use audit::{Actor, Audit, AuditLine, Event};
pub use clock::{Clock, ManualClock, SystemClock};
pub use csrf::{FormToken, SignInForms};
pub use error::{AuditError, AuthError, CsrfError, Error};
pub use password::Hashing;
pub use sessions::{Session, SessionPolicy, Sessions};
pub use throttle::{Refusal, Throttle, ThrottlePolicy, ThrottleScope};
pub use users::{Role, User, Users};

/// Where `phm` keeps accounts when no folder is named.
pub const DEFAULT_DIR: &str = "data/accounts";
/// The users file in the accounts folder.
pub const USERS_FILE: &str = "users.json";
/// The audit trail in the accounts folder.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// Verifies the audit trail of the accounts folder `dir` ([`audit::read_verified`]: every
/// line, the chain, the head and genesis files), and that the trail is not emptier than the
/// accounts show: adding an account or setting its password is recorded, so accounts added or
/// changed since the trail was started (or, with no genesis file, any accounts at all) beside
/// a trail of no lines mean the trail was emptied or replaced. Returns the trail's lines.
pub fn verify_folder(dir: &Path) -> Result<Vec<AuditLine>, AuditError> {
    let trail = dir.join(AUDIT_FILE);
    let lines = audit::read_verified(&trail)?;
    let users_path = dir.join(USERS_FILE);
    if !lines.is_empty() || !users_path.exists() {
        return Ok(lines);
    }
    let accounts = Users::open(&users_path).and_then(|u| u.list()).map_err(|e| AuditError::Head {
        path: users_path.clone(),
        problem: format!("cannot be read to check the trail against it: {e}"),
    })?;
    let started = audit::read_genesis(&trail)?
        .and_then(|g| chrono::DateTime::parse_from_rfc3339(&g.started_at).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let unrecorded = accounts.iter().filter(|u| started.is_none_or(|s| u.created.max(u.password_changed) >= s)).count();
    if unrecorded > 0 {
        return Err(AuditError::Head {
            path: trail,
            problem: format!(
                "has no lines, but `{}` holds {unrecorded} account{} added or changed {}, which the trail should record: the trail was emptied or replaced",
                users_path.display(),
                if unrecorded == 1 { "" } else { "s" },
                if started.is_some() { "since the trail was started" } else { "while it was kept" }
            ),
        });
    }
    Ok(lines)
}

/// How an [`Accounts`] is set up; the default is what production uses.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// Password hashing parameters.
    pub hashing: Hashing,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Throttling limits.
    pub throttle: ThrottlePolicy,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            hashing: Hashing::default(),
            clock: Arc::new(SystemClock),
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
        }
    }
}

/// Everything the web app needs for access control, over one accounts folder. `Send + Sync`:
/// share one behind an `Arc`.
#[derive(Debug)]
pub struct Accounts {
    /// The user store.
    pub users: Users,
    /// Live sessions.
    pub sessions: Sessions,
    /// Sign-in throttling.
    pub throttle: Throttle,
    /// The sign-in form's CSRF tokens (a fresh key for each start).
    pub forms: SignInForms,
    /// The audit trail.
    pub audit: Audit,
    dir: PathBuf,
}

impl Accounts {
    /// Opens the accounts folder `dir` (`users.json` and `audit.jsonl`, created if missing)
    /// with the production configuration. Fails if the trail does not verify.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(dir, AccountsConfig::default())
    }

    /// Opens the accounts folder with this configuration.
    pub fn open_with(dir: impl AsRef<Path>, config: AccountsConfig) -> Result<Self, Error> {
        let dir = dir.as_ref().to_owned();
        let audit = Audit::open_with_clock(dir.join(AUDIT_FILE), Arc::clone(&config.clock))?;
        let users = Users::open_with(dir.join(USERS_FILE), config.hashing, Arc::clone(&config.clock))?;
        Ok(Self {
            users,
            sessions: Sessions::with_policy(Arc::clone(&config.clock), config.sessions),
            throttle: Throttle::with_policy(Arc::clone(&config.clock), config.throttle),
            forms: SignInForms::new(config.clock)?,
            audit,
            dir,
        })
    }

    /// The accounts folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A whole sign-in: refused while throttled (recorded as `sign_in_refused` once per refusal,
    /// not for every attempt while it lasts); otherwise
    /// the password is checked, the outcome counted and recorded (`sign_in` or
    /// `sign_in_failed`), and on success a new session is made. If the trail cannot be written,
    /// the sign-in fails.
    pub fn sign_in(&self, username: &str, password: &str, ip: Option<IpAddr>) -> Result<Session, AuthError> {
        let attempt = match self.throttle.attempt(username, ip) {
            Ok(attempt) => attempt,
            Err(refusal) => {
                if self.throttle.first_report(username, ip, &refusal) {
                    let actor = match self.users.get(username)? {
                        Some(user) => Actor::user(&user, ip),
                        None => Actor::anonymous(ip),
                    };
                    let retry_after_seconds =
                        refusal.retry_after.as_secs() + u64::from(refusal.retry_after.subsec_nanos() > 0);
                    self.audit.record(&actor, Event::SignInRefused { scope: refusal.scope, retry_after_seconds })?;
                }
                return Err(AuthError::Throttled { retry_after: refusal.retry_after, scope: refusal.scope });
            }
        };
        match self.users.check(username, password)? {
            users::Checked::Right(user) => {
                attempt.succeeded();
                self.audit.record(&Actor::user(&user, ip), Event::SignIn)?;
                Ok(self.sessions.create(user)?)
            }
            users::Checked::WrongPassword(user) => {
                attempt.failed();
                self.audit.record(&Actor::user(&user, ip), Event::SignInFailed { username_known: true })?;
                Err(AuthError::InvalidCredentials)
            }
            users::Checked::UnknownUser => {
                attempt.failed();
                self.audit.record(&Actor::anonymous(ip), Event::SignInFailed { username_known: false })?;
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// The live session with this token, if its account still exists unchanged: a session
    /// whose user was removed, given another role or practice, or whose password was set after
    /// the session began, is ended.
    pub fn session(&self, token: &str) -> Result<Option<Session>, Error> {
        let Some(session) = self.sessions.get(token) else { return Ok(None) };
        let current = self.users.get(&session.user.username)?;
        let still_valid = current.is_some_and(|u| {
            u.role == session.user.role && u.practice == session.user.practice && u.password_changed <= session.created
        });
        if still_valid {
            Ok(Some(session))
        } else {
            self.sessions.end(token);
            Ok(None)
        }
    }

    /// Ends the session with this token and records `sign_out`; returns it if it was live.
    pub fn sign_out(&self, token: &str, ip: Option<IpAddr>) -> Result<Option<Session>, AuditError> {
        let Some(session) = self.sessions.end(token) else { return Ok(None) };
        self.audit.record(&Actor::user(&session.user, ip), Event::SignOut)?;
        Ok(Some(session))
    }
}

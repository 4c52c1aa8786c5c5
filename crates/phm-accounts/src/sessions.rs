//! Signed-in sessions, held in memory.
//!
//! A session is made at sign-in with a fresh 256-bit random token (64 hex digits, for the
//! cookie) and its own 256-bit CSRF token (for forms and `X-CSRF-Token` headers), so a token
//! known before sign-in is never promoted (no session fixation). It ends after
//! [`SessionPolicy::idle`] without a request (30 minutes by default) or
//! [`SessionPolicy::absolute`] after sign-in (8 hours), whichever comes first, at sign-out,
//! or when the server restarts. Sessions are looked up by the SHA-256 of their token, so the
//! table holds no usable token and a lookup's timing depends on a hash, not on the secret.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::clock::{Clock, delta};
use crate::csrf::constant_time_eq;
use crate::error::Error;
use crate::users::User;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 8 hours in all.
    fn default() -> Self {
        Self { idle: Duration::from_secs(30 * 60), absolute: Duration::from_secs(8 * 60 * 60) }
    }
}

/// A signed-in session. `Debug` leaves out both tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    token: String,
    csrf_token: String,
    /// Who signed in.
    pub user: User,
    /// When they signed in.
    pub created: DateTime<Utc>,
    /// The last request that used the session.
    pub last_seen: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("csrf_token", &"<redacted>")
            .field("user", &self.user)
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .finish()
    }
}

impl Session {
    /// The session token, for the cookie (`HttpOnly; Secure; SameSite=Lax`, no `Max-Age`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The session's CSRF token, for hidden form fields and the `X-CSRF-Token` header.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// Whether `candidate` (from a form or header) is this session's CSRF token, compared in
    /// constant time.
    pub fn csrf_matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.csrf_token.as_bytes(), candidate.as_bytes())
    }
}

#[derive(Debug)]
struct Inner {
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

/// The live sessions. Cloning is cheap and clones share the sessions; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Sessions(Arc<Inner>);

impl Sessions {
    /// Sessions with the default policy (30 minutes idle, 8 hours in all).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_policy(clock, SessionPolicy::default())
    }

    /// Sessions with this policy.
    pub fn with_policy(clock: Arc<dyn Clock>, policy: SessionPolicy) -> Self {
        Self(Arc::new(Inner { clock, policy, by_hash: Mutex::new(HashMap::new()) }))
    }

    /// The policy in force.
    pub fn policy(&self) -> SessionPolicy {
        self.0.policy
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.0.by_hash.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new session for `user`, with fresh random tokens.
    pub fn create(&self, user: User) -> Result<Session, Error> {
        let now = self.0.clock.now();
        let session = Session { token: random_hex()?, csrf_token: random_hex()?, user, created: now, last_seen: now };
        let mut table = self.table();
        // Clear out ended sessions now and then, so abandoned ones do not pile up.
        if table.len() % 256 == 255 {
            let policy = self.0.policy;
            table.retain(|_, s| !expired(s, policy, now));
        }
        table.insert(hash(&session.token), session.clone());
        Ok(session)
    }

    /// The session with this token, if it has not ended; marks it as seen now. An expired
    /// session is removed.
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = self.0.clock.now();
        let key = hash(token);
        let mut table = self.table();
        let session = table.get_mut(&key)?;
        if expired(session, self.0.policy, now) {
            table.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// When the session with this token will end if it is not used again (without marking it
    /// as seen), if it has not ended.
    pub fn expires_at(&self, token: &str) -> Option<DateTime<Utc>> {
        let now = self.0.clock.now();
        let table = self.table();
        let session = table.get(&hash(token)).filter(|s| !expired(s, self.0.policy, now))?;
        Some((session.last_seen + delta(self.0.policy.idle)).min(session.created + delta(self.0.policy.absolute)))
    }

    /// Ends the session with this token (sign-out); returns it if it was live.
    pub fn end(&self, token: &str) -> Option<Session> {
        let now = self.0.clock.now();
        self.table().remove(&hash(token)).filter(|s| !expired(s, self.0.policy, now))
    }

    /// Ends every session of a user (after the account is removed or its password changed);
    /// returns how many there were.
    pub fn end_user(&self, username: &str) -> usize {
        let mut table = self.table();
        let before = table.len();
        table.retain(|_, s| s.user.username != username);
        before - table.len()
    }

    /// How many live sessions there are (ended ones are dropped first).
    pub fn len(&self) -> usize {
        let now = self.0.clock.now();
        let policy = self.0.policy;
        let mut table = self.table();
        table.retain(|_, s| !expired(s, policy, now));
        table.len()
    }

    /// Whether there are no live sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn expired(session: &Session, policy: SessionPolicy, now: DateTime<Utc>) -> bool {
    now >= session.last_seen + delta(policy.idle) || now >= session.created + delta(policy.absolute)
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 256 random bits as 64 lower-case hex digits.
pub(crate) fn random_hex() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

//! CSRF protection.
//!
//! **Signed in.** Each [`Session`](crate::Session) has its own random CSRF token; every
//! state-changing request carries it in a form field or header, and the server compares it with
//! [`Session::csrf_matches`](crate::Session::csrf_matches) (constant time, [`constant_time_eq`]).
//!
//! **The sign-in form**, before there is a session, uses [`SignInForms`]: a signed double-submit
//! token, after OWASP's CSRF Prevention Cheat Sheet ("signed double-submit cookie"):
//!
//! * at start-up the server makes a 256-bit random key *K* (never stored: a restart makes
//!   outstanding forms expire, which is harmless);
//! * to show the form it makes a 128-bit random nonce *n* and notes the time *t* (Unix seconds);
//!   *n* goes in a cookie (`__Host-` prefixed, `HttpOnly; Secure; SameSite=Strict; Path=/`) and
//!   the form's hidden field carries `t.m`, where
//!   *m* = hex(HMAC-SHA-256(*K*, `"openphm sign-in form v1" ‖ 0x00 ‖ n ‖ 0x00 ‖ t`)), with *n*
//!   and *t* as the ASCII text of the hex nonce and the decimal time;
//! * on submission it recomputes *m* from the cookie's nonce and the field's *t* and compares in
//!   constant time (`hmac`'s `verify_slice`), and accepts only if *t* is at most
//!   [`SignInForms::max_age`] old (two hours by default) and not more than a minute ahead.
//!
//! A forged cross-site form cannot carry a valid field for the victim's cookie (it needs *K*),
//! and it cannot set the victim's `__Host-` cookie, so an attacker cannot sign a victim in to
//! the attacker's account (login CSRF).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::clock::Clock;
use crate::error::{CsrfError, Error};

/// Whether two byte strings are equal, taking the same time wherever they differ (the length
/// is not secret: tokens have a fixed length).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

const DOMAIN: &[u8] = b"openphm sign-in form v1";

/// The two halves of a sign-in form's token.
#[derive(Clone, PartialEq, Eq)]
pub struct FormToken {
    /// The nonce, for the cookie (32 hex digits).
    pub cookie: String,
    /// The signed value, for the form's hidden field (`<unix seconds>.<64 hex digits>`).
    pub field: String,
}

impl fmt::Debug for FormToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FormToken(<redacted>)")
    }
}

/// Issues and checks the sign-in form's tokens (see the module documentation for the scheme).
pub struct SignInForms {
    key: [u8; 32],
    clock: Arc<dyn Clock>,
    max_age: Duration,
}

impl fmt::Debug for SignInForms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInForms").field("key", &"<redacted>").field("max_age", &self.max_age).finish()
    }
}

impl SignInForms {
    /// Forms signed with a new random key; a token is accepted for two hours.
    pub fn new(clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self::with_key(key, clock))
    }

    /// Forms signed with this key (tests, or several servers behind one load balancer).
    pub fn with_key(key: [u8; 32], clock: Arc<dyn Clock>) -> Self {
        Self { key, clock, max_age: Duration::from_secs(2 * 60 * 60) }
    }

    /// The same, accepting tokens for `max_age`.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How long a token is accepted.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// A token for a new sign-in form.
    pub fn issue(&self) -> Result<FormToken, Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| Error::Random(e.to_string()))?;
        let nonce = hex::encode(nonce);
        let issued = self.clock.now().timestamp();
        let mac = self.mac(&nonce, issued).finalize().into_bytes();
        Ok(FormToken { field: format!("{issued}.{}", hex::encode(mac)), cookie: nonce })
    }

    /// Checks a submitted form: the nonce from its cookie and the value of its hidden field.
    pub fn verify(&self, cookie: &str, field: &str) -> Result<(), CsrfError> {
        let is_hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let (issued, mac) = field.split_once('.').ok_or(CsrfError::Malformed)?;
        if !is_hex(cookie, 32) || !is_hex(mac, 64) || issued.is_empty() || !issued.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CsrfError::Malformed);
        }
        let issued: i64 = issued.parse().map_err(|_| CsrfError::Malformed)?;
        let mac = hex::decode(mac).map_err(|_| CsrfError::Malformed)?;
        self.mac(cookie, issued).verify_slice(&mac).map_err(|_| CsrfError::Mismatch)?;
        let now = self.clock.now().timestamp();
        let max_age = i64::try_from(self.max_age.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(issued) > max_age || issued.saturating_sub(now) > 60 {
            return Err(CsrfError::Expired);
        }
        Ok(())
    }

    fn mac(&self, nonce: &str, issued: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(DOMAIN);
        mac.update(b"\x00");
        mac.update(nonce.as_bytes());
        mac.update(b"\x00");
        mac.update(issued.to_string().as_bytes());
        mac
    }
}

//! Password rules and argon2id hashing.
//!
//! Rules follow the NCSC's password guidance (<https://www.ncsc.gov.uk/collection/passwords>):
//! length matters more than composition, so a password needs at least
//! [`MIN_PASSWORD_CHARS`] characters (Unicode scalar values, spaces allowed) and no mix of
//! classes; and the most common passwords are blocked. A password is refused if it is
//!
//! * shorter than [`MIN_PASSWORD_CHARS`] or longer than [`MAX_PASSWORD_CHARS`] (which only
//!   bounds the work of hashing);
//! * only white space, or one short run of characters repeated (`aaaaaaaaaaaa`,
//!   `abcabcabcabc`);
//! * the username, or contains it (for usernames of [`USERNAME_IN_PASSWORD_MIN_CHARS`] or more
//!   characters; shorter ones are only refused whole);
//! * on the common-password list (`reference/passwords/common-passwords.txt`, 19,640 entries
//!   from Django's `CommonPasswordValidator`, embedded at build time), ignoring case and the
//!   spaces around it, or one of those passwords with digits, spaces or symbols added before
//!   or after it (`password1234`, `Sunshine2026!`): the first guesses of every cracking tool.
//!
//! Hashes are argon2id (RFC 9106) written as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), each with its own 16-byte salt from the
//! operating system (`getrandom`). The default parameters are the `argon2` crate's defaults,
//! m = 19 MiB, t = 2, p = 1, which are OWASP's Password Storage Cheat Sheet minimum for
//! argon2id. A hash is verified with the parameters written in it, so raising them later
//! keeps old hashes valid.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Error;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most characters a password may have (bounds the hashing work an attacker can cause).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Usernames at least this long may not appear anywhere in a password; shorter ones (`al`)
/// would refuse too many good passwords, so only a password that *is* the username is refused.
pub const USERNAME_IN_PASSWORD_MIN_CHARS: usize = 3;

/// The common-password list, one lower-case password a line (see `reference/passwords/`).
const COMMON_PASSWORDS: &str = include_str!("../../../reference/passwords/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// Whether `password` is on the common-password list, ignoring case and surrounding spaces.
pub fn is_common(password: &str) -> bool {
    common_passwords().contains(password.trim().to_lowercase().as_str())
}

/// Whether the password is a common one with digits, spaces or symbols added before or after
/// it (`password1234`, `!!dragon2024`).
fn common_core(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    let core = lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace());
    core.chars().count() >= 3 && core != lower && common_passwords().contains(core)
}

/// Whether the password is one short run of at most four characters repeated.
fn repeated_run(password: &str) -> bool {
    let chars: Vec<char> = password.chars().collect();
    (1..=4).any(|n| chars.len() >= 2 * n && chars.chunks(n).all(|c| c == &chars[..c.len()]))
}

/// Checks a new password against the rules (see the module documentation).
pub fn check_password(username: &str, password: &str) -> Result<(), Error> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::WeakPassword(format!(
            "use at least {MIN_PASSWORD_CHARS} characters (this one has {chars}); a few unrelated words make a long password easy to remember"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::WeakPassword(format!("use at most {MAX_PASSWORD_CHARS} characters (this one has {chars})")));
    }
    if password.chars().all(char::is_whitespace) {
        return Err(Error::WeakPassword("the password is only spaces: use a few unrelated words".into()));
    }
    if repeated_run(password) {
        return Err(Error::WeakPassword(
            "the password repeats a few characters over and over: use a few unrelated words".into(),
        ));
    }
    let lower = password.to_lowercase();
    let name = username.trim().to_lowercase();
    if lower.trim() == name || (name.chars().count() >= USERNAME_IN_PASSWORD_MIN_CHARS && lower.contains(&name)) {
        return Err(Error::WeakPassword("the password may not be or contain the username".into()));
    }
    if is_common(password) {
        return Err(Error::WeakPassword(
            "this is one of the most common passwords, which are tried first in any attack: use a few unrelated words"
                .into(),
        ));
    }
    if common_core(password) {
        return Err(Error::WeakPassword(
            "this is a common password with digits or symbols added, which attackers try early: use a few unrelated words".into(),
        ));
    }
    Ok(())
}

/// How passwords are hashed: argon2id with these parameters.
#[derive(Debug, Clone)]
pub struct Hashing {
    params: Params,
}

impl Default for Hashing {
    /// The `argon2` crate's defaults (m = 19 MiB, t = 2, p = 1): OWASP's minimum for argon2id.
    fn default() -> Self {
        Self { params: Params::default() }
    }
}

impl Hashing {
    /// Hashing with other parameters: memory in KiB, iterations, lanes. Lower than the default
    /// only in tests, where the default's cost would make a suite slow.
    pub fn with_params(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, Error> {
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(|e| Error::Hashing(e.to_string()))?;
        Ok(Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| Error::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hashing(e.to_string()))?;
        let hash =
            self.argon2().hash_password(password.as_bytes(), &salt).map_err(|e| Error::Hashing(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `phc` (with the parameters written in it).
    /// A malformed hash matches nothing.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => self.argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }
}

/// Why a stored hash is not an argon2id PHC string, if it is not.
pub(crate) fn check_phc(phc: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("password_hash is not a PHC string ({e})"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!("password_hash uses `{}`, expected argon2id", parsed.algorithm));
    }
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err("password_hash has no salt or no hash".into());
    }
    Params::try_from(&parsed).map_err(|e| format!("password_hash has unusable argon2 parameters ({e})"))?;
    Ok(())
}

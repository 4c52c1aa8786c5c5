//! Password rules and argon2id hashing.
//!
//! Rules follow the NCSC's password guidance (<https://www.ncsc.gov.uk/collection/passwords>):
//! length matters more than composition, so a password needs at least
//! [`MIN_PASSWORD_CHARS`] characters (Unicode scalar values, spaces allowed) and no mix of
//! classes; it may not be the username. [`MAX_PASSWORD_CHARS`] only bounds the work of hashing.
//!
//! Hashes are argon2id (RFC 9106) written as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), each with its own 16-byte salt from the
//! operating system (`getrandom`). The default parameters are the `argon2` crate's defaults,
//! m = 19 MiB, t = 2, p = 1, which are OWASP's Password Storage Cheat Sheet minimum for
//! argon2id. A hash is verified with the parameters written in it, so raising them later
//! keeps old hashes valid.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Error;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most characters a password may have (bounds the hashing work an attacker can cause).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Checks a new password against the rules.
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
    if password.trim().eq_ignore_ascii_case(username) {
        return Err(Error::WeakPassword("the password may not be the username".into()));
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
        let params = Params::new(memory_kib, iterations, parallelism, None).map_err(|e| Error::Hashing(e.to_string()))?;
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
        let hash = self.argon2().hash_password(password.as_bytes(), &salt).map_err(|e| Error::Hashing(e.to_string()))?;
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

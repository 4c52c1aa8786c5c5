//! Pseudonymisation at the door.
//!
//! Every person in the store is known by a [`PersonId`]: the first 128 bits of
//! HMAC-SHA-256(key, NHS number), written as 32 lower-case hex digits. The same NHS number gives
//! the same pseudonym from every source, so sources link; without the key a pseudonym cannot be
//! reversed or recomputed from a guessed NHS number (there are only a billion of them, which is
//! why a plain hash would not do).
//!
//! The [`PseudonymKey`] is 32 random bytes in a file of its own, created on first use with
//! owner-only permissions, and kept **outside** the store: a copy of the store without the key
//! holds no way back to NHS numbers. The key is never printed: its `Debug` is redacted, and
//! the store records only its [`PseudonymKey::fingerprint`], so that loading with a different
//! key (which would silently break linkage) is refused.
//!
//! A record without a usable NHS number (an OMOP extract keyed by a local identifier, say) gets
//! a *local* pseudonym from its source name and local identifier: it is in the store, but it
//! cannot link to any other source.
#![warn(missing_docs)]

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use phm_core::nhs_number::NhsNumber;
use sha2::Sha256;

/// Errors of key handling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key file could not be read or written.
    #[error("pseudonymisation key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The key file does not hold a key.
    #[error("pseudonymisation key {path}: {reason}")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operating system gave no random bytes.
    #[error("no randomness available to make a pseudonymisation key: {0}")]
    Random(String),
}

/// The secret behind every pseudonym.
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

impl PseudonymKey {
    /// A key from these bytes (tests, or a key held by a key-management service).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// Reads the key at `path`, or makes a new one there if there is no file. Returns the key
    /// and whether it was created now.
    ///
    /// A new key file is created exclusively (two processes cannot both make one) with mode
    /// 0600, written in full and synced before it is used.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), Error> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse(path, &text).map(|k| (k, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let key = Self::generate()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = match options.open(path) {
            Ok(file) => file,
            // Somebody else made it between our read and our create: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(io)?;
                return Self::parse(path, &text).map(|k| (k, false));
            }
            Err(e) => return Err(io(e)),
        };
        let text = format!("{}\n", hex::encode(key.0));
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok((key, true))
    }

    fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let bad = |reason| Error::Malformed { path: path.to_owned(), reason };
        let bytes = hex::decode(text.trim()).map_err(|_| bad("expected 64 hexadecimal digits"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| bad("expected 64 hexadecimal digits (32 bytes)"))?;
        Ok(Self(bytes))
    }

    /// A public fingerprint of the key (not the key): stored with the data so that a load with
    /// a different key is refused.
    pub fn fingerprint(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"openphm key fingerprint v1");
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// The pseudonym of an NHS number.
    pub fn person_id(&self, nhs_number: NhsNumber) -> PersonId {
        let mut mac = self.mac();
        mac.update(b"nhs:");
        mac.update(format!("{:010}", nhs_number.as_u64()).as_bytes());
        PersonId::from_mac(mac)
    }

    /// The pseudonym of a person a source knows only by its own identifier: unique to that
    /// source, never equal to an NHS-number pseudonym.
    pub fn local_person_id(&self, source: &str, local_id: &str) -> PersonId {
        let mut mac = self.mac();
        mac.update(b"local:");
        mac.update(source.as_bytes());
        mac.update(b"\x00");
        mac.update(local_id.as_bytes());
        PersonId::from_mac(mac)
    }
}

/// A person's pseudonym: 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId([u8; 16]);

impl PersonId {
    fn from_mac(mac: Hmac<Sha256>) -> Self {
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        Self(out)
    }

    /// The pseudonym as stored: 32 hex digits.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonId({})", self.to_hex())
    }
}

/// Where the key for a store lives when none is named: beside the store, never inside it
/// (`data/store` → `data/store.pseudonym-key`).
pub fn default_key_path(store: &Path) -> PathBuf {
    let name = store.file_name().map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    store.with_file_name(format!("{name}.pseudonym-key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nhs(first_nine: u64) -> NhsNumber {
        let mut n = first_nine;
        loop {
            if let Some(x) = NhsNumber::from_first_nine(n) {
                return x;
            }
            n += 1;
        }
    }

    #[test]
    fn the_same_number_gives_the_same_pseudonym_and_keys_differ() {
        let a = PseudonymKey::from_bytes([1; 32]);
        let b = PseudonymKey::from_bytes([2; 32]);
        let n = nhs(943_476_591);
        assert_eq!(a.person_id(n), a.person_id(n));
        assert_ne!(a.person_id(n), b.person_id(n));
        assert_eq!(a.person_id(n).to_hex().len(), 32);
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn local_pseudonyms_are_per_source_and_never_collide_with_nhs_ones() {
        let k = PseudonymKey::from_bytes([7; 32]);
        let n = nhs(943_476_591);
        let digits = format!("{:010}", n.as_u64());
        assert_ne!(k.local_person_id("omop-a", &digits), k.person_id(n));
        assert_ne!(k.local_person_id("omop-a", "1"), k.local_person_id("omop-b", "1"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(k.local_person_id("ab", "c"), k.local_person_id("a", "bc"));
    }

    #[test]
    fn the_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/store.pseudonym-key");
        let (made, created) = PseudonymKey::load_or_create(&path).expect("create");
        assert!(created);
        let (read, created_again) = PseudonymKey::load_or_create(&path).expect("read");
        assert!(!created_again);
        assert_eq!(made.fingerprint(), read.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key readable by others: {mode:o}");
        }
        assert_eq!(format!("{made:?}"), "PseudonymKey(<redacted>)");
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        std::fs::write(&path, "not a key").expect("write");
        let err = PseudonymKey::load_or_create(&path).expect_err("must refuse");
        assert!(err.to_string().contains("expected 64 hexadecimal digits"), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    }

    #[test]
    fn the_default_key_sits_beside_the_store() {
        assert_eq!(default_key_path(Path::new("data/store")), PathBuf::from("data/store.pseudonym-key"));
    }

    proptest! {
        #[test]
        fn distinct_numbers_get_distinct_pseudonyms(a in 100_000_000u64..999_999_999, b in 100_000_000u64..999_999_999) {
            let k = PseudonymKey::from_bytes([3; 32]);
            let (x, y) = (nhs(a), nhs(b));
            prop_assert_eq!(x == y, k.person_id(x) == k.person_id(y));
        }
    }
}

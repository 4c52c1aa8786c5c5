//! The user store: one JSON file of accounts with argon2id password hashes.
//!
//! The file (`data/accounts/users.json` by default) is created with mode 0600 in a folder made
//! with mode 0700. Every change takes an exclusive lock on a lock file beside it
//! (`.users.json.lock`), reads the file afresh, writes the new version to a temporary file,
//! syncs it and renames it into place, so a reader sees the old file or the new one, never half
//! of one, and two processes (the web app and `phm users`) cannot lose each other's changes.
//! Readers keep the parsed file and re-read it only when its size, time or inode change, so a
//! user removed with `phm users remove` is gone for a running server at its next request.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::{AuthError, Error};
use crate::password::{Hashing, check_password, check_phc};

/// The `format` field of the users file.
const FORMAT: &str = "openphm-users/1";

/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 64;

/// What an account may see. (`public`, the anonymous visitor, is not an account.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Public-health analyst: analyst pages and tables (suppressed, unrounded).
    Analyst,
    /// Clinician: person-level views for the patients of one practice (the account's ODS code).
    Clinician,
    /// Administrator: manages accounts and reads the audit trail.
    Admin,
}

impl Role {
    /// Every role, in the order they are listed to people.
    pub const ALL: [Role; 3] = [Role::Analyst, Role::Clinician, Role::Admin];

    /// The role's name as written in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| Error::UnknownRole(s.to_owned()))
    }
}

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The sign-in name: 1–64 characters from `a-z`, `0-9`, `.`, `_`, `-`.
    pub username: String,
    /// What the account may see.
    pub role: Role,
    /// The practice (ODS code) a clinician's person-level views are limited to; `None` for
    /// other roles.
    pub practice: Option<String>,
    /// When the account was made.
    pub created: DateTime<Utc>,
    /// When its password was last set (sessions from before then are no longer valid).
    pub password_changed: DateTime<Utc>,
}

/// One account as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    username: String,
    role: Role,
    #[serde(default)]
    practice: Option<String>,
    password_hash: String,
    created: DateTime<Utc>,
    password_changed: DateTime<Utc>,
}

impl Record {
    fn user(&self) -> User {
        User {
            username: self.username.clone(),
            role: self.role,
            practice: self.practice.clone(),
            created: self.created,
            password_changed: self.password_changed,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    format: String,
    users: Vec<Record>,
}

/// Checks a username: 1–64 characters from `a-z`, `0-9`, `.`, `_`, `-`.
pub fn check_username(username: &str) -> Result<(), Error> {
    let bad = |reason: String| Error::BadUsername { username: username.to_owned(), reason };
    if username.is_empty() {
        return Err(bad("a username needs at least one character".into()));
    }
    let chars = username.chars().count();
    if chars > MAX_USERNAME_CHARS {
        return Err(bad(format!("use at most {MAX_USERNAME_CHARS} characters (this one has {chars})")));
    }
    if let Some((i, c)) =
        username.chars().enumerate().find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        let hint = if c.is_ascii_uppercase() { " (use lower case)" } else { "" };
        return Err(bad(format!("character {} is `{c}`{hint}: use only a-z, 0-9, `.`, `_` and `-`", i + 1)));
    }
    Ok(())
}

/// The practice a role carries, checked: a clinician must have one, others must not. ODS codes
/// are 3 to 10 letters and digits (`A81001`, the synthetic `SYNGP001`); lower case is raised.
/// Whether the practice exists in the ICS's reference data is the caller's check.
pub fn check_practice(role: Role, practice: Option<&str>) -> Result<Option<String>, Error> {
    match (role, practice) {
        (Role::Clinician, None) => Err(Error::BadPractice(
            "a clinician must carry the ODS code of their practice (for example `SYNGP001`)".into(),
        )),
        (Role::Clinician, Some(code)) => {
            let code = code.to_ascii_uppercase();
            if !(3..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return Err(Error::BadPractice(format!(
                    "practice `{code}` is not an ODS code: expected 3 to 10 letters and digits, like `SYNGP001`"
                )));
            }
            Ok(Some(code))
        }
        (role, Some(code)) => Err(Error::BadPractice(format!(
            "only clinicians carry a practice; a(n) {role} account cannot have `{code}`"
        ))),
        (_, None) => Ok(None),
    }
}

/// What identifies one version of the users file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(metadata: &fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Self { len: metadata.len(), modified: metadata.modified().ok(), inode }
    }
}

#[derive(Debug)]
struct Cached {
    stamp: Stamp,
    records: Arc<Vec<Record>>,
}

/// The result of checking a username and password, inside the crate (the public
/// [`Users::verify`] does not tell an unknown user from a wrong password).
#[derive(Debug)]
pub(crate) enum Checked {
    Right(User),
    WrongPassword(User),
    UnknownUser,
}

/// The account store. `Send + Sync`: share one behind an `Arc`.
#[derive(Debug)]
pub struct Users {
    path: PathBuf,
    lock_path: PathBuf,
    hashing: Hashing,
    clock: Arc<dyn Clock>,
    cache: Mutex<Option<Cached>>,
    /// A hash of a password nobody has, checked when the username is unknown so that the
    /// answer takes as long as for a known one.
    dummy_hash: OnceLock<String>,
}

impl Users {
    /// Opens the store at `path` (creating an empty one, and its folder, if there is none) with
    /// the default argon2id parameters and the system clock.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, Hashing::default(), Arc::new(SystemClock))
    }

    /// Opens the store with these hashing parameters and clock.
    pub fn open_with(path: impl AsRef<Path>, hashing: Hashing, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let path = path.as_ref().to_owned();
        let name = path.file_name().map_or_else(|| "users.json".into(), |n| n.to_string_lossy().into_owned());
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        let users = Self { path, lock_path, hashing, clock, cache: Mutex::new(None), dummy_hash: OnceLock::new() };
        if let Some(dir) = users.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        if !users.path.exists() {
            users.modify(|_| Ok(()))?;
        }
        users.records()?;
        let dummy = users.hashing.hash("a password that no account has, for unknown usernames")?;
        let _ = users.dummy_hash.set(dummy);
        Ok(users)
    }

    /// The users file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every account, by username.
    pub fn list(&self) -> Result<Vec<User>, Error> {
        Ok(self.records()?.iter().map(Record::user).collect())
    }

    /// The account with this username, if there is one.
    pub fn get(&self, username: &str) -> Result<Option<User>, Error> {
        Ok(self.records()?.iter().find(|r| r.username == username).map(Record::user))
    }

    /// Adds an account. The username, practice (required for a clinician, refused for other
    /// roles) and password are checked first; a taken username is refused.
    pub fn add(&self, username: &str, role: Role, practice: Option<String>, password: &str) -> Result<User, Error> {
        check_username(username)?;
        let practice = check_practice(role, practice.as_deref())?;
        check_password(username, password)?;
        let password_hash = self.hashing.hash(password)?;
        let now = self.clock.now();
        let record = Record {
            username: username.to_owned(),
            role,
            practice,
            password_hash,
            created: now,
            password_changed: now,
        };
        self.modify(|records| {
            if records.iter().any(|r| r.username == username) {
                return Err(Error::UserExists(username.to_owned()));
            }
            let at = records.partition_point(|r| r.username.as_str() < username);
            records.insert(at, record.clone());
            Ok(record.user())
        })
    }

    /// Removes an account and returns it.
    pub fn remove(&self, username: &str) -> Result<User, Error> {
        self.modify(|records| {
            let at = records
                .iter()
                .position(|r| r.username == username)
                .ok_or_else(|| Error::NoSuchUser(username.to_owned()))?;
            Ok(records.remove(at).user())
        })
    }

    /// Sets an account's password (checked against the rules) and returns the account.
    pub fn set_password(&self, username: &str, password: &str) -> Result<User, Error> {
        if self.get(username)?.is_none() {
            return Err(Error::NoSuchUser(username.to_owned()));
        }
        check_password(username, password)?;
        let password_hash = self.hashing.hash(password)?;
        let now = self.clock.now();
        self.modify(|records| {
            let record = records
                .iter_mut()
                .find(|r| r.username == username)
                .ok_or_else(|| Error::NoSuchUser(username.to_owned()))?;
            record.password_hash = password_hash.clone();
            record.password_changed = now;
            Ok(record.user())
        })
    }

    /// The account, if `password` is its password. An unknown username and a wrong password
    /// give the same error after the same work (an unknown name is checked against a dummy
    /// hash), so neither the answer nor its timing tells whether the name exists.
    pub fn verify(&self, username: &str, password: &str) -> Result<User, AuthError> {
        match self.check(username, password)? {
            Checked::Right(user) => Ok(user),
            Checked::WrongPassword(_) | Checked::UnknownUser => Err(AuthError::InvalidCredentials),
        }
    }

    pub(crate) fn check(&self, username: &str, password: &str) -> Result<Checked, Error> {
        let records = self.records()?;
        let record = records.iter().find(|r| r.username == username);
        // Bound the work an attacker can cause; such a password was never accepted anyway.
        let password = if password.chars().count() > crate::password::MAX_PASSWORD_CHARS { "" } else { password };
        match record {
            Some(record) => {
                if self.hashing.verify(password, &record.password_hash) {
                    Ok(Checked::Right(record.user()))
                } else {
                    Ok(Checked::WrongPassword(record.user()))
                }
            }
            None => {
                if let Some(dummy) = self.dummy_hash.get() {
                    let _ = self.hashing.verify(password, dummy);
                }
                Ok(Checked::UnknownUser)
            }
        }
    }

    /// The accounts as they are on disk now (re-read only if the file changed).
    fn records(&self) -> Result<Arc<Vec<Record>>, Error> {
        let io = |source| Error::Io { path: self.path.clone(), source };
        let stamp = Stamp::of(&fs::metadata(&self.path).map_err(io)?);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = cache.as_ref().filter(|c| c.stamp == stamp) {
            return Ok(Arc::clone(&cached.records));
        }
        let records = Arc::new(self.read()?);
        *cache = Some(Cached { stamp, records: Arc::clone(&records) });
        Ok(records)
    }

    /// Reads and checks the file; a missing file is an empty store.
    fn read(&self) -> Result<Vec<Record>, Error> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::Io { path: self.path.clone(), source }),
        };
        parse(&self.path, &text)
    }

    /// Applies `change` to the accounts under the lock and writes the result atomically.
    fn modify<T>(&self, change: impl FnOnce(&mut Vec<Record>) -> Result<T, Error>) -> Result<T, Error> {
        let lock = private_options().read(true).write(true).create(true).truncate(false).open(&self.lock_path);
        let lock = lock.map_err(|source| Error::Io { path: self.lock_path.clone(), source })?;
        lock.lock().map_err(|source| Error::Io { path: self.lock_path.clone(), source })?;
        let mut records = self.read()?;
        let out = change(&mut records)?;
        self.write(records)?;
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
        // Dropping `lock` closes the file, which releases the lock.
        Ok(out)
    }

    fn write(&self, users: Vec<Record>) -> Result<(), Error> {
        let file = UsersFile { format: FORMAT.into(), users };
        let mut text =
            serde_json::to_string_pretty(&file).map_err(|e| Error::Io { path: self.path.clone(), source: e.into() })?;
        text.push('\n');
        write_atomically(&self.path, text.as_bytes()).map_err(|source| Error::Io { path: self.path.clone(), source })
    }
}

/// Parses and checks the users file's text.
fn parse(path: &Path, text: &str) -> Result<Vec<Record>, Error> {
    let file: UsersFile = serde_json::from_str(text).map_err(|e| Error::Malformed {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: format!("{e}").split(" at line ").next().unwrap_or_default().to_owned(),
    })?;
    let at_key = |key: &str, nth: usize, message: String| {
        let (line, column) = key_position(text, key, nth);
        Error::Malformed { path: path.to_owned(), line, column, message }
    };
    if file.format != FORMAT {
        return Err(at_key("format", 0, format!("format is `{}`, expected `{FORMAT}`", file.format)));
    }
    for (i, r) in file.users.iter().enumerate() {
        let problem = check_username(&r.username)
            .and_then(|()| check_practice(r.role, r.practice.as_deref()).map(|_| ()))
            .map_err(|e| e.to_string())
            .and_then(|()| match &r.practice {
                Some(code) if code.to_ascii_uppercase() != *code => {
                    Err(format!("practice `{code}` must be upper case"))
                }
                _ => Ok(()),
            })
            .and_then(|()| check_phc(&r.password_hash))
            .and_then(|()| match file.users[..i].iter().any(|o| o.username == r.username) {
                true => Err(format!("user `{}` is listed twice", r.username)),
                false => Ok(()),
            });
        if let Err(problem) = problem {
            return Err(at_key("username", i, format!("user {} (`{}`): {problem}", i + 1, r.username)));
        }
    }
    let mut users = file.users;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(users)
}

/// Line and column (1-based) of the `nth` occurrence of `"key":` in JSON text; (1, 1) if absent.
fn key_position(text: &str, key: &str, nth: usize) -> (usize, usize) {
    let quoted = format!("\"{key}\"");
    let mut found = 0;
    let mut from = 0;
    while let Some(offset) = text[from..].find(&quoted) {
        let start = from + offset;
        from = start + quoted.len();
        if text[from..].trim_start().starts_with(':') {
            if found == nth {
                let before = &text[..start];
                let line = before.matches('\n').count() + 1;
                let column = before.rfind('\n').map_or(start, |nl| start - nl - 1) + 1;
                return (line, column);
            }
            found += 1;
        }
    }
    (1, 1)
}

/// Options that create files readable by their owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates a folder (and its parents) readable by its owner only, if it does not exist.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })
}

/// Writes `bytes` to `path` through a synced temporary file renamed over it (mode 0600), then
/// syncs the folder so the rename itself survives a crash.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    let mut file = private_options().write(true).create_new(true).open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

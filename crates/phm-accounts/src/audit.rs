//! The audit trail: an append-only, hash-chained JSON Lines file.
//!
//! Each line is one JSON object with these fields, in this order:
//!
//! ```text
//! {"seq":1,"at":"2026-03-02T09:15:00.123Z","event":"sign_in","user":"alice","role":"analyst",
//!  "ip":"10.0.0.7","detail":{},"prev_sha256":"000…000","sha256":"5f1c…"}
//! ```
//!
//! * `seq` counts lines from 1; `at` is the UTC time (RFC 3339, milliseconds);
//! * `event` is one of [`Event::NAMES`], `detail` its fields (keys in sorted order);
//! * `user`, `role` and `ip` say who acted and from where (`null` when unknown: an anonymous
//!   sign-in attempt, or `phm users` run from a shell, whose `user` is `os:<login name>`);
//! * `prev_sha256` is the previous line's `sha256` (64 zeros on line 1), and
//! * `sha256` is the SHA-256, in hex, of the line's compact JSON *without* the `sha256` field:
//!   `{"seq":…,"at":…,"event":…,"user":…,"role":…,"ip":…,"detail":{…},"prev_sha256":…}`.
//!   For lines of ordinary text, `jq -c 'del(.sha256)' | sha256sum` reproduces it line by line.
//!
//! Editing a line changes its hash; deleting, inserting, reordering or copying lines breaks
//! `seq` or `prev_sha256` on the next line. Deleting lines from the *end* leaves a valid chain,
//! so after every append the last line's `seq` and `sha256` are written to a head file beside
//! the trail (`audit.jsonl.head`, replaced atomically); [`verify`] compares the trail's end
//! with it. A crash between the two writes leaves the trail one line ahead of the head, which
//! is accepted (and the head repaired on the next [`Audit::open`]).
//!
//! Emptying the trail *and* deleting its head would leave nothing to compare with, so when a
//! trail is started [`Audit::open`] also writes the head (line 0) and a genesis file beside it
//! (`audit.jsonl.genesis`, `{"started_at":"…"}`), which is never rewritten. Once a trail has a
//! genesis file, its head file must exist: a missing head then fails verification, naming the
//! day the trail was started. (A trail made before genesis files existed gets one the next
//! time it is opened, dated by its first line.) [`crate::verify_folder`] adds one more check:
//! accounts in `users.json` whose trail has no lines.
//!
//! The chain is not signed: someone who can write the folder can rewrite every hash. It shows
//! that the file is as it was written, not who wrote it; for that, copy the head hash that
//! `phm audit verify` prints to somewhere the server cannot write (a ticket, a syslog host),
//! and a later trail must still contain that line unchanged.
//!
//! Appends take an exclusive `flock` on the trail, so the web app and `phm users` can both
//! write to it: before appending, a writer reads and checks any lines another process added
//! since its last write, then chains onto the last of them. Each line is written with one
//! `write` and synced (`fsync`) before `record` returns.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::error::AuditError;
use crate::throttle::ThrottleScope;
use crate::users::{Role, User, create_private_dir, private_options, write_atomically};

/// `prev_sha256` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something worth recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A successful sign-in.
    SignIn,
    /// A wrong password, or an unknown username (whose name is *not* recorded: people type
    /// passwords into the username box).
    SignInFailed {
        /// Whether the username is an account (if so, it is the line's `user`).
        username_known: bool,
    },
    /// An attempt refused by throttling, without checking the password.
    SignInRefused {
        /// Which counter refused it.
        scope: ThrottleScope,
        /// How long the refusal had left, in seconds (rounded up).
        retry_after_seconds: u64,
    },
    /// A sign-out.
    SignOut,
    /// A table downloaded or exported.
    Export {
        /// Which table.
        table: String,
        /// `csv`, `xlsx`, `parquet`, `json`...
        format: String,
        /// Rows in the file.
        rows: u64,
        /// The disclosure-control policy it went through (`public`, `analyst`, or `person-level`).
        policy: String,
    },
    /// A page only analysts or clinicians may see, or any view of person-level data.
    View {
        /// The page (its path, with the query if it selects data).
        page: String,
    },
    /// An account added.
    UserAdded {
        /// Its username.
        username: String,
        /// Its role.
        role: Role,
        /// Its practice, for a clinician.
        practice: Option<String>,
    },
    /// An account removed.
    UserRemoved {
        /// Its username.
        username: String,
    },
    /// An account's password set.
    PasswordChanged {
        /// Its username.
        username: String,
    },
}

impl Event {
    /// Every event name, as written in the trail.
    pub const NAMES: [&'static str; 9] = [
        "sign_in",
        "sign_in_failed",
        "sign_in_refused",
        "sign_out",
        "export",
        "view",
        "user_added",
        "user_removed",
        "password_changed",
    ];

    /// The event's name in the trail.
    pub fn name(&self) -> &'static str {
        match self {
            Event::SignIn => "sign_in",
            Event::SignInFailed { .. } => "sign_in_failed",
            Event::SignInRefused { .. } => "sign_in_refused",
            Event::SignOut => "sign_out",
            Event::Export { .. } => "export",
            Event::View { .. } => "view",
            Event::UserAdded { .. } => "user_added",
            Event::UserRemoved { .. } => "user_removed",
            Event::PasswordChanged { .. } => "password_changed",
        }
    }

    /// The event's `detail` object.
    fn detail(&self) -> BTreeMap<String, Value> {
        let mut d = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            d.insert(k.to_owned(), v);
        };
        match self {
            Event::SignIn | Event::SignOut => {}
            Event::SignInFailed { username_known } => put("username_known", (*username_known).into()),
            Event::SignInRefused { scope, retry_after_seconds } => {
                put("scope", scope.as_str().into());
                put("retry_after_seconds", (*retry_after_seconds).into());
            }
            Event::Export { table, format, rows, policy } => {
                put("table", table.as_str().into());
                put("format", format.as_str().into());
                put("rows", (*rows).into());
                put("policy", policy.as_str().into());
            }
            Event::View { page } => put("page", page.as_str().into()),
            Event::UserAdded { username, role, practice } => {
                put("username", username.as_str().into());
                put("role", role.as_str().into());
                put("practice", practice.as_deref().map_or(Value::Null, Value::from));
            }
            Event::UserRemoved { username } | Event::PasswordChanged { username } => {
                put("username", username.as_str().into())
            }
        }
        d
    }
}

/// Who acted, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The account, or `os:<login>` for `phm users` run from a shell; `None` if anonymous.
    pub user: Option<String>,
    /// The account's role.
    pub role: Option<Role>,
    /// The client's address.
    pub ip: Option<IpAddr>,
}

impl Actor {
    /// A signed-in (or signing-in) account.
    pub fn user(user: &User, ip: Option<IpAddr>) -> Self {
        Self { user: Some(user.username.clone()), role: Some(user.role), ip }
    }

    /// Someone not signed in.
    pub fn anonymous(ip: Option<IpAddr>) -> Self {
        Self { user: None, role: None, ip }
    }

    /// The person running a command in a shell on the server: `os:` and their login name
    /// (`$USER`, else `$LOGNAME`), which cannot be confused with an account name.
    pub fn command_line() -> Self {
        let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        Self { user: Some(format!("os:{login}")), role: None, ip: None }
    }
}

/// One line of the trail, as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLine {
    /// Line number in the chain, from 1.
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// One of [`Event::NAMES`].
    pub event: String,
    /// Who acted.
    pub user: Option<String>,
    /// Their role.
    pub role: Option<String>,
    /// From where.
    pub ip: Option<String>,
    /// The event's fields.
    pub detail: BTreeMap<String, Value>,
    /// The previous line's `sha256`.
    pub prev_sha256: String,
    /// The SHA-256 of this line without this field.
    pub sha256: String,
}

/// The fields a line's hash covers, in order.
#[derive(Serialize)]
struct Unsigned<'a> {
    seq: u64,
    at: &'a str,
    event: &'a str,
    user: &'a Option<String>,
    role: &'a Option<String>,
    ip: &'a Option<String>,
    detail: &'a BTreeMap<String, Value>,
    prev_sha256: &'a str,
}

impl AuditLine {
    /// The time of the line, if `at` is a valid RFC 3339 time.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.at).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The hash the line should carry.
    fn content_hash(&self) -> String {
        let unsigned = Unsigned {
            seq: self.seq,
            at: &self.at,
            event: &self.event,
            user: &self.user,
            role: &self.role,
            ip: &self.ip,
            detail: &self.detail,
            prev_sha256: &self.prev_sha256,
        };
        // Serialising strings, integers and maps of them cannot fail.
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// The end of the chain so far.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tip {
    seq: u64,
    sha256: String,
}

impl Tip {
    fn start() -> Self {
        Self { seq: 0, sha256: GENESIS.into() }
    }
}

/// Checks one line of text as the link after `tip`.
fn check_line(path: &Path, number: usize, text: &str, tip: &Tip) -> Result<AuditLine, AuditError> {
    let fail = |problem: String| AuditError::Line { path: path.to_owned(), line: number, problem };
    if text.trim().is_empty() {
        return Err(fail("empty line: every line must be an audit record".into()));
    }
    let line: AuditLine = serde_json::from_str(text).map_err(|e| fail(format!("not an audit record: {e}")))?;
    if line.content_hash() != line.sha256 {
        return Err(fail("sha256 does not match the line's content: the line was edited".into()));
    }
    if line.seq != tip.seq + 1 {
        return Err(fail(format!(
            "seq is {}, expected {}: a line before it was deleted or inserted, or lines were reordered or copied",
            line.seq,
            tip.seq + 1
        )));
    }
    if line.prev_sha256 != tip.sha256 {
        let which = if tip.seq == 0 {
            "the start of the chain (64 zeros)".to_owned()
        } else {
            format!("the sha256 of line {}", number - 1)
        };
        return Err(fail(format!(
            "prev_sha256 does not match {which}: lines before it were changed, deleted or reordered"
        )));
    }
    if line.time().is_none() || !line.at.ends_with('Z') {
        return Err(fail(format!("at `{}` is not an RFC 3339 UTC time", line.at)));
    }
    if !Event::NAMES.contains(&line.event.as_str()) {
        return Err(fail(format!("unknown event `{}`: expected one of {}", line.event, Event::NAMES.join(", "))));
    }
    Ok(line)
}

/// Splits the trail's bytes into lines and checks them as a chain from `tip` (line numbers
/// from `first_number`); returns the lines.
fn check_chain(path: &Path, bytes: &[u8], first_number: usize, tip: &mut Tip) -> Result<Vec<AuditLine>, AuditError> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    let mut number = first_number;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(AuditError::Line {
                path: path.to_owned(),
                line: number,
                problem: "the last line has no end of line: a write was interrupted or the file was cut short".into(),
            });
        };
        let text = std::str::from_utf8(&rest[..end]).map_err(|_| AuditError::Line {
            path: path.to_owned(),
            line: number,
            problem: "not UTF-8 text".into(),
        })?;
        let line = check_line(path, number, text, tip)?;
        *tip = Tip { seq: line.seq, sha256: line.sha256.clone() };
        lines.push(line);
        rest = &rest[end + 1..];
        number += 1;
    }
    Ok(lines)
}

/// The head file of a trail: `<trail>.head`.
pub fn head_path(trail: &Path) -> PathBuf {
    let mut name = trail.file_name().map_or_else(|| "audit.jsonl".into(), |n| n.to_owned());
    name.push(".head");
    trail.with_file_name(name)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    seq: u64,
    sha256: String,
}

/// The genesis file of a trail: `<trail>.genesis`.
pub fn genesis_path(trail: &Path) -> PathBuf {
    let mut name = trail.file_name().map_or_else(|| "audit.jsonl".into(), |n| n.to_owned());
    name.push(".genesis");
    trail.with_file_name(name)
}

/// What the genesis file says: when the trail was started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// When the trail was started (RFC 3339, UTC).
    pub started_at: String,
}

/// Reads the trail's genesis file, if it has one.
pub fn read_genesis(trail: &Path) -> Result<Option<Genesis>, AuditError> {
    let path = genesis_path(trail);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| AuditError::Head { path, problem: format!("not a genesis record: {e}") }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(AuditError::Io { path, source }),
    }
}

fn write_genesis(trail: &Path, started_at: &str) -> Result<(), AuditError> {
    let path = genesis_path(trail);
    let text = serde_json::to_string(&Genesis { started_at: started_at.to_owned() })
        .map_err(|e| AuditError::Io { path: path.clone(), source: e.into() })?;
    write_atomically(&path, format!("{text}\n").as_bytes()).map_err(|source| AuditError::Io { path, source })
}

/// Whether the head file agrees with the trail's lines: `Ok(true)` if it names the last line,
/// `Ok(false)` if it names the one before (an append interrupted before its head was written,
/// or no head yet with at most one line).
fn check_head(trail: &Path, lines: &[AuditLine]) -> Result<bool, AuditError> {
    let path = head_path(trail);
    let fail = |problem: String| AuditError::Head { path: path.clone(), problem };
    let head = match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str::<Head>(&text).map_err(|e| fail(format!("not a head record: {e}")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(genesis) = read_genesis(trail)? {
                return Err(fail(format!(
                    "is missing, but the trail was started at {} (`{}`), when its head was written: the end of the trail cannot be \
                     checked, and a trail emptied or cut short looks like this ({} line{} left)",
                    genesis.started_at,
                    genesis_path(trail).display(),
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" }
                )));
            }
            if lines.len() > 1 {
                return Err(fail(format!(
                    "is missing while the trail has {} lines, so lines deleted from its end could not be detected",
                    lines.len()
                )));
            }
            return Ok(lines.is_empty());
        }
        Err(source) => return Err(AuditError::Io { path, source }),
    };
    let n = lines.len() as u64;
    let sha_at = |seq: u64| if seq == 0 { GENESIS } else { lines[(seq - 1) as usize].sha256.as_str() };
    if head.seq == n && head.sha256 == sha_at(n) {
        return Ok(true);
    }
    if n > 0 && head.seq == n - 1 && head.sha256 == sha_at(n - 1) {
        return Ok(false);
    }
    if head.seq > n {
        return Err(fail(format!(
            "records line {} but the trail has {n} lines: lines were deleted from its end",
            head.seq
        )));
    }
    if head.seq > 0 && head.sha256 == sha_at(head.seq) {
        return Err(fail(format!(
            "records line {} but the trail goes on to line {n}: lines were added without the head being updated",
            head.seq
        )));
    }
    Err(fail(format!(
        "records line {} with sha256 {}, which the trail does not contain: the trail was rewritten",
        head.seq, head.sha256
    )))
}

fn write_head(trail: &Path, tip: &Tip) -> Result<(), AuditError> {
    let path = head_path(trail);
    let text = format!("{{\"seq\":{},\"sha256\":\"{}\"}}\n", tip.seq, tip.sha256);
    write_atomically(&path, text.as_bytes()).map_err(|source| AuditError::Io { path, source })
}

/// Reads the trail's lines, checking only that each is an audit record (to show a trail
/// whose chain is broken). A missing trail has no lines.
pub fn read_lines(path: &Path) -> Result<Vec<AuditLine>, AuditError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(AuditError::Io { path: path.to_owned(), source }),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| AuditError::Line {
                path: path.to_owned(),
                line: i + 1,
                problem: format!("not an audit record: {e}"),
            })
        })
        .collect()
}

/// Reads and verifies the whole trail and its head file; returns its lines.
pub fn read_verified(path: &Path) -> Result<Vec<AuditLine>, AuditError> {
    let io = |source| AuditError::Io { path: path.to_owned(), source };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            check_head(path, &[])?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(io(e)),
    };
    file.lock_shared().map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    let lines = check_chain(path, &bytes, 1, &mut Tip::start())?;
    check_head(path, &lines)?;
    Ok(lines)
}

/// Verifies the trail: every line's hash, the chain of `seq` and `prev_sha256`, and the head
/// file. Returns the number of lines, or the first line (or the head) that breaks.
pub fn verify(path: &Path) -> Result<usize, AuditError> {
    read_verified(path).map(|lines| lines.len())
}

#[derive(Debug)]
struct State {
    file: File,
    /// Bytes of the trail this process has read or written.
    len: u64,
    tip: Tip,
}

/// An open trail, for appending. `Send + Sync`: share one behind an `Arc`; appends from many
/// threads (and processes) keep one chain.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Audit {
    /// Opens the trail at `path` (creating it, mode 0600, and its folder, mode 0700) with the
    /// system clock. Refuses a trail that does not verify, naming the line.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Opens the trail with this clock.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_owned();
        let io = |source| AuditError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| match e {
                crate::error::Error::Io { path, source } => AuditError::Io { path, source },
                other => AuditError::Io { path: dir.to_owned(), source: std::io::Error::other(other.to_string()) },
            })?;
        }
        let mut file = private_options().read(true).append(true).create(true).open(&path).map_err(io)?;
        file.lock().map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut tip = Tip::start();
        let lines = check_chain(&path, &bytes, 1, &mut tip)?;
        if !check_head(&path, &lines)? || !head_path(&path).exists() {
            write_head(&path, &tip)?;
        }
        if read_genesis(&path)?.is_none() {
            // A new trail, or one from before genesis files: dated by its first line.
            let started_at = lines
                .first()
                .map_or_else(|| clock.now().to_rfc3339_opts(SecondsFormat::Millis, true), |l| l.at.clone());
            write_genesis(&path, &started_at)?;
        }
        file.unlock().map_err(io)?;
        let state = State { file, len: bytes.len() as u64, tip };
        Ok(Self { path, clock, state: Mutex::new(state) })
    }

    /// The trail's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an event, synced to disk before returning; returns the line written.
    pub fn record(&self, actor: &Actor, event: Event) -> Result<AuditLine, AuditError> {
        let io = |source| AuditError::Io { path: self.path.clone(), source };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        state.file.lock().map_err(io)?;
        let result = self.append_locked(state, actor, event);
        let unlocked = state.file.unlock().map_err(io);
        let line = result?;
        unlocked?;
        Ok(line)
    }

    fn append_locked(&self, state: &mut State, actor: &Actor, event: Event) -> Result<AuditLine, AuditError> {
        let io = |source| AuditError::Io { path: self.path.clone(), source };
        // Lines another process appended since this one last wrote: check them and chain on.
        let len = state.file.metadata().map_err(io)?.len();
        if len < state.len {
            return Err(AuditError::Line {
                path: self.path.clone(),
                line: state.tip.seq as usize,
                problem: format!(
                    "the trail is shorter ({len} bytes) than this process last left it ({} bytes): lines were removed",
                    state.len
                ),
            });
        }
        if len > state.len {
            let mut bytes = Vec::new();
            state.file.seek(SeekFrom::Start(state.len)).map_err(io)?;
            state.file.read_to_end(&mut bytes).map_err(io)?;
            let first = state.tip.seq as usize + 1;
            check_chain(&self.path, &bytes, first, &mut state.tip)?;
            state.len += bytes.len() as u64;
        }
        let mut line = AuditLine {
            seq: state.tip.seq + 1,
            at: self.clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
            event: event.name().to_owned(),
            user: actor.user.clone(),
            role: actor.role.map(|r| r.as_str().to_owned()),
            ip: actor.ip.map(|ip| ip.to_string()),
            detail: event.detail(),
            prev_sha256: state.tip.sha256.clone(),
            sha256: String::new(),
        };
        line.sha256 = line.content_hash();
        let mut text = serde_json::to_string(&line).map_err(|e| io(e.into()))?;
        text.push('\n');
        if let Err(e) = state.file.write_all(text.as_bytes()).and_then(|()| state.file.sync_data()) {
            // Leave no half line behind for the next writer to trip over.
            let _ = state.file.set_len(state.len);
            return Err(io(e));
        }
        state.len += text.len() as u64;
        state.tip = Tip { seq: line.seq, sha256: line.sha256.clone() };
        write_head(&self.path, &state.tip)?;
        Ok(line)
    }
}

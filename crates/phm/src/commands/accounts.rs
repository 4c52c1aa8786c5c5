//! `phm users` and `phm audit`: the web app's accounts and audit trail (see `phm-accounts` and
//! `docs/accounts.md`). Every change to an account is written to the audit trail as done by
//! `os:<login name>`; a trail that does not verify stops any change.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::builder::PossibleValuesParser;
use phm_accounts::audit::{self, AuditLine};
use phm_accounts::{AUDIT_FILE, Actor, Audit, DEFAULT_DIR, Event, Role, USERS_FILE, Users};
use phm_core::reference::ReferenceData;

/// Arguments of `phm users`.
#[derive(Debug, clap::Args)]
pub struct UsersArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UsersCommand,
    /// The accounts folder: `users.json` and the audit trail `audit.jsonl`.
    #[arg(long, global = true, default_value = DEFAULT_DIR)]
    pub accounts: PathBuf,
}

/// `phm users` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Add an account. The password is asked twice on the terminal (not shown), or read from
    /// stdin with --password-stdin; it needs at least 12 characters.
    Add {
        /// The sign-in name: 1-64 characters from a-z, 0-9, `.`, `_` and `-`.
        username: String,
        /// What the account may see: analyst pages, a clinician's practice, or administration.
        #[arg(long, value_parser = PossibleValuesParser::new(["analyst", "clinician", "admin"]))]
        role: String,
        /// A clinician's practice (ODS code, e.g. SYNGP001), one of the ICS's practices in
        /// reference/practices.csv. Required for clinicians, refused for other roles.
        #[arg(long)]
        practice: Option<String>,
        /// Read the password from stdin (one line) instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Remove an account (its sessions end at their next request).
    Remove {
        /// The account's username.
        username: String,
    },
    /// Set an account's password (its sessions end at their next request).
    Passwd {
        /// The account's username.
        username: String,
        /// Read the password from stdin (one line) instead of the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Arguments of `phm audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
    /// The accounts folder holding the audit trail `audit.jsonl` and its head file.
    #[arg(long, global = true, default_value = DEFAULT_DIR)]
    pub accounts: PathBuf,
}

/// `phm audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain line by line and against the head file; print the last line's
    /// hash, to keep somewhere the server cannot write.
    Verify,
    /// Show the trail as a table (then verify it).
    Show {
        /// Only lines at or after this date (YYYY-MM-DD, UTC) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only this event.
        #[arg(long, value_parser = PossibleValuesParser::new(Event::NAMES))]
        event: Option<String>,
        /// Only lines by this user, or about this account (`detail.username`).
        #[arg(long)]
        user: Option<String>,
    },
}

pub fn users(args: &UsersArgs) -> anyhow::Result<()> {
    let users_path = args.accounts.join(USERS_FILE);
    match &args.command {
        UsersCommand::Add { username, role, practice, password_stdin } => {
            let role: Role = role.parse()?;
            phm_accounts::users::check_username(username)?;
            let practice = phm_accounts::users::check_practice(role, practice.as_deref())?;
            if let Some(code) = &practice {
                let reference = ReferenceData::builtin().context("reading the reference data")?;
                if reference.practice(code).is_none() {
                    bail!("practice `{code}` is not one of the ICS's practices (reference/practices.csv)");
                }
            }
            let audit = open_audit(&args.accounts)?;
            let users = Users::open(&users_path)?;
            if users.get(username)?.is_some() {
                bail!("user `{username}` already exists in {}", users_path.display());
            }
            let password = read_password(*password_stdin, username)?;
            let user = users.add(username, role, practice.clone(), &password)?;
            audit.record(
                &Actor::command_line(),
                Event::UserAdded { username: user.username.clone(), role, practice: practice.clone() },
            )?;
            let scope = practice.map(|p| format!(" for practice {p}")).unwrap_or_default();
            super::print(&format!("Added {role} `{username}`{scope} to {}.\n", users_path.display()));
        }
        UsersCommand::List => {
            if !users_path.exists() {
                super::print(&format!(
                    "No accounts yet ({} does not exist): add one with `phm users add`.\n",
                    users_path.display()
                ));
                return Ok(());
            }
            let list = Users::open(&users_path)?.list()?;
            if list.is_empty() {
                super::print(&format!("No accounts in {}: add one with `phm users add`.\n", users_path.display()));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|u| {
                    vec![
                        u.username.clone(),
                        u.role.to_string(),
                        u.practice.clone().unwrap_or_default(),
                        minutes(u.created),
                        minutes(u.password_changed),
                    ]
                })
                .collect();
            super::print(&table(&["username", "role", "practice", "created (UTC)", "password set (UTC)"], &rows));
        }
        UsersCommand::Remove { username } => {
            let audit = open_audit(&args.accounts)?;
            let users = Users::open(&users_path)?;
            let user = users.remove(username)?;
            audit.record(&Actor::command_line(), Event::UserRemoved { username: user.username.clone() })?;
            super::print(&format!("Removed {} `{username}` from {}.\n", user.role, users_path.display()));
        }
        UsersCommand::Passwd { username, password_stdin } => {
            let audit = open_audit(&args.accounts)?;
            let users = Users::open(&users_path)?;
            if users.get(username)?.is_none() {
                bail!("no user `{username}` in {}", users_path.display());
            }
            let password = read_password(*password_stdin, username)?;
            users.set_password(username, &password)?;
            audit.record(&Actor::command_line(), Event::PasswordChanged { username: username.clone() })?;
            super::print(&format!("Set the password of `{username}`.\n"));
        }
    }
    Ok(())
}

pub fn audit(args: &AuditArgs) -> anyhow::Result<()> {
    let path = args.accounts.join(AUDIT_FILE);
    match &args.command {
        AuditCommand::Verify => {
            let lines = phm_accounts::verify_folder(&args.accounts).map_err(broken)?;
            match lines.last() {
                None => super::print(&format!("{}: no lines yet.\n", path.display())),
                Some(last) => super::print(&format!(
                    "{}: {} lines verified, from {} to {}.\nThe chain ends at line {} with sha256 {}\n\
                     Keep that hash where the server cannot write: a later trail must still contain that line unchanged.\n",
                    path.display(),
                    lines.len(),
                    lines[0].at,
                    last.at,
                    last.seq,
                    last.sha256
                )),
            }
        }
        AuditCommand::Show { since, event, user } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            let lines = audit::read_lines(&path)?;
            let shown: Vec<&AuditLine> = lines
                .iter()
                .filter(|l| since.is_none_or(|s| l.time().is_some_and(|t| t >= s)))
                .filter(|l| event.as_ref().is_none_or(|e| &l.event == e))
                .filter(|l| {
                    user.as_ref().is_none_or(|u| {
                        l.user.as_ref() == Some(u) || l.detail.get("username").and_then(|v| v.as_str()) == Some(u)
                    })
                })
                .collect();
            let rows: Vec<Vec<String>> = shown
                .iter()
                .map(|l| {
                    let detail = l
                        .detail
                        .iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
                    vec![
                        l.seq.to_string(),
                        l.at.replace('T', " ").trim_end_matches('Z').to_owned(),
                        l.event.clone(),
                        l.user.clone().unwrap_or_else(|| "-".into()),
                        l.role.clone().unwrap_or_else(|| "-".into()),
                        l.ip.clone().unwrap_or_else(|| "-".into()),
                        detail.collect::<Vec<_>>().join(" "),
                    ]
                })
                .collect();
            let mut text = table(&["seq", "at (UTC)", "event", "user", "role", "ip", "detail"], &rows);
            let _ = writeln!(text, "{} of {} lines shown.", shown.len(), lines.len());
            super::print(&text);
            audit::verify(&path).map_err(broken)?;
        }
    }
    Ok(())
}

/// Opens the trail for appending; a trail that does not verify stops the change.
fn open_audit(dir: &Path) -> anyhow::Result<Audit> {
    Audit::open(dir.join(AUDIT_FILE))
        .map_err(|e| anyhow::anyhow!("{e}\nThe audit trail does not verify, so no account was changed. {HELP}"))
}

const HELP: &str = "See docs/accounts.md, \"When the trail does not verify\".";

fn broken(e: phm_accounts::AuditError) -> anyhow::Error {
    anyhow::anyhow!("the audit trail does not verify: {e}\n{HELP}")
}

fn parse_since(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        anyhow::anyhow!("--since `{text}`: expected a date (2026-03-02) or an RFC 3339 time (2026-03-02T09:00:00Z)")
    })
}

fn minutes(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A plain-text table with columns as wide as their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<String> = cells.zip(&widths).map(|(c, &w)| format!("{c:<w$}")).collect();
        let _ = writeln!(text, "{}", cells.join("  ").trim_end());
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    text
}

/// The new password: from stdin with --password-stdin, else asked twice on the terminal with
/// echo turned off (`stty -echo`).
fn read_password(from_stdin: bool, username: &str) -> anyhow::Result<String> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the password from stdin")?;
        let password = text.strip_suffix('\n').map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
        if password.contains('\n') {
            bail!("--password-stdin: expected one line (the password), found several");
        }
        return Ok(password.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("stdin is not a terminal, so the password cannot be asked for: pipe it in and pass --password-stdin");
    }
    let first = prompt(&format!("New password for {username} (at least 12 characters): "))?;
    phm_accounts::password::check_password(username, &first)?;
    let second = prompt("The same password again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// Asks for one line on the terminal without showing what is typed.
fn prompt(label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    let echo_off = EchoOff::new()?;
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    drop(echo_off);
    eprintln!();
    read.context("reading the password")?;
    Ok(line.strip_suffix('\n').map_or(line.as_str(), |t| t.strip_suffix('\r').unwrap_or(t)).to_owned())
}

/// Terminal echo turned off for as long as this lives (restored when dropped, on errors too).
struct EchoOff;

impl EchoOff {
    fn new() -> anyhow::Result<Self> {
        match Command::new("stty").arg("-echo").stdin(Stdio::inherit()).status() {
            Ok(status) if status.success() => Ok(Self),
            _ => bail!(
                "could not hide the password as it is typed (`stty -echo` failed): pipe it in and pass --password-stdin"
            ),
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = Command::new("stty").arg("echo").stdin(Stdio::inherit()).status();
    }
}

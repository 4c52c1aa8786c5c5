//! The audit trail: a hash chain of JSON lines, with a head file, that shows any edit.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use common::clock;
use phm_accounts::audit::{self, GENESIS, genesis_path, head_path};
use phm_accounts::{Actor, Audit, AuditError, AuditLine, Event, Role, ThrottleScope, User};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

fn alice() -> User {
    User {
        username: "alice".into(),
        role: Role::Analyst,
        practice: None,
        created: common::start(),
        password_changed: common::start(),
    }
}

/// One of each event, as the web app and `phm users` record them.
fn every_event() -> Vec<(Actor, Event)> {
    let ip = Some("10.0.0.7".parse().expect("ip"));
    let user = Actor::user(&alice(), ip);
    vec![
        (user.clone(), Event::SignIn),
        (user.clone(), Event::View { page: "/quality/gp-extract".into() }),
        (
            user.clone(),
            Event::Export { table: "profiles".into(), format: "csv".into(), rows: 52_144, policy: "analyst".into() },
        ),
        (user.clone(), Event::SignOut),
        (Actor::anonymous(ip), Event::SignInFailed { username_known: false }),
        (user.clone(), Event::SignInRefused { scope: ThrottleScope::Username, retry_after_seconds: 840 }),
        (
            Actor::command_line(),
            Event::UserAdded { username: "dr.who".into(), role: Role::Clinician, practice: Some("SYNGP001".into()) },
        ),
        (Actor::command_line(), Event::PasswordChanged { username: "dr.who".into() }),
        (Actor::command_line(), Event::UserRemoved { username: "dr.who".into() }),
    ]
}

fn write_trail(path: &Path) -> Audit {
    let (time, clock) = clock();
    let audit = Audit::open_with_clock(path, clock).expect("open");
    for (actor, event) in every_event() {
        audit.record(&actor, event).expect("record");
        time.advance(std::time::Duration::from_millis(1500));
    }
    audit
}

#[test]
fn each_line_is_the_documented_json_and_the_hashes_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    write_trail(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(
        lines[2].split(",\"prev_sha256\"").next(),
        Some(
            "{\"seq\":3,\"at\":\"2026-03-02T09:00:03.000Z\",\"event\":\"export\",\"user\":\"alice\",\"role\":\"analyst\",\
             \"ip\":\"10.0.0.7\",\"detail\":{\"format\":\"csv\",\"policy\":\"analyst\",\"rows\":52144,\"table\":\"profiles\"}"
        )
    );
    assert!(lines[4].contains("\"event\":\"sign_in_failed\",\"user\":null,\"role\":null,"), "{}", lines[4]);
    assert!(
        lines[6].contains(&format!("\"user\":\"os:{}\"", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))),
        "{}",
        lines[6]
    );

    // sha256 is the SHA-256 of the line without its sha256 field; prev_sha256 the line before's.
    let mut prev = GENESIS.to_owned();
    for (i, line) in lines.iter().enumerate() {
        let (unsigned, sha) = line.rsplit_once(",\"sha256\":\"").expect("sha256 last");
        let sha = sha.strip_suffix("\"}").expect("ends the object");
        assert_eq!(hex::encode(Sha256::digest(format!("{unsigned}}}").as_bytes())), sha, "line {}", i + 1);
        assert!(unsigned.ends_with(&format!(",\"prev_sha256\":\"{prev}\"")), "line {}", i + 1);
        prev = sha.to_owned();
    }
    assert_eq!(audit::verify(&path).expect("verifies"), 9);
    let head = std::fs::read_to_string(head_path(&path)).expect("head file");
    assert_eq!(head, format!("{{\"seq\":9,\"sha256\":\"{prev}\"}}\n"));
}

#[test]
fn the_trail_is_private() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("accounts/audit.jsonl");
    write_trail(&path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn reopening_resumes_the_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    drop(write_trail(&path));
    let audit = Audit::open(&path).expect("reopen");
    let line = audit.record(&Actor::anonymous(None), Event::SignOut).expect("record");
    assert_eq!(line.seq, 10);
    assert_eq!(audit::verify(&path).expect("verifies"), 10);
}

#[test]
fn an_empty_or_missing_trail_verifies_with_no_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    assert_eq!(audit::verify(&path).expect("missing"), 0);
    Audit::open(&path).expect("create");
    assert_eq!(audit::verify(&path).expect("empty"), 0);
    // Starting a trail writes its head (line 0) and its genesis file.
    assert_eq!(
        std::fs::read_to_string(head_path(&path)).expect("head"),
        format!("{{\"seq\":0,\"sha256\":\"{GENESIS}\"}}\n")
    );
    assert!(audit::read_genesis(&path).expect("readable").is_some());
    Audit::open(&path).expect("reopen");
    assert_eq!(audit::verify(&path).expect("still empty"), 0);
}

#[test]
fn an_emptied_trail_whose_head_was_deleted_does_not_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    drop(write_trail(&path));
    let genesis = std::fs::read_to_string(genesis_path(&path)).expect("genesis file");
    assert_eq!(genesis, "{\"started_at\":\"2026-03-02T09:00:00.000Z\"}\n", "dated by the first line");

    // The attack: empty the trail, delete its head.
    std::fs::write(&path, "").expect("empty");
    std::fs::remove_file(head_path(&path)).expect("delete head");
    let err = verify_error(&path);
    assert!(
        err.starts_with(&format!(
            "{}: is missing, but the trail was started at 2026-03-02T09:00:00.000Z",
            head_path(&path).display()
        )),
        "{err}"
    );
    assert!(err.contains("0 lines left"), "{err}");
    assert_eq!(Audit::open(&path).expect_err("refused for appending").to_string(), err);

    // Deleting the trail too, or cutting it to its first line, is no better.
    std::fs::remove_file(&path).expect("delete trail");
    assert!(verify_error(&path).contains("is missing, but the trail was started"));
    let (text, _) = pristine();
    std::fs::write(&path, text.lines().next().map(|l| format!("{l}\n")).expect("a line")).expect("one line");
    assert!(verify_error(&path).contains("1 line left"));
}

#[test]
fn a_trail_from_before_genesis_files_gets_one_when_opened() {
    let (text, head) = pristine();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, text).expect("write");
    std::fs::write(head_path(&path), head).expect("write head");
    assert_eq!(audit::verify(&path).expect("verifies without one"), 9);
    Audit::open(&path).expect("open");
    assert_eq!(
        audit::read_genesis(&path).expect("readable").map(|g| g.started_at).as_deref(),
        Some("2026-03-02T09:00:00.000Z")
    );
}

#[test]
fn accounts_with_an_empty_trail_do_not_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (time, clock) = clock();
    let users = phm_accounts::Users::open_with(dir.path().join("users.json"), common::fast_hashing(), clock.clone())
        .expect("users");
    assert!(phm_accounts::verify_folder(dir.path()).expect("no accounts, no trail").is_empty());
    users.add("alice", Role::Analyst, None, "correct horse battery").expect("add");
    // An account exists, but no trail records its adding (trail, head and genesis all gone).
    let err = phm_accounts::verify_folder(dir.path()).expect_err("an account with no trail");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: has no lines, but `{}` holds 1 account added or changed while it was kept, which the trail should record: the trail was emptied or replaced",
            dir.path().join("audit.jsonl").display(),
            dir.path().join("users.json").display()
        )
    );
    // A trail started afresh after the accounts were made (the documented way to go on after
    // an incident) verifies with no lines...
    time.advance(std::time::Duration::from_secs(60));
    drop(Audit::open_with_clock(dir.path().join("audit.jsonl"), clock).expect("a new trail"));
    assert!(phm_accounts::verify_folder(dir.path()).expect("accounts older than the trail").is_empty());
    // ...but not once an account is changed without a line in it.
    time.advance(std::time::Duration::from_secs(60));
    users.set_password("alice", "another long password").expect("passwd");
    assert!(
        phm_accounts::verify_folder(dir.path())
            .expect_err("a change unrecorded")
            .to_string()
            .contains("since the trail was started")
    );
}

/// A nine-line trail and its head file, written once for all the tampering cases.
fn pristine() -> &'static (String, String) {
    static TRAIL: OnceLock<(String, String)> = OnceLock::new();
    TRAIL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audit.jsonl");
        write_trail(&path);
        (std::fs::read_to_string(&path).expect("trail"), std::fs::read_to_string(head_path(&path)).expect("head"))
    })
}

/// Ways of tampering with line `i`.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    /// Change one field's value (which field: an index into the line's fields).
    Edit(usize),
    /// Change a field and recompute that line's own sha256, as a careful forger would.
    EditAndRehash(usize),
    Delete,
    SwapWithNext,
    Duplicate,
    /// Cut the file in the middle of the line.
    Truncate,
}

const FIELDS: [&str; 9] = ["seq", "at", "event", "user", "role", "ip", "detail", "prev_sha256", "sha256"];

fn tampered(text: &str, i: usize, how: Tamper) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let edit = |line: &str, field: usize, rehash: bool| {
        let mut value: serde_json::Value = serde_json::from_str(line).expect("json");
        let key = FIELDS[field % FIELDS.len()];
        value[key] = match key {
            "seq" => serde_json::json!(value[key].as_u64().expect("seq") + 100),
            "detail" => serde_json::json!({"page": "/forged"}),
            "at" => serde_json::json!("2026-03-02T08:59:59.000Z"),
            "event" => serde_json::json!(if value[key] == "view" { "export" } else { "view" }),
            _ => serde_json::json!(format!("{}0", value[key].as_str().unwrap_or("x"))),
        };
        let mut line: AuditLine = serde_json::from_value(value).expect("still an audit line");
        if rehash {
            // The documented formula: the SHA-256 of the line's JSON without its sha256 field.
            let text = serde_json::to_string(&line).expect("json");
            let (unsigned, _) = text.rsplit_once(",\"sha256\":\"").expect("sha256 last");
            line.sha256 = hex::encode(Sha256::digest(format!("{unsigned}}}").as_bytes()));
        }
        serde_json::to_string(&line).expect("json")
    };
    match how {
        Tamper::Edit(field) => lines[i] = edit(&lines[i], field, false),
        Tamper::EditAndRehash(field) => lines[i] = edit(&lines[i], field, true),
        Tamper::Delete => {
            lines.remove(i);
        }
        Tamper::SwapWithNext => {
            let j = if i + 1 < lines.len() { i + 1 } else { i - 1 };
            lines.swap(i, j);
        }
        Tamper::Duplicate => {
            let copy = lines[i].clone();
            lines.insert(i + 1, copy);
        }
        Tamper::Truncate => {
            lines.truncate(i + 1);
            let half = lines[i].len() / 2;
            lines[i].truncate(half);
            return lines.join("\n");
        }
    }
    lines.join("\n") + "\n"
}

fn tamper_strategy() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (0..FIELDS.len()).prop_map(Tamper::Edit),
        // Not sha256 itself: recomputing it would undo the edit.
        (0..FIELDS.len() - 1).prop_map(Tamper::EditAndRehash),
        Just(Tamper::Delete),
        Just(Tamper::SwapWithNext),
        Just(Tamper::Duplicate),
        Just(Tamper::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Whatever is done to whichever line, verification fails and points at that line, the one
    /// after it, or (for the last lines) the head file.
    #[test]
    fn editing_deleting_reordering_or_copying_any_line_is_detected(i in 0usize..9, how in tamper_strategy()) {
        let (text, head) = pristine();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, tampered(text, i, how)).expect("write");
        std::fs::write(head_path(&path), head).expect("write head");
        match audit::verify(&path) {
            Ok(n) => prop_assert!(false, "{how:?} on line {} went unnoticed ({n} lines verified)", i + 1),
            Err(AuditError::Line { line, .. }) => {
                let first = if matches!(how, Tamper::SwapWithNext) && i == 8 { i } else { i + 1 };
                prop_assert!(line == first || line == first + 1, "{how:?} on line {} reported at line {line}", i + 1);
            }
            Err(AuditError::Head { .. }) => prop_assert!(i >= 7, "{how:?} on line {} reported only by the head", i + 1),
            Err(other) => prop_assert!(false, "{other}"),
        }
        // And the trail is refused for appending.
        prop_assert!(Audit::open(&path).is_err());
    }
}

fn verify_error(path: &Path) -> String {
    audit::verify(path).expect_err("broken").to_string()
}

#[test]
fn errors_name_the_line_and_what_broke() {
    let (text, head) = pristine();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    let shown = path.display().to_string();
    let write = |trail: &str| {
        std::fs::write(&path, trail).expect("write");
        std::fs::write(head_path(&path), head).expect("write head");
    };

    write(&text.replacen("\"user\":\"alice\"", "\"user\":\"bob\"", 1));
    assert_eq!(
        verify_error(&path),
        format!("{shown}:1: sha256 does not match the line's content: the line was edited")
    );

    write(&tampered(text, 3, Tamper::Delete));
    assert_eq!(
        verify_error(&path),
        format!(
            "{shown}:4: seq is 5, expected 4: a line before it was deleted or inserted, or lines were reordered or copied"
        )
    );

    write(&tampered(text, 3, Tamper::EditAndRehash(4)));
    assert_eq!(
        verify_error(&path),
        format!(
            "{shown}:5: prev_sha256 does not match the sha256 of line 4: lines before it were changed, deleted or reordered"
        )
    );

    write(&tampered(text, 8, Tamper::Delete));
    assert_eq!(
        verify_error(&path),
        format!(
            "{}: records line 9 but the trail has 8 lines: lines were deleted from its end",
            head_path(&path).display()
        )
    );

    write(&tampered(text, 8, Tamper::Truncate));
    assert_eq!(
        verify_error(&path),
        format!("{shown}:9: the last line has no end of line: a write was interrupted or the file was cut short")
    );

    write(&text.replacen('\n', "\n\n", 1));
    assert_eq!(verify_error(&path), format!("{shown}:2: empty line: every line must be an audit record"));

    write(&text.replacen("{\"seq\":1,", "{\"seq\":1,\"note\":\"x\",", 1));
    assert!(verify_error(&path).starts_with(&format!("{shown}:1: not an audit record: unknown field `note`")));

    // Opening for appending refuses in the same words.
    write(&tampered(text, 3, Tamper::Delete));
    assert_eq!(Audit::open(&path).expect_err("broken").to_string(), verify_error(&path));
}

#[test]
fn the_head_file_guards_the_end_of_the_trail() {
    let (text, _) = pristine();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, text).expect("write");
    let err = verify_error(&path);
    assert_eq!(
        err,
        format!(
            "{}: is missing while the trail has 9 lines, so lines deleted from its end could not be detected",
            head_path(&path).display()
        )
    );

    // A crash after a line was written but before the head was: accepted, and repaired on open.
    let eight: String = text.lines().take(8).map(|l| format!("{l}\n")).collect();
    let eighth_sha =
        eight.lines().last().and_then(|l| l.rsplit_once("\"sha256\":\"")).map(|(_, s)| &s[..64]).expect("sha");
    std::fs::write(head_path(&path), format!("{{\"seq\":8,\"sha256\":\"{eighth_sha}\"}}\n")).expect("write head");
    assert_eq!(audit::verify(&path).expect("one line ahead of the head"), 9);
    Audit::open(&path).expect("open");
    assert!(std::fs::read_to_string(head_path(&path)).expect("head").starts_with("{\"seq\":9,"), "repaired");

    // The whole trail deleted while its head remains.
    std::fs::remove_file(&path).expect("delete");
    assert!(verify_error(&path).contains("records line 9 but the trail has 0 lines"));
}

#[test]
fn concurrent_appends_from_threads_keep_one_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    let audit = Arc::new(Audit::open(&path).expect("open"));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let audit = Arc::clone(&audit);
            std::thread::spawn(move || {
                for i in 0..25 {
                    audit
                        .record(&Actor::anonymous(None), Event::View { page: format!("/thread/{t}/{i}") })
                        .expect("record");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let lines = audit::read_verified(&path).expect("verifies");
    assert_eq!(lines.len(), 200);
    assert!(lines.iter().enumerate().all(|(i, l)| l.seq == i as u64 + 1));
}

#[test]
fn two_writers_on_one_file_like_the_server_and_the_cli_keep_one_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("audit.jsonl");
    let server = Audit::open(&path).expect("server opens");
    let cli = Audit::open(&path).expect("cli opens");
    for i in 0..5 {
        server.record(&Actor::anonymous(None), Event::View { page: format!("/{i}") }).expect("server");
        cli.record(&Actor::command_line(), Event::UserRemoved { username: format!("user{i}") }).expect("cli");
    }
    assert_eq!(audit::verify(&path).expect("verifies"), 10);
}

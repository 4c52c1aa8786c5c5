//! `phm users` and `phm audit`, as an administrator runs them on the server.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `phm ARGS --accounts DIR` with `stdin` piped in: whether it succeeded, stdout, stderr.
fn phm(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phm"))
        .args(args)
        .arg("--accounts")
        .arg(dir)
        .env("USER", "tester")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run phm");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("wait for phm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str], stdin: &str) -> String {
    let (success, out, err) = phm(dir, args, stdin);
    assert!(success, "phm {} failed: {err}", args.join(" "));
    out
}

fn fails(dir: &Path, args: &[&str], stdin: &str) -> String {
    let (success, out, err) = phm(dir, args, stdin);
    assert!(!success, "phm {} should fail; wrote {out}", args.join(" "));
    err
}

#[test]
fn an_admin_adds_lists_and_removes_accounts_and_every_change_is_in_a_trail_that_verifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let accounts = dir.path().join("accounts");

    let out =
        ok(&accounts, &["users", "add", "alice", "--role", "analyst", "--password-stdin"], "correct horse battery\n");
    assert_eq!(out, format!("Added analyst `alice` to {}.\n", accounts.join("users.json").display()));
    let out = ok(
        &accounts,
        &["users", "add", "dr.who", "--role", "clinician", "--practice", "SYNGP001", "--password-stdin"],
        "a long clinical password",
    );
    assert!(out.starts_with("Added clinician `dr.who` for practice SYNGP001 to "), "{out}");

    let list = ok(&accounts, &["users", "list"], "");
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["username", "role", "practice", "created", "(UTC)", "password", "set", "(UTC)"]);
    assert_eq!((rows[1][0], rows[1][1]), ("alice", "analyst"));
    assert_eq!(&rows[2][..3], ["dr.who", "clinician", "SYNGP001"]);
    assert_eq!(rows.len(), 3);

    ok(&accounts, &["users", "passwd", "alice", "--password-stdin"], "an even longer new password\n");
    ok(&accounts, &["users", "remove", "dr.who"], "");
    assert!(!ok(&accounts, &["users", "list"], "").contains("dr.who"));

    let out = ok(&accounts, &["audit", "verify"], "");
    assert!(out.starts_with(&format!("{}: 4 lines verified, from ", accounts.join("audit.jsonl").display())), "{out}");
    assert!(out.contains("The chain ends at line 4 with sha256 "), "{out}");

    let show = ok(&accounts, &["audit", "show", "--user", "dr.who"], "");
    let events: Vec<&str> =
        show.lines().skip(1).filter(|l| !l.ends_with("shown.")).filter_map(|l| l.split_whitespace().nth(3)).collect();
    assert_eq!(events, ["user_added", "user_removed"], "{show}");
    assert!(show.contains("os:tester"), "{show}");
    assert!(show.contains("practice=SYNGP001 role=clinician username=dr.who"), "{show}");
    assert!(show.ends_with("2 of 4 lines shown.\n"), "{show}");
    let show = ok(&accounts, &["audit", "show", "--event", "password_changed", "--since", "2000-01-01"], "");
    assert!(show.ends_with("1 of 4 lines shown.\n"), "{show}");
    let show = ok(&accounts, &["audit", "show", "--since", "2999-01-01T00:00:00Z"], "");
    assert!(show.ends_with("0 of 4 lines shown.\n"), "{show}");

    // The password is in neither file.
    for file in ["users.json", "audit.jsonl"] {
        let text = std::fs::read_to_string(accounts.join(file)).expect("read");
        assert!(!text.contains("correct horse") && !text.contains("clinical password"), "{file}");
    }
}

#[test]
fn bad_accounts_are_refused_with_the_rule_they_break() {
    let dir = tempfile::tempdir().expect("temp dir");
    let accounts = dir.path().join("accounts");
    let err = fails(&accounts, &["users", "add", "alice", "--role", "analyst", "--password-stdin"], "too short\n");
    assert_eq!(
        err,
        "error: password: use at least 12 characters (this one has 9); a few unrelated words make a long password easy to remember\n"
    );
    let err = fails(
        &accounts,
        &["users", "add", "Alice", "--role", "analyst", "--password-stdin"],
        "correct horse battery\n",
    );
    assert!(err.contains("username `Alice`: character 1 is `A` (use lower case)"), "{err}");
    let err = fails(
        &accounts,
        &["users", "add", "dr.who", "--role", "clinician", "--password-stdin"],
        "correct horse battery\n",
    );
    assert!(err.contains("a clinician must carry the ODS code of their practice"), "{err}");
    let err = fails(
        &accounts,
        &["users", "add", "dr.who", "--role", "clinician", "--practice", "A81001", "--password-stdin"],
        "correct horse battery\n",
    );
    assert_eq!(err, "error: practice `A81001` is not one of the ICS's practices (reference/practices.csv)\n");
    let err =
        fails(&accounts, &["users", "add", "bob", "--role", "public", "--password-stdin"], "correct horse battery\n");
    assert!(err.contains("invalid value 'public' for '--role <ROLE>'"), "{err}");
    let err = fails(&accounts, &["users", "add", "bob", "--role", "admin"], "");
    assert!(err.contains("stdin is not a terminal") && err.contains("--password-stdin"), "{err}");
    let err = fails(&accounts, &["users", "remove", "nobody"], "");
    assert_eq!(err, "error: no user `nobody`\n");

    ok(&accounts, &["users", "add", "alice", "--role", "analyst", "--password-stdin"], "correct horse battery\n");
    let err =
        fails(&accounts, &["users", "add", "alice", "--role", "admin", "--password-stdin"], "correct horse battery\n");
    assert!(err.contains("user `alice` already exists"), "{err}");
    assert_eq!(
        ok(&accounts, &["audit", "verify"], "").lines().next().map(|l| l.contains(": 1 lines verified")),
        Some(true)
    );
}

#[test]
fn an_edited_trail_fails_verification_naming_the_line_and_stops_account_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let accounts = dir.path().join("accounts");
    for name in ["alice", "bob", "carol"] {
        ok(&accounts, &["users", "add", name, "--role", "analyst", "--password-stdin"], "correct horse battery\n");
    }
    let trail = accounts.join("audit.jsonl");
    let text = std::fs::read_to_string(&trail).expect("read");
    std::fs::write(&trail, text.replacen("\"username\":\"bob\"", "\"username\":\"eve\"", 1)).expect("write");

    let err = fails(&accounts, &["audit", "verify"], "");
    assert!(
        err.starts_with(&format!(
            "error: the audit trail does not verify: {}:2: sha256 does not match the line's content",
            trail.display()
        )),
        "{err}"
    );
    let err =
        fails(&accounts, &["users", "add", "dave", "--role", "analyst", "--password-stdin"], "correct horse battery\n");
    assert!(err.contains(":2: sha256 does not match") && err.contains("no account was changed"), "{err}");
    assert!(!ok(&accounts, &["users", "list"], "").contains("dave"));
    // `show` still shows what is there, then fails.
    let (success, out, err) = phm(&accounts, &["audit", "show"], "");
    assert!(!success && out.contains("eve") && err.contains(":2: sha256 does not match"), "{out}\n{err}");
}

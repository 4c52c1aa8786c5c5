//! The user store: accounts, roles, password rules and argon2id hashes in one private JSON file.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{clock, fast_hashing};
use phm_accounts::{AuthError, Error, Hashing, Role, Users};

fn open(path: &Path) -> Users {
    let (_, clock) = clock();
    Users::open_with(path, fast_hashing(), clock).expect("open the user store")
}

const GOOD: &str = "correct horse battery";

#[test]
fn a_password_verifies_and_a_wrong_one_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    let added = users.add("alice", Role::Analyst, None, GOOD).expect("add alice");
    assert_eq!((added.username.as_str(), added.role, added.practice.as_deref()), ("alice", Role::Analyst, None));

    assert_eq!(users.verify("alice", GOOD).expect("the right password"), added);
    assert!(matches!(users.verify("alice", "correct horse battery "), Err(AuthError::InvalidCredentials)));
    assert!(matches!(users.verify("alice", "Correct horse battery"), Err(AuthError::InvalidCredentials)));
}

#[test]
fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    users.add("alice", Role::Analyst, None, GOOD).expect("add alice");
    let unknown = users.verify("bob", GOOD).expect_err("bob has no account");
    let wrong = users.verify("alice", "not alice's password").expect_err("wrong password");
    assert!(matches!(unknown, AuthError::InvalidCredentials));
    assert_eq!(unknown.to_string(), wrong.to_string());
    // Names that could never be accounts are answered the same way, not with a rule.
    assert!(matches!(users.verify("Not A Username!", GOOD), Err(AuthError::InvalidCredentials)));
}

#[test]
fn usernames_are_1_to_64_characters_from_a_to_z_digits_dot_underscore_and_hyphen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    for good in ["a", "alice.smith-2_x", &"x".repeat(64)] {
        users.add(good, Role::Analyst, None, GOOD).unwrap_or_else(|e| panic!("`{good}` is a valid username: {e}"));
    }
    for (bad, says) in [
        ("", "at least one character"),
        (&*"x".repeat(65), "at most 64 characters (this one has 65)"),
        ("Alice", "character 1 is `A` (use lower case)"),
        ("al ice", "character 3 is ` `"),
        ("josé", "character 4 is `é`"),
        ("os:alice", "character 3 is `:`"),
    ] {
        let err = users.add(bad, Role::Analyst, None, GOOD).expect_err(bad);
        assert!(matches!(err, Error::BadUsername { .. }), "{err}");
        assert!(err.to_string().contains(says), "`{bad}`: {err}");
    }
}

#[test]
fn passwords_need_at_least_12_characters_and_may_not_be_the_username() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    let err = users.add("alice", Role::Analyst, None, "elevenchars").expect_err("11 characters");
    assert_eq!(
        err.to_string(),
        "password: use at least 12 characters (this one has 11); a few unrelated words make a long password easy to remember"
    );
    // Characters, not bytes: eleven two-byte letters are still eleven.
    assert!(matches!(users.add("alice", Role::Analyst, None, &"é".repeat(11)), Err(Error::WeakPassword(_))));
    // No rules about character classes: twelve lower-case letters and spaces are fine.
    users.add("alice", Role::Analyst, None, "twelve chars").expect("12 characters");
    let err = users.add("bob.the.builder", Role::Analyst, None, "Bob.The.Builder").expect_err("the username");
    assert!(err.to_string().contains("may not be or contain the username"), "{err}");
    assert!(matches!(users.add("carol", Role::Analyst, None, &"x".repeat(1025)), Err(Error::WeakPassword(_))));
}

#[test]
fn common_passwords_spaces_and_the_username_inside_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    // Each of these is 12 characters or more, so only the new rules can refuse it.
    let refused = [
        ("            ", "only spaces"),
        ("\t\t\t\t  \n\n    ", "only spaces"),
        ("aaaaaaaaaaaa", "repeats"),
        ("abcabcabcabc", "repeats"),
        ("121212121212", "repeats"),
        ("password1234", "most common passwords"),
        ("PASSWORD1234", "most common passwords"),
        ("qwerty123456", "most common passwords"),
        ("  1qaz2wsx3edc  ", "most common passwords"),
        ("Sunshine2026!", "common password with digits or symbols added"),
        ("!!football!!99", "common password with digits or symbols added"),
        ("iloveyou.2024", "common password with digits or symbols added"),
        ("alice.smith-rules", "contain the username"),
        ("My name is ALICE.SMITH", "contain the username"),
    ];
    for (password, says) in refused {
        let err = users.add("alice.smith", Role::Analyst, None, password).expect_err(password);
        assert!(matches!(err, Error::WeakPassword(_)), "{password:?}: {err}");
        assert!(err.to_string().contains(says), "{password:?}: {err}");
        let shown = password.trim();
        assert!(
            shown.is_empty() || !err.to_string().contains(shown),
            "the message does not repeat the password: {err}"
        );
    }
    // The list is real: its most common entries are on it, and a passphrase is not.
    for common in ["123456", "password", "qwerty", "iloveyou"] {
        assert!(phm_accounts::password::is_common(common), "{common}");
    }
    for fine in ["correct horse battery", "twelve chars", "purple elephant kettle 7", "  spaces around are fine  "] {
        users.add(&format!("u{}", fine.len()), Role::Analyst, None, fine).unwrap_or_else(|e| panic!("{fine:?}: {e}"));
    }
    // A short username only refuses itself, not every password that happens to contain it.
    users.add("al", Role::Analyst, None, "a walk along the canal").expect("`al` inside a passphrase");
    // The same rules when a password is changed.
    assert!(matches!(users.set_password("al", "password1234"), Err(Error::WeakPassword(_))));
}

#[test]
fn a_clinician_carries_a_practice_and_other_roles_do_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    let err = users.add("dr.who", Role::Clinician, None, GOOD).expect_err("no practice");
    assert!(err.to_string().contains("a clinician must carry the ODS code of their practice"), "{err}");
    let err = users.add("dr.who", Role::Clinician, Some("SYN GP".into()), GOOD).expect_err("not an ODS code");
    assert!(err.to_string().contains("is not an ODS code"), "{err}");
    let err = users.add("alice", Role::Analyst, Some("SYNGP001".into()), GOOD).expect_err("an analyst with a practice");
    assert!(err.to_string().contains("only clinicians carry a practice"), "{err}");

    let clinician = users.add("dr.who", Role::Clinician, Some("syngp001".into()), GOOD).expect("a clinician");
    assert_eq!(clinician.practice.as_deref(), Some("SYNGP001"), "ODS codes are upper case");
    assert_eq!(users.get("dr.who").expect("read").expect("stored"), clinician);
}

#[test]
fn roles_are_read_by_name() {
    assert_eq!("clinician".parse::<Role>().expect("a role"), Role::Clinician);
    let err = "public".parse::<Role>().expect_err("public is not an account's role");
    assert_eq!(err.to_string(), "unknown role `public`: expected analyst, clinician or admin");
}

#[test]
fn adding_a_taken_name_removing_and_changing_a_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = open(&dir.path().join("users.json"));
    users.add("alice", Role::Analyst, None, GOOD).expect("add");
    assert!(matches!(users.add("alice", Role::Admin, None, GOOD), Err(Error::UserExists(name)) if name == "alice"));

    users.set_password("alice", "a new and longer password").expect("set password");
    assert!(users.verify("alice", GOOD).is_err(), "the old password no longer works");
    users.verify("alice", "a new and longer password").expect("the new one does");
    assert!(matches!(users.set_password("nobody", "a new and longer password"), Err(Error::NoSuchUser(_))));

    users.add("bob", Role::Admin, None, GOOD).expect("add bob");
    let names: Vec<String> = users.list().expect("list").into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(users.remove("alice").expect("remove").username, "alice");
    assert!(users.verify("alice", "a new and longer password").is_err());
    assert!(matches!(users.remove("alice"), Err(Error::NoSuchUser(_))));
}

#[test]
fn the_file_is_private_and_holds_argon2id_hashes_not_passwords() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("accounts/users.json");
    let users = open(&path);
    users.add("alice", Role::Analyst, None, GOOD).expect("add");
    let text = std::fs::read_to_string(&path).expect("read the file");
    assert!(text.contains("\"password_hash\": \"$argon2id$v=19$m=8,t=1,p=1$"), "{text}");
    assert!(!text.contains(GOOD));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "users file");
        assert_eq!(mode(path.parent().expect("folder")), 0o700, "accounts folder");
    }
    // Each hash has its own salt: the same password twice gives two different hashes.
    users.add("bob", Role::Analyst, None, GOOD).expect("add");
    let hashes: Vec<String> = std::fs::read_to_string(&path)
        .expect("read")
        .lines()
        .filter(|l| l.contains("password_hash"))
        .map(str::to_owned)
        .collect();
    assert_eq!(hashes.len(), 2);
    assert_ne!(hashes[0], hashes[1]);
}

#[test]
fn production_hashing_uses_the_argon2_defaults() {
    let hashing = Hashing::default();
    let hash = hashing.hash(GOOD).expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(hashing.verify(GOOD, &hash));
    assert!(!hashing.verify("wrong password!", &hash));
    // A hash is checked with the parameters written in it, whatever the hasher's own.
    assert!(fast_hashing().verify(GOOD, &hash));
}

#[test]
fn a_change_made_through_another_handle_is_seen_at_once() {
    // The web app holds one handle for hours; `phm users` opens another and changes the file.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("users.json");
    let server = open(&path);
    let cli = open(&path);
    cli.add("alice", Role::Analyst, None, GOOD).expect("add");
    assert!(server.verify("alice", GOOD).is_ok());
    cli.remove("alice").expect("remove");
    assert!(server.get("alice").expect("read").is_none());
    assert!(server.verify("alice", GOOD).is_err());
}

#[test]
fn concurrent_adds_from_many_handles_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = Arc::new(dir.path().join("users.json"));
    open(&path);
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let path = Arc::clone(&path);
            std::thread::spawn(move || {
                let users = open(&path);
                for i in 0..5 {
                    users.add(&format!("user{t}-{i}"), Role::Analyst, None, GOOD).expect("add");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(open(&path).list().expect("list").len(), 30);
}

#[test]
fn a_malformed_file_is_refused_with_its_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("users.json");
    let hash = fast_hashing().hash(GOOD).expect("hash");
    let write = |text: &str| std::fs::write(&path, text).expect("write");
    let error = || {
        let (_, clock) = clock();
        Users::open_with(&path, fast_hashing(), clock).expect_err("malformed").to_string()
    };
    let shown = path.display().to_string();

    write("{\"format\": \"openphm-users/1\",\n \"users\": [\n  {\"username\": \"bob\", \"role\": \"nurse\"}\n ]\n}\n");
    let err = error();
    assert!(err.starts_with(&format!("{shown}:3:")), "{err}");
    assert!(err.contains("unknown variant `nurse`, expected one of `analyst`, `clinician`, `admin`"), "{err}");

    let user = |name: &str, role: &str, practice: &str, hash: &str| {
        format!(
            "  {{\"username\": \"{name}\", \"role\": \"{role}\", \"practice\": {practice}, \"password_hash\": \"{hash}\", \
             \"created\": \"2026-03-02T09:00:00Z\", \"password_changed\": \"2026-03-02T09:00:00Z\"}}"
        )
    };
    let file = |users: &[String]| {
        format!("{{\"format\": \"openphm-users/1\",\n \"users\": [\n{}\n ]\n}}\n", users.join(",\n"))
    };

    write(&file(&[user("alice", "analyst", "null", &hash), user("bob", "analyst", "null", "plaintext-password")]));
    let err = error();
    assert!(err.starts_with(&format!("{shown}:4:4: user 2 (`bob`): password_hash is not a PHC string (")), "{err}");

    write(&file(&[user("alice", "analyst", "null", &hash), user("dr.x", "clinician", "null", &hash)]));
    let err = error();
    assert!(err.starts_with(&format!("{shown}:4:4: user 2 (`dr.x`): a clinician must carry")), "{err}");

    write(&file(&[user("alice", "analyst", "null", &hash), user("alice", "admin", "null", &hash)]));
    assert_eq!(error(), format!("{shown}:4:4: user 2 (`alice`): user `alice` is listed twice"));

    write("{\"format\": \"openphm-users/9\", \"users\": []}");
    assert_eq!(error(), format!("{shown}:1:2: format is `openphm-users/9`, expected `openphm-users/1`"));
}

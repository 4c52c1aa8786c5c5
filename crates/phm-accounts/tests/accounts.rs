//! A whole sign-in as the web app does it: throttle, verify, record, make a session.

mod common;

use std::net::IpAddr;

use common::{clock, fast_hashing, minutes};
use phm_accounts::audit::read_verified;
use phm_accounts::{
    Accounts, AccountsConfig, AuthError, ManualClock, Role, SessionPolicy, ThrottlePolicy, ThrottleScope,
};

const PASSWORD: &str = "correct horse battery";

fn accounts(dir: &std::path::Path) -> (ManualClock, Accounts) {
    let (time, clock) = clock();
    let config = AccountsConfig {
        hashing: fast_hashing(),
        clock,
        sessions: SessionPolicy::default(),
        throttle: ThrottlePolicy::default(),
    };
    let accounts = Accounts::open_with(dir, config).expect("open accounts");
    accounts.users.add("alice", Role::Analyst, None, PASSWORD).expect("add alice");
    (time, accounts)
}

fn ip() -> Option<IpAddr> {
    Some("10.0.0.7".parse().expect("ip"))
}

/// The trail as `event user detail` strings.
fn trail(accounts: &Accounts) -> Vec<String> {
    read_verified(accounts.audit.path())
        .expect("the trail verifies")
        .into_iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l.event,
                l.user.unwrap_or_else(|| "-".into()),
                serde_json::to_string(&l.detail).expect("json")
            )
        })
        .collect()
}

#[test]
fn a_sign_in_makes_a_session_and_is_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, accounts) = accounts(dir.path());
    let session = accounts.sign_in("alice", PASSWORD, ip()).expect("signed in");
    assert_eq!(session.user.username, "alice");
    assert_eq!(accounts.session(session.token()).expect("look up").map(|s| s.user.role), Some(Role::Analyst));
    accounts.sign_out(session.token(), ip()).expect("signed out");
    assert!(accounts.session(session.token()).expect("look up").is_none());
    assert_eq!(trail(&accounts), ["sign_in alice {}", "sign_out alice {}"]);
    let lines = read_verified(accounts.audit.path()).expect("verifies");
    assert_eq!((lines[0].role.as_deref(), lines[0].ip.as_deref()), (Some("analyst"), Some("10.0.0.7")));
}

#[test]
fn failures_are_recorded_without_the_name_typed_unless_it_is_an_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, accounts) = accounts(dir.path());
    assert!(matches!(accounts.sign_in("alice", "wrong password!", ip()), Err(AuthError::InvalidCredentials)));
    // People type passwords into the username box: an unknown name is not written down.
    assert!(matches!(accounts.sign_in("correct horse battery", "alice", ip()), Err(AuthError::InvalidCredentials)));
    assert_eq!(
        trail(&accounts),
        ["sign_in_failed alice {\"username_known\":true}", "sign_in_failed - {\"username_known\":false}"]
    );
    assert!(!std::fs::read_to_string(accounts.audit.path()).expect("read").contains("horse"));
}

#[test]
fn failures_from_one_address_make_that_address_wait_but_not_the_owner_elsewhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (time, accounts) = accounts(dir.path());
    let attacker: Option<IpAddr> = Some("203.0.113.9".parse().expect("ip"));
    accounts.sign_in("alice", PASSWORD, ip()).expect("alice signs in at her office");
    // The attack: six quick requests with wrong passwords.
    for _ in 0..6 {
        assert!(accounts.sign_in("alice", "a guessed password", attacker).is_err());
    }
    let err = accounts
        .sign_in("alice", PASSWORD, attacker)
        .expect_err("the attacker's address waits, even with the right password");
    assert!(matches!(err, AuthError::Throttled { scope: ThrottleScope::UsernameAtAddress, .. }), "{err:?}");
    assert_eq!(err.to_string(), "too many failed sign-ins: try again in 5 seconds");
    assert_eq!(
        trail(&accounts).last().map(String::as_str),
        Some("sign_in_refused alice {\"retry_after_seconds\":5,\"scope\":\"username_at_address\"}")
    );
    // Hammering the refused sign-in adds no lines: one refusal, recorded once.
    let lines = trail(&accounts).len();
    for _ in 0..50 {
        assert!(accounts.sign_in("alice", "a guessed password", attacker).is_err());
    }
    assert_eq!(trail(&accounts).len(), lines);
    // The owner is not locked out: at once from her office, or from anywhere else.
    accounts.sign_in("alice", PASSWORD, ip()).expect("from her office");
    accounts.sign_in("alice", PASSWORD, Some("198.51.100.20".parse().expect("ip"))).expect("from a new address");
    time.advance(minutes(1));
    accounts
        .sign_in("alice", PASSWORD, attacker)
        .expect("the attacker's address after its wait, with the right password");
}

#[test]
fn a_session_ends_when_its_account_is_removed_or_its_password_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (time, accounts) = accounts(dir.path());
    accounts.users.add("bob", Role::Admin, None, PASSWORD).expect("add bob");
    let alices = accounts.sign_in("alice", PASSWORD, ip()).expect("alice");
    let bobs = accounts.sign_in("bob", PASSWORD, ip()).expect("bob");
    time.advance(minutes(1));

    // `phm users` works on the files; the server sees the change at the next request.
    let (_, cli_clock) = clock();
    let cli = phm_accounts::Users::open_with(accounts.users.path(), fast_hashing(), cli_clock).expect("cli");
    cli.remove("alice").expect("remove");
    assert!(accounts.session(alices.token()).expect("look up").is_none());

    accounts.users.set_password("bob", "another long password").expect("passwd");
    assert!(accounts.session(bobs.token()).expect("look up").is_none());
    let again = accounts.sign_in("bob", "another long password", ip()).expect("bob again");
    assert!(accounts.session(again.token()).expect("look up").is_some());
}

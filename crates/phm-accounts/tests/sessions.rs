//! Sessions: random tokens, 30 minutes idle, 8 hours in all, and each with its own CSRF token.

mod common;

use chrono::TimeZone as _;
use common::{clock, minutes, start};
use phm_accounts::{Role, Session, Sessions, User};

fn alice() -> User {
    User { username: "alice".into(), role: Role::Analyst, practice: None, created: start(), password_changed: start() }
}

fn is_hex_256_bits(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[test]
fn sessions_are_shareable_between_request_handlers() {
    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Sessions>();
    let (_, clock) = clock();
    let sessions = Sessions::new(clock);
    let session = sessions.create(alice()).expect("create");
    let clone = sessions.clone();
    assert_eq!(clone.get(session.token()).map(|s| s.user.username), Some("alice".into()), "clones share one table");
}

#[test]
fn a_new_session_has_a_random_256_bit_token_and_its_own_csrf_token() {
    let (_, clock) = clock();
    let sessions = Sessions::new(clock);
    let a = sessions.create(alice()).expect("create");
    let b = sessions.create(alice()).expect("create");
    assert!(is_hex_256_bits(a.token()) && is_hex_256_bits(a.csrf_token()), "64 hex digits each");
    assert_ne!(a.token(), b.token());
    assert_ne!(a.csrf_token(), b.csrf_token());
    assert_ne!(a.token(), a.csrf_token());
    assert_eq!((a.created, a.last_seen), (start(), start()));
    // Debug output, which may reach a log, shows neither token.
    let debug = format!("{a:?}");
    assert!(!debug.contains(a.token()) && !debug.contains(a.csrf_token()), "{debug}");
}

#[test]
fn a_session_ends_after_30_minutes_without_a_request() {
    let (time, clock) = clock();
    let sessions = Sessions::new(clock);
    let token = sessions.create(alice()).expect("create").token().to_owned();

    time.advance(minutes(29));
    let seen = sessions.get(&token).expect("still live after 29 minutes");
    assert_eq!(seen.last_seen, start() + chrono::TimeDelta::minutes(29), "a request marks it as seen");
    time.advance(minutes(29));
    assert!(sessions.get(&token).is_some(), "29 minutes after the last request");
    assert_eq!(sessions.expires_at(&token), Some(start() + chrono::TimeDelta::minutes(88)));
    time.advance(minutes(30));
    assert!(sessions.get(&token).is_none(), "30 minutes idle");
    assert!(sessions.is_empty(), "an expired session is dropped");
}

#[test]
fn a_session_ends_8_hours_after_sign_in_however_busy() {
    let (time, clock) = clock();
    let sessions = Sessions::new(clock);
    let token = sessions.create(alice()).expect("create").token().to_owned();
    for _ in 0..23 {
        time.advance(minutes(20));
        assert!(sessions.get(&token).is_some());
    }
    // 7 h 40 min so far; the last use is 20 minutes before the 8-hour mark.
    assert_eq!(
        sessions.expires_at(&token),
        Some(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 17, 0, 0).single().expect("time"))
    );
    time.advance(minutes(19));
    assert!(sessions.get(&token).is_some(), "7 h 59 min");
    time.advance(minutes(1));
    assert!(sessions.get(&token).is_none(), "8 hours");
}

#[test]
fn signing_out_ends_a_session_and_other_sessions_go_on() {
    let (_, clock) = clock();
    let sessions = Sessions::new(clock);
    let a = sessions.create(alice()).expect("create");
    let b = sessions.create(alice()).expect("create");
    let mut bob = alice();
    bob.username = "bob".into();
    let c = sessions.create(bob).expect("create");
    assert_eq!(sessions.end(a.token()).map(|s| s.user.username), Some("alice".into()));
    assert!(sessions.get(a.token()).is_none());
    assert!(sessions.end(a.token()).is_none(), "ending twice is harmless");
    assert!(sessions.get(b.token()).is_some());
    assert_eq!(sessions.end_user("alice"), 1, "alice's other session");
    assert!(sessions.get(b.token()).is_none());
    assert!(sessions.get(c.token()).is_some(), "bob is still signed in");
    assert!(sessions.get("not a token").is_none());
}

#[test]
fn a_form_is_accepted_only_with_its_own_sessions_csrf_token() {
    let (_, clock) = clock();
    let sessions = Sessions::new(clock);
    let mine: Session = sessions.create(alice()).expect("create");
    let other = sessions.create(alice()).expect("create");
    assert!(mine.csrf_matches(mine.csrf_token()), "the right token");
    assert!(!mine.csrf_matches(other.csrf_token()), "another session's token");
    assert!(!mine.csrf_matches(mine.token()), "the session token is not the CSRF token");
    assert!(!mine.csrf_matches(""), "no token");
    assert!(!mine.csrf_matches(&mine.csrf_token()[..63]), "a prefix");
    let mut flipped = mine.csrf_token().to_owned();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(63.., last);
    assert!(!mine.csrf_matches(&flipped), "one digit different");
}

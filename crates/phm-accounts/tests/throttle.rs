//! Sign-in throttling: per username, per client address, and for everyone.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{clock, minutes};
use phm_accounts::throttle::describe_wait;
use phm_accounts::{Refusal, Throttle, ThrottleScope};

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("an IP address"))
}

/// Fails `n` sign-ins for `username` from `address`.
fn fail(throttle: &Throttle, username: &str, address: Option<IpAddr>, n: usize) {
    for i in 0..n {
        throttle.attempt(username, address).unwrap_or_else(|r| panic!("attempt {} refused: {r:?}", i + 1)).failed();
    }
}

fn refusal(throttle: &Throttle, username: &str, address: Option<IpAddr>) -> Option<Refusal> {
    throttle.attempt(username, address).err()
}

#[test]
fn five_failures_lock_a_username_for_15_minutes_and_say_how_long_is_left() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    fail(&throttle, "alice", ip("10.0.0.1"), 4);
    time.advance(minutes(10));
    fail(&throttle, "alice", ip("10.0.0.2"), 1);
    // From any address: the name is locked.
    assert_eq!(refusal(&throttle, "alice", ip("10.0.0.3")), Some(Refusal { scope: ThrottleScope::Username, retry_after: minutes(15) }));
    assert_eq!(refusal(&throttle, "ALICE", None).map(|r| r.scope), Some(ThrottleScope::Username), "names are counted in lower case");
    time.advance(Duration::from_secs(14 * 60 + 1));
    let left = refusal(&throttle, "alice", None).expect("still locked").retry_after;
    assert_eq!(left, Duration::from_secs(59));
    assert_eq!(describe_wait(left), "59 seconds");
    time.advance(Duration::from_secs(59));
    assert!(throttle.attempt("alice", ip("10.0.0.3")).is_ok(), "unlocked after 15 minutes");
    assert!(throttle.attempt("bob", ip("10.0.0.3")).is_ok(), "other names were never locked");
}

#[test]
fn failures_more_than_15_minutes_apart_do_not_add_up() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    fail(&throttle, "alice", None, 4);
    time.advance(minutes(15));
    fail(&throttle, "alice", None, 4);
    assert!(throttle.attempt("alice", None).is_ok(), "only 4 failures in the last 15 minutes");
}

#[test]
fn a_successful_sign_in_clears_the_usernames_failures() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    fail(&throttle, "alice", None, 4);
    throttle.attempt("alice", None).expect("allowed").succeeded();
    fail(&throttle, "alice", None, 4);
    assert!(throttle.attempt("alice", None).is_ok());
}

#[test]
fn five_failures_from_one_address_lock_that_address_for_any_name() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    for name in ["a", "b", "c", "d", "e"] {
        fail(&throttle, name, ip("192.0.2.7"), 1);
    }
    let refused = refusal(&throttle, "f", ip("192.0.2.7")).expect("the address is locked");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::Address, minutes(15)));
    assert_eq!(refusal(&throttle, "f", ip("::ffff:192.0.2.7")).map(|r| r.scope), Some(ThrottleScope::Address), "IPv4-mapped IPv6");
    assert!(throttle.attempt("f", ip("192.0.2.8")).is_ok(), "another address");
    time.advance(minutes(15));
    assert!(throttle.attempt("f", ip("192.0.2.7")).is_ok(), "unlocked after 15 minutes");
}

#[test]
fn a_success_does_not_clear_an_addresss_failures() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    for name in ["a", "b", "c", "d"] {
        fail(&throttle, name, ip("192.0.2.7"), 1);
    }
    throttle.attempt("mallory", ip("192.0.2.7")).expect("allowed").succeeded();
    fail(&throttle, "e", ip("192.0.2.7"), 1);
    assert_eq!(refusal(&throttle, "f", ip("192.0.2.7")).map(|r| r.scope), Some(ThrottleScope::Address));
}

#[test]
fn ipv6_addresses_are_counted_by_their_64_bit_prefix() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        fail(&throttle, name, ip(&format!("2001:db8:1:2::{}", i + 1)), 1);
    }
    assert_eq!(refusal(&throttle, "f", ip("2001:db8:1:2:ffff::1")).map(|r| r.scope), Some(ThrottleScope::Address), "same /64");
    assert!(throttle.attempt("f", ip("2001:db8:1:3::1")).is_ok(), "another /64");
}

#[test]
fn a_hundred_failures_in_a_minute_make_everyone_wait() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    for i in 0..100u32 {
        let address = ip(&format!("10.{}.{}.1", i / 250, i % 250));
        fail(&throttle, &format!("user{i}"), address, 1);
        time.advance(Duration::from_millis(500));
    }
    // 50 seconds after the first failure: refused until it is a minute old.
    let refused = refusal(&throttle, "someone.else", ip("198.51.100.1")).expect("everyone waits");
    assert_eq!(refused, Refusal { scope: ThrottleScope::Everyone, retry_after: Duration::from_secs(10) });
    assert_eq!(describe_wait(refused.retry_after), "10 seconds");
    time.advance(Duration::from_secs(10));
    assert!(throttle.attempt("someone.else", ip("198.51.100.1")).is_ok(), "99 failures in the last minute");
}

#[test]
fn attempts_being_checked_count_so_a_burst_cannot_pass_together() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    let in_flight: Vec<_> = (0..5).map(|_| throttle.attempt("alice", None).expect("allowed")).collect();
    let refused = refusal(&throttle, "alice", None).expect("a sixth attempt while five are being checked");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::Username, Duration::from_secs(1)));
    for attempt in in_flight {
        attempt.failed();
    }
    assert_eq!(refusal(&throttle, "alice", None).map(|r| r.retry_after), Some(minutes(15)), "now locked");
}

#[test]
fn an_attempt_dropped_unsettled_counts_nothing() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    for _ in 0..10 {
        drop(throttle.attempt("alice", ip("10.0.0.1")).expect("allowed"));
    }
    fail(&throttle, "alice", ip("10.0.0.1"), 4);
    assert!(throttle.attempt("alice", ip("10.0.0.1")).is_ok());
}

#[test]
fn waits_are_said_in_whole_seconds_or_minutes_rounded_up() {
    assert_eq!(describe_wait(Duration::from_millis(1)), "1 second");
    assert_eq!(describe_wait(Duration::from_secs(45)), "45 seconds");
    assert_eq!(describe_wait(Duration::from_secs(60)), "1 minute");
    assert_eq!(describe_wait(Duration::from_secs(61)), "2 minutes");
    assert_eq!(describe_wait(minutes(15)), "15 minutes");
}

//! Sign-in throttling: a username at an address backs off, an address has a budget, a username
//! attacked from many addresses slows down a little, and everyone waits during a flood; but no
//! one can lock an account's owner out.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{clock, minutes};
use phm_accounts::throttle::describe_wait;
use phm_accounts::{ManualClock, Refusal, Throttle, ThrottlePolicy, ThrottleScope};

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("an IP address"))
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Fails `n` sign-ins for `username` from `address`, each one allowed.
fn fail(throttle: &Throttle, username: &str, address: Option<IpAddr>, n: usize) {
    for i in 0..n {
        throttle.attempt(username, address).unwrap_or_else(|r| panic!("attempt {} refused: {r:?}", i + 1)).failed();
    }
}

/// Fails a sign-in as soon as the throttle allows it (moving the clock on by the wait it
/// asks for), and returns that wait.
fn fail_when_allowed(time: &ManualClock, throttle: &Throttle, username: &str, address: Option<IpAddr>) -> Duration {
    let wait = refusal(throttle, username, address).map_or(Duration::ZERO, |r| r.retry_after);
    time.advance(wait);
    fail(throttle, username, address, 1);
    wait
}

fn refusal(throttle: &Throttle, username: &str, address: Option<IpAddr>) -> Option<Refusal> {
    throttle.attempt(username, address).err()
}

#[test]
fn a_username_at_one_address_gets_three_tries_then_waits_twice_as_long_each_time_up_to_15_minutes() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    let attacker = ip("203.0.113.9");
    let waits: Vec<u64> = (0..12).map(|_| fail_when_allowed(&time, &throttle, "alice", attacker).as_secs()).collect();
    assert_eq!(waits, [0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900]);
    let refused = refusal(&throttle, "alice", attacker).expect("waits");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::UsernameAtAddress, minutes(15)));
    assert_eq!(
        refusal(&throttle, "ALICE", attacker).map(|r| r.scope),
        Some(ThrottleScope::UsernameAtAddress),
        "names are counted in lower case"
    );
    assert_eq!(describe_wait(refused.retry_after), "15 minutes");
}

#[test]
fn an_attacker_failing_as_the_owner_does_not_lock_the_owner_out() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    let (office, attacker) = (ip("192.0.2.10"), ip("203.0.113.9"));
    throttle.attempt("alice", office).expect("first sign-in").succeeded();
    // The attack: six quick failures. Then an hour of guessing as fast as allowed.
    for _ in 0..6 {
        let _ = throttle.attempt("alice", attacker).map(|a| a.failed());
    }
    for _ in 0..40 {
        fail_when_allowed(&time, &throttle, "alice", attacker);
    }
    assert!(refusal(&throttle, "alice", attacker).is_some(), "the attacker's address waits");
    throttle.attempt("alice", office).expect("the owner signs in at once from their usual address").succeeded();
    // From an address never used before, the owner waits at most the per-username cap.
    let new_place = refusal(&throttle, "alice", ip("198.51.100.77")).map_or(Duration::ZERO, |r| r.retry_after);
    assert!(new_place <= ThrottlePolicy::default().username_max_wait, "waited {new_place:?}");
}

#[test]
fn guesses_at_one_username_from_many_addresses_slow_it_down_by_at_most_a_minute() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    let mut waits = Vec::new();
    for i in 0..20u32 {
        let address = ip(&format!("10.9.{}.{}", i / 200, i % 200 + 1));
        waits.push(fail_when_allowed(&time, &throttle, "alice", address).as_secs());
    }
    assert_eq!(waits, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
    let refused = refusal(&throttle, "alice", ip("198.51.100.1")).expect("the username waits");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::Username, secs(60)));
    assert!(throttle.attempt("bob", ip("198.51.100.1")).is_ok(), "other names are not slowed");
    // Failures older than 15 minutes are forgotten.
    time.advance(minutes(15));
    assert!(throttle.attempt("alice", ip("198.51.100.1")).is_ok());
}

#[test]
fn an_address_the_owner_signed_in_from_passes_the_username_and_global_limits() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    let office = ip("192.0.2.10");
    throttle.attempt("alice", office).expect("allowed").succeeded();
    assert!(throttle.is_trusted("alice", office));
    assert!(!throttle.is_trusted("bob", office), "trusted for that username only");
    // Guesses at alice from ten addresses slow her down elsewhere, not at her office.
    for i in 0..10 {
        fail(&throttle, "alice", ip(&format!("10.8.0.{}", i + 1)), 1);
    }
    assert_eq!(refusal(&throttle, "alice", ip("198.51.100.1")).map(|r| r.scope), Some(ThrottleScope::Username));
    assert!(throttle.attempt("alice", office).is_ok(), "alice from her office does not wait");
    // With 90 more across many names and addresses, 100 failures in a minute make everyone wait...
    for i in 0..90u32 {
        fail(&throttle, &format!("user{i}"), ip(&format!("10.{}.{}.1", i / 250, i % 250)), 1);
        time.advance(Duration::from_millis(100));
    }
    assert_eq!(refusal(&throttle, "carol", ip("198.51.100.1")).map(|r| r.scope), Some(ThrottleScope::Everyone));
    // ...except alice at her office.
    assert!(throttle.attempt("alice", office).is_ok(), "alice from her office does not wait");
    // Trust lapses after 30 days without a sign-in from there.
    time.advance(secs(30 * 24 * 60 * 60));
    assert!(!throttle.is_trusted("alice", office));
}

#[test]
fn twenty_failures_from_one_address_refuse_it_for_any_name_until_they_age_out() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    for i in 0..20 {
        fail(&throttle, &format!("name{i}"), ip("192.0.2.7"), 1);
        time.advance(secs(30));
    }
    // 10 minutes after the first failure: refused until it is 15 minutes old.
    let refused = refusal(&throttle, "someone", ip("192.0.2.7")).expect("the address is refused");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::Address, minutes(5)));
    assert_eq!(
        refusal(&throttle, "someone", ip("::ffff:192.0.2.7")).map(|r| r.scope),
        Some(ThrottleScope::Address),
        "IPv4-mapped IPv6"
    );
    assert!(throttle.attempt("someone", ip("192.0.2.8")).is_ok(), "another address");
    time.advance(minutes(5));
    assert!(throttle.attempt("someone", ip("192.0.2.7")).is_ok(), "the oldest failure has aged out");
}

#[test]
fn a_success_clears_the_username_at_that_address_but_not_the_addresss_count() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    let here = ip("192.0.2.7");
    fail(&throttle, "alice", here, 3);
    time.advance(secs(5));
    throttle.attempt("alice", here).expect("after 5 s").succeeded();
    fail(&throttle, "alice", here, 3);
    assert!(refusal(&throttle, "alice", here).is_some(), "three new failures: waits again");
    // One valid account cannot reset an address that is guessing others' passwords.
    for i in 0..13 {
        fail(&throttle, &format!("name{i}"), here, 1);
    }
    throttle.attempt("mallory", here).expect("19 failures: allowed").succeeded();
    fail(&throttle, "name13", here, 1);
    assert_eq!(refusal(&throttle, "anyone", here).map(|r| r.scope), Some(ThrottleScope::Address));
}

#[test]
fn ipv6_addresses_are_counted_by_their_64_bit_prefix() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    for i in 0..20 {
        fail(&throttle, &format!("name{i}"), ip(&format!("2001:db8:1:2::{}", i + 1)), 1);
    }
    assert_eq!(
        refusal(&throttle, "f", ip("2001:db8:1:2:ffff::1")).map(|r| r.scope),
        Some(ThrottleScope::Address),
        "same /64"
    );
    assert!(throttle.attempt("f", ip("2001:db8:1:3::1")).is_ok(), "another /64");
}

#[test]
fn a_hundred_failures_in_a_minute_make_everyone_else_wait() {
    let (time, clock) = clock();
    let throttle = Throttle::new(clock);
    for i in 0..100u32 {
        fail(&throttle, &format!("user{i}"), ip(&format!("10.{}.{}.1", i / 250, i % 250)), 1);
        time.advance(Duration::from_millis(500));
    }
    // 50 seconds after the first failure: refused until it is a minute old.
    let refused = refusal(&throttle, "someone.else", ip("198.51.100.1")).expect("everyone waits");
    assert_eq!(refused, Refusal { scope: ThrottleScope::Everyone, retry_after: secs(10) });
    assert_eq!(describe_wait(refused.retry_after), "10 seconds");
    time.advance(secs(10));
    assert!(throttle.attempt("someone.else", ip("198.51.100.1")).is_ok(), "99 failures in the last minute");
}

#[test]
fn attempts_being_checked_count_so_a_burst_cannot_pass_together() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    let here = ip("192.0.2.7");
    let in_flight: Vec<_> = (0..3).map(|_| throttle.attempt("alice", here).expect("allowed")).collect();
    let refused = refusal(&throttle, "alice", here).expect("a fourth attempt while three are being checked");
    assert_eq!((refused.scope, refused.retry_after), (ThrottleScope::UsernameAtAddress, secs(1)));
    for attempt in in_flight {
        attempt.failed();
    }
    assert_eq!(refusal(&throttle, "alice", here).map(|r| r.retry_after), Some(secs(5)), "now backing off");
}

#[test]
fn an_attempt_dropped_unsettled_counts_nothing() {
    let (_, clock) = clock();
    let throttle = Throttle::new(clock);
    for _ in 0..10 {
        drop(throttle.attempt("alice", ip("10.0.0.1")).expect("allowed"));
    }
    fail(&throttle, "alice", ip("10.0.0.1"), 2);
    assert!(throttle.attempt("alice", ip("10.0.0.1")).is_ok());
}

#[test]
fn waits_are_said_in_whole_seconds_or_minutes_rounded_up() {
    assert_eq!(describe_wait(Duration::from_millis(1)), "1 second");
    assert_eq!(describe_wait(secs(45)), "45 seconds");
    assert_eq!(describe_wait(secs(60)), "1 minute");
    assert_eq!(describe_wait(secs(61)), "2 minutes");
    assert_eq!(describe_wait(minutes(15)), "15 minutes");
}

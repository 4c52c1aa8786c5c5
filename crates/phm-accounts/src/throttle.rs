//! Sign-in throttling.
//!
//! Three counters of failed sign-ins, in the spirit of NCSC's advice to throttle rather than
//! lock accounts forever and OWASP's Authentication Cheat Sheet:
//!
//! * **per username** (the name as typed, known or not, so the answer says nothing about
//!   whether it exists): after [`ThrottlePolicy::max_failures`] failures (5) within
//!   [`ThrottlePolicy::window`] (15 minutes), attempts for that name are refused for
//!   [`ThrottlePolicy::lockout`] (15 minutes). A successful sign-in clears the name's counter.
//! * **per client address**, with the same numbers: IPv4 addresses one by one, IPv6 by /64
//!   (one host usually holds a whole /64). A success does not clear it, so one valid account
//!   cannot be used to reset an address that is guessing others' passwords.
//! * **everyone**: once [`ThrottlePolicy::global_max_failures`] failures (100) have happened
//!   within [`ThrottlePolicy::global_window`] (1 minute), every attempt is refused until the
//!   oldest of them leaves the window. This caps password spraying across many names and
//!   addresses at about 100 guesses a minute, at the cost of briefly refusing everyone while
//!   an attack runs.
//!
//! A refused attempt does not check the password and is not counted as a failure.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, delta, until};

/// The limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures for one username or address that lock it.
    pub max_failures: usize,
    /// The window those failures are counted in.
    pub window: Duration,
    /// How long a locked username or address is refused.
    pub lockout: Duration,
    /// Failures across all sign-ins that make every attempt wait.
    pub global_max_failures: usize,
    /// The window for the global count.
    pub global_window: Duration,
}

impl Default for ThrottlePolicy {
    /// 5 failures in 15 minutes lock for 15 minutes; 100 failures a minute in all.
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            global_max_failures: 100,
            global_window: Duration::from_secs(60),
        }
    }
}

/// Which counter refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleScope {
    /// Too many failures for this username.
    Username,
    /// Too many failures from this client address.
    Address,
    /// Too many failures across all sign-ins.
    Everyone,
}

impl ThrottleScope {
    /// The scope as written in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleScope::Username => "username",
            ThrottleScope::Address => "address",
            ThrottleScope::Everyone => "everyone",
        }
    }
}

impl fmt::Display for ThrottleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attempt refused: by which counter, and for how much longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Which counter refused it.
    pub scope: ThrottleScope,
    /// How long until an attempt will be considered again.
    pub retry_after: Duration,
}

/// A wait as people say it, rounded up: "45 seconds", "1 minute", "14 minutes".
pub fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if seconds < 60 {
        let s = seconds.max(1);
        return format!("{s} second{}", if s == 1 { "" } else { "s" });
    }
    let minutes = seconds.div_ceil(60);
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

/// While attempts are being checked (argon2 takes a while), they count against the limits, so
/// that many attempts sent at once cannot all pass the check before the first failure is
/// counted; one that would reach the limit is asked to wait this long.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Counter {
    failures: VecDeque<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    in_flight: usize,
}

impl Counter {
    fn forget_old(&mut self, now: DateTime<Utc>, policy: &ThrottlePolicy) {
        let start = now - delta(policy.window);
        while self.failures.front().is_some_and(|&t| t <= start) {
            self.failures.pop_front();
        }
    }

    /// The refusal in force now, if any (clearing a lock that has run out).
    fn refusal(&mut self, now: DateTime<Utc>, policy: &ThrottlePolicy, scope: ThrottleScope) -> Option<Refusal> {
        match self.locked_until {
            Some(until_time) if until_time > now => return Some(Refusal { scope, retry_after: until(now, until_time) }),
            Some(_) => self.locked_until = None,
            None => {}
        }
        self.forget_old(now, policy);
        (self.failures.len() + self.in_flight >= policy.max_failures).then_some(Refusal { scope, retry_after: IN_FLIGHT_WAIT })
    }

    fn fail(&mut self, now: DateTime<Utc>, policy: &ThrottlePolicy) {
        self.forget_old(now, policy);
        self.failures.push_back(now);
        if self.failures.len() >= policy.max_failures {
            self.failures.clear();
            self.locked_until = Some(now + delta(policy.lockout));
        }
    }

    fn stale(&self, now: DateTime<Utc>, policy: &ThrottlePolicy) -> bool {
        self.in_flight == 0 && self.locked_until.is_none_or(|t| t <= now) && self.failures.back().is_none_or(|&t| t <= now - delta(policy.window))
    }
}

#[derive(Debug, Default)]
struct State {
    usernames: HashMap<String, Counter>,
    addresses: HashMap<IpAddr, Counter>,
    everyone: VecDeque<DateTime<Utc>>,
    everyone_in_flight: usize,
}

/// The counters. `Send + Sync`; share one behind an `Arc` (or use the one in
/// [`Accounts`](crate::Accounts)).
#[derive(Debug)]
pub struct Throttle {
    clock: Arc<dyn Clock>,
    policy: ThrottlePolicy,
    state: Mutex<State>,
}

/// How many usernames or addresses are kept before stale ones are cleared out.
const PRUNE_ABOVE: usize = 10_000;

impl Throttle {
    /// Counters with the default policy.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_policy(clock, ThrottlePolicy::default())
    }

    /// Counters with this policy.
    pub fn with_policy(clock: Arc<dyn Clock>, policy: ThrottlePolicy) -> Self {
        Self { clock, policy, state: Mutex::new(State::default()) }
    }

    /// The policy in force.
    pub fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a sign-in attempt for `username` from `address`, before the password is checked:
    /// refused if a counter is locked (the longest refusal in force is returned). The attempt
    /// counts against the limits until it is settled with [`Attempt::failed`] or
    /// [`Attempt::succeeded`] (dropping it unsettled, say after a store error, counts nothing).
    pub fn attempt(&self, username: &str, address: Option<IpAddr>) -> Result<Attempt<'_>, Refusal> {
        let now = self.clock.now();
        let policy = self.policy;
        let username = username_key(username);
        let address = address.map(address_key);
        let mut state = self.state();
        let mut refusals = Vec::new();
        if let Some(counter) = state.usernames.get_mut(&username) {
            refusals.extend(counter.refusal(now, &policy, ThrottleScope::Username));
        }
        if let Some(counter) = address.and_then(|a| state.addresses.get_mut(&a)) {
            refusals.extend(counter.refusal(now, &policy, ThrottleScope::Address));
        }
        let start = now - delta(policy.global_window);
        while state.everyone.front().is_some_and(|&t| t <= start) {
            state.everyone.pop_front();
        }
        let global = state.everyone.len() + state.everyone_in_flight;
        if global >= policy.global_max_failures {
            let retry_after = match state.everyone.len().checked_sub(policy.global_max_failures) {
                Some(i) => until(now, state.everyone[i] + delta(policy.global_window)),
                None => IN_FLIGHT_WAIT,
            };
            refusals.push(Refusal { scope: ThrottleScope::Everyone, retry_after });
        }
        // The longest wait; on a tie the first (username before address before everyone).
        if let Some(refusal) = refusals.into_iter().reduce(|a, b| if b.retry_after > a.retry_after { b } else { a }) {
            return Err(refusal);
        }
        state.usernames.entry(username.clone()).or_default().in_flight += 1;
        if let Some(address) = address {
            state.addresses.entry(address).or_default().in_flight += 1;
        }
        state.everyone_in_flight += 1;
        Ok(Attempt { throttle: self, username, address, settled: false })
    }

    /// Takes an attempt out of the in-flight counts.
    fn release(&self, state: &mut State, username: &str, address: Option<IpAddr>) {
        if let Some(counter) = state.usernames.get_mut(username) {
            counter.in_flight = counter.in_flight.saturating_sub(1);
        }
        if let Some(counter) = address.and_then(|a| state.addresses.get_mut(&a)) {
            counter.in_flight = counter.in_flight.saturating_sub(1);
        }
        state.everyone_in_flight = state.everyone_in_flight.saturating_sub(1);
    }

    fn fail(&self, state: &mut State, username: &str, address: Option<IpAddr>) {
        let now = self.clock.now();
        let policy = self.policy;
        state.usernames.entry(username.to_owned()).or_default().fail(now, &policy);
        if let Some(address) = address {
            state.addresses.entry(address).or_default().fail(now, &policy);
        }
        state.everyone.push_back(now);
        let cap = policy.global_max_failures.max(1) * 2;
        while state.everyone.len() > cap {
            state.everyone.pop_front();
        }
        if state.usernames.len() > PRUNE_ABOVE {
            state.usernames.retain(|_, c| !c.stale(now, &policy));
        }
        if state.addresses.len() > PRUNE_ABOVE {
            state.addresses.retain(|_, c| !c.stale(now, &policy));
        }
    }
}

/// A sign-in attempt being checked; settle it with [`Attempt::failed`] or
/// [`Attempt::succeeded`].
#[derive(Debug)]
#[must_use = "an attempt counts only once it is settled as failed or succeeded"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    username: String,
    address: Option<IpAddr>,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was wrong or the username unknown: counts a failure for the username, the
    /// address and everyone.
    pub fn failed(mut self) {
        let mut state = self.throttle.state();
        self.throttle.release(&mut state, &self.username, self.address);
        self.throttle.fail(&mut state, &self.username, self.address);
        self.settled = true;
    }

    /// The sign-in succeeded: clears the username's failures (not the address's).
    pub fn succeeded(mut self) {
        let mut state = self.throttle.state();
        self.throttle.release(&mut state, &self.username, self.address);
        if let Some(counter) = state.usernames.get_mut(&self.username) {
            counter.failures.clear();
        }
        self.settled = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = self.throttle.state();
            self.throttle.release(&mut state, &self.username, self.address);
        }
    }
}

/// The counter key of a username: lower case, at most 64 characters (longer names are never
/// valid, and bounding the key bounds the memory an attacker can use).
fn username_key(username: &str) -> String {
    username.chars().take(crate::users::MAX_USERNAME_CHARS).collect::<String>().to_lowercase()
}

/// The counter key of an address: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

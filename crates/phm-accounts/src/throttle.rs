//! Sign-in throttling, in the spirit of NCSC's advice to throttle rather than lock accounts and
//! OWASP's Authentication Cheat Sheet. Nobody can lock an account's owner out by failing to
//! sign in as them: guesses from one address slow that address down, and guesses spread over
//! many addresses slow the account down by at most a minute, which the owner, signing in from
//! an address they have signed in from before, does not wait for at all.
//!
//! Four counters of failed sign-ins, each forgetting failures older than its window:
//!
//! * **per username and address** (the name as typed, known or not, so the answer says nothing
//!   about whether it exists): after [`ThrottlePolicy::pair_free_failures`] failures (3) within
//!   [`ThrottlePolicy::pair_window`] (1 hour), each further attempt waits after the last
//!   failure, from [`ThrottlePolicy::pair_first_wait`] (5 s) doubling up to
//!   [`ThrottlePolicy::pair_max_wait`] (15 minutes). A success clears it.
//! * **per address** (IPv4 addresses one by one, IPv6 by /64, since one host usually holds a
//!   whole /64), for any names: after [`ThrottlePolicy::address_max_failures`] failures (20)
//!   within [`ThrottlePolicy::window`] (15 minutes) the address is refused until the oldest
//!   leaves the window. A success does not clear it, so one valid account cannot be used to
//!   reset an address that is guessing others' passwords.
//! * **per username** (from any address, against guessing spread over many addresses): after
//!   [`ThrottlePolicy::username_free_failures`] failures (10) within the window, each further
//!   attempt waits from [`ThrottlePolicy::username_first_wait`] (1 s) doubling up to
//!   [`ThrottlePolicy::username_max_wait`] (1 minute): about 25 guesses in 15 minutes at most.
//! * **everyone**: once [`ThrottlePolicy::global_max_failures`] failures (100) have happened
//!   within [`ThrottlePolicy::global_window`] (1 minute), attempts wait until the oldest of them
//!   leaves the window. This caps password spraying across many names and addresses.
//!
//! An address from which a username has signed in successfully (kept in memory for
//! [`ThrottlePolicy::trusted_for`], 30 days, or until the server restarts) is *trusted* for that
//! username: its attempts pass the per-username and everyone counters, so a distributed attack
//! on an account, or on every account, does not keep its owner out. Only its own
//! username-and-address counter (and its address's) apply.
//!
//! Attempts being checked (argon2 takes a while) count as failures until they are settled, so
//! a burst cannot pass together. A refused attempt does not check the password and is not
//! counted as a failure.

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
    /// Failures for one username from one address before attempts wait.
    pub pair_free_failures: usize,
    /// The first wait of a username at an address; it doubles with each further failure.
    pub pair_first_wait: Duration,
    /// The longest wait of a username at an address.
    pub pair_max_wait: Duration,
    /// How long a username's failures at an address are remembered.
    pub pair_window: Duration,
    /// Failures from one address, for any usernames, that refuse it until they age out.
    pub address_max_failures: usize,
    /// The window of the per-address and per-username counts.
    pub window: Duration,
    /// Failures for one username, from any addresses, before attempts wait.
    pub username_free_failures: usize,
    /// The first wait of a username; it doubles with each further failure.
    pub username_first_wait: Duration,
    /// The longest wait of a username (keep it short: everyone who is not at a trusted address,
    /// the owner included, waits it).
    pub username_max_wait: Duration,
    /// Failures across all sign-ins that make attempts wait.
    pub global_max_failures: usize,
    /// The window for the global count.
    pub global_window: Duration,
    /// How long an address a username signed in from stays trusted for it.
    pub trusted_for: Duration,
}

impl Default for ThrottlePolicy {
    /// See the module documentation.
    fn default() -> Self {
        Self {
            pair_free_failures: 3,
            pair_first_wait: Duration::from_secs(5),
            pair_max_wait: Duration::from_secs(15 * 60),
            pair_window: Duration::from_secs(60 * 60),
            address_max_failures: 20,
            window: Duration::from_secs(15 * 60),
            username_free_failures: 10,
            username_first_wait: Duration::from_secs(1),
            username_max_wait: Duration::from_secs(60),
            global_max_failures: 100,
            global_window: Duration::from_secs(60),
            trusted_for: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

/// Which counter refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleScope {
    /// Too many failures for this username from this address.
    UsernameAtAddress,
    /// Too many failures for this username from anywhere.
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
            ThrottleScope::UsernameAtAddress => "username_at_address",
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
/// counted; one that would go past a limit is asked to wait this long.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

/// How a counter's limit works.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// `free` failures, then each attempt waits `first · 2^(failures − free)`, at most `max`,
    /// after the last failure.
    Backoff { free: usize, first: Duration, max: Duration },
    /// At most `max` failures in the window; then wait until the oldest leaves it.
    Budget { max: usize },
}

#[derive(Debug, Default)]
struct Counter {
    failures: VecDeque<DateTime<Utc>>,
    in_flight: usize,
}

impl Counter {
    fn forget_old(&mut self, now: DateTime<Utc>, window: Duration) {
        let start = now - delta(window);
        while self.failures.front().is_some_and(|&t| t <= start) {
            self.failures.pop_front();
        }
    }

    /// The refusal in force now under `limit`, if any.
    fn refusal(&mut self, now: DateTime<Utc>, window: Duration, limit: Limit, scope: ThrottleScope) -> Option<Refusal> {
        self.forget_old(now, window);
        let failures = self.failures.len();
        let refuse = |retry_after| Some(Refusal { scope, retry_after });
        match limit {
            Limit::Backoff { free, first, max } => {
                if failures + self.in_flight < free {
                    return None;
                }
                if self.in_flight > 0 {
                    // Past the free attempts, one attempt at a time.
                    return refuse(IN_FLIGHT_WAIT);
                }
                let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(30);
                let wait = first.saturating_mul(1 << doublings).min(max);
                let last = *self.failures.back()?;
                let ready = last + delta(wait);
                (ready > now).then(|| Refusal { scope, retry_after: until(now, ready) })
            }
            Limit::Budget { max } => {
                if failures + self.in_flight < max {
                    return None;
                }
                match failures.checked_sub(max) {
                    Some(i) => refuse(until(now, self.failures[i] + delta(window)).max(Duration::from_millis(1))),
                    None => refuse(IN_FLIGHT_WAIT),
                }
            }
        }
    }

    fn fail(&mut self, now: DateTime<Utc>, window: Duration, keep: usize) {
        self.forget_old(now, window);
        self.failures.push_back(now);
        while self.failures.len() > keep {
            self.failures.pop_front();
        }
    }

    fn stale(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.in_flight == 0 && self.failures.back().is_none_or(|&t| t <= now - delta(window))
    }
}

#[derive(Debug, Default)]
struct State {
    pairs: HashMap<(String, IpAddr), Counter>,
    usernames: HashMap<String, Counter>,
    addresses: HashMap<IpAddr, Counter>,
    everyone: Counter,
    /// When each username last signed in from each address.
    trusted: HashMap<(String, IpAddr), DateTime<Utc>>,
    /// Until when each refusal already reported (username, address, scope) is in force.
    reported: HashMap<(String, Option<IpAddr>, ThrottleScope), DateTime<Utc>>,
}

/// The counters. `Send + Sync`; share one behind an `Arc` (or use the one in
/// [`Accounts`](crate::Accounts)).
#[derive(Debug)]
pub struct Throttle {
    clock: Arc<dyn Clock>,
    policy: ThrottlePolicy,
    state: Mutex<State>,
}

/// How many keys a map holds before stale ones are cleared out.
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

    /// Whether `username` has signed in from `address` within [`ThrottlePolicy::trusted_for`].
    pub fn is_trusted(&self, username: &str, address: Option<IpAddr>) -> bool {
        let Some(address) = address.map(address_key) else { return false };
        let now = self.clock.now();
        self.state()
            .trusted
            .get(&(username_key(username), address))
            .is_some_and(|&t| t > now - delta(self.policy.trusted_for))
    }

    /// Whether `refusal` of `username` from `address` is the first of its kind: `false` while a
    /// refusal by the same counter for the same username and address, already reported, is
    /// still in force. The audit trail records only the first, so an attacker hammering a
    /// throttled sign-in cannot grow the trail a line per request.
    pub fn first_report(&self, username: &str, address: Option<IpAddr>, refusal: &Refusal) -> bool {
        let now = self.clock.now();
        let key = (username_key(username), address.map(address_key), refusal.scope);
        let mut state = self.state();
        if state.reported.get(&key).is_some_and(|&until| until > now) {
            return false;
        }
        if state.reported.len() > PRUNE_ABOVE {
            state.reported.retain(|_, &mut until| until > now);
        }
        state.reported.insert(key, now + delta(refusal.retry_after));
        true
    }

    /// Starts a sign-in attempt for `username` from `address`, before the password is checked:
    /// refused if a counter says wait (the longest wait in force is returned). The attempt
    /// counts against the limits until it is settled with [`Attempt::failed`] or
    /// [`Attempt::succeeded`] (dropping it unsettled, say after a store error, counts nothing).
    pub fn attempt(&self, username: &str, address: Option<IpAddr>) -> Result<Attempt<'_>, Refusal> {
        let now = self.clock.now();
        let p = self.policy;
        let username = username_key(username);
        let address = address.map(address_key);
        let pair = address.map(|a| (username.clone(), a));
        let mut state = self.state();
        let trusted = pair.as_ref().and_then(|k| state.trusted.get(k)).is_some_and(|&t| t > now - delta(p.trusted_for));
        let mut refusals = Vec::new();
        let pair_limit = Limit::Backoff { free: p.pair_free_failures, first: p.pair_first_wait, max: p.pair_max_wait };
        if let Some(counter) = pair.as_ref().and_then(|k| state.pairs.get_mut(k)) {
            refusals.extend(counter.refusal(now, p.pair_window, pair_limit, ThrottleScope::UsernameAtAddress));
        }
        if let Some(counter) = address.and_then(|a| state.addresses.get_mut(&a)) {
            refusals.extend(counter.refusal(
                now,
                p.window,
                Limit::Budget { max: p.address_max_failures },
                ThrottleScope::Address,
            ));
        }
        if !trusted {
            let limit = Limit::Backoff {
                free: p.username_free_failures,
                first: p.username_first_wait,
                max: p.username_max_wait,
            };
            if let Some(counter) = state.usernames.get_mut(&username) {
                refusals.extend(counter.refusal(now, p.window, limit, ThrottleScope::Username));
            }
            refusals.extend(state.everyone.refusal(
                now,
                p.global_window,
                Limit::Budget { max: p.global_max_failures },
                ThrottleScope::Everyone,
            ));
        }
        // The longest wait; on a tie the first (the narrowest counter).
        if let Some(refusal) = refusals.into_iter().reduce(|a, b| if b.retry_after > a.retry_after { b } else { a }) {
            return Err(refusal);
        }
        if let Some(k) = &pair {
            state.pairs.entry(k.clone()).or_default().in_flight += 1;
        }
        if let Some(a) = address {
            state.addresses.entry(a).or_default().in_flight += 1;
        }
        state.usernames.entry(username.clone()).or_default().in_flight += 1;
        state.everyone.in_flight += 1;
        Ok(Attempt { throttle: self, username, address, settled: false })
    }

    /// Takes an attempt out of the in-flight counts.
    fn release(state: &mut State, username: &str, address: Option<IpAddr>) {
        let dec = |c: Option<&mut Counter>| {
            if let Some(c) = c {
                c.in_flight = c.in_flight.saturating_sub(1);
            }
        };
        if let Some(a) = address {
            dec(state.pairs.get_mut(&(username.to_owned(), a)));
            dec(state.addresses.get_mut(&a));
        }
        dec(state.usernames.get_mut(username));
        dec(Some(&mut state.everyone));
    }

    fn fail(&self, state: &mut State, username: &str, address: Option<IpAddr>) {
        let now = self.clock.now();
        let p = self.policy;
        // Keep no more failures than can matter: enough to reach the longest wait.
        let keep = |free: usize| free + 32;
        if let Some(a) = address {
            state.pairs.entry((username.to_owned(), a)).or_default().fail(
                now,
                p.pair_window,
                keep(p.pair_free_failures),
            );
            state.addresses.entry(a).or_default().fail(now, p.window, p.address_max_failures.max(1));
        }
        state.usernames.entry(username.to_owned()).or_default().fail(now, p.window, keep(p.username_free_failures));
        state.everyone.fail(now, p.global_window, p.global_max_failures.max(1));
        Self::prune(state, now, &p);
    }

    fn succeed(&self, state: &mut State, username: &str, address: Option<IpAddr>) {
        let now = self.clock.now();
        if let Some(a) = address {
            state.pairs.remove(&(username.to_owned(), a));
            state.trusted.insert((username.to_owned(), a), now);
        }
        Self::prune(state, now, &self.policy);
    }

    fn prune(state: &mut State, now: DateTime<Utc>, p: &ThrottlePolicy) {
        if state.pairs.len() > PRUNE_ABOVE {
            state.pairs.retain(|_, c| !c.stale(now, p.pair_window));
        }
        if state.usernames.len() > PRUNE_ABOVE {
            state.usernames.retain(|_, c| !c.stale(now, p.window));
        }
        if state.addresses.len() > PRUNE_ABOVE {
            state.addresses.retain(|_, c| !c.stale(now, p.window));
        }
        if state.trusted.len() > PRUNE_ABOVE {
            state.trusted.retain(|_, &mut t| t > now - delta(p.trusted_for));
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
    /// The password was wrong or the username unknown: counts a failure for the username at
    /// the address, the address, the username and everyone.
    pub fn failed(mut self) {
        let mut state = self.throttle.state();
        Throttle::release(&mut state, &self.username, self.address);
        self.throttle.fail(&mut state, &self.username, self.address);
        self.settled = true;
    }

    /// The sign-in succeeded: clears the username's failures at this address (not the
    /// address's, nor the username's elsewhere) and trusts the address for the username.
    pub fn succeeded(mut self) {
        let mut state = self.throttle.state();
        Throttle::release(&mut state, &self.username, self.address);
        self.throttle.succeed(&mut state, &self.username, self.address);
        self.settled = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = self.throttle.state();
            Throttle::release(&mut state, &self.username, self.address);
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

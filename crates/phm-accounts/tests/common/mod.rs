//! Shared test helpers: a fast hasher, a clock that moves when told, a fixed start time.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use phm_accounts::{Hashing, ManualClock};

/// argon2id with the smallest parameters: the same algorithm, fast enough for many tests.
/// (The production default is checked once, in `users.rs`.)
pub fn fast_hashing() -> Hashing {
    Hashing::with_params(8, 1, 1).expect("valid argon2 parameters")
}

/// 09:00 on 2 March 2026, a Monday.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single().expect("a valid time")
}

/// A manual clock at [`start`], and the same clock as the trait object the crate takes.
pub fn clock() -> (ManualClock, Arc<dyn phm_accounts::Clock>) {
    let clock = ManualClock::new(start());
    (clock.clone(), Arc::new(clock))
}

pub fn minutes(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(60 * n)
}

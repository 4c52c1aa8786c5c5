//! phm-stats's integration tests, linked as one test binary (`it`) rather than one per file:
//! `cargo test --workspace --test it` runs them with the other crates' (`-- MODULE::` picks one file).
//! Each file in this folder is a module below, with `#[path]` so that its own `mod common;`
//! still means `tests/common/mod.rs`. A new test file is added here (a workspace test fails
//! on a file that is not).

#[path = "compare.rs"]
mod compare;
#[path = "dsr.rs"]
mod dsr;
#[path = "funnel.rs"]
mod funnel;
#[path = "healthy_life_expectancy.rs"]
mod healthy_life_expectancy;
#[path = "isr.rs"]
mod isr;
#[path = "life_expectancy.rs"]
mod life_expectancy;
#[path = "mean.rs"]
mod mean;
#[path = "oracle.rs"]
mod oracle;
#[path = "proportion.rs"]
mod proportion;
#[path = "rate.rs"]
mod rate;
#[path = "sii.rs"]
mod sii;
#[path = "spc.rs"]
mod spc;

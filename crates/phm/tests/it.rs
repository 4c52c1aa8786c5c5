//! phm's integration tests, linked as one test binary (`it`) rather than one per file:
//! `cargo test --workspace --test it` runs them with the other crates' (`-- MODULE::` picks one file).
//! Each file in this folder is a module below, with `#[path]` so that its own `mod common;`
//! still means `tests/common/mod.rs`. A new test file is added here (a workspace test fails
//! on a file that is not).

#[path = "cli_cluster.rs"]
mod cli_cluster;
#[path = "cli_definitions.rs"]
mod cli_definitions;
#[path = "cli_ingest.rs"]
mod cli_ingest;
#[path = "cli_profiles.rs"]
mod cli_profiles;
#[path = "cli_stats.rs"]
mod cli_stats;
#[path = "cli_users.rs"]
mod cli_users;
#[path = "cli_web.rs"]
mod cli_web;
#[path = "crash.rs"]
mod crash;
#[path = "workspace.rs"]
mod workspace;

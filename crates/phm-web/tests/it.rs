//! phm-web's integration tests, linked as one test binary (`it`) rather than one per file:
//! `cargo test --workspace --test it` runs them with the other crates' (`-- MODULE::` picks one file).
//! Each file in this folder is a module below, with `#[path]` so that its own `mod common;`
//! still means `tests/common/mod.rs`. A new test file is added here (a workspace test fails
//! on a file that is not).

#[path = "exports.rs"]
mod exports;
#[path = "routes.rs"]
mod routes;
#[path = "security.rs"]
mod security;

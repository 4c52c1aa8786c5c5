//! phm-ingest's integration tests, linked as one test binary (`it`) rather than one per file:
//! `cargo test --workspace --test it` runs them with the other crates' (`-- MODULE::` picks one file).
//! Each file in this folder is a module below, with `#[path]` so that its own `mod common;`
//! still means `tests/common/mod.rs`. A new test file is added here (a workspace test fails
//! on a file that is not).

#[path = "bad_input.rs"]
mod bad_input;
#[path = "fhir_r4.rs"]
mod fhir_r4;
#[path = "fuzz.rs"]
mod fuzz;
#[path = "linkage.rs"]
mod linkage;
#[path = "omop.rs"]
mod omop;
#[path = "public_samples.rs"]
mod public_samples;
#[path = "reference_files.rs"]
mod reference_files;
#[path = "synthetic.rs"]
mod synthetic;
#[path = "trust.rs"]
mod trust;
#[path = "ukcore.rs"]
mod ukcore;

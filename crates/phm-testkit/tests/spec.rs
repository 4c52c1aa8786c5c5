//! The spec suite: every case of every file under `spec/` runs on the DataFusion engine and
//! on the reference evaluator, and `docs/language.md` is generated from the same files.
//!
//! `PHM_UPDATE_DOCS=1 cargo test -p phm-testkit --test spec` rewrites `docs/language.md`.

use std::path::PathBuf;

use phm_testkit::spec;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec"))
}

fn chapters() -> Vec<spec::Chapter> {
    match spec::load_dir(&root()) {
        Ok(c) => c,
        Err(errors) => panic!("the spec files do not parse:\n{}", errors.join("\n")),
    }
}

#[test]
fn every_spec_case_passes_on_both_engines() {
    let chapters = chapters();
    let lookups = phm_engine::lookups_for(None).expect("built-in reference data");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in chapters.iter().flat_map(|c| &c.files) {
        cases += file.cases.len();
        failures.extend(spec::run_file(file, &lookups, &runtime));
    }
    assert!(cases > 0, "no spec cases found under {}", root().display());
    assert!(failures.is_empty(), "{} of {cases} spec cases fail:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn generated_language_doc_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/language.md");
    let generated = spec::markdown(&chapters());
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        if std::env::var_os("PHM_UPDATE_DOCS").is_some() {
            std::fs::write(path, generated).expect("write docs/language.md");
        } else {
            panic!("docs/language.md is stale: run `PHM_UPDATE_DOCS=1 cargo test -p phm-testkit --test spec`");
        }
    }
}

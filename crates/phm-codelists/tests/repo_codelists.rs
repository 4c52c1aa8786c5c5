//! Every codelist in the repository's `codelists/` folder loads cleanly under the naming
//! convention of [`system_for_file_stem`].

use std::path::PathBuf;

use phm_codelists::{Codelist, system_for_file_stem};
use phm_core::codes::CodeSystem;

fn codelist_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../codelists");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("codelists folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_repository_codelist_loads_without_problems() {
    let files = codelist_files();
    assert!(files.len() > 50, "only {} codelists found", files.len());
    let mut problems = Vec::new();
    let mut systems = Vec::new();
    for path in &files {
        let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
        let system = system_for_file_stem(&stem);
        let list = Codelist::load(path, system, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.name(), stem);
        assert!(!list.is_empty(), "{stem} is empty");
        assert!(list.codes().iter().all(|c| list.term(c).is_some()), "{stem}: a code without a term");
        problems.extend(list.problems().iter().map(ToString::to_string));
        if !systems.contains(&system) {
            systems.push(system);
        }
    }
    assert!(problems.is_empty(), "problems in codelists/:\n{}", problems.join("\n"));
    for system in [CodeSystem::Snomed, CodeSystem::Icd10, CodeSystem::Dmd, CodeSystem::Opcs4] {
        assert!(systems.contains(&system), "no {} codelist checked", system.name());
    }
}

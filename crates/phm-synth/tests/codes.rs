//! The codes the generator writes (`reference/synth/codes.csv`) are well formed and belong to
//! the codelists (`codelists/<name>.csv`) the product's definitions count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use phm_core::codes::{CodeSystem, check_code};
use phm_synth::codes::{Code, Codes};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn all_codes() -> Vec<Code> {
    let mut codes: Vec<Code> = Codes::builtin().expect("codes.csv loads").all().cloned().collect();
    codes.sort_by(|a, b| a.concept.cmp(&b.concept));
    codes
}

/// The `code` column of `codelists/<name>.csv`, checking the OpenCodelists `code,term` header.
fn codelist(name: &str) -> Result<BTreeSet<String>, String> {
    let path = repo_root().join("codelists").join(format!("{name}.csv"));
    let mut reader = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
    if headers.iter().collect::<Vec<_>>() != ["code", "term"] {
        return Err(format!("{}: header must be `code,term`, found {headers:?}", path.display()));
    }
    let mut codes = BTreeSet::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("{}:{}: {e}", path.display(), i + 2))?;
        let (code, term) = (row.get(0).unwrap_or(""), row.get(1).unwrap_or(""));
        if code.is_empty() || term.trim().is_empty() {
            return Err(format!("{}:{}: empty code or term", path.display(), i + 2));
        }
        codes.insert(code.to_owned());
    }
    Ok(codes)
}

#[test]
fn every_generated_code_has_the_form_of_its_system() {
    let mut bad = Vec::new();
    for code in all_codes() {
        match CodeSystem::from_name(&code.system) {
            None => bad.push(format!("{}: unknown system `{}`", code.concept, code.system)),
            Some(system) => {
                if let Err(e) = check_code(system, &code.code) {
                    bad.push(format!("{} ({} {}): {}", code.concept, code.system, code.code, e.reason()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "reference/synth/codes.csv has malformed codes:\n{}", bad.join("\n"));
}

#[test]
fn every_generated_code_is_in_its_codelist() {
    let mut lists: BTreeMap<String, Result<BTreeSet<String>, String>> = BTreeMap::new();
    let mut bad = Vec::new();
    for code in all_codes().into_iter().filter(|c| !c.codelist.is_empty()) {
        let list = lists.entry(code.codelist.clone()).or_insert_with(|| codelist(&code.codelist));
        match list {
            Err(e) => bad.push(format!("{}: {e}", code.concept)),
            Ok(codes) if !codes.contains(&code.code) => {
                bad.push(format!("{} ({}) is missing from codelists/{}.csv", code.concept, code.code, code.codelist));
            }
            Ok(_) => {}
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_code_in_a_used_codelist_has_the_form_of_its_system() {
    let mut system_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for code in all_codes().into_iter().filter(|c| !c.codelist.is_empty()) {
        system_of.entry(code.codelist).or_default().insert(code.system);
    }
    let mut bad = Vec::new();
    for (name, systems) in &system_of {
        if systems.len() != 1 {
            bad.push(format!("codelist `{name}` is used for several systems: {systems:?}"));
            continue;
        }
        let Some(system) = systems.iter().next().and_then(|s| CodeSystem::from_name(s)) else { continue };
        match codelist(name) {
            Err(e) => bad.push(e),
            Ok(codes) => {
                for code in codes {
                    if let Err(e) = check_code(system, &code) {
                        bad.push(format!("codelists/{name}.csv: {code}: {}", e.reason()));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

//! Every definition shipped in `definitions/` loads with no diagnostics at all.

use std::path::{Path, PathBuf};

fn phm_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("definitions folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            phm_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "phm") {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_definition_loads_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions");
    let mut files = Vec::new();
    phm_files(&root, &mut files);
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let mut cohorts = 0;
    let mut indicators = 0;
    let mut measures = 0;
    for f in &files {
        let loaded = phm_lang::load(f);
        assert!(loaded.diagnostics.is_empty(), "{}:\n{}", f.display(), loaded.render());
        let d = loaded.definitions.expect("definitions");
        cohorts += d.cohorts.len();
        indicators += d.indicators.len();
        measures += d.measures.len();
    }
    assert!(
        cohorts >= 4 && indicators >= 12 && measures >= 2,
        "{cohorts} cohorts, {indicators} indicators, {measures} measures"
    );
}

#[test]
fn indicators_always_leave_out_people_with_a_national_data_opt_out() {
    let dir = tempfile::tempdir().expect("tmp");
    let loaded = phm_lang::load_str(
        "i.phm",
        "indicator i {\n  denominator = registered\n  numerator = age >= 18\n}\n",
        dir.path(),
    );
    let defs = loaded.definitions.expect("loads");
    let text = serde_json::to_string(&defs.indicators[0].denominator).expect("json");
    assert!(text.contains("\"opted_out\""), "{text}");
}

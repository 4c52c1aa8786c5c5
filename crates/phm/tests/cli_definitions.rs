//! `phm check`, `phm run` and `phm explain` from the command line: what an analyst sees.

use std::process::Command;

fn phm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).output().expect("run phm");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn repo(rel: &str) -> String {
    format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_reports_every_problem_with_its_place_and_runs_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("bad.phm");
    std::fs::write(&file, "codelist asthma = \"codelists/asthma.csv\"\nlet a = exists(condition where code in asthm)\nlet b = age > 2020-01-01\n").expect("write");
    // Codelist paths resolve from the file's folder or above: put one beside it.
    std::fs::create_dir_all(tmp.path().join("codelists")).expect("dir");
    std::fs::copy(repo("codelists/asthma.csv"), tmp.path().join("codelists/asthma.csv")).expect("copy");
    let (ok, out, err) = phm(&["check", &file.to_string_lossy()]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    let err = err.replace(&tmp.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!(err);
}

#[test]
fn the_shipped_definitions_check_cleanly() {
    let (ok, out, err) = phm(&["check", &repo("definitions")]);
    assert!(ok, "{err}");
    assert!(out.contains("no errors"), "{out}");
}

#[test]
fn run_writes_results_with_provenance_and_reproduces_them_as_at_a_snapshot() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path().to_string_lossy().into_owned();
    let (ok, _, err) = phm(&["synth", "--population", "600", "--seed", "3", "--out", &format!("{t}/drop"), "--quiet"]);
    assert!(ok, "{err}");
    let store = format!("{t}/store");
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--manifest", &format!("{t}/drop/manifest.json"), "--quiet"]);
    assert!(ok, "{err}");
    let (ok, out, err) = phm(&["run", "--store", &store, "--out", &format!("{t}/results"), &repo("definitions/cohorts/lung_health_check.phm"), &repo("definitions/indicators")]);
    assert!(ok, "{err}");
    assert!(out.contains("cohort lung_health_check: "), "{out}");
    assert!(out.contains("indicator hypertension_prevalence: "), "{out}");
    for f in ["lung_health_check/lung_health_check.csv", "lung_health_check/lung_health_check.parquet", "catalogue/indicators.csv", "catalogue/indicators.parquet", "catalogue/provenance.json"] {
        assert!(std::path::Path::new(&format!("{t}/results/{f}")).exists(), "{f}");
    }
    let provenance: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{t}/results/catalogue/provenance.json")).expect("read")).expect("json");
    assert_eq!(provenance["snapshot"], 1);
    assert_eq!(provenance["definition_sha256"].as_str().map(str::len), Some(64));
    assert!(provenance["codelists"]["hypertension"].is_string());
    let first = std::fs::read_to_string(format!("{t}/results/catalogue/indicators.csv")).expect("read");
    // The same snapshot again, named: the same numbers.
    let (ok, _, err) = phm(&["run", "--store", &store, "--as-at", "1", "--out", &format!("{t}/again"), &repo("definitions/indicators")]);
    assert!(ok, "{err}");
    assert_eq!(first, std::fs::read_to_string(format!("{t}/again/catalogue/indicators.csv")).expect("read"));
    // A snapshot that does not exist is named in the error.
    let (ok, _, err) = phm(&["run", "--store", &store, "--as-at", "9", "--out", &format!("{t}/x"), &repo("definitions/indicators")]);
    assert!(!ok);
    assert!(err.contains("No snapshot 9"), "{err}");
    // explain shows one scan per table.
    let (ok, plan, err) = phm(&["explain", "--store", &store, &repo("definitions/indicators")]);
    assert!(ok, "{err}");
    assert!(plan.contains("TableScan: observation"), "{plan}");
    // Measures: all periods in one pass give what one period at a time gives.
    let measures = repo("definitions/measures/trends.phm");
    let (ok, _, err) = phm(&["run", "--store", &store, "--out", &format!("{t}/one-pass"), &measures]);
    assert!(ok, "{err}");
    let (ok, _, err) = phm(&["run", "--store", &store, "--out", &format!("{t}/by-period"), "--separate-plans", &measures]);
    assert!(ok, "{err}");
    for m in ["hypertension_prevalence_quarterly.csv", "emergency_admissions_monthly.csv"] {
        let read = |dir: &str| std::fs::read_to_string(format!("{t}/{dir}/trends/{m}")).expect("read measure");
        let one = read("one-pass");
        assert!(one.lines().count() > 12, "{m}: every period has rows\n{one}");
        assert_eq!(one, read("by-period"), "{m}");
    }
}

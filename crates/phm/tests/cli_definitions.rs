//! `phm check`, `phm run` and `phm explain` from the command line: what an analyst sees.

use std::process::Command;

fn phm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).output().expect("run phm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    let (ok, out, err) = phm(&[
        "run",
        "--store",
        &store,
        "--out",
        &format!("{t}/results"),
        &repo("definitions/cohorts/lung_health_check.phm"),
        &repo("definitions/indicators"),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("cohort lung_health_check: "), "{out}");
    assert!(out.contains("indicator hypertension_prevalence: "), "{out}");
    for f in [
        "lung_health_check/lung_health_check.csv",
        "lung_health_check/lung_health_check.parquet",
        "catalogue/indicators.csv",
        "catalogue/indicators.parquet",
        "catalogue/provenance.json",
    ] {
        assert!(std::path::Path::new(&format!("{t}/results/{f}")).exists(), "{f}");
    }
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{t}/results/catalogue/provenance.json")).expect("read"))
            .expect("json");
    assert_eq!(provenance["snapshot"], 1);
    assert_eq!(provenance["format"], 1, "a typed, versioned manifest (phm_release::Manifest)");
    assert_eq!(provenance["definitions"][0]["sha256"].as_str().map(str::len), Some(64));
    assert!(provenance["definitions"][0]["codelists"]["hypertension"].is_string());
    let first = std::fs::read_to_string(format!("{t}/results/catalogue/indicators.csv")).expect("read");
    // The same snapshot again, named: the same numbers.
    let (ok, _, err) = phm(&[
        "run",
        "--store",
        &store,
        "--as-at",
        "1",
        "--out",
        &format!("{t}/again"),
        &repo("definitions/indicators"),
    ]);
    assert!(ok, "{err}");
    assert_eq!(first, std::fs::read_to_string(format!("{t}/again/catalogue/indicators.csv")).expect("read"));
    // A snapshot that does not exist is named in the error.
    let (ok, _, err) =
        phm(&["run", "--store", &store, "--as-at", "9", "--out", &format!("{t}/x"), &repo("definitions/indicators")]);
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
    let (ok, _, err) =
        phm(&["run", "--store", &store, "--out", &format!("{t}/by-period"), "--separate-plans", &measures]);
    assert!(ok, "{err}");
    for m in ["hypertension_prevalence_quarterly.csv", "emergency_admissions_monthly.csv"] {
        let read = |dir: &str| std::fs::read_to_string(format!("{t}/{dir}/trends/{m}")).expect("read measure");
        let one = read("one-pass");
        assert!(one.lines().count() > 12, "{m}: every period has rows\n{one}");
        assert_eq!(one, read("by-period"), "{m}");
    }
}

/// `phm check FILE` on `text` in a project folder (with `codelists/`): the exit status and
/// stderr with the folder written `[TMP]`.
fn check_text(name: &str, text: &str) -> (std::process::ExitStatus, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("codelists")).expect("dir");
    let file = tmp.path().join(name);
    std::fs::write(&file, text).expect("write");
    let out =
        Command::new(env!("CARGO_BIN_EXE_phm")).args(["check", &file.to_string_lossy()]).output().expect("run phm");
    (out.status, String::from_utf8_lossy(&out.stderr).replace(&tmp.path().display().to_string(), "[TMP]"))
}

#[test]
fn check_on_deeply_nested_definitions_ends_with_a_diagnostic_not_a_crash() {
    // Each of these once overflowed the stack: the process died of SIGABRT with no message.
    let cases = [
        ("brackets.phm", format!("let deep = {}age{} > 1\n", "(".repeat(3000), ")".repeat(3000)), "brackets.phm:1:76"),
        ("nots.phm", format!("let deep = {}registered\n", "not ".repeat(5000)), "nots.phm:1:264"),
        ("sums.phm", format!("let long = {} > 1\n", vec!["age"; 10_000].join(" + ")), "sums.phm:1:394"),
    ];
    for (name, text, place) in cases {
        let (status, err) = check_text(name, &text);
        assert_eq!(status.code(), Some(2), "{name}: {status:?} (a signal has no code)\n{err}");
        assert!(err.starts_with("error: nesting deeper than 64 levels\n"), "{name}:\n{err}");
        assert!(err.contains(&format!("--> [TMP]/{place}\n")), "{name}:\n{err}");
        assert!(err.ends_with("error: 1 error in the definitions: nothing was run\n"), "{name}:\n{err}");
    }
    // A chain of 10,000 `and`s is fine: it is built as a balanced tree.
    let (status, err) = check_text("wide.phm", &format!("let wide = {}\n", vec!["registered"; 10_000].join(" and ")));
    assert!(status.success(), "{status:?}\n{err}");
}

#[test]
fn check_shows_the_first_hundred_diagnostics_and_counts_the_rest() {
    let text: String = (0..40_000).map(|i| format!("let x{i} = agee > {i}\n")).collect();
    let (status, err) = check_text("many.phm", &text);
    assert_eq!(status.code(), Some(2));
    assert_eq!(err.matches("error: unknown name `agee`").count(), 100);
    assert!(
        err.contains("\n... and 39900 more errors not shown (the first 100 are above; fix them and check again)\n"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    assert!(
        err.ends_with("error: 40000 errors in the definitions: nothing was run\n"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
}

#[test]
fn definitions_nested_up_to_the_limits_run() {
    // The deepest definitions the language accepts go through the engine: lets built on lets
    // to a model 240 levels deep, and 60 levels of brackets.
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path().to_string_lossy().into_owned();
    let (ok, _, err) = phm(&["synth", "--population", "150", "--seed", "5", "--out", &format!("{t}/drop"), "--quiet"]);
    assert!(ok, "{err}");
    let store = format!("{t}/store");
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--manifest", &format!("{t}/drop/manifest.json"), "--quiet"]);
    assert!(ok, "{err}");
    let mut text = "index_date = 2024-03-31\nlet a0 = age > 1\n".to_owned();
    for i in 1..=240 {
        text += &format!("let a{i} = not a{}\n", i - 1);
    }
    text += &format!(
        "cohort deep {{\n  population = registered and a240 and {}age{} > 1\n}}\n",
        "(".repeat(60),
        ")".repeat(60)
    );
    text += "indicator deep_share \"Deep\" {\n  denominator = registered\n  numerator = a240\n}\n";
    std::fs::create_dir_all(format!("{t}/defs/codelists")).expect("dir");
    let file = format!("{t}/defs/deep.phm");
    std::fs::write(&file, text).expect("write");
    let (ok, out, err) = phm(&["run", "--store", &store, "--out", &format!("{t}/results"), &file]);
    assert!(ok, "{err}");
    assert!(out.contains("cohort deep: "), "{out}");
}

//! `phm ingest` and `phm snapshots` from the command line: what a user sees, snapshotted, and
//! the errors that name what to fix.

use std::process::Command;

fn phm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).output().expect("run phm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Lines that vary run to run (time, throughput, memory, temp paths, dates) are masked.
fn stable(text: &str, tmp: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace(tmp, "[TMP]");
            if l.contains(" MB in ") {
                "[size and time]".to_owned()
            } else if l.starts_with("Peak memory") {
                "[peak memory]".to_owned()
            } else if l.trim_start().starts_with(|c: char| c.is_ascii_digit())
                && l.contains(" 20")
                && l.contains("phm ingest")
            {
                let cols: Vec<&str> = l.split_whitespace().collect();
                format!("{} [committed] {}", cols[0], cols[3..].join(" "))
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ingest_a_drop_then_again_then_list_snapshots() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path().to_string_lossy().into_owned();
    let (ok, _, err) = phm(&["synth", "--population", "400", "--seed", "5", "--out", &format!("{t}/drop"), "--quiet"]);
    assert!(ok, "{err}");
    let manifest = format!("{t}/drop/manifest.json");
    let store = format!("{t}/store");
    let (ok, first, err) = phm(&["ingest", "--store", &store, "--manifest", &manifest, "--quiet"]);
    assert!(ok, "{err}");
    assert!(err.contains("Made a new pseudonymisation key"), "{err}");
    let (ok, again, _) = phm(&["ingest", "--store", &store, "--manifest", &manifest, "--quiet"]);
    assert!(ok);
    let (ok, list, _) = phm(&["snapshots", "--store", &store]);
    assert!(ok);
    insta::assert_snapshot!(format!(
        "$ phm ingest (first)\n{}\n\n$ phm ingest (again)\n{}\n\n$ phm snapshots\n{}",
        stable(&first, &t),
        stable(&again, &t),
        stable(&list, &t)
    ));
}

#[test]
fn ingest_errors_name_what_to_fix() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path().to_string_lossy().into_owned();
    let store = format!("{t}/store");
    // The key may not live inside the store.
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--key", &format!("{store}/k"), "--manifest", "x.json"]);
    assert!(!ok);
    assert!(err.contains("must be kept outside the store"), "{err}");
    // An unknown format lists the ones there are.
    std::fs::write(format!("{t}/a.csv"), "x\n1\n").expect("write");
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--source", "s", "--format", "xml", &format!("{t}/a.csv")]);
    assert!(!ok);
    assert!(err.contains("--format `xml` is not one of fhir, omop, csv, opt-out, social-care-csv"), "{err}");
    // A mapping that does not fit the file names the missing column and shows the header.
    let (ok, _, err) =
        phm(&["ingest", "--store", &store, "--source", "s", "--format", "imd2019", &format!("{t}/a.csv")]);
    assert!(!ok);
    assert!(err.contains("needs a column for `area_code`") && err.contains("the header is: x"), "{err}");
    assert!(err.contains("the store is unchanged"), "{err}");
}

//! Issue 16, "Trust": hostile and faulty input that ingest once got wrong. Each test builds its
//! own input and is named for the rule it proves.
//!
//! * A delimited file is read by physical lines: a stray quote costs its own line only, every
//!   line is accounted for, and line numbers stay exact after blank lines.
//! * A manifest is a promise: a file short of its declared count fails the load, and every
//!   path must be a regular file inside the manifest's folder.
//! * Placeholder NHS numbers link no one; one NHS number carried by two clearly different
//!   people does not merge them.
//! * Units are normalised before plausibility checks; a period cannot end before it starts;
//!   quarantine files are defused against spreadsheet formulas.

mod common;

use std::fs;
use std::path::Path;

use arrow_array::{Array as _, BooleanArray, StringArray};
use chrono::NaiveDate;
use phm_core::nhs_number::NhsNumber;
use phm_ingest::csv_source::Mapping;
use phm_ingest::report::{FileReport, IngestReport};
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};
use phm_store::Tree;

const HEADER: &str = "event_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,event_type,service_type,primary_support_reason,event_start_date,event_end_date";

/// The `n`th valid NHS number in the test range.
fn nhs(n: u64) -> String {
    (999_200_000 + n * 3..)
        .find_map(NhsNumber::from_first_nine)
        .map(|x| format!("{:010}", x.as_u64()))
        .unwrap_or_default()
}

/// A good social care row.
fn care_row(i: u64) -> String {
    format!("e{i},{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,2024-01-03", nhs(i))
}

fn input(dir: &Path, name: &str, bytes: &[u8]) -> InputFile {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write");
    InputFile { path, display: name.to_owned(), declared: None, resource_type: None }
}

fn council(files: Vec<InputFile>) -> SourceSpec {
    SourceSpec {
        name: "council".into(),
        source_type: SourceType::LocalAuthority,
        source_org: "E06000055".into(),
        format: Format::Csv(Mapping::builtin("social-care-csv").expect("mapping")),
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files,
    }
}

fn fhir(dir: &Path, name: &str, kind: SourceType, files: &[(&str, Vec<String>)]) -> SourceSpec {
    let folder = dir.join(name);
    fs::create_dir_all(&folder).expect("dir");
    let files =
        files.iter().map(|(file, lines)| input(&folder, file, format!("{}\n", lines.join("\n")).as_bytes())).collect();
    SourceSpec {
        name: name.into(),
        source_type: kind,
        source_org: name.to_uppercase(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files,
    }
}

fn patient(id: &str, nhs: &str, sex: &str, birth: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{nhs}"}}],"gender":"{sex}","birthDate":"{birth}"}}"#
    )
}

fn observation(id: &str, patient: &str, code: &str, value: f64, unit: &str) -> String {
    format!(
        r#"{{"resourceType":"Observation","id":"{id}","status":"final","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"{code}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"effectiveDateTime":"2024-01-01","valueQuantity":{{"value":{value},"unit":"{unit}"}}}}"#
    )
}

/// The quarantine of the latest snapshot as (file, line, field, kind, reason) rows.
fn rejects(store: &phm_store::Store) -> Vec<[String; 5]> {
    common::quarantine(store)
        .into_iter()
        .map(|r| [r[0].clone(), r[1].clone(), r[4].clone(), r[5].clone(), r[6].clone()])
        .collect()
}

fn only_file(report: &IngestReport) -> &FileReport {
    let files: Vec<&FileReport> = report.files().collect();
    assert_eq!(files.len(), 1);
    files[0]
}

// ---- Delimited files are read by lines ----------------------------------------------------

#[test]
fn a_stray_quote_costs_its_own_line_and_reading_resumes_on_the_next() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut text = format!("{HEADER}\n");
    for i in 1..=100 {
        let row = care_row(i);
        // Row 50 (line 51): a stray quote opens the given name and never closes.
        let row = if i == 50 { row.replace(",Ann,", ",\"Ann,") } else { row };
        text.push_str(&row);
        text.push('\n');
    }
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", text.as_bytes())])]);
    let f = only_file(&report);
    assert_eq!((f.read, f.accepted, f.rejected), (100, 99, 1));
    assert_eq!(f.lines, Some(101), "every physical line is counted");
    assert!(f.reconciles());
    let r = rejects(&store);
    assert_eq!(r.len(), 1);
    assert_eq!(
        [r[0][0].as_str(), r[0][1].as_str(), r[0][2].as_str(), r[0][3].as_str()],
        ["care.csv", "51", "given_name", "unbalanced quote"]
    );
    assert!(r[0][4].contains("resumes on line 52"), "{}", r[0][4]);
}

#[test]
fn a_stray_quote_on_the_last_line_is_reported_on_that_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text =
        format!("{HEADER}\n{}\n{}", care_row(1), care_row(2).replace(",Physical Support,", ",\"Physical Support,"));
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", text.as_bytes())])]);
    let f = only_file(&report);
    assert_eq!((f.read, f.accepted, f.rejected, f.lines), (2, 1, 1, Some(3)));
    assert_eq!(
        rejects(&store)[0][1..4],
        ["3".to_owned(), "primary_support_reason".to_owned(), "unbalanced quote".to_owned()]
    );
}

#[test]
fn a_quoted_field_may_hold_a_line_break_and_the_lines_after_it_keep_their_numbers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let multi = care_row(1).replace(",Physical Support,", ",\"Physical Support:\nPersonal Care\",");
    let bad = care_row(2).replace("2024-01-02,2024-01-03", "2024-13-02,");
    let text = format!("{HEADER}\n{multi}\n{bad}\n{}\n", care_row(3));
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", text.as_bytes())])]);
    let f = only_file(&report);
    assert_eq!((f.read, f.accepted, f.rejected), (3, 2, 1));
    assert_eq!((f.lines, f.continuation_lines), (Some(5), 1));
    assert!(f.reconciles());
    // The bad row is on line 4: the header, then a record over lines 2 and 3.
    assert_eq!(rejects(&store)[0][1..4], ["4".to_owned(), "event_start_date".to_owned(), "invalid date".to_owned()]);
}

#[test]
fn a_row_after_blank_lines_is_located_on_its_own_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = care_row(3).replace(",female,", ",X,");
    let text = format!("{HEADER}\n{}\n\n\n{}\n{bad}\n\n", care_row(1), care_row(2));
    let crlf = text.replace('\n', "\r\n");
    for (name, text) in [("lf.csv", text), ("crlf.csv", crlf)] {
        let store = common::store(&tmp.path().join(format!("store-{name}")));
        let report = common::ingest(&store, &[council(vec![input(tmp.path(), name, text.as_bytes())])]);
        let f = only_file(&report);
        assert_eq!((f.read, f.accepted, f.rejected, f.lines, f.non_record_lines), (3, 2, 1, Some(7), 4), "{name}");
        assert!(f.reconciles());
        assert_eq!(
            rejects(&store)[0][1..4],
            ["6".to_owned(), "gender".to_owned(), "value not allowed".to_owned()],
            "{name}"
        );
    }
}

#[test]
fn a_line_longer_than_the_limit_is_one_located_reject_not_a_huge_record() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut text = format!("{HEADER}\n{}\n", care_row(1)).into_bytes();
    text.extend(std::iter::repeat_n(b'x', phm_ingest::lines::MAX_LINE + 1));
    text.extend(format!("\n{}\n", care_row(2)).into_bytes());
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", &text)])]);
    let f = only_file(&report);
    assert_eq!((f.read, f.accepted, f.rejected, f.lines), (3, 2, 1, Some(4)));
    let r = rejects(&store);
    assert_eq!(r[0][1..4], ["3".to_owned(), String::new(), "line too long".to_owned()]);
}

#[test]
fn opt_out_lists_allow_no_record_over_two_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!("nhs_number\n\"{}\n{}\n\"{}\"\n", nhs(1), nhs(2), nhs(3));
    let spec = SourceSpec {
        name: "opt-out".into(),
        source_type: SourceType::National,
        source_org: "X26".into(),
        format: Format::OptOut,
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![input(tmp.path(), "opt_out.csv", text.as_bytes())],
    };
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[spec]);
    let f = only_file(&report);
    assert_eq!((f.read, f.accepted, f.rejected), (3, 2, 1));
    assert_eq!(rejects(&store)[0][1..4], ["2".to_owned(), "nhs_number".to_owned(), "unbalanced quote".to_owned()]);
}

// ---- Manifests ------------------------------------------------------------------------------

fn manifest(dir: &Path, entries: &[(&str, u64)]) -> std::path::PathBuf {
    let files: Vec<serde_json::Value> = entries
        .iter()
        .map(|(path, records)| {
            serde_json::json!({ "path": path, "source": "council", "source_org": "E06000055", "source_type": "local_authority",
                "format": "social-care-csv", "resource_type": "encounter", "records": records, "bytes": 0 })
        })
        .collect();
    let m =
        serde_json::json!({ "manifest_version": 1, "generator": "test", "extract_date": "2026-09-30", "files": files });
    let path = dir.join("manifest.json");
    fs::write(&path, serde_json::to_vec(&m).expect("json")).expect("write manifest");
    path
}

#[test]
fn a_file_short_of_its_declared_count_fails_the_load_and_commits_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let drop = tmp.path().join("drop");
    fs::create_dir_all(&drop).expect("dir");
    fs::write(drop.join("care.csv"), format!("{HEADER}\n{}\n{}\n", care_row(1), care_row(2))).expect("write");
    let store = common::store(&tmp.path().join("store"));
    let sources = phm_ingest::sources_from_manifest(&manifest(&drop, &[("care.csv", 3)])).expect("manifest");
    let err = phm_ingest::ingest(&store, &common::key(), &sources, &common::options(), &phm_ingest::Quiet)
        .expect_err("declared 3, holds 2");
    let text = err.to_string();
    assert!(text.contains("care.csv") && text.contains("declares 3") && text.contains("2 were read"), "{text}");
    assert!(store.latest().expect("read").is_none(), "nothing committed");
    // The same file declared right loads.
    let sources = phm_ingest::sources_from_manifest(&manifest(&drop, &[("care.csv", 2)])).expect("manifest");
    assert!(common::ingest(&store, &sources).snapshot.is_some());
}

#[test]
fn manifest_paths_must_name_regular_files_inside_the_manifest_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let drop = tmp.path().join("drop");
    fs::create_dir_all(drop.join("sub")).expect("dir");
    fs::write(tmp.path().join("outside.csv"), format!("{HEADER}\n{}\n", care_row(1))).expect("write");
    fs::write(drop.join("care.csv"), format!("{HEADER}\n{}\n", care_row(1))).expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.path().join("outside.csv"), drop.join("link.csv")).expect("symlink");
        std::os::unix::fs::symlink("/dev/zero", drop.join("zero.csv")).expect("symlink");
        std::os::unix::fs::symlink(drop.join("care.csv"), drop.join("inside-link.csv")).expect("symlink");
    }
    let fifo = drop.join("pipe.csv");
    let made_fifo = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let mut refused = vec![
        ("../outside.csv", "climbs out"),
        ("sub/../../outside.csv", "climbs out"),
        ("../../../../../../etc/passwd", "climbs out"),
        ("/etc/passwd", "absolute path"),
        ("sub", "a directory"),
        ("missing.csv", "cannot be opened"),
    ];
    if cfg!(unix) {
        refused.push(("link.csv", "outside the manifest's folder"));
        refused.push(("zero.csv", "outside the manifest's folder"));
    }
    if made_fifo {
        refused.push(("pipe.csv", "FIFO"));
    }
    for (entry, why) in refused {
        let err = phm_ingest::sources_from_manifest(&manifest(&drop, &[("care.csv", 1), (entry, 1)]))
            .expect_err(entry)
            .to_string();
        assert!(err.contains(&format!("`{entry}`")) && err.contains(why), "{entry}: {err}");
        assert!(!err.contains("root:"), "no content of the file in the error: {err}");
    }
    // A link that stays inside the folder is followed.
    if cfg!(unix) {
        let sources = phm_ingest::sources_from_manifest(&manifest(&drop, &[("inside-link.csv", 1)])).expect("inside");
        assert_eq!(sources[0].files.len(), 1);
    }
}

#[test]
fn only_regular_files_are_read_even_when_named_outside_a_manifest() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::store(&tmp.path().join("store"));
    let dev = InputFile { path: "/dev/zero".into(), display: "/dev/zero".into(), declared: None, resource_type: None };
    let err = phm_ingest::ingest(&store, &common::key(), &[council(vec![dev])], &common::options(), &phm_ingest::Quiet)
        .expect_err("a device");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(store.latest().expect("read").is_none());
}

// ---- NHS numbers ---------------------------------------------------------------------------

#[test]
fn placeholder_nhs_numbers_link_no_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    // Two unrelated people whose GP system filled the NHS number with 0000000000, and a third
    // with 9876543210: three people, none linked, all their data kept.
    let gp = fhir(
        d,
        "gp",
        SourceType::GpPractice,
        &[
            (
                "Patient.ndjson",
                vec![
                    patient("p1", "0000000000", "female", "1950-03-01"),
                    patient("p2", "0000000000", "male", "1987-11-02"),
                    patient("p3", "9876543210", "female", "2001-01-01"),
                ],
            ),
            (
                "Observation.ndjson",
                vec![
                    observation("o1", "p1", "60621009", 25.0, "kg/m2"),
                    observation("o2", "p2", "60621009", 31.0, "kg/m2"),
                ],
            ),
        ],
    );
    // A council row with 1111111111 cannot be kept under any person: it is quarantined.
    let care = council(vec![input(
        d,
        "care.csv",
        format!("{HEADER}\n{}\n", care_row(1).replace(&nhs(1), "1111111111")).as_bytes(),
    )]);
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &[gp, care]);
    assert_eq!(report.linkage["people"].as_u64(), Some(3));
    assert_eq!(report.linkage["unlinkable_local_ids"].as_u64(), Some(3));
    assert_eq!(report.linkage["linked_across_sources"].as_u64(), Some(0));
    let placeholders: Vec<(String, u64)> =
        report.files().map(|f| (f.path.clone(), f.placeholder_nhs_numbers)).collect();
    assert_eq!(
        placeholders,
        [("Patient.ndjson".to_owned(), 3), ("Observation.ndjson".to_owned(), 0), ("care.csv".to_owned(), 1)]
    );
    let r = rejects(&store);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0][2..4], ["nhs_number".to_owned(), "placeholder NHS number".to_owned()]);
    // Both observations were kept, each under its own person.
    let snap = store.latest().expect("read").expect("snapshot");
    let obs = snap.read_table(Tree::Analytical, "observation").expect("observation");
    let people: std::collections::HashSet<String> = obs
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name("person_id")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .expect("person_id");
            (0..a.len()).map(|i| a.value(i).to_owned()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(people.len(), 2);
}

#[test]
fn one_nhs_number_with_another_sex_and_birth_is_kept_apart_and_counted() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let shared = nhs(7);
    let gp = fhir(
        d,
        "gp",
        SourceType::GpPractice,
        &[("Patient.ndjson", vec![patient("a", &shared, "female", "1950-03-01")])],
    );
    // The trust's record carries the same number for a man born 37 years later, with a result.
    let acute = fhir(
        d,
        "acute",
        SourceType::AcuteTrust,
        &[
            ("Patient.ndjson", vec![patient("x", &shared, "male", "1987-11-02")]),
            ("Observation.ndjson", vec![observation("o1", "x", "60621009", 31.0, "kg/m2")]),
        ],
    );
    // The council holds the woman (same sex and birth) and, on another row, the man again.
    let care_text = format!(
        "{HEADER}\n{}\n{}\n",
        care_row(1).replace(&nhs(1), &shared).replace("1950-01-01", "1950-03-01"),
        care_row(2).replace(&nhs(2), &shared).replace("1950-01-01", "1987-11-02").replace(",female,", ",male,")
    );
    let care = council(vec![input(d, "care.csv", care_text.as_bytes())]);
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &[gp, acute, care]);
    assert_eq!(report.totals().2, 0, "nothing is rejected: both people's records are kept");
    assert_eq!(report.linkage["identity_conflicts_kept_apart"].as_u64(), Some(2));
    // The woman (GP and council) is one person; the man at the trust and the man at the
    // council are each kept apart (a source cannot tell that the other's man is the same).
    assert_eq!(report.linkage["people"].as_u64(), Some(3));
    assert_eq!(report.linkage["linked_across_sources"].as_u64(), Some(1));
    let conflicts: Vec<u64> = report.files().map(|f| f.identity_conflicts).collect();
    assert_eq!(conflicts, [0, 1, 0, 1]);
    // The trust's observation belongs to its own man, not to the woman.
    let snap = store.latest().expect("read").expect("snapshot");
    let key = common::key();
    let woman = key.person_id(NhsNumber::parse(&shared).expect("nhs")).to_hex();
    let obs = snap.read_table(Tree::Analytical, "observation").expect("observation");
    let pid =
        obs[0].column_by_name("person_id").and_then(|c| c.as_any().downcast_ref::<StringArray>()).expect("person_id");
    assert_ne!(pid.value(0), woman);
    let ps = snap.read_table(Tree::Analytical, "person_source").expect("person_source");
    let mut rows = Vec::new();
    for b in &ps {
        let p =
            b.column_by_name("person_id").and_then(|c| c.as_any().downcast_ref::<StringArray>()).expect("person_id");
        let s = b.column_by_name("source").and_then(|c| c.as_any().downcast_ref::<StringArray>()).expect("source");
        let l = b.column_by_name("linked").and_then(|c| c.as_any().downcast_ref::<BooleanArray>()).expect("linked");
        for i in 0..b.num_rows() {
            rows.push((s.value(i).to_owned(), p.value(i) == woman, l.value(i)));
        }
    }
    rows.sort();
    assert_eq!(
        rows,
        [
            ("acute".to_owned(), false, false),
            ("council".to_owned(), false, false),
            ("council".to_owned(), true, true),
            ("gp".to_owned(), true, true)
        ]
    );
}

// ---- Values ----------------------------------------------------------------------------------

#[test]
fn units_are_normalised_before_the_plausibility_check() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let obs = vec![
        observation("bmi-sup", "p", "60621009", 99999.0, "kg/m²"),
        observation("bmi-space", "p", "60621009", 99999.0, "kg m-2"),
        observation("bmi-ok", "p", "60621009", 24.5, "kg/m²"),
        observation("bp-ok", "p", "271649006", 120.0, "mm[Hg]"),
        observation("bp-kpa", "p", "271649006", 16.0, "kPa"),
        observation("bp-high", "p", "271649006", 5000.0, "mm Hg"),
        observation("bmi-furlong", "p", "60621009", 25.0, "furlong"),
        observation("bmi-kg", "p", "60621009", 25.0, "kg"),
    ];
    let gp = fhir(
        d,
        "gp",
        SourceType::GpPractice,
        &[("Patient.ndjson", vec![patient("p", &nhs(1), "female", "1950-03-01")]), ("Observation.ndjson", obs)],
    );
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &[gp]);
    let kinds: Vec<(String, String)> = rejects(&store).into_iter().map(|r| (r[1].clone(), r[3].clone())).collect();
    assert_eq!(
        kinds,
        [
            ("1", "implausible value"),
            ("2", "implausible value"),
            ("6", "implausible value"),
            ("7", "unknown unit"),
            ("8", "wrong unit")
        ]
        .map(|(l, k)| (l.to_owned(), k.to_owned()))
    );
    assert_eq!(report.totals(), (9, 4, 5));
}

#[test]
fn a_social_care_event_ending_before_it_starts_is_rejected_on_its_end_date() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        care_row(1),
        care_row(2).replace("2024-01-02,2024-01-03", "2024-01-03,2024-01-02")
    );
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", text.as_bytes())])]);
    assert_eq!(report.totals(), (2, 1, 1));
    let r = rejects(&store);
    assert_eq!(r[0][1..4], ["3".to_owned(), "event_end_date".to_owned(), "end before start".to_owned()]);
    assert!(r[0][4].contains("2024-01-02") && r[0][4].contains("2024-01-03"), "{}", r[0][4]);
}

#[test]
fn quarantine_files_carry_no_cell_a_spreadsheet_would_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Rows rejected (no NHS number) whose first cell, and so the quarantined record, is a formula.
    let mut text = format!("{HEADER}\n");
    for lead in ["=1+2", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1"] {
        text.push_str(&format!(
            "{lead},,Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,\n"
        ));
    }
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[council(vec![input(tmp.path(), "care.csv", text.as_bytes())])]);
    assert_eq!(report.totals(), (5, 0, 5));
    let rows = common::quarantine(&store);
    assert_eq!(rows.len(), 5);
    for r in &rows {
        for cell in r {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a live formula cell: {cell:?}");
        }
        assert!(r[7].starts_with('\''), "the record is kept, defused: {:?}", r[7]);
    }
}

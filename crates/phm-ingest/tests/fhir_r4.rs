//! FHIR R4 as other systems write it: every form of a choice element, coded values, medicines
//! that have stopped, times with UTC offsets, resources in any order, and a byte-order mark.
//! Each test loads hand-written fixtures (`fixtures/fhir_r4/`) as one partner's extract and
//! checks what the store holds and what the quarantine says, record by record (each fixture
//! record's id names the case it is).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::{Array, BooleanArray, Date32Array, Float64Array, Int16Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use phm_ingest::report::IngestReport;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};
use phm_store::{Store, Tree};

const SOURCE: &str = "partner-a";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fhir_r4").join(name)
}

/// Files given as on the command line: no declared resource type.
fn source(files: &[PathBuf]) -> SourceSpec {
    SourceSpec {
        name: SOURCE.into(),
        source_type: SourceType::AcuteTrust,
        source_org: "X99".into(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2026, 11, 24),
        files: files
            .iter()
            .map(|p| InputFile {
                path: p.clone(),
                display: p.file_name().expect("name").to_string_lossy().into_owned(),
                declared: None,
                resource_type: None,
            })
            .collect(),
    }
}

struct Loaded {
    _dir: tempfile::TempDir,
    store: Store,
    report: IngestReport,
}

fn load(files: &[PathBuf]) -> Loaded {
    let dir = tempfile::tempdir().expect("tmp");
    let store = common::store(&dir.path().join("store"));
    let report = common::ingest(&store, &[source(files)]);
    assert!(report.reconciles(), "read = accepted + rejected for every file");
    Loaded { _dir: dir, store, report }
}

/// Every row of a canonical table, each column shown as text (`""` for null).
fn rows(store: &Store, table: &str) -> Vec<BTreeMap<String, String>> {
    let snap = store.latest().expect("read").expect("a snapshot");
    let mut out = Vec::new();
    for (path, _) in snap.files(Tree::Analytical, table) {
        for batch in phm_store::read_parquet(&path).expect("parquet") {
            out.extend(batch_rows(&batch));
        }
    }
    out
}

fn batch_rows(batch: &RecordBatch) -> Vec<BTreeMap<String, String>> {
    let schema = batch.schema();
    (0..batch.num_rows())
        .map(|i| {
            schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, col)| {
                    let any = col.as_any();
                    let text = if col.is_null(i) {
                        String::new()
                    } else if let Some(a) = any.downcast_ref::<StringArray>() {
                        a.value(i).to_owned()
                    } else if let Some(a) = any.downcast_ref::<Date32Array>() {
                        a.value_as_date(i).map(|d| d.to_string()).unwrap_or_default()
                    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                        a.value(i).to_string()
                    } else if let Some(a) = any.downcast_ref::<Int16Array>() {
                        a.value(i).to_string()
                    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
                        a.value(i).to_string()
                    } else {
                        format!("<{}>", field.data_type())
                    };
                    (field.name().clone(), text)
                })
                .collect()
        })
        .collect()
}

/// Chosen columns of every row, sorted.
fn columns(store: &Store, table: &str, names: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows(store, table)
        .iter()
        .map(|r| {
            names.iter().map(|n| r.get(*n).cloned().unwrap_or_else(|| panic!("{table} has no column {n}"))).collect()
        })
        .collect();
    out.sort();
    out
}

/// Quarantined records by record id: (field, kind, reason).
fn rejected(store: &Store) -> BTreeMap<String, (String, String, String)> {
    common::quarantine(store)
        .into_iter()
        .map(|r| {
            (
                if r[3].is_empty() { format!("{}:{}", r[0], r[1]) } else { r[3].clone() },
                (r[4].clone(), r[5].clone(), r[6].clone()),
            )
        })
        .collect()
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_r4_form_of_performed_effective_onset_occurrence_and_value_is_read() {
    let l = load(&[fixture("choice_types.ndjson")]);
    // Procedures: performedDateTime, performedPeriod (its start; its end when it has only
    // that), each on the date it was recorded in its own offset.
    assert_eq!(
        columns(&l.store, "procedure", &["date", "code"]),
        vec![v(&["2010-11-20", "180325003"]), v(&["2019-07-03", "180325003"]), v(&["2021-05-02", "180325003"])]
    );
    // Observations: effectiveDateTime, effectivePeriod, effectiveInstant, effectiveTiming,
    // issued; valueQuantity, valueInteger, valueBoolean (0 for false) and valueString (kept,
    // with no value).
    assert_eq!(
        columns(&l.store, "observation", &["date", "code", "value", "unit"]),
        vec![
            v(&["2022-01-04", "8302-2", "170", "cm"]),
            v(&["2022-01-05", "8302-2", "171", "cm"]),
            v(&["2022-01-07", "8302-2", "172", "cm"]),
            v(&["2022-01-08", "8302-2", "173", "cm"]),
            v(&["2022-01-09", "8302-2", "174", "cm"]),
            v(&["2022-02-01", "72514-3", "3", ""]),
            v(&["2022-02-02", "11367-0", "0", ""]),
            v(&["2022-02-03", "8251-1", "", ""]),
        ]
    );
    // Conditions: onsetDateTime, onsetPeriod.start, and recordedDate where the onset is an age.
    assert_eq!(
        columns(&l.store, "condition", &["date"]),
        vec![v(&["2018-01-01"]), v(&["2018-03-01"]), v(&["2018-06-01"])]
    );
    assert_eq!(columns(&l.store, "immunisation", &["date", "code"]), vec![v(&["2021-10-01", "140"])]);
    assert_eq!(columns(&l.store, "medication", &["date", "end_date"]), vec![v(&["2020-01-01", ""])]);

    // Forms that give no date are named; two forms of one choice are refused.
    let q = rejected(&l.store);
    let kinds: BTreeMap<&str, (&str, &str)> =
        q.iter().map(|(id, (field, kind, _))| (id.as_str(), (field.as_str(), kind.as_str()))).collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("abatement-two-forms", ("Condition.abatement[x]", "FHIR structure")),
            ("occurrence-string", ("Immunization.occurrenceString", "not a date")),
            ("onset-string-no-recorded-date", ("Condition.onsetString", "not a date")),
            ("performed-age", ("Procedure.performedAge", "not a date")),
            ("performed-range", ("Procedure.performedRange", "not a date")),
            ("performed-string", ("Procedure.performedString", "not a date")),
            ("performed-two-forms", ("Procedure.performed[x]", "FHIR structure")),
            ("value-integer-implausible", ("Observation.valueInteger", "implausible value")),
            ("value-two-forms", ("Observation.value[x]", "FHIR structure")),
        ])
    );
    assert!(q["performed-string"].2.contains("`in childhood` is not a date"), "{:?}", q["performed-string"]);
    assert!(
        q["performed-two-forms"].2.contains("performedDateTime and performedString"),
        "{:?}",
        q["performed-two-forms"]
    );
    let f = &l.report.sources[0].files[0];
    assert_eq!((f.read, f.accepted, f.rejected), (26, 17, 9));
}

#[test]
fn coded_observation_values_are_kept_with_their_code_system() {
    let l = load(&[fixture("coded_values.ndjson")]);
    assert_eq!(
        columns(&l.store, "observation", &["date", "code", "code_system", "value", "value_code", "value_code_system"]),
        vec![
            // Smoking status coded LOINC with a SNOMED CT value (US Core).
            v(&["2021-03-01", "72166-2", "loinc", "", "266919005", "snomed"]),
            // The first coding in a system OpenPHM knows.
            v(&["2021-03-02", "72166-2", "loinc", "", "8517006", "snomed"]),
            // A UK-style finding: the code is the fact, and there is no value.
            v(&["2021-03-05", "77176002", "snomed", "", "", ""]),
            // A component's coded value, beside its sibling's quantity.
            v(&["2021-03-06", "8478-0", "loinc", "", "33586001", "snomed"]),
            v(&["2021-03-06", "8480-6", "loinc", "120", "", ""]),
        ]
    );
    let q = rejected(&l.store);
    assert_eq!(
        (q["value-in-unknown-system"].0.as_str(), q["value-in-unknown-system"].1.as_str()),
        ("Observation.valueCodeableConcept", "unknown code system")
    );
    assert_eq!(
        (q["value-bad-check-digit"].0.as_str(), q["value-bad-check-digit"].1.as_str()),
        ("Observation.valueCodeableConcept.coding.code", "invalid code")
    );
    assert_eq!(q.len(), 2);
}

#[test]
fn stopped_completed_and_cancelled_medicines_do_not_read_as_current() {
    let l = load(&[fixture("medicines.ndjson")]);
    let by_id: BTreeMap<(String, String), usize> =
        columns(&l.store, "medication", &["date", "end_date"]).into_iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry((r[0].clone(), r[1].clone())).or_default() += 1;
            m
        });
    assert_eq!(
        by_id,
        BTreeMap::from([
            // Requests authored 2010-07-27: stopped, completed and cancelled with no end end
            // on that day; an active one stays current; a validity period's end is the end.
            (("2010-07-27".into(), "2010-07-27".into()), 3),
            (("2010-07-27".into(), "2011-01-27".into()), 1),
            (("2010-07-27".into(), String::new()), 1),
            (("2010-07-27".into(), "2010-08-27".into()), 1),
            // Statements from 2015-03-01: completed with no end, stopped with one, active.
            (("2015-03-01".into(), "2015-03-01".into()), 1),
            (("2015-03-01".into(), "2015-09-01".into()), 1),
            (("2015-03-01".into(), String::new()), 1),
        ])
    );
    let q = rejected(&l.store);
    let kinds: BTreeMap<&str, &str> = q.iter().map(|(id, (_, kind, _))| (id.as_str(), kind.as_str())).collect();
    assert_eq!(
        kinds,
        BTreeMap::from([("request-entered-in-error", "entered in error"), ("statement-not-taken", "not taken")])
    );
}

#[test]
fn instants_are_compared_in_utc_so_an_encounter_across_a_clock_change_is_valid() {
    let l = load(&[fixture("clock_change.ndjson")]);
    assert_eq!(
        columns(&l.store, "encounter", &["encounter_id", "start_date", "end_date"]),
        vec![
            // 01:50 BST to 01:10 GMT is twenty minutes.
            v(&["partner-a/autumn-20-minutes", "2020-10-25", "2020-10-25"]),
            // 00:30 BST is 23:30 GMT the day before: the end's recorded date (the 24th) is
            // before the start's, so the start's date stands for both.
            v(&["partner-a/autumn-across-midnight", "2020-10-25", "2020-10-25"]),
            v(&["partner-a/spring-40-minutes", "2020-03-29", "2020-03-29"]),
        ]
    );
    assert_eq!(columns(&l.store, "medication", &["date", "end_date"]), vec![v(&["2020-10-25", "2020-10-25"])]);
    let q = rejected(&l.store);
    assert_eq!(q.len(), 1, "{q:?}");
    let (field, _, reason) = &q["really-ends-before-it-starts"];
    assert_eq!(field, "Encounter.period");
    assert!(reason.contains("end 2020-03-29T01:50:00+00:00 is before start 2020-03-29T03:10:00+01:00"), "{reason}");
}

#[test]
fn records_find_their_patient_wherever_it_is_in_the_source() {
    let l = load(&[fixture("order_mixed.ndjson"), fixture("order_later_patients.ndjson")]);
    // Records before their Patient in the same file, and one whose Patient is in a file
    // given after it, are all taken in.
    assert_eq!(columns(&l.store, "observation", &["date"]), vec![v(&["2022-01-04"]), v(&["2022-01-05"])]);
    assert_eq!(columns(&l.store, "condition", &["date"]), vec![v(&["2018-01-01"])]);
    assert_eq!(columns(&l.store, "encounter", &["start_date"]), vec![v(&["2020-01-01"])]);
    assert_eq!(columns(&l.store, "procedure", &["date"]), vec![v(&["2021-05-02"])]);
    assert_eq!(rows(&l.store, "person_source").len(), 2);
    // A record of a rejected Patient says where that Patient was.
    let q = rejected(&l.store);
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q["p3"].1, "date in the future");
    assert_eq!(q["refers-to-rejected-patient"].1, "unknown patient");
    assert!(
        q["refers-to-rejected-patient"].2.contains("which was rejected (line 7 of order_mixed.ndjson)"),
        "{:?}",
        q["refers-to-rejected-patient"]
    );
    // Every line is counted once, in the file it is in.
    let files: BTreeMap<&str, (u64, u64, u64)> =
        l.report.sources[0].files.iter().map(|f| (f.path.as_str(), (f.read, f.accepted, f.rejected))).collect();
    assert_eq!(files, BTreeMap::from([("order_later_patients.ndjson", (1, 1, 0)), ("order_mixed.ndjson", (8, 6, 2))]));
}

fn with_prefix(dir: &Path, name: &str, prefix: &[u8], body: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, [prefix, body].concat()).expect("write");
    path
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_file_is_skipped_and_one_elsewhere_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let patients = std::fs::read(fixture("bom_patients.ndjson")).expect("fixture");
    let observations = std::fs::read(fixture("bom_observations.ndjson")).expect("fixture");
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut files = vec![
        with_prefix(tmp.path(), "Patient.ndjson", BOM, &patients),
        with_prefix(tmp.path(), "Observation.ndjson", BOM, &observations),
    ];
    let l = load(&files);
    assert_eq!(l.report.totals(), (3, 3, 0), "the BOM is no part of either file's first record");
    assert_eq!(columns(&l.store, "observation", &["date"]), vec![v(&["2022-01-04"]), v(&["2022-01-05"])]);

    // Two files joined, the second with its BOM: that line is quarantined with a reason that
    // names the mark. A UTF-16 file is named as such.
    let (first, second) = observations.split_at(observations.iter().position(|b| *b == b'\n').expect("two lines") + 1);
    files[1] = with_prefix(tmp.path(), "Observation.ndjson", b"", &[first, BOM, second].concat());
    files.push(with_prefix(tmp.path(), "Other.ndjson", b"\xFF\xFE", b"{\0}\0"));
    let l = load(&files);
    let q = rejected(&l.store);
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q["Observation.ndjson:2"].1, "byte-order mark");
    assert!(q["Observation.ndjson:2"].2.contains("were files joined together?"), "{:?}", q["Observation.ndjson:2"]);
    assert_eq!(q["Other.ndjson:1"].1, "byte-order mark");
    assert!(q["Other.ndjson:1"].2.contains("UTF-16"), "{:?}", q["Other.ndjson:1"]);
}

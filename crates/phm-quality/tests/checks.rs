//! A small store built by hand, with known defects planted in it: each named check must count
//! exactly the rows planted, and a clean table must pass every check.
//!
//! People (extract date 2026-09-30 for every source):
//!
//! | person | GP (`gp-A`) | acute (`acute-X`) | planted |
//! |---|---|---|---|
//! | p1 | yes | yes | none: the clean person |
//! | p2 | yes | yes | died 2020-01-01; the acute trust records a diagnosis on 2021-05-05 |
//! | p3 | yes | | born 1896, alive: 130 at the extract |
//! | p4 | yes | | no ethnic category; a diagnosis with an invalid SNOMED CT code |
//! | p5 | | yes | in the acute trust only: no GP record |
//! | p6 | yes | yes | year of birth 1980 at the GP, 1981 at the acute trust |
//! | p7 | yes | | male, with a cervical screening procedure |

use chrono::NaiveDate;
use phm_core::schema::{
    CONDITION, ENCOUNTER, IMMUNISATION, MEDICATION, OBSERVATION, PERSON, PERSON_SOURCE, PROCEDURE, REGISTRATION, Table,
};
use phm_quality::{CheckResult, QualityReport, Status, assess};
use phm_store::{BatchBuilder, FileEntry, SourceEntry, Store, Transaction, Tree};
use serde_json::json;

const GP: &str = "gp-A";
const ACUTE: &str = "acute-X";

fn d(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
}

fn entry(source_type: &str, org: &str) -> SourceEntry {
    SourceEntry {
        loaded_in: 0,
        loaded_at: "2026-10-01T00:00:00Z".into(),
        extract_date: Some("2026-09-30".into()),
        fingerprint: format!("fp-{org}"),
        details: json!({ "format": "fhir", "source_type": source_type, "source_org": org }),
        files: Vec::new(),
    }
}

/// Writes one Parquet file of `table` for `owner` (a source, or `None` for the derived tables).
fn write(
    tx: &mut Transaction,
    table: &'static Table,
    owner: Option<&str>,
    rows: impl FnOnce(&mut BatchBuilder),
) -> FileEntry {
    let mut b = BatchBuilder::new(table);
    rows(&mut b);
    let mut w = tx.create_parquet(Tree::Analytical, table, owner.unwrap_or("derived")).expect("create");
    w.write(&b.finish().expect("batch")).expect("write");
    let file = w.finish().expect("finish");
    if owner.is_some() {
        tx.add_file(owner, file.clone());
    }
    file
}

#[expect(clippy::too_many_arguments, reason = "one row")]
fn person_source(
    b: &mut BatchBuilder,
    id: &str,
    source: &str,
    source_type: &str,
    org: &str,
    year: i16,
    sex: &str,
    ethnic: Option<&str>,
    practice: Option<&str>,
) {
    b.push_text(Some(id))
        .push_text(Some(source))
        .push_text(Some(source_type))
        .push_text(Some(org))
        .push_bool(Some(true))
        .push_small(Some(year))
        .push_small(Some(6))
        .push_text(Some(sex))
        .push_text(ethnic)
        .push_text(Some("SYNBE001"))
        .push_text(practice)
        .push_date(if id == "p2" { d("2020-01-01") } else { None })
        .push_date(d("2026-09-30"))
        .end_row();
}

fn ingest_summary(gp_rejected: u64) -> serde_json::Value {
    json!({
        "linkage": {},
        "ingest": [
            { "source": GP, "source_type": "gp_practice", "outcome": "loaded", "files": [
                { "path": "gp/A/Condition.ndjson", "format": "fhir-ndjson", "declared": 1000, "read": 1000, "accepted": 1000 - gp_rejected, "rejected": gp_rejected,
                  "reasons": { "invalid code": 15, "date in the future": 5 }, "record_types": {}, "rows": {} }
            ]},
            { "source": ACUTE, "source_type": "acute_trust", "outcome": "loaded", "files": [
                { "path": "acute/X/Condition.ndjson", "format": "fhir-ndjson", "declared": 12, "read": 10, "accepted": 10, "rejected": 0,
                  "reasons": {}, "record_types": {}, "rows": {} }
            ]}
        ]
    })
}

/// The store described at the top of this file.
fn build(root: &std::path::Path) -> Store {
    let store = Store::open_or_create(root, "fp").expect("store");
    let mut tx = store.begin().expect("begin");
    tx.replace_source(GP, entry("gp_practice", "SYNGP001"));
    tx.replace_source(ACUTE, entry("acute_trust", "RC9"));

    write(&mut tx, &PERSON_SOURCE, Some(GP), |b| {
        for (id, year, sex, ethnic) in [
            ("p1", 1950, "female", Some("A")),
            ("p2", 1940, "male", Some("A")),
            ("p3", 1896, "female", Some("B")),
            ("p4", 1990, "male", None),
            ("p6", 1980, "female", Some("C")),
            ("p7", 1985, "male", Some("A")),
        ] {
            person_source(b, id, GP, "gp_practice", "SYNGP001", year, sex, ethnic, Some("SYNGP001"));
        }
    });
    write(&mut tx, &REGISTRATION, Some(GP), |b| {
        for id in ["p1", "p2", "p3", "p4", "p6", "p7"] {
            b.push_text(Some(id))
                .push_text(Some("SYNGP001"))
                .push_date(d("2000-01-01"))
                .push_date(None)
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &ENCOUNTER, Some(GP), |b| {
        for (id, person, start, end) in [
            ("gp-A/e1", "p1", "2022-01-01", "2022-01-01"),
            ("gp-A/e2", "p3", "2022-02-10", "2022-02-01"),
            ("gp-A/e3", "p4", "2026-09-20", "2026-09-20"),
        ] {
            b.push_text(Some(id))
                .push_text(Some(person))
                .push_text(Some("gp"))
                .push_date(d(start))
                .push_date(d(end))
                .push_text(Some("11429006"))
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &CONDITION, Some(GP), |b| {
        // p1's hypertension twice under two ids; p4's code fails the Verhoeff check.
        for (person, code, date) in [
            ("p1", "38341003", "2020-03-01"),
            ("p1", "38341003", "2020-03-01"),
            ("p4", "38341004", "2021-01-01"),
            ("p6", "44054006", "2019-07-01"),
        ] {
            b.push_text(Some(person))
                .push_text(Some(code))
                .push_text(Some("snomed"))
                .push_date(d(date))
                .push_small(None)
                .push_text(None)
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &OBSERVATION, Some(GP), |b| {
        // BMI with a value, and one without.
        for (person, value) in [("p1", Some(25.0)), ("p3", None)] {
            b.push_text(Some(person))
                .push_text(Some("60621009"))
                .push_text(Some("snomed"))
                .push_date(d("2024-05-05"))
                .push_float(value)
                .push_text(Some("kg/m2"))
                .push_text(None)
                .push_text(None)
                .push_text(None)
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &MEDICATION, Some(GP), |b| {
        // The second course starts after the extract date.
        for (date, end) in [("2024-01-01", Some("2024-06-30")), ("2027-01-01", None)] {
            b.push_text(Some("p1"))
                .push_text(Some("39733011000001106"))
                .push_text(Some("dmd"))
                .push_date(d(date))
                .push_date(end.and_then(d))
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &IMMUNISATION, Some(GP), |b| {
        // The clean table.
        for (person, code, date, dose) in [
            ("p1", "86198006", "2025-10-01", None),
            ("p4", "38598009", "1992-05-01", Some(1)),
            ("p7", "86198006", "2025-10-03", None),
        ] {
            b.push_text(Some(person))
                .push_text(Some(code))
                .push_text(Some("snomed"))
                .push_date(d(date))
                .push_small(dose)
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });
    write(&mut tx, &PROCEDURE, Some(GP), |b| {
        // Cervical screening for a woman and for a man.
        for person in ["p1", "p7"] {
            b.push_text(Some(person))
                .push_text(Some("171149006"))
                .push_text(Some("snomed"))
                .push_date(d("2023-01-01"))
                .push_text(None)
                .push_text(Some("SYNGP001"))
                .push_text(Some(GP))
                .end_row();
        }
    });

    write(&mut tx, &PERSON_SOURCE, Some(ACUTE), |b| {
        for (id, year, sex) in
            [("p1", 1950, "female"), ("p2", 1940, "male"), ("p5", 1970, "female"), ("p6", 1981, "female")]
        {
            person_source(b, id, ACUTE, "acute_trust", "RC9", year, sex, Some("A"), Some("SYNGP001"));
        }
    });
    write(&mut tx, &ENCOUNTER, Some(ACUTE), |b| {
        for (id, person, start, end) in
            [("acute-X/s1", "p2", "2019-12-01", "2019-12-05"), ("acute-X/s2", "p5", "2026-09-25", "2026-09-27")]
        {
            b.push_text(Some(id))
                .push_text(Some(person))
                .push_text(Some("emergency_admission"))
                .push_date(d(start))
                .push_date(d(end))
                .push_text(Some("4525004"))
                .push_text(Some("RC9"))
                .push_text(Some(ACUTE))
                .end_row();
        }
    });
    write(&mut tx, &CONDITION, Some(ACUTE), |b| {
        // p2's diagnosis after death; p1's names a spell the trust did not send; p5's names none.
        for (person, code, date, spell) in [
            ("p2", "I10", "2021-05-05", Some("acute-X/s1")),
            ("p1", "E119", "2020-06-01", Some("acute-X/s9")),
            ("p5", "J441", "2026-09-25", None),
            ("p5", "I10", "2026-09-25", Some("acute-X/s2")),
        ] {
            b.push_text(Some(person))
                .push_text(Some(code))
                .push_text(Some("icd10"))
                .push_date(d(date))
                .push_small(Some(1))
                .push_text(spell)
                .push_text(Some("RC9"))
                .push_text(Some(ACUTE))
                .end_row();
        }
    });

    let person = write(&mut tx, &PERSON, None, |b| {
        for (id, year, sex, ethnic, death) in [
            ("p1", 1950, "female", Some("A"), None),
            ("p2", 1940, "male", Some("A"), d("2020-01-01")),
            ("p3", 1896, "female", Some("B"), None),
            ("p4", 1990, "male", None, None),
            ("p5", 1970, "female", Some("A"), None),
            ("p6", 1980, "female", Some("C"), None),
            ("p7", 1985, "male", Some("A"), None),
        ] {
            b.push_text(Some(id))
                .push_small(Some(year))
                .push_small(Some(6))
                .push_text(Some(sex))
                .push_text(ethnic)
                .push_text(ethnic.map(|_| "white"))
                .push_text(Some("SYNBE001"))
                .push_text(if id == "p5" { None } else { Some("SYNGP001") })
                .push_date(death)
                .push_bool(Some(false))
                .push_bool(Some(false))
                .end_row();
        }
    });
    tx.set_derived(vec![person]);
    tx.commit("test", ingest_summary(20)).expect("commit");
    store
}

fn find<'a>(report: &'a QualityReport, check: &str, source: &str, table: &str, field: &str) -> &'a CheckResult {
    let mut found =
        report.checks.iter().filter(|c| c.check == check && c.source == source && c.table == table && c.field == field);
    let first = found.next().unwrap_or_else(|| panic!("no result for {check} {source} {table}.{field}"));
    assert!(found.next().is_none(), "two results for {check} {source} {table}.{field}");
    first
}

/// Asserts a result's counts and status.
fn expect(report: &QualityReport, check: &str, source: &str, table: &str, field: &str, counts: (u64, u64, Status)) {
    let c = find(report, check, source, table, field);
    assert_eq!((c.violating, c.denominator, c.status), counts, "{check} {source} {table}.{field}: {}", c.description);
}

fn report() -> (tempfile::TempDir, QualityReport) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = build(&dir.path().join("store"));
    let snapshot = store.latest().expect("read").expect("a snapshot");
    let report = assess(&snapshot).expect("assess");
    (dir, report)
}

#[test]
fn each_planted_defect_is_counted_exactly_once() {
    let (_dir, r) = report();
    use Status::{Fail, Pass};
    // An event after death: p2's acute diagnosis (of the acute trust's 1 condition of a dead person).
    expect(&r, "plausibleDuringLife", ACUTE, "condition", "date", (1, 1, Fail));
    // A person aged 130: in the GP's record, and in the linked person table.
    expect(&r, "plausibleValueHigh", GP, "person_source", "year_of_birth", (1, 6, Fail));
    expect(&r, "plausibleValueHigh", "*", "person", "year_of_birth", (1, 7, Fail));
    // An end before its start: p3's GP encounter.
    expect(&r, "plausibleTemporalAfter", GP, "encounter", "end_date", (1, 3, Fail));
    // The same event twice under two ids: p1's hypertension.
    expect(&r, "plausibleUniqueEvent", GP, "condition", "", (1, 4, Fail));
    // A missing ethnic category: p4 (1 of 6 is 16.7%, over the 10% threshold).
    expect(&r, "measureValueCompleteness", GP, "person_source", "ethnic_category", (1, 6, Fail));
    // A person in an acute source with no GP record: p5.
    expect(&r, "measureGpLinkage", ACUTE, "person_source", "", (1, 4, Fail));
    // An invalid SNOMED CT code.
    expect(&r, "isValidCode", GP, "condition", "code", (1, 4, Fail));
    // And the others planted.
    expect(&r, "plausibleGender", GP, "procedure", "code", (1, 2, Fail));
    expect(&r, "plausibleBeforeExtractDate", GP, "medication", "date", (1, 2, Fail));
    expect(&r, "plausibleLinkedDemographics", GP, "person_source", "year_of_birth", (1, 6, Fail));
    expect(&r, "plausibleLinkedDemographics", ACUTE, "person_source", "year_of_birth", (1, 4, Fail));
    expect(&r, "plausibleLinkedDemographics", ACUTE, "person_source", "sex", (0, 4, Pass));
    expect(&r, "isForeignKey", ACUTE, "condition", "encounter_id", (1, 3, Fail));
    expect(&r, "measureValueCompleteness", ACUTE, "condition", "encounter_id", (1, 4, Fail));
    expect(&r, "measureValueCompleteness", GP, "observation", "value", (1, 2, Fail));
    expect(&r, "measureValueCompleteness", "*", "person", "practice_code", (1, 7, Fail));
    expect(&r, "quarantineRate", GP, "", "", (20, 1000, Fail));
    expect(&r, "ingestReconciliation", ACUTE, "", "", (1, 1, Fail));
    // Nothing planted here.
    expect(&r, "isForeignKey", GP, "condition", "person_id", (0, 4, Pass));
    expect(&r, "isForeignKey", GP, "registration", "practice_code", (0, 6, Pass));
    expect(&r, "plausibleDuringLife", GP, "registration", "start_date", (0, 1, Pass));
    expect(&r, "quarantineRate", ACUTE, "", "", (0, 10, Pass));
    expect(&r, "measureGpLinkage", ACUTE, "person_source", "", (1, 4, Fail));
    assert!(
        r.checks.iter().all(|c| !(c.check == "measureGpLinkage" && c.source == GP)),
        "a GP source is not asked whether it holds GP records"
    );
    // Timeliness: the acute trust's latest event is 5 days before its extract.
    let t = find(&r, "sourceTimeliness", ACUTE, "", "");
    assert_eq!((t.value, t.status), (5.0, Pass));
}

#[test]
fn a_clean_table_passes_every_check() {
    let (_dir, r) = report();
    let immunisation: Vec<&CheckResult> =
        r.checks.iter().filter(|c| c.source == GP && c.table == "immunisation").collect();
    assert!(immunisation.len() >= 7, "{immunisation:#?}");
    for c in immunisation {
        assert_eq!((c.violating, c.status), (0, Status::Pass), "{c:#?}");
    }
}

#[test]
fn the_csv_lists_every_result() {
    let (_dir, r) = report();
    insta::assert_snapshot!("checks_csv", r.to_csv());
}

#[test]
fn the_summary_names_the_worst_failures_per_kind_of_source() {
    let (_dir, r) = report();
    insta::assert_snapshot!("summary", r.summary());
}

#[test]
fn the_report_serialises_to_json_without_person_ids() {
    let (_dir, r) = report();
    let json = serde_json::to_string(&r).expect("json");
    let value: serde_json::Value = serde_json::from_str(&json).expect("parse");
    assert_eq!(value["snapshot"], 1);
    assert_eq!(value["checks"].as_array().map(Vec::len), Some(r.checks.len()));
    let gp = value["sources"].as_array().and_then(|s| s.iter().find(|s| s["source"] == GP)).expect("gp summary");
    assert_eq!((gp["read"].as_u64(), gp["rejected"].as_u64()), (Some(1000), Some(20)));
    assert_eq!(gp["top_reasons"][0]["reason"], "invalid code");
    for id in ["\"p1\"", "\"p2\"", "\"p5\""] {
        assert!(!json.contains(id), "the report holds a person id {id}");
    }
}

#[test]
fn a_source_loaded_in_an_earlier_snapshot_keeps_its_ingest_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = build(&dir.path().join("store"));
    // Snapshot 2 reloads only the acute trust; gp-A is carried forward from snapshot 1, whose
    // manifest holds its ingest report.
    let mut tx = store.begin().expect("begin");
    tx.replace_source(ACUTE, entry("acute_trust", "RC9"));
    write(&mut tx, &PERSON_SOURCE, Some(ACUTE), |b| {
        person_source(b, "p1", ACUTE, "acute_trust", "RC9", 1950, "female", Some("A"), Some("SYNGP001"))
    });
    let summary = json!({ "linkage": {}, "ingest": [
        { "source": GP, "outcome": "unchanged (as loaded in snapshot 1)", "files": [] },
        { "source": ACUTE, "outcome": "loaded", "files": [{ "path": "x", "read": 1, "accepted": 1, "rejected": 0 }] }
    ]});
    assert_eq!(tx.commit("test", summary).expect("commit"), 2);
    let r = assess(&store.latest().expect("read").expect("snapshot")).expect("assess");
    assert_eq!(r.snapshot, 2);
    expect(&r, "quarantineRate", GP, "", "", (20, 1000, Status::Fail));
    expect(&r, "quarantineRate", ACUTE, "", "", (0, 1, Status::Pass));
    // The acute trust now holds p1 only, who has a GP record.
    expect(&r, "measureGpLinkage", ACUTE, "person_source", "", (0, 1, Status::Pass));
}

//! A corpus of bad input: every record is accounted for, each rejection has a located reason,
//! and nothing panics. The quarantine is snapshotted so that a change of behaviour is reviewed.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use chrono::NaiveDate;
use phm_core::nhs_number::NhsNumber;
use phm_ingest::csv_source::Mapping;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};

fn nhs(n: u64) -> String {
    let mut first = 999_100_000 + n;
    loop {
        if let Some(x) = NhsNumber::from_first_nine(first) {
            return format!("{:010}", x.as_u64());
        }
        first += 1;
    }
}

fn patient(id: &str, nhs: &str, birth: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{nhs}"}}],"gender":"female","birthDate":"{birth}","address":[{{"postalCode":"MK40 1AA"}}]}}"#
    )
}

fn condition(id: &str, patient: &str, system: &str, code: &str, date: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","code":{{"coding":[{{"system":"{system}","code":"{code}"}}]}},"subject":{{"reference":"Patient/{patient}"}},"recordedDate":"{date}"}}"#
    )
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> InputFile {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write");
    InputFile { path, display: name.to_owned(), declared: None, resource_type: None }
}

const SNOMED: &str = "http://snomed.info/sct";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";

#[test]
fn every_bad_record_is_quarantined_with_a_located_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let bad_check = {
        let good = nhs(1);
        let last = good.as_bytes()[9] - b'0';
        format!("{}{}", &good[..9], (last + 1) % 10)
    };
    let mut patients: Vec<Vec<u8>> = vec![
        patient("p1", &nhs(1), "1960-01-01").into_bytes(),
        patient("p2", &bad_check, "1960-01-01").into_bytes(),
        br#"{"resourceType":"Patient","id":"p3","gen"#.to_vec(),
        br#"{"resourceType":"Patient","id":"p4","gender":5}"#.to_vec(),
        Vec::new(),
        b"   \t".to_vec(),
        {
            let mut v = patient("p5", &nhs(5), "1960-01-01").into_bytes();
            let at = v.iter().position(|b| *b == b'f').expect("gender value");
            v[at] = 0xff;
            v
        },
        patient("p1", &nhs(6), "1970-01-01").into_bytes(),
        patient("p7", &nhs(7), "2031-01-01").into_bytes(),
        {
            let mut v = br#"{"resourceType":"Patient","id":"p8","text":""#.to_vec();
            v.extend(std::iter::repeat_n(b'x', 17 * 1024 * 1024));
            v.extend(br#""}"#);
            v
        },
        br#"{"resourceType":"AllergyIntolerance","id":"a1"}"#.to_vec(),
        b"[1,2]".to_vec(),
        br#"{"id":"x"}"#.to_vec(),
        patient("p9", &nhs(9), "1990-05-01").into_bytes(),
    ];
    let mut patient_bytes = Vec::new();
    for p in patients.drain(..) {
        patient_bytes.extend(p);
        patient_bytes.push(b'\n');
    }
    let conditions = [
        condition("c1", "p1", SNOMED, "44054006", "2020-01-01"),
        condition("c2", "p1", SNOMED, "44054007", "2020-01-01"),
        condition("c3", "p1", "http://example.org/local-codes", "DM2", "2020-01-01"),
        condition("c4", "p1", SNOMED, "44054006", "2027-01-01"),
        condition("c5", "p1", SNOMED, "44054006", "1959-12-31"),
        condition("c6", "p2", SNOMED, "44054006", "2020-01-01"),
        condition("c7", "nobody", SNOMED, "44054006", "2020-01-01"),
        condition("c1", "p9", SNOMED, "44054006", "2020-01-01"),
        condition("c8", "p9", ICD10, "E11.9", "2020-01-01"),
        condition("c9", "p9", SNOMED, "44054006", "2020-02"),
    ]
    .join("\n");
    let fhir = SourceSpec {
        name: "bad-gp".into(),
        source_type: SourceType::GpPractice,
        source_org: "SYNGP001".into(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![
            file(d, "Patient.ndjson", &patient_bytes),
            file(d, "Condition.ndjson", conditions.as_bytes()),
            file(d, "Observation.ndjson", b""),
        ],
    };
    let header = "event_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,event_type,service_type,primary_support_reason,event_start_date,event_end_date\n";
    let mut social = header.as_bytes().to_vec();
    for row in [
        "e1,{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,2024-01-03".to_owned(),
        format!("e2,{bad_check},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,"),
        format!("e3,{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment", nhs(1)),
        format!("e4,{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,02/30/2024,", nhs(1)),
        format!("e1,{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,", nhs(1)),
        format!("e5,{},Ann,Smith,1950-01-01,X,MK40 1AA,assessment,,Physical Support,2024-01-02,", nhs(1)),
        format!("e6,{},Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2030-01-02,", nhs(1)),
        format!("e7,,Ann,Smith,1950-01-01,female,MK40 1AA,assessment,,Physical Support,2024-01-02,"),
    ] {
        social.extend(row.replace("{}", &nhs(1)).into_bytes());
        social.push(b'\n');
    }
    social.extend(format!("e8,{},Ann,Sm", nhs(1)).into_bytes());
    social.extend([0xff, 0xfe]);
    social.extend(b"th,1950-01-01,female,MK40 1AA,review,,Physical Support,2024-01-02,\n");
    let care = SourceSpec {
        name: "bad-council".into(),
        source_type: SourceType::LocalAuthority,
        source_org: "E06000055".into(),
        format: Format::Csv(Mapping::builtin("social-care-csv").expect("mapping")),
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![file(d, "social_care.csv", &social)],
    };
    let opt_out = SourceSpec {
        name: "bad-opt-out".into(),
        source_type: SourceType::National,
        source_org: "X26".into(),
        format: Format::OptOut,
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![file(
            d,
            "opt_out.csv",
            format!("nhs_number\n{}\n{bad_check}\n{}\nnot-a-number\n", nhs(9), nhs(9)).as_bytes(),
        )],
    };
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &[fhir, care, opt_out]);

    // Every record is accounted for, file by file.
    let mut counts = String::new();
    for f in report.files() {
        assert!(f.reconciles(), "{}: read {} ≠ accepted {} + rejected {}", f.path, f.read, f.accepted, f.rejected);
        let _ = writeln!(counts, "{}: read {}, accepted {}, rejected {}", f.path, f.read, f.accepted, f.rejected);
    }
    let mut text = counts;
    text.push_str("\nfile | line | record | field | kind | reason\n");
    let mut rows = common::quarantine(&store);
    rows.sort_by(|a, b| (&a[0], a[1].parse::<u64>().unwrap_or(0)).cmp(&(&b[0], b[1].parse::<u64>().unwrap_or(0))));
    for r in &rows {
        assert!(!r[6].is_empty(), "a reject without a reason: {r:?}");
        let _ = writeln!(text, "{} | {} | {} | {} | {} | {}", r[0], r[1], r[2], r[4], r[5], r[6]);
    }
    // CRLF line ends give the same lines.
    let crlf: Vec<u8> = social.iter().flat_map(|b| if *b == b'\n' { vec![b'\r', b'\n'] } else { vec![*b] }).collect();
    let care_crlf = SourceSpec {
        name: "bad-council-crlf".into(),
        source_type: SourceType::LocalAuthority,
        source_org: "E06000055".into(),
        format: Format::Csv(Mapping::builtin("social-care-csv").expect("mapping")),
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![file(d, "social_care_crlf.csv", &crlf)],
    };
    let crlf_store = common::store(&d.join("store-crlf"));
    let crlf_report = common::ingest(&crlf_store, &[care_crlf]);
    let lines = |rows: &[Vec<String>], file: &str| {
        rows.iter().filter(|r| r[0] == file).map(|r| (r[1].clone(), r[5].clone())).collect::<Vec<_>>()
    };
    assert_eq!(lines(&common::quarantine(&crlf_store), "social_care_crlf.csv"), lines(&rows, "social_care.csv"));
    assert_eq!(crlf_report.totals().0, 9);
    // The quarantine never carries a huge record whole.
    assert!(rows.iter().all(|r| r[7].len() < 4_096));
    insta::assert_snapshot!(text);
}

//! Property-based fuzzing of the NDJSON and CSV readers: for any bytes, nothing panics and
//! every line or row is accounted for (read = accepted + rejected). CI runs these with the
//! default case count; `PROPTEST_CASES=100000 cargo test -p phm-ingest --test it -- fuzz::` runs longer.

mod common;

use std::collections::HashMap;

use chrono::NaiveDate;
use phm_ingest::csv_source::Mapping;
use phm_ingest::fhir::{PatientIndex, process_block};
use phm_ingest::lines::BlockReader;
use phm_ingest::{FileCtx, Format, InputFile, SourceSpec, SourceType};
use proptest::prelude::*;

/// Cases to run: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const VALID: [&str; 4] = [
    r#"{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],"gender":"female","birthDate":"1960-01-01"}"#,
    r#"{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"subject":{"reference":"Patient/p1"},"recordedDate":"2020-01-01"}"#,
    r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":24.5,"unit":"kg/m2","code":"kg/m2"}}"#,
    r#"{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},"period":{"start":"2020-01-01"}}"#,
];

/// Valid lines with random damage: bytes replaced, inserted or removed.
fn damaged_lines() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..VALID.len(), prop::collection::vec((any::<u16>(), any::<u8>(), 0..3u8), 0..4)), 1..12)
        .prop_map(|lines| {
            let mut out = Vec::new();
            for (which, edits) in lines {
                let mut line = VALID[which].as_bytes().to_vec();
                for (at, byte, op) in edits {
                    let at = usize::from(at) % (line.len() + 1);
                    match op {
                        0 if at < line.len() => line[at] = byte,
                        1 => line.insert(at, byte),
                        _ if at < line.len() => {
                            line.remove(at);
                        }
                        _ => {}
                    }
                }
                out.extend(line);
                out.push(b'\n');
            }
            out
        })
}

fn check_ndjson(bytes: &[u8]) -> Result<(), TestCaseError> {
    let key = common::key();
    let postcodes = HashMap::new();
    let ctx = FileCtx {
        source: "fuzz",
        source_type: SourceType::GpPractice,
        source_org: "X",
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap_or_default(),
        key: &key,
        postcodes: &postcodes,
    };
    let mut index = PatientIndex::default();
    index.accepted.insert("p1".into(), (key.local_person_id("fuzz", "p1"), Default::default()));
    let expected_lines =
        bytes.split(|b| *b == b'\n').count() as u64 - u64::from(bytes.ends_with(b"\n") || bytes.is_empty());
    let mut reader = BlockReader::new(bytes);
    let mut read = 0;
    while let Some(block) = reader.next_block().map_err(|e| TestCaseError::fail(e.to_string()))? {
        let out = process_block(&ctx, &index, &block, phm_ingest::fhir::Pass::All);
        prop_assert_eq!(out.read, (out.accepted.len() + out.rejects.len()) as u64);
        for r in &out.rejects {
            prop_assert!(!r.reason.is_empty());
        }
        read += out.read;
    }
    prop_assert_eq!(read, expected_lines);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn ndjson_any_bytes_are_accounted_for(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_ndjson(&bytes)?;
    }

    #[test]
    fn ndjson_damaged_resources_are_accounted_for(bytes in damaged_lines()) {
        check_ndjson(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48).min(2_000), ..ProptestConfig::default() })]

    #[test]
    fn csv_any_rows_are_accounted_for(body in prop::collection::vec(prop_oneof![any::<u8>(), Just(b','), Just(b'\n'), Just(b'"'), Just(b'9')], 0..1024)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = b"event_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,event_type,service_type,primary_support_reason,event_start_date,event_end_date\n".to_vec();
        bytes.extend(&body);
        let path = dir.path().join("care.csv");
        std::fs::write(&path, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let spec = SourceSpec {
            name: "fuzz-care".into(),
            source_type: SourceType::LocalAuthority,
            source_org: "E06000055".into(),
            format: Format::Csv(Mapping::builtin("social-care-csv").ok_or_else(|| TestCaseError::fail("mapping"))?),
            extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
            files: vec![InputFile { path, display: "care.csv".into(), declared: None, resource_type: None }],
        };
        let store = common::store(&dir.path().join("store"));
        let report = phm_ingest::ingest(&store, &common::key(), &[spec], &common::options(), &phm_ingest::Quiet)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.reconciles());
        let quarantined = common::quarantine(&store).len() as u64;
        prop_assert_eq!(quarantined, report.totals().2);
    }
}

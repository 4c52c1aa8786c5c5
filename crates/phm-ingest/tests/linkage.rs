//! Linkage: the same person from several sources is one person, and disagreements are resolved
//! by the documented rule (ARCHITECTURE.md, "Linkage") and counted.

mod common;

use std::fs;

use arrow_array::{Array as _, BooleanArray, Int16Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use phm_core::nhs_number::NhsNumber;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};
use phm_store::Tree;

fn nhs(first_nine: u64) -> String {
    (first_nine..).find_map(NhsNumber::from_first_nine).map(|n| format!("{:010}", n.as_u64())).unwrap_or_default()
}

fn patient(id: &str, nhs: &str, sex: &str, birth: &str, ethnic: Option<&str>, postcode: &str) -> String {
    let ext = ethnic.map_or(String::new(), |c| {
        format!(r#""extension":[{{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory","valueCodeableConcept":{{"coding":[{{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland","code":"{c}"}}]}}}}],"#)
    });
    format!(
        r#"{{"resourceType":"Patient","id":"{id}",{ext}"identifier":[{{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{nhs}"}}],"gender":"{sex}","birthDate":"{birth}","address":[{{"use":"home","postalCode":"{postcode}"}}]}}"#
    )
}

fn registration(id: &str, patient: &str, practice: &str, start: &str, end: Option<&str>) -> String {
    let end = end.map_or(String::new(), |e| format!(r#","end":"{e}""#));
    format!(
        r#"{{"resourceType":"EpisodeOfCare","id":"{id}","status":"active","patient":{{"reference":"Patient/{patient}"}},"managingOrganization":{{"identifier":{{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"{practice}"}}}},"period":{{"start":"{start}"{end}}}}}"#
    )
}

fn fhir_source(dir: &std::path::Path, name: &str, kind: SourceType, org: &str, files: &[(&str, String)]) -> SourceSpec {
    let folder = dir.join(name);
    fs::create_dir_all(&folder).expect("dir");
    let files = files
        .iter()
        .map(|(file, text)| {
            let path = folder.join(file);
            fs::write(&path, format!("{text}\n")).expect("write");
            InputFile { path, display: format!("{name}/{file}"), declared: None, resource_type: None }
        })
        .collect();
    SourceSpec {
        name: name.into(),
        source_type: kind,
        source_org: org.into(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files,
    }
}

fn text<'a>(b: &'a RecordBatch, name: &str) -> &'a StringArray {
    b.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<StringArray>()).expect("text column")
}

#[test]
fn one_person_from_three_sources_with_conflicts_resolved_by_the_rule() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let (ann, bob) = (nhs(999_400_001), nhs(999_400_101));
    let sources = vec![
        // Ann moved from practice A to practice B in 2024; practice A's old record says male
        // and an old postcode. The acute trust states her ethnic category; the GPs do not.
        fhir_source(
            d,
            "gp-A",
            SourceType::GpPractice,
            "A",
            &[
                ("Patient.ndjson", patient("a1", &ann, "male", "1960-05-01", None, "LU1 1AA")),
                ("EpisodeOfCare.ndjson", registration("r1", "a1", "A", "2000-01-01", Some("2024-03-31"))),
            ],
        ),
        fhir_source(
            d,
            "gp-B",
            SourceType::GpPractice,
            "B",
            &[
                (
                    "Patient.ndjson",
                    [
                        patient("b1", &ann, "female", "1960-05-01", None, "MK40 1AA"),
                        patient("b2", &bob, "male", "1980-01-01", Some("A"), "MK40 1AA"),
                    ]
                    .join("\n"),
                ),
                (
                    "EpisodeOfCare.ndjson",
                    [
                        registration("r1", "b1", "B", "2024-04-01", None),
                        registration("r2", "b2", "B", "2010-01-01", None),
                    ]
                    .join("\n"),
                ),
            ],
        ),
        fhir_source(
            d,
            "acute-X",
            SourceType::AcuteTrust,
            "X",
            &[("Patient.ndjson", patient("x1", &ann, "female", "1961-05-01", Some("H"), "MK40 1AA"))],
        ),
    ];
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &sources);
    assert_eq!(report.totals().2, 0);
    assert_eq!(report.linkage["people"].as_u64(), Some(2));
    assert_eq!(report.linkage["linked_across_sources"].as_u64(), Some(1));
    assert_eq!(report.linkage["conflicts"]["sex"].as_u64(), Some(1));
    assert_eq!(report.linkage["conflicts"]["year_of_birth"].as_u64(), Some(1));
    assert_eq!(report.linkage["conflicts"].get("ethnic_category"), None, "only one source states it");

    let snap = store.latest().expect("read").expect("snapshot");
    let person = snap.read_table(Tree::Analytical, "person").expect("person");
    let b = &person[0];
    let key = common::key();
    let ann_id = key.person_id(NhsNumber::parse(&ann).expect("nhs")).to_hex();
    let row = (0..b.num_rows()).find(|&i| text(b, "person_id").value(i) == ann_id).expect("Ann is one row");
    let year = b.column_by_name("year_of_birth").and_then(|c| c.as_any().downcast_ref::<Int16Array>()).expect("year");
    // Current practice B's record is primary: female, born 1960 (not the trust's 1961).
    assert_eq!(text(b, "sex").value(row), "female");
    assert_eq!(year.value(row), 1960);
    assert_eq!(text(b, "practice_code").value(row), "B");
    // A stated category (the trust's) is taken over the GPs' "not stated".
    assert_eq!(text(b, "ethnic_category").value(row), "H");
    let opt = b
        .column_by_name("national_data_opt_out")
        .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
        .expect("opt-out");
    assert!(!opt.value(row));
    assert_eq!(text(b, "ethnic_group_5").value(row), "asian");
    assert!(b.column_by_name("date_of_death").expect("death").is_null(row));
}

//! Reference files in their published layouts: IMD 2019 File 1, the ePCN list and an ONS
//! Postcode Directory extract; the postcode lookup gives people their area.

mod common;

use std::fs;

use arrow_array::{Array as _, StringArray};
use chrono::NaiveDate;
use phm_ingest::csv_source::Mapping;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};
use phm_store::Tree;

fn source(
    dir: &std::path::Path,
    name: &str,
    format: &str,
    file: &str,
    text: &str,
    source_type: SourceType,
) -> SourceSpec {
    let path = dir.join(file);
    fs::write(&path, text).expect("write");
    SourceSpec {
        name: name.into(),
        source_type,
        source_org: name.into(),
        format: Format::Csv(Mapping::builtin(format).expect("built-in mapping")),
        extract_date: NaiveDate::from_ymd_opt(2026, 9, 30),
        files: vec![InputFile { path, display: file.into(), declared: None, resource_type: None }],
    }
}

#[test]
fn published_reference_layouts_load_and_postcodes_give_areas() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let imd = "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile\n\
E01015650,Luton 001A,E06000032,Luton,\"6,120\",2\n\
E01017540,Bedford 001A,E06000055,Bedford,30114,10\n\
E01017541,Bedford 001B,E06000055,Bedford,12,11\n";
    let epcn = "Partner Organisation Code,Partner Name,Practice Parent Sub ICB Loc Code,Practice Parent Sub ICB Loc Name,PCN Code,PCN Name,Practice to PCN Relationship Start Date,Practice to PCN Relationship End Date\n\
E81001,THE ELMS PRACTICE,M1J4Y,NHS BEDFORDSHIRE LUTON AND MILTON KEYNES ICB - M1J4Y,U12345,LUTON NORTH PCN,01/07/2019,\n\
E81002,OAK SURGERY,M1J4Y,NHS BEDFORDSHIRE LUTON AND MILTON KEYNES ICB - M1J4Y,U12345,LUTON NORTH PCN,01/07/2019,31/03/2024\n";
    let onspd = "pcd,pcd2,pcds,dointr,doterm,laua,lsoa21cd,lsoa11\n\
LU1 1AA ,LU1  1AA,LU1 1AA,199801,,E06000032,E01015650,E01015650\n\
MK401AA,MK40 1AA,MK40 1AA,199801,,E06000055,E01017540,E01017540\n";
    let nhs = phm_core::nhs_number::NhsNumber::from_first_nine(999_300_001)
        .or_else(|| phm_core::nhs_number::NhsNumber::from_first_nine(999_300_002))
        .expect("number");
    let care = format!(
        "event_id,nhs_number,given_name,family_name,date_of_birth,gender,postcode,event_type,service_type,primary_support_reason,event_start_date,event_end_date\n\
e1,{:010},Ann,Lee,1950-03-01,F,lu11aa,assessment,,Physical Support,2024-01-02,\n",
        nhs.as_u64()
    );
    let sources = vec![
        source(d, "social-care-luton", "social-care-csv", "care.csv", &care, SourceType::LocalAuthority),
        source(d, "imd2019", "imd2019", "File_1_IMD2019.csv", imd, SourceType::Reference),
        source(d, "epcn", "epcn", "ePCN.csv", epcn, SourceType::Reference),
        source(d, "onspd", "postcode-lookup-csv", "ONSPD.csv", onspd, SourceType::Reference),
    ];
    let store = common::store(&d.join("store"));
    let report = common::ingest(&store, &sources);
    assert!(report.reconciles());
    let by_file: Vec<(String, u64, u64)> = report.files().map(|f| (f.path.clone(), f.accepted, f.rejected)).collect();
    assert!(by_file.contains(&("File_1_IMD2019.csv".into(), 2, 1)), "{by_file:?}");
    assert!(by_file.contains(&("ePCN.csv".into(), 2, 0)), "{by_file:?}");
    assert!(by_file.contains(&("ONSPD.csv".into(), 2, 0)), "{by_file:?}");
    assert!(by_file.contains(&("care.csv".into(), 1, 0)), "{by_file:?}");
    let q = common::quarantine(&store);
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0][4].as_str(), q[0][5].as_str()),
        ("Index of Multiple Deprivation (IMD) Decile", "implausible value")
    );

    // The council's record names a postcode; the lookup (loaded first, whatever the order
    // given) places the person in their LSOA.
    let snap = store.latest().expect("read").expect("snapshot");
    let person = snap.read_table(Tree::Analytical, "person").expect("person");
    let area =
        person[0].column_by_name("area_code").expect("column").as_any().downcast_ref::<StringArray>().expect("text");
    assert_eq!(area.value(0), "E01015650");
    let pcn = snap.read_table(Tree::Analytical, "practice_pcn").expect("pcn");
    let end = pcn[0].column_by_name("end_date").expect("end");
    assert_eq!(end.null_count(), 1);
}

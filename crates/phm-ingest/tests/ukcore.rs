//! NHS England's UK Core example resources (`../shared/reference/fhir-ukcore-examples/`) as a
//! Bulk export: each is taken in or rejected with a reason a reader can check. The outcome of
//! every example is snapshotted.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use chrono::NaiveDate;
use phm_ingest::{Format, InputFile, SourceSpec, SourceType};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/fhir-ukcore-examples/json")
}

#[test]
fn uk_core_examples_are_taken_in_or_rejected_with_reasons() {
    let dir = examples_dir();
    let mut by_type: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!("{}: {e} (the shared reference material must sit beside the checkout)", dir.display())
        })
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    for path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let value: serde_json::Value = serde_json::from_slice(&fs::read(path).expect("read")).expect("example is JSON");
        let rt = value["resourceType"].as_str().expect("resourceType").to_owned();
        let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
        by_type.entry(rt).or_default().push((name, serde_json::to_string(&value).expect("compact")));
    }
    assert_eq!(by_type.values().map(Vec::len).sum::<usize>(), 45, "the examples folder holds 45 resources");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut files = Vec::new();
    let mut line_names: BTreeMap<(String, u64), String> = BTreeMap::new();
    for (rt, resources) in &by_type {
        let file = format!("{rt}.ndjson");
        let text: String = resources.iter().map(|(_, json)| format!("{json}\n")).collect();
        for (i, (name, _)) in resources.iter().enumerate() {
            line_names.insert((file.clone(), i as u64 + 1), name.clone());
        }
        fs::write(tmp.path().join(&file), text).expect("write");
        files.push(InputFile {
            path: tmp.path().join(&file),
            display: file,
            declared: Some(resources.len() as u64),
            resource_type: Some(rt.clone()),
        });
    }
    let spec = SourceSpec {
        name: "ukcore-examples".into(),
        source_type: SourceType::AcuteTrust,
        source_org: "X99".into(),
        format: Format::Fhir,
        extract_date: NaiveDate::from_ymd_opt(2026, 11, 24),
        files,
    };
    let store = common::store(&tmp.path().join("store"));
    let report = common::ingest(&store, &[spec]);
    assert!(report.reconciles());
    let mut rejected: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for r in common::quarantine(&store) {
        let line: u64 = r[1].parse().expect("line");
        let name = line_names.get(&(r[0].clone(), line)).cloned().unwrap_or_else(|| format!("{} line {line}", r[0]));
        rejected.insert(name, (r[4].clone(), r[5].clone(), r[6].clone()));
    }
    let mut text = String::new();
    let (read, accepted, refused) = report.totals();
    let _ = writeln!(text, "read {read}, accepted {accepted}, rejected {refused}\n");
    for name in line_names.values() {
        match rejected.get(name) {
            Some((field, kind, reason)) => {
                let _ = writeln!(text, "✗ {name}: {kind} at {field}: {reason}");
            }
            None => {
                let _ = writeln!(text, "✓ {name}");
            }
        }
    }
    insta::assert_snapshot!(text);
}

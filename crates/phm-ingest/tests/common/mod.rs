//! Shared helpers for the ingest tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use phm_identity::PseudonymKey;
use phm_ingest::report::IngestReport;
use phm_ingest::{Options, Quiet, SourceSpec};
use phm_store::Store;

pub fn key() -> PseudonymKey {
    PseudonymKey::from_bytes([42; 32])
}

pub fn options() -> Options {
    Options { today: NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"), allow_older: false, note: "test".into() }
}

pub fn store(dir: &Path) -> Store {
    Store::open_or_create(dir, &key().fingerprint()).expect("store")
}

pub fn ingest(store: &Store, sources: &[SourceSpec]) -> IngestReport {
    phm_ingest::ingest(store, &key(), sources, &options(), &Quiet).expect("ingest")
}

/// A small synthetic drop, made once per test binary run and shared. Tests run in
/// parallel threads, so one lock makes sure a drop is written once and read only when
/// complete (it is generated beside its final name and renamed into place).
pub fn drop_dir(population: u64, seed: u64) -> PathBuf {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = std::env::temp_dir().join(format!("phm-ingest-test-drop-{population}-{seed}-{}", std::process::id()));
    if !dir.join("manifest.json").exists() {
        let partial = dir.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        let config = phm_synth::SynthConfig {
            population,
            seed,
            out_dir: partial.clone(),
            extract_date: phm_synth::default_extract_date(),
        };
        phm_synth::generate(&config, &|_, _| {}).expect("synthetic drop");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&partial, &dir).expect("move the finished drop into place");
    }
    dir
}

/// The rejected records of a snapshot's quarantine files, as (file, line, field, kind) rows.
pub fn quarantine(store: &Store) -> Vec<Vec<String>> {
    let snap = store.latest().expect("read").expect("a snapshot");
    let mut out = Vec::new();
    for (path, _) in snap.files(phm_store::Tree::Restricted, "quarantine") {
        let mut r = csv::Reader::from_path(&path).expect("quarantine csv");
        for rec in r.records() {
            let rec = rec.expect("row");
            out.push(rec.iter().map(str::to_owned).collect());
        }
    }
    out
}

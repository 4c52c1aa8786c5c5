//! The release folder: what OpenPHM publishes, and the one typed record of how it was made.
//!
//! A release folder holds tables as Parquet with a CSV copy beside each (`profiles`, `trends`,
//! `population` from `phm profiles`; `results` and per-measure tables from `phm run`), and a
//! [`Manifest`] as `provenance.json`: which definitions (with their metadata and their text),
//! which snapshot, which disclosure policy, which files with how many rows, and which OpenPHM.
//! The pipeline writes it; the web app reads only this folder, so it never parses a definition
//! file or depends on the folder it runs from.
//!
//! **Architecture invariant:** a manifest is read back into the same type it was written from
//! ([`Manifest::read`] refuses another format version, naming both), and every table the
//! manifest lists is in the folder with the row count it states.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

/// The file name of the manifest in a release folder.
pub const MANIFEST: &str = "provenance.json";

/// The manifest format this build writes and reads. Raise it when a field changes meaning or
/// goes; a new optional field does not need it.
pub const FORMAT: u32 = 1;

/// Errors reading or writing a release folder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("`{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Parquet refused a table (a bug, or a full disk).
    #[error("`{}`: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A manifest that is not one.
    #[error("`{}` is not an OpenPHM release manifest: {message}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What was wrong, with the line and column from JSON.
        message: String,
    },
    /// A manifest of another format.
    #[error(
        "`{}` is a release manifest of format {found}, and this OpenPHM reads format {FORMAT}: recompute the release with this version",
        path.display()
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// The format it declares.
        found: u32,
    },
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// Writes `batches` (of `schema`; none for an empty table) as `<stem>.parquet` (zstd) and
/// `<stem>.csv` (header, ISO dates) in `dir`; returns the row count.
///
/// # Errors
/// The folder or a file cannot be written, or a batch is not of `schema`.
pub fn write_table(dir: &Path, stem: &str, schema: SchemaRef, batches: &[RecordBatch]) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pq = dir.join(format!("{stem}.parquet"));
    let table_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: &dyn std::fmt::Display| Error::Table { path: path.clone(), message: e.to_string() }
    };
    let file = File::create(&pq).map_err(io(&pq))?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| table_err(&pq)(&e))?;
    for b in batches {
        w.write(b).map_err(|e| table_err(&pq)(&e))?;
    }
    w.close().map_err(|e| table_err(&pq)(&e))?;
    let csv_path = dir.join(format!("{stem}.csv"));
    let file = File::create(&csv_path).map_err(io(&csv_path))?;
    let mut w = arrow_csv::WriterBuilder::new().with_header(true).with_date_format("%Y-%m-%d".into()).build(file);
    for b in batches {
        w.write(b).map_err(|e| table_err(&csv_path)(&e))?;
    }
    Ok(batches.iter().map(|b| b.num_rows() as u64).sum())
}

/// How a release folder was made: one type for `phm run` and `phm profiles`, written as
/// `provenance.json` and read back by the web app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format ([`FORMAT`]).
    pub format: u32,
    /// The command that wrote it: `profiles` or `run`.
    pub command: String,
    /// The outcome framework file (`phm profiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// England's comparator values file, when there was one (`phm profiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub england: Option<String>,
    /// The disclosure policy the tables were released under.
    pub policy: String,
    /// What the policy does, in words.
    pub policy_summary: String,
    /// The store folder.
    pub store: Option<String>,
    /// The store snapshot read.
    pub snapshot: Option<u64>,
    /// `datafusion` or `ballista`.
    pub engine: String,
    /// The definition files read, with their hashes and codelists (`phm run`: the one file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub definitions: Vec<DefinitionFile>,
    /// The indicators (and measures) released, in release order.
    pub indicators: Vec<IndicatorEntry>,
    /// Trends (`phm profiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trends: Option<TrendsEntry>,
    /// The population pyramid (`phm profiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<PopulationEntry>,
    /// Engine passes run.
    pub engine_passes: usize,
    /// Cells the engine produced.
    pub cells: usize,
    /// Every table written, with its row count, in the order written.
    pub outputs: BTreeMap<String, u64>,
    /// OpenPHM's version.
    pub version: String,
}

/// A definition file read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefinitionFile {
    /// The file, as given.
    pub path: String,
    /// SHA-256 of the file, its imports and codelists.
    pub sha256: String,
    /// Index date used.
    pub index_date: Option<NaiveDate>,
    /// Codelist name → SHA-256 of its codes.
    pub codelists: BTreeMap<String, String>,
}

/// One indicator: what it is, where its definition came from, and its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndicatorEntry {
    /// Name (identifier).
    pub name: String,
    /// Title.
    pub title: String,
    /// Statistical method (`proportion`, `crude_rate`, `dsr`, …).
    pub method: String,
    /// Multiplier of the presented value.
    pub multiplier: f64,
    /// `higher_is_better`, `lower_is_better` or `no_judgement`.
    pub polarity: String,
    /// Why it matters.
    pub rationale: Option<String>,
    /// Known limitations.
    pub caveats: Option<String>,
    /// Fingertips indicator id.
    pub fingertips: Option<i64>,
    /// The breakdowns it is reported by.
    pub breakdowns: Vec<String>,
    /// The definition file, as given.
    pub definition: String,
    /// SHA-256 of the definition file, its imports and codelists.
    pub definition_sha256: String,
    /// The indicator's block of the definition file, comments above it included.
    pub source: Option<String>,
    /// Index date.
    pub index_date: NaiveDate,
    /// Trend dates, oldest first, ending at the index date (empty without trends).
    #[serde(default)]
    pub trend_dates: Vec<NaiveDate>,
}

/// How the trends were computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendsEntry {
    /// Points per trend, the index date included.
    pub points: usize,
    /// Months between points.
    pub every_months: u32,
    /// Rows written.
    pub rows: u64,
    /// The SPC method, in words.
    pub spc: String,
}

/// How the population pyramid was counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationEntry {
    /// The population definition file.
    pub definition: Option<String>,
    /// Its SHA-256.
    pub definition_sha256: Option<String>,
    /// Its indicator.
    pub indicator: Option<String>,
    /// The index dates counted.
    pub index_dates: Option<Vec<NaiveDate>>,
    /// Rows written.
    pub rows: u64,
}

impl Manifest {
    /// Writes the manifest as `provenance.json` in `dir`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Manifest { path: path.clone(), message: e.to_string() })?;
        std::fs::write(&path, text + "\n").map_err(io(&path))
    }

    /// Reads the manifest of the release folder `dir`.
    ///
    /// # Errors
    /// No manifest, one that is not valid (with the line and column), or one of another format.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        Self::parse(&path, &text)
    }

    /// Parses a manifest's text; `path` names it in errors.
    ///
    /// # Errors
    /// As [`Manifest::read`].
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Version {
            format: Option<u32>,
        }
        let version: Version = serde_json::from_str(text)
            .map_err(|e| Error::Manifest { path: path.to_path_buf(), message: e.to_string() })?;
        match version.format {
            Some(FORMAT) => {}
            Some(found) => return Err(Error::Format { path: path.to_path_buf(), found }),
            None => {
                return Err(Error::Manifest {
                    path: path.to_path_buf(),
                    message: format!(
                        "it has no `format` (a release from an OpenPHM before format {FORMAT}: recompute it)"
                    ),
                });
            }
        }
        serde_json::from_str(text).map_err(|e| Error::Manifest { path: path.to_path_buf(), message: e.to_string() })
    }

    /// The entry of indicator `name`.
    pub fn indicator(&self, name: &str) -> Option<&IndicatorEntry> {
        self.indicators.iter().find(|i| i.name == name)
    }
}

/// The text of `indicator NAME … { … }` in a definition file, comments above it included: what
/// a reader of the release sees as the definition.
pub fn indicator_block(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("indicator") && words.next() == Some(name)
    })?;
    let mut first = start;
    while first > 0 && lines[first - 1].trim_start().starts_with('#') {
        first -= 1;
    }
    let mut depth = 0i32;
    let mut in_string = false;
    for (i, line) in lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '"' => in_string = !in_string,
                '{' if !in_string => depth += 1,
                '}' if !in_string => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 && line.contains('}') {
            return Some(lines[first..=i].join("\n"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Date32Type;
    use arrow_array::{Date32Array, Int64Array};

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            command: "profiles".into(),
            framework: Some("definitions/framework.toml".into()),
            england: None,
            policy: "public".into(),
            policy_summary: "counts 1 to 7 suppressed; counts rounded to the nearest 5".into(),
            store: Some("data/store".into()),
            snapshot: Some(3),
            engine: "datafusion".into(),
            definitions: vec![DefinitionFile {
                path: "definitions/mmr.phm".into(),
                sha256: "ab".repeat(32),
                index_date: Some(date(2026, 3, 31)),
                codelists: BTreeMap::from([("mmr".to_owned(), "cd".repeat(32))]),
            }],
            indicators: vec![IndicatorEntry {
                name: "mmr".into(),
                title: "MMR".into(),
                method: "proportion".into(),
                multiplier: 100.0,
                polarity: "higher_is_better".into(),
                rationale: Some("Measles.".into()),
                caveats: None,
                fingertips: Some(30311),
                breakdowns: vec!["sex".into()],
                definition: "definitions/mmr.phm".into(),
                definition_sha256: "ab".repeat(32),
                source: Some("indicator mmr \"MMR\" {\n}".into()),
                index_date: date(2026, 3, 31),
                trend_dates: vec![date(2026, 2, 28), date(2026, 3, 31)],
            }],
            trends: None,
            population: None,
            engine_passes: 2,
            cells: 10,
            outputs: BTreeMap::from([("profiles".to_owned(), 12)]),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let m = manifest();
        m.write(dir.path()).expect("written");
        assert_eq!(Manifest::read(dir.path()).expect("read"), m);
    }

    #[test]
    fn a_manifest_of_another_format_is_refused_by_name() {
        let text = serde_json::to_string(&Manifest { format: FORMAT + 1, ..manifest() }).expect("json");
        let e = Manifest::parse(Path::new("x/provenance.json"), &text).expect_err("refused");
        assert!(e.to_string().contains(&format!("format {}", FORMAT + 1)), "{e}");
        let old = r#"{"framework": "f.toml", "policy": "public"}"#;
        let e = Manifest::parse(Path::new("x/provenance.json"), old).expect_err("refused");
        assert!(e.to_string().contains("has no `format`"), "{e}");
        let e = Manifest::parse(Path::new("x/provenance.json"), "{\"format\": 1,\n \"command\": 3}").expect_err("bad");
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn a_table_is_written_as_parquet_and_csv_with_iso_dates() {
        let dir = tempfile::tempdir().expect("tmp");
        let batch = RecordBatch::try_from_iter(vec![
            ("period", Arc::new(Date32Array::from(vec![Date32Type::from_naive_date(date(2026, 3, 31))])) as _),
            ("n", Arc::new(Int64Array::from(vec![7])) as _),
        ])
        .expect("batch");
        assert_eq!(write_table(dir.path(), "t", batch.schema(), std::slice::from_ref(&batch)).expect("written"), 1);
        let csv = std::fs::read_to_string(dir.path().join("t.csv")).expect("csv");
        assert_eq!(csv, "period,n\n2026-03-31,7\n");
        assert!(dir.path().join("t.parquet").metadata().expect("parquet").len() > 0);
        assert_eq!(write_table(dir.path(), "none", batch.schema(), &[]).expect("written"), 0);
        let csv = std::fs::read_to_string(dir.path().join("none.csv")).expect("csv");
        assert_eq!(csv, "", "an empty table's CSV is empty, as arrow writes a header only with a first batch");
    }

    #[test]
    fn an_indicator_block_is_cut_from_its_file_with_its_comments() {
        let text = "index_date = 2026-03-31\n\n# About MMR\nindicator mmr \"MMR {first}\" {\n  numerator = x\n}\n\nindicator other \"O\" {\n}\n";
        assert_eq!(
            indicator_block(text, "mmr").as_deref(),
            Some("# About MMR\nindicator mmr \"MMR {first}\" {\n  numerator = x\n}")
        );
        assert_eq!(indicator_block(text, "missing"), None);
    }
}

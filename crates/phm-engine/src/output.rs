//! Writing results: Parquet and CSV side by side, plus a JSON record of what produced them.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::{Error, IndicatorRow, Result};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write { path: path.to_path_buf(), source }
}

/// Write batches as `<stem>.parquet` and `<stem>.csv` in `dir`; returns the row count.
pub fn write_table(dir: &Path, stem: &str, schema: SchemaRef, batches: &[RecordBatch]) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pq = dir.join(format!("{stem}.parquet"));
    let file = File::create(&pq).map_err(io(&pq))?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props))
        .map_err(|e| Error::Definition(format!("{}: {e}", pq.display())))?;
    for b in batches {
        w.write(b).map_err(|e| Error::Definition(format!("{}: {e}", pq.display())))?;
    }
    w.close().map_err(|e| Error::Definition(format!("{}: {e}", pq.display())))?;
    let csv_path = dir.join(format!("{stem}.csv"));
    let file = File::create(&csv_path).map_err(io(&csv_path))?;
    let mut w =
        datafusion::arrow::csv::WriterBuilder::new().with_header(true).with_date_format("%Y-%m-%d".into()).build(file);
    for b in batches {
        w.write(b)?;
    }
    Ok(batches.iter().map(|b| b.num_rows() as u64).sum())
}

/// Indicator rows as one Arrow batch.
pub fn indicator_batch(rows: &[IndicatorRow]) -> Result<RecordBatch> {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, StringArray};
    let text =
        |f: fn(&IndicatorRow) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    Ok(RecordBatch::try_from_iter(vec![
        ("indicator", text(|r| &r.indicator)),
        (
            "index_date",
            Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| crate::days_since_epoch(r.index_date)))),
        ),
        ("breakdown", text(|r| &r.breakdown)),
        ("category", text(|r| &r.category)),
        ("numerator", Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.numerator)))),
        ("denominator", Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.denominator)))),
        ("value", Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.value)))),
        ("method", text(|r| r.method.as_str())),
    ])?)
}

/// Write indicator rows as `<stem>.parquet` and `<stem>.csv`.
pub fn write_indicator_rows(dir: &Path, stem: &str, rows: &[IndicatorRow]) -> Result<u64> {
    let batch = indicator_batch(rows)?;
    write_table(dir, stem, batch.schema(), &[batch])
}

/// The JSON record written beside results.
#[derive(Debug, serde::Serialize)]
pub struct Provenance {
    /// Definition source(s).
    pub definition: String,
    /// Content hash of the definition and everything it imports, with codelists.
    pub definition_sha256: String,
    /// Codelist name → SHA-256.
    pub codelists: std::collections::BTreeMap<String, String>,
    /// Store snapshot read.
    pub snapshot: Option<u64>,
    /// Store folder.
    pub store: Option<PathBuf>,
    /// Index date.
    pub index_date: chrono::NaiveDate,
    /// Engine (`datafusion` or `ballista`).
    pub engine: String,
    /// Files written, with row counts.
    pub outputs: Vec<(String, u64)>,
    /// The disclosure policy the aggregate tables were released under, and what it does.
    pub disclosure: Option<String>,
    /// OpenPHM version.
    pub version: String,
}

/// Write `provenance.json`.
pub fn write_provenance(dir: &Path, p: &Provenance) -> Result<()> {
    let path = dir.join("provenance.json");
    let text = serde_json::to_string_pretty(p).map_err(|e| Error::Definition(e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(io(&path))
}

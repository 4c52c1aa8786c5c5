//! Reading CSV and Parquet table files as rows of text, and the row accessors every table uses.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;
use std::path::PathBuf;

use arrow_array::cast::AsArray as _;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::is_parquet;
use crate::check::{self, Problem, problem};
use crate::quarantine::excerpt;
use crate::{Error, InputFile, Progress, Result};

/// The next row of a table file.
pub(super) enum Next {
    /// [`TableReader::fields`] holds the row.
    Row,
    /// The row cannot be read as a row of the table.
    Bad(Problem),
    /// No more rows.
    End,
}

enum Inner {
    Csv { reader: csv::Reader<File>, record: csv::ByteRecord, last: u64 },
    Parquet { reader: ParquetRecordBatchReader, batch: Option<Vec<ArrayRef>>, next: usize, len: usize, bytes: u64 },
}

/// A CSV or Parquet file read row by row, each value as trimmed text (empty for null).
pub(super) struct TableReader {
    path: PathBuf,
    /// Header names as written (byte order mark and spaces trimmed).
    pub(super) headers: Vec<String>,
    inner: Inner,
    /// The current row's values.
    pub(super) fields: Vec<String>,
    /// The current row's line (CSV) or row number (Parquet).
    pub(super) line: u64,
    delimiter: char,
}

impl TableReader {
    pub(super) fn open(f: &InputFile) -> Result<Self> {
        let io = |source| Error::Io { path: f.path.clone(), source };
        let layout = |reason: String| Error::Layout { path: f.path.clone(), reason };
        let file = File::open(&f.path).map_err(io)?;
        if is_parquet(f) {
            let bytes = file.metadata().map_err(io)?.len();
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| layout(format!("not a readable Parquet file: {e}")))?;
            let headers: Vec<String> = builder.schema().fields().iter().map(|c| c.name().trim().to_owned()).collect();
            for c in builder.schema().fields() {
                if !readable(c.data_type()) {
                    return Err(layout(format!(
                        "column `{}` has the Parquet/Arrow type {}, which OMOP ingest does not read",
                        c.name(),
                        c.data_type()
                    )));
                }
            }
            let reader = builder
                .with_batch_size(8_192)
                .build()
                .map_err(|e| layout(format!("not a readable Parquet file: {e}")))?;
            let n = headers.len();
            return Ok(Self {
                path: f.path.clone(),
                headers,
                inner: Inner::Parquet { reader, batch: None, next: 0, len: 0, bytes },
                fields: vec![String::new(); n],
                line: 0,
                delimiter: ',',
            });
        }
        // Comma, or tab when the header has tabs and no commas.
        let mut first = Vec::new();
        File::open(&f.path).map_err(io)?.take(1 << 16).read_to_end(&mut first).map_err(io)?;
        let header_line = first.split(|b| *b == b'\n').next().unwrap_or_default();
        let tab = header_line.contains(&b'\t') && !header_line.contains(&b',');
        let mut builder = csv::ReaderBuilder::new();
        // Records end at `\n` only: with the csv crate's default (CR, LF or CRLF) it numbers
        // the lines of a CRLF file one short. The `\r` left at the end of the last field is
        // trimmed with the other spaces.
        builder
            .flexible(true)
            .has_headers(true)
            .delimiter(if tab { b'\t' } else { b',' })
            .terminator(csv::Terminator::Any(b'\n'));
        if tab {
            builder.quoting(false);
        }
        let mut reader = builder.from_reader(file);
        let headers = crate::csv_source::clean_headers(
            reader.byte_headers().map_err(|e| layout(format!("cannot read the header row: {e}")))?,
        );
        if headers.iter().all(String::is_empty) {
            return Err(layout("the file is empty or has no header row".into()));
        }
        let n = headers.len();
        Ok(Self {
            path: f.path.clone(),
            headers,
            inner: Inner::Csv { reader, record: csv::ByteRecord::new(), last: 0 },
            fields: vec![String::new(); n],
            line: 1,
            delimiter: if tab { '\t' } else { ',' },
        })
    }

    /// Reads the next row into [`Self::fields`].
    pub(super) fn next(&mut self, progress: &dyn Progress) -> Result<Next> {
        match &mut self.inner {
            Inner::Csv { reader, record, last } => loop {
                let line = reader.position().line() + 1;
                let read = reader.read_byte_record(record);
                let pos = reader.position().byte();
                progress.advance(pos.saturating_sub(*last));
                *last = pos;
                match read {
                    Ok(false) => return Ok(Next::End),
                    Err(e) => {
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            return Err(Error::Io {
                                path: self.path.clone(),
                                source: std::io::Error::other(e.to_string()),
                            });
                        }
                        self.line = line;
                        self.fields.iter_mut().for_each(String::clear);
                        return Ok(Next::Bad(problem("", "unreadable row", format!("cannot read this row: {e}"))));
                    }
                    // A blank line (`\r` alone, in a CRLF file) is skipped, as the reader
                    // skips empty lines.
                    Ok(true) if record.len() == 1 && self.headers.len() > 1 && record[0].trim_ascii().is_empty() => {
                        continue;
                    }
                    Ok(true) => {
                        self.line = record.position().map_or(line, csv::Position::line);
                        self.fields.resize(record.len().max(self.headers.len()), String::new());
                        let mut bad = None;
                        for (i, out) in self.fields.iter_mut().enumerate() {
                            out.clear();
                            let Some(b) = record.get(i) else { continue };
                            match std::str::from_utf8(b) {
                                Ok(s) => out.push_str(s.trim()),
                                Err(e) => {
                                    out.push_str(String::from_utf8_lossy(b).trim());
                                    let field = self.headers.get(i).map_or("", String::as_str);
                                    bad.get_or_insert_with(|| {
                                        problem(
                                            field,
                                            "invalid UTF-8",
                                            format!("not valid UTF-8 at byte {}", e.valid_up_to()),
                                        )
                                    });
                                }
                            }
                        }
                        if record.len() != self.headers.len() {
                            return Ok(Next::Bad(problem(
                                "",
                                "wrong number of fields",
                                format!(
                                    "expected {} fields as in the header, found {}",
                                    self.headers.len(),
                                    record.len()
                                ),
                            )));
                        }
                        return Ok(bad.map_or(Next::Row, Next::Bad));
                    }
                }
            },
            Inner::Parquet { reader, batch, next, len, bytes } => loop {
                if let Some(columns) = batch.as_ref().filter(|_| *next < *len) {
                    for (out, column) in self.fields.iter_mut().zip(columns) {
                        format_value(column.as_ref(), *next, out);
                    }
                    *next += 1;
                    self.line += 1;
                    return Ok(Next::Row);
                }
                match reader.next() {
                    None => {
                        progress.advance(std::mem::take(bytes));
                        return Ok(Next::End);
                    }
                    Some(Err(e)) => {
                        return Err(Error::Layout {
                            path: self.path.clone(),
                            reason: format!("cannot read the Parquet data after row {}: {e}", self.line),
                        });
                    }
                    Some(Ok(b)) => {
                        *len = b.num_rows();
                        *next = 0;
                        *batch = Some(b.columns().iter().map(|c| undictionary(c, &self.path)).collect::<Result<_>>()?);
                    }
                }
            },
        }
    }

    /// The current row as text, for the quarantine.
    pub(super) fn record(&self) -> String {
        let sep = self.delimiter.to_string();
        excerpt(self.fields.join(&sep).as_bytes())
    }
}

/// Whether a Parquet column's type is one read as text.
fn readable(ty: &DataType) -> bool {
    match ty {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => true,
        DataType::Dictionary(_, value) => readable(value) && !matches!(value.as_ref(), DataType::Dictionary(..)),
        _ => false,
    }
}

/// A dictionary-encoded column as plain values.
fn undictionary(column: &ArrayRef, path: &std::path::Path) -> Result<ArrayRef> {
    match column.as_any_dictionary_opt() {
        Some(d) => arrow_select::take::take(d.values().as_ref(), d.keys(), None).map_err(|e| Error::Layout {
            path: path.to_owned(),
            reason: format!("cannot decode a dictionary column: {e}"),
        }),
        None => Ok(column.clone()),
    }
}

/// Writes value `i` of `a` as text (empty for null). Only types [`readable`] accepts reach here.
fn format_value(a: &dyn Array, i: usize, out: &mut String) {
    out.clear();
    if a.is_null(i) {
        return;
    }
    let _ = match a.data_type() {
        DataType::Boolean => write!(out, "{}", a.as_boolean().value(i)),
        DataType::Int8 => write!(out, "{}", a.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => write!(out, "{}", a.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => write!(out, "{}", a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => write!(out, "{}", a.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => write!(out, "{}", a.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => write!(out, "{}", a.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => write!(out, "{}", a.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => write!(out, "{}", a.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => write!(out, "{}", a.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => write!(out, "{}", a.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(..) => write!(out, "{}", a.as_primitive::<Decimal128Type>().value_as_string(i)),
        DataType::Utf8 => write!(out, "{}", a.as_string::<i32>().value(i).trim()),
        DataType::LargeUtf8 => write!(out, "{}", a.as_string::<i64>().value(i).trim()),
        DataType::Utf8View => write!(out, "{}", a.as_string_view().value(i).trim()),
        DataType::Date32 => match phm_store::batch::from_date32(a.as_primitive::<Date32Type>().value(i)) {
            Some(d) => write!(out, "{d}"),
            None => Ok(()),
        },
        DataType::Date64 => timestamp(out, a.as_primitive::<Date64Type>().value(i), TimeUnit::Millisecond),
        DataType::Timestamp(unit, _) => {
            let v = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(i),
            };
            timestamp(out, v, *unit)
        }
        _ => Ok(()),
    };
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS` (UTC).
fn timestamp(out: &mut String, v: i64, unit: TimeUnit) -> std::fmt::Result {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    match chrono::DateTime::from_timestamp(v.div_euclid(per_second), 0) {
        Some(t) => write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S")),
        None => Ok(()),
    }
}

/// Column positions by name, case-insensitively.
pub(super) struct Cols<'h> {
    pub(super) headers: &'h [String],
    pub(super) path: &'h std::path::Path,
    pub(super) table: &'h str,
}

impl Cols<'_> {
    /// The first of `names` present.
    pub(super) fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    /// A column the table cannot be read without.
    pub(super) fn need(&self, names: &[&str]) -> Result<usize> {
        self.find(names).ok_or_else(|| Error::Layout {
            path: self.path.to_owned(),
            reason: format!(
                "an OMOP `{}` table needs a `{}` column; the header is: {}",
                self.table,
                names[0],
                self.headers.join(",")
            ),
        })
    }
}

/// One row: values by column position.
pub(super) struct Row<'a> {
    pub(super) fields: &'a [String],
    pub(super) headers: &'a [String],
    pub(super) line: u64,
}

impl Row<'_> {
    /// The value of a column, empty when the column is absent.
    pub(super) fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.fields.get(i)).map_or("", String::as_str)
    }

    /// The header of a column, for reasons (`fallback` when absent).
    pub(super) fn name<'n>(&'n self, col: Option<usize>, fallback: &'n str) -> &'n str {
        col.and_then(|i| self.headers.get(i)).map_or(fallback, String::as_str)
    }

    /// An integer (OMOP ids and concept ids); empty is `None`. Whole floats (`123.0`, as
    /// pandas writes integer columns with gaps) are accepted.
    pub(super) fn int(&self, col: Option<usize>, fallback: &str) -> Result<Option<i64>, Problem> {
        let text = self.get(col);
        if text.is_empty() {
            return Ok(None);
        }
        if let Ok(v) = text.parse::<i64>() {
            return Ok(Some(v));
        }
        match text.parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Some(v as i64)),
            _ => Err(problem(
                self.name(col, fallback),
                "wrong type",
                format!("`{}` is not a whole number", check::cut(text)),
            )),
        }
    }

    /// A required integer.
    pub(super) fn required_int(&self, col: Option<usize>, fallback: &str) -> Result<i64, Problem> {
        self.int(col, fallback)?
            .ok_or_else(|| problem(self.name(col, fallback), "missing value", format!("`{fallback}` is required")))
    }

    /// A date (`YYYY-MM-DD`, or a date and time); empty is `None`.
    pub(super) fn date(&self, col: Option<usize>, fallback: &str) -> Result<Option<NaiveDate>, Problem> {
        let text = self.get(col);
        if text.is_empty() {
            return Ok(None);
        }
        check::parse_date(self.name(col, fallback), text).map(Some)
    }

    /// A number; empty is `None`.
    pub(super) fn float(&self, col: Option<usize>, fallback: &str) -> Result<Option<f64>, Problem> {
        let text = self.get(col);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| {
            problem(self.name(col, fallback), "wrong type", format!("`{}` is not a number", check::cut(text)))
        })
    }
}

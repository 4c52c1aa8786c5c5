//! OMOP CDM v5.4 tables (CSV or Parquet, one file per table) onto the canonical tables.
//!
//! A file's table is its name without the extension, in any case (`person.csv`, `PERSON.csv`,
//! `condition_occurrence.parquet`). Columns are found by header name, in any case, never by
//! position; CDM 5.3 names are accepted where 5.4 renamed them (`admitting_source_*` for
//! `admitted_from_*`). CSV is comma-separated, or tab-separated when the header has tabs and
//! no commas (tab-separated files are read without quoting, as the OHDSI vocabulary files
//! are written); a UTF-8 byte order mark, CRLF line ends and a missing final newline are
//! fine. A Parquet file's columns are read as text (integers, decimals, floats, dates,
//! timestamps, strings, booleans and dictionaries of them), and its `line` in the quarantine
//! is the 1-based row number.
//!
//! | OMOP table | canonical table | notes |
//! |---|---|---|
//! | `concept` | (none) | read first: `*_concept_id` → vocabulary, domain and code |
//! | `death` | `person_source.date_of_death` | read before `person` and folded into it |
//! | `person` | `person_source`, `identity` | pseudonym from `person_source_value` when it is a valid NHS number (`linked`), else a source-local one from it (or, when it is empty, from `person_id` as `person_id:N`) |
//! | `visit_occurrence` | `encounter` | setting from `visit_concept_id` |
//! | `condition_occurrence` | `condition` | `condition_status_concept_id` 32902 (primary diagnosis) → `diagnosis_rank` 1 |
//! | `procedure_occurrence` | `procedure` | |
//! | `measurement`, `observation` | `observation` | `value_as_number`, `unit_source_value` (else the unit concept's code) |
//! | `drug_exposure` | `medication`; `immunisation` when the code is CVX | |
//! | `observation_period` | (none) | checked (dates, end ≥ start, person known) and counted, not stored |
//!
//! **Codes.** A row's `*_concept_id` is looked up in the source's `concept` table; SNOMED,
//! LOINC, RxNorm (and RxNorm Extension), CVX, ICD10, OPCS4 and dm+d concepts give the code
//! system and `concept_code` the code. When the concept is 0, unknown or in another vocabulary,
//! the `*_source_value` is taken in the vocabulary of `*_source_concept_id`, provided that
//! concept's domain fits the table (a `drug_exposure` row whose source concept is a SNOMED
//! *condition* is not a medicine): a mapped standard concept's table is the ETL's decision,
//! made with the whole vocabulary, but an unmapped row has only its source concept to say what
//! it is. Anything else is quarantined with the reason. Without a `concept` table the code
//! system of a source value cannot be told, so every coded row is quarantined. Every code
//! passes [`check::code`], and measured values [`check::plausible`].
//!
//! **Persons.** Rows about a `person_id` that is not an accepted person of this source are
//! quarantined (saying whether it was rejected, and where). IDs of 0 mean null
//! (`visit_occurrence_id` 0: no encounter). A repeated primary key is a duplicate record;
//! the first is kept.
//!
//! **Tables not stored.** Vocabulary tables (`concept_*`, `vocabulary`, `domain`, ...),
//! derived tables (`condition_era`, `drug_era`, `dose_era`, `cohort`), organisation and
//! administrative tables (`location`, `care_site`, `provider`, `cdm_source`, `metadata`,
//! `payer_plan_period`, `cost`, `fact_relationship`) and `visit_detail` (parts of visits that
//! `visit_occurrence` already gives) lose nothing OpenPHM holds: their rows are accepted and
//! counted under `"<table> (not stored)"` in [`FileReport::record_types`], not written.
//! Person-level clinical tables OpenPHM has no canonical table for yet (`device_exposure`,
//! `specimen`, `note`, `note_nlp`, `episode`, `episode_event`) are quarantined row by row,
//! like FHIR resource types it does not take in, so that a data manager sees what was left
//! out. A file whose name is no OMOP CDM table has every row quarantined ("unknown table").
//! Either way read = accepted + rejected for every file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Read as _;
use std::path::PathBuf;

use arrow_array::cast::AsArray as _;
use arrow_array::types::{
    Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike as _, NaiveDate};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use phm_core::codes::CodeSystem;
use phm_identity::PersonId;
use phm_store::Transaction;

use crate::check::{self, Lifespan, Problem, problem};
use crate::quarantine::{Reject, excerpt};
use crate::report::FileReport;
use crate::rows::{Rows, T};
use crate::{Error, FileCtx, InputFile, Progress, Result, SourceLoad, SourceSpec};

/// Accepted records between writes.
const BATCH_ROWS: u64 = 65_536;

/// `condition_status_concept_id` of a primary diagnosis.
const PRIMARY_DIAGNOSIS: i64 = 32_902;

/// Tables read and counted but not stored: nothing in them is lost to OpenPHM (see the module
/// documentation).
const NOT_STORED: [&str; 25] = [
    "concept_relationship",
    "concept_ancestor",
    "concept_synonym",
    "concept_class",
    "relationship",
    "vocabulary",
    "domain",
    "drug_strength",
    "source_to_concept_map",
    "condition_era",
    "drug_era",
    "dose_era",
    "cohort",
    "cohort_definition",
    "attribute_definition",
    "location",
    "location_history",
    "care_site",
    "provider",
    "cdm_source",
    "metadata",
    "payer_plan_period",
    "cost",
    "fact_relationship",
    "visit_detail",
];

/// Person-level clinical tables with no canonical table yet: quarantined row by row.
const NOT_TAKEN: [&str; 6] = ["device_exposure", "specimen", "note", "note_nlp", "episode", "episode_event"];

/// What the fields of one event table are called.
struct EventSpec {
    table: &'static str,
    id: &'static str,
    concept: &'static str,
    source_concept: &'static str,
    source_value: &'static str,
    date: &'static str,
    datetime: &'static str,
    end_date: Option<&'static str>,
    /// Whether it carries `value_as_number` and a unit.
    value: bool,
    /// Domains a source concept may have when the row has no standard concept.
    domains: &'static [&'static str],
}

const CONDITION: EventSpec = EventSpec {
    table: "condition_occurrence",
    id: "condition_occurrence_id",
    concept: "condition_concept_id",
    source_concept: "condition_source_concept_id",
    source_value: "condition_source_value",
    date: "condition_start_date",
    datetime: "condition_start_datetime",
    end_date: None,
    value: false,
    // SNOMED CT findings OMOP files under Observation ("History of ...", "Body mass index 30+")
    // are diagnoses in UK primary care.
    domains: &["Condition", "Observation"],
};

const PROCEDURE: EventSpec = EventSpec {
    table: "procedure_occurrence",
    id: "procedure_occurrence_id",
    concept: "procedure_concept_id",
    source_concept: "procedure_source_concept_id",
    source_value: "procedure_source_value",
    date: "procedure_date",
    datetime: "procedure_datetime",
    end_date: None,
    value: false,
    domains: &["Procedure", "Measurement"],
};

const DRUG: EventSpec = EventSpec {
    table: "drug_exposure",
    id: "drug_exposure_id",
    concept: "drug_concept_id",
    source_concept: "drug_source_concept_id",
    source_value: "drug_source_value",
    date: "drug_exposure_start_date",
    datetime: "drug_exposure_start_datetime",
    end_date: Some("drug_exposure_end_date"),
    value: false,
    domains: &["Drug"],
};

const MEASUREMENT: EventSpec = EventSpec {
    table: "measurement",
    id: "measurement_id",
    concept: "measurement_concept_id",
    source_concept: "measurement_source_concept_id",
    source_value: "measurement_source_value",
    date: "measurement_date",
    datetime: "measurement_datetime",
    end_date: None,
    value: true,
    domains: &["Measurement", "Observation"],
};

const OBSERVATION: EventSpec = EventSpec {
    table: "observation",
    id: "observation_id",
    concept: "observation_concept_id",
    source_concept: "observation_source_concept_id",
    source_value: "observation_source_value",
    date: "observation_date",
    datetime: "observation_datetime",
    end_date: None,
    value: true,
    domains: &["Observation", "Measurement"],
};

/// What a file holds, from its name.
#[derive(Clone, Copy)]
enum Kind {
    Concept,
    Death,
    Person,
    Visit,
    ObservationPeriod,
    Event(&'static EventSpec),
    NotStored,
    NotTaken,
    Unknown,
}

impl Kind {
    fn of(table: &str) -> Self {
        match table {
            "concept" => Self::Concept,
            "death" => Self::Death,
            "person" => Self::Person,
            "visit_occurrence" => Self::Visit,
            "observation_period" => Self::ObservationPeriod,
            "condition_occurrence" => Self::Event(&CONDITION),
            "procedure_occurrence" => Self::Event(&PROCEDURE),
            "drug_exposure" => Self::Event(&DRUG),
            "measurement" => Self::Event(&MEASUREMENT),
            "observation" => Self::Event(&OBSERVATION),
            t if NOT_STORED.contains(&t) => Self::NotStored,
            t if NOT_TAKEN.contains(&t) => Self::NotTaken,
            _ => Self::Unknown,
        }
    }

    /// Load order: vocabulary, deaths, persons, visits, then the rest as given.
    fn rank(self) -> u8 {
        match self {
            Self::Concept => 0,
            Self::Death => 1,
            Self::Person => 2,
            Self::Visit => 3,
            _ => 4,
        }
    }
}

/// The table a file holds: its name up to the extension, lower-cased.
pub fn table_name(f: &InputFile) -> String {
    let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let stem = [".parquet", ".csv", ".tsv", ".txt"].iter().find_map(|ext| lower.strip_suffix(ext)).unwrap_or(&lower);
    stem.to_owned()
}

fn is_parquet(f: &InputFile) -> bool {
    f.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

// ---------------------------------------------------------------------------------------------
// Reading CSV and Parquet as rows of text

/// The next row of a table file.
enum Next {
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
struct TableReader {
    path: PathBuf,
    /// Header names as written (byte order mark and spaces trimmed).
    headers: Vec<String>,
    inner: Inner,
    /// The current row's values.
    fields: Vec<String>,
    /// The current row's line (CSV) or row number (Parquet).
    line: u64,
    delimiter: char,
}

impl TableReader {
    fn open(f: &InputFile) -> Result<Self> {
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
    fn next(&mut self, progress: &dyn Progress) -> Result<Next> {
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
    fn record(&self) -> String {
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
        DataType::Date32 => {
            match phm_store::batch::from_date32(a.as_primitive::<arrow_array::types::Date32Type>().value(i)) {
                Some(d) => write!(out, "{d}"),
                None => Ok(()),
            }
        }
        DataType::Date64 => {
            timestamp(out, a.as_primitive::<arrow_array::types::Date64Type>().value(i), TimeUnit::Millisecond)
        }
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
struct Cols<'h> {
    headers: &'h [String],
    path: &'h std::path::Path,
    table: &'h str,
}

impl Cols<'_> {
    /// The first of `names` present.
    fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    /// A column the table cannot be read without.
    fn need(&self, names: &[&str]) -> Result<usize> {
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
struct Row<'a> {
    fields: &'a [String],
    headers: &'a [String],
    line: u64,
}

impl Row<'_> {
    /// The value of a column, empty when the column is absent.
    fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.fields.get(i)).map_or("", String::as_str)
    }

    /// The header of a column, for reasons (`fallback` when absent).
    fn name<'n>(&'n self, col: Option<usize>, fallback: &'n str) -> &'n str {
        col.and_then(|i| self.headers.get(i)).map_or(fallback, String::as_str)
    }

    /// An integer (OMOP ids and concept ids); empty is `None`. Whole floats (`123.0`, as
    /// pandas writes integer columns with gaps) are accepted.
    fn int(&self, col: Option<usize>, fallback: &str) -> Result<Option<i64>, Problem> {
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
    fn required_int(&self, col: Option<usize>, fallback: &str) -> Result<i64, Problem> {
        self.int(col, fallback)?
            .ok_or_else(|| problem(self.name(col, fallback), "missing value", format!("`{fallback}` is required")))
    }

    /// A date (`YYYY-MM-DD`, or a date and time); empty is `None`.
    fn date(&self, col: Option<usize>, fallback: &str) -> Result<Option<NaiveDate>, Problem> {
        let text = self.get(col);
        if text.is_empty() {
            return Ok(None);
        }
        check::parse_date(self.name(col, fallback), text).map(Some)
    }

    /// A number; empty is `None`.
    fn float(&self, col: Option<usize>, fallback: &str) -> Result<Option<f64>, Problem> {
        let text = self.get(col);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| {
            problem(self.name(col, fallback), "wrong type", format!("`{}` is not a number", check::cut(text)))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// State shared across the files of a source

/// One concept of the source's `concept` table. Vocabulary and domain names are interned.
struct Concept {
    vocabulary: u16,
    domain: u16,
    /// The code, kept only for vocabularies OpenPHM maps (and UCUM, for units).
    code: Box<str>,
}

#[derive(Default)]
struct Concepts {
    /// Whether the source has a `concept` table.
    supplied: bool,
    by_id: HashMap<i64, Concept>,
    names: Vec<String>,
    name_index: HashMap<String, u16>,
}

impl Concepts {
    fn intern(&mut self, name: &str) -> u16 {
        if let Some(i) = self.name_index.get(name) {
            return *i;
        }
        let i = self.names.len().min(usize::from(u16::MAX)) as u16;
        self.names.push(name.to_owned());
        self.name_index.insert(name.to_owned(), i);
        i
    }

    fn vocabulary(&self, c: &Concept) -> &str {
        self.names.get(usize::from(c.vocabulary)).map_or("", String::as_str)
    }

    fn domain(&self, c: &Concept) -> &str {
        self.names.get(usize::from(c.domain)).map_or("", String::as_str)
    }
}

/// The code system of an OMOP vocabulary, if OpenPHM takes it in.
fn system_of(vocabulary_id: &str) -> Option<CodeSystem> {
    Some(match vocabulary_id.to_ascii_lowercase().as_str() {
        "snomed" => CodeSystem::Snomed,
        "loinc" => CodeSystem::Loinc,
        "rxnorm" | "rxnorm extension" => CodeSystem::Rxnorm,
        "cvx" => CodeSystem::Cvx,
        "icd10" => CodeSystem::Icd10,
        "opcs4" => CodeSystem::Opcs4,
        "dm+d" => CodeSystem::Dmd,
        _ => return None,
    })
}

#[derive(Default)]
struct Persons {
    accepted: HashMap<i64, (PersonId, Lifespan)>,
    /// Rejected persons: line and file.
    rejected: HashMap<i64, (u64, String)>,
    /// Pseudonyms given so far: the `person_id` and line that has each.
    pseudonyms: HashMap<PersonId, (i64, u64)>,
    /// Whether the source has a `person` table.
    supplied: bool,
}

impl Persons {
    fn get(&self, row: &Row<'_>, col: Option<usize>) -> Result<(PersonId, Lifespan), Problem> {
        let id = row.required_int(col, "person_id")?;
        let field = row.name(col, "person_id");
        if let Some(found) = self.accepted.get(&id) {
            return Ok(*found);
        }
        Err(match self.rejected.get(&id) {
            Some((line, file)) => {
                problem(field, "person rejected", format!("person_id {id} was rejected at line {line} of {file}"))
            }
            None if !self.supplied => problem(
                field,
                "unknown person",
                format!("person_id {id} is not among this source's accepted persons: the source has no person table"),
            ),
            None => {
                problem(field, "unknown person", format!("person_id {id} is not among this source's accepted persons"))
            }
        })
    }
}

/// A death row waiting for the person table to say whether its person is accepted.
struct PendingDeath {
    report: usize,
    file: String,
    person: i64,
    reject: Reject,
}

#[derive(Default)]
struct State {
    concepts: Concepts,
    persons: Persons,
    deaths: HashMap<i64, NaiveDate>,
    pending_deaths: Vec<PendingDeath>,
    /// Accepted primary keys by table: the file and line that holds each.
    ids: HashMap<String, HashMap<i64, (u64, u32)>>,
    /// Names of the files read, for `ids`.
    files: Vec<String>,
}

impl State {
    /// Refuses a primary key already accepted in this table.
    fn check_id(&self, table: &str, row: &Row<'_>, col: Option<usize>, name: &str) -> Result<Option<i64>, Problem> {
        let Some(id) = row.int(col, name)? else { return Ok(None) };
        if let Some((line, file)) = self.ids.get(table).and_then(|m| m.get(&id)) {
            let file = self.files.get(*file as usize).map_or("", String::as_str);
            return Err(problem(
                row.name(col, name),
                "duplicate record",
                format!("{name} {id} is also at line {line} of {file}, which was kept"),
            ));
        }
        Ok(Some(id))
    }

    /// The index of a file's name in [`Self::files`].
    fn file(&mut self, display: &str) -> u32 {
        match self.files.iter().position(|f| f == display) {
            Some(i) => i as u32,
            None => {
                self.files.push(display.to_owned());
                (self.files.len() - 1) as u32
            }
        }
    }

    fn keep_id(&mut self, table: &str, id: Option<i64>, line: u64, file: u32) {
        if let Some(id) = id {
            self.ids.entry(table.to_owned()).or_default().insert(id, (line, file));
        }
    }
}

/// What the row loop needs besides the state.
struct Io<'r, 'c> {
    ctx: &'r FileCtx<'c>,
    tx: &'r mut Transaction,
    load: &'r mut SourceLoad,
    progress: &'r dyn Progress,
}

impl Io<'_, '_> {
    fn reject(&mut self, report: &mut FileReport, file: &str, r: &Reject) -> Result<()> {
        self.load.quarantine.reject(report, file, r)
    }

    /// Reads every row of `reader`, handing each to `each`, which either pushes the row's
    /// canonical rows (only once every check has passed) or says why not. Counts and
    /// quarantines; writes the rows every [`BATCH_ROWS`] accepted records.
    #[expect(clippy::too_many_arguments, reason = "the file, its reader and report, and the row handler")]
    fn each_row(
        &mut self,
        st: &mut State,
        f: &InputFile,
        table: &str,
        mut reader: TableReader,
        id_col: Option<usize>,
        report: &mut FileReport,
        mut each: impl FnMut(&mut State, &mut Rows, &Row<'_>) -> Result<(), Problem>,
    ) -> Result<()> {
        let mut rows = Rows::default();
        let mut pending = 0u64;
        loop {
            let next = reader.next(self.progress)?;
            let result = match next {
                Next::End => break,
                Next::Bad(p) => Err(p),
                Next::Row => {
                    each(st, &mut rows, &Row { fields: &reader.fields, headers: &reader.headers, line: reader.line })
                }
            };
            report.read += 1;
            match result {
                Ok(()) => {
                    report.accepted += 1;
                    pending += 1;
                }
                Err(p) => {
                    let record_id = id_col.and_then(|i| reader.fields.get(i)).cloned().unwrap_or_default();
                    let r = Reject {
                        line: reader.line,
                        record_type: table.to_owned(),
                        record_id,
                        field: p.field,
                        kind: p.kind,
                        reason: p.reason,
                        record: reader.record(),
                    };
                    self.reject(report, &f.display, &r)?;
                }
            }
            if pending >= BATCH_ROWS {
                self.load.write_rows(self.tx, self.ctx.source, &mut rows, &[], &[], report)?;
                pending = 0;
            }
        }
        self.load.write_rows(self.tx, self.ctx.source, &mut rows, &[], &[], report)
    }
}

/// Loads an OMOP source: `concept`, `death` and `person` first, then visits, then the rest in
/// the order given. Returns one report per file, in the order loaded.
pub(crate) fn load(
    ctx: &FileCtx<'_>,
    spec: &SourceSpec,
    tx: &mut Transaction,
    load: &mut SourceLoad,
    progress: &dyn Progress,
) -> Result<Vec<FileReport>> {
    let mut files: Vec<(&InputFile, String, Kind)> =
        spec.files.iter().map(|f| (f, table_name(f), Kind::of(&table_name(f)))).collect();
    files.sort_by_key(|(_, _, k)| k.rank());
    let mut io = Io { ctx, tx, load, progress };
    let mut st = State::default();
    st.concepts.supplied = files.iter().any(|(_, _, k)| matches!(k, Kind::Concept));
    st.persons.supplied = files.iter().any(|(_, _, k)| matches!(k, Kind::Person));
    let mut reports: Vec<FileReport> = Vec::new();
    let mut deaths_settled = false;
    for (f, table, kind) in files {
        if kind.rank() > Kind::Person.rank() && !deaths_settled {
            settle_deaths(&mut io, &mut st, &mut reports)?;
            deaths_settled = true;
        }
        let reader = TableReader::open(f)?;
        let format = if is_parquet(f) { "omop-parquet" } else { "omop-csv" };
        let mut report = FileReport {
            path: f.display.clone(),
            format: format.into(),
            declared: f.declared,
            ..FileReport::default()
        };
        let index = reports.len();
        match kind {
            Kind::Concept => concepts(&mut io, &mut st, f, reader, &mut report)?,
            Kind::Death => deaths(&mut io, &mut st, f, reader, &mut report, index)?,
            Kind::Person => persons(&mut io, &mut st, f, reader, &mut report)?,
            Kind::Visit => visits(&mut io, &mut st, f, reader, &mut report)?,
            Kind::ObservationPeriod => observation_periods(&mut io, &mut st, f, reader, &mut report)?,
            Kind::Event(spec) => events(&mut io, &mut st, spec, f, reader, &mut report)?,
            Kind::NotStored => io.each_row(&mut st, f, &table, reader, None, &mut report, |_, _, _| Ok(()))?,
            Kind::NotTaken => {
                let reason =
                    format!("OMOP table `{table}` has no canonical table in OpenPHM yet: its records are not taken in");
                io.each_row(&mut st, f, &table, reader, None, &mut report, |_, _, _| {
                    Err(problem("", "table not taken in", reason.clone()))
                })?;
            }
            Kind::Unknown => {
                let reason = format!(
                    "`{table}` is not an OMOP CDM table OpenPHM takes in (each file is named by its table, e.g. person.csv)"
                );
                io.each_row(&mut st, f, &table, reader, None, &mut report, |_, _, _| {
                    Err(problem("", "unknown table", reason.clone()))
                })?;
            }
        }
        let label = match kind {
            Kind::Concept | Kind::ObservationPeriod | Kind::NotStored => format!("{table} (not stored)"),
            Kind::NotTaken => format!("{table} (not taken in)"),
            Kind::Unknown => format!("{table} (not an OMOP table)"),
            _ => table.clone(),
        };
        *report.record_types.entry(label).or_default() += report.read;
        reports.push(report);
    }
    if !deaths_settled {
        settle_deaths(&mut io, &mut st, &mut reports)?;
    }
    Ok(reports)
}

/// Reads the vocabulary: concept id → vocabulary, domain, code. Not stored.
fn concepts(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "concept" };
    let id = Some(cols.need(&["concept_id"])?);
    let vocabulary = Some(cols.need(&["vocabulary_id"])?);
    let code = Some(cols.need(&["concept_code"])?);
    let domain = cols.find(&["domain_id"]);
    io.each_row(st, f, "concept", reader, id, report, |st, _, row| {
        let concept_id = row.required_int(id, "concept_id")?;
        if st.concepts.by_id.contains_key(&concept_id) {
            return Err(problem(
                row.name(id, "concept_id"),
                "duplicate record",
                format!("concept_id {concept_id} is given twice; the first was kept"),
            ));
        }
        let vocabulary_id = row.get(vocabulary);
        let keep_code = system_of(vocabulary_id).is_some() || vocabulary_id.eq_ignore_ascii_case("ucum");
        let concept = Concept {
            vocabulary: st.concepts.intern(vocabulary_id),
            domain: st.concepts.intern(row.get(domain)),
            code: if keep_code { row.get(code).into() } else { "".into() },
        };
        st.concepts.by_id.insert(concept_id, concept);
        Ok(())
    })
}

/// Reads deaths: a row with a readable, past date is held until the persons are loaded (see
/// [`settle_deaths`]); the date goes into the person's `person_source` row.
fn deaths(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
    index: usize,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "death" };
    let person = Some(cols.need(&["person_id"])?);
    let date = cols.find(&["death_date"]);
    let datetime = cols.find(&["death_datetime"]);
    if date.is_none() && datetime.is_none() {
        cols.need(&["death_date"])?;
    }
    let extract = io.ctx.extract_date;
    let mut pending = Vec::new();
    io.each_row(st, f, "death", reader, person, report, |st, _, row| {
        let id = row.required_int(person, "person_id")?;
        if st.deaths.contains_key(&id) {
            return Err(problem(
                row.name(person, "person_id"),
                "duplicate record",
                format!("person_id {id} has a death recorded earlier in the file, which was kept"),
            ));
        }
        let (col, name) = if row.get(date).is_empty() && !row.get(datetime).is_empty() {
            (datetime, "death_datetime")
        } else {
            (date, "death_date")
        };
        let d = row
            .date(col, name)?
            .ok_or_else(|| problem(row.name(col, name), "missing date", "the date of death is required"))?;
        if d > extract {
            return Err(problem(
                row.name(col, name),
                "date in the future",
                format!("date of death {d} is after the extract date {extract}"),
            ));
        }
        st.deaths.insert(id, d);
        pending.push((id, row.line, row.fields.join(",")));
        Ok(())
    })?;
    // Held back: counted as accepted now, settled (possibly moved to rejected) after `person`.
    for (id, line, text) in pending {
        let reject = Reject {
            line,
            record_type: "death".into(),
            record_id: id.to_string(),
            field: String::new(),
            kind: "",
            reason: String::new(),
            record: excerpt(text.as_bytes()),
        };
        st.pending_deaths.push(PendingDeath { report: index, file: f.display.clone(), person: id, reject });
    }
    Ok(())
}

/// Death rows whose person was not accepted are moved from accepted to rejected.
fn settle_deaths(io: &mut Io<'_, '_>, st: &mut State, reports: &mut [FileReport]) -> Result<()> {
    for mut d in std::mem::take(&mut st.pending_deaths) {
        if st.persons.accepted.contains_key(&d.person) {
            continue;
        }
        let p = match st.persons.rejected.get(&d.person) {
            Some((line, file)) => problem(
                "person_id",
                "person rejected",
                format!("person_id {} was rejected at line {line} of {file}", d.person),
            ),
            None if !st.persons.supplied => problem(
                "person_id",
                "unknown person",
                format!(
                    "person_id {} is not among this source's accepted persons: the source has no person table",
                    d.person
                ),
            ),
            None => problem(
                "person_id",
                "unknown person",
                format!("person_id {} is not among this source's accepted persons", d.person),
            ),
        };
        (d.reject.field, d.reject.kind, d.reject.reason) = (p.field, p.kind, p.reason);
        let Some(report) = reports.get_mut(d.report) else { continue };
        report.accepted -= 1;
        io.reject(report, &d.file, &d.reject)?;
    }
    Ok(())
}

/// `person` → `person_source` and `identity`.
fn persons(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "person" };
    let id = Some(cols.need(&["person_id"])?);
    let year_col = Some(cols.need(&["year_of_birth"])?);
    let month_col = cols.find(&["month_of_birth"]);
    let day_col = cols.find(&["day_of_birth"]);
    let birth_col = cols.find(&["birth_datetime"]);
    let psv_col = cols.find(&["person_source_value"]);
    let gender_col = cols.find(&["gender_concept_id"]);
    let gender_source_col = cols.find(&["gender_source_value"]);
    let ctx = io.ctx;
    let file_index = st.file(&f.display);
    io.each_row(st, f, "person", reader, id, report, |st, rows, row| {
        let pid = row.required_int(id, "person_id")?;
        let result = (|| -> Result<(), Problem> {
            st.check_id("person", row, id, "person_id")?;
            let year = row.required_int(year_col, "year_of_birth")?;
            let year_field = row.name(year_col, "year_of_birth");
            if !(1900..=2100).contains(&year) {
                return Err(problem(
                    year_field,
                    "implausible age",
                    format!("year of birth {year} is outside 1900-2100"),
                ));
            }
            let month = row.int(month_col, "month_of_birth")?;
            if month.is_some_and(|m| !(1..=12).contains(&m)) {
                return Err(problem(
                    row.name(month_col, "month_of_birth"),
                    "implausible value",
                    format!("month of birth {} is not 1-12", month.unwrap_or_default()),
                ));
            }
            let day = row.int(day_col, "day_of_birth")?;
            let (full, birth_field) = match row.date(birth_col, "birth_datetime")? {
                Some(d) => (Some(d), row.name(birth_col, "birth_datetime")),
                None => match (month, day) {
                    (Some(m), Some(d)) => {
                        let date = NaiveDate::from_ymd_opt(year as i32, m as u32, d as u32).ok_or_else(|| {
                            problem(
                                row.name(day_col, "day_of_birth"),
                                "invalid date",
                                format!("{year}-{m:02}-{d:02} is not a date"),
                            )
                        })?;
                        (Some(date), year_field)
                    }
                    _ => (None, year_field),
                },
            };
            if let Some(d) = full {
                if i64::from(d.year()) != year || month.is_some_and(|m| m != i64::from(d.month())) {
                    return Err(problem(
                        birth_field,
                        "inconsistent date of birth",
                        format!(
                            "birth date {d} does not agree with year_of_birth {year}{}",
                            month.map(|m| format!(" and month_of_birth {m}")).unwrap_or_default()
                        ),
                    ));
                }
            }
            let death = st.deaths.get(&pid).copied();
            // Only a year (and month): check the first day it could be.
            let earliest = full.or_else(|| NaiveDate::from_ymd_opt(year as i32, month.unwrap_or(1) as u32, 1));
            check::birth_and_death(earliest, death, ctx.extract_date, birth_field, "death_date").map_err(|mut p| {
                if full.is_none() {
                    p.reason.push_str(" (only the year or month of birth is given: its first day is used)");
                }
                p
            })?;
            let source_value = row.get(psv_col);
            let (person, linked, nhs) = match check::nhs_number(row.name(psv_col, "person_source_value"), source_value)
            {
                Ok(n) => (ctx.key.person_id(n), true, format!("{:010}", n.as_u64())),
                Err(_) => {
                    // Without a source value, the person_id: written so that it cannot equal a source value.
                    let local =
                        if source_value.is_empty() { format!("person_id:{pid}") } else { source_value.to_owned() };
                    (ctx.key.local_person_id(ctx.source, &local), false, String::new())
                }
            };
            if let Some((other, line)) = st.persons.pseudonyms.get(&person) {
                let what = if linked { "the same NHS number" } else { "the same person_source_value" };
                return Err(problem(
                    row.name(psv_col, "person_source_value"),
                    "duplicate record",
                    format!("{what} as person_id {other} at line {line}, which was kept"),
                ));
            }
            let sex = match row.int(gender_col, "gender_concept_id").ok().flatten() {
                Some(8507) => "male",
                Some(8532) => "female",
                Some(8521) => "other",
                _ => match row.get(gender_source_col).to_ascii_lowercase().as_str() {
                    "m" | "male" => "male",
                    "f" | "female" => "female",
                    _ => "unknown",
                },
            };
            let hex = person.to_hex();
            rows.get(T::PersonSource)
                .push_text(Some(&hex))
                .push_text(Some(ctx.source))
                .push_text(Some(ctx.source_type.name()))
                .push_text(Some(ctx.source_org))
                .push_bool(Some(linked))
                .push_small(Some(year as i16))
                .push_small(full.map(|d| d.month() as i16).or(month.map(|m| m as i16)))
                .push_text(Some(sex))
                .push_text(None)
                .push_text(None)
                .push_text(None)
                .push_date(death)
                .push_date(Some(ctx.extract_date))
                .end_row();
            rows.get(T::Identity)
                .push_text(Some(&hex))
                .push_text(Some(&nhs))
                .push_text(None)
                .push_text(None)
                .push_date(full)
                .push_text(None)
                .push_text(None)
                .push_text(None)
                .push_text(Some(ctx.source))
                .end_row();
            st.persons.pseudonyms.insert(person, (pid, row.line));
            st.persons.accepted.insert(pid, (person, Lifespan { birth: full, death }));
            st.keep_id("person", Some(pid), row.line, file_index);
            Ok(())
        })();
        if result.is_err() && !st.persons.accepted.contains_key(&pid) {
            st.persons.rejected.entry(pid).or_insert((row.line, f.display.clone()));
        }
        result
    })
}

/// The care setting of a visit: `visit_concept_id`, and for inpatient visits whether the
/// patient was admitted from the emergency room.
pub fn setting(
    visit_concept_id: i64,
    admitted_from_concept_id: Option<i64>,
    admitted_from_source_value: &str,
) -> Option<&'static str> {
    let value = admitted_from_source_value.to_ascii_lowercase();
    let from_emergency = matches!(admitted_from_concept_id, Some(8870 | 9203 | 262))
        || value.contains("emergency")
        || value.contains("a&e");
    Some(match visit_concept_id {
        9201 if from_emergency => "emergency_admission",
        9201 => "other_admission",
        262 => "emergency_admission",
        9202 | 38_004_207 => "outpatient",
        9203 => "ae",
        581_476 => "community",
        _ => return None,
    })
}

/// `visit_occurrence` → `encounter`.
fn visits(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "visit_occurrence" };
    let id = Some(cols.need(&["visit_occurrence_id"])?);
    let person = Some(cols.need(&["person_id"])?);
    let concept = Some(cols.need(&["visit_concept_id"])?);
    let start = cols.find(&["visit_start_date"]);
    let start_time = cols.find(&["visit_start_datetime"]);
    if start.is_none() && start_time.is_none() {
        cols.need(&["visit_start_date"])?;
    }
    let end = cols.find(&["visit_end_date"]);
    let end_time = cols.find(&["visit_end_datetime"]);
    let from_concept = cols.find(&["admitted_from_concept_id", "admitting_source_concept_id"]);
    let from_value = cols.find(&["admitted_from_source_value", "admitting_source_value"]);
    let ctx = io.ctx;
    let file = st.file(&f.display);
    io.each_row(st, f, "visit_occurrence", reader, id, report, |st, rows, row| {
        let visit = st.check_id("visit_occurrence", row, id, "visit_occurrence_id")?;
        let visit = visit.ok_or_else(|| problem(row.name(id, "visit_occurrence_id"), "missing value", "`visit_occurrence_id` is required"))?;
        let (person, life) = st.persons.get(row, person)?;
        let start_date = event_date(ctx, row, start, start_time, "visit_start_date", &life)?
            .ok_or_else(|| problem(row.name(start, "visit_start_date"), "missing date", "the visit start date is required"))?;
        let end_date = event_date(ctx, row, end, end_time, "visit_end_date", &life)?;
        if let Some(e) = end_date.filter(|e| *e < start_date) {
            return Err(problem(row.name(end, "visit_end_date"), "end before start", format!("the visit ends {e}, before it starts {start_date}")));
        }
        let visit_concept = row.required_int(concept, "visit_concept_id")?;
        let setting = setting(visit_concept, row.int(from_concept, "admitted_from_concept_id")?, row.get(from_value)).ok_or_else(|| {
            problem(
                row.name(concept, "visit_concept_id"),
                "unknown setting",
                format!("visit_concept_id {visit_concept} names no care setting OpenPHM maps (9201 inpatient, 262 emergency room and inpatient, 9202 outpatient, 9203 emergency room, 581476 home, 38004207 ambulatory clinic)"),
            )
        })?;
        let eid = format!("{}/{visit}", ctx.source);
        rows.get(T::Encounter)
            .push_text(Some(&eid))
            .push_text(Some(&person.to_hex()))
            .push_text(Some(setting))
            .push_date(Some(start_date))
            .push_date(end_date)
            .push_text(None)
            .push_text(Some(ctx.source_org))
            .push_text(Some(ctx.source))
            .end_row();
        st.keep_id("visit_occurrence", Some(visit), row.line, file);
        Ok(())
    })
}

/// An event's date from its date column, or its datetime column when the date is empty,
/// checked against the person's life and the extract date.
fn event_date(
    ctx: &FileCtx<'_>,
    row: &Row<'_>,
    date: Option<usize>,
    datetime: Option<usize>,
    name: &str,
    life: &Lifespan,
) -> Result<Option<NaiveDate>, Problem> {
    let col = if row.get(date).is_empty() && !row.get(datetime).is_empty() { datetime } else { date };
    let Some(d) = row.date(col, name)? else { return Ok(None) };
    check::event_date(row.name(col, name), d, life, ctx.extract_date)?;
    Ok(Some(d))
}

/// `observation_period`: checked and counted, not stored (no canonical table holds periods of
/// observation yet).
fn observation_periods(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "observation_period" };
    let id = cols.find(&["observation_period_id"]);
    let person = Some(cols.need(&["person_id"])?);
    let start = Some(cols.need(&["observation_period_start_date"])?);
    let end = Some(cols.need(&["observation_period_end_date"])?);
    let file = st.file(&f.display);
    io.each_row(st, f, "observation_period", reader, id, report, |st, _, row| {
        let period = st.check_id("observation_period", row, id, "observation_period_id")?;
        st.persons.get(row, person)?;
        let s = row
            .date(start, "observation_period_start_date")?
            .ok_or_else(|| problem(row.name(start, ""), "missing date", "the start date is required"))?;
        let e = row
            .date(end, "observation_period_end_date")?
            .ok_or_else(|| problem(row.name(end, ""), "missing date", "the end date is required"))?;
        if e < s {
            return Err(problem(
                row.name(end, ""),
                "end before start",
                format!("the period ends {e}, before it starts {s}"),
            ));
        }
        st.keep_id("observation_period", period, row.line, file);
        Ok(())
    })
}

/// Column positions of an event table.
struct EventCols {
    id: Option<usize>,
    person: Option<usize>,
    concept: Option<usize>,
    source_concept: Option<usize>,
    source_value: Option<usize>,
    date: Option<usize>,
    datetime: Option<usize>,
    end_date: Option<usize>,
    visit: Option<usize>,
    value: Option<usize>,
    unit: Option<usize>,
    unit_concept: Option<usize>,
    status: Option<usize>,
}

/// The code of an event row: from its concept, else from its source value in the vocabulary
/// of its source concept (see the module documentation).
fn resolve(
    concepts: &Concepts,
    spec: &EventSpec,
    c: &EventCols,
    row: &Row<'_>,
) -> Result<(CodeSystem, String), Problem> {
    let concept_field = row.name(c.concept, spec.concept);
    let value_field = row.name(c.source_value, spec.source_value);
    let source_field = row.name(c.source_concept, spec.source_concept);
    let value = row.get(c.source_value);
    if !concepts.supplied {
        return Err(problem(
            value_field,
            "no concept table",
            format!("no concept table supplied: cannot tell the code system of source value `{}`", check::cut(value)),
        ));
    }
    let concept_id = row.int(c.concept, spec.concept)?.unwrap_or(0);
    let why_not = if concept_id == 0 {
        format!("{concept_field} is 0")
    } else {
        match concepts.by_id.get(&concept_id) {
            Some(k) => match system_of(concepts.vocabulary(k)) {
                Some(system) => return Ok((system, check::code(concept_field, system, &k.code)?)),
                None => {
                    format!("{concept_field} {concept_id} is in vocabulary `{}`", check::cut(concepts.vocabulary(k)))
                }
            },
            None => format!("{concept_field} {concept_id} is not in the concept table supplied"),
        }
    };
    let source_text = row.get(c.source_concept);
    let source_id = row.int(c.source_concept, spec.source_concept)?.unwrap_or(0);
    let shown = if value.is_empty() { "(empty)".to_owned() } else { format!("`{}`", check::cut(value)) };
    let Some(k) = concepts.by_id.get(&source_id).filter(|_| source_id != 0) else {
        let source = match source_text {
            "" => format!("{source_field} is empty"),
            _ if source_id == 0 => format!("{source_field} is 0"),
            _ => format!("{source_field} {source_id} is not in the concept table supplied"),
        };
        return Err(problem(
            value_field,
            "unmapped code",
            format!("{why_not}, and source value {shown} is in no known vocabulary ({source})"),
        ));
    };
    let vocabulary = concepts.vocabulary(k);
    let Some(system) = system_of(vocabulary) else {
        return Err(problem(
            value_field,
            "unknown code system",
            format!(
                "{why_not}, and source value {shown} ({source_field} {source_id}) is in vocabulary `{}`: OpenPHM takes in SNOMED, LOINC, RxNorm, CVX, ICD10, OPCS4 and dm+d",
                check::cut(vocabulary)
            ),
        ));
    };
    let domain = concepts.domain(k);
    if !domain.is_empty() && !spec.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(problem(
            source_field,
            "source concept in another domain",
            format!(
                "{why_not}, and source value {shown} ({source_field} {source_id}) is a {vocabulary} concept of the {domain} domain, which {} does not hold (it holds {})",
                spec.table,
                spec.domains.join(" or ")
            ),
        ));
    }
    let code = if value.is_empty() { &*k.code } else { value };
    Ok((system, check::code(value_field, system, code)?))
}

/// `condition_occurrence`, `procedure_occurrence`, `drug_exposure`, `measurement`,
/// `observation` → `condition`, `procedure`, `medication` / `immunisation`, `observation`.
fn events(
    io: &mut Io<'_, '_>,
    st: &mut State,
    spec: &'static EventSpec,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: spec.table };
    let c = EventCols {
        id: Some(cols.need(&[spec.id])?),
        person: Some(cols.need(&["person_id"])?),
        concept: Some(cols.need(&[spec.concept])?),
        source_concept: cols.find(&[spec.source_concept]),
        source_value: cols.find(&[spec.source_value]),
        date: cols.find(&[spec.date]),
        datetime: cols.find(&[spec.datetime]),
        end_date: spec.end_date.and_then(|n| cols.find(&[n])),
        visit: cols.find(&["visit_occurrence_id"]),
        value: if spec.value { cols.find(&["value_as_number"]) } else { None },
        unit: if spec.value { cols.find(&["unit_source_value"]) } else { None },
        unit_concept: if spec.value { cols.find(&["unit_concept_id"]) } else { None },
        status: cols.find(&["condition_status_concept_id"]),
    };
    if c.date.is_none() && c.datetime.is_none() {
        cols.need(&[spec.date])?;
    }
    let ctx = io.ctx;
    let file = st.file(&f.display);
    io.each_row(st, f, spec.table, reader, c.id, report, |st, rows, row| {
        let id = st
            .check_id(spec.table, row, c.id, spec.id)?
            .ok_or_else(|| problem(row.name(c.id, spec.id), "missing value", format!("`{}` is required", spec.id)))?;
        let (person, life) = st.persons.get(row, c.person)?;
        let date = event_date(ctx, row, c.date, c.datetime, spec.date, &life)?.ok_or_else(|| {
            problem(row.name(c.date, spec.date), "missing date", format!("`{}` is required", spec.date))
        })?;
        let (system, code) = resolve(&st.concepts, spec, &c, row)?;
        let encounter = match row.int(c.visit, "visit_occurrence_id")? {
            Some(v) if v != 0 => Some(format!("{}/{v}", ctx.source)),
            _ => None,
        };
        let end = match spec.end_date {
            Some(name) => {
                let end = row.date(c.end_date, name)?;
                if let Some(e) = end.filter(|e| *e < date) {
                    return Err(problem(
                        row.name(c.end_date, name),
                        "end before start",
                        format!("the course ends {e}, before it starts {date}"),
                    ));
                }
                end
            }
            None => None,
        };
        let value = row.float(c.value, "value_as_number")?;
        let unit = match row.get(c.unit) {
            "" => row
                .int(c.unit_concept, "unit_concept_id")
                .ok()
                .flatten()
                .filter(|u| *u != 0)
                .and_then(|u| st.concepts.by_id.get(&u))
                .map(|k| k.code.to_string())
                .filter(|u| !u.is_empty()),
            u => Some(u.to_owned()),
        };
        if let Some(v) = value {
            check::plausible(row.name(c.value, "value_as_number"), system, &code, v, unit.as_deref())?;
        }
        let pid = person.to_hex();
        match spec.table {
            "condition_occurrence" => {
                let rank = (row.int(c.status, "condition_status_concept_id").ok().flatten() == Some(PRIMARY_DIAGNOSIS))
                    .then_some(1);
                rows.get(T::Condition)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_small(rank)
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "procedure_occurrence" => {
                rows.get(T::Procedure)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "drug_exposure" if system == CodeSystem::Cvx => {
                rows.get(T::Immunisation)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_small(None)
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "drug_exposure" => {
                rows.get(T::Medication)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_date(end)
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            _ => {
                rows.get(T::Observation)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_float(value)
                    .push_text(unit.as_deref())
                    .push_text(None)
                    .push_text(None)
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
        }
        st.keep_id(spec.table, Some(id), row.line, file);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_the_visit_concept() {
        assert_eq!(setting(9201, Some(0), ""), Some("other_admission"));
        assert_eq!(setting(9201, Some(8870), ""), Some("emergency_admission"));
        assert_eq!(setting(9201, None, "Emergency Room"), Some("emergency_admission"));
        assert_eq!(setting(262, None, ""), Some("emergency_admission"));
        assert_eq!(setting(9202, None, ""), Some("outpatient"));
        assert_eq!(setting(9203, None, ""), Some("ae"));
        assert_eq!(setting(581_476, None, ""), Some("community"));
        assert_eq!(setting(38_004_207, None, ""), Some("outpatient"));
        assert_eq!(setting(581_477, None, ""), None);
    }

    #[test]
    fn table_names_come_from_file_names_in_any_case() {
        let f =
            |p: &str| InputFile { path: PathBuf::from(p), display: p.to_owned(), declared: None, resource_type: None };
        assert_eq!(table_name(&f("x/PERSON.csv")), "person");
        assert_eq!(table_name(&f("Condition_Occurrence.parquet")), "condition_occurrence");
        assert_eq!(table_name(&f("concept.tsv")), "concept");
        assert_eq!(Kind::of("person").rank(), 2);
        assert!(matches!(Kind::of("condition_era"), Kind::NotStored));
        assert!(matches!(Kind::of("device_exposure"), Kind::NotTaken));
        assert!(matches!(Kind::of("manifest"), Kind::Unknown));
    }

    #[test]
    fn vocabularies_map_to_code_systems() {
        assert_eq!(system_of("SNOMED"), Some(CodeSystem::Snomed));
        assert_eq!(system_of("RxNorm Extension"), Some(CodeSystem::Rxnorm));
        assert_eq!(system_of("ICD10CM"), None);
    }
}

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

use chrono::NaiveDate;
use phm_identity::PersonId;
use phm_store::Transaction;

use crate::check::{self, Lifespan, Problem, problem};
use crate::quarantine::Reject;
use crate::report::FileReport;
use crate::rows::Rows;
use crate::{FileCtx, InputFile, Progress, Result, SourceLoad, SourceSpec};

mod concept;
mod event;
mod observation_period;
mod person;
mod reader;
mod visit;

pub use visit::setting;

use concept::concepts;
use event::{CONDITION, DRUG, EventSpec, MEASUREMENT, OBSERVATION, PROCEDURE, events};
use observation_period::observation_periods;
use person::{deaths, persons, settle_deaths};
use reader::{Next, Row, TableReader};
use visit::visits;

/// Accepted records between writes.
const BATCH_ROWS: u64 = 65_536;

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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

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
}

//! Codelists in OpenCodelists CSV form: read, checked code by code, and identified by content.
//!
//! A codelist is a CSV file with a header line. The codes are in the `code` column (or, in some
//! OpenCodelists downloads, `dmd_id`, `snomedct_id`, `snomedcode` or `ctv3_id`: see
//! [`CODE_COLUMNS`]; the caller may name another) and their descriptions usually in `term` (see
//! [`TERM_COLUMNS`]); other columns are ignored. The caller says which [`CodeSystem`] the list
//! is in; in this repository the file name says so ([`system_for_file_stem`]).
//!
//! [`Codelist::load`] fails only when the file cannot be used at all ([`LoadError`]: missing,
//! unreadable, empty, no code column). Every row is otherwise checked, and each finding is a
//! [`Problem`] with the file, line, column, the cell as written and a message saying what to
//! do. A [`Severity::Warning`] means the code was taken after normalisation; a
//! [`Severity::Error`] means the row gave no usable code. Loading goes on after errors: the
//! caller decides (the definition language refuses a definition whose codelists have errors).
//!
//! What is checked ([`ProblemKind`]):
//!
//! * each code against its system's form ([`phm_core::codes::check_code`]: SNOMED CT and dm+d
//!   ids by length, check digit and concept partition; ICD-10 `A99`/`A999`/`A99X`; OPCS-4
//!   `A999`) — [`ProblemKind::Invalid`];
//! * the damage spreadsheets do: scientific notation (`3.83E+13`) and long ids cut to 15
//!   significant digits (`42206511000001100`), both unrecoverable; decimals (`38341003.0`),
//!   zero padding (`038341003`; a SNOMED CT id never starts with `0`, so the opposite damage,
//!   dropped leading zeros, cannot happen to one) and spaces, including non-breaking ones,
//!   which are repaired with a warning;
//! * ICD-10 and OPCS-4 in lowercase, with a dot or an `X` filler, taken in the form the store
//!   holds (`E11.9` → `E119`, `I10X` → `I10`), with a warning;
//! * codes of another system: a SNOMED CT id in an ICD-10 list, an ICD-10 code in a SNOMED CT
//!   list, a Read v2 or CTV3 code anywhere;
//! * empty codes, blank rows, duplicates (kept once) and a list with no usable code.
//!
//! A loaded [`Codelist`] holds the usable codes normalised, sorted and without duplicates,
//! their terms, and a SHA-256 of the codes ([`Codelist::sha256`]) so that a result can record
//! exactly which version of a list produced it.
#![warn(missing_docs)]

mod check;
mod error;
mod file;
mod problem;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use phm_core::codes::CodeSystem;
use sha2::{Digest as _, Sha256};

pub use error::LoadError;
pub use file::{MAX_CODELIST_BYTES, ReadError, read_regular_file, size};
pub use problem::{Problem, ProblemKind, Severity};

/// The columns that may hold the codes, tried in this order when the caller names none:
/// OpenCodelists' `code`; `dmd_id` of dm+d downloads; `snomedct_id` of lists converted from
/// CTV3; `snomedcode` of some older OpenSAFELY lists; `ctv3_id` last, so that a CTV3 list
/// loaded by mistake is reported code by code as Read/CTV3 codes.
pub const CODE_COLUMNS: [&str; 5] = ["code", "dmd_id", "snomedct_id", "snomedcode", "ctv3_id"];

/// The columns that may hold the terms, tried in this order. Column names match ignoring case.
pub const TERM_COLUMNS: [&str; 4] = ["term", "description", "dmd_name", "snomedct_name"];

/// The code system of a codelist in this repository's `codelists/` folder, from its file stem.
///
/// The repository convention (`codelists/README.md`): a stem starting `icd10_` is ICD-10,
/// `dmd_` is dm+d, `opcs4_` is OPCS-4, and any other is SNOMED CT.
pub fn system_for_file_stem(stem: &str) -> CodeSystem {
    if stem.starts_with("icd10_") {
        CodeSystem::Icd10
    } else if stem.starts_with("dmd_") {
        CodeSystem::Dmd
    } else if stem.starts_with("opcs4_") {
        CodeSystem::Opcs4
    } else {
        CodeSystem::Snomed
    }
}

/// Counts the lines of the records of a file, met in order.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The 1-based line where the record read from `position` starts. csv reports where it
    /// began reading, which may be before blank lines or the `\n` of a CRLF; a record never
    /// starts with `\r` or `\n`, so those are skipped.
    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let mut start = position.and_then(|p| usize::try_from(p.byte()).ok()).unwrap_or(self.offset).max(self.offset);
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if let Some(passed) = self.text.get(self.offset..start) {
            self.line += passed.iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = start;
        }
        self.line
    }
}

/// A checked codelist: its usable codes, their terms, and what was found on the way.
#[derive(Clone, Debug)]
pub struct Codelist {
    name: String,
    path: PathBuf,
    system: CodeSystem,
    code_column: String,
    codes: Vec<String>,
    terms: Vec<Option<String>>,
    sha256: String,
    problems: Vec<Problem>,
}

impl Codelist {
    /// Reads and checks the codelist at `path`, whose codes are in `system`.
    ///
    /// Only a regular file of at most [`MAX_CODELIST_BYTES`] is read ([`read_regular_file`]);
    /// where the path may come from is for the caller to confine.
    ///
    /// `column` names the code column; without it the first of [`CODE_COLUMNS`] present is
    /// used. Fails only if the file is missing or unreadable, is not CSV, has no header, or has
    /// no such column (the error then lists the columns it has). Problems with rows are in
    /// [`Codelist::problems`], in file order.
    pub fn load(path: &Path, system: CodeSystem, column: Option<&str>) -> Result<Self, LoadError> {
        let bytes = read_regular_file(path, MAX_CODELIST_BYTES).map_err(|e| match e {
            ReadError::Io(source) => LoadError::Io { path: path.to_owned(), source },
            source => LoadError::Refused { path: path.to_owned(), source },
        })?;
        let csv_error = |source: csv::Error| LoadError::Csv {
            path: path.to_owned(),
            line: source.position().map_or(0, csv::Position::line),
            source,
        };
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
        let mut records = reader.byte_records();
        let header = match records.next() {
            None => return Err(LoadError::NoHeader { path: path.to_owned() }),
            Some(record) => record.map_err(csv_error)?,
        };
        // csv's own line numbers are wrong after blank lines and in CRLF files
        // (BurntSushi/rust-csv#395), which is how spreadsheets on Windows save; so lines are
        // counted here from where each record really starts.
        let mut lines = LineCounter { text: &bytes, offset: 0, line: 1 };
        let header_line = lines.line_at(header.position());
        let columns: Vec<String> =
            header.iter().map(|name| String::from_utf8_lossy(name).trim_matches(check::is_space).to_owned()).collect();
        let find = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
        let code_index = match column {
            Some(name) => find(name),
            None => CODE_COLUMNS.iter().find_map(|name| find(name)),
        }
        .ok_or_else(|| LoadError::NoCodeColumn {
            path: path.to_owned(),
            wanted: column.map(str::to_owned),
            columns: columns.clone(),
        })?;
        let term_index = TERM_COLUMNS.iter().find_map(|name| find(name));
        let code_column = columns.get(code_index).cloned().unwrap_or_default();

        let problem = |line: u64, value: &str, kind: ProblemKind, message: String| Problem {
            path: path.to_owned(),
            line,
            column: code_column.clone(),
            value: value.to_owned(),
            kind,
            message,
        };
        let mut problems = Vec::new();
        // code → (first line, term)
        let mut found: BTreeMap<String, (u64, Option<String>)> = BTreeMap::new();
        for record in records {
            let record = record.map_err(csv_error)?;
            let line = lines.line_at(record.position());
            let cell = |index: usize| String::from_utf8_lossy(record.get(index).unwrap_or_default()).into_owned();
            let raw = cell(code_index);
            if record.iter().all(|field| String::from_utf8_lossy(field).trim_matches(check::is_space).is_empty()) {
                let message = "blank row ignored (spreadsheets often leave these at the end)".to_owned();
                problems.push(problem(line, &raw, ProblemKind::BlankRow, message));
                continue;
            }
            let checked = check::check_cell(system, &raw);
            for (kind, message) in checked.findings {
                problems.push(problem(line, &raw, kind, message));
            }
            let Some(code) = checked.code else { continue };
            if let Some((first_line, _)) = found.get(&code) {
                let message = format!("`{code}` is also on line {first_line}; kept once");
                problems.push(problem(line, &raw, ProblemKind::Duplicate { first_line: *first_line }, message));
                continue;
            }
            let term =
                term_index.map(cell).map(|t| t.trim_matches(check::is_space).to_owned()).filter(|t| !t.is_empty());
            found.insert(code, (line, term));
        }
        if found.is_empty() && !problems.iter().any(|p: &Problem| p.severity() == Severity::Error) {
            let message = format!(
                "the codelist has no usable {} code, so a definition using it would match nobody",
                check::label(system)
            );
            problems.push(problem(header_line, "", ProblemKind::NoCodes, message));
        }
        problems.sort_by_key(|p| p.line);

        let (codes, terms): (Vec<String>, Vec<Option<String>>) =
            found.into_iter().map(|(code, (_, term))| (code, term)).unzip();
        let mut hasher = Sha256::new();
        for code in &codes {
            hasher.update(code.as_bytes());
            hasher.update(b"\n");
        }
        Ok(Self {
            name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            path: path.to_owned(),
            system,
            code_column,
            codes,
            terms,
            sha256: hex::encode(hasher.finalize()),
            problems,
        })
    }

    /// The list's name: its file stem (`codelists/hypertension.csv` → `hypertension`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was read from, as given to [`Codelist::load`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The code system the list was declared to be in.
    pub fn system(&self) -> CodeSystem {
        self.system
    }

    /// The column the codes were read from, as the header spells it.
    pub fn code_column(&self) -> &str {
        &self.code_column
    }

    /// The usable codes, normalised to the form the store holds, sorted (by bytes) and without
    /// duplicates. Rows with errors are not here.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// How many usable codes the list has.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the list has no usable code (then either rows have errors or a
    /// [`ProblemKind::NoCodes`] error says so).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Whether `code`, written as the store holds it (normalised, as in [`Codelist::codes`]),
    /// is in the list.
    pub fn contains(&self, code: &str) -> bool {
        self.index(code).is_some()
    }

    /// The term given for `code` on its first line, if the list has a term column and the row
    /// a term.
    pub fn term(&self, code: &str) -> Option<&str> {
        self.index(code).and_then(|i| self.terms.get(i)).and_then(Option::as_deref)
    }

    /// The SHA-256, in lower-case hex, of the normalised codes each followed by a newline, in
    /// the order of [`Codelist::codes`]. Terms, column order, spacing and duplicates do not
    /// change it; any added, removed or changed code does. For a clean `code,term` file it
    /// equals `tail -n +2 FILE | cut -d, -f1 | LC_ALL=C sort -u | sha256sum`.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Everything found while reading, in file order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems that left a row without a usable code.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity() == Severity::Error)
    }

    /// Whether any row (or the list as a whole) has an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    fn index(&self, code: &str) -> Option<usize> {
        self.codes.binary_search_by(|c| c.as_str().cmp(code)).ok()
    }
}

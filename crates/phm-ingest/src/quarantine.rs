//! Rejected records: where they were, what was wrong, and the record itself.
//!
//! Quarantine files live in the snapshot's *restricted* tree (`restricted/N/quarantine/`),
//! because a rejected record may hold an NHS number or a name. They are CSV so that a data
//! manager can open them in anything.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use phm_store::{FileEntry, Transaction, Tree};

use crate::report::FileReport;
use crate::{Error, Result};

/// The longest stretch of a rejected record kept in the quarantine file.
pub const RECORD_EXCERPT: usize = 2_000;

/// One rejected record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// Line (NDJSON) or data-row line (CSV) in the file.
    pub line: u64,
    /// Resource type or table of the record, when known.
    pub record_type: String,
    /// The record's own identifier, when known.
    pub record_id: String,
    /// The field at fault (FHIR path or column), or empty for the whole record.
    pub field: String,
    /// Short reason class, the same for like problems (for counting): e.g. `invalid NHS number`.
    pub kind: &'static str,
    /// The full reason, with the values that make it specific.
    pub reason: String,
    /// The record, cut to [`RECORD_EXCERPT`] bytes (written defused: see [`csv_field`]).
    pub record: String,
}

impl Reject {
    /// A reject of the whole line with no parsed content.
    pub fn line(line: u64, kind: &'static str, reason: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            line,
            record_type: String::new(),
            record_id: String::new(),
            field: String::new(),
            kind,
            reason: reason.into(),
            record: excerpt(bytes),
        }
    }
}

/// The record as text for the quarantine file: lossy UTF-8, cut at [`RECORD_EXCERPT`] bytes.
pub fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(RECORD_EXCERPT)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > RECORD_EXCERPT {
        text.push_str(" …[cut]");
    }
    text
}

/// The header of a quarantine file.
pub const COLUMNS: [&str; 8] = ["file", "line", "record_type", "record_id", "field", "kind", "reason", "record"];

/// Writes one source's quarantine file.
pub struct QuarantineWriter {
    path: PathBuf,
    name: String,
    out: Option<BufWriter<File>>,
    rows: u64,
}

impl QuarantineWriter {
    /// A quarantine file for `source` in the transaction's restricted tree (created on the
    /// first reject only).
    pub fn new(tx: &mut Transaction, source: &str) -> Result<Self> {
        let (path, name) = tx.new_file(Tree::Restricted, "quarantine", source, "csv")?;
        Ok(Self { path, name, out: None, rows: 0 })
    }

    /// Appends a reject from `file` (the path as given), without counting it.
    fn write(&mut self, file: &str, reject: &Reject) -> Result<()> {
        let io = |source| Error::Io { path: self.path.clone(), source };
        if self.out.is_none() {
            let mut out = BufWriter::new(File::create(&self.path).map_err(io)?);
            writeln!(out, "{}", COLUMNS.join(",")).map_err(io)?;
            self.out = Some(out);
        }
        let Some(out) = self.out.as_mut() else { return Ok(()) };
        let line = reject.line.to_string();
        let fields = [
            file,
            &line,
            &reject.record_type,
            &reject.record_id,
            &reject.field,
            reject.kind,
            &reject.reason,
            &reject.record,
        ];
        let text: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", text.join(",")).map_err(|source| Error::Io { path: self.path.clone(), source })?;
        self.rows += 1;
        Ok(())
    }

    /// Quarantines a record of `file` and counts it in the file's report: rejected, and by
    /// reason. Every format rejects through here, so the counts and the file agree.
    pub fn reject(&mut self, report: &mut FileReport, file: &str, reject: &Reject) -> Result<()> {
        report.rejected += 1;
        if reject.kind == crate::check::PLACEHOLDER_NHS_NUMBER {
            report.placeholder_nhs_numbers += 1;
        }
        *report.reasons.entry(reject.kind.to_owned()).or_default() += 1;
        self.write(file, reject)
    }

    /// Finishes the file; `None` if nothing was rejected.
    pub fn finish(self) -> Result<Option<FileEntry>> {
        let Some(out) = self.out else { return Ok(None) };
        let file = out.into_inner().map_err(|e| Error::Io { path: self.path.clone(), source: e.into_error() })?;
        file.sync_all().map_err(|source| Error::Io { path: self.path.clone(), source })?;
        let bytes = file.metadata().map_err(|source| Error::Io { path: self.path.clone(), source })?.len();
        Ok(Some(FileEntry {
            tree: Tree::Restricted,
            table: "quarantine".into(),
            name: self.name,
            rows: self.rows,
            bytes,
        }))
    }
}

/// One CSV field, quoted when it must be, and defused against formula injection as OWASP
/// advises ("CSV Injection"): a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is one a spreadsheet would run as a formula, so it is prefixed with a single quote
/// (and then quoted). A data manager opening the quarantine sees the text, not its result.
pub fn csv_field(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if formula { format!("'{text}") } else { text.to_owned() };
    if formula || text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_prefixed_with_a_quote() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://evil.test\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\""
        );
        for cell in ["+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            let out = csv_field(cell);
            assert!(out.starts_with("\"'"), "{cell:?} -> {out:?}");
        }
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("1=1"), "1=1");
    }
}

//! What an ingest did, file by file: counts that reconcile, and reasons.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Counts for one input file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FileReport {
    /// The file as given.
    pub path: String,
    /// Format name.
    pub format: String,
    /// Records the sender declared (manifest), if any.
    pub declared: Option<u64>,
    /// Records read: NDJSON lines, CSV data rows.
    pub read: u64,
    /// Records accepted into the store.
    pub accepted: u64,
    /// Records quarantined.
    pub rejected: u64,
    /// Rejects by reason class.
    pub reasons: BTreeMap<String, u64>,
    /// Records read by resource type (FHIR), including ones not taken in.
    pub record_types: BTreeMap<String, u64>,
    /// Rows written, by table.
    pub rows: BTreeMap<String, u64>,
    /// Physical lines of a delimited (CSV) file, counted as read: the header, blank lines and
    /// every line of every record. `None` for formats whose records are not counted by line
    /// here (NDJSON has one record per line, so `read` is its line count; Parquet has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    /// Lines of a delimited file that hold no record: the header row and blank lines.
    #[serde(skip_serializing_if = "is_zero")]
    pub non_record_lines: u64,
    /// Lines that continue a record begun on an earlier line (a quoted field holding a line
    /// break). Shown in the summary, so that one record swallowing many lines cannot hide.
    #[serde(skip_serializing_if = "is_zero")]
    pub continuation_lines: u64,
    /// Records whose NHS number is a placeholder (all one digit, `0123456789`, ...) that passes
    /// Modulus 11: not used to link (see `check::placeholder_nhs_number`).
    #[serde(skip_serializing_if = "is_zero")]
    pub placeholder_nhs_numbers: u64,
    /// People kept apart from the person the store holds under the same NHS number, because
    /// their sex and date of birth both differ from every other source's record of it.
    #[serde(skip_serializing_if = "is_zero")]
    pub identity_conflicts: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FileReport {
    /// Whether read = accepted + rejected and, for a delimited file, whether every physical
    /// line is accounted for: lines = header and blank lines + records + continuation lines.
    pub fn reconciles(&self) -> bool {
        self.read == self.accepted + self.rejected
            && self.lines.is_none_or(|lines| lines == self.non_record_lines + self.read + self.continuation_lines)
    }
}

/// One source as loaded (or skipped).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceReport {
    /// Source name.
    pub source: String,
    /// Kind of sender.
    pub source_type: String,
    /// `loaded`, `unchanged` (same fingerprint as the store holds), `older` (refused: an older
    /// extract than the one held).
    pub outcome: String,
    /// The input files.
    pub files: Vec<FileReport>,
}

impl SourceReport {
    fn total(&self, f: impl Fn(&FileReport) -> u64) -> u64 {
        self.files.iter().map(f).sum()
    }
}

/// The whole ingest.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// The snapshot committed, if any.
    pub snapshot: Option<u64>,
    /// Per source.
    pub sources: Vec<SourceReport>,
    /// Linkage and person resolution.
    pub linkage: serde_json::Value,
    /// Seconds taken.
    pub seconds: f64,
    /// Input bytes.
    pub bytes: u64,
}

impl IngestReport {
    /// Files over all sources.
    pub fn files(&self) -> impl Iterator<Item = &FileReport> {
        self.sources.iter().flat_map(|s| s.files.iter())
    }

    /// Totals (read, accepted, rejected).
    pub fn totals(&self) -> (u64, u64, u64) {
        self.files().fold((0, 0, 0), |(r, a, q), f| (r + f.read, a + f.accepted, q + f.rejected))
    }

    /// Whether every file reconciles.
    pub fn reconciles(&self) -> bool {
        self.files().all(FileReport::reconciles)
    }

    /// The one-screen summary.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let (read, accepted, rejected) = self.totals();
        match self.snapshot {
            Some(id) => {
                let _ = writeln!(out, "Snapshot {id} committed.");
            }
            None => out.push_str("Nothing changed: no snapshot committed.\n"),
        }
        let _ = writeln!(
            out,
            "{:<34} {:>6} {:>12} {:>12} {:>10}  {}",
            "source", "files", "read", "accepted", "rejected", "outcome"
        );
        // One line per source when they fit on a screen; otherwise one per kind of sender,
        // with any source that rejected records or was not loaded still named.
        let grouped = self.sources.len() > 16;
        let mut kinds: BTreeMap<(String, String), (usize, usize, u64, u64, u64)> = BTreeMap::new();
        for s in &self.sources {
            let notable = s.total(|f| f.rejected) > 0 || s.outcome.starts_with("refused");
            if grouped && !notable {
                let e = kinds.entry((s.source_type.clone(), s.outcome.clone())).or_default();
                e.0 += 1;
                e.1 += s.files.len();
                e.2 += s.total(|f| f.read);
                e.3 += s.total(|f| f.accepted);
                e.4 += s.total(|f| f.rejected);
                continue;
            }
            let _ = writeln!(
                out,
                "{:<34} {:>6} {:>12} {:>12} {:>10}  {}",
                crate::check::cut_to(&s.source, 34),
                s.files.len(),
                s.total(|f| f.read),
                s.total(|f| f.accepted),
                s.total(|f| f.rejected),
                s.outcome
            );
        }
        for ((kind, outcome), (n, files, read, accepted, rejected)) in &kinds {
            let label = format!("{n} × {kind}");
            let _ = writeln!(
                out,
                "{:<34} {files:>6} {read:>12} {accepted:>12} {rejected:>10}  {outcome}",
                crate::check::cut_to(&label, 34)
            );
        }
        let _ =
            writeln!(out, "{:<34} {:>6} {:>12} {:>12} {:>10}", "total", self.files().count(), read, accepted, rejected);
        let check = if self.reconciles() {
            "✓ read = accepted + rejected for every file"
        } else {
            "✗ COUNTS DO NOT RECONCILE"
        };
        let _ = writeln!(out, "{check}");
        for f in self.files().filter(|f| f.continuation_lines > 0) {
            let _ = writeln!(
                out,
                "! {}: {} lines continue a record begun on an earlier line (quoted fields with line breaks)",
                f.path, f.continuation_lines
            );
        }
        let mismatched: Vec<_> = self.files().filter(|f| f.declared.is_some_and(|d| d != f.read)).collect();
        for f in &mismatched {
            let _ = writeln!(
                out,
                "! {}: the manifest declares {} records, {} were read",
                f.path,
                f.declared.unwrap_or(0),
                f.read
            );
        }
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for f in self.files() {
            for (k, v) in &f.reasons {
                *reasons.entry(k).or_default() += v;
            }
        }
        if !reasons.is_empty() {
            out.push_str("Rejected, by reason (details in the quarantine files):\n");
            let mut v: Vec<_> = reasons.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1));
            for (k, n) in v.iter().take(12) {
                let _ = writeln!(out, "  {n:>10}  {k}");
            }
        }
        if let Some(obj) = self.linkage.as_object() {
            if !obj.is_empty() {
                out.push_str("Linkage:\n");
                let width = obj.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in obj {
                    let text = match v {
                        serde_json::Value::Object(m) if m.is_empty() => "none".to_owned(),
                        serde_json::Value::Object(m) => m
                            .iter()
                            .map(|(k, v)| format!("{k}: {}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                            .collect::<Vec<_>>()
                            .join("; "),
                        other => other.to_string(),
                    };
                    let _ = writeln!(out, "  {:<width$} {text}", k.replace('_', " "));
                }
            }
        }
        let mb = self.bytes as f64 / 1e6;
        let _ = writeln!(
            out,
            "{mb:.1} MB in {:.1} s ({:.1} MB/s)",
            self.seconds,
            if self.seconds > 0.0 { mb / self.seconds } else { 0.0 }
        );
        out
    }
}

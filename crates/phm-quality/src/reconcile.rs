//! Each source's ingest as the manifest recorded it: records read, accepted and rejected per
//! file, with reasons. The report is in the `summary.ingest` of the snapshot that loaded the
//! source (`loaded_in`), which may be an earlier one than the snapshot assessed.

use std::collections::{BTreeMap, HashMap};

use phm_store::{SnapshotManifest, Store, Tree};
use serde::Deserialize;

use crate::checks::Emitter;
use crate::report::{ReasonCount, SourceSummary};
use crate::{Ctx, SourceInfo};

/// One file of an ingest report (`phm_ingest::report::FileReport`, as JSON).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct FileReport {
    path: String,
    declared: Option<u64>,
    read: u64,
    accepted: u64,
    rejected: u64,
    reasons: BTreeMap<String, u64>,
    lines: Option<u64>,
    non_record_lines: u64,
    continuation_lines: u64,
    placeholder_nhs_numbers: u64,
    identity_conflicts: u64,
}

impl FileReport {
    /// Read = accepted + rejected and, for a delimited file, every line a header or blank line,
    /// a record or a record's continuation (as `phm_ingest::report::FileReport::reconciles`).
    fn reconciles(&self) -> bool {
        self.read == self.accepted + self.rejected
            && self.lines.is_none_or(|l| l == self.non_record_lines + self.read + self.continuation_lines)
    }
}

/// One source of an ingest report (`phm_ingest::report::SourceReport`, as JSON).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct SourceReport {
    source: String,
    outcome: String,
    files: Vec<FileReport>,
}

/// The ingest report that loaded `source`, if the store still holds it.
fn ingest_report(ctx: &Ctx<'_>, source: &SourceInfo) -> Option<SourceReport> {
    let this = ctx.snapshot.manifest();
    let older;
    let manifest: &SnapshotManifest = if source.loaded_in == this.snapshot {
        this
    } else {
        // snapshots/<id>/ → the store root.
        let root = ctx.snapshot.dir().parent()?.parent()?;
        older = Store::open(root).and_then(|s| s.snapshot(source.loaded_in)).ok()?;
        older.manifest()
    };
    let reports: Vec<SourceReport> = serde_json::from_value(manifest.summary.get("ingest")?.clone()).ok()?;
    reports.into_iter().find(|r| r.source == source.name && r.outcome == "loaded")
}

/// The summary of `source`, with its ingest checks emitted.
pub(crate) fn summarise(ctx: &Ctx<'_>, source: &SourceInfo, emit: &mut Emitter<'_>) -> SourceSummary {
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(entry) = ctx.snapshot.manifest().sources.get(&source.name) {
        for f in entry.files.iter().filter(|f| f.tree == Tree::Analytical) {
            *rows.entry(f.table.clone()).or_default() += f.rows;
        }
    }
    let mut summary = SourceSummary {
        source: source.name.clone(),
        source_type: source.source_type.clone(),
        source_org: source.source_org.clone(),
        format: source.format.clone(),
        extract_date: source.extract_date.map(|d| d.to_string()),
        loaded_in: source.loaded_in,
        rows,
        ..SourceSummary::default()
    };
    let Some(report) = ingest_report(ctx, source) else { return summary };
    let (read, accepted, rejected) =
        report.files.iter().fold((0, 0, 0), |(r, a, q), f| (r + f.read, a + f.accepted, q + f.rejected));
    let mut reasons: HashMap<&str, u64> = HashMap::new();
    for f in &report.files {
        for (k, v) in &f.reasons {
            *reasons.entry(k).or_default() += v;
        }
    }
    let mut reasons: Vec<(&str, u64)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    reasons.truncate(5);
    summary.read = Some(read);
    summary.accepted = Some(accepted);
    summary.rejected = Some(rejected);
    summary.rejected_percent = (read > 0).then(|| 100.0 * rejected as f64 / read as f64);
    summary.top_reasons = reasons.iter().map(|(r, n)| ReasonCount { reason: (*r).to_owned(), count: *n }).collect();

    let s = source.as_ref();
    let detail = (!reasons.is_empty()).then(|| {
        let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!("Commonest reasons: {}.", list.join(", "))
    });
    let placeholders: u64 = report.files.iter().map(|f| f.placeholder_nhs_numbers).sum();
    emit.rate("plausibleNhsNumber", &s, "", "", placeholders, read, None);
    let conflicts: u64 = report.files.iter().map(|f| f.identity_conflicts).sum();
    emit.rate("plausibleIdentityLinkage", &s, "", "", conflicts, read, None);
    emit.rate("quarantineRate", &s, "", "", rejected, read, detail);
    let bad: Vec<&FileReport> =
        report.files.iter().filter(|f| !f.reconciles() || f.declared.is_some_and(|d| d != f.read)).collect();
    let detail = (!bad.is_empty()).then(|| {
        let list: Vec<String> = bad
            .iter()
            .take(3)
            .map(|f| match f.declared {
                Some(d) if d != f.read => format!("{}: declared {d}, read {}", f.path, f.read),
                _ if f.read != f.accepted + f.rejected => {
                    format!("{}: read {}, accepted {}, rejected {}", f.path, f.read, f.accepted, f.rejected)
                }
                _ => format!(
                    "{}: {} lines, but {} header and blank, {} records and {} continuation lines",
                    f.path,
                    f.lines.unwrap_or_default(),
                    f.non_record_lines,
                    f.read,
                    f.continuation_lines
                ),
            })
            .collect();
        format!("{}{}.", list.join("; "), if bad.len() > 3 { "; …" } else { "" })
    });
    emit.rate("ingestReconciliation", &s, "", "", bad.len() as u64, report.files.len() as u64, detail);
    summary
}

//! The data-quality report of one store snapshot, modelled on the OHDSI Data Quality Dashboard.
//!
//! ```text
//! snapshot ──► person (linked) ──► people: birth, sex, death     (held: one small record each)
//!          ──► person_source ──► per-source demographics checks; linkage across sources
//!          ──► each source's event tables, batch by batch, sources in parallel
//!                 ──► conformance, completeness, plausibility counts per (source, table)
//!          ──► manifest: each source's ingest report ──► quarantine rate, reconciliation
//!                                           │
//!                           thresholds (reference/quality-thresholds.csv)
//!                                           ▼
//!                 QualityReport: CheckResult per (check, source, table, field)
//! ```
//!
//! Every result names a check in DQD's style (`isForeignKey`, `measureValueCompleteness`,
//! `plausibleDuringLife`, ...; [`checks::CHECKS`] lists them with their Kahn category), the
//! source, table and field, the rows violating of the rows checked, the percentage, the
//! threshold it is held to and whether it passed. A check with nothing to check (no rows with a
//! death date, no sex-specific codes) is not reported. Thresholds and the plain-English
//! descriptions are data, in `reference/quality-thresholds.csv` ([`thresholds`]).
//!
//! Tables are read column-wise, one file and one batch at a time; what is held across files is
//! one small record per person (for the relational and plausibility checks), and per source
//! the hashes of its encounter ids and of its event rows (for references and duplicates).
//! Rows are attributed to the source that owns their file in the manifest (ingest writes each
//! source's rows, whose `source` column names it, to files of its own).
//!
//! **Architecture invariant:** reads a committed snapshot and nothing else; the report holds
//! counts, codes and source names, never a person id or any other person-level value.
#![warn(missing_docs)]

pub mod checks;
pub mod error;
mod events;
mod persons;
mod plausible;
mod reconcile;
pub mod report;
mod scan;
pub mod thresholds;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use phm_core::reference::ReferenceData;
use phm_store::{Snapshot, Tree};
use rayon::prelude::*;

pub use error::{Error, Result};
pub use report::{CheckResult, QualityReport, ReasonCount, SourceSummary, Status};
pub use thresholds::{Thresholds, Unit};

use checks::{CHECKS, Emitter, SourceRef};

/// Source name of results about the linked `person` table, which no one source owns.
pub const LINKED: &str = "*";

/// One source as the manifest describes it.
#[derive(Clone, Debug)]
pub(crate) struct SourceInfo {
    pub name: String,
    pub source_type: String,
    pub source_org: String,
    pub format: String,
    pub extract_date: Option<NaiveDate>,
    pub loaded_in: u64,
}

impl SourceInfo {
    pub(crate) fn as_ref(&self) -> SourceRef {
        SourceRef { name: self.name.clone(), source_type: self.source_type.clone() }
    }

    /// The extract date as an Arrow `Date32`.
    pub(crate) fn extract32(&self) -> Option<i32> {
        self.extract_date.map(phm_store::batch::date32)
    }
}

/// A set of known codes (practices, areas) and where it came from, for descriptions.
pub(crate) struct Known {
    pub codes: HashSet<String>,
    pub from: String,
}

/// What every part of the assessment shares.
pub(crate) struct Ctx<'a> {
    pub snapshot: &'a Snapshot,
    pub thresholds: Thresholds,
    pub sources: Vec<SourceInfo>,
    pub practices: Known,
    pub areas: Known,
    pub ranges: phm_core::reference::PlausibleRanges,
    /// SNOMED CT code → the sex it applies to.
    pub sex_specific: HashMap<String, plausible::Sex>,
    /// The sentence naming those codes.
    pub sex_specific_text: String,
}

impl Ctx<'_> {
    /// The files of `table` that source `source` owns.
    pub(crate) fn source_files(&self, source: &str, table: &str) -> Vec<PathBuf> {
        let Some(entry) = self.snapshot.manifest().sources.get(source) else { return Vec::new() };
        entry
            .files
            .iter()
            .filter(|f| f.tree == Tree::Analytical && f.table == table)
            .map(|f| self.snapshot.dir().join(&f.table).join(&f.name))
            .collect()
    }
}

/// Assesses a committed snapshot: every check on every source, and a summary per source.
pub fn assess(snapshot: &Snapshot) -> Result<QualityReport> {
    let manifest = snapshot.manifest();
    let sources: Vec<SourceInfo> = manifest
        .sources
        .iter()
        .map(|(name, s)| {
            let detail = |k: &str| s.details.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let source_type =
                Some(detail("source_type")).filter(|t| !t.is_empty()).unwrap_or_else(|| "other".to_owned());
            SourceInfo {
                name: name.clone(),
                source_type,
                source_org: detail("source_org"),
                format: detail("format"),
                extract_date: s.extract_date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                loaded_in: s.loaded_in,
            }
        })
        .collect();
    let reference = ReferenceData::builtin()?;
    let practices = known(
        snapshot,
        "practice_pcn",
        "practice_code",
        || reference.practices.iter().map(|p| p.practice_code.clone()).collect(),
        "reference/practices.csv",
    )?;
    let areas = known(
        snapshot,
        "area_deprivation",
        "area_code",
        || reference.areas.iter().map(|a| a.area_code.clone()).collect(),
        "reference/areas.csv",
    )?;
    let sex_specific = plausible::sex_specific_codes();
    let ctx = Ctx {
        snapshot,
        thresholds: Thresholds::builtin()?,
        sources,
        practices,
        areas,
        ranges: phm_core::reference::PlausibleRanges::builtin()?,
        sex_specific_text: plausible::describe_sex_specific(&sex_specific),
        sex_specific: sex_specific.into_iter().map(|c| (c.code, c.sex)).collect(),
    };

    let mut emit = Emitter::new(&ctx.thresholds);
    let people = persons::people(&ctx, &mut emit)?;
    persons::person_source(&ctx, &mut emit)?;
    let per_source: Vec<Result<events::SourceEvents>> =
        ctx.sources.par_iter().map(|s| events::assess_source(&ctx, s, &people)).collect();
    let mut summaries = Vec::new();
    for (info, result) in ctx.sources.iter().zip(per_source) {
        let result = result?;
        emit.results.extend(result.results);
        let mut summary = reconcile::summarise(&ctx, info, &mut emit);
        if let (Some(latest), Some(extract)) = (result.latest, info.extract_date) {
            let days = (extract - latest.0).num_days();
            summary.latest_event = Some(latest.0.to_string());
            summary.days_stale = Some(days);
            let detail = format!("Latest event {} ({}); extract date {extract}.", latest.0, latest.1);
            emit.measure("sourceTimeliness", &info.as_ref(), "", "", days as f64, Some(detail));
        }
        summaries.push(summary);
    }

    let mut results = emit.results;
    let source_rank: BTreeMap<&str, usize> =
        ctx.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    const TABLE_ORDER: [&str; 11] = [
        "",
        "person_source",
        "registration",
        "encounter",
        "condition",
        "observation",
        "procedure",
        "medication",
        "immunisation",
        "opt_out",
        "person",
    ];
    let rank = |c: &CheckResult| {
        (
            source_rank.get(c.source.as_str()).copied().unwrap_or(usize::MAX),
            TABLE_ORDER.iter().position(|t| *t == c.table).unwrap_or(TABLE_ORDER.len()),
            CHECKS.iter().position(|d| d.name == c.check).unwrap_or(CHECKS.len()),
        )
    };
    results.sort_by_key(|c| rank(c));
    for s in &mut summaries {
        let mine = results.iter().filter(|c| c.source == s.source);
        let (n, failed) = mine.fold((0, 0), |(n, f), c| (n + 1, f + u64::from(c.status == Status::Fail)));
        s.checks = n;
        s.failed = failed;
    }
    Ok(QualityReport {
        snapshot: snapshot.id(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        checks: results,
        sources: summaries,
    })
}

/// The codes in `column` of reference table `table` if the snapshot holds it, else the
/// built-in list.
fn known(
    snapshot: &Snapshot,
    table: &str,
    column: &str,
    builtin: impl FnOnce() -> HashSet<String>,
    builtin_name: &str,
) -> Result<Known> {
    let files = snapshot.files(Tree::Analytical, table);
    if files.is_empty() {
        return Ok(Known {
            codes: builtin(),
            from: format!("the built-in {builtin_name} (no {table} table is loaded)"),
        });
    }
    let mut codes = HashSet::new();
    for (path, _) in &files {
        scan::scan(path, &[column], |b| {
            let a = b.text(column)?;
            codes.extend((0..b.len()).filter_map(|i| scan::opt_text(a, i)).map(str::to_owned));
            Ok(())
        })?;
    }
    Ok(Known { codes, from: format!("the {table} table loaded in the store") })
}

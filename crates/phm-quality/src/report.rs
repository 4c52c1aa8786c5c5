//! The report: check results, per-source summaries, and their CSV and text forms.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::{Category, Level};
use crate::thresholds::Unit;

/// Whether a check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The value is at or below the threshold.
    Pass,
    /// The value is above the threshold.
    Fail,
}

impl Status {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
        }
    }
}

/// One check on one source's table or field (DQD's result row).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    /// Check name (`isForeignKey`, `measureValueCompleteness`, ...).
    pub check: String,
    /// Kahn category.
    pub category: Category,
    /// Kahn subcategory; empty for completeness checks.
    pub subcategory: String,
    /// Source, table or field level.
    pub level: Level,
    /// Source name, or `*` for the linked `person` table, which no one source owns.
    pub source: String,
    /// Kind of source (`gp_practice`, `acute_trust`, ...; `linked` for `*`).
    pub source_type: String,
    /// Table; empty for source-level checks.
    pub table: String,
    /// Field; empty for table- and source-level checks.
    pub field: String,
    /// Rows (people, files) violating; for a measure in days, the days rounded.
    pub violating: u64,
    /// Rows (people, files) checked; 0 for a measure in days.
    pub denominator: u64,
    /// Percent violating (`100 × violating / denominator`), or the measure in days.
    pub value: f64,
    /// Unit of `value` and `threshold`.
    pub unit: Unit,
    /// Highest passing value (`reference/quality-thresholds.csv`).
    pub threshold: f64,
    /// `value > threshold` fails.
    pub status: Status,
    /// What the check counts, in plain English, with specifics (codes, dates, reasons).
    pub description: String,
}

/// A reason records were rejected at ingest, with its count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonCount {
    /// Reason class (`invalid code`, `date in the future`, ...).
    pub reason: String,
    /// Records.
    pub count: u64,
}

/// One source: what the manifest says about its load, and its checks' outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceSummary {
    /// Source name.
    pub source: String,
    /// Kind of sender.
    pub source_type: String,
    /// Sender's ODS (or ONS) code.
    pub source_org: String,
    /// Format it was loaded from.
    pub format: String,
    /// Extract date.
    pub extract_date: Option<String>,
    /// Snapshot in which it was loaded.
    pub loaded_in: u64,
    /// Analytical rows held, by table.
    pub rows: BTreeMap<String, u64>,
    /// Records read at ingest, when the ingest report of its load is still in the store.
    pub read: Option<u64>,
    /// Records accepted at ingest.
    pub accepted: Option<u64>,
    /// Records rejected (quarantined) at ingest.
    pub rejected: Option<u64>,
    /// Rejected as a percent of read.
    pub rejected_percent: Option<f64>,
    /// The commonest reasons for rejection, most frequent first (at most 5).
    pub top_reasons: Vec<ReasonCount>,
    /// Latest event date on or before the extract date, over its event tables.
    pub latest_event: Option<String>,
    /// Days from `latest_event` to the extract date.
    pub days_stale: Option<i64>,
    /// Checks run on it.
    pub checks: u64,
    /// Checks failed.
    pub failed: u64,
}

/// The data-quality report of one snapshot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityReport {
    /// The snapshot assessed.
    pub snapshot: u64,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// Every check result: by source in manifest order (the linked `person` table, `*`,
    /// last), then by table and check.
    pub checks: Vec<CheckResult>,
    /// One entry per source, in manifest (name) order.
    pub sources: Vec<SourceSummary>,
}

/// The header of [`QualityReport::to_csv`].
pub const CSV_HEADER: [&str; 15] = [
    "check",
    "category",
    "subcategory",
    "level",
    "source",
    "source_type",
    "table",
    "field",
    "violating",
    "denominator",
    "value",
    "unit",
    "threshold",
    "status",
    "description",
];

/// Source kinds in the order reports list them.
const KIND_ORDER: [&str; 9] = [
    "gp_practice",
    "acute_trust",
    "community_trust",
    "mental_health_trust",
    "local_authority",
    "national",
    "reference",
    "other",
    "linked",
];

fn kind_rank(kind: &str) -> (usize, String) {
    (KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(KIND_ORDER.len()), kind.to_owned())
}

/// A number for the CSV: plain decimals up to 4 places, trailing zeros removed; a tiny
/// non-zero value in scientific notation rather than as `0`.
pub fn format_value(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s };
    if s == "0" && v != 0.0 { format!("{v:.2e}") } else { s }
}

impl QualityReport {
    /// Results that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// One CSV row per check result, with the header [`CSV_HEADER`]:
    ///
    /// `check, category, subcategory, level, source, source_type, table, field` say what was
    /// checked; `violating` of `denominator` rows failed it, `value` is the percent (or, for
    /// `unit` = `days`, the measure itself), `threshold` the highest passing value, `status`
    /// `pass` or `fail`, and `description` says in words what was counted.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rows: Vec<[String; 15]> = Vec::with_capacity(self.checks.len());
        for c in &self.checks {
            rows.push([
                c.check.clone(),
                c.category.name().to_owned(),
                c.subcategory.clone(),
                c.level.name().to_owned(),
                c.source.clone(),
                c.source_type.clone(),
                c.table.clone(),
                c.field.clone(),
                c.violating.to_string(),
                c.denominator.to_string(),
                format_value(c.value),
                c.unit.name().to_owned(),
                format_value(c.threshold),
                c.status.name().to_owned(),
                c.description.clone(),
            ]);
        }
        // Writing to memory cannot fail.
        let _ = w.write_record(CSV_HEADER);
        for r in &rows {
            let _ = w.write_record(r);
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The one-screen summary: per kind of source, checks passed and failed, and the checks
    /// that fail in the most sources of that kind (with the worst source).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let failed = self.failures().count();
        let sources = self.sources.len();
        let _ = writeln!(
            out,
            "Data quality of snapshot {}: {} checks on {sources} source{}; {} pass, {failed} fail.",
            self.snapshot,
            self.checks.len(),
            if sources == 1 { "" } else { "s" },
            self.checks.len() - failed
        );
        // Per kind: sources, checks, passes, failures.
        let mut kinds: BTreeMap<(usize, String), (u64, u64, u64)> = BTreeMap::new();
        for s in &self.sources {
            kinds.entry(kind_rank(&s.source_type)).or_default().0 += 1;
        }
        for c in &self.checks {
            let e = kinds.entry(kind_rank(&c.source_type)).or_default();
            e.1 += 1;
            e.2 += u64::from(c.status == Status::Fail);
        }
        let _ =
            writeln!(out, "\n{:<22} {:>8} {:>9} {:>9} {:>7}", "kind of source", "sources", "checks", "pass", "fail");
        for ((_, kind), (n, checks, fails)) in &kinds {
            let n = if kind == "linked" { "-".to_owned() } else { n.to_string() };
            let _ = writeln!(out, "{kind:<22} {n:>8} {checks:>9} {:>9} {fails:>7}", checks - fails);
        }
        // Failures grouped by kind and check, then by how many sources fail and how badly.
        struct Group<'a> {
            ran: u64,
            failed: u64,
            worst: &'a CheckResult,
        }
        // Kind of source, check, table, field.
        type GroupKey<'a> = (String, &'a str, &'a str, &'a str);
        let mut groups: HashMap<GroupKey<'_>, Group<'_>> = HashMap::new();
        for c in &self.checks {
            let key = (c.source_type.clone(), c.check.as_str(), c.table.as_str(), c.field.as_str());
            let g = groups.entry(key).or_insert(Group { ran: 0, failed: 0, worst: c });
            g.ran += 1;
            if c.status == Status::Fail {
                g.failed += 1;
                if g.worst.status != Status::Fail || excess(c) > excess(g.worst) {
                    g.worst = c;
                }
            }
        }
        let mut failing: Vec<(&GroupKey<'_>, &Group<'_>)> = groups.iter().filter(|(_, g)| g.failed > 0).collect();
        self.worst_by_source(&mut out);
        if failing.is_empty() {
            out.push_str("\nEvery check passes.\n");
            return out;
        }
        failing.sort_by(|a, b| {
            kind_rank(&a.0.0)
                .cmp(&kind_rank(&b.0.0))
                .then(b.1.failed.cmp(&a.1.failed))
                .then(excess(b.1.worst).total_cmp(&excess(a.1.worst)))
                .then(a.0.cmp(b.0))
        });
        out.push_str("\nFailing checks, by kind of source (the most widespread first; the worst source named):\n");
        const PER_KIND: usize = 5;
        let mut shown: HashMap<&str, usize> = HashMap::new();
        let mut last_kind = "";
        for (key, g) in failing.iter() {
            let kind = key.0.as_str();
            let n = shown.entry(kind).or_default();
            *n += 1;
            if kind != last_kind {
                let total = failing.iter().filter(|(k, _)| k.0 == kind).count();
                let _ = writeln!(out, "  {kind} ({total} failing check{})", if total == 1 { "" } else { "s" });
                last_kind = kind;
            }
            if *n > PER_KIND {
                if *n == PER_KIND + 1 {
                    out.push_str("    … (the CSV or JSON report lists them all)\n");
                }
                continue;
            }
            let w = g.worst;
            let (what, value) = (what(w), value(w));
            let where_ = if w.source == "*" {
                "linked person table".to_owned()
            } else if g.ran == 1 {
                w.source.clone()
            } else {
                format!("{} of {} sources; worst {}", g.failed, g.ran, w.source)
            };
            let _ = writeln!(out, "    {what:<58} {where_}: {value}");
        }
        out
    }
}

impl QualityReport {
    /// Each source's quarantine rate and its worst failing check, one line per source, so that
    /// no source's worst problem is left to the JSON (the list by kind below is cut at five
    /// checks a kind). Rates come before measures in days; among rates, the furthest over its
    /// threshold is the worst.
    fn worst_by_source(&self, out: &mut String) {
        if self.sources.is_empty() {
            return;
        }
        let width = self.sources.iter().map(|s| s.source.chars().count()).max().unwrap_or(0).clamp(6, 34);
        let _ = writeln!(out, "\nEach source: records quarantined at ingest, and its worst failing check:");
        let _ = writeln!(out, "  {:<width$}  {:<26}  worst failing check", "source", "quarantined");
        for s in &self.sources {
            let over = self
                .checks
                .iter()
                .find(|c| c.source == s.source && c.check == "quarantineRate" && c.status == Status::Fail);
            let quarantined = match (s.rejected, s.read, s.rejected_percent) {
                (Some(q), Some(r), Some(p)) => format!(
                    "{}% ({q} of {r}){}",
                    short(p),
                    over.map_or(String::new(), |c| format!(" > {}%", short(c.threshold)))
                ),
                (Some(q), Some(r), None) => format!("{q} of {r}"),
                _ => "not known".to_owned(),
            };
            let mut fails: Vec<&CheckResult> =
                self.checks.iter().filter(|c| c.source == s.source && c.status == Status::Fail).collect();
            fails.sort_by(|a, b| {
                (a.unit != Unit::Percent)
                    .cmp(&(b.unit != Unit::Percent))
                    .then(excess(b).total_cmp(&excess(a)))
                    .then(a.check.cmp(&b.check))
            });
            let worst = match fails.first() {
                None => "none: every check passes".to_owned(),
                Some(w) => {
                    let more = match fails.len() - 1 {
                        0 => String::new(),
                        1 => "; 1 more fails".to_owned(),
                        n => format!("; {n} more fail"),
                    };
                    format!("{}: {}{more}", what(w), value(w))
                }
            };
            let _ = writeln!(out, "  {:<width$}  {quarantined:<26}  {worst}", cut(&s.source, width));
        }
    }
}

/// A check and what it looked at, for the summary.
fn what(w: &CheckResult) -> String {
    match (w.table.as_str(), w.field.as_str()) {
        ("", _) => w.check.clone(),
        (t, "") => format!("{} {t}", w.check),
        (t, f) => format!("{} {t}.{f}", w.check),
    }
}

/// A result's value against its threshold, for the summary.
fn value(w: &CheckResult) -> String {
    match w.unit {
        Unit::Percent => {
            format!("{} of {} ({}% > {}%)", w.violating, w.denominator, short(w.value), short(w.threshold))
        }
        Unit::Days => format!("{} days > {}", short(w.value), short(w.threshold)),
    }
}

/// At most `n` characters of `text`, the last a `…` when it was cut.
fn cut(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(n.saturating_sub(1)).collect::<String>())
    }
}

/// How far over its threshold a result is.
fn excess(c: &CheckResult) -> f64 {
    c.value - c.threshold
}

/// A value for the summary: whole numbers as such, others to 1 or 2 decimals; a tiny non-zero
/// value as `<0.01` rather than `0`.
fn short(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 0.01 {
        format!("{v:.2}")
    } else {
        "<0.01".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short_and_never_a_misleading_zero() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(12.5), "12.5");
        assert_eq!(format_value(100.0), "100");
        assert_eq!(format_value(1.0 / 3.0), "0.3333");
        assert_eq!(format_value(2.7e-6), "2.70e-6");
    }
}

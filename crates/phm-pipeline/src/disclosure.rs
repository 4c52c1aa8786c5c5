//! Disclosure control for `phm run`'s indicator and measure tables: every aggregate file the
//! command writes is released under a policy first (the analyst policy unless told otherwise),
//! and every released table of either command is audited before anything is written.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Date32Type;
use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array};
use phm_disclosure::{Policy, PolicySet, Released, ReleasedTable, Table};
use phm_engine::IndicatorRow;

use crate::{Error, Result};

/// A policy by name (`public`, `analyst`) or `FILE.toml:NAME`.
///
/// # Errors
/// No such built-in policy, a policy file that cannot be read, or no such policy in it.
pub fn policy(spec: &str) -> Result<Policy> {
    match spec.rsplit_once(':') {
        Some((file, name)) if file.ends_with(".toml") => {
            let set = PolicySet::load(Path::new(file)).map_err(|source| Error::Policy {
                message: format!("Failed to read the disclosure policies in `{file}`"),
                source,
            })?;
            Ok(set.get(name)?.clone())
        }
        _ => Policy::builtin(spec).map_err(|source| Error::Policy {
            message: format!("No built-in disclosure policy `{spec}`: use `public`, `analyst` or `FILE.toml:NAME`"),
            source,
        }),
    }
}

/// The key of an indicator row in its disclosure table.
#[derive(Clone, Debug)]
pub struct RowKey(usize, String);

impl RowKey {
    /// The row's position in the rows released.
    pub fn index(&self) -> usize {
        self.0
    }
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

/// Releases indicator rows under `policy`: one table per indicator and index date, in which
/// each breakdown's categories add up to the `all` row. The value is declared a ratio
/// (`multiplier` × numerator / denominator, the engine's definition of it), so the disclosure
/// layer computes it from the *published* counts: under a rounding policy, a value from the
/// exact counts would give them back.
pub fn release(
    rows: &[IndicatorRow],
    multiplier: &dyn Fn(&str) -> Option<f64>,
    policy: &Policy,
) -> Result<Vec<Released<ReleasedTable<RowKey>>>> {
    let mut by_table: BTreeMap<(&str, chrono::NaiveDate), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_table.entry((r.indicator.as_str(), r.index_date)).or_default().push(i);
    }
    let mut out = Vec::new();
    for members in by_table.values() {
        let mut table = Table::new(&["numerator", "denominator"], &["value"])?;
        let first = &rows[members[0]];
        if first.method == phm_model::Method::Proportion {
            table.proportion("numerator", "denominator")?;
        }
        let Some(m) = multiplier(&first.indicator) else {
            return Err(Error::Invalid(format!("{}: no multiplier for the indicator", first.indicator)));
        };
        table.ratio("value", "numerator", "denominator", m)?;
        let mut all = None;
        let mut parts: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in members {
            let r = &rows[i];
            let count = |n: i64| {
                u64::try_from(n).map_err(|_| {
                    Error::Invalid(format!(
                        "{} {}: a negative count ({n}) cannot be released",
                        r.indicator, r.index_date
                    ))
                })
            };
            let counts = [count(r.numerator)?, count(r.denominator)?];
            let key = RowKey(i, format!("{} {} {}={}", r.indicator, r.index_date, r.breakdown, r.category));
            let cell = table.push(key, &counts, &[r.value])?;
            if r.breakdown == "all" {
                all = Some(cell);
            } else {
                parts.entry(r.breakdown.as_str()).or_default().push(cell);
            }
        }
        if let Some(total) = all {
            for p in parts.values() {
                table.group(total, p)?;
            }
        }
        out.push(phm_disclosure::release(table, policy)?);
    }
    audited(&out)?;
    Ok(out)
}

/// Refuses released tables with any figure that breaks their policy (`phm_disclosure::audit`),
/// listing the first 20, before anything is written.
///
/// # Errors
/// [`Error::Audit`] with the violations.
pub fn audited<K: std::fmt::Display>(tables: &[Released<ReleasedTable<K>>]) -> Result<()> {
    let violations: Vec<String> =
        tables.iter().flat_map(|t| phm_disclosure::audit(t.get())).map(|v| v.to_string()).collect();
    if !violations.is_empty() {
        return Err(Error::Audit { count: violations.len(), first: violations.into_iter().take(20).collect() });
    }
    Ok(())
}

/// Writes released indicator rows as `<stem>.parquet` and `<stem>.csv`, in the rows' order,
/// with a `disclosure` column saying what was done to each row's counts.
pub fn write(
    dir: &Path,
    stem: &str,
    rows: &[IndicatorRow],
    released: &[Released<ReleasedTable<RowKey>>],
) -> Result<u64> {
    let mut cells: Vec<(usize, Option<u64>, Option<u64>, Option<f64>, String)> = Vec::new();
    for t in released {
        for c in t.get().cells() {
            let counts = c.counts();
            cells.push((
                c.key().0,
                counts[0].value(),
                counts[1].value(),
                c.derived()[0].value(),
                t.get().counts_status(c),
            ));
        }
    }
    cells.sort_by_key(|c| c.0);
    let text = |f: &dyn Fn(&IndicatorRow) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(cells.iter().map(|c| f(&rows[c.0]))))
    };
    let batch = RecordBatch::try_from_iter(vec![
        ("indicator", text(&|r| &r.indicator)),
        (
            "index_date",
            Arc::new(Date32Array::from_iter_values(
                cells.iter().map(|c| Date32Type::from_naive_date(rows[c.0].index_date)),
            )) as ArrayRef,
        ),
        ("breakdown", text(&|r| &r.breakdown)),
        ("category", text(&|r| &r.category)),
        ("numerator", Arc::new(UInt64Array::from_iter(cells.iter().map(|c| c.1)))),
        ("denominator", Arc::new(UInt64Array::from_iter(cells.iter().map(|c| c.2)))),
        ("value", Arc::new(Float64Array::from_iter(cells.iter().map(|c| c.3)))),
        ("method", text(&|r| r.method.as_str())),
        ("disclosure", Arc::new(StringArray::from_iter_values(cells.iter().map(|c| c.4.as_str())))),
    ])
    .map_err(|e| Error::Invalid(format!("the released rows of `{stem}` as a table: {e}")))?;
    Ok(phm_release::write_table(dir, stem, batch.schema(), &[batch])?)
}

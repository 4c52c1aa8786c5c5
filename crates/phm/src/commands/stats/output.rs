//! The output CSV of `phm stats`: the group columns, the value and one pair of limits per
//! confidence level, the method's own columns, and `reason` when a value is not reported.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use phm_stats::{ConfidenceLevel, Limits};

/// A confidence level asked for, with the suffix of its columns (`95`, `99_8`).
#[derive(Clone, Debug)]
pub struct Level {
    /// The level.
    pub level: ConfidenceLevel,
    /// `lower_<suffix>` and `upper_<suffix>` are its columns.
    pub suffix: String,
}

/// Parses `--confidence` values: percentages (`95`, `99.8`, `95%`) or fractions (`0.95`).
pub fn levels(texts: &[String]) -> anyhow::Result<Vec<Level>> {
    let mut levels: Vec<Level> = Vec::new();
    for text in texts {
        let t = text.trim().trim_end_matches('%');
        let Some(number) = t.parse::<f64>().ok().filter(|x| x.is_finite()) else {
            bail!("--confidence: expected a percentage such as 95 or 99.8, found \"{text}\"");
        };
        let percent = if number < 1.0 { number * 100.0 } else { number };
        // Round away binary noise (0.998 × 100 = 99.80000000000001) before naming the column.
        let percent = (percent * 1e9).round() / 1e9;
        let level = ConfidenceLevel::from_percent(percent).map_err(|_| {
            anyhow::anyhow!("--confidence: expected a percentage strictly between 0 and 100, found \"{text}\"")
        })?;
        let suffix = format!("{percent}").replace('.', "_");
        if levels.iter().any(|l| l.suffix == suffix) {
            bail!("--confidence: {percent}% is asked for twice");
        }
        levels.push(Level { level, suffix });
    }
    if levels.is_empty() {
        bail!("--confidence: give at least one level, e.g. 95");
    }
    Ok(levels)
}

/// One result: a value with its limits at each level, the method's own columns, and why the
/// value is not reported when it is not.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    /// The value, if reported.
    pub value: Option<f64>,
    /// `(lower, upper)` at each level, in the order of the levels; `None` when not computed.
    pub limits: Vec<Option<(f64, f64)>>,
    /// The method's own columns, in the order of its header.
    pub columns: Vec<String>,
    /// Why the value (or a limit) is not reported.
    pub reason: Option<String>,
}

impl Estimate {
    /// A reported value with its limits at each level.
    pub fn reported(value: f64, limits: impl IntoIterator<Item = Limits>, columns: Vec<String>) -> Self {
        Self {
            value: Some(value),
            limits: limits.into_iter().map(|l| Some((l.lower, l.upper))).collect(),
            columns,
            reason: None,
        }
    }

    /// A value not reported, with its reason; `levels` is the number of confidence levels.
    pub fn not_reported(levels: usize, columns: Vec<String>, reason: impl ToString) -> Self {
        Self { value: None, limits: vec![None; levels], columns, reason: Some(reason.to_string()) }
    }
}

/// A CSV table to write.
pub struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    /// An empty table with these columns.
    pub fn new(header: Vec<String>) -> Self {
        Self { header, rows: Vec::new() }
    }

    /// The layout of an estimate table: `keys`, then `value`, `lower_<l>`, `upper_<l>` per level,
    /// then `columns`, then `reason`.
    pub fn for_estimates(keys: &[String], levels: &[Level], columns: &[&str]) -> Self {
        let mut header = keys.to_vec();
        header.push("value".to_owned());
        for l in levels {
            header.push(format!("lower_{}", l.suffix));
            header.push(format!("upper_{}", l.suffix));
        }
        header.extend(columns.iter().map(|c| (*c).to_owned()));
        header.push("reason".to_owned());
        Self::new(header)
    }

    /// Adds a row (as many cells as the header).
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    /// Adds an estimate under its key (laid out as [`Csv::for_estimates`]).
    pub fn push_estimate(&mut self, key: &[String], estimate: Estimate) {
        let mut row = key.to_vec();
        row.push(opt(estimate.value));
        for limits in &estimate.limits {
            row.push(opt(limits.map(|l| l.0)));
            row.push(opt(limits.map(|l| l.1)));
        }
        row.extend(estimate.columns);
        row.push(estimate.reason.unwrap_or_default());
        self.push(row);
    }

    /// Writes the table to `path`, or to stdout.
    pub fn write(&self, path: Option<&Path>) -> anyhow::Result<()> {
        let mut bytes = Vec::new();
        {
            let mut writer = csv::Writer::from_writer(&mut bytes);
            writer.write_record(&self.header)?;
            for row in &self.rows {
                writer.write_record(row)?;
            }
            writer.flush()?;
        }
        match path {
            Some(path) => std::fs::write(path, &bytes).with_context(|| format!("Failed to write `{}`", path.display())),
            None => {
                // A closed pipe (`phm stats … | head`) is not an error worth reporting.
                let _ = std::io::stdout().lock().write_all(&bytes);
                Ok(())
            }
        }
    }
}

/// A number as written in the output: Rust's shortest representation that reads back exactly.
pub fn num(x: f64) -> String {
    if x.is_finite() { format!("{}", x + 0.0) } else { String::new() }
}

/// An optional number; empty when absent.
pub fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

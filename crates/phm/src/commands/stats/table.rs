//! The input CSV of `phm stats`: columns found by name, cells parsed with errors that name the
//! file, line, column and value, and rows grouped in the order groups first appear.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};

/// A CSV input read whole: its header and its rows, each with the line it starts on.
pub struct Table {
    /// The file as given on the command line, for messages.
    name: String,
    columns: Vec<String>,
    rows: Vec<Row>,
}

/// One record of the input.
pub struct Row {
    /// The line of the file the record starts on (the header is line 1).
    pub line: u64,
    fields: csv::StringRecord,
}

/// A column of the input, found by [`Table::column`].
#[derive(Clone, Copy, Debug)]
pub struct Column<'a> {
    index: usize,
    /// Its name in the header.
    pub name: &'a str,
}

/// What a numeric cell must hold. An empty cell or `NA` is a *missing* value, which the
/// methods report as a reason rather than an error (see [`Table::number`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any finite number.
    Number,
    /// A finite number ≥ 0.
    NonNegative,
    /// A whole number ≥ 0 (a count), at most [`MAX_COUNT`] and written exactly: digits,
    /// optionally `.0`, or an exponent that leaves no fraction (`1e3`).
    Count,
}

/// The largest count taken: 2^53, the largest whole number below which every whole number is
/// exact in the floating point the methods compute in. A larger one would be rounded silently.
pub const MAX_COUNT: u64 = 1 << 53;

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Number => "a number",
            Self::NonNegative => "a number ≥ 0",
            Self::Count => "a whole number ≥ 0",
        })
    }
}

/// Rows that share the values of the group-by columns, in input order.
pub struct Group {
    /// The values of the group-by columns (empty when there are none).
    pub key: Vec<String>,
    /// Indexes into [`Table::rows`], in input order.
    pub rows: Vec<usize>,
}

impl Table {
    /// Reads a whole CSV file with a header row.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("Failed to open the input `{name}`"))?;
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes.as_slice());
        let header = reader.headers().map_err(|e| csv_error(&name, &e))?.clone();
        let columns: Vec<String> = header.iter().map(|c| c.trim().to_owned()).collect();
        if columns.iter().all(String::is_empty) {
            bail!("{name}: the file is empty; expected a header row naming the columns");
        }
        let mut seen = HashMap::new();
        for (i, c) in columns.iter().enumerate() {
            if let Some(first) = seen.insert(c.as_str(), i) {
                bail!("{name} line 1: column \"{c}\" appears twice (columns {} and {})", first + 1, i + 1);
            }
        }
        let mut rows = Vec::new();
        // csv's own line numbers are one short after a blank line and in CRLF files
        // (BurntSushi/rust-csv#395): lines are counted here from where each record starts.
        let mut lines = LineCounter { text: &bytes, offset: 0, line: 1 };
        lines.line_at(header.position());
        for record in reader.records() {
            let fields = record.map_err(|e| csv_error(&name, &e))?;
            let line = lines.line_at(fields.position());
            if fields.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            rows.push(Row { line, fields });
        }
        if rows.is_empty() {
            bail!("{name}: no rows after the header");
        }
        Ok(Self { name, columns, rows })
    }

    /// The file name as given, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every row, in input order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The column names of the header, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// A column the method needs.
    pub fn column(&self, name: &str) -> anyhow::Result<Column<'_>> {
        self.optional_column(name)
            .with_context(|| format!("{}: no column \"{name}\"; the columns are {}", self.name, self.column_list()))
    }

    /// A column the method can use if present.
    pub fn optional_column(&self, name: &str) -> Option<Column<'_>> {
        let index = self.columns.iter().position(|c| c == name)?;
        Some(Column { index, name: &self.columns[index] })
    }

    /// The first of several alternative columns that is present (e.g. `age_band` or
    /// `start_age`).
    pub fn one_of(&self, names: &[&str]) -> anyhow::Result<Column<'_>> {
        names.iter().find_map(|n| self.optional_column(n)).with_context(|| {
            let wanted = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" or ");
            format!("{}: no column {wanted}; the columns are {}", self.name, self.column_list())
        })
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
    }

    /// The text of a cell, trimmed.
    pub fn text<'a>(&self, row: &'a Row, column: Column<'_>) -> &'a str {
        row.fields.get(column.index).unwrap_or("").trim()
    }

    /// Every cell of a row, as written (trimmed).
    pub fn cells(&self, row: &Row) -> Vec<String> {
        (0..self.columns.len()).map(|i| row.fields.get(i).unwrap_or("").trim().to_owned()).collect()
    }

    /// A numeric cell: `Ok(None)` when it is empty or `NA` (missing), an error naming the file,
    /// line, column and value when it is not of the expected kind.
    pub fn number(&self, row: &Row, column: Column<'_>, kind: Kind) -> anyhow::Result<Option<f64>> {
        let text = self.text(row, column);
        if text.is_empty() || text.eq_ignore_ascii_case("NA") {
            return Ok(None);
        }
        if kind == Kind::Count {
            return match parse_count(text) {
                // At most 2^53: exact in f64.
                Some(n) if n <= MAX_COUNT => Ok(Some(n as f64)),
                Some(_) => Err(self.bad_cell(
                    row,
                    column,
                    &format!("a whole number ≥ 0 of at most {MAX_COUNT} (2^53, the largest counted exactly)"),
                    text,
                )),
                None => Err(self.bad_cell(row, column, &kind.to_string(), text)),
            };
        }
        let ok = text.parse::<f64>().ok().filter(|x| {
            x.is_finite()
                && match kind {
                    Kind::Number | Kind::Count => true,
                    Kind::NonNegative => *x >= 0.0,
                }
        });
        match ok {
            // -0 is 0: keep "-0" out of the output.
            Some(x) => Ok(Some(x + 0.0)),
            None => Err(self.bad_cell(row, column, &kind.to_string(), text)),
        }
    }

    /// A numeric cell that must be present.
    pub fn required_number(&self, row: &Row, column: Column<'_>, kind: Kind) -> anyhow::Result<f64> {
        match self.number(row, column, kind)? {
            Some(x) => Ok(x),
            None => Err(self.bad_cell(row, column, &kind.to_string(), self.text(row, column))),
        }
    }

    /// The error for a cell that does not hold what was expected.
    pub fn bad_cell(&self, row: &Row, column: Column<'_>, expected: &str, found: &str) -> anyhow::Error {
        let found = if found.is_empty() { "an empty cell".to_owned() } else { format!("\"{found}\"") };
        anyhow::anyhow!(
            "{} line {}, column \"{}\": expected {expected}, found {found}",
            self.name,
            row.line,
            column.name
        )
    }

    /// An error about a row as a whole (e.g. numerator greater than denominator).
    pub fn bad_row(&self, row: &Row, message: &str) -> anyhow::Error {
        anyhow::anyhow!("{} line {}: {message}", self.name, row.line)
    }

    /// Groups the rows by the values of `by`; with no columns, one group of every row.
    pub fn groups(&self, by: &[String]) -> anyhow::Result<Vec<Group>> {
        let columns = by.iter().map(|c| self.column(c)).collect::<anyhow::Result<Vec<_>>>()?;
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        for (i, row) in self.rows.iter().enumerate() {
            let key: Vec<String> = columns.iter().map(|c| self.text(row, *c).to_owned()).collect();
            let g = *index.entry(key.clone()).or_insert_with(|| {
                groups.push(Group { key, rows: Vec::new() });
                groups.len() - 1
            });
            groups[g].rows.push(i);
        }
        Ok(groups)
    }

    /// One group per row, keyed by every column except `used` (the columns the method reads):
    /// how methods that work row by row without `--group-by` keep what identifies each row.
    pub fn row_groups(&self, used: &[&str]) -> (Vec<String>, Vec<Group>) {
        let keep: Vec<usize> = (0..self.columns.len()).filter(|i| !used.contains(&self.columns[*i].as_str())).collect();
        let names = keep.iter().map(|i| self.columns[*i].clone()).collect();
        let groups = self
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| Group {
                key: keep.iter().map(|i| row.fields.get(*i).unwrap_or("").trim().to_owned()).collect(),
                rows: vec![r],
            })
            .collect();
        (names, groups)
    }
}

/// A count written as `123`, `123.0` or `1.23e2`, read exactly as a whole number (saturating
/// at `u64::MAX` when it is larger still); `None` when it is not a whole number ≥ 0.
fn parse_count(text: &str) -> Option<u64> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // The value is `digits` with the decimal point after `point` of them.
    let digits = format!("{whole}{fraction}");
    let point = i64::try_from(whole.len()).ok()?.saturating_add(exponent);
    let len = i64::try_from(digits.len()).ok()?;
    let (integer, rest) = digits.split_at(usize::try_from(point.clamp(0, len)).ok()?);
    if !rest.bytes().all(|b| b == b'0') {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let zeros = point.saturating_sub(len).max(0);
    if integer.is_empty() {
        return Some(0);
    }
    // More than 20 digits is past u64 (and far past any count).
    if i64::try_from(integer.len()).ok()?.saturating_add(zeros) > 20 {
        return Some(u64::MAX);
    }
    Some(format!("{integer}{}", "0".repeat(usize::try_from(zeros).ok()?)).parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_read_exactly_or_not_at_all() {
        for (text, want) in [
            ("0", Some(0)),
            ("000", Some(0)),
            ("12", Some(12)),
            ("012", Some(12)),
            ("12.0", Some(12)),
            ("12.", Some(12)),
            ("1.2e1", Some(12)),
            ("1200e-2", Some(12)),
            ("0.0e5", Some(0)),
            ("1e3", Some(1000)),
            ("9007199254740992", Some(MAX_COUNT)),
            ("9007199254740993", Some(MAX_COUNT + 1)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", Some(u64::MAX)),
            ("1e19", Some(10_000_000_000_000_000_000)),
            ("1e20", Some(u64::MAX)),
            ("1e999999999999", Some(u64::MAX)),
            ("12.5", None),
            ("1.25e1", None),
            ("1e-1", None),
            ("-1", None),
            ("+1", None),
            ("", None),
            (".5", None),
            ("1,000", None),
            ("NaN", None),
            ("inf", None),
            ("0x10", None),
        ] {
            assert_eq!(parse_count(text), want, "{text:?}");
        }
    }
}

/// Counts the lines of the records of a file, met in order.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The 1-based line where the record read from `position` starts: csv reports where it
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

fn csv_error(name: &str, error: &csv::Error) -> anyhow::Error {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            anyhow::anyhow!("{name} line {line}: expected {expected_len} fields like the header, found {len}")
        }
        csv::ErrorKind::Utf8 { pos, .. } => {
            let line = pos.as_ref().map_or(0, csv::Position::line);
            anyhow::anyhow!("{name} line {line}: the text is not UTF-8 (save the file as CSV UTF-8)")
        }
        _ => anyhow::anyhow!("{name}: {error}"),
    }
}

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
    /// A whole number ≥ 0 (a count).
    Count,
}

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
        let file = std::fs::File::open(path).with_context(|| format!("Failed to open the input `{name}`"))?;
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(std::io::BufReader::new(file));
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
        for record in reader.records() {
            let fields = record.map_err(|e| csv_error(&name, &e))?;
            let line = fields.position().map_or(0, csv::Position::line);
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
        self.optional_column(name).with_context(|| format!("{}: no column \"{name}\"; the columns are {}", self.name, self.column_list()))
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
        let ok = text.parse::<f64>().ok().filter(|x| {
            x.is_finite()
                && match kind {
                    Kind::Number => true,
                    Kind::NonNegative => *x >= 0.0,
                    Kind::Count => *x >= 0.0 && x.fract() == 0.0,
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
        anyhow::anyhow!("{} line {}, column \"{}\": expected {expected}, found {found}", self.name, row.line, column.name)
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
            .map(|(r, row)| Group { key: keep.iter().map(|i| row.fields.get(*i).unwrap_or("").trim().to_owned()).collect(), rows: vec![r] })
            .collect();
        (names, groups)
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

//! Reading PHEindicatormethods' test fixtures in place, and comparing numbers.
//!
//! The fixtures live in `shared/reference/pheindicatormethods-testdata/` beside the repository
//! (GPL-3; read, not copied). A missing fixture fails the test: it is never skipped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};

/// Path of a PHEindicatormethods fixture; fails the test if it is not there.
pub fn fixture(name: &str) -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/pheindicatormethods-testdata").join(name);
    assert!(
        path.is_file(),
        "PHEindicatormethods test fixture missing: {} is not a file. It is expected in \
         shared/reference/pheindicatormethods-testdata/ beside the repository.",
        path.display()
    );
    path
}

/// One cell of a fixture table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Number(f64),
    Text(String),
    Empty,
}

/// A fixture table: a header row and data rows, with where it came from for messages.
#[derive(Debug, Clone)]
pub struct Table {
    /// `file` or `file#sheet`.
    pub source: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A row of a [`Table`], for reading cells by column name.
pub struct Row<'a> {
    table: &'a Table,
    /// Index into `table.rows`.
    pub index: usize,
}

impl Table {
    /// A sheet of an .xlsx fixture; rows that are entirely empty are dropped.
    pub fn xlsx(file: &str, sheet: &str) -> Self {
        let path = fixture(file);
        let mut book: Xlsx<_> =
            open_workbook(&path).unwrap_or_else(|e| panic!("{}: not a readable .xlsx workbook: {e}", path.display()));
        let range = book
            .worksheet_range(sheet)
            .unwrap_or_else(|e| panic!("{}: no readable sheet `{sheet}`: {e}", path.display()));
        let mut rows = range.rows().map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Int(i) => Cell::Number(*i as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::String(s) => Cell::Text(s.clone()),
                    Data::Empty => Cell::Empty,
                    other => Cell::Text(other.to_string()),
                })
                .collect::<Vec<_>>()
        });
        let headers = rows
            .next()
            .unwrap_or_else(|| panic!("{}#{sheet}: the sheet is empty", path.display()))
            .into_iter()
            .map(|c| match c {
                Cell::Text(s) => s,
                Cell::Number(n) => n.to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        let rows = rows.filter(|r| r.iter().any(|c| *c != Cell::Empty)).collect();
        Self { source: format!("{file}#{sheet}"), headers, rows }
    }

    /// A CSV fixture (RFC 4180 quoting, an optional byte-order mark).
    pub fn csv(file: &str) -> Self {
        let path = fixture(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: not readable as UTF-8: {e}", path.display()));
        let mut records = parse_csv(text.trim_start_matches('\u{feff}'), file).into_iter();
        let headers = records
            .next()
            .unwrap_or_else(|| panic!("{file}: the file is empty"))
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect();
        let rows = records
            .filter(|r| r.iter().any(|c| !c.is_empty()))
            .map(|r| {
                r.into_iter()
                    .map(|c| match c.as_str() {
                        "" | "NA" => Cell::Empty,
                        s => s.parse::<f64>().map(Cell::Number).unwrap_or_else(|_| Cell::Text(s.to_string())),
                    })
                    .collect()
            })
            .collect();
        Self { source: file.to_string(), headers, rows }
    }

    /// The rows, for reading by column name.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        (0..self.rows.len()).map(|index| Row { table: self, index })
    }

    fn column(&self, name: &str) -> usize {
        self.headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column `{name}` (columns: {:?})", self.source, self.headers))
    }
}

impl Row<'_> {
    /// Where this row is, for messages: the source and its 1-based line in the file (the header
    /// is line 1; blank lines dropped from .xlsx sheets are not counted).
    pub fn at(&self, column: &str) -> String {
        format!("{} line {} column `{column}`", self.table.source, self.index + 2)
    }

    fn cell(&self, column: &str) -> &Cell {
        let c = self.table.column(column);
        self.table.rows[self.index].get(c).unwrap_or(&Cell::Empty)
    }

    /// A number that must be there.
    pub fn number(&self, column: &str) -> f64 {
        self.maybe_number(column)
            .unwrap_or_else(|| panic!("{}: expected a number, found {:?}", self.at(column), self.cell(column)))
    }

    /// A number, or `None` for an empty cell (R's `NA`).
    pub fn maybe_number(&self, column: &str) -> Option<f64> {
        match self.cell(column) {
            Cell::Number(n) => Some(*n),
            Cell::Empty => None,
            Cell::Text(t) => panic!("{}: expected a number or nothing, found text {t:?}", self.at(column)),
        }
    }

    /// Text that must be there.
    pub fn text(&self, column: &str) -> String {
        match self.cell(column) {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => panic!("{}: expected text, found an empty cell", self.at(column)),
        }
    }
}

/// Splits CSV text into records of fields.
fn parse_csv(text: &str, file: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "{file} line {line}: a quoted field is not closed");
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// Asserts `got` is within `relative` of `want` (relative to |want|, or absolute when want is
/// 0), naming what was compared.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, relative: f64) {
    let tolerance = relative * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tolerance || (want == 0.0 && got.abs() <= relative),
        "{what}: got {got}, expected {want} (relative difference {:e}, allowed {relative:e})",
        (got - want).abs() / want.abs()
    );
}

/// The European Standard Population 2013 weights from the repository's `reference/esp2013.csv`,
/// in band order (0–4, 5–9, …, 90+).
pub fn esp2013() -> Vec<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reference/esp2013.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "standard_population")
        .unwrap_or_else(|| panic!("{}: no `standard_population` column in {header:?}", path.display()));
    let weights: Vec<f64> = lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let cell = l.split(',').nth(column).unwrap_or_default();
            cell.parse().unwrap_or_else(|_| panic!("{} line {}: `{cell}` is not a number", path.display(), i + 2))
        })
        .collect();
    assert_eq!(weights.len(), 19, "{}: ESP 2013 has 19 bands", path.display());
    weights
}

/// Groups rows by the text in `column`, keeping first-seen order.
pub fn group_by<'a>(table: &'a Table, column: &str) -> Vec<(String, Vec<Row<'a>>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Row<'a>>> = HashMap::new();
    for row in table.rows() {
        let key = row.text(column);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(row);
    }
    order
        .into_iter()
        .map(|k| {
            let rows = groups.remove(&k).unwrap_or_default();
            (k, rows)
        })
        .collect()
}

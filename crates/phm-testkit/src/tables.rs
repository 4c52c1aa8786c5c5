//! Small canonical tables written as ASCII text.
//!
//! ```text
//! person | sex    | year_of_birth | month_of_birth | date_of_death | area_code
//! 1      | female | 1950          | 6              |               | SYNBE001
//! 2      | male   | 1988          |                | 2024-02-29    |
//! ```
//!
//! - The first non-blank line names the columns: store columns of the table
//!   (`phm_engine::canonical_schema`), or for event tables the language's names too
//!   (`date` of `encounter` is its `start_date`, `practice` of `registration` its
//!   `practice_code`). `person` stands for `person_id`.
//! - Cells are separated by `|`; a line may also have a `|` border on both sides
//!   (`| 1 | 2 |`). An empty cell is missing. Lines that are blank, start with `#`, or hold only `-`, `+`, `|` and `:` (a
//!   separator under the header) are skipped.
//! - Dates are `YYYY-MM-DD`, true/false are `true` / `false`.
//! - Columns not listed get defaults: on `person`, `sex` is `unknown` and both opt-outs are
//!   `false`; on event tables `code_system` is `snomed`, `source_org` `TEST`, `source`
//!   `test` and any other text column that cannot be missing is empty text. Every other
//!   column that may be missing is missing; a column that can be neither missing nor
//!   defaulted (`person_id`, an event's date) must be listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int16Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use phm_model::{EventTable, Value};

use crate::reference::arrow_value;

/// The `person_id` stored for a person cell. A store keeps pseudonyms (32 lower-case hex
/// digits, which the engine reads as two integers: `phm_engine::person_key`); tables in tests
/// name people readably (`1`, `10`, `ann`). A cell that is a pseudonym is kept; any other
/// cell of up to 16 characters becomes its bytes in hex, padded with `0` digits to 32. That
/// is one-to-one and keeps the text's order (`10` before `2`), and [`readable_person`] gives
/// the cell back.
pub fn pseudonym(cell: &str) -> Option<String> {
    if phm_engine::person_key::is_pseudonym(cell) {
        return Some(cell.to_owned());
    }
    if cell.is_empty() || cell.len() > 16 || cell.contains('\0') {
        return None;
    }
    let mut hex: String = cell.bytes().map(|b| format!("{b:02x}")).collect();
    hex.extend(std::iter::repeat_n('0', 32 - hex.len()));
    Some(hex)
}

/// The person cell a [`pseudonym`] was made from (a real pseudonym is returned as it is).
pub fn readable_person(id: &str) -> String {
    let bytes: Option<Vec<u8>> = (id.len() == 32)
        .then(|| (0..16).map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).ok()).collect())
        .flatten();
    if let Some(mut bytes) = bytes {
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        if let Ok(text) = String::from_utf8(bytes)
            && !text.is_empty()
            && text.chars().all(|c| !c.is_control())
            && pseudonym(&text).as_deref() == Some(id)
        {
            return text;
        }
    }
    id.to_owned()
}

/// The value a column takes when the text does not list it, or `None` if it must be listed.
fn default_cell(table: &str, column: &str, ty: &DataType, nullable: bool) -> Option<Option<String>> {
    if nullable {
        return Some(None);
    }
    let text = |s: &str| Some(Some(s.to_owned()));
    match (table, column) {
        (_, "person_id") => None,
        ("person", "sex") => text("unknown"),
        ("person", "national_data_opt_out" | "type_1_opt_out") => text("false"),
        (_, "code_system") => text("snomed"),
        (_, "source_org") => text("TEST"),
        (_, "source") => text("test"),
        _ if *ty == DataType::Utf8 => text(""),
        _ => None,
    }
}

/// The store column a header names.
fn store_column(table: &str, schema: &SchemaRef, name: &str) -> Option<String> {
    if name == "person" {
        return Some("person_id".to_owned());
    }
    if schema.field_with_name(name).is_ok() {
        return Some(name.to_owned());
    }
    EventTable::from_name(table).and_then(|t| t.column(name)).map(|c| c.store.to_owned())
}

/// The cells of a line, or `None` for a line to skip.
fn cells(line: &str) -> Option<Vec<&str>> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.chars().all(|c| matches!(c, '-' | '+' | '|' | ':' | ' ' | '\t')) {
        return None;
    }
    // A line that starts with `|` has borders on both sides (`| 1 | 2 |`); otherwise a
    // trailing `|` ends an empty last cell (`1 |`).
    let t = match t.strip_prefix('|') {
        Some(inner) => inner.strip_suffix('|').unwrap_or(inner),
        None => t,
    };
    Some(t.split('|').map(str::trim).collect())
}

/// Build one canonical table from ASCII text (see the module docs for the format).
///
/// Errors name the line (counted from 1 in `text`) and the column.
pub fn table_from_text(table: &str, text: &str) -> Result<RecordBatch, String> {
    let schema = phm_engine::canonical_schema(table).map_err(|e| e.to_string())?;
    let mut lines = text.lines().enumerate().filter_map(|(i, l)| cells(l).map(|c| (i + 1, c)));
    let Some((header_line, header)) = lines.next() else {
        return Err(format!("table `{table}`: no header line"));
    };
    // Store column index of each header cell.
    let mut positions: Vec<usize> = Vec::new();
    for name in &header {
        let Some(store) = store_column(table, &schema, name) else {
            let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "line {header_line}: table `{table}` has no column `{name}` (its columns: {})",
                known.join(", ")
            ));
        };
        let Ok(idx) = schema.index_of(&store) else {
            return Err(format!("line {header_line}: table `{table}` has no column `{name}`"));
        };
        if positions.contains(&idx) {
            return Err(format!("line {header_line}: column `{name}` is given twice"));
        }
        positions.push(idx);
    }
    // Cells per store column, as text (None = missing).
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); schema.fields().len()];
    let mut line_of_row = Vec::new();
    for (line, row) in lines {
        if row.len() != header.len() {
            return Err(format!("line {line}: {} cells, but the header names {} columns", row.len(), header.len()));
        }
        line_of_row.push(line);
        for (j, field) in schema.fields().iter().enumerate() {
            let cell = match positions.iter().position(|p| *p == j) {
                Some(k) if row[k].is_empty() => {
                    if !field.is_nullable() {
                        return Err(format!("line {line}: column `{}` cannot be missing", header[k]));
                    }
                    None
                }
                Some(k) => Some(row[k].to_owned()),
                None => match default_cell(table, field.name(), field.data_type(), field.is_nullable()) {
                    Some(d) => d,
                    None => {
                        return Err(format!("line {header_line}: table `{table}` needs the column `{}`", field.name()));
                    }
                },
            };
            columns[j].push(cell);
        }
    }
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (j, field) in schema.fields().iter().enumerate() {
        let header_name = positions.iter().position(|p| *p == j).map(|k| header[k]).unwrap_or(field.name().as_str());
        let col = &columns[j];
        // Parse each cell; errors name the line and the column.
        fn parse<T>(
            col: &[Option<String>],
            lines: &[usize],
            name: &str,
            what: &str,
            f: impl Fn(&str) -> Option<T>,
        ) -> Result<Vec<Option<T>>, String> {
            col.iter()
                .zip(lines)
                .map(|(c, line)| match c {
                    None => Ok(None),
                    Some(s) => f(s)
                        .map(Some)
                        .ok_or_else(|| format!("line {line}: column `{name}`: cannot read `{s}` as {what}")),
                })
                .collect()
        }
        let lines = &line_of_row;
        let array: ArrayRef = match field.data_type() {
            DataType::Utf8 if field.name() == "person_id" => Arc::new(StringArray::from(parse(
                col,
                lines,
                header_name,
                "a person id of at most 16 characters",
                pseudonym,
            )?)),
            DataType::Utf8 => Arc::new(StringArray::from(col.clone())),
            DataType::Int16 => {
                Arc::new(Int16Array::from(parse(col, lines, header_name, "a whole number (-32768 to 32767)", |s| {
                    s.parse::<i16>().ok()
                })?))
            }
            DataType::Int64 => {
                Arc::new(Int64Array::from(parse(col, lines, header_name, "a whole number", |s| s.parse::<i64>().ok())?))
            }
            DataType::Float64 => {
                Arc::new(Float64Array::from(parse(col, lines, header_name, "a number", |s| s.parse::<f64>().ok())?))
            }
            DataType::Boolean => {
                Arc::new(BooleanArray::from(parse(col, lines, header_name, "true or false", |s| match s {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                })?))
            }
            DataType::Date32 => {
                Arc::new(Date32Array::from(parse(col, lines, header_name, "a date (YYYY-MM-DD)", |s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .map(datafusion::arrow::datatypes::Date32Type::from_naive_date)
                })?))
            }
            other => {
                return Err(format!(
                    "table `{table}`: column `{}` has type {other}, which text tables cannot hold",
                    field.name()
                ));
            }
        };
        arrays.push(array);
    }
    RecordBatch::try_new(schema, arrays).map_err(|e| format!("table `{table}`: {e}"))
}

/// Several tables at once, in the shape `phm_engine::Engine::from_batches` and
/// [`crate::reference`] take.
pub fn store_from_text(tables: &[(&str, &str)]) -> Result<BTreeMap<String, Vec<RecordBatch>>, String> {
    let mut out: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    for (name, text) in tables {
        out.entry((*name).to_owned()).or_default().push(table_from_text(name, text)?);
    }
    Ok(out)
}

/// Render a table as text that [`table_from_text`] reads back (every column listed;
/// `person_id` written `person`), for failure messages that can be pasted into a test.
pub fn table_to_text(batches: &[RecordBatch]) -> String {
    let Some(first) = batches.first() else { return String::new() };
    let schema = first.schema();
    let header: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| if f.name() == "person_id" { "person".to_owned() } else { f.name().clone() })
        .collect();
    let mut rows = vec![header];
    for batch in batches {
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| match arrow_value(c.as_ref(), i) {
                        Value::Text(s) if f.name() == "person_id" => readable_person(&s),
                        Value::Null => String::new(),
                        Value::Text(s) => s,
                        v => v.to_string(),
                    })
                    .collect(),
            );
        }
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", cells.join(" | ").trim_end());
    }
    out
}

/// Number of rows in a table's batches (for messages).
pub fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_defaults_and_nulls() {
        let b = table_from_text(
            "person",
            "person | sex    | year_of_birth | month_of_birth | date_of_death | area_code\n\
             1      | female | 1950          | 6              |               | SYNBE001\n\
             2      |        | 1988          |                | 2024-02-29    |\n",
        );
        let err = b.expect_err("sex cannot be missing");
        assert!(err.contains("line 3") && err.contains("`sex`"), "{err}");
        let b = table_from_text("person", "person | year_of_birth\n1 | 1950\n2 |\n").expect("valid");
        assert_eq!(b.num_rows(), 2);
        assert_eq!(arrow_value(b.column_by_name("sex").expect("sex").as_ref(), 0), Value::Text("unknown".into()));
        assert_eq!(arrow_value(b.column_by_name("year_of_birth").expect("yob").as_ref(), 1), Value::Null);
        assert_eq!(
            arrow_value(b.column_by_name("national_data_opt_out").expect("opt").as_ref(), 0),
            Value::Bool(false)
        );
    }

    #[test]
    fn event_language_names_and_errors() {
        let b =
            table_from_text("encounter", "| person | date       | setting |\n|---|---|---|\n| 1 | 2024-02-29 | gp |\n")
                .expect("valid");
        assert_eq!(
            arrow_value(b.column_by_name("start_date").expect("start").as_ref(), 0),
            Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"))
        );
        assert_eq!(arrow_value(b.column_by_name("source_org").expect("org").as_ref(), 0), Value::Text("TEST".into()));
        let err = table_from_text("condition", "person | code | date\n\n1 | C1 | 2024-02-30\n").expect_err("bad date");
        assert!(err.contains("line 3") && err.contains("`date`") && err.contains("2024-02-30"), "{err}");
        let err = table_from_text("condition", "person | code\n1 | C1\n").expect_err("no date");
        assert!(err.contains("line 1") && err.contains("`date`"), "{err}");
        let err = table_from_text("condition", "person | colour | date\n").expect_err("no such column");
        assert!(err.contains("line 1") && err.contains("`colour`"), "{err}");
        let err = table_from_text("observation", "person | code | date | value\n1 | C1 | 2024-01-01 | high\n")
            .expect_err("bad number");
        assert!(err.contains("line 2") && err.contains("`value`"), "{err}");
        let err = table_from_text("observation", "person | code | date\n1 | C1\n").expect_err("short row");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn text_round_trip() {
        let b = table_from_text(
            "observation",
            "person | code | date | value | unit\n1 | C1 | 2024-01-01 | 1.5 | mmHg\n2 | C2 | 2020-02-29 | |\n",
        )
        .expect("valid");
        let text = table_to_text(std::slice::from_ref(&b));
        let again = table_from_text("observation", &text).expect("reads back");
        assert_eq!(b, again, "{text}");
    }
}

#[cfg(test)]
mod person_ids {
    use super::{pseudonym, readable_person};

    #[test]
    fn readable_ids_become_pseudonyms_in_the_same_order_and_come_back() {
        let ids = ["1", "10", "2", "ann", "zz"];
        let stored: Vec<String> = ids.iter().map(|i| pseudonym(i).expect("a short id")).collect();
        assert!(stored.iter().all(|s| s.len() == 32), "{stored:?}");
        assert!(stored.windows(2).all(|w| w[0] < w[1]), "order kept: {stored:?}");
        for (i, s) in ids.iter().zip(&stored) {
            assert_eq!(readable_person(s), *i);
        }
        let real = "0123456789abcdef0123456789abcdef";
        assert_eq!(pseudonym(real).as_deref(), Some(real));
        assert_eq!(pseudonym("seventeen chars!!"), None);
        assert_eq!(pseudonym(""), None);
    }
}

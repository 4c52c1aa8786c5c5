//! Building Arrow record batches of a canonical table, row by row.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Date32Builder, Float64Builder, Int16Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use chrono::{Datelike as _, NaiveDate};
use phm_core::schema::{ColumnType, Table};

use crate::{Error, Result};

enum Col {
    Text(StringBuilder),
    Date(Date32Builder),
    SmallInt(Int16Builder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
}

/// Days from 0001-01-01 (CE day 1) to 1970-01-01, for Arrow's `Date32`.
const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

/// A date as Arrow's `Date32` (days since 1970-01-01).
pub fn date32(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

/// The date of an Arrow `Date32` value.
pub fn from_date32(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_CE_DAYS)
}

/// Rows of one canonical table being collected into a [`RecordBatch`].
///
/// Values are pushed column by column in the table's order with the typed `push_*` methods,
/// then [`BatchBuilder::end_row`] checks that the row is complete. Pushing a value of the wrong
/// type, or null into a non-null column, is a bug in the mapping and panics in tests through
/// `end_row`'s check and the schema check in [`BatchBuilder::finish`].
pub struct BatchBuilder {
    table: &'static Table,
    cols: Vec<Col>,
    next: usize,
    rows: usize,
    error: Option<String>,
}

impl BatchBuilder {
    /// An empty builder for `table`.
    pub fn new(table: &'static Table) -> Self {
        let cols = table
            .columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Text => Col::Text(StringBuilder::new()),
                ColumnType::Date => Col::Date(Date32Builder::new()),
                ColumnType::SmallInt => Col::SmallInt(Int16Builder::new()),
                ColumnType::Int => Col::Int(Int64Builder::new()),
                ColumnType::Float => Col::Float(Float64Builder::new()),
                ColumnType::Bool => Col::Bool(BooleanBuilder::new()),
            })
            .collect();
        Self { table, cols, next: 0, rows: 0, error: None }
    }

    /// The table being built.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// Complete rows so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows have been added.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn slot(&mut self, what: &str, is_null: bool) -> Option<usize> {
        let i = self.next;
        self.next += 1;
        match self.table.columns.get(i) {
            None => {
                self.error.get_or_insert_with(|| {
                    format!("row {} has more values than the {} columns", self.rows, self.table.columns.len())
                });
                None
            }
            Some(c) if is_null && !c.nullable => {
                self.error
                    .get_or_insert_with(|| format!("row {}: null pushed into non-null column `{}`", self.rows, c.name));
                Some(i)
            }
            Some(_) => {
                let _ = what;
                Some(i)
            }
        }
    }

    fn mismatch(&mut self, i: usize, what: &str) {
        let name = self.table.columns[i].name;
        self.error.get_or_insert_with(|| format!("column `{name}`: pushed a {what}"));
    }

    /// Pushes a text value.
    pub fn push_text(&mut self, v: Option<&str>) -> &mut Self {
        if let Some(i) = self.slot("text", v.is_none()) {
            match &mut self.cols[i] {
                Col::Text(b) => b.append_option(v),
                _ => self.mismatch(i, "text value"),
            }
        }
        self
    }

    /// Pushes a date.
    pub fn push_date(&mut self, v: Option<NaiveDate>) -> &mut Self {
        if let Some(i) = self.slot("date", v.is_none()) {
            match &mut self.cols[i] {
                Col::Date(b) => b.append_option(v.map(date32)),
                _ => self.mismatch(i, "date"),
            }
        }
        self
    }

    /// Pushes a small integer.
    pub fn push_small(&mut self, v: Option<i16>) -> &mut Self {
        if let Some(i) = self.slot("int16", v.is_none()) {
            match &mut self.cols[i] {
                Col::SmallInt(b) => b.append_option(v),
                _ => self.mismatch(i, "int16"),
            }
        }
        self
    }

    /// Pushes an integer.
    pub fn push_int(&mut self, v: Option<i64>) -> &mut Self {
        if let Some(i) = self.slot("int64", v.is_none()) {
            match &mut self.cols[i] {
                Col::Int(b) => b.append_option(v),
                _ => self.mismatch(i, "int64"),
            }
        }
        self
    }

    /// Pushes a float.
    pub fn push_float(&mut self, v: Option<f64>) -> &mut Self {
        if let Some(i) = self.slot("float64", v.is_none()) {
            match &mut self.cols[i] {
                Col::Float(b) => b.append_option(v),
                _ => self.mismatch(i, "float64"),
            }
        }
        self
    }

    /// Pushes a boolean.
    pub fn push_bool(&mut self, v: Option<bool>) -> &mut Self {
        if let Some(i) = self.slot("bool", v.is_none()) {
            match &mut self.cols[i] {
                Col::Bool(b) => b.append_option(v),
                _ => self.mismatch(i, "bool"),
            }
        }
        self
    }

    /// Ends the row: every column must have had exactly one value.
    pub fn end_row(&mut self) {
        if self.next != self.table.columns.len() {
            let (n, rows) = (self.next, self.rows);
            self.error
                .get_or_insert_with(|| format!("row {rows} has {n} values for {} columns", self.table.columns.len()));
        }
        self.next = 0;
        self.rows += 1;
    }

    /// The rows as a record batch with the table's Arrow schema; the builder is left empty.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        if let Some(reason) = self.error.take() {
            return Err(Error::Schema { table: self.table.name.to_owned(), reason });
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Text(b) => Arc::new(b.finish()),
                    Col::Date(b) => Arc::new(b.finish()),
                    Col::SmallInt(b) => Arc::new(b.finish()),
                    Col::Int(b) => Arc::new(b.finish()),
                    Col::Float(b) => Arc::new(b.finish()),
                    Col::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.table.arrow_schema(), arrays)
            .map_err(|e| Error::Schema { table: self.table.name.to_owned(), reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phm_core::schema::REGISTRATION;

    #[test]
    fn rows_become_a_batch_with_the_table_schema() {
        let mut b = BatchBuilder::new(&REGISTRATION);
        let d = NaiveDate::from_ymd_opt(2020, 1, 2);
        b.push_text(Some("p1"))
            .push_text(Some("SYNGP001"))
            .push_date(d)
            .push_date(None)
            .push_text(Some("gp"))
            .end_row();
        let batch = b.finish().expect("batch");
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), REGISTRATION.arrow_schema());
        assert_eq!(from_date32(date32(d.expect("date"))), d);
    }

    #[test]
    fn a_short_row_or_a_null_in_a_required_column_is_an_error() {
        let mut b = BatchBuilder::new(&REGISTRATION);
        b.push_text(Some("p1")).end_row();
        assert!(b.finish().expect_err("short").to_string().contains("1 values for 5 columns"));
        let mut b = BatchBuilder::new(&REGISTRATION);
        b.push_text(None).push_text(Some("x")).push_date(None).push_date(None).push_text(Some("s")).end_row();
        let e = b.finish().expect_err("null").to_string();
        assert!(e.contains("null pushed into non-null column `person_id`"), "{e}");
    }
}

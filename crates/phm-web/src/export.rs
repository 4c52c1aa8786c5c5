//! Downloads of any table the pages show, as CSV, Excel or Parquet, from the release the
//! visitor may see. Each download is written to the audit trail.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Visitor;
use crate::error::ApiError;
use crate::{App, Error, Result};

/// A table as text cells with a header, whatever it came from.
#[derive(Debug, Default)]
pub struct TextTable {
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    /// Serialises rows through their CSV form (the column order of the struct).
    ///
    /// # Errors
    /// A row that does not serialise (a bug).
    pub fn from_rows<T: serde::Serialize>(rows: &[T], empty_header: &[&str]) -> Result<Self> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in rows {
            w.serialize(r).map_err(|e| Error::Internal(e.to_string()))?;
        }
        let bytes = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = if rows.is_empty() {
            empty_header.iter().map(|s| (*s).to_owned()).collect()
        } else {
            reader.headers().map_err(|e| Error::Internal(e.to_string()))?.iter().map(str::to_owned).collect()
        };
        let mut out = Vec::new();
        for record in reader.records() {
            out.push(record.map_err(|e| Error::Internal(e.to_string()))?.iter().map(str::to_owned).collect());
        }
        Ok(TextTable { header, rows: out })
    }

    /// The column's type: whole numbers, numbers, or text (blanks are missing values).
    fn column_type(&self, c: usize) -> DataType {
        let values = self.rows.iter().map(|r| r[c].as_str()).filter(|v| !v.is_empty());
        let mut any = false;
        let mut all_int = true;
        for v in values {
            any = true;
            if v.parse::<i64>().is_err() {
                all_int = false;
                if v.parse::<f64>().is_err() {
                    return DataType::Utf8;
                }
            }
        }
        match (any, all_int) {
            (false, _) => DataType::Utf8,
            (true, true) => DataType::Int64,
            (true, false) => DataType::Float64,
        }
    }

    /// CSV bytes.
    ///
    /// # Errors
    /// Writing to memory fails (a bug).
    pub fn csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).map_err(|e| Error::Internal(e.to_string()))?;
        for r in &self.rows {
            w.write_record(r).map_err(|e| Error::Internal(e.to_string()))?;
        }
        w.into_inner().map_err(|e| Error::Internal(e.to_string()))
    }

    /// Parquet bytes, with typed columns.
    ///
    /// # Errors
    /// Writing to memory fails (a bug).
    pub fn parquet(&self, metadata: &[(&str, String)]) -> Result<Vec<u8>> {
        let types: Vec<DataType> = (0..self.header.len()).map(|c| self.column_type(c)).collect();
        let fields: Vec<Field> = self.header.iter().zip(&types).map(|(h, t)| Field::new(h, t.clone(), true)).collect();
        let schema = Arc::new(Schema::new(fields).with_metadata(metadata.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()));
        let columns: Vec<ArrayRef> = types
            .iter()
            .enumerate()
            .map(|(c, t)| {
                let cells = self.rows.iter().map(|r| Some(r[c].as_str()).filter(|v| !v.is_empty()));
                match t {
                    DataType::Int64 => Arc::new(cells.map(|v| v.and_then(|v| v.parse::<i64>().ok())).collect::<Int64Array>()) as ArrayRef,
                    DataType::Float64 => Arc::new(cells.map(|v| v.and_then(|v| v.parse::<f64>().ok())).collect::<Float64Array>()) as ArrayRef,
                    _ => Arc::new(cells.collect::<StringArray>()) as ArrayRef,
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::Internal(e.to_string()))?;
        let mut out = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(|e| Error::Internal(e.to_string()))?;
        writer.write(&batch).map_err(|e| Error::Internal(e.to_string()))?;
        writer.close().map_err(|e| Error::Internal(e.to_string()))?;
        Ok(out)
    }

    /// An Excel workbook: the table on one sheet, where it came from on another.
    ///
    /// # Errors
    /// The workbook cannot be written (a bug, or more rows than Excel holds).
    pub fn xlsx(&self, sheet: &str, metadata: &[(&str, String)]) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook};
        let x = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("Excel: {e}"));
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let types: Vec<DataType> = (0..self.header.len()).map(|c| self.column_type(c)).collect();
        let ws = book.add_worksheet().set_name(sheet).map_err(x)?;
        for (c, h) in self.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold).map_err(x)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                match (&types[c], v.parse::<f64>()) {
                    (DataType::Int64 | DataType::Float64, Ok(n)) => ws.write_number(r, c as u16, n).map_err(x)?,
                    _ => ws.write_string(r, c as u16, v).map_err(x)?,
                };
            }
        }
        ws.set_freeze_panes(1, 0).map_err(x)?;
        let about = book.add_worksheet().set_name("About").map_err(x)?;
        for (r, (k, v)) in metadata.iter().enumerate() {
            about.write_string_with_format(r as u32, 0, *k, &bold).map_err(x)?;
            about.write_string(r as u32, 1, v).map_err(x)?;
        }
        book.save_to_buffer().map_err(x)
    }
}

/// `GET /download/{table}.{csv|xlsx|parquet}` with the API's filters.
pub async fn download(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> std::result::Result<Response, ApiError> {
    let (table, format) = file.rsplit_once('.').ok_or_else(|| {
        Error::BadRequest(format!("`{file}`: expected TABLE.FORMAT, e.g. `profiles.csv` (tables: profiles, trends, population; formats: csv, xlsx, parquet)"))
    })?;
    let release = crate::pages::release(&app, &visitor);
    let text = match table {
        "profiles" => {
            crate::pages::only(&query, &["indicator", "area", "area_type", "breakdown"])?;
            let rows = crate::api::select_rows(&app, release, &query)?;
            TextTable::from_rows(&rows, &["indicator"])?
        }
        "trends" => {
            crate::pages::only(&query, &["indicator", "area"])?;
            let ind = query.get("indicator").map(|n| crate::pages::indicator_param(&app, n)).transpose()?;
            let area = if query.contains_key("area") { Some(crate::pages::area_param(&app, &query)?) } else { None };
            let rows: Vec<_> = release
                .trends
                .iter()
                .filter(|t| ind.is_none_or(|i| t.indicator == i.name) && area.is_none_or(|a| t.area_code == a.code))
                .collect();
            TextTable::from_rows(&rows, &["indicator"])?
        }
        "population" => {
            crate::pages::only(&query, &["area"])?;
            let area = if query.contains_key("area") { Some(crate::pages::area_param(&app, &query)?) } else { None };
            let rows: Vec<_> = release.population.iter().filter(|p| area.is_none_or(|a| p.area_code == a.code)).collect();
            TextTable::from_rows(&rows, &["area_type"])?
        }
        other => return Err(Error::NotFound(format!("no table `{other}`: the tables are profiles, trends and population")).into()),
    };
    let metadata = [
        ("source", "OpenPHM (synthetic BLMK population)".to_owned()),
        ("table", table.to_owned()),
        ("filters", { let mut f: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect(); f.sort(); f.join("&") }),
        ("disclosure_policy", release.policy.name().to_owned()),
        ("disclosure_rule", release.policy.summary()),
        ("snapshot", release.provenance.get("snapshot").map(|s| s.to_string()).unwrap_or_default()),
        ("downloaded_at", chrono::Utc::now().to_rfc3339()),
    ];
    let (bytes, content_type) = match format {
        "csv" => (text.csv()?, "text/csv; charset=utf-8"),
        "xlsx" => (text.xlsx(table, &metadata)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "parquet" => (text.parquet(&metadata)?, "application/vnd.apache.parquet"),
        other => return Err(Error::BadRequest(format!("`{other}` is not a download format: use csv, xlsx or parquet")).into()),
    };
    app.auth.record_export(&visitor, table, format, text.rows.len(), release.policy.name(), &metadata[2].1)?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"blmk-{table}.{format}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

//! Downloads of any table the pages show, as CSV, Excel or Parquet, from the release the
//! visitor may see.
//!
//! * **Built once.** The released tables do not change while the app runs, so each file
//!   (release × table × filters × format) is built once and kept in memory ([`Exports`], up to
//!   a byte limit); concurrent requests for the same file wait for the one build.
//! * **Off the request threads.** Building runs on tokio's blocking pool, at most
//!   [`Exports::MAX_BUILDS`] at a time; up to [`Exports::MAX_WAITING`] more wait for a turn,
//!   and beyond that a download gets 503 with `Retry-After`. Pages and API calls never wait
//!   for a spreadsheet.
//! * **No formulas.** Text cells that a spreadsheet would read as a formula (starting with `=`,
//!   `+`, `-`, `@`, tab, carriage return or line feed) are written to CSV with a leading `'`
//!   (OWASP's advice for CSV injection); numbers, negative ones included, stay numbers. Excel
//!   files hold text as text cells (`write_string`), never formulas, so they are written as is.
//! * **Audited for staff.** A signed-in member of staff's download is written to the audit
//!   trail (who, table and filters, format, rows, policy) before it is sent; if the trail
//!   cannot be written the download is refused. Anonymous downloads of the `public` release
//!   are not audited: it is published data, the same figures as the public pages, and a line
//!   per anonymous download recorded nothing an IG lead needs while letting anyone grow the
//!   trail without limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Visitor;
use crate::error::ApiError;
use crate::{App, Error, Result};

/// Whether a cell is a plain, finite number (`12`, `-3.5`, `1e-3`): written as a number, not as
/// text (`inf`, `NaN` and other words Rust would parse are text).
pub fn is_number(cell: &str) -> bool {
    !cell.is_empty()
        && cell.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && cell.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A cell as written to CSV: text that a spreadsheet would take for a formula (starting with
/// `=`, `+`, `-`, `@`, tab, carriage return or line feed) gets a leading `'`, which Excel and
/// LibreOffice show as text and do not evaluate; numbers are left alone.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']);
    if risky && !is_number(cell) { format!("'{cell}").into() } else { cell.into() }
}

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
            if !is_number(v) {
                return DataType::Utf8;
            }
            if v.parse::<i64>().is_err() {
                all_int = false;
            }
        }
        match (any, all_int) {
            (false, _) => DataType::Utf8,
            (true, true) => DataType::Int64,
            (true, false) => DataType::Float64,
        }
    }

    /// CSV bytes, with cells that a spreadsheet would take for a formula escaped
    /// ([`csv_cell`]).
    ///
    /// # Errors
    /// Writing to memory fails (a bug).
    pub fn csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.header.iter().map(|c| csv_cell(c).into_owned()))
            .map_err(|e| Error::Internal(e.to_string()))?;
        for r in &self.rows {
            w.write_record(r.iter().map(|c| csv_cell(c).into_owned())).map_err(|e| Error::Internal(e.to_string()))?;
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
        let schema = Arc::new(
            Schema::new(fields).with_metadata(metadata.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()),
        );
        let columns: Vec<ArrayRef> = types
            .iter()
            .enumerate()
            .map(|(c, t)| {
                let cells = self.rows.iter().map(|r| Some(r[c].as_str()).filter(|v| !v.is_empty()));
                match t {
                    DataType::Int64 => {
                        Arc::new(cells.map(|v| v.and_then(|v| v.parse::<i64>().ok())).collect::<Int64Array>())
                            as ArrayRef
                    }
                    DataType::Float64 => {
                        Arc::new(cells.map(|v| v.and_then(|v| v.parse::<f64>().ok())).collect::<Float64Array>())
                            as ArrayRef
                    }
                    _ => Arc::new(cells.collect::<StringArray>()) as ArrayRef,
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::Internal(e.to_string()))?;
        let mut out = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(|e| Error::Internal(e.to_string()))?;
        writer.write(&batch).map_err(|e| Error::Internal(e.to_string()))?;
        writer.close().map_err(|e| Error::Internal(e.to_string()))?;
        Ok(out)
    }

    /// An Excel workbook: the table on one sheet, where it came from on another. Text is
    /// written as text cells (never formulas, whatever it starts with), numbers as numbers.
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
                    (DataType::Int64 | DataType::Float64, Ok(n)) if n.is_finite() => {
                        ws.write_number(r, c as u16, n).map_err(x)?
                    }
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

/// One file a download can be: release, table, filters (sorted) and format.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportKey {
    /// The disclosure policy of the release.
    pub policy: String,
    /// `profiles`, `trends` or `population`.
    pub table: String,
    /// The filters, `k=v` joined by `&` in key order.
    pub filters: String,
    /// `csv`, `xlsx` or `parquet`.
    pub format: String,
}

/// A file built.
#[derive(Debug)]
pub struct Built {
    /// Its bytes.
    pub bytes: axum::body::Bytes,
    /// Rows of the table in it.
    pub rows: usize,
}

/// Why a download was not built.
#[derive(Debug)]
pub enum BuildError {
    /// Every build slot is taken and the queue is full: try again shortly (503).
    Busy,
    /// The build failed.
    Failed(Error),
}

/// Something to run in each build before it starts (tests use it to hold builds open).
pub type BuildHook = Arc<dyn Fn(&ExportKey) + Send + Sync>;

type Cell = Arc<tokio::sync::OnceCell<Arc<Built>>>;

/// Built downloads, and the limits on building them.
pub struct Exports {
    built: Mutex<HashMap<ExportKey, Cell>>,
    bytes: AtomicUsize,
    limit: usize,
    builds: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    hook: OnceLock<BuildHook>,
}

impl std::fmt::Debug for Exports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exports")
            .field("bytes", &self.bytes.load(Ordering::Relaxed))
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Takes one off the waiting count when dropped (also when the client goes away).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Exports {
    /// Files built at once (each holds a blocking thread and some memory).
    pub const MAX_BUILDS: usize = 2;
    /// Builds that may wait for a turn; one more gets 503.
    pub const MAX_WAITING: usize = 16;
    /// How long a client is asked to wait when every build slot and queue place is taken.
    pub const RETRY_AFTER_SECONDS: u64 = 5;

    /// No files yet; keeps at most `limit` bytes of them.
    pub fn new(limit: usize) -> Self {
        Exports {
            built: Mutex::new(HashMap::new()),
            bytes: AtomicUsize::new(0),
            limit,
            builds: Arc::new(tokio::sync::Semaphore::new(Self::MAX_BUILDS)),
            waiting: AtomicUsize::new(0),
            hook: OnceLock::new(),
        }
    }

    /// Sets the hook run at the start of every build (once; later calls are ignored).
    pub fn set_build_hook(&self, hook: BuildHook) {
        let _ = self.hook.set(hook);
    }

    /// Builds waiting for a turn now.
    pub fn queued(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Bytes of files kept.
    pub fn bytes_kept(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The file for `key`: kept, being built by another request (waited for), or built now by
    /// `build` on the blocking pool under the build limit.
    ///
    /// # Errors
    /// [`BuildError::Busy`] when the build slots and the queue are full, or the build's error.
    pub async fn get(
        &self,
        key: ExportKey,
        build: impl FnOnce() -> Result<Built> + Send + 'static,
    ) -> std::result::Result<Arc<Built>, BuildError> {
        let cell: Cell = {
            let mut map = self.built.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(key.clone()).or_default().clone()
        };
        if let Some(built) = cell.get() {
            return Ok(built.clone());
        }
        let built = cell
            .get_or_try_init(move || async move {
                let permit = match self.builds.clone().try_acquire_owned() {
                    Ok(permit) => permit,
                    Err(_) => {
                        if self.waiting.fetch_add(1, Ordering::SeqCst) >= Self::MAX_WAITING {
                            self.waiting.fetch_sub(1, Ordering::SeqCst);
                            return Err(BuildError::Busy);
                        }
                        let _waiting = Waiting(&self.waiting);
                        self.builds
                            .clone()
                            .acquire_owned()
                            .await
                            .map_err(|e| BuildError::Failed(Error::Internal(e.to_string())))?
                    }
                };
                let hook = self.hook.get().cloned();
                let label = key.clone();
                let built = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    if let Some(hook) = hook {
                        hook(&label);
                    }
                    build()
                })
                .await
                .map_err(|e| BuildError::Failed(Error::Internal(format!("building a download: {e}"))))?
                .map_err(BuildError::Failed)?;
                // Keep it while there is room; otherwise let the requests waiting now have it
                // and build it again for later ones.
                let size = built.bytes.len();
                let room = self
                    .bytes
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| (b + size <= self.limit).then_some(b + size));
                if room.is_err() {
                    self.built.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                }
                Ok(Arc::new(built))
            })
            .await?
            .clone();
        Ok(built)
    }
}

/// Builds the file for `key` from the release the key names (runs on the blocking pool).
fn build(app: &App, analyst: bool, key: &ExportKey, query: &HashMap<String, String>) -> Result<Built> {
    let release = app.catalogue.release_for(analyst);
    let text = match key.table.as_str() {
        "profiles" => {
            let rows = crate::api::select_rows(app, release, query)?;
            TextTable::from_rows(&rows, &["indicator"])?
        }
        "trends" => {
            let ind = query.get("indicator").map(|n| crate::pages::indicator_param(app, n)).transpose()?;
            let area = if query.contains_key("area") { Some(crate::pages::area_param(app, query)?) } else { None };
            let rows: Vec<_> = release
                .trends
                .iter()
                .filter(|t| ind.is_none_or(|i| t.indicator == i.name) && area.is_none_or(|a| t.area_code == a.code))
                .collect();
            TextTable::from_rows(&rows, &["indicator"])?
        }
        "population" => {
            let area = if query.contains_key("area") { Some(crate::pages::area_param(app, query)?) } else { None };
            let rows: Vec<_> =
                release.population.iter().filter(|p| area.is_none_or(|a| p.area_code == a.code)).collect();
            TextTable::from_rows(&rows, &["area_type"])?
        }
        other => {
            return Err(Error::NotFound(format!("no table `{other}`: the tables are profiles, trends and population")));
        }
    };
    let metadata = [
        ("source", "OpenPHM (synthetic BLMK population)".to_owned()),
        ("table", key.table.clone()),
        ("filters", key.filters.clone()),
        ("disclosure_policy", release.policy.name().to_owned()),
        ("disclosure_rule", release.policy.summary()),
        ("snapshot", release.manifest.snapshot.map(|s| s.to_string()).unwrap_or_default()),
        ("built_at", chrono::Utc::now().to_rfc3339()),
    ];
    let bytes = match key.format.as_str() {
        "csv" => text.csv()?,
        "xlsx" => text.xlsx(&key.table, &metadata)?,
        "parquet" => text.parquet(&metadata)?,
        other => {
            return Err(Error::BadRequest(format!("`{other}` is not a download format: use csv, xlsx or parquet")));
        }
    };
    Ok(Built { bytes: bytes.into(), rows: text.rows.len() })
}

/// Any table as CSV, Excel or Parquet, with the same filters.
///
/// `GET /download/{table}.{csv|xlsx|parquet}` with the API's filters.
#[utoipa::path(get, path = "/download/{file}", operation_id = "download",
    params(
        ("file" = String, Path, description = "TABLE.FORMAT", pattern = "^(profiles|trends|population)\\.(csv|xlsx|parquet)$", example = "profiles.csv"),
        ("indicator" = Option<String>, Query, description = "Indicator name (from /api/indicators)"),
        ("area" = Option<String>, Query, description = "Area code (from /api/areas)"),
        ("area_type" = Option<crate::api::AreaKind>, Query, description = "Area type (profiles)"),
        ("breakdown" = Option<crate::api::BreakdownName>, Query, description = "Breakdown (profiles)"),
    ),
    responses(
        (status = 200, description = "The file", content(
            ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("application/vnd.apache.parquet"),
        )),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = crate::api::ErrorBody),
        (status = 404, description = "No such area or indicator", body = crate::api::ErrorBody),
    ))]
pub async fn download(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> std::result::Result<Response, ApiError> {
    let (table, format) = file.rsplit_once('.').ok_or_else(|| {
        Error::BadRequest(format!("`{file}`: expected TABLE.FORMAT, e.g. `profiles.csv` (tables: profiles, trends, population; formats: csv, xlsx, parquet)"))
    })?;
    // Everything a request can get wrong is checked here, before any build.
    match table {
        "profiles" => {
            crate::pages::only(&query, &["indicator", "area", "area_type", "breakdown"])?;
        }
        "trends" => crate::pages::only(&query, &["indicator", "area"])?,
        "population" => crate::pages::only(&query, &["area"])?,
        other => {
            return Err(
                Error::NotFound(format!("no table `{other}`: the tables are profiles, trends and population")).into()
            );
        }
    }
    let content_type = match format {
        "csv" => "text/csv; charset=utf-8",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "parquet" => "application/vnd.apache.parquet",
        other => {
            return Err(
                Error::BadRequest(format!("`{other}` is not a download format: use csv, xlsx or parquet")).into()
            );
        }
    };
    let analyst = visitor.analyst();
    let release = crate::pages::release(&app, &visitor);
    // Parameters that name an indicator or area must name one that exists.
    if let Some(n) = query.get("indicator") {
        crate::pages::indicator_param(&app, n)?;
    }
    if query.contains_key("area") {
        crate::pages::area_param(&app, &query)?;
    }
    if table == "profiles" {
        crate::api::select_rows(&app, release, &query)?;
    }
    let filters = {
        let mut f: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.sort();
        f.join("&")
    };
    let key = ExportKey {
        policy: release.policy.name().to_owned(),
        table: table.to_owned(),
        filters,
        format: format.to_owned(),
    };
    let built = {
        let (app2, key2) = (app.clone(), key.clone());
        match app.exports.get(key.clone(), move || build(&app2, analyst, &key2, &query)).await {
            Ok(built) => built,
            Err(BuildError::Failed(e)) => return Err(e.into()),
            Err(BuildError::Busy) => {
                let mut response = ApiError(Error::Unavailable(format!(
                    "every download is being built at the moment: try again in {} seconds",
                    Exports::RETRY_AFTER_SECONDS
                )))
                .into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(Exports::RETRY_AFTER_SECONDS));
                return Ok(response);
            }
        }
    };
    if visitor.signed_in() {
        app.auth.record_export(&visitor, &key.table, &key.format, built.rows, &key.policy, &key.filters)?;
    }
    let mut response = built.bytes.clone().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"blmk-{table}.{format}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_a_spreadsheet_would_run_gets_a_quote_and_numbers_stay_numbers() {
        for risky in
            ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "-", "+", "-inf", "-NaN", "=-2"]
        {
            assert_eq!(csv_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for number in ["-2.5", "-12", "+3", "-1e-3", "0", "12.25"] {
            assert_eq!(csv_cell(number), number, "{number:?}");
        }
        for plain in ["Luton", "", "a=b", " =1", "'quoted"] {
            assert_eq!(csv_cell(plain), plain, "{plain:?}");
        }
    }

    #[test]
    fn only_finite_plain_numbers_are_numbers() {
        assert!(is_number("-2.5") && is_number("1e5") && is_number("+7"));
        assert!(
            !is_number("inf")
                && !is_number("-inf")
                && !is_number("NaN")
                && !is_number("")
                && !is_number("1 000")
                && !is_number("0x10")
        );
    }
}

//! Delimited files with a declared column mapping (`mappings/*.toml`), and the opt-out list.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{Datelike as _, NaiveDate};
use phm_core::codes::CodeSystem;
use phm_core::schema::{self, ColumnType, Constraint, Table};
use phm_identity::PersonId;
use phm_store::Transaction;
use serde::Deserialize;

use crate::check::{self, Lifespan, Problem, problem};
use crate::link;
use crate::quarantine::{Reject, excerpt};
use crate::report::FileReport;
use crate::rows::{Rows, T};
use crate::{Error, FileCtx, InputFile, Progress, Result, SourceLoad, normalise_postcode};

/// Where a canonical column's value comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ColumnSource {
    /// A source header, or `=value` for a constant.
    One(String),
    /// Alternative headers: the first present in the file is used.
    Any(Vec<String>),
}

/// How to find the person a row is about.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonColumns {
    /// NHS number column (required).
    pub nhs_number: String,
    /// Date of birth.
    pub date_of_birth: Option<String>,
    /// Administrative gender.
    pub sex: Option<String>,
    /// Postcode of residence.
    pub postcode: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// NHS ethnic category code.
    pub ethnic_category: Option<String>,
}

/// A column mapping (see `mappings/README.md`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Name (the built-in ones are also format names).
    pub name: String,
    /// What the file is.
    #[serde(default)]
    pub description: String,
    /// Target canonical table.
    pub table: String,
    /// Column identifying a record, for duplicates.
    pub record_id: Option<String>,
    /// Date formats tried in order.
    #[serde(default)]
    pub date_formats: Vec<String>,
    /// Field delimiter (default `,`).
    pub delimiter: Option<char>,
    /// Person columns, for tables about people.
    pub person: Option<PersonColumns>,
    /// Canonical column → source.
    pub columns: BTreeMap<String, ColumnSource>,
    /// Value maps by canonical column (or `sex`).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

const BUILTIN: [(&str, &str); 4] = [
    ("social-care-csv", include_str!("../../../mappings/social-care-csv.toml")),
    ("postcode-lookup-csv", include_str!("../../../mappings/postcode-lookup-csv.toml")),
    ("imd2019", include_str!("../../../mappings/imd2019.toml")),
    ("epcn", include_str!("../../../mappings/epcn.toml")),
];

impl Mapping {
    /// A built-in mapping by name.
    pub fn builtin(name: &str) -> Option<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Self::parse(Path::new(&format!("mappings/{name}.toml")), text).ok()
    }

    /// Names of the built-in mappings.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Reads a mapping file.
    pub fn read(path: &Path) -> Result<Self> {
        use std::io::Read as _;
        const MAX: u64 = 1 << 20;
        let mut text = String::new();
        crate::open_input(path)?
            .take(MAX + 1)
            .read_to_string(&mut text)
            .map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if text.len() as u64 > MAX {
            return Err(Error::Mapping {
                path: path.to_owned(),
                reason: format!("a mapping file is at most {} MiB", MAX >> 20),
            });
        }
        Self::parse(path, &text)
    }

    /// Parses and checks a mapping against the canonical schema.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let bad = |reason: String| Error::Mapping { path: path.to_owned(), reason };
        let m: Self = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let table = m.target().ok_or_else(|| {
            bad(format!(
                "`table = \"{}\"` is not a canonical table ({})",
                m.table,
                schema::TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let auto = ["person_id", "source", "source_org"];
        for name in m.columns.keys() {
            if table.column(name).is_none() {
                return Err(bad(format!(
                    "[columns] `{name}` is not a column of `{}` (its columns: {})",
                    table.name,
                    table.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                )));
            }
            if auto.contains(&name.as_str()) {
                return Err(bad(format!("[columns] `{name}` is filled in by ingest and cannot be mapped")));
            }
        }
        for c in table.columns.iter().filter(|c| !c.nullable && !auto.contains(&c.name)) {
            if !m.columns.contains_key(c.name) {
                return Err(bad(format!("[columns] has no `{}`, which `{}` requires", c.name, table.name)));
            }
        }
        let about_people = table.column("person_id").is_some();
        if about_people && m.person.is_none() {
            return Err(bad(format!(
                "`{}` is about people: a [person] section with `nhs_number` is required",
                table.name
            )));
        }
        if !about_people && m.person.is_some() {
            return Err(bad(format!("`{}` is reference data: remove the [person] section", table.name)));
        }
        Ok(m)
    }

    fn target(&self) -> Option<&'static Table> {
        schema::TABLES
            .into_iter()
            .find(|t| t.name == self.table && !matches!(t.name, "person" | "identity" | "person_source"))
    }

    fn table_index(&self) -> Option<T> {
        crate::rows::TABLES.iter().position(|t| t.name == self.table).map(|i| ALL_T[i])
    }
}

const ALL_T: [T; 13] = [
    T::PersonSource,
    T::Identity,
    T::Registration,
    T::Condition,
    T::Observation,
    T::Medication,
    T::Immunisation,
    T::Encounter,
    T::Procedure,
    T::OptOut,
    T::PostcodeArea,
    T::AreaDeprivation,
    T::PracticePcn,
];

/// Rows written per batch.
const BATCH_ROWS: usize = 65_536;

enum Src {
    Col(usize),
    Const(String),
    Missing,
}

fn find(headers: &[String], names: &[String]) -> Option<usize> {
    names.iter().find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n.trim())))
}

fn column_source(headers: &[String], spec: &ColumnSource) -> Src {
    match spec {
        ColumnSource::One(s) if s.starts_with('=') => Src::Const(s[1..].to_owned()),
        ColumnSource::One(s) => find(headers, std::slice::from_ref(s)).map_or(Src::Missing, Src::Col),
        ColumnSource::Any(v) => find(headers, v).map_or(Src::Missing, Src::Col),
    }
}

/// The most physical lines one record may span (a quoted field holding line breaks). A quote
/// left open longer than this is taken as a stray quote, not as a field.
pub const MAX_RECORD_LINES: usize = 50;

/// Fields of one record, in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.data[start..end])
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Splits `text` into fields as RFC 4180 does, with the csv crate's leniency: a quote opens a
/// quoted field only at the start of a field, `""` inside one is a quote, and text after the
/// closing quote is kept as it is. `Err(i)` if the quoted field `i` is still open at the end.
pub(crate) fn split_fields(text: &[u8], delimiter: u8, out: &mut Fields) -> std::result::Result<(), usize> {
    out.data.clear();
    out.ends.clear();
    let mut i = 0;
    loop {
        if text.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match text.get(i) {
                    None => return Err(out.ends.len()),
                    Some(b'"') if text.get(i + 1) == Some(&b'"') => {
                        out.data.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b) => {
                        out.data.push(*b);
                        i += 1;
                    }
                }
            }
        }
        while let Some(&b) = text.get(i) {
            if b == delimiter {
                break;
            }
            out.data.push(b);
            i += 1;
        }
        out.ends.push(out.data.len());
        if i >= text.len() {
            return Ok(());
        }
        i += 1;
    }
}

/// One physical line.
struct PhysLine {
    number: u64,
    bytes: Vec<u8>,
    oversized: Option<u64>,
}

/// What reading a delimited file gives, item by item.
pub(crate) enum Item {
    /// A record: the line it starts on, the physical lines it spans and its text.
    Record { line: u64, span: u64, text: Vec<u8> },
    /// A line that is no record, with why.
    Bad { line: u64, field: String, kind: &'static str, reason: String, text: Vec<u8> },
    /// A blank line.
    Blank,
}

/// Reads a delimited file by physical lines, so that line numbers are exact and one bad line
/// costs one line: a quote left open at the end of a line may continue the record on the next
/// lines, but only if it closes within [`MAX_RECORD_LINES`] lines as a record with the
/// header's number of fields; otherwise the line is reported alone (`unbalanced quote`) and
/// reading resumes on the next one. A line longer than [`crate::lines::MAX_LINE`] is reported
/// with its length and never held in memory.
pub(crate) struct Records {
    reader: crate::lines::BlockReader<std::io::BufReader<std::fs::File>>,
    pending: std::collections::VecDeque<PhysLine>,
    delimiter: u8,
    /// Field names, once the header is read.
    pub(crate) headers: Vec<String>,
    max_span: usize,
    fields: Fields,
    /// Physical lines taken from the file so far.
    pub(crate) lines: u64,
    /// Bytes taken from the file so far.
    pub(crate) bytes: u64,
    path: std::path::PathBuf,
}

impl Records {
    fn next_line(&mut self) -> Result<Option<PhysLine>> {
        if self.pending.is_empty() {
            let block = self.reader.next_block().map_err(|source| Error::Io { path: self.path.clone(), source })?;
            if let Some(block) = block {
                for (l, bytes) in block.lines() {
                    // A UTF-8 byte order mark before the header is no part of it.
                    let bytes =
                        if l.number == 1 { bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes) } else { bytes };
                    self.pending.push_back(PhysLine {
                        number: l.number,
                        bytes: bytes.to_vec(),
                        oversized: l.oversized,
                    });
                }
            }
        }
        let line = self.pending.pop_front();
        if let Some(l) = &line {
            self.lines = self.lines.max(l.number);
            self.bytes += l.oversized.unwrap_or(l.bytes.len() as u64) + 1;
        }
        Ok(line)
    }

    /// The next item, or `None` at the end of the file. Its fields are in [`Records::fields`].
    pub(crate) fn next_item(&mut self) -> Result<Option<Item>> {
        let Some(first) = self.next_line()? else { return Ok(None) };
        if let Some(len) = first.oversized {
            let reason = format!(
                "line of {len} bytes is longer than the {} MiB limit for one row",
                crate::lines::MAX_LINE >> 20
            );
            return Ok(Some(Item::Bad {
                line: first.number,
                field: String::new(),
                kind: "line too long",
                reason,
                text: Vec::new(),
            }));
        }
        if first.bytes.trim_ascii().is_empty() {
            return Ok(Some(Item::Blank));
        }
        let open = match split_fields(&first.bytes, self.delimiter, &mut self.fields) {
            Ok(()) => return Ok(Some(Item::Record { line: first.number, span: 1, text: first.bytes })),
            Err(open) => open,
        };
        // A quote is open at the end of the line: a field with a line break, or a stray quote.
        let mut joined = first.bytes.clone();
        let mut taken: Vec<PhysLine> = Vec::new();
        while taken.len() + 1 < self.max_span {
            let Some(next) = self.next_line()? else { break };
            let stop = next.oversized.is_some() || joined.len() + next.bytes.len() >= crate::lines::MAX_LINE;
            if !stop {
                joined.push(b'\n');
                joined.extend_from_slice(&next.bytes);
            }
            taken.push(next);
            if stop {
                break;
            }
            match split_fields(&joined, self.delimiter, &mut self.fields) {
                Ok(()) if self.fields.len() == self.headers.len() => {
                    return Ok(Some(Item::Record { line: first.number, span: taken.len() as u64 + 1, text: joined }));
                }
                Ok(()) => break,
                Err(_) => {}
            }
        }
        let next = first.number + 1;
        for l in taken.into_iter().rev() {
            self.bytes -= l.oversized.unwrap_or(l.bytes.len() as u64) + 1;
            self.pending.push_front(l);
        }
        self.lines = first.number;
        let field = self.headers.get(open).cloned().unwrap_or_else(|| format!("field {}", open + 1));
        let reason = if self.max_span > 1 {
            format!(
                "a quote opens the `{field}` field and does not close on this line (nor as a record of {} fields within the next {} lines): this line alone is set aside and reading resumes on line {next}",
                self.headers.len(),
                self.max_span - 1
            )
        } else {
            format!(
                "a quote opens the `{field}` field and does not close on this line: this line alone is set aside and reading resumes on line {next}"
            )
        };
        Ok(Some(Item::Bad { line: first.number, field, kind: "unbalanced quote", reason, text: first.bytes }))
    }

    /// The fields of the last record returned.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }
}

/// Opens a delimited file and reads its header row. Records may span up to `max_span` lines.
pub(crate) fn open_csv(f: &InputFile, delimiter: u8, max_span: usize) -> Result<Records> {
    let file = crate::open_input(&f.path)?;
    let reader = crate::lines::BlockReader::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut records = Records {
        reader,
        pending: Default::default(),
        delimiter,
        headers: Vec::new(),
        max_span: 1,
        fields: Fields::default(),
        lines: 0,
        bytes: 0,
        path: f.path.clone(),
    };
    let layout = |reason: String| Error::Layout { path: f.path.clone(), reason };
    let headers = match records.next_item()? {
        None => Vec::new(),
        Some(Item::Record { .. }) => clean_header_fields(records.fields.iter()),
        Some(Item::Blank) => return Err(layout("line 1 is blank: the first line must be the header row".into())),
        Some(Item::Bad { reason, .. }) => return Err(layout(format!("cannot read the header row (line 1): {reason}"))),
    };
    records.headers = headers;
    records.max_span = max_span.max(1);
    Ok(records)
}

/// Header names as text: a UTF-8 byte order mark and surrounding spaces (and a CRLF file's
/// `\r`) removed.
pub(crate) fn clean_headers(headers: &csv::ByteRecord) -> Vec<String> {
    clean_header_fields(headers.iter())
}

fn clean_header_fields<'h>(headers: impl Iterator<Item = &'h [u8]>) -> Vec<String> {
    headers
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 { h.trim_start_matches('\u{feff}').to_owned() } else { h.into_owned() };
            h.trim().to_owned()
        })
        .collect()
}

fn parse_date(formats: &[String], field: &str, text: &str) -> std::result::Result<NaiveDate, Problem> {
    if formats.is_empty() {
        return check::parse_date(field, text);
    }
    formats.iter().find_map(|f| NaiveDate::parse_from_str(text, f).ok()).ok_or_else(|| {
        problem(
            field,
            "invalid date",
            format!("`{}` is not a date in the form {}", check::cut(text), formats.join(" or ")),
        )
    })
}

struct Claim {
    /// The person's pseudonym (hex): the NHS number's, or one of its own when kept apart.
    pid: String,
    /// Whether `pid` is the NHS number's (and so links across sources).
    linked: bool,
    year: Option<i32>,
    month: Option<u32>,
    birth: Option<NaiveDate>,
    sex: Option<String>,
    ethnic: Option<String>,
    area: Option<String>,
    nhs: String,
    given: Option<String>,
    family: Option<String>,
    postcode: Option<String>,
}

/// Loads one file with a column mapping.
pub(crate) fn load(
    ctx: &FileCtx<'_>,
    mapping: &Mapping,
    f: &InputFile,
    tx: &mut Transaction,
    load: &mut SourceLoad,
    progress: &dyn Progress,
) -> Result<FileReport> {
    let table = mapping
        .target()
        .ok_or_else(|| Error::Usage(format!("mapping `{}`: unknown table `{}`", mapping.name, mapping.table)))?;
    let t = mapping.table_index().ok_or_else(|| {
        Error::Usage(format!("mapping `{}`: table `{}` cannot be loaded from CSV", mapping.name, mapping.table))
    })?;
    let delimiter = u8::try_from(mapping.delimiter.unwrap_or(','))
        .map_err(|_| Error::Usage(format!("mapping `{}`: the delimiter must be one ASCII character", mapping.name)))?;
    let mut reader = open_csv(f, delimiter, MAX_RECORD_LINES)?;
    let headers = reader.headers.clone();
    let layout = |reason: String| Error::Layout { path: f.path.clone(), reason };
    // Resolve every canonical column to a header (or a constant) once.
    let mut sources: Vec<(usize, Src)> = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let src = match mapping.columns.get(c.name) {
            Some(spec) => match column_source(&headers, spec) {
                Src::Missing if !c.nullable && !matches!(c.name, "person_id" | "source" | "source_org") => {
                    return Err(layout(format!(
                        "mapping `{}` needs a column for `{}` ({spec:?}); the header is: {}",
                        mapping.name,
                        c.name,
                        headers.join(",")
                    )));
                }
                s => s,
            },
            None if !c.nullable && !matches!(c.name, "person_id" | "source" | "source_org") => {
                return Err(layout(format!(
                    "mapping `{}` has no column for `{}`, which `{}` requires",
                    mapping.name, c.name, table.name
                )));
            }
            None => Src::Missing,
        };
        sources.push((i, src));
    }
    let person_cols = match &mapping.person {
        Some(p) => {
            let col = |name: &Option<String>| name.as_ref().and_then(|n| find(&headers, std::slice::from_ref(n)));
            let nhs = find(&headers, std::slice::from_ref(&p.nhs_number)).ok_or_else(|| {
                layout(format!(
                    "mapping `{}`: no `{}` column for the NHS number; the header is: {}",
                    mapping.name,
                    p.nhs_number,
                    headers.join(",")
                ))
            })?;
            Some([
                Some(nhs),
                col(&p.date_of_birth),
                col(&p.sex),
                col(&p.postcode),
                col(&p.given_name),
                col(&p.family_name),
                col(&p.ethnic_category),
            ])
        }
        None => None,
    };
    let record_id = mapping.record_id.as_ref().and_then(|n| find(&headers, std::slice::from_ref(n)));
    let mut report = FileReport {
        path: f.display.clone(),
        format: format!("csv ({})", mapping.name),
        declared: f.declared,
        ..FileReport::default()
    };
    *report.record_types.entry(table.name.to_owned()).or_default() += 0;
    let mut rows = Rows::default();
    let mut claims: HashMap<String, Claim> = HashMap::new();
    let mut claim_order: Vec<String> = Vec::new();
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut postcodes: HashMap<String, String> = HashMap::new();
    let mut last_pos = 0u64;
    loop {
        let item = reader.next_item()?;
        progress.advance(reader.bytes.saturating_sub(last_pos));
        last_pos = reader.bytes;
        let (line, text) = match item {
            None => break,
            Some(Item::Blank) => {
                report.non_record_lines += 1;
                continue;
            }
            Some(Item::Bad { line, field, kind, reason, text }) => {
                report.read += 1;
                let r = Reject {
                    line,
                    record_type: table.name.to_owned(),
                    record_id: String::new(),
                    field,
                    kind,
                    reason,
                    record: excerpt(&text),
                };
                load.quarantine.reject(&mut report, &f.display, &r)?;
                continue;
            }
            Some(Item::Record { line, span, text }) => {
                report.continuation_lines += span - 1;
                (line, text)
            }
        };
        report.read += 1;
        let record = reader.fields();
        let raw = || excerpt(&text);
        let result = (|| -> std::result::Result<(), Problem> {
            if record.len() != headers.len() {
                return Err(problem(
                    "",
                    "wrong number of fields",
                    format!("expected {} fields as in the header, found {}", headers.len(), record.len()),
                ));
            }
            let mut values: Vec<&str> = Vec::with_capacity(record.len());
            for (i, b) in record.iter().enumerate() {
                values.push(
                    std::str::from_utf8(b)
                        .map_err(|e| {
                            problem(
                                &headers[i],
                                "invalid UTF-8",
                                format!("not valid UTF-8 at byte {}", e.valid_up_to()),
                            )
                        })?
                        .trim(),
                );
            }
            if let Some(i) = record_id {
                if let Some(first) = ids.get(values[i]) {
                    return Err(problem(
                        &headers[i],
                        "duplicate record",
                        format!("same {} as line {first}, which was kept", headers[i]),
                    ));
                }
            }
            let mut claim = match &person_cols {
                Some(pc) => Some(person_claim(ctx, mapping, &headers, pc, &values)?),
                None => None,
            };
            // One NHS number, two people: a row whose sex and birth both differ from every other
            // source's record of the number, or from this file's first row with it, is kept apart.
            if let Some(cl) = claim.as_mut() {
                let demographics = |c: &Claim| {
                    link::Demographics::new(c.sex.as_deref(), c.year.map(|y| y as i16), c.month.map(|m| m as i16))
                };
                if let Some(d) = demographics(cl) {
                    let first_here = claims.get(&cl.pid).and_then(demographics);
                    let apart = load.kept_apart(ctx.source, &cl.pid, &d).or_else(|| {
                        first_here.filter(|f| d.differs(f)).map(|_| link::conflict_pseudonym(ctx.source, &cl.pid, &d))
                    });
                    if let Some(own) = apart {
                        cl.pid = own;
                        cl.linked = false;
                    }
                }
            }
            let life = Lifespan { birth: claim.as_ref().and_then(|c| c.birth), death: None };
            let b = rows.get(t);
            let mut code_system: Option<CodeSystem> = None;
            // Values are checked in full before anything is pushed, so a rejected row leaves no trace.
            let mut parsed: Vec<Value> = Vec::with_capacity(table.columns.len());
            for (i, src) in &sources {
                let c = &table.columns[*i];
                let text: Option<String> = match (c.name, src) {
                    ("person_id", _) => claim.as_ref().map(|cl| cl.pid.clone()),
                    ("source", _) => Some(ctx.source.to_owned()),
                    ("source_org", _) => Some(ctx.source_org.to_owned()),
                    ("encounter_id", Src::Col(j)) if table.name == "encounter" => {
                        (!values[*j].is_empty()).then(|| format!("{}/{}", ctx.source, values[*j]))
                    }
                    (_, Src::Col(j)) => (!values[*j].is_empty()).then(|| values[*j].to_owned()),
                    (_, Src::Const(v)) => Some(v.clone()),
                    (_, Src::Missing) => None,
                };
                let field = match src {
                    Src::Col(j) => headers[*j].as_str(),
                    _ => c.name,
                };
                let text = text.map(|v| mapping.values.get(c.name).and_then(|m| m.get(&v)).cloned().unwrap_or(v));
                let Some(text) = text else {
                    if !c.nullable {
                        return Err(problem(field, "missing value", format!("`{}` is required", c.name)));
                    }
                    parsed.push(Value::Null);
                    continue;
                };
                let value = match c.ty {
                    ColumnType::Text => Value::Text(text.clone()),
                    ColumnType::Date => {
                        let d = parse_date(&mapping.date_formats, field, &text)?;
                        if person_cols.is_some() {
                            check::event_date(field, d, &life, ctx.extract_date)?;
                        }
                        Value::Date(d)
                    }
                    ColumnType::SmallInt | ColumnType::Int => {
                        Value::Int(text.replace(',', "").parse::<i64>().map_err(|_| {
                            problem(field, "wrong type", format!("`{}` is not a whole number", check::cut(&text)))
                        })?)
                    }
                    ColumnType::Float => {
                        Value::Float(text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                            problem(field, "wrong type", format!("`{}` is not a number", check::cut(&text)))
                        })?)
                    }
                    ColumnType::Bool => Value::Bool(match text.to_ascii_lowercase().as_str() {
                        "true" | "1" | "y" | "yes" => true,
                        "false" | "0" | "n" | "no" => false,
                        _ => {
                            return Err(problem(
                                field,
                                "wrong type",
                                format!("`{}` is not true or false", check::cut(&text)),
                            ));
                        }
                    }),
                };
                for k in c.constraints {
                    match (k, &value) {
                        (Constraint::OneOf(allowed), Value::Text(v)) if !allowed.contains(&v.as_str()) => {
                            return Err(problem(
                                field,
                                "value not allowed",
                                format!("`{}` is not one of {}", check::cut(v), allowed.join(", ")),
                            ));
                        }
                        (Constraint::Range(lo, hi), Value::Int(v)) if (*v as f64) < *lo || (*v as f64) > *hi => {
                            return Err(problem(field, "implausible value", format!("{v} is outside {lo} to {hi}")));
                        }
                        (Constraint::Range(lo, hi), Value::Float(v)) if v < lo || v > hi => {
                            return Err(problem(field, "implausible value", format!("{v} is outside {lo} to {hi}")));
                        }
                        _ => {}
                    }
                }
                if c.name == "code_system" {
                    if let Value::Text(v) = &value {
                        code_system = CodeSystem::from_name(v);
                    }
                }
                parsed.push(value);
            }
            // A period cannot end before it starts (FHIR's rule for Period too).
            let column = |name: &str| table.columns.iter().position(|c| c.name == name);
            if let (Some(si), Some(ei)) = (column("start_date"), column("end_date")) {
                if let (Value::Date(start), Value::Date(end)) = (&parsed[si], &parsed[ei]) {
                    if end < start {
                        let field = match &sources[ei].1 {
                            Src::Col(j) => headers[*j].as_str(),
                            _ => table.columns[ei].name,
                        };
                        return Err(problem(
                            field,
                            "end before start",
                            format!("ends {end}, before it starts {start}"),
                        ));
                    }
                }
            }
            if let Some(system) = code_system {
                if let Some(ci) = table.columns.iter().position(|c| c.name == "code") {
                    if let Value::Text(code) = &parsed[ci] {
                        let normalised = check::code("code", system, code)?;
                        parsed[ci] = Value::Text(normalised);
                    }
                }
            }
            for (value, c) in parsed.iter().zip(table.columns) {
                match (value, c.ty) {
                    (Value::Null, ColumnType::Text) => b.push_text(None),
                    (Value::Null, ColumnType::Date) => b.push_date(None),
                    (Value::Null, ColumnType::SmallInt) => b.push_small(None),
                    (Value::Null, ColumnType::Int) => b.push_int(None),
                    (Value::Null, ColumnType::Float) => b.push_float(None),
                    (Value::Null, ColumnType::Bool) => b.push_bool(None),
                    (Value::Text(v), _) => b.push_text(Some(v)),
                    (Value::Date(d), _) => b.push_date(Some(*d)),
                    (Value::Int(v), ColumnType::SmallInt) => b.push_small(Some(*v as i16)),
                    (Value::Int(v), _) => b.push_int(Some(*v)),
                    (Value::Float(v), _) => b.push_float(Some(*v)),
                    (Value::Bool(v), _) => b.push_bool(Some(*v)),
                };
            }
            b.end_row();
            if table.name == "postcode_area" {
                if let (Value::Text(pc), Value::Text(area)) = (&parsed[0], &parsed[1]) {
                    postcodes.insert(normalise_postcode(pc), area.clone());
                }
            }
            if let Some(i) = record_id {
                ids.insert(values[i].to_owned(), line);
            }
            if let Some(cl) = claim {
                if !claims.contains_key(&cl.pid) {
                    claim_order.push(cl.pid.clone());
                    claims.insert(cl.pid.clone(), cl);
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => report.accepted += 1,
            Err(p) => {
                let r = Reject {
                    line,
                    record_type: table.name.to_owned(),
                    record_id: String::new(),
                    field: p.field,
                    kind: p.kind,
                    reason: p.reason,
                    record: raw(),
                };
                load.quarantine.reject(&mut report, &f.display, &r)?;
            }
        }
        if rows.len(t) as usize >= BATCH_ROWS {
            load.write_rows(tx, ctx.source, &mut rows, &[], &[], &mut report)?;
        }
    }
    report.lines = Some(reader.lines);
    report.non_record_lines += reader.lines.min(1);
    report.identity_conflicts += claims.values().filter(|c| !c.linked).count() as u64;
    for pid in claim_order {
        let Some(c) = claims.get(&pid) else { continue };
        rows.get(T::PersonSource)
            .push_text(Some(&pid))
            .push_text(Some(ctx.source))
            .push_text(Some(ctx.source_type.name()))
            .push_text(Some(ctx.source_org))
            .push_bool(Some(c.linked))
            .push_small(c.year.map(|y| y as i16))
            .push_small(c.month.map(|m| m as i16))
            .push_text(c.sex.as_deref())
            .push_text(c.ethnic.as_deref())
            .push_text(c.area.as_deref())
            .push_text(None)
            .push_date(None)
            .push_date(Some(ctx.extract_date))
            .end_row();
        rows.get(T::Identity)
            .push_text(Some(&pid))
            .push_text(Some(&c.nhs))
            .push_text(c.given.as_deref())
            .push_text(c.family.as_deref())
            .push_date(c.birth)
            .push_text(None)
            .push_text(None)
            .push_text(c.postcode.as_deref())
            .push_text(Some(ctx.source))
            .end_row();
    }
    load.write_rows(tx, ctx.source, &mut rows, &[], &[], &mut report)?;
    if !postcodes.is_empty() {
        load.postcodes.get_or_insert_with(HashMap::new).extend(postcodes);
    }
    Ok(report)
}

enum Value {
    Null,
    Text(String),
    Date(NaiveDate),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn person_claim(
    ctx: &FileCtx<'_>,
    mapping: &Mapping,
    headers: &[String],
    pc: &[Option<usize>; 7],
    values: &[&str],
) -> std::result::Result<Claim, Problem> {
    let get = |k: usize| pc[k].map(|i| values[i]).filter(|v| !v.is_empty());
    let field = |k: usize| pc[k].map_or("", |i| headers[i].as_str());
    let nhs_text = get(0).ok_or_else(|| {
        problem(field(0), "missing NHS number", "the NHS number is required to link and pseudonymise the record")
    })?;
    let nhs = check::nhs_number(field(0), nhs_text)?;
    let birth = match get(1) {
        Some(t) => Some(parse_date(&mapping.date_formats, field(1), t)?),
        None => None,
    };
    check::birth_and_death(birth, None, ctx.extract_date, field(1), "")?;
    let sex = get(2)
        .map(|s| mapping.values.get("sex").and_then(|m| m.get(s)).cloned().unwrap_or_else(|| s.to_ascii_lowercase()));
    if let Some(s) = &sex {
        if !["female", "male", "other", "unknown"].contains(&s.as_str()) {
            return Err(problem(
                field(2),
                "value not allowed",
                format!("`{}` is not female, male, other or unknown (add a [values.sex] map)", check::cut(s)),
            ));
        }
    }
    let postcode = get(3).map(normalise_postcode);
    let area = postcode.as_ref().and_then(|p| ctx.postcodes.get(p)).cloned();
    Ok(Claim {
        pid: ctx.key.person_id(nhs).to_hex(),
        linked: true,
        year: birth.map(|b| b.year()),
        month: birth.map(|b| b.month()),
        birth,
        sex,
        ethnic: get(6).map(str::to_owned),
        area,
        nhs: format!("{:010}", nhs.as_u64()),
        given: get(4).map(str::to_owned),
        family: get(5).map(str::to_owned),
        postcode,
    })
}

/// Loads a national data opt-out list: a CSV whose `nhs_number` column lists the people who
/// opted out.
pub(crate) fn load_opt_out(
    ctx: &FileCtx<'_>,
    f: &InputFile,
    tx: &mut Transaction,
    load: &mut SourceLoad,
    progress: &dyn Progress,
) -> Result<FileReport> {
    let mut reader = open_csv(f, b',', 1)?;
    let headers = reader.headers.clone();
    let col =
        find(&headers, &["nhs_number".to_owned(), "NHS Number".to_owned(), "nhs_no".to_owned()]).ok_or_else(|| {
            Error::Layout {
                path: f.path.clone(),
                reason: format!("an opt-out list needs an `nhs_number` column; the header is: {}", headers.join(",")),
            }
        })?;
    let mut report =
        FileReport { path: f.display.clone(), format: "opt-out".into(), declared: f.declared, ..FileReport::default() };
    let mut rows = Rows::default();
    let mut seen: HashMap<PersonId, u64> = HashMap::new();
    let mut last = 0u64;
    loop {
        let item = reader.next_item()?;
        progress.advance(reader.bytes.saturating_sub(last));
        last = reader.bytes;
        let line = match item {
            None => break,
            Some(Item::Blank) => {
                report.non_record_lines += 1;
                continue;
            }
            Some(Item::Bad { line, field, kind, reason, text }) => {
                report.read += 1;
                let r = Reject {
                    line,
                    record_type: "opt_out".into(),
                    record_id: String::new(),
                    field,
                    kind,
                    reason,
                    record: excerpt(&text),
                };
                load.quarantine.reject(&mut report, &f.display, &r)?;
                continue;
            }
            Some(Item::Record { line, span, .. }) => {
                report.continuation_lines += span - 1;
                line
            }
        };
        report.read += 1;
        let record = reader.fields();
        let text = record.get(col).map(|b| String::from_utf8_lossy(b).trim().to_owned()).unwrap_or_default();
        let result = check::nhs_number(&headers[col], &text).and_then(|n| {
            let person = ctx.key.person_id(n);
            match seen.get(&person) {
                Some(first) => {
                    Err(problem(&headers[col], "duplicate record", format!("the same NHS number is on line {first}")))
                }
                None => {
                    seen.insert(person, line);
                    Ok(person)
                }
            }
        });
        match result {
            Ok(person) => {
                report.accepted += 1;
                rows.get(T::OptOut).push_text(Some(&person.to_hex())).push_text(Some(ctx.source)).end_row();
            }
            Err(p) => {
                let r = Reject {
                    line,
                    record_type: "opt_out".into(),
                    record_id: String::new(),
                    field: p.field,
                    kind: p.kind,
                    reason: p.reason,
                    record: excerpt(text.as_bytes()),
                };
                load.quarantine.reject(&mut report, &f.display, &r)?;
            }
        }
    }
    report.lines = Some(reader.lines);
    report.non_record_lines += reader.lines.min(1);
    load.write_rows(tx, ctx.source, &mut rows, &[], &[], &mut report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_mappings_parse_and_fit_the_schema() {
        for name in Mapping::builtin_names() {
            let text = BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap_or_default();
            let m = Mapping::parse(Path::new(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.name, name);
        }
    }

    #[test]
    fn a_mapping_naming_an_unknown_column_is_refused_with_the_columns_it_could_use() {
        let text = "name = \"x\"\ntable = \"encounter\"\n[person]\nnhs_number = \"n\"\n[columns]\nencounter_id = \"id\"\nsetting = \"=gp\"\nstart_date = \"d\"\nwhen = \"w\"\n";
        let e = Mapping::parse(Path::new("m.toml"), text).expect_err("unknown column").to_string();
        assert!(e.contains("`when` is not a column of `encounter`"), "{e}");
        assert!(e.contains("m.toml"), "{e}");
        let text = "name = \"x\"\ntable = \"encounter\"\n[columns]\nencounter_id = \"id\"\nsetting = \"=gp\"\nstart_date = \"d\"\n";
        let e = Mapping::parse(Path::new("m.toml"), text).expect_err("no person").to_string();
        assert!(e.contains("[person] section"), "{e}");
    }
}

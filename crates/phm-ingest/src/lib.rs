//! Partner files into the store.
//!
//! ```text
//! manifest / CLI ──► SourceSpec ──► per source: fingerprint ─ unchanged? ─► skip
//!                                       │
//!                                       ▼
//!             files ──► blocks of lines (parallel) ──► map + validate each record
//!                                       │                    │
//!                                       ▼                    ▼
//!                          canonical rows (Parquet)    quarantine (restricted)
//!                                       │
//!               all sources ──► linkage: person_source → person (documented rule)
//!                                       │
//!                                       ▼
//!                              one new snapshot, committed atomically
//! ```
//!
//! Every record read is either accepted into the store or written to the quarantine with its
//! file, line, field and reason; [`report::FileReport::reconciles`] holds for every file and
//! the tests check it on a corpus of bad input. Nothing here logs a record's content.
//!
//! **Architecture invariant:** this is the only crate that maps partner formats onto the
//! canonical tables; `phm-formats` knows no canonical schema and `phm-store` knows no format.
#![warn(missing_docs)]

pub mod check;
pub mod csv_source;
pub mod error;
pub mod fhir;
pub mod lines;
pub mod link;
pub mod omop;
pub mod quarantine;
pub mod report;
pub mod rows;

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::{Array as _, BooleanArray, Int16Array, RecordBatch, StringArray};
use chrono::NaiveDate;
use phm_identity::PseudonymKey;
use phm_store::{ParquetFileWriter, SourceEntry, Store, Transaction, Tree};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub use error::{Error, Result};
use quarantine::QuarantineWriter;
use report::{FileReport, IngestReport, SourceReport};
use rows::{Accepted, Rows, TABLES};

/// The kind of organisation a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SourceType {
    /// A GP practice.
    GpPractice,
    /// An acute hospital trust.
    AcuteTrust,
    /// A community health trust.
    CommunityTrust,
    /// A mental health trust.
    MentalHealthTrust,
    /// A council (social care).
    LocalAuthority,
    /// A national service (the opt-out list).
    National,
    /// Reference data (lookups).
    Reference,
    /// Anything else.
    Other,
}

impl SourceType {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::GpPractice,
        Self::AcuteTrust,
        Self::CommunityTrust,
        Self::MentalHealthTrust,
        Self::LocalAuthority,
        Self::National,
        Self::Reference,
        Self::Other,
    ];

    /// The name used in manifests and the store.
    pub fn name(self) -> &'static str {
        match self {
            Self::GpPractice => "gp_practice",
            Self::AcuteTrust => "acute_trust",
            Self::CommunityTrust => "community_trust",
            Self::MentalHealthTrust => "mental_health_trust",
            Self::LocalAuthority => "local_authority",
            Self::National => "national",
            Self::Reference => "reference",
            Self::Other => "other",
        }
    }

    /// Looks a kind up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// How a source's files are laid out.
#[derive(Clone, Debug)]
pub enum Format {
    /// FHIR R4 Bulk Data NDJSON.
    Fhir,
    /// A delimited file with a declared column mapping onto one canonical table.
    Csv(csv_source::Mapping),
    /// The national data opt-out list: one NHS number per row.
    OptOut,
    /// OMOP CDM v5.4 tables (CSV or Parquet, one file per table, named by table).
    Omop,
}

impl Format {
    fn name(&self) -> String {
        match self {
            Self::Fhir => "fhir".to_owned(),
            Self::Csv(m) => format!("csv ({})", m.name),
            Self::OptOut => "opt-out".to_owned(),
            Self::Omop => "omop".to_owned(),
        }
    }

    fn is_reference(&self) -> bool {
        matches!(self, Self::Csv(m) if m.person.is_none())
    }
}

/// One input file.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// How reports and quarantine name it (relative to the manifest, or as given).
    pub display: String,
    /// Records the sender declared.
    pub declared: Option<u64>,
    /// Resource type or record kind the sender declared.
    pub resource_type: Option<String>,
}

/// One source to load: a partner's feed.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    /// Name, unique in the store (e.g. `gp-SYNGP001`).
    pub name: String,
    /// Kind of organisation.
    pub source_type: SourceType,
    /// ODS (or ONS) code of the sender.
    pub source_org: String,
    /// Layout.
    pub format: Format,
    /// Date the extract was taken; records after it are rejected. Today if not given.
    pub extract_date: Option<NaiveDate>,
    /// Files.
    pub files: Vec<InputFile>,
}

/// Reads a drop's `manifest.json` into sources (files grouped by source, in manifest order).
///
/// Every entry must name a regular file inside the manifest's folder: an absolute path, a `..`
/// that climbs out, a symbolic link that resolves outside, or a device, FIFO or directory is
/// refused with an error naming the entry, before anything is read.
pub fn sources_from_manifest(path: &Path) -> Result<Vec<SourceSpec>> {
    let manifest = phm_formats::manifest::Manifest::read(path)?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let root = base.canonicalize().map_err(|source| Error::Io { path: base.to_owned(), source })?;
    let extract_date = NaiveDate::parse_from_str(&manifest.extract_date, "%Y-%m-%d").ok();
    let mut out: Vec<SourceSpec> = Vec::new();
    for f in &manifest.files {
        let format = match f.format.as_str() {
            "fhir-ndjson" => Format::Fhir,
            "opt-out-csv" => Format::OptOut,
            "omop" | "omop-csv" | "omop-parquet" => Format::Omop,
            other => Format::Csv(csv_source::Mapping::builtin(other).ok_or_else(|| {
                Error::Usage(format!("{}: file {}: format `{other}` is not one ingest knows (fhir-ndjson, omop-csv, omop-parquet, opt-out-csv, {})", path.display(), f.path, csv_source::Mapping::builtin_names().join(", ")))
            })?),
        };
        let source_type = SourceType::from_name(&f.source_type).unwrap_or(SourceType::Other);
        let file = InputFile {
            path: confine(path, &root, &f.path)?,
            display: f.path.clone(),
            declared: Some(f.records),
            resource_type: Some(f.resource_type.clone()),
        };
        match out.iter_mut().find(|s| s.name == f.source) {
            Some(s) => s.files.push(file),
            None => out.push(SourceSpec {
                name: f.source.clone(),
                source_type,
                source_org: f.source_org.clone(),
                format,
                extract_date,
                files: vec![file],
            }),
        }
    }
    Ok(out)
}

/// The file a manifest entry names, resolved inside `root` (the manifest's folder, canonical).
fn confine(manifest: &Path, root: &Path, entry: &str) -> Result<PathBuf> {
    use std::path::Component;
    let refuse =
        |reason: String| Error::ManifestEntry { manifest: manifest.to_owned(), entry: entry.to_owned(), reason };
    let relative = Path::new(entry);
    if entry.trim().is_empty() {
        return Err(refuse("the path is empty".into()));
    }
    for c in relative.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(refuse("`..` climbs out of the manifest's folder: every file must be inside it".into()));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse(
                    "an absolute path: paths are relative to the manifest's folder, and every file must be inside it"
                        .into(),
                ));
            }
        }
    }
    let real = root.join(relative).canonicalize().map_err(|e| refuse(format!("cannot be opened: {e}")))?;
    if !real.starts_with(root) {
        return Err(refuse(
            "a symbolic link on the way leads outside the manifest's folder: every file must be inside it".into(),
        ));
    }
    regular_file(&real).map_err(refuse)?;
    Ok(real)
}

/// `Ok` for a regular file; else what it is instead. Only regular files are read: a device
/// (`/dev/zero`) or a FIFO would never end or never start, and a directory holds no records.
fn regular_file(path: &Path) -> std::result::Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot be opened: {e}"))?;
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    #[cfg(unix)]
    let kind = {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_dir() {
            "a directory"
        } else if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a file"
        }
    };
    #[cfg(not(unix))]
    let kind = if t.is_dir() { "a directory" } else { "not a file" };
    Err(format!("is {kind}, not a regular file: only regular files are read"))
}

/// Opens an input file, refusing anything but a regular file.
pub(crate) fn open_input(path: &Path) -> Result<std::fs::File> {
    regular_file(path).map_err(|reason| Error::Layout { path: path.to_owned(), reason })?;
    std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })
}

/// Progress of an ingest, for a progress bar.
pub trait Progress: Sync {
    /// Total input bytes about to be read.
    fn total(&self, _bytes: u64) {}
    /// A source is starting.
    fn source(&self, _name: &str) {}
    /// Bytes processed.
    fn advance(&self, _bytes: u64) {}
}

/// No progress reporting.
pub struct Quiet;
impl Progress for Quiet {}

/// Options of an ingest.
#[derive(Clone, Debug)]
pub struct Options {
    /// Today's date: the extract date of sources that give none.
    pub today: NaiveDate,
    /// Load an extract even if it is older than the one the store holds for the source.
    pub allow_older: bool,
    /// What made the snapshot, for its manifest.
    pub note: String,
}

/// What every worker needs to map a file.
pub struct FileCtx<'a> {
    /// Source name.
    pub source: &'a str,
    /// Kind of sender.
    pub source_type: SourceType,
    /// Sender's code.
    pub source_org: &'a str,
    /// Records after this date are rejected.
    pub extract_date: NaiveDate,
    /// The pseudonymisation key.
    pub key: &'a PseudonymKey,
    /// Postcode → LSOA.
    pub postcodes: &'a HashMap<String, String>,
}

/// Upper-case, single space before the inward code: the ONS `pcds` form.
pub fn normalise_postcode(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if compact.len() > 3 {
        format!("{} {}", &compact[..compact.len() - 3], &compact[compact.len() - 3..])
    } else {
        compact
    }
}

/// Loads `sources` into a new snapshot of `store`.
pub fn ingest(
    store: &Store,
    key: &PseudonymKey,
    sources: &[SourceSpec],
    options: &Options,
    progress: &dyn Progress,
) -> Result<IngestReport> {
    let started = Instant::now();
    let mut names = HashSet::new();
    for s in sources {
        if !names.insert(&s.name) {
            return Err(Error::Usage(format!("source `{}` is given twice; each source is loaded as one unit", s.name)));
        }
    }
    for f in sources.iter().flat_map(|s| &s.files) {
        regular_file(&f.path).map_err(|reason| Error::Layout { path: f.path.clone(), reason })?;
    }
    let mut tx = store.begin()?;
    let total: u64 = sources.iter().map(|s| input_bytes(&s.files)).sum();
    progress.total(total);
    let mut postcodes = load_postcodes(&tx)?;
    let mut report = IngestReport { bytes: total, ..IngestReport::default() };
    // Reference files first: the postcode lookup gives areas to the people loaded after it.
    let mut order: Vec<&SourceSpec> = sources.iter().filter(|s| s.format.is_reference()).collect();
    order.extend(sources.iter().filter(|s| !s.format.is_reference()));
    let mut changed = false;
    // Every source's records of people, read when the first source loads.
    let mut people_held: Option<link::HeldClaims> = None;
    for spec in order {
        progress.source(&spec.name);
        let extract_date = spec.extract_date.unwrap_or(options.today);
        let held = tx.sources().get(&spec.name);
        // A source the store already holds is fingerprinted first, so that reloading the same
        // extract costs one read; a new source is fingerprinted while it loads.
        let early = match held {
            Some(_) => Some(fingerprint(spec)?),
            None => None,
        };
        let mut source_report = SourceReport {
            source: spec.name.clone(),
            source_type: spec.source_type.name().to_owned(),
            ..SourceReport::default()
        };
        if held.is_some_and(|h| Some(&h.fingerprint) == early.as_ref()) {
            source_report.outcome = format!("unchanged (as loaded in snapshot {})", held.map_or(0, |h| h.loaded_in));
            progress.advance(input_bytes(&spec.files));
            report.sources.push(source_report);
            continue;
        }
        let held_date =
            held.and_then(|h| h.extract_date.as_deref()).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if let Some(held_date) = held_date.filter(|d| *d > extract_date && !options.allow_older) {
            source_report.outcome = format!(
                "refused: extract of {extract_date} is older than the {held_date} one held (--allow-older to load it)"
            );
            report.sources.push(source_report);
            continue;
        }
        let entry = SourceEntry {
            loaded_in: 0,
            loaded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            extract_date: Some(extract_date.to_string()),
            fingerprint: early.clone().unwrap_or_default(),
            details: serde_json::json!({
                "format": spec.format.name(),
                "source_type": spec.source_type.name(),
                "source_org": spec.source_org,
            }),
            files: Vec::new(),
        };
        tx.replace_source(&spec.name, entry);
        let ctx = FileCtx {
            source: &spec.name,
            source_type: spec.source_type,
            source_org: &spec.source_org,
            extract_date,
            key,
            postcodes: &postcodes,
        };
        let claims = match people_held.take() {
            Some(h) => h,
            None => link::HeldClaims::read(&tx)?,
        };
        let mut load = SourceLoad::new(&mut tx, &spec.name, claims)?;
        let (files, fingerprint) = std::thread::scope(|scope| -> Result<(Vec<FileReport>, String)> {
            let hashing = early.is_none().then(|| scope.spawn(|| fingerprint(spec)));
            let files = match &spec.format {
                Format::Fhir => fhir::load(&ctx, spec, &mut tx, &mut load, progress)?,
                Format::Csv(mapping) => spec
                    .files
                    .iter()
                    .map(|f| csv_source::load(&ctx, mapping, f, &mut tx, &mut load, progress))
                    .collect::<Result<_>>()?,
                Format::OptOut => spec
                    .files
                    .iter()
                    .map(|f| csv_source::load_opt_out(&ctx, f, &mut tx, &mut load, progress))
                    .collect::<Result<_>>()?,
                Format::Omop => omop::load(&ctx, spec, &mut tx, &mut load, progress)?,
            };
            let fingerprint = match hashing {
                Some(h) => h
                    .join()
                    .map_err(|_| Error::Usage(format!("source `{}`: fingerprinting its files failed", spec.name)))??,
                None => early.clone().unwrap_or_default(),
            };
            Ok((files, fingerprint))
        })?;
        // A file that does not hold what its manifest declares is a truncated, doubled or
        // mislabelled extract: the whole load is refused (the transaction is dropped uncommitted).
        if let Some(f) = files.iter().find(|f| f.declared.is_some_and(|d| d != f.read)) {
            return Err(Error::DeclaredCount {
                path: f.path.clone(),
                declared: f.declared.unwrap_or_default(),
                found: f.read,
            });
        }
        source_report.files = files;
        tx.set_fingerprint(&spec.name, fingerprint);
        let new_postcodes = load.postcodes.take();
        people_held = Some(load.finish(&mut tx, &spec.name)?);
        if let Some(map) = new_postcodes {
            postcodes.extend(map);
        }
        source_report.outcome = "loaded".to_owned();
        report.sources.push(source_report);
        changed = true;
    }
    if !changed {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let mut linkage = link::resolve(&mut tx)?;
    linkage.identity_conflicts_kept_apart = report.files().map(|f| f.identity_conflicts).sum();
    report.linkage = serde_json::to_value(&linkage).unwrap_or_default();
    let summary = serde_json::json!({ "linkage": report.linkage, "ingest": &report.sources });
    report.snapshot = Some(tx.commit(&options.note, summary)?);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Bytes in these files (for progress; a file that cannot be read counts 0 here and fails
/// when it is read).
fn input_bytes(files: &[InputFile]) -> u64 {
    files.iter().map(|f| std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0)).sum()
}

/// SHA-256 over each file's name and bytes, in the order given.
fn fingerprint(spec: &SourceSpec) -> Result<String> {
    let mut h = Sha256::new();
    h.update(spec.format.name().as_bytes());
    let mut buf = vec![0u8; 1 << 20];
    for f in &spec.files {
        h.update(f.display.as_bytes());
        h.update([0]);
        let mut file = open_input(&f.path)?;
        loop {
            let n = file.read(&mut buf).map_err(|source| Error::Io { path: f.path.clone(), source })?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        h.update([0xff]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The postcode lookup held by the parent snapshot.
fn load_postcodes(tx: &Transaction) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for path in tx.table_paths(Tree::Analytical, "postcode_area") {
        for batch in phm_store::read_parquet(&path)? {
            let (Some(pc), Some(area)) = (string_column(&batch, "postcode"), string_column(&batch, "area_code")) else {
                continue;
            };
            for i in 0..batch.num_rows() {
                if pc.is_valid(i) && area.is_valid(i) {
                    out.insert(pc.value(i).to_owned(), area.value(i).to_owned());
                }
            }
        }
    }
    Ok(out)
}

pub(crate) fn string_column<'b>(batch: &'b RecordBatch, name: &str) -> Option<&'b StringArray> {
    batch.column_by_name(name)?.as_any().downcast_ref::<StringArray>()
}

/// A source's files being written.
pub(crate) struct SourceLoad {
    writers: HashMap<usize, ParquetFileWriter>,
    quarantine: QuarantineWriter,
    /// A postcode lookup loaded by this source, to use for the sources after it.
    pub postcodes: Option<HashMap<String, String>>,
    /// Every source's records of people, to find a record that must be kept apart.
    held: link::HeldClaims,
    /// NHS-number pseudonyms whose records in this source are kept apart, and their own.
    kept_apart: HashMap<String, String>,
}

impl SourceLoad {
    fn new(tx: &mut Transaction, source: &str, held: link::HeldClaims) -> Result<Self> {
        Ok(Self {
            writers: HashMap::new(),
            quarantine: QuarantineWriter::new(tx, source)?,
            postcodes: None,
            held,
            kept_apart: HashMap::new(),
        })
    }

    /// The pseudonym a record of `source` about `pid` should carry, when it must be kept apart
    /// from the person others hold under the same NHS number (see [`link`]); `None` to link.
    pub(crate) fn kept_apart(&self, source: &str, pid: &str, d: &link::Demographics) -> Option<String> {
        self.held.conflicts(source, pid, d).then(|| link::conflict_pseudonym(source, pid, d))
    }

    /// Looks at a block's `person_source` rows: a person whose record must be kept apart gets
    /// a pseudonym of its own for every row of this source, from here on.
    fn check_identities(&mut self, source: &str, batch: &RecordBatch, report: &mut FileReport) {
        let (Some(pid), Some(linked), Some(sex), Some(year), Some(month)) = (
            string_column(batch, "person_id"),
            batch.column_by_name("linked").and_then(|c| c.as_any().downcast_ref::<BooleanArray>()),
            string_column(batch, "sex"),
            batch.column_by_name("year_of_birth").and_then(|c| c.as_any().downcast_ref::<Int16Array>()),
            batch.column_by_name("month_of_birth").and_then(|c| c.as_any().downcast_ref::<Int16Array>()),
        ) else {
            return;
        };
        for i in 0..batch.num_rows() {
            if !linked.value(i) || self.kept_apart.contains_key(pid.value(i)) {
                continue;
            }
            let sex = sex.is_valid(i).then(|| sex.value(i));
            let Some(d) = link::Demographics::new(
                sex,
                year.is_valid(i).then(|| year.value(i)),
                month.is_valid(i).then(|| month.value(i)),
            ) else {
                continue;
            };
            if let Some(own) = self.kept_apart(source, pid.value(i), &d) {
                report.identity_conflicts += 1;
                self.kept_apart.insert(pid.value(i).to_owned(), own);
            }
        }
    }

    /// `batch` with the pseudonyms of people kept apart replaced (and, in `person_source`,
    /// marked not linked).
    fn apply_kept_apart(&self, t: usize, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(pid) = string_column(&batch, "person_id") else { return Ok(batch) };
        if self.kept_apart.is_empty() || !pid.iter().flatten().any(|p| self.kept_apart.contains_key(p)) {
            return Ok(batch);
        }
        let hit: Vec<bool> = pid.iter().map(|p| p.is_some_and(|p| self.kept_apart.contains_key(p))).collect();
        let mut columns = batch.columns().to_vec();
        let schema = batch.schema();
        for (c, field) in schema.fields().iter().enumerate() {
            match field.name().as_str() {
                "person_id" => {
                    let new: StringArray =
                        pid.iter().map(|p| p.map(|p| self.kept_apart.get(p).map_or(p, String::as_str))).collect();
                    columns[c] = std::sync::Arc::new(new);
                }
                "linked" if t == rows::T::PersonSource as usize => {
                    let old = batch.column(c).as_any().downcast_ref::<BooleanArray>();
                    let new: BooleanArray =
                        (0..batch.num_rows()).map(|i| Some(!hit[i] && old.is_some_and(|o| o.value(i)))).collect();
                    columns[c] = std::sync::Arc::new(new);
                }
                _ => {}
            }
        }
        RecordBatch::try_new(schema, columns).map_err(|e| {
            Error::from(phm_store::Error::Schema { table: TABLES[t].name.to_owned(), reason: e.to_string() })
        })
    }

    /// Writes a block's rows, leaving out the rows of records in `drop`.
    pub(crate) fn write_rows(
        &mut self,
        tx: &mut Transaction,
        source: &str,
        rows: &mut Rows,
        accepted: &[Accepted],
        drop: &[usize],
        report: &mut FileReport,
    ) -> Result<()> {
        let mut masks: HashMap<usize, Vec<bool>> = HashMap::new();
        for &i in drop {
            for span in accepted[i].spans.iter().flatten() {
                let t = span.table as usize;
                let mask = masks.entry(t).or_insert_with(|| vec![true; rows.len(span.table) as usize]);
                for r in span.start..span.start + span.count {
                    mask[r as usize] = false;
                }
            }
        }
        for (t, mut builder) in rows.take() {
            let mut batch = builder.finish()?;
            if let Some(mask) = masks.get(&t) {
                batch = arrow_select::filter::filter_record_batch(&batch, &BooleanArray::from(mask.clone())).map_err(
                    |e| phm_store::Error::Schema { table: TABLES[t].name.to_owned(), reason: e.to_string() },
                )?;
            }
            if batch.num_rows() == 0 {
                continue;
            }
            if t == rows::T::PersonSource as usize {
                self.check_identities(source, &batch, report);
            }
            batch = self.apply_kept_apart(t, batch)?;
            if t == rows::T::PersonSource as usize {
                self.held.add_batch(&batch);
            }
            if t == rows::T::Identity as usize {
                report.placeholder_nhs_numbers += placeholders(&batch);
            }
            *report.rows.entry(TABLES[t].name.to_owned()).or_default() += batch.num_rows() as u64;
            let tree = if TABLES[t].name == "identity" { Tree::Restricted } else { Tree::Analytical };
            let writer = match self.writers.entry(t) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(tx.create_parquet(tree, TABLES[t], source)?),
            };
            writer.write(&batch)?;
        }
        Ok(())
    }

    fn finish(self, tx: &mut Transaction, source: &str) -> Result<link::HeldClaims> {
        let mut writers: Vec<(usize, ParquetFileWriter)> = self.writers.into_iter().collect();
        writers.sort_by_key(|(t, _)| *t);
        for (_, w) in writers {
            let entry = w.finish()?;
            tx.add_file(Some(source), entry);
        }
        if let Some(entry) = self.quarantine.finish()? {
            tx.add_file(Some(source), entry);
        }
        Ok(self.held)
    }
}

/// Rows of an `identity` batch whose NHS number is a placeholder (kept under a local pseudonym).
fn placeholders(batch: &RecordBatch) -> u64 {
    let Some(nhs) = string_column(batch, "nhs_number") else { return 0 };
    nhs.iter()
        .flatten()
        .filter(|n| phm_core::nhs_number::NhsNumber::parse(n).is_ok_and(|n| check::placeholder_nhs_number(n).is_some()))
        .count() as u64
}

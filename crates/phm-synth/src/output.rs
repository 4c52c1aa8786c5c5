//! The layout of a drop (which partner sends which file) and the per-chunk buffers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use phm_core::reference::ReferenceData;
use phm_formats::fhir::Resource;
use phm_formats::manifest::{Manifest, ManifestFile};

use crate::{Error, Result};

/// Resource files in every GP practice extract, in slot order.
pub const GP_FILES: [&str; 8] = [
    "Patient",
    "EpisodeOfCare",
    "Condition",
    "Observation",
    "MedicationStatement",
    "Immunization",
    "Encounter",
    "Procedure",
];
/// Resource files in every acute trust extract.
pub const ACUTE_FILES: [&str; 4] = ["Patient", "Encounter", "Condition", "Procedure"];
/// Resource files in every community or mental health trust extract.
pub const COMMUNITY_FILES: [&str; 2] = ["Patient", "Encounter"];

/// Slots within a GP extract.
#[derive(Clone, Copy, Debug)]
#[expect(missing_docs, reason = "slot names are the FHIR resource types")]
pub enum GpFile {
    Patient = 0,
    EpisodeOfCare,
    Condition,
    Observation,
    MedicationStatement,
    Immunization,
    Encounter,
    Procedure,
}

/// One file of the drop.
#[derive(Clone, Debug)]
pub struct FileSpec {
    /// Path relative to the drop.
    pub path: String,
    /// Extract name.
    pub source: String,
    /// Sending organisation.
    pub source_org: String,
    /// Kind of sender.
    pub source_type: &'static str,
    /// File format.
    pub format: &'static str,
    /// Resource type or record kind.
    pub resource_type: String,
    /// CSV header, for CSV files.
    pub header: Option<String>,
}

/// Every file of a drop, with index arithmetic per sender.
pub struct Layout {
    /// Files in manifest order.
    pub files: Vec<FileSpec>,
    practices: usize,
    /// Acute trusts' ODS codes.
    pub acute_trusts: Vec<String>,
    /// Community and mental health trusts' ODS codes.
    pub community_trusts: Vec<String>,
    places: usize,
}

impl Layout {
    /// The layout for this reference data.
    pub fn new(reference: &ReferenceData) -> Self {
        let mut files = Vec::new();
        for practice in &reference.practices {
            for resource in GP_FILES {
                files.push(FileSpec {
                    path: format!("gp/{}/{resource}.ndjson", practice.practice_code),
                    source: format!("gp-{}", practice.practice_code),
                    source_org: practice.practice_code.clone(),
                    source_type: "gp_practice",
                    format: "fhir-ndjson",
                    resource_type: resource.to_owned(),
                    header: None,
                });
            }
        }
        let orgs = |t: &str| -> Vec<String> {
            reference.organisations.iter().filter(|o| o.org_type == t).map(|o| o.org_code.clone()).collect()
        };
        let acute_trusts = orgs("acute_trust");
        let mut community_trusts = orgs("community_mental_health_trust");
        community_trusts.extend(orgs("community_trust"));
        for trust in &acute_trusts {
            for resource in ACUTE_FILES {
                files.push(FileSpec {
                    path: format!("acute/{trust}/{resource}.ndjson"),
                    source: format!("acute-{trust}"),
                    source_org: trust.clone(),
                    source_type: "acute_trust",
                    format: "fhir-ndjson",
                    resource_type: resource.to_owned(),
                    header: None,
                });
            }
        }
        for trust in &community_trusts {
            for resource in COMMUNITY_FILES {
                files.push(FileSpec {
                    path: format!("community/{trust}/{resource}.ndjson"),
                    source: format!("community-{trust}"),
                    source_org: trust.clone(),
                    source_type: "community_trust",
                    format: "fhir-ndjson",
                    resource_type: resource.to_owned(),
                    header: None,
                });
            }
        }
        for place in &reference.places {
            files.push(FileSpec {
                path: format!("social-care/{}/social_care_events.csv", place.place_code),
                source: format!("social-care-{}", place.place_code),
                source_org: place.place_code.clone(),
                source_type: "local_authority",
                format: "social-care-csv",
                resource_type: "SocialCareEvent".to_owned(),
                header: Some(phm_formats::social_care::COLUMNS.join(",")),
            });
        }
        files.push(FileSpec {
            path: "reference/postcode_lookup.csv".to_owned(),
            source: "postcode-directory".to_owned(),
            source_org: "ONS".to_owned(),
            source_type: "reference",
            format: "postcode-lookup-csv",
            resource_type: "PostcodeLookup".to_owned(),
            header: Some("pcds,lsoa21cd,laua".to_owned()),
        });
        files.push(FileSpec {
            path: "national/national_data_opt_out.csv".to_owned(),
            source: "national-data-opt-out".to_owned(),
            source_org: "X26".to_owned(),
            source_type: "national",
            format: "opt-out-csv",
            resource_type: "OptOut".to_owned(),
            header: Some(phm_formats::social_care::OPT_OUT_COLUMNS.join(",")),
        });
        Self {
            files,
            practices: reference.practices.len(),
            acute_trusts,
            community_trusts,
            places: reference.places.len(),
        }
    }

    /// File index of a GP practice's resource file.
    pub fn gp(&self, practice: usize, file: GpFile) -> usize {
        practice * GP_FILES.len() + file as usize
    }

    /// File index of an acute trust's resource file (slot in [`ACUTE_FILES`]).
    pub fn acute(&self, trust: usize, slot: usize) -> usize {
        self.practices * GP_FILES.len() + trust * ACUTE_FILES.len() + slot
    }

    /// File index of a community trust's resource file (slot in [`COMMUNITY_FILES`]).
    pub fn community(&self, trust: usize, slot: usize) -> usize {
        self.practices * GP_FILES.len()
            + self.acute_trusts.len() * ACUTE_FILES.len()
            + trust * COMMUNITY_FILES.len()
            + slot
    }

    /// File index of a council's social care extract.
    pub fn social_care(&self, place: usize) -> usize {
        self.community(self.community_trusts.len(), 0) + place
    }

    /// File index of the postcode-to-area lookup (the synthetic ONS postcode directory).
    pub fn postcode_lookup(&self) -> usize {
        self.social_care(self.places)
    }

    /// File index of the national data opt-out list.
    pub fn opt_out(&self) -> usize {
        self.postcode_lookup() + 1
    }
}

/// Buffers for one chunk of people: bytes and record counts per file.
pub struct Sink {
    /// Bytes per file.
    pub bufs: Vec<Vec<u8>>,
    /// Records per file.
    pub counts: Vec<u64>,
}

impl Sink {
    /// Empty buffers for `files` files.
    pub fn new(files: usize) -> Self {
        Self { bufs: vec![Vec::new(); files], counts: vec![0; files] }
    }

    /// Appends a FHIR resource as one NDJSON line.
    pub fn fhir<R: Resource>(&mut self, file: usize, resource: &R) -> Result<()> {
        let buf = &mut self.bufs[file];
        serde_json::to_writer(&mut *buf, resource)
            .map_err(|source| phm_formats::Error::Serialise { what: R::TYPE, source })?;
        buf.push(b'\n');
        self.counts[file] += 1;
        Ok(())
    }

    /// Appends one CSV record.
    pub fn csv_row(&mut self, file: usize, fields: &[&str]) -> Result<()> {
        let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(&mut self.bufs[file]);
        writer.write_record(fields).map_err(phm_formats::Error::Csv)?;
        writer.flush().map_err(|e| phm_formats::Error::Csv(e.into()))?;
        drop(writer);
        self.counts[file] += 1;
        Ok(())
    }
}

/// Open output files of a drop, appended to chunk by chunk in person order.
pub struct DropWriter {
    root: PathBuf,
    writers: Vec<BufWriter<File>>,
    counts: Vec<u64>,
    bytes: Vec<u64>,
}

impl DropWriter {
    /// Creates every file (and its CSV header).
    pub fn create(root: &Path, layout: &Layout) -> Result<Self> {
        let mut writers = Vec::with_capacity(layout.files.len());
        let mut bytes = Vec::with_capacity(layout.files.len());
        for spec in &layout.files {
            let path = root.join(&spec.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Write { path: parent.to_owned(), source })?;
            }
            let file = File::create(&path).map_err(|source| Error::Write { path: path.clone(), source })?;
            let mut writer = BufWriter::with_capacity(128 * 1024, file);
            let mut written = 0;
            if let Some(header) = &spec.header {
                writer
                    .write_all(header.as_bytes())
                    .and_then(|()| writer.write_all(b"\n"))
                    .map_err(|source| Error::Write { path: path.clone(), source })?;
                written = header.len() as u64 + 1;
            }
            writers.push(writer);
            bytes.push(written);
        }
        Ok(Self { root: root.to_owned(), writers, counts: vec![0; layout.files.len()], bytes })
    }

    /// Appends one chunk's buffers.
    pub fn append(&mut self, sink: &Sink, layout: &Layout) -> Result<()> {
        for (i, buf) in sink.bufs.iter().enumerate() {
            if !buf.is_empty() {
                self.writers[i]
                    .write_all(buf)
                    .map_err(|source| Error::Write { path: self.root.join(&layout.files[i].path), source })?;
                self.bytes[i] += buf.len() as u64;
            }
            self.counts[i] += sink.counts[i];
        }
        Ok(())
    }

    /// Flushes every file and writes `manifest.json`; returns the manifest.
    pub fn finish(
        mut self,
        layout: &Layout,
        generator: String,
        extract_date: String,
        parameters: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Manifest> {
        for (i, writer) in self.writers.iter_mut().enumerate() {
            writer.flush().map_err(|source| Error::Write { path: self.root.join(&layout.files[i].path), source })?;
        }
        let files = layout
            .files
            .iter()
            .enumerate()
            .map(|(i, spec)| ManifestFile {
                path: spec.path.clone(),
                source: spec.source.clone(),
                source_org: spec.source_org.clone(),
                source_type: spec.source_type.to_owned(),
                format: spec.format.to_owned(),
                resource_type: spec.resource_type.clone(),
                records: self.counts[i],
                bytes: self.bytes[i],
            })
            .collect();
        let manifest = Manifest { manifest_version: 1, generator, extract_date, parameters, files };
        manifest.write(&self.root.join("manifest.json"))?;
        Ok(manifest)
    }
}

//! `manifest.json`: what a drop of partner extracts contains.
//!
//! One entry per file with its source organisation, format, resource type and record count, so
//! that ingest can load a whole drop with one command and reconcile counts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The largest manifest read (a drop of a million files needs well under this).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// The manifest of a drop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version of this file.
    pub manifest_version: u32,
    /// What produced the drop, e.g. `phm-synth 0.1.0`.
    pub generator: String,
    /// The date the extracts were taken (ISO 8601).
    pub extract_date: String,
    /// Free-form facts about how the drop was made (seed, population, ...).
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// The files.
    pub files: Vec<ManifestFile>,
}

/// One file in a drop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to the manifest's folder, and inside it (ingest refuses `..`, absolute
    /// paths, links leading out, and anything but a regular file).
    pub path: String,
    /// Name of the extract (the partner's feed), e.g. `gp-SYNGP001`.
    pub source: String,
    /// ODS (or ONS) code of the sending organisation.
    pub source_org: String,
    /// `gp_practice`, `acute_trust`, `community_trust`, `mental_health_trust`, `local_authority`,
    /// `national` (e.g. the opt-out list).
    pub source_type: String,
    /// `fhir-ndjson`, `social-care-csv`, `opt-out-csv`.
    pub format: String,
    /// FHIR resource type, or the CSV record kind.
    pub resource_type: String,
    /// Records in the file (NDJSON lines or CSV data rows). Ingest refuses the whole load when a
    /// file holds another number.
    pub records: u64,
    /// File size in bytes.
    pub bytes: u64,
}

impl Manifest {
    /// Reads a manifest file: a regular file of at most [`MAX_MANIFEST_BYTES`] (a device or
    /// FIFO given as the manifest would never end).
    pub fn read(path: &Path) -> Result<Self> {
        use std::io::Read as _;
        let io = |source| Error::Io { path: path.to_owned(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a manifest must be a regular file (not a directory, device or FIFO)",
            )));
        }
        let mut text = Vec::new();
        std::fs::File::open(path).map_err(io)?.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut text).map_err(io)?;
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a manifest is at most {} MiB", MAX_MANIFEST_BYTES >> 20),
            )));
        }
        serde_json::from_slice(&text).map_err(|source| Error::Manifest { path: path.to_owned(), source })
    }

    /// Writes the manifest as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(|source| Error::Serialise { what: "manifest", source })?;
        std::fs::write(path, text).map_err(|source| Error::Io { path: path.to_owned(), source })
    }

    /// Total records over all files.
    pub fn total_records(&self) -> u64 {
        self.files.iter().map(|f| f.records).sum()
    }
}

//! `manifest.json` of a snapshot: what it holds and where it came from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::io;
use crate::{Error, Result};

/// Which tree a file lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tree {
    /// `snapshots/N/`: pseudonymised analytical tables.
    Analytical,
    /// `restricted/N/`: identity and quarantine, for direct care and data-quality staff only.
    Restricted,
}

impl Tree {
    /// The store folder that holds this tree's committed snapshots.
    pub fn folder(self) -> &'static str {
        match self {
            Self::Analytical => "snapshots",
            Self::Restricted => "restricted",
        }
    }
}

/// One file of a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Which tree.
    pub tree: Tree,
    /// Table (folder) name: `condition`, `identity`, `quarantine`, ...
    pub table: String,
    /// File name within the table's folder; unique in the store.
    pub name: String,
    /// Rows (records) in the file.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
}

/// One source (a partner's feed) as last loaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The snapshot in which this load was committed.
    pub loaded_in: u64,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
    /// The extract date the partner gave (ISO 8601), if known.
    pub extract_date: Option<String>,
    /// SHA-256 over the input files' names and contents: the same extract loads once.
    pub fingerprint: String,
    /// Free-form facts about the load (format, source type, organisation, input files and their counts).
    #[serde(default)]
    pub details: serde_json::Value,
    /// The files holding its rows.
    pub files: Vec<FileEntry>,
}

/// The manifest of one snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotManifest {
    /// Layout version of this file.
    pub manifest_version: u32,
    /// The snapshot's number.
    pub snapshot: u64,
    /// The snapshot it was made from (0 for the first).
    pub parent: u64,
    /// When it was committed (RFC 3339).
    pub committed_at: String,
    /// What made it, e.g. `phm ingest`.
    pub note: String,
    /// The sources, by name.
    pub sources: BTreeMap<String, SourceEntry>,
    /// Tables derived across sources (the linked `person` table), rebuilt every snapshot.
    pub derived: Vec<FileEntry>,
    /// Facts computed at commit (linkage counts, conflicts, opt-outs), for reports.
    #[serde(default)]
    pub summary: serde_json::Value,
}

impl SnapshotManifest {
    /// Reads a manifest.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(io(path))?;
        serde_json::from_slice(&text).map_err(|source| Error::Json { path: path.to_owned(), source })
    }

    /// Every file: each source's and the derived ones.
    pub fn all_files(&self) -> impl Iterator<Item = &FileEntry> {
        self.sources.values().flat_map(|s| s.files.iter()).chain(self.derived.iter())
    }

    /// Rows of a table over all files.
    pub fn rows(&self, tree: Tree, table: &str) -> u64 {
        self.all_files().filter(|f| f.tree == tree && f.table == table).map(|f| f.rows).sum()
    }
}

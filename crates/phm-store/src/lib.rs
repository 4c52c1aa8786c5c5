//! The store: immutable, versioned snapshots of the canonical tables as plain Parquet.
//!
//! ```text
//! <store>/
//!   store.json                  what this folder is, and the pseudonymisation key's fingerprint
//!   LOCK                        held (flock) by the one process writing
//!   snapshots/000007/           one complete, self-contained snapshot (never changed again)
//!     manifest.json             sources, their extract dates and files, row counts, the ingest report
//!     condition/*.parquet       one folder per analytical table
//!     person/*.parquet
//!   restricted/000007/          the same snapshot's identifying files, for direct care only
//!     identity/*.parquet
//!     quarantine/*.csv          rejected records with file, line, field and reason
//!   current -> snapshots/000007 a convenience link for other tools
//!   staging/                    work in progress; whatever is here after a crash is discarded
//! ```
//!
//! **Snapshots.** Every successful ingest makes a new snapshot. Files a snapshot keeps from its
//! parent are hard links to the same bytes, so each snapshot folder is a complete Parquet
//! dataset that DuckDB, Spark or pandas read without OpenPHM
//! (`read_parquet('store/current/condition/*.parquet')`) and old snapshots cost no space until
//! their files are superseded.
//!
//! **Commit.** A transaction writes everything under `staging/`, syncs it, renames the
//! restricted folder into place, then renames the snapshot folder into `snapshots/`: that last
//! rename is the commit. The latest snapshot is the highest-numbered folder in `snapshots/`;
//! a process killed at any moment leaves either the old latest or the new one, complete.
//!
//! **Architecture invariant:** the store knows no source format and no query language. It
//! stores canonical tables by source, replaces a source's files as a unit, and derives nothing.
#![warn(missing_docs)]

pub mod batch;
pub mod error;
mod manifest;
mod transaction;

use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

pub use batch::BatchBuilder;
pub use error::{Error, Result};
pub use manifest::{FileEntry, SnapshotManifest, SourceEntry, Tree};
pub use transaction::{ParquetFileWriter, Transaction};

use error::io;

/// The description in `store.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoreFile {
    format: String,
    version: u32,
    key_fingerprint: String,
    created: String,
}

const FORMAT: &str = "openphm-store";

/// An opened store folder.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store at `root`, creating it if the folder is missing or empty.
    ///
    /// `key_fingerprint` is the pseudonymisation key's fingerprint: a new store records it; an
    /// existing store refuses a different one.
    pub fn open_or_create(root: &Path, key_fingerprint: &str) -> Result<Self> {
        let desc = root.join("store.json");
        if desc.exists() {
            let store = Self::open(root)?;
            let file = store.description()?;
            if file.key_fingerprint != key_fingerprint {
                return Err(Error::WrongKey {
                    path: root.to_owned(),
                    expected: file.key_fingerprint,
                    found: key_fingerprint.to_owned(),
                });
            }
            return Ok(store);
        }
        if root.exists() && fs::read_dir(root).map_err(io(root))?.next().is_some() {
            return Err(Error::NotAStore { path: root.to_owned() });
        }
        for dir in ["snapshots", "restricted", "staging"] {
            fs::create_dir_all(root.join(dir)).map_err(io(root.join(dir)))?;
        }
        restrict_permissions(&root.join("restricted"))?;
        let file = StoreFile {
            format: FORMAT.to_owned(),
            version: 1,
            key_fingerprint: key_fingerprint.to_owned(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|source| Error::Json { path: desc.clone(), source })?;
        transaction::write_synced(&root.join("staging/store.json"), &text)?;
        fs::rename(root.join("staging/store.json"), &desc).map_err(io(&desc))?;
        transaction::sync_dir(root)?;
        Ok(Self { root: root.to_owned() })
    }

    /// Opens an existing store for reading.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::Missing { path: root.to_owned() });
        }
        let store = Self { root: root.to_owned() };
        let file = store.description()?;
        if file.format != FORMAT {
            return Err(Error::NotAStore { path: root.to_owned() });
        }
        Ok(store)
    }

    fn description(&self) -> Result<StoreFile> {
        let path = self.root.join("store.json");
        let text = fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotAStore { path: self.root.clone() }
            } else {
                Error::Io { path: path.clone(), source: e }
            }
        })?;
        serde_json::from_slice(&text).map_err(|source| Error::Json { path, source })
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The fingerprint of the key the store's pseudonyms were made with.
    pub fn key_fingerprint(&self) -> Result<String> {
        Ok(self.description()?.key_fingerprint)
    }

    /// Committed snapshot numbers, oldest first.
    pub fn snapshot_ids(&self) -> Result<Vec<u64>> {
        let dir = self.root.join(Tree::Analytical.folder());
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            if let Some(id) = entry.file_name().to_str().and_then(parse_snapshot_name) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The latest committed snapshot, if any.
    pub fn latest(&self) -> Result<Option<Snapshot>> {
        match self.snapshot_ids()?.last() {
            Some(&id) => self.snapshot(id).map(Some),
            None => Ok(None),
        }
    }

    /// Snapshot `id` ("as at" reads).
    pub fn snapshot(&self, id: u64) -> Result<Snapshot> {
        let dir = self.root.join(Tree::Analytical.folder()).join(snapshot_name(id));
        if !dir.is_dir() {
            let latest = self.snapshot_ids()?.last().copied().unwrap_or(0);
            return Err(Error::NoSnapshot { path: self.root.clone(), id, latest });
        }
        let manifest = SnapshotManifest::read(&dir.join("manifest.json"))?;
        Ok(Snapshot { root: self.root.clone(), dir, manifest })
    }

    /// Starts writing the next snapshot. Takes the store's write lock (refused with
    /// [`Error::Busy`] while another process holds it) and discards anything a crashed writer
    /// left in `staging/`.
    pub fn begin(&self) -> Result<Transaction> {
        Transaction::begin(self)
    }
}

/// One committed snapshot.
#[derive(Clone, Debug)]
pub struct Snapshot {
    root: PathBuf,
    dir: PathBuf,
    manifest: SnapshotManifest,
}

impl Snapshot {
    /// Its number.
    pub fn id(&self) -> u64 {
        self.manifest.snapshot
    }

    /// Its manifest.
    pub fn manifest(&self) -> &SnapshotManifest {
        &self.manifest
    }

    /// The snapshot folder (analytical tables).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The restricted folder (identity and quarantine) of this snapshot.
    pub fn restricted_dir(&self) -> PathBuf {
        self.root.join(Tree::Restricted.folder()).join(snapshot_name(self.manifest.snapshot))
    }

    /// Where one of this snapshot's files is.
    pub fn path_of(&self, file: &FileEntry) -> PathBuf {
        committed_path(&self.root, self.manifest.snapshot, file)
    }

    /// Every file of `table` in this snapshot, with its path.
    pub fn files(&self, tree: Tree, table: &str) -> Vec<(PathBuf, &FileEntry)> {
        self.manifest.all_files().filter(|f| f.tree == tree && f.table == table).map(|f| (self.path_of(f), f)).collect()
    }

    /// Reads a whole table of this snapshot into memory (tests, reports and small tables; the
    /// engine reads through DataFusion instead).
    pub fn read_table(&self, tree: Tree, table: &str) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for (path, _) in self.files(tree, table) {
            out.extend(read_parquet(&path)?);
        }
        Ok(out)
    }
}

/// Reads every batch of one Parquet file.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = fs::File::open(path).map_err(io(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(65_536).build())
        .map_err(|source| Error::Parquet { path: path.to_owned(), source })?;
    reader.map(|b| b.map_err(|e| Error::Parquet { path: path.to_owned(), source: e.into() })).collect()
}

/// Where a file of committed snapshot `id` lives: `<root>/<tree folder>/<id>/<table>/<name>`.
pub(crate) fn committed_path(root: &Path, id: u64, file: &FileEntry) -> PathBuf {
    root.join(file.tree.folder()).join(snapshot_name(id)).join(&file.table).join(&file.name)
}

pub(crate) fn snapshot_name(id: u64) -> String {
    format!("{id:06}")
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    (name.len() >= 6 && name.bytes().all(|b| b.is_ascii_digit())).then(|| name.parse().ok()).flatten()
}

pub(crate) fn restrict_permissions(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    let _ = dir;
    Ok(())
}

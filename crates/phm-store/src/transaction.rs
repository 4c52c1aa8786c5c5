//! Writing a new snapshot: staged, synced, committed by one rename.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use phm_core::schema::Table;

use crate::error::io;
use crate::manifest::{FileEntry, SnapshotManifest, SourceEntry, Tree};
use crate::{Error, Result, Store, committed_path, restrict_permissions, snapshot_name};

/// A snapshot being written. Nothing is visible to readers until [`Transaction::commit`];
/// dropping the transaction (or the process dying) leaves the store as it was.
pub struct Transaction {
    root: PathBuf,
    _lock: File,
    id: u64,
    parent: Option<SnapshotManifest>,
    staging: PathBuf,
    sources: BTreeMap<String, SourceEntry>,
    replaced: BTreeSet<String>,
    derived: Option<Vec<FileEntry>>,
    seq: u64,
    committed: bool,
}

impl Transaction {
    pub(crate) fn begin(store: &Store) -> Result<Self> {
        let root = store.root().to_owned();
        let lock_path = root.join("LOCK");
        let lock =
            fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Busy { path: lock_path }),
            Err(fs::TryLockError::Error(e)) => return Err(Error::Io { path: lock_path, source: e }),
        }
        // We are the only writer: whatever is staged was left by a writer that died.
        let staging_root = root.join("staging");
        if staging_root.exists() {
            fs::remove_dir_all(&staging_root).map_err(io(&staging_root))?;
        }
        fs::create_dir_all(&staging_root).map_err(io(&staging_root))?;
        let ids = store.snapshot_ids()?;
        let latest = ids.last().copied().unwrap_or(0);
        // A restricted folder newer than the latest snapshot was renamed into place by a writer
        // that died before its commit rename: it was never part of a snapshot.
        let restricted = root.join("restricted");
        if restricted.is_dir() {
            for entry in fs::read_dir(&restricted).map_err(io(&restricted))? {
                let entry = entry.map_err(io(&restricted))?;
                let orphan = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > latest);
                if orphan {
                    fs::remove_dir_all(entry.path()).map_err(io(entry.path()))?;
                }
            }
        }
        let parent = match latest {
            0 => None,
            id => Some(store.snapshot(id)?.manifest().clone()),
        };
        let id = latest + 1;
        let staging = staging_root.join(snapshot_name(id));
        for tree in ["snapshot", "restricted"] {
            fs::create_dir_all(staging.join(tree)).map_err(io(staging.join(tree)))?;
        }
        let sources = parent.as_ref().map(|p| p.sources.clone()).unwrap_or_default();
        Ok(Self {
            root,
            _lock: lock,
            id,
            parent,
            staging,
            sources,
            replaced: BTreeSet::new(),
            derived: None,
            seq: 0,
            committed: false,
        })
    }

    /// The number this snapshot will have.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The snapshot this one is made from.
    pub fn parent(&self) -> Option<&SnapshotManifest> {
        self.parent.as_ref()
    }

    /// The sources as they will be committed.
    pub fn sources(&self) -> &BTreeMap<String, SourceEntry> {
        &self.sources
    }

    /// Replaces everything of source `name` with what this transaction writes for it.
    /// `entry.files` should be empty; files are added with [`Transaction::add_file`].
    pub fn replace_source(&mut self, name: &str, mut entry: SourceEntry) {
        entry.loaded_in = self.id;
        entry.files.clear();
        self.sources.insert(name.to_owned(), entry);
        self.replaced.insert(name.to_owned());
    }

    /// Sets the input fingerprint of a source replaced in this transaction (when it is known
    /// only after its files were read).
    pub fn set_fingerprint(&mut self, name: &str, fingerprint: String) {
        if self.replaced.contains(name)
            && let Some(source) = self.sources.get_mut(name)
        {
            source.fingerprint = fingerprint;
        }
    }

    /// Sets the derived (cross-source) tables; they replace the parent's.
    pub fn set_derived(&mut self, files: Vec<FileEntry>) {
        self.derived = Some(files);
    }

    fn tree_dir(&self, tree: Tree) -> PathBuf {
        self.staging.join(match tree {
            Tree::Analytical => "snapshot",
            Tree::Restricted => "restricted",
        })
    }

    /// A new file in the staged snapshot: its path and store-unique name. `owner` is the source
    /// name, or `derived`.
    pub fn new_file(&mut self, tree: Tree, table: &str, owner: &str, extension: &str) -> Result<(PathBuf, String)> {
        let dir = self.tree_dir(tree).join(table);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        self.seq += 1;
        let name = format!("{owner}.s{}.{}.{extension}", snapshot_name(self.id), self.seq);
        Ok((dir.join(&name), name))
    }

    /// Starts a Parquet file of `table` for `owner`.
    pub fn create_parquet(&mut self, tree: Tree, table: &'static Table, owner: &str) -> Result<ParquetFileWriter> {
        let (path, name) = self.new_file(tree, table.name, owner, "parquet")?;
        ParquetFileWriter::create(path, name, tree, table)
    }

    /// Adds a finished file to source `owner` (which must have been replaced in this
    /// transaction), or to the derived tables when `owner` is `None`.
    pub fn add_file(&mut self, owner: Option<&str>, entry: FileEntry) {
        match owner {
            Some(name) => {
                debug_assert!(self.replaced.contains(name), "add_file to a source not replaced in this transaction");
                if let Some(source) = self.sources.get_mut(name) {
                    source.files.push(entry);
                }
            }
            None => self.derived.get_or_insert_with(Vec::new).push(entry),
        }
    }

    /// Every file of `table` as the snapshot will hold it: the files written in this
    /// transaction for replaced sources, the parent's files for the others.
    pub fn table_paths(&self, tree: Tree, table: &str) -> Vec<PathBuf> {
        let parent_id = self.parent.as_ref().map_or(0, |p| p.snapshot);
        let mut out = Vec::new();
        for (name, source) in &self.sources {
            for f in source.files.iter().filter(|f| f.tree == tree && f.table == table) {
                out.push(if self.replaced.contains(name) {
                    self.tree_dir(tree).join(&f.table).join(&f.name)
                } else {
                    committed_path(&self.root, parent_id, f)
                });
            }
        }
        out
    }

    /// Commits the snapshot and returns its number. On error nothing is committed.
    pub fn commit(mut self, note: &str, summary: serde_json::Value) -> Result<u64> {
        let parent_id = self.parent.as_ref().map_or(0, |p| p.snapshot);
        // Carry forward, as hard links, every file this transaction did not replace.
        let mut carried: Vec<FileEntry> = self
            .sources
            .iter()
            .filter(|(name, _)| !self.replaced.contains(*name))
            .flat_map(|(_, s)| s.files.iter().cloned())
            .collect();
        let derived = match self.derived.take() {
            Some(files) => files,
            None => {
                let files = self.parent.as_ref().map(|p| p.derived.clone()).unwrap_or_default();
                carried.extend(files.iter().cloned());
                files
            }
        };
        for file in &carried {
            let from = committed_path(&self.root, parent_id, file);
            let dir = self.tree_dir(file.tree).join(&file.table);
            fs::create_dir_all(&dir).map_err(io(&dir))?;
            let to = dir.join(&file.name);
            if fs::hard_link(&from, &to).is_err() {
                fs::copy(&from, &to).map_err(io(&from))?;
            }
        }
        let manifest = SnapshotManifest {
            manifest_version: 1,
            snapshot: self.id,
            parent: parent_id,
            committed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            note: note.to_owned(),
            sources: self.sources.clone(),
            derived,
            summary,
        };
        let snap = self.tree_dir(Tree::Analytical);
        let restricted = self.tree_dir(Tree::Restricted);
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|source| Error::Json { path: snap.join("manifest.json"), source })?;
        write_synced(&snap.join("manifest.json"), &text)?;
        sync_tree(&snap)?;
        sync_tree(&restricted)?;
        restrict_permissions(&restricted)?;

        let name = snapshot_name(self.id);
        let restricted_final = self.root.join(Tree::Restricted.folder()).join(&name);
        fs::rename(&restricted, &restricted_final).map_err(io(&restricted_final))?;
        sync_dir(&self.root.join(Tree::Restricted.folder()))?;
        let snap_final = self.root.join(Tree::Analytical.folder()).join(&name);
        // The commit point.
        fs::rename(&snap, &snap_final).map_err(io(&snap_final))?;
        sync_dir(&self.root.join(Tree::Analytical.folder()))?;
        self.committed = true;
        let _ = fs::remove_dir_all(&self.staging);
        update_current_link(&self.root, &name);
        Ok(self.id)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Points `current` at the new snapshot for other tools. Best effort: readers in OpenPHM use
/// the highest-numbered snapshot, so a stale link is repaired by the next commit.
fn update_current_link(root: &Path, name: &str) {
    #[cfg(unix)]
    {
        let tmp = root.join("staging").join("current.tmp");
        let _ = fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(Path::new("snapshots").join(name), &tmp).is_ok() {
            let _ = fs::rename(&tmp, root.join("current"));
        }
    }
    let _ = (root, name);
}

/// Writes `bytes` to `path` and syncs the file.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Syncs a directory's entries.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        if entry.file_type().map_err(io(entry.path()))?.is_dir() {
            sync_dir(&entry.path())?;
        }
    }
    sync_dir(dir)
}

/// A Parquet file of one canonical table being written into a transaction.
pub struct ParquetFileWriter {
    path: PathBuf,
    name: String,
    tree: Tree,
    table: &'static Table,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl ParquetFileWriter {
    fn create(path: PathBuf, name: String, tree: Tree, table: &'static Table) -> Result<Self> {
        let file = File::create(&path).map_err(io(&path))?;
        let level = ZstdLevel::try_new(1).map_err(|source| Error::Parquet { path: path.clone(), source })?;
        let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
        let writer = ArrowWriter::try_new(file, table.arrow_schema(), Some(props))
            .map_err(|source| Error::Parquet { path: path.clone(), source })?;
        Ok(Self { path, name, tree, table, writer, rows: 0 })
    }

    /// The table being written.
    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends a batch (which must have the table's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.schema() != self.table.arrow_schema() {
            return Err(Error::Schema {
                table: self.table.name.to_owned(),
                reason: "batch schema differs from the table's".to_owned(),
            });
        }
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch).map_err(|source| Error::Parquet { path: self.path.clone(), source })
    }

    /// Closes and syncs the file; returns its manifest entry.
    pub fn finish(self) -> Result<FileEntry> {
        let file = self.writer.into_inner().map_err(|source| Error::Parquet { path: self.path.clone(), source })?;
        file.sync_all().map_err(io(&self.path))?;
        let bytes = file.metadata().map_err(io(&self.path))?.len();
        Ok(FileEntry { tree: self.tree, table: self.table.name.to_owned(), name: self.name, rows: self.rows, bytes })
    }
}

//! The catalog: the current `CatalogState`, how it is committed durably, and file lifetimes.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use tracing::{debug, info, warn};

use datafusion::arrow::array::RecordBatch;
use object_store::ObjectStoreExt;

use crate::files::{read_data_file_in_full, read_parquet_bytes, without_deleted};
use crate::locations::{FileHome, FileRouter};
use crate::meta::{CatalogState, DataFile};
use crate::volume_files::{VolumeStores, volume_key};
use crate::watch::{CommitWatch, WatchedCommit};
use crate::{Result, StorageError};

const CATALOG_FILE: &str = "catalog.json";
const CATALOG_TMP: &str = "catalog.json.tmp";

/// Holds the catalog state and the data directory.
pub struct Catalog {
    root: PathBuf,
    data_root: PathBuf,
    state: RwLock<Arc<CatalogState>>,
    /// Serializes commits (each one reads the latest state, changes it, persists it).
    commit_lock: Mutex<()>,
    /// One async lock per table id: writers of a table run one at a time; readers never wait.
    table_locks: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    /// Files no longer in the current state, deleted once no held state lists them.
    retired_files: Mutex<Vec<RetiredFile>>,
    /// The object store table reads go through (see `locations.rs`).
    files: Arc<FileRouter>,
    /// The stores of the storage volumes (see `volume_files.rs`).
    volume_stores: VolumeStores,
    /// How long a retired volume object stays before it is deleted (milliseconds): servers
    /// following the volume may still read the version that listed it.
    volume_retire_grace_ms: AtomicU64,
    /// The data directory's lock and the work that runs until the server stops.
    pub(crate) background: crate::Background,
}

/// A file no longer in the current state: its local path, and its volume object if it has one.
struct RetiredFile {
    file: Weak<DataFile>,
    path: PathBuf,
    /// `(volume, key)`.
    volume_object: Option<(String, String)>,
}

impl RetiredFile {
    /// `file`, retired; the objects of a volume this server only follows are not its to delete.
    fn of(file: &Arc<DataFile>, data_root: &Path, followed: &HashSet<String>) -> Self {
        RetiredFile {
            file: Arc::downgrade(file),
            path: data_root.join(&file.path),
            volume_object: match &file.home {
                FileHome::Volume(volume) if !followed.contains(volume) => {
                    Some((volume.clone(), volume_key(&file.path)))
                }
                _ => None,
            },
        }
    }
}

/// Exclusive right to change one table's data until dropped.
pub type TableWriteGuard = tokio::sync::OwnedMutexGuard<()>;

impl Catalog {
    /// Opens (or creates) the catalog in `root`, and removes data files no committed state lists
    /// (left by statements that were running when the server stopped).
    /// A relative `root` is resolved against the working directory once, here: every path the
    /// catalog hands out (to DataFusion's object store, to backup and restore) is absolute.
    pub fn open(root: &Path) -> Result<Arc<Self>> {
        let data_root = root.join("data");
        std::fs::create_dir_all(&data_root).map_err(|e| StorageError::io(&data_root, e))?;
        let root = &std::fs::canonicalize(root).map_err(|e| StorageError::io(root, e))?;
        let data_root = root.join("data");
        // Before anything is read or removed: another server may be using the directory.
        let background = crate::Background::lock(root)?;
        let _ = std::fs::remove_file(root.join(CATALOG_TMP));
        let path = root.join(CATALOG_FILE);
        let mut state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<CatalogState>(&bytes).map_err(|e| {
                StorageError::CorruptCatalog {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CatalogState::default(),
            Err(e) => return Err(StorageError::io(&path, e)),
        };
        crate::loads::upgrade_labels(&mut state);
        let files = Arc::new(FileRouter::new(&data_root)?);
        let catalog = Catalog {
            files,
            root: root.to_path_buf(),
            data_root,
            state: RwLock::new(Arc::new(state)),
            commit_lock: Mutex::new(()),
            table_locks: Mutex::new(HashMap::new()),
            retired_files: Mutex::new(Vec::new()),
            volume_stores: VolumeStores::default(),
            volume_retire_grace_ms: AtomicU64::new(0),
            background,
        };
        let removed = catalog.remove_orphan_files()?;
        if removed > 0 {
            info!(removed, "removed data files of uncommitted writes");
        }
        catalog.index_cached_copies();
        Ok(Arc::new(catalog))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where data files live (absolute); `DataFile::path` is relative to it.
    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    /// Where `file` lives, as a path of the file router (what DataFusion's scans read, under
    /// [`crate::FILES_URL`]). Percent-encoding follows object_store's rules, so any directory
    /// name works.
    pub fn object_path(&self, file: &DataFile) -> object_store::path::Path {
        FileRouter::path_of(file)
    }

    /// Reads a data file's rows (without those its delete vector names) wherever it lives:
    /// the data directory, a repository through the file router (a table an instant restore
    /// is still downloading), or a storage volume (its local copy when there is one).
    pub async fn read_file(&self, file: &DataFile) -> Result<Vec<RecordBatch>> {
        let batches = self.read_file_in_full(file, None).await?;
        without_deleted(file, batches)
    }

    /// Reads every row of a data file, deleted ones too, in file order (row `n` is at
    /// position `n` of its delete vector); `columns`: only those (ascending indexes).
    pub async fn read_file_in_full(
        &self,
        file: &DataFile,
        columns: Option<&[usize]>,
    ) -> Result<Vec<RecordBatch>> {
        let unavailable = |e: object_store::Error| match &file.home {
            FileHome::Volume(volume) => StorageError::VolumeUnavailable {
                volume: volume.clone(),
                reason: format!("data file {}: {e}", file.path),
            },
            other => StorageError::RemoteFileUnavailable {
                file: file.path.clone(),
                repository: match other {
                    FileHome::Repository(r) => r.clone(),
                    _ => String::new(),
                },
                reason: e.to_string(),
            },
        };
        match &file.home {
            FileHome::Local => return read_data_file_in_full(&self.data_root, file, columns),
            FileHome::Volume(_) if self.data_root.join(&file.path).exists() => {
                self.datacache().touch(&file.path);
                return read_data_file_in_full(&self.data_root, file, columns);
            }
            FileHome::Volume(_) => {
                let bytes = self.fetch_from_volume(file).await?;
                if let Err(e) = self.keep_copy(file, &bytes) {
                    warn!(path = %file.path, error = %e, "could not keep a data cache copy");
                }
                return read_parquet_bytes(bytes, columns);
            }
            FileHome::Repository(_) => {}
        }
        let path = FileRouter::path_of(file);
        let result = self.files.get(&path).await.map_err(unavailable)?;
        let bytes = result.bytes().await.map_err(unavailable)?;
        read_parquet_bytes(bytes, columns)
    }

    /// The object store every table read goes through; repositories are mounted on it.
    pub fn files(&self) -> &Arc<FileRouter> {
        &self.files
    }

    pub(crate) fn volume_stores(&self) -> &VolumeStores {
        &self.volume_stores
    }

    /// The current state. Holding it keeps every file it lists on disk.
    pub fn snapshot(&self) -> Arc<CatalogState> {
        match self.state.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Waits for the right to change table `table_id`'s data.
    pub async fn lock_table(&self, table_id: u64) -> TableWriteGuard {
        let lock = {
            let mut locks = self.table_locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(table_id).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Applies `change` to a copy of the latest state, persists it, then makes it current.
    /// If `change` or the write fails, nothing changes.
    pub fn commit<T>(&self, change: impl FnOnce(&mut CatalogState) -> Result<T>) -> Result<T> {
        self.commit_as(None, change)
    }

    /// [`Catalog::commit`]; `refreshing` names the followed volume whose databases this commit
    /// may replace (only the refresh from its published catalog does).
    pub(crate) fn commit_as<T>(
        &self,
        refreshing: Option<&str>,
        change: impl FnOnce(&mut CatalogState) -> Result<T>,
    ) -> Result<T> {
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.snapshot();
        let mut new = CatalogState::clone(&old);
        let out = change(&mut new)?;
        check_attached_unchanged(&old, &new)?;
        crate::volume_catalog::check_followed_unchanged(&old, &new, refreshing)?;
        crate::watch::record_watched_commits(&old, &mut new, chrono::Utc::now().timestamp_millis());
        new.version = old.version + 1;
        self.persist(&new)?;
        let retired = retired_files(&old, &new);
        let followed = crate::volume_catalog::followed_volumes(&old);
        let released = released_files(&old, &new);
        {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            *state = Arc::new(new);
        }
        drop(old);
        if !retired.is_empty() {
            let mut list = self.retired_files.lock().unwrap_or_else(|p| p.into_inner());
            list.extend(
                retired
                    .iter()
                    .map(|f| RetiredFile::of(f, &self.data_root, &followed)),
            );
        }
        if !released.is_empty() {
            // A released file no state lists: deleted at the sweep below, unless it is already
            // in the list (retired while held) with states that still read it.
            let mut list = self.retired_files.lock().unwrap_or_else(|p| p.into_inner());
            let listed: HashSet<PathBuf> = list.iter().map(|r| r.path.clone()).collect();
            for path in released {
                let path = self.data_root.join(path);
                if !listed.contains(&path) {
                    list.push(RetiredFile {
                        file: Weak::new(),
                        path,
                        volume_object: None,
                    });
                }
            }
        }
        self.sweep_retired_files();
        Ok(out)
    }

    /// Deletes retired files that no held state lists any more and no job holds.
    pub fn sweep_retired_files(&self) {
        let mut list = self.retired_files.lock().unwrap_or_else(|p| p.into_inner());
        if list.is_empty() {
            return;
        }
        let held = self.held_paths(&self.snapshot());
        let mut volume_objects = Vec::new();
        list.retain(|retired| {
            let path = &retired.path;
            if retired.file.strong_count() > 0 || held.contains(path) {
                return true;
            }
            volume_objects.extend(retired.volume_object.clone());
            if let Ok(relative) = path.strip_prefix(&self.data_root) {
                self.files.datacache().forget(&relative.to_string_lossy());
            }
            match std::fs::remove_file(path) {
                Ok(()) => debug!(path = %path.display(), "deleted retired data file"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    warn!(path = %path.display(), error = %e, "could not delete retired data file")
                }
            }
            false
        });
        drop(list);
        let grace = Duration::from_millis(self.volume_retire_grace_ms.load(Ordering::Relaxed));
        self.delete_volume_objects(volume_objects, grace);
    }

    /// How long a retired volume object stays in the store before it is deleted.
    pub fn set_volume_retire_grace(&self, grace: Duration) {
        let ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.volume_retire_grace_ms.store(ms, Ordering::Relaxed);
    }

    fn persist(&self, state: &CatalogState) -> Result<()> {
        let tmp = self.root.join(CATALOG_TMP);
        let path = self.root.join(CATALOG_FILE);
        let bytes = serde_json::to_vec(state).map_err(|e| StorageError::CorruptCatalog {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut file = File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
        file.write_all(&bytes)
            .map_err(|e| StorageError::io(&tmp, e))?;
        file.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
        sync_dir(&self.root)?;
        Ok(())
    }

    /// Keeps `paths` (relative to the data root) for `holder` across restarts, until
    /// [`Catalog::release_files`]; replaces what `holder` held before.
    pub fn hold_files(&self, holder: &str, paths: Vec<String>) -> Result<()> {
        self.commit(|state| {
            state.held_files.insert(holder.to_string(), paths);
            Ok(())
        })
    }

    /// Ends `holder`'s hold: its files no state lists are deleted once no query reads them.
    pub fn release_files(&self, holder: &str) -> Result<()> {
        if !self.snapshot().held_files.contains_key(holder) {
            return Ok(());
        }
        self.commit(|state| {
            state.held_files.remove(holder);
            Ok(())
        })
    }

    /// Absolute paths of every file a job holds in `state`.
    fn held_paths(&self, state: &CatalogState) -> HashSet<PathBuf> {
        state.held_paths().map(|p| self.data_root.join(p)).collect()
    }

    /// Starts `watch` for `holder` (a continuous backup), holding `paths` (its first
    /// snapshot's files), in one commit; `capture` reads the state the watch starts from, and
    /// what it returns is returned.
    pub fn start_watch<T>(
        &self,
        holder: &str,
        watch: CommitWatch,
        capture: impl FnOnce(&CatalogState) -> Result<(T, Vec<String>)>,
    ) -> Result<T> {
        self.commit(|state| {
            let (captured, paths) = capture(state)?;
            state.held_files.insert(holder.to_string(), paths);
            state.commit_watches.insert(holder.to_string(), watch);
            Ok(captured)
        })
    }

    /// The pending commits of `holder`'s watch and the time up to which they are complete:
    /// no commit to what it covers happened after them and at or before that time.
    pub fn watched_commits(&self, holder: &str) -> Option<(Vec<WatchedCommit>, i64)> {
        // Commit times are taken under the commit lock: holding it, no commit is half done.
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let now = chrono::Utc::now().timestamp_millis();
        let state = self.snapshot();
        let watch = state.commit_watches.get(holder)?;
        Some((watch.pending.clone(), now.max(watch.last_time_ms)))
    }

    /// Forgets the commits of `holder`'s watch up to `seq` (shipped); their files no state
    /// lists are deleted once no query reads them.
    pub fn drain_watch(&self, holder: &str, seq: u64) -> Result<()> {
        self.commit(|state| {
            if let Some(watch) = state.commit_watches.get_mut(holder) {
                watch.pending.retain(|c| c.seq > seq);
            }
            Ok(())
        })
    }

    /// Ends `holder`'s watch and hold.
    pub fn end_watch(&self, holder: &str) -> Result<()> {
        let state = self.snapshot();
        if !state.commit_watches.contains_key(holder) && !state.held_files.contains_key(holder) {
            return Ok(());
        }
        self.commit(|state| {
            state.commit_watches.remove(holder);
            state.held_files.remove(holder);
            Ok(())
        })
    }

    fn remove_orphan_files(&self) -> Result<usize> {
        let state = self.snapshot();
        // A volume file's local copy is its cache: kept like a local file.
        let mut referenced: HashSet<PathBuf> = all_files(&state)
            .filter(|f| f.home.is_local() || matches!(f.home, FileHome::Volume(_)))
            .map(|f| self.data_root.join(&f.path))
            .collect();
        referenced.extend(self.held_paths(&state));
        let mut removed = 0;
        let mut stack = vec![self.data_root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| StorageError::io(&dir, e))?;
            for entry in entries {
                let path = entry.map_err(|e| StorageError::io(&dir, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if !referenced.contains(&path) {
                    std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// A database attached from a snapshot is read-only: a commit may add or remove it whole, never
/// change it (the one place every write path passes, so none can forget).
fn check_attached_unchanged(old: &CatalogState, new: &CatalogState) -> Result<()> {
    for (name, old_db) in &old.databases {
        if old_db.attached.is_none() {
            continue;
        }
        if let Some(new_db) = new.databases.get(name)
            && !Arc::ptr_eq(old_db, new_db)
        {
            return Err(old_db
                .check_writable()
                .err()
                .unwrap_or(StorageError::Conflict));
        }
    }
    Ok(())
}

/// fsync a directory so a rename or new file in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}

/// Every data file a state lists: its tables' and its recycle bin's.
/// Every file of `state`: its tables' and the recycle bin's.
pub(crate) fn all_files(state: &CatalogState) -> impl Iterator<Item = &Arc<DataFile>> {
    state
        .databases
        .values()
        .flat_map(|db| db.tables.values())
        .flat_map(|t| t.partitions.iter())
        .flat_map(|p| p.files.iter())
        .chain(state.recycle_bin.files())
}

/// Paths held in `old` that `new` neither holds nor lists.
fn released_files(old: &CatalogState, new: &CatalogState) -> Vec<String> {
    let old_held: HashSet<&str> = old.held_paths().collect();
    if old_held.is_empty() {
        return Vec::new();
    }
    let mut kept: HashSet<&str> = new.held_paths().collect();
    if old_held.iter().all(|p| kept.contains(p)) {
        return Vec::new();
    }
    kept.extend(all_files(new).map(|f| f.path.as_str()));
    old_held
        .into_iter()
        .filter(|p| !kept.contains(p))
        .map(str::to_string)
        .collect()
}

/// Files listed in `old` but not in `new` (only tables that changed are compared).
fn retired_files(old: &CatalogState, new: &CatalogState) -> Vec<Arc<DataFile>> {
    let mut new_paths = HashSet::new();
    let mut candidates = Vec::new();
    for (db_name, old_db) in &old.databases {
        let new_db = new.databases.get(db_name);
        if new_db.is_some_and(|d| Arc::ptr_eq(d, old_db)) {
            continue;
        }
        for (name, old_table) in &old_db.tables {
            let new_table = new_db.and_then(|d| d.tables.get(name));
            if new_table.is_some_and(|t| Arc::ptr_eq(t, old_table)) {
                continue;
            }
            candidates.extend(
                old_table
                    .partitions
                    .iter()
                    .flat_map(|p| p.files.iter().cloned()),
            );
        }
    }
    // What left the recycle bin (expired, erased by a newer drop of the same name, recovered).
    candidates.extend(old.recycle_bin.files_gone_from(&new.recycle_bin));
    if candidates.is_empty() {
        return candidates;
    }
    new_paths.extend(all_files(new).map(|f| f.path.as_str()));
    // Local and volume files are the catalog's to delete; a repository's belong to the
    // repository.
    candidates
        .into_iter()
        .filter(|f| !matches!(f.home, FileHome::Repository(_)))
        .filter(|f| !new_paths.contains(f.path.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::DatabaseMeta;
    use std::collections::BTreeMap;

    fn add_db(state: &mut CatalogState, name: &str) -> Result<()> {
        let id = state.allocate_id();
        state.databases.insert(
            name.into(),
            Arc::new(DatabaseMeta {
                id,
                name: name.into(),
                created_at: String::new(),
                tables: BTreeMap::new(),
                views: BTreeMap::new(),
                attached: None,
                storage_volume: None,
                followed_volume: None,
            }),
        );
        Ok(())
    }

    #[test]
    fn commits_survive_reopen_and_failed_changes_do_not_apply() {
        let dir = tempfile::tempdir().unwrap();
        {
            let catalog = Catalog::open(dir.path()).unwrap();
            catalog.commit(|s| add_db(s, "a")).unwrap();
            let err = catalog.commit(|s| {
                add_db(s, "b")?;
                Err::<(), _>(StorageError::Conflict)
            });
            assert!(err.is_err());
            assert!(catalog.snapshot().database("b").is_none());
        }
        let catalog = Catalog::open(dir.path()).unwrap();
        let state = catalog.snapshot();
        assert!(state.database("a").is_some());
        assert!(state.database("b").is_none());
        assert_eq!(state.version, 1);
    }

    #[test]
    fn orphan_files_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let orphan = dir.path().join("data/t1/p1/x.parquet");
        std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
        std::fs::write(&orphan, b"junk").unwrap();
        std::fs::write(dir.path().join(CATALOG_TMP), b"{torn").unwrap();
        Catalog::open(dir.path()).unwrap();
        assert!(!orphan.exists());
        assert!(!dir.path().join(CATALOG_TMP).exists());
    }

    #[test]
    fn held_files_survive_open_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let held = dir.path().join("data/t1/p1/held.parquet");
        let other = dir.path().join("data/t1/p1/other.parquet");
        std::fs::create_dir_all(held.parent().unwrap()).unwrap();
        std::fs::write(&held, b"kept").unwrap();
        std::fs::write(&other, b"junk").unwrap();
        {
            let catalog = Catalog::open(dir.path()).unwrap();
            catalog
                .hold_files("restore-7", vec!["t1/p1/held.parquet".into()])
                .unwrap();
        }
        std::fs::write(&held, b"kept").unwrap();
        std::fs::write(&other, b"junk").unwrap();
        let catalog = Catalog::open(dir.path()).unwrap();
        assert!(held.exists(), "a held file is not an orphan");
        assert!(!other.exists());
        catalog.release_files("restore-7").unwrap();
        assert!(!held.exists(), "a released file no state lists is deleted");
        assert!(catalog.snapshot().held_files.is_empty());
    }
}

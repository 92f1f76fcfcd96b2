//! A repository: a named location holding snapshots, and what can be read from it by listing
//! storage alone (so a second server pointing at the same location sees the same snapshots).

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::StoreError;
use crate::format::{self, RepoInfo, SnapshotInfo, SnapshotMeta};
use crate::location::Location;
use crate::store::{LocalStore, ObjectStore, S3Store, StoreContext};

/// A repository as the catalog keeps it.
#[derive(Debug)]
pub struct Repository {
    pub id: u64,
    pub name: String,
    pub read_only: bool,
    /// The location exactly as written.
    pub location: String,
    pub broker: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss`; from `__repo_info` when the repository was adopted.
    pub create_time: String,
    pub store: Arc<dyn ObjectStore>,
}

/// One row of the SHOW SNAPSHOT list: a snapshot and its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotListing {
    pub name: String,
    /// Valid timestamps, and `Invalid: <file>` for info files without a checksum suffix.
    pub timestamps: Vec<String>,
    pub valid: bool,
}

/// Opens the store of a location (no request is sent).
pub async fn open_store(location: &Location, context: &StoreContext) -> Arc<dyn ObjectStore> {
    match location {
        Location::File(path) => Arc::new(LocalStore::new(path.clone())),
        Location::S3(settings) => Arc::new(S3Store::connect(settings, context).await),
    }
}

/// Reads `__repo_info` if the location already holds this repository; creates it otherwise
/// (unless read-only). Proves the location is writable for a writable repository.
pub async fn init_remote(
    store: &dyn ObjectStore,
    name: &str,
    read_only: bool,
    now: &str,
) -> Result<String, StoreError> {
    let info_key = format::repo_info_key(name);
    let existing = match store.get(&info_key).await {
        Ok(bytes) => Some(bytes),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    // Listing is needed for every later SHOW SNAPSHOT: check it works now.
    store.list_dirs(&format::repo_root(name)).await?;
    match existing {
        Some(bytes) => {
            let info: RepoInfo = serde_json::from_slice(&bytes).map_err(|e| {
                StoreError::Other(format!("the existing {info_key} is not valid: {e}"))
            })?;
            if !read_only {
                probe_writable(store, &format::repo_root(name)).await?;
            }
            Ok(info.create_time)
        }
        None if read_only => Ok(now.to_string()),
        None => {
            let info = RepoInfo {
                name: name.to_string(),
                create_time: now.to_string(),
            };
            let body = serde_json::to_vec(&info).map_err(|e| StoreError::Other(e.to_string()))?;
            store.put(&info_key, Bytes::from(body)).await?;
            Ok(now.to_string())
        }
    }
}

/// Proves that objects can be listed, written, read and deleted under `dir` (which ends with
/// `/` or is empty) by writing and removing one small object.
pub async fn probe_writable(store: &dyn ObjectStore, dir: &str) -> Result<(), StoreError> {
    store.list_dirs(dir).await?;
    let probe = format!("{dir}__write_probe_{:016x}", rand::random::<u64>());
    store.put(&probe, Bytes::from_static(b"probe")).await?;
    let read = store.get(&probe).await;
    store.delete(&probe).await?;
    if read? != Bytes::from_static(b"probe") {
        return Err(StoreError::Other(
            "an object written there reads back different bytes".into(),
        ));
    }
    Ok(())
}

impl Repository {
    /// Names of all snapshots (directories `__ss_<name>`), in storage order.
    pub async fn snapshot_names(&self) -> Result<Vec<String>, StoreError> {
        let dirs = self.store.list_dirs(&format::repo_root(&self.name)).await?;
        Ok(dirs
            .into_iter()
            .filter_map(|d| d.strip_prefix("__ss_").map(str::to_string))
            .collect())
    }

    /// Whether anything exists under `__ss_<name>/` (a used name, even if unfinished).
    pub async fn snapshot_exists(&self, snapshot: &str) -> Result<bool, StoreError> {
        Ok(!self
            .store
            .list(&format::snapshot_dir(&self.name, snapshot))
            .await?
            .is_empty())
    }

    /// The timestamps of one snapshot, read from its info files.
    pub async fn snapshot_listing(&self, snapshot: &str) -> Result<SnapshotListing, StoreError> {
        let dir = format::snapshot_dir(&self.name, snapshot);
        let entries = self.store.list(&format!("{dir}__info_")).await?;
        let mut timestamps = Vec::new();
        let mut valid = false;
        for entry in entries {
            let file = entry.key.strip_prefix(&dir).unwrap_or(&entry.key);
            match format::split_md5(file) {
                Some((base, _)) => {
                    valid = true;
                    timestamps.push(base.trim_start_matches("__info_").to_string());
                }
                None => timestamps.push(format!("Invalid: {file}")),
            }
        }
        Ok(SnapshotListing {
            name: snapshot.to_string(),
            timestamps,
            valid,
        })
    }

    /// The info of `snapshot` at `timestamp`: its info file, or for a continuous snapshot the
    /// info of the point `timestamp` (any time in its range).
    pub async fn read_info(
        &self,
        snapshot: &str,
        timestamp: &str,
    ) -> Result<SnapshotInfo, StoreError> {
        match self.read_info_file(snapshot, timestamp).await {
            Ok(info) if info.snaprock.as_ref().is_some_and(|e| e.continuous) => {
                self.point_info(snapshot, &info, timestamp).await
            }
            Ok(info) => Ok(info),
            Err(StoreError::NotFound(missing)) => match self.continuous_info(snapshot).await {
                Ok(Some(base)) => self.point_info(snapshot, &base, timestamp).await,
                Ok(None) | Err(StoreError::NotFound(_)) => Err(StoreError::NotFound(missing)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Reads and checks the info file of `snapshot` at `timestamp`.
    pub async fn read_info_file(
        &self,
        snapshot: &str,
        timestamp: &str,
    ) -> Result<SnapshotInfo, StoreError> {
        let dir = format::snapshot_dir(&self.name, snapshot);
        let wanted = format!("{dir}__info_{timestamp}");
        let matches: Vec<_> = self
            .store
            .list(&wanted)
            .await?
            .into_iter()
            .filter(|e| format::split_md5(&e.key).is_some_and(|(base, _)| base == wanted))
            .collect();
        let [entry] = matches.as_slice() else {
            return Err(StoreError::NotFound(format!(
                "Expected one file with path: {}/{wanted}. get: {}",
                self.location.trim_end_matches('/'),
                matches.len()
            )));
        };
        let body = self.store.get(&entry.key).await?;
        check_md5(&entry.key, &body)?;
        serde_json::from_slice(&body)
            .map_err(|e| StoreError::Other(format!("{} is not a valid info file: {e}", entry.key)))
    }

    /// Reads and checks the meta file an info file names.
    pub async fn read_meta(
        &self,
        snapshot: &str,
        info: &SnapshotInfo,
    ) -> Result<SnapshotMeta, StoreError> {
        let Some(ext) = &info.snaprock else {
            return Err(StoreError::Other(format!(
                "snapshot {snapshot} was not written by snaprock (no 'snaprock' key in its info file)"
            )));
        };
        if let Some(point_ms) = ext.point_ms {
            let base = self.continuous_info(snapshot).await?.ok_or_else(|| {
                StoreError::NotFound(format!("continuous snapshot {snapshot} is gone"))
            })?;
            let timestamp = format::snapshot_timestamp(point_ms);
            return Box::pin(self.meta_at(snapshot, &base, point_ms, &timestamp)).await;
        }
        let key = format!(
            "{}{}",
            format::snapshot_dir(&self.name, snapshot),
            ext.meta_file
        );
        let body = self.store.get(&key).await?;
        check_md5(&key, &body)?;
        serde_json::from_slice(&body)
            .map_err(|e| StoreError::Other(format!("{key} is not a valid meta file: {e}")))
    }

    /// Keys (relative to the repository root) of every data file already stored.
    pub async fn stored_data_files(&self) -> Result<HashSet<String>, StoreError> {
        let root = format::repo_root(&self.name);
        Ok(self
            .store
            .list(&format::data_prefix(&self.name))
            .await?
            .into_iter()
            .filter_map(|e| e.key.strip_prefix(&root).map(str::to_string))
            .collect())
    }

    /// A key relative to the repository root, as the store wants it.
    pub fn key(&self, relative: &str) -> String {
        format!("{}{relative}", format::repo_root(&self.name))
    }
}

pub(crate) fn check_md5(key: &str, body: &[u8]) -> Result<(), StoreError> {
    let file = key.rsplit('/').next().unwrap_or(key);
    let Some((_, expected)) = format::split_md5(file) else {
        return Err(StoreError::Other(format!("{key} has no checksum suffix")));
    };
    let actual = format::md5_hex(body);
    if actual != expected.to_ascii_lowercase() {
        return Err(StoreError::Checksum {
            key: key.to_string(),
            expected: format!("md5 {expected}"),
            actual: format!("md5 {actual}"),
        });
    }
    Ok(())
}

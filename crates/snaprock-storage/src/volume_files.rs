//! Data files of tables on a storage volume: published to the volume's object store before the
//! commit that lists them.
//!
//! A writer produces its Parquet files in the data directory as for any table; before its
//! commit, [`Catalog::publish`] uploads each new file of a volume table (verified against the
//! SHA-256 computed while it was written) and marks it [`FileHome::Volume`]. The object's key
//! is the file's data-directory path under [`VOLUME_DATA_DIR`], so the local file, kept, is the
//! object's cached copy: reads take it when it is there and the store otherwise. A file is
//! deleted from the volume when it is retired, as a local file is. How the store is reached
//! (S3 client, credentials) is the caller's: it mounts a [`VolumeStore`] per volume.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::catalog::Catalog;
use crate::locations::FileHome;
use crate::meta::{DataFile, TableMeta};
use crate::{Result, StorageError};

/// Where in a volume's location table data files are kept.
pub const VOLUME_DATA_DIR: &str = "snaprock/data/";

/// The property of a table naming its storage volume.
pub const STORAGE_VOLUME_PROPERTY: &str = "storage_volume";

/// One storage volume's object store, as the catalog needs it.
#[async_trait]
pub trait VolumeStore: Send + Sync + std::fmt::Debug {
    /// Uploads the local file `local` to `key` (under the volume's location), visible only if
    /// its size and SHA-256 are `file`'s.
    async fn upload(&self, key: &str, local: &Path, file: &DataFile) -> Result<(), String>;
    /// Deletes `key`; a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), String>;
    /// The store reads go through, rooted at [`VOLUME_DATA_DIR`] of the volume.
    fn reader(&self) -> Arc<dyn object_store::ObjectStore>;
    /// Writes a small object whole (`key` under the volume's location).
    async fn put_object(&self, key: &str, body: bytes::Bytes) -> Result<(), String>;
    /// Reads a small object whole; `None` if there is none.
    async fn get_object(&self, key: &str) -> Result<Option<bytes::Bytes>, String>;
}

/// The mounted volume stores, by volume name.
#[derive(Debug, Default)]
pub(crate) struct VolumeStores {
    stores: RwLock<HashMap<String, Arc<dyn VolumeStore>>>,
}

impl VolumeStores {
    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn VolumeStore>> {
        let stores = self.stores.read().unwrap_or_else(|p| p.into_inner());
        stores.get(name).cloned()
    }
}

impl TableMeta {
    /// The storage volume the table's files are published to, if any.
    pub fn storage_volume(&self) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY))
            .map(|(_, v)| v.as_str())
    }
}

impl crate::meta::CatalogState {
    /// The volume keys this state may still read: every file on a volume (tables, the recycle
    /// bin) and every file a job holds. Any other object under a volume's data directory is
    /// an orphan of a write that never committed.
    pub fn volume_keys(&self) -> std::collections::HashSet<String> {
        crate::datacache_fill::volume_files(self)
            .map(|f| volume_key(&f.path))
            .chain(self.held_paths().map(volume_key))
            .collect()
    }
}

/// The key of a data file in its volume.
pub fn volume_key(path: &str) -> String {
    format!("{VOLUME_DATA_DIR}{path}")
}

impl Catalog {
    /// Makes volume `name` reachable (replacing an earlier store of that name).
    pub fn mount_volume(&self, name: &str, store: Arc<dyn VolumeStore>) {
        self.files().mount_volume(name, store.reader());
        let mut stores = self
            .volume_stores()
            .stores
            .write()
            .unwrap_or_else(|p| p.into_inner());
        stores.insert(name.to_string(), store);
    }

    pub fn unmount_volume(&self, name: &str) {
        self.files().unmount_volume(name);
        let mut stores = self
            .volume_stores()
            .stores
            .write()
            .unwrap_or_else(|p| p.into_inner());
        stores.remove(name);
    }

    /// Uploads the new `files` of `table` to its storage volume and marks them as there; a
    /// table on no volume is left as it is. Call before the commit that lists the files: a
    /// failure leaves the statement uncommitted (its local files are then orphans).
    pub async fn publish(&self, table: &TableMeta, files: &mut [DataFile]) -> Result<()> {
        match table.storage_volume() {
            Some(volume) => self.publish_to(volume, files).await,
            None => Ok(()),
        }
    }

    /// Uploads the local `files` to volume `volume` and marks them as there (see
    /// [`Catalog::publish`]).
    pub async fn publish_to(&self, volume: &str, files: &mut [DataFile]) -> Result<()> {
        let unavailable = |reason: String| StorageError::VolumeUnavailable {
            volume: volume.to_string(),
            reason,
        };
        let store = self
            .volume_stores()
            .get(volume)
            .ok_or_else(|| unavailable("the volume is not mounted on this server".into()))?;
        for file in files.iter_mut().filter(|f| f.home.is_local()) {
            let local = self.data_root().join(&file.path);
            store
                .upload(&volume_key(&file.path), &local, file)
                .await
                .map_err(unavailable)?;
            file.home = FileHome::Volume(volume.to_string());
            self.cache_copy(file);
        }
        Ok(())
    }

    /// Removes the files of a write that will not be committed: their local copies now, their
    /// volume objects (if published) in the background.
    pub fn discard_new_files(&self, files: &[DataFile]) {
        let mut objects = Vec::new();
        for file in files {
            let _ = std::fs::remove_file(self.data_root().join(&file.path));
            if let FileHome::Volume(volume) = &file.home {
                objects.push((volume.clone(), volume_key(&file.path)));
            }
        }
        self.delete_volume_objects(objects, std::time::Duration::ZERO);
    }

    /// Deletes volume objects in the background, `after` a while (a failure only leaves an
    /// object behind, which is logged; one the server stopped before deleting is an orphan the
    /// next start removes).
    pub(crate) fn delete_volume_objects(
        &self,
        objects: Vec<(String, String)>,
        after: std::time::Duration,
    ) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        for (volume, key) in objects {
            let Some(store) = self.volume_stores().get(&volume) else {
                tracing::warn!(%volume, %key, "volume not mounted: retired object left behind");
                continue;
            };
            self.background.spawn(async move {
                tokio::time::sleep(after).await;
                match store.delete(&key).await {
                    Ok(()) => tracing::debug!(%volume, %key, "deleted retired volume object"),
                    Err(e) => {
                        tracing::warn!(%volume, %key, error = %e, "could not delete retired volume object")
                    }
                }
            });
        }
    }
}

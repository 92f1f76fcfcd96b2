//! The catalog's side of the data cache (`datacache.rs`): which copies it holds at start,
//! admitting and evicting copies, and fetching a volume file's copy after a read missed it
//! (verified against the file's SHA-256 before it is kept).

use std::sync::Arc;

use bytes::Bytes;
use object_store::ObjectStoreExt;
use sha2::{Digest, Sha256};
use tracing::{debug, warn};

use crate::catalog::Catalog;
use crate::datacache::{DataCache, modified};
use crate::locations::FileHome;
use crate::meta::{CatalogState, DataFile};
use crate::{Result, StorageError};

/// Every volume file of `state` (tables and the recycle bin).
pub(crate) fn volume_files(state: &CatalogState) -> impl Iterator<Item = &Arc<DataFile>> {
    crate::catalog::all_files(state).filter(|f| matches!(f.home, FileHome::Volume(_)))
}

impl Catalog {
    pub fn datacache(&self) -> &Arc<DataCache> {
        self.files().datacache()
    }

    /// Bounds the data cache to `bytes` (evicting what is over).
    pub fn set_datacache_limit(&self, bytes: u64) {
        self.datacache().set_limit(bytes);
        self.evict_cached_copies();
    }

    /// Notes the volume files' copies found in the data directory, oldest first.
    pub(crate) fn index_cached_copies(&self) {
        let state = self.snapshot();
        let mut found: Vec<_> = volume_files(&state)
            .filter_map(|f| {
                let local = self.data_root().join(&f.path);
                local
                    .exists()
                    .then(|| (modified(&local), f.path.clone(), f.bytes))
            })
            .collect();
        found.sort();
        for (_, path, bytes) in found {
            self.datacache().admit(&path, bytes);
        }
    }

    /// Deletes the least recently used copies over the cache's bound, except held ones.
    pub(crate) fn evict_cached_copies(&self) {
        let _evicting = self.datacache().eviction_lock();
        let held: std::collections::HashSet<String> =
            self.snapshot().held_paths().map(str::to_string).collect();
        for path in self.datacache().over_limit(|p| held.contains(p)) {
            match std::fs::remove_file(self.data_root().join(&path)) {
                Ok(()) => debug!(%path, "evicted from the data cache"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warn!(%path, error = %e, "could not evict from the data cache"),
            }
        }
    }

    /// Admits the local copy of volume file `file` and evicts what is then over the bound.
    pub(crate) fn cache_copy(&self, file: &DataFile) {
        self.datacache().admit(&file.path, file.bytes);
        self.evict_cached_copies();
    }

    /// Reads volume file `file` whole from its volume, checked against its size and SHA-256.
    pub(crate) async fn fetch_from_volume(&self, file: &DataFile) -> Result<Bytes> {
        let FileHome::Volume(volume) = &file.home else {
            return Err(StorageError::InvalidDefinition(format!(
                "{} is not a volume file",
                file.path
            )));
        };
        let unavailable = |reason: String| StorageError::VolumeUnavailable {
            volume: volume.clone(),
            reason: format!("data file {}: {reason}", file.path),
        };
        let path = crate::locations::FileRouter::path_of(file);
        let result = self.files().get(&path).await;
        let bytes = match result {
            Ok(r) => r.bytes().await.map_err(|e| unavailable(e.to_string()))?,
            Err(e) => return Err(unavailable(e.to_string())),
        };
        let digest = crate::files::hex(&Sha256::digest(&bytes));
        if bytes.len() as u64 != file.bytes || digest != file.sha256 {
            return Err(unavailable(format!(
                "the object read has {} bytes and SHA-256 {digest}, expected {} and {}",
                bytes.len(),
                file.bytes,
                file.sha256
            )));
        }
        Ok(bytes)
    }

    /// Keeps `bytes` (checked) as the local copy of volume file `file`.
    pub(crate) fn keep_copy(&self, file: &DataFile, bytes: &[u8]) -> Result<()> {
        let local = self.data_root().join(&file.path);
        if let Some(dir) = local.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        }
        // A query's fill and a backup's may write the same copy at once.
        crate::files::write_shared_file_atomic(&local, bytes)
            .map_err(|e| StorageError::io(&local, e))?;
        self.cache_copy(file);
        Ok(())
    }

    /// Makes sure volume file `file` has its local copy (fetching it from the volume). The
    /// caller holds the file (`hold_files`), so no eviction that starts later removes it.
    pub async fn ensure_local_copy(&self, file: &DataFile) -> Result<()> {
        if !matches!(file.home, FileHome::Volume(_)) {
            return Ok(());
        }
        let there = {
            // An eviction that began before the hold has finished when this is taken.
            let _evicting = self.datacache().eviction_lock();
            self.data_root().join(&file.path).exists()
        };
        if there {
            return Ok(());
        }
        let bytes = self.fetch_from_volume(file).await?;
        self.keep_copy(file, &bytes)
    }

    /// Fetches, in the background, the copies reads missed, as long as the catalog lives.
    pub fn start_cache_filler(self: &Arc<Self>) {
        let catalog = Arc::downgrade(self);
        let cache = self.datacache().clone();
        self.background.spawn(async move {
            loop {
                let missed = cache.next_misses().await;
                let Some(catalog) = catalog.upgrade() else {
                    return;
                };
                let state = catalog.snapshot();
                for file in volume_files(&state).filter(|f| missed.contains(&f.path)) {
                    if let Err(e) = catalog.ensure_local_copy(file).await {
                        warn!(path = %file.path, error = %e, "could not fill the data cache");
                    }
                }
            }
        });
    }
}

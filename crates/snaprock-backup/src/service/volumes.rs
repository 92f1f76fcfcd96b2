//! Storage volumes' stores: opened with the same S3 client and context as repositories and
//! mounted on the catalog, at start for every volume it holds and when a volume is created or
//! its credentials change.
//!
//! At start, before any statement runs, the data objects of a volume this server owns
//! (`snaprock/owner.json` names its cluster) that no catalog state can read are deleted: they
//! were uploaded by writes that never committed (the server stopped, or was killed, between
//! the upload and the commit).

use std::sync::Arc;
use std::time::Duration;

use snaprock_storage::{
    Catalog, PublishedCatalog, StorageVolumeMeta, VOLUME_CATALOG_KEY, VOLUME_DATA_DIR,
};
use tracing::{info, warn};

use super::BackupService;
use crate::error::StoreError;
use crate::location::Location;
use crate::repository::open_store;
use crate::store::{ObjectStore, StoreContext, VolumeFiles};

/// The object naming the server whose tables a volume's location holds.
pub const OWNER_KEY: &str = "snaprock/owner.json";

/// How long the orphan sweep of one volume may take at start.
const SWEEP_TIMEOUT: Duration = Duration::from_secs(60);

/// What `snaprock/owner.json` holds.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct VolumeOwner {
    pub cluster_id: String,
}

/// A volume's location, parsed with its properties.
pub fn volume_location(volume: &StorageVolumeMeta) -> Result<Location, String> {
    let [location] = volume.locations.as_slice() else {
        return Err(format!(
            "a storage volume of TYPE = S3 has one location, got {}",
            volume.locations.len()
        ));
    };
    Location::parse_volume(location, &volume.properties)
}

async fn mount(
    catalog: &Catalog,
    volume: &StorageVolumeMeta,
    context: &StoreContext,
) -> Result<Arc<dyn ObjectStore>, String> {
    let store = open_store(&volume_location(volume)?, context).await;
    catalog.mount_volume(&volume.name, Arc::new(VolumeFiles::new(store.clone())));
    Ok(store)
}

/// Mounts every volume of the catalog and sweeps the orphans of the ones this server owns; a
/// volume that cannot be mounted is logged and left unmounted (its tables' writes then fail
/// with the reason). Returns the mounted stores.
pub(crate) async fn mount_all(
    catalog: &Catalog,
    context: &StoreContext,
    cluster_id: &str,
) -> Vec<Arc<dyn ObjectStore>> {
    let state = catalog.snapshot();
    let mut stores = Vec::new();
    for volume in state.storage_volumes.volumes.values() {
        let store = match mount(catalog, volume, context).await {
            Ok(store) => store,
            Err(e) => {
                warn!(volume = %volume.name, error = %e, "storage volume not mounted");
                continue;
            }
        };
        let keep = state.volume_keys();
        match tokio::time::timeout(
            SWEEP_TIMEOUT,
            sweep_orphans(store.as_ref(), cluster_id, &keep),
        )
        .await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => {
                info!(volume = %volume.name, removed, "removed objects of uncommitted writes")
            }
            Ok(Err(e)) => warn!(volume = %volume.name, error = %e, "orphan sweep failed"),
            Err(_) => warn!(volume = %volume.name, "orphan sweep timed out"),
        }
        stores.push(store);
    }
    stores
}

/// Deletes the data objects no state can read, if the location is this server's.
async fn sweep_orphans(
    store: &dyn ObjectStore,
    cluster_id: &str,
    keep: &std::collections::HashSet<String>,
) -> Result<usize, StoreError> {
    let owner: VolumeOwner = match store.get(OWNER_KEY).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Other(format!("{OWNER_KEY} is not valid: {e}")))?,
        Err(StoreError::NotFound(_)) => return Ok(0),
        Err(e) => return Err(e),
    };
    if owner.cluster_id != cluster_id {
        return Ok(0);
    }
    let mut removed = 0;
    for entry in store.list(VOLUME_DATA_DIR).await? {
        if !keep.contains(&entry.key) {
            store.delete(&entry.key).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

impl BackupService {
    /// Gives up a volume this server wrote (after DROP STORAGE VOLUME): its followers are told
    /// it holds no databases any more (an empty published catalog), and the location is no
    /// longer claimed, so another server may write there. Data files still in it are deleted
    /// as they retire.
    pub async fn release_volume(&self, volume: &StorageVolumeMeta) -> Result<(), String> {
        let store = open_store(&volume_location(volume)?, &self.store_context()).await;
        let empty = PublishedCatalog::empty(&self.cluster_id, self.catalog.snapshot().version);
        let body = serde_json::to_vec(&empty).map_err(|e| e.to_string())?;
        store
            .put(VOLUME_CATALOG_KEY, body.into())
            .await
            .map_err(|e| e.to_string())?;
        let owner: Option<VolumeOwner> = match store.get(OWNER_KEY).await {
            Ok(bytes) => serde_json::from_slice(&bytes).ok(),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.to_string()),
        };
        if owner.is_some_and(|o| o.cluster_id == self.cluster_id) {
            store.delete(OWNER_KEY).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Opens `volume`'s store and mounts it (replacing the store mounted under its name).
    pub async fn mount_volume(&self, volume: &StorageVolumeMeta) -> Result<(), String> {
        mount(&self.catalog, volume, &self.store_context())
            .await
            .map(|_| ())
    }
}

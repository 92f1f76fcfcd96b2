//! Storage volumes' stores: opened with the same S3 client and context as repositories and
//! mounted on the catalog, at start for every volume it holds and when a volume is created or
//! its credentials change.

use std::sync::Arc;

use snaprock_storage::{Catalog, StorageVolumeMeta};
use tracing::warn;

use super::BackupService;
use crate::location::Location;
use crate::repository::open_store;
use crate::store::{StoreContext, VolumeFiles};

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
) -> Result<(), String> {
    let store = open_store(&volume_location(volume)?, context).await;
    catalog.mount_volume(&volume.name, Arc::new(VolumeFiles::new(store)));
    Ok(())
}

/// Mounts every volume of the catalog (one that cannot be is logged and left unmounted: its
/// tables' writes then fail with the reason).
pub(crate) async fn mount_all(catalog: &Catalog, context: &StoreContext) {
    let state = catalog.snapshot();
    for volume in state.storage_volumes.volumes.values() {
        if let Err(e) = mount(catalog, volume, context).await {
            warn!(volume = %volume.name, error = %e, "storage volume not mounted");
        }
    }
}

impl BackupService {
    /// Opens `volume`'s store and mounts it (replacing the store mounted under its name).
    pub async fn mount_volume(&self, volume: &StorageVolumeMeta) -> Result<(), String> {
        mount(&self.catalog, volume, &self.store_context()).await
    }
}

//! Restored tables on a storage volume: when the volume is on the repository's S3 service,
//! their files are copied from the repository into the volume by the service (no data byte
//! passes through this server); otherwise they are downloaded and published to the volume
//! before the restore's commit, as any write of such a table is.
//!
//! A restored table is on the volume the existing table is on, or, for a table the restore
//! creates, the one its snapshot names if this server has it (`apply.rs` drops the property
//! otherwise). An instant restore's files are read in the repository, then made local; they
//! are not published.

use std::collections::HashMap;
use std::sync::Arc;

use snaprock_storage::{DataFile, STORAGE_VOLUME_PROPERTY, volume_key};

use crate::error::StoreError;
use crate::format::SnapshotMeta;
use crate::job::{Failed, status_error};
use crate::repository::{Repository, open_store};
use crate::restore::apply::{RestoredFiles, snapshot_table};
use crate::restore::job::RestorePlan;
use crate::service::{BackupService, volume_location};
use crate::store::{ObjectStore, S3Settings};

/// Where a restore may copy files by the S3 service: the volume store of each restored table
/// on a volume, when the repository is on S3.
#[derive(Default)]
pub(crate) struct CopyTargets {
    /// The repository's S3 location.
    source: Option<S3Settings>,
    /// By target table: the volume and its store.
    by_table: HashMap<String, (String, Arc<dyn ObjectStore>)>,
}

impl CopyTargets {
    pub(crate) async fn of(
        service: &BackupService,
        database: &str,
        meta: &SnapshotMeta,
        plan: &RestorePlan,
        repo: &Repository,
    ) -> Self {
        let Some(source) = repo.store.s3_settings() else {
            return CopyTargets::default();
        };
        let state = service.catalog.snapshot();
        let mut stores: HashMap<String, Arc<dyn ObjectStore>> = HashMap::new();
        let mut by_table = HashMap::new();
        for table in &plan.tables {
            let Some(volume) = target_volume(service, database, meta, &table.source, &table.target)
            else {
                continue;
            };
            let store = match stores.get(&volume) {
                Some(store) => store.clone(),
                None => {
                    let Some(location) = state
                        .storage_volumes
                        .get(&volume)
                        .and_then(|v| volume_location(v).ok())
                    else {
                        continue;
                    };
                    let store = open_store(&location, &service.store_context()).await;
                    stores.insert(volume.clone(), store.clone());
                    store
                }
            };
            by_table.insert(table.target.clone(), (volume, store));
        }
        CopyTargets {
            source: Some(source.clone()),
            by_table,
        }
    }

    /// The volume restored table `table` goes on, if its files may be copied there.
    pub(crate) fn volume_of(&self, table: &str) -> Option<&str> {
        self.by_table.get(table).map(|(volume, _)| volume.as_str())
    }

    /// Copies repository object `source_key` to the volume of `table` as the file `relative`
    /// (checked to have `size` bytes); the volume's name if it was copied, `None` if the
    /// service cannot (another service, other credentials, too large): download it then.
    pub(crate) async fn copy(
        &self,
        table: &str,
        source_key: &str,
        relative: &str,
        size: u64,
    ) -> Result<Option<String>, StoreError> {
        let (Some(source), Some((volume, store))) = (&self.source, self.by_table.get(table)) else {
            return Ok(None);
        };
        let copied = store
            .copy_within_service(source, source_key, &volume_key(relative), size)
            .await?;
        Ok(copied.then(|| volume.clone()))
    }
}

/// The volume restored table `target` (from snapshot table `source`) will be on.
fn target_volume(
    service: &BackupService,
    database: &str,
    meta: &SnapshotMeta,
    source: &str,
    target: &str,
) -> Option<String> {
    let state = service.catalog.snapshot();
    if let Some(existing) = state.database(database).and_then(|d| d.tables.get(target)) {
        return existing.storage_volume().map(str::to_string);
    }
    let snap = snapshot_table(meta, source).ok()?;
    let (_, volume) = snap
        .properties
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY))?;
    state.storage_volumes.get(volume).map(|_| volume.clone())
}

/// Publishes the downloaded files of every restored table that is on a volume. On failure
/// the files published so far are discarded from their volume.
pub(crate) async fn publish_restored_files(
    service: &BackupService,
    database: &str,
    meta: &SnapshotMeta,
    plan: &RestorePlan,
    mut files: RestoredFiles,
) -> Result<RestoredFiles, Failed> {
    let mut published: Vec<DataFile> = Vec::new();
    for table in &plan.tables {
        let Some(volume) = target_volume(service, database, meta, &table.source, &table.target)
        else {
            continue;
        };
        for ((target, _), partition_files) in files.iter_mut() {
            if *target != table.target {
                continue;
            }
            let mut plain: Vec<DataFile> =
                partition_files.iter().map(|f| DataFile::clone(f)).collect();
            let result = service.catalog.publish_to(&volume, &mut plain).await;
            published.extend(plain.iter().filter(|f| !f.home.is_local()).cloned());
            if let Err(e) = result {
                service.catalog.discard_new_files(&published);
                return Err(Failed(status_error(
                    "COMMON_ERROR",
                    &format!("failed to put the files of {target} on its volume: {e}"),
                )));
            }
            *partition_files = plain.into_iter().map(Arc::new).collect();
        }
    }
    Ok(files)
}

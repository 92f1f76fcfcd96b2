//! Restored tables on a storage volume: their downloaded files are published to the volume
//! before the restore's commit, as any write of such a table is.
//!
//! A restored table is on the volume the existing table is on, or, for a table the restore
//! creates, the one its snapshot names if this server has it (`apply.rs` drops the property
//! otherwise). An instant restore's files are read in the repository, then made local; they
//! are not published.

use std::sync::Arc;

use snaprock_storage::{DataFile, STORAGE_VOLUME_PROPERTY};

use crate::format::SnapshotMeta;
use crate::job::{Failed, status_error};
use crate::restore::apply::{RestoredFiles, snapshot_table};
use crate::restore::job::RestorePlan;
use crate::service::BackupService;

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

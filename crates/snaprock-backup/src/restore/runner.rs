//! Runs one restore job through its states: read and check the snapshot's meta against the
//! catalog, download and verify every data file into new local files, then switch all tables,
//! partitions and views of the job in one catalog commit. Until that commit nothing a client can
//! see has changed; if the job ends any other way its downloaded files are removed.
//!
//! An instant restore (`"instant" = "true"`) commits right after the checks, with every file
//! still in the repository, then downloads them (`instant.rs`).
//!
//! The downloads' local paths and the ids they go under are decided once and kept (the plan
//! file, and the catalog holds the paths): a job a restart interrupted continues, and a file
//! already downloaded and still verifying is not downloaded again.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use snaprock_storage::{DataFile, FileHome, StorageError, new_data_file_path};
use tracing::{info, warn};

use crate::error::StoreError;
use crate::format::{SnapshotFile, SnapshotMeta, now_ms, show_time};
use crate::job::{Failed, advance, plan_file, spawn_timeout, transfer_all};
use crate::job::{status_error, status_for_store_error, status_ok};
use crate::locks::RepoLock;
use crate::repository::Repository;
use crate::restore::apply::{ObjectKey, RestoreInput, RestoredFiles, apply_restore, reserve_ids};
use crate::restore::job::{RestoreJob, RestoreState};
use crate::restore::volumes::CopyTargets;
use crate::service::BackupService;
use crate::store::ExpectedContent;

/// One file to download: where from, where to, and what it must be.
struct Download {
    /// Position in the partition's file list, kept in the restored partition.
    index: usize,
    target: (String, String),
    file: SnapshotFile,
    relative: String,
    /// Set once the file was copied into this storage volume by the S3 service.
    copied_to: Option<String>,
}

pub(crate) async fn run_restore(
    service: Arc<BackupService>,
    job: Arc<RestoreJob>,
    repo: Arc<Repository>,
) {
    let timer = spawn_timeout(&job);
    job.progress.count_into(
        service
            .metrics
            .transferred_bytes
            .with_label_values(&["download"]),
    );
    // The new files of the job (local, or copied into a volume): removed unless committed.
    let mut uncommitted = Vec::new();
    // A shared lock on the repository while the job reads it: no collection deletes a file
    // of the snapshot meanwhile, even if the snapshot is dropped. A READ ONLY repository is
    // never written to (its credentials may not allow it): there a file dropped by another
    // server meanwhile fails the download's check and the job, and nothing is committed.
    let owner = format!("{}-restore", service.cluster_id);
    let lock = if repo.read_only {
        Ok(None)
    } else {
        RepoLock::shared(&repo, &owner, &job.cancel).await.map(Some)
    };
    let result = match lock {
        Ok(lock) => {
            let result = steps(&service, &job, &repo, &mut uncommitted).await;
            if let Some(lock) = lock {
                lock.release().await;
            }
            result
        }
        Err(StoreError::Cancelled) => Err(Failed::ended(&job)),
        Err(e) => Err(Failed(status_for_store_error(
            "failed to lock the repository",
            &e,
        ))),
    };
    timer.abort();
    let holder = plan_file::holder("restore", &job.record());
    match result {
        Ok(()) => info!("restore job finished"),
        Err(Failed(status)) => {
            if job.cancel_with(|_| status) {
                warn!(status = %job.lock().status, "restore job failed");
            } else {
                info!(status = %job.lock().status, "restore job ended");
            }
            service.catalog.discard_new_files(&uncommitted);
        }
    }
    // A committed job's files are the tables' now; a failed one's are deleted.
    plan_file::release(&service, &holder);
    if let Err(e) = service.save() {
        warn!(error = %e, "could not save the job's final state");
    }
    service.restore_ended(&job);
}

/// What a restore decided before its downloads, kept in its plan file: the ids it reserved and
/// the local path of each download, in plan order.
#[derive(Serialize, Deserialize)]
struct DownloadPlan {
    reserved: Vec<(ObjectKey, u64)>,
    local_paths: Vec<String>,
}

async fn steps(
    service: &Arc<BackupService>,
    job: &Arc<RestoreJob>,
    repo: &Arc<Repository>,
    uncommitted: &mut Vec<DataFile>,
) -> Result<(), Failed> {
    // The job's lock is let go before the service's is taken (see the backup runner).
    let recorded = job.lock().job_id;
    let job_id = match recorded {
        id if id >= 0 => id as u64,
        _ => service.allocate_id(),
    };
    advance(service, job, RestoreState::Pending, |r| {
        r.job_id = job_id as i64
    })?;
    let record = job.record();

    // PENDING: the meta file, checked against the catalog as it is now.
    let meta = read_checked_meta(service, repo, &record).await?;
    advance(service, job, RestoreState::Snapshoting, |r| {
        r.detail.meta_prepared_time = Some(now_ms())
    })?;

    // SNAPSHOTING: ids for what the job creates; the files go into their directories.
    let holder = plan_file::holder("restore", &record);
    let (reserved, downloads) = match resumed_plan(service, &holder, &meta, &record)? {
        Some(planned) => {
            info!("restore job continues after a restart");
            planned
        }
        None => plan_and_hold(service, &holder, &meta, &record)?,
    };
    let files_total = downloads.len() as u64;
    let bytes_total: u64 = downloads.iter().map(|d| d.file.bytes).sum();
    let files = if record.detail.instant {
        // An instant restore commits first: its tables read their files in the repository
        // until the download after the commit swaps in local copies.
        advance(service, job, RestoreState::Commit, |r| {
            r.detail.snapshot_finished_time = Some(now_ms());
            r.files_total = files_total;
            r.bytes_total = bytes_total;
        })?;
        repository_files(&repo.name, downloads)
    } else {
        advance(service, job, RestoreState::Download, |r| {
            r.detail.snapshot_finished_time = Some(now_ms())
        })?;
        // DOWNLOAD: one new local file per data file of every restored partition.
        job.reset_progress();
        advance(service, job, RestoreState::Downloading, |r| {
            r.files_total = files_total;
            r.bytes_total = bytes_total;
        })?;
        info!(files = files_total, bytes = bytes_total, "downloading");
        // DOWNLOADING
        let data_root = service.catalog.data_root().to_path_buf();
        let copies =
            CopyTargets::of(service, &record.database, &meta, &record.detail.plan, repo).await;
        uncommitted.extend(downloads.iter().map(|d| {
            DataFile {
                home: copies
                    .volume_of(&d.target.0)
                    .map_or(FileHome::Local, |v| FileHome::Volume(v.to_string())),
                ..new_file(d)
            }
        }));
        let files = download_all(job, repo, &data_root, downloads, &copies).await?;
        let files = crate::restore::volumes::publish_restored_files(
            service,
            &record.database,
            &meta,
            &record.detail.plan,
            files,
        )
        .await?;
        advance(service, job, RestoreState::Commit, |r| {
            r.detail.download_finished_time = Some(now_ms())
        })?;
        files
    };
    let input = RestoreInput {
        database: &record.database,
        meta: &meta,
        plan: &record.detail.plan,
        files: &files,
        reserved: &reserved,
        now: "",
    };
    commit(service, job, input, job_id, &holder).await?;
    uncommitted.clear();
    if record.detail.instant {
        crate::restore::instant::download_committed_files(service, job, repo).await;
    }
    Ok(())
}

/// PENDING: reads the snapshot's info and meta files and checks the restore against the
/// catalog as it is now, on a copy (nothing changes).
async fn read_checked_meta(
    service: &BackupService,
    repo: &Repository,
    record: &crate::restore::job::RestoreJobRecord,
) -> Result<SnapshotMeta, Failed> {
    let info = repo
        .read_info(&record.snapshot, &record.detail.timestamp)
        .await
        .map_err(|e| Failed(status_for_store_error("Failed to read backup info", &e)))?;
    let meta = repo.read_meta(&record.snapshot, &info).await.map_err(|e| {
        Failed(status_error(
            "COMMON_ERROR",
            &format!("Failed to read backup meta from file: {e}"),
        ))
    })?;
    let now = show_time(now_ms());
    let mut trial = snaprock_storage::CatalogState::clone(&service.catalog.snapshot());
    let no_files = BTreeMap::new();
    let no_ids = BTreeMap::new();
    let input = RestoreInput {
        database: &record.database,
        meta: &meta,
        plan: &record.detail.plan,
        files: &no_files,
        reserved: &no_ids,
        now: &now,
    };
    apply_restore(&mut trial, &input).map_err(Failed)?;
    Ok(meta)
}

/// COMMIT and COMMITTING: writers of the existing target tables finish first, then one
/// catalog commit switches every table, partition and view of the job. It is decided under
/// the job's lock, so a CANCEL or the timeout either comes first (nothing is committed) or
/// finds the job FINISHED, or, for an instant restore, DOWNLOADING and past cancelling.
async fn commit(
    service: &BackupService,
    job: &RestoreJob,
    input: RestoreInput<'_>,
    job_id: u64,
    holder: &str,
) -> Result<(), Failed> {
    let mut table_ids: Vec<u64> = {
        let state = service.catalog.snapshot();
        input
            .plan
            .tables
            .iter()
            .filter_map(|t| state.table(input.database, &t.target).map(|t| t.id))
            .collect()
    };
    table_ids.sort_unstable();
    table_ids.dedup();
    let mut guards = Vec::new();
    for id in table_ids {
        guards.push(service.catalog.lock_table(id).await);
    }
    advance(service, job, RestoreState::Committing, |_| {})?;

    let now = show_time(now_ms());
    let input = RestoreInput { now: &now, ..input };
    {
        let mut r = job.lock();
        if r.is_done() {
            return Err(Failed(r.status.clone()));
        }
        let mut refused = None;
        let committed = service.catalog.commit(|state| {
            if let Err(status) = apply_restore(state, &input) {
                refused = Some(status);
                return Err(StorageError::Conflict);
            }
            state.record_restore_commit(job_id);
            // The downloaded files are the tables' from this commit on.
            state.held_files.remove(holder);
            Ok(())
        });
        if let Some(status) = refused {
            return Err(Failed(status));
        }
        if let Err(e) = committed {
            return Err(Failed(status_error(
                "COMMON_ERROR",
                &format!("the catalog commit failed: {e}"),
            )));
        }
        if r.detail.instant {
            r.detail.committed_time = Some(now_ms());
            r.state = RestoreState::Downloading;
        } else {
            r.end(RestoreState::Finished, status_ok());
        }
    }
    drop(guards);
    if let Err(e) = service.save() {
        warn!(error = %e, "could not save the job's state after its commit");
    }
    Ok(())
}

/// The ids a restore reserved, and its downloads.
type Planned = (BTreeMap<ObjectKey, u64>, Vec<Download>);

/// SNAPSHOTING of a new job: reserves the ids and decides the local path of every download;
/// the catalog holds those paths and the plan file keeps them, for a restart.
fn plan_and_hold(
    service: &BackupService,
    holder: &str,
    meta: &SnapshotMeta,
    record: &crate::restore::job::RestoreJobRecord,
) -> Result<Planned, Failed> {
    let common = |e: StorageError| Failed(status_error("COMMON_ERROR", &e.to_string()));
    let reserved = service
        .catalog
        .commit(|s| Ok(reserve_ids(s, &record.database, &record.detail.plan)))
        .map_err(common)?;
    let downloads = plan_downloads(meta, &record.detail.plan, &reserved)?;
    if !record.detail.instant {
        let local_paths: Vec<String> = downloads.iter().map(|d| d.relative.clone()).collect();
        service
            .catalog
            .hold_files(holder, local_paths.clone())
            .map_err(common)?;
        let plan = DownloadPlan {
            reserved: reserved.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            local_paths,
        };
        plan_file::write(service, holder, &plan)?;
    }
    Ok((reserved, downloads))
}

/// The ids and downloads a job decided before a restart, if its plan file and the catalog's
/// hold are there and still match the snapshot's meta.
fn resumed_plan(
    service: &BackupService,
    holder: &str,
    meta: &SnapshotMeta,
    record: &crate::restore::job::RestoreJobRecord,
) -> Result<Option<Planned>, Failed> {
    if record.detail.instant || !service.catalog.snapshot().held_files.contains_key(holder) {
        return Ok(None);
    }
    let Some(plan) = plan_file::read::<DownloadPlan>(service, holder) else {
        return Ok(None);
    };
    let reserved: BTreeMap<ObjectKey, u64> = plan.reserved.into_iter().collect();
    let mut downloads = plan_downloads(meta, &record.detail.plan, &reserved)?;
    if downloads.len() != plan.local_paths.len() {
        return Ok(None);
    }
    for (download, relative) in downloads.iter_mut().zip(plan.local_paths) {
        download.relative = relative;
    }
    Ok(Some((reserved, downloads)))
}

/// The files of an instant restore before its download: each read in place in the
/// repository, by its key there.
fn repository_files(repository: &str, downloads: Vec<Download>) -> RestoredFiles {
    positioned(downloads.into_iter().map(|d| {
        let file = DataFile {
            path: d.file.key.clone(),
            rows: d.file.rows,
            bytes: d.file.bytes,
            sha256: d.file.sha256.clone(),
            home: FileHome::Repository(repository.to_string()),
            deleted: d.file.deleted.clone(),
        };
        (d, file)
    }))
}

/// Groups files by (target table, partition), each at its position in the partition.
fn positioned(files: impl Iterator<Item = (Download, DataFile)>) -> RestoredFiles {
    type Positioned = Vec<(usize, Arc<DataFile>)>;
    let mut grouped: BTreeMap<(String, String), Positioned> = BTreeMap::new();
    for (d, file) in files {
        grouped
            .entry(d.target)
            .or_default()
            .push((d.index, Arc::new(file)));
    }
    grouped
        .into_iter()
        .map(|(target, mut list)| {
            list.sort_by_key(|(index, _)| *index);
            (target, list.into_iter().map(|(_, f)| f).collect())
        })
        .collect()
}

/// The local file of every data file of the restored partitions.
fn plan_downloads(
    meta: &SnapshotMeta,
    plan: &crate::restore::job::RestorePlan,
    reserved: &BTreeMap<crate::restore::apply::ObjectKey, u64>,
) -> Result<Vec<Download>, Failed> {
    let missing = |what: String| {
        Failed(status_error(
            "COMMON_ERROR",
            &format!(
                "{what} is not in the meta file of snapshot {}",
                meta.snapshot
            ),
        ))
    };
    let mut downloads = Vec::new();
    for planned in &plan.tables {
        let snap = meta
            .tables
            .iter()
            .find(|t| t.name == planned.source)
            .ok_or_else(|| missing(format!("table {}", planned.source)))?;
        let table_id = reserved
            .get(&(planned.target.clone(), None))
            .copied()
            .unwrap_or_default();
        for name in &planned.partitions {
            let partition = snap
                .partitions
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| missing(format!("partition {name} of table {}", planned.source)))?;
            let partition_id = reserved
                .get(&(planned.target.clone(), Some(name.clone())))
                .copied()
                .unwrap_or_default();
            for (index, file) in partition.files.iter().enumerate() {
                downloads.push(Download {
                    index,
                    target: (planned.target.clone(), name.clone()),
                    file: file.clone(),
                    relative: new_data_file_path(table_id, partition_id),
                    copied_to: None,
                });
            }
        }
    }
    Ok(downloads)
}

/// Whether `path` holds the expected content: a download a restart interrupted the job after
/// (downloads are renamed into place only once verified; checked again here, on local disk).
async fn already_downloaded(path: &std::path::Path, expected: &ExpectedContent) -> bool {
    let Ok(found) = tokio::fs::metadata(path).await else {
        return false;
    };
    if found.len() != expected.size {
        return false;
    }
    let path = path.to_path_buf();
    let sha256 = tokio::task::spawn_blocking(move || {
        use sha2::{Digest, Sha256};
        let mut file = std::fs::File::open(&path).ok()?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).ok()?;
        Some(crate::store::hex(&hasher.finalize()))
    })
    .await
    .ok()
    .flatten();
    sha256.as_deref() == Some(expected.sha256.as_str())
}

/// Downloads the files a few at a time, each verified against the manifest's size and
/// SHA-256; a file of a table on a volume the S3 service can copy into is copied there
/// instead (checked by size; its SHA-256 is checked when a server fetches a copy). On the
/// first failure the job is cancelled, which stops the other transfers.
async fn download_all(
    job: &Arc<RestoreJob>,
    repo: &Arc<Repository>,
    data_root: &std::path::Path,
    downloads: Vec<Download>,
    copies: &CopyTargets,
) -> Result<RestoredFiles, Failed> {
    let transfers: Vec<_> = downloads
        .into_iter()
        .map(|mut d| {
            let (job, repo) = (job.clone(), repo.clone());
            let path = data_root.join(&d.relative);
            async move {
                let expected = ExpectedContent {
                    size: d.file.bytes,
                    sha256: d.file.sha256.clone(),
                };
                let key = repo.key(&d.file.key);
                match copies
                    .copy(&d.target.0, &key, &d.relative, expected.size)
                    .await
                {
                    Ok(Some(volume)) => {
                        job.progress.add(expected.size);
                        d.copied_to = Some(volume);
                        return (d, Ok(()));
                    }
                    Ok(None) => {}
                    Err(e) => return (d, Err(e)),
                }
                if already_downloaded(&path, &expected).await {
                    // Downloaded and verified before a restart: not moved again.
                    job.progress.add(expected.size);
                    return (d, Ok(()));
                }
                let result = repo
                    .store
                    .download_file(&key, &path, &expected, &job.progress, &job.cancel)
                    .await;
                (d, result)
            }
        })
        .collect();
    let done = transfer_all(job.as_ref(), transfers, |d: &Download, e| {
        let status = status_for_store_error(&format!("failed to download {}", d.file.key), e);
        (d.file.key.clone(), status)
    })
    .await?;
    // Files arrive in completion order; each keeps its position in its partition.
    Ok(positioned(done.into_iter().map(|d| {
        let file = DataFile {
            home: d
                .copied_to
                .clone()
                .map_or(FileHome::Local, FileHome::Volume),
            ..new_file(&d)
        };
        (d, file)
    })))
}

/// The file a download becomes, in the data directory.
fn new_file(d: &Download) -> DataFile {
    DataFile {
        path: d.relative.clone(),
        rows: d.file.rows,
        bytes: d.file.bytes,
        sha256: d.file.sha256.clone(),
        home: FileHome::Local,
        deleted: d.file.deleted.clone(),
    }
}

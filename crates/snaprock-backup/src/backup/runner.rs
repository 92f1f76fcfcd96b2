//! Runs one backup job through its states: pin a consistent catalog snapshot, upload the data
//! files the repository does not hold yet, then write the meta file and, last, the info file
//! that makes the snapshot visible.
//!
//! What it captured is kept until the job ends (the catalog holds the files, the plan file
//! keeps the meta): a job a restart interrupted continues from UPLOADING, and the repository's
//! listing skips every file already uploaded.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use snaprock_storage::{CatalogState, CommitWatch, DataFile, FileHome, volume_key};
use tracing::{info, warn};

use crate::backup::job::{BackupJob, BackupState};
use crate::continuous::ship::table_snapshot;
use crate::error::StoreError;
use crate::format::{
    self, FORMAT_NAME, FORMAT_VERSION, SnapshotFile, SnapshotInfo, SnapshotMeta, ViewSnapshot,
    now_ms,
};
use crate::job::{
    Failed, advance, plan_file, spawn_timeout, status_error, status_for_store_error, status_ok,
    transfer_all,
};
use crate::location::Location;
use crate::locks::RepoLock;
use crate::repository::Repository;
use crate::service::BackupService;
use crate::store::{ExpectedContent, S3Settings};

pub(crate) async fn run_backup(
    service: Arc<BackupService>,
    job: Arc<BackupJob>,
    repo: Arc<Repository>,
) {
    // A continuous backup past its first snapshot runs until cancelled: no timeout.
    let running = job.lock().state == BackupState::Running;
    let timer = (!running).then(|| spawn_timeout(&job));
    job.progress.count_into(
        service
            .metrics
            .transferred_bytes
            .with_label_values(&["upload"]),
    );
    let result = steps(&service, &job, &repo).await;
    if let Some(timer) = timer {
        timer.abort();
    }
    let holder = plan_file::holder("backup", &job.record());
    if job.lock().job_id >= 0 {
        plan_file::release(&service, &holder);
    }
    match result {
        Ok(None) => info!("backup job finished"),
        Ok(Some(info)) => {
            if let Err(e) = service.save() {
                warn!(error = %e, "could not save the job's state");
            }
            crate::continuous::ship::run(service, job, repo, info).await;
            return;
        }
        Err(Failed(status)) => {
            if let Err(e) = service.catalog.end_watch(&holder) {
                warn!(error = %e, "could not end the job's watch");
            }
            if job.cancel_with(|_| status) {
                warn!(status = %job.lock().status, "backup job failed");
            } else {
                info!(status = %job.lock().status, "backup job ended");
            }
        }
    }
    if let Err(e) = service.save() {
        warn!(error = %e, "could not save the job's final state");
    }
    service.backup_ended(&job);
}

/// What a backup captured: the snapshot's meta and where each of its files lives locally
/// (relative to the data root). Saved in the job's plan file.
#[derive(Serialize, Deserialize)]
struct Captured {
    meta: SnapshotMeta,
    local_paths: BTreeMap<String, String>,
}

/// The states up to the commit point; for a continuous backup, the info of its published
/// first snapshot (the job then runs on).
async fn steps(
    service: &Arc<BackupService>,
    job: &Arc<BackupJob>,
    repo: &Arc<Repository>,
) -> Result<Option<SnapshotInfo>, Failed> {
    if job.lock().state == BackupState::Running {
        return published_continuous(job, repo).await.map(Some);
    }
    let captured = match resumed_capture(service, job) {
        Some(captured) => {
            info!("backup job continues after a restart");
            captured
        }
        None => capture_and_hold(service, job)?,
    };
    let data_root = service.catalog.data_root();
    let local_paths: BTreeMap<String, PathBuf> = captured
        .local_paths
        .iter()
        .map(|(key, relative)| (key.clone(), data_root.join(relative)))
        .collect();
    let meta = captured.meta;
    let job_id = job.lock().job_id;

    // A shared lock from before the repository is listed (which files to reuse) until the
    // snapshot is published: no collection deletes a file this job relies on.
    let owner = format!("{}-backup-{job_id}", service.cluster_id);
    let lock = match RepoLock::shared(repo, &owner, &job.cancel).await {
        Ok(lock) => lock,
        Err(StoreError::Cancelled) => return Err(Failed::ended(job)),
        Err(e) => {
            return Err(Failed(status_for_store_error(
                "failed to lock the repository",
                &e,
            )));
        }
    };
    let result = upload_and_publish(service, job, repo, meta, &local_paths, &lock).await;
    lock.release().await;
    result
}

/// The first snapshot of a continuous backup a restart interrupted while RUNNING.
async fn published_continuous(job: &BackupJob, repo: &Repository) -> Result<SnapshotInfo, Failed> {
    let snapshot = job.lock().snapshot.clone();
    let mut delay = Duration::from_secs(1);
    loop {
        match repo.continuous_info(&snapshot).await {
            Ok(Some(info)) => return Ok(info),
            Ok(None) => {
                return Err(Failed(status_error(
                    "NOT_FOUND",
                    &format!("continuous snapshot {snapshot} is no longer in the repository"),
                )));
            }
            Err(e) => {
                job.lock().task_err_msg = format!("[{e}]; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = job.cancel.cancelled() => return Err(Failed::ended(job)),
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// SNAPSHOTING: reads the catalog once and captures the snapshot from it; the catalog then
/// holds its files for the job (later writes to the tables neither change nor delete them,
/// across a restart too) and the plan file keeps the meta.
fn capture_and_hold(service: &BackupService, job: &BackupJob) -> Result<Captured, Failed> {
    // The job's lock is let go before the service's is taken: `save` takes them the other
    // way round (a guard in a `match` scrutinee would live through the whole match).
    let recorded = job.lock().job_id;
    let job_id = match recorded {
        id if id >= 0 => id,
        _ => service.allocate_id() as i64,
    };
    advance(service, job, BackupState::Snapshoting, |r| {
        r.job_id = job_id
    })?;
    let holder = plan_file::holder("backup", &job.record());
    let (meta, local_paths) = if job.lock().detail.continuous {
        start_watch(service, job, &holder)?
    } else {
        // The state read here keeps every file it lists on disk until the hold is committed.
        let catalog = service.catalog.snapshot();
        let (meta, local_paths) = capture(job, &catalog)?;
        service
            .catalog
            .hold_files(&holder, local_paths.values().cloned().collect())
            .map_err(|e| Failed(status_error("COMMON_ERROR", &e.to_string())))?;
        (meta, local_paths)
    };
    let captured = Captured { meta, local_paths };
    plan_file::write(service, &holder, &captured)?;
    advance(service, job, BackupState::UploadSnapshot, |r| {
        r.detail.snapshot_finished_time = Some(now_ms())
    })?;
    Ok(captured)
}

/// A continuous backup's capture: in one catalog commit, the first snapshot is read, its files
/// held and the watch that records every later commit started. Its time is the capture's.
fn start_watch(
    service: &BackupService,
    job: &BackupJob,
    holder: &str,
) -> Result<(SnapshotMeta, BTreeMap<String, String>), Failed> {
    let record = job.record();
    let start = now_ms();
    let tables = (!record.detail.plan.whole_database).then(|| {
        record
            .detail
            .plan
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect()
    });
    let watch = CommitWatch::new(&record.database, tables, start);
    let mut failure = None;
    let captured = service.catalog.start_watch(holder, watch, |state| {
        let (mut meta, local_paths) = capture(job, state).map_err(|f| {
            failure = Some(f);
            snaprock_storage::StorageError::Conflict
        })?;
        meta.backup_time = start;
        meta.timestamp = format::snapshot_timestamp(start);
        let paths = local_paths.values().cloned().collect();
        Ok(((meta, local_paths), paths))
    });
    match (captured, failure) {
        (Ok(captured), _) => Ok(captured),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(Failed(status_error("COMMON_ERROR", &e.to_string()))),
    }
}

/// The capture of a job a restart interrupted after SNAPSHOTING, if its plan file and the
/// catalog's hold on its files are both there.
fn resumed_capture(service: &BackupService, job: &BackupJob) -> Option<Captured> {
    let record = job.record();
    if record.job_id < 0
        || matches!(
            record.state,
            BackupState::Pending | BackupState::Snapshoting
        )
    {
        return None;
    }
    let holder = plan_file::holder("backup", &record);
    if !service.catalog.snapshot().held_files.contains_key(&holder) {
        return None;
    }
    plan_file::read(service, &holder)
}

/// UPLOADING, SAVE_META, UPLOAD_INFO, FINISHED, under the repository lock.
async fn upload_and_publish(
    service: &Arc<BackupService>,
    job: &Arc<BackupJob>,
    repo: &Arc<Repository>,
    meta: SnapshotMeta,
    local_paths: &BTreeMap<String, PathBuf>,
    lock: &RepoLock,
) -> Result<Option<SnapshotInfo>, Failed> {
    let stored = repo
        .stored_data_files()
        .await
        .map_err(|e| Failed(status_for_store_error("failed to list the repository", &e)))?;
    let files: Vec<SnapshotFile> = meta.files().into_iter().cloned().collect();
    let (to_upload, reused): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|f| !stored.contains(&f.key));
    let files_total = to_upload.len() as u64;
    let bytes_total: u64 = to_upload.iter().map(|f| f.bytes).sum();
    let bytes_reused: u64 = reused.iter().map(|f| f.bytes).sum();
    job.reset_progress();
    advance(service, job, BackupState::Uploading, |r| {
        r.files_total = files_total;
        r.bytes_total = bytes_total;
        r.detail.bytes_reused = bytes_reused;
        r.detail.files_reused = reused.len() as u64;
    })?;
    info!(
        files = files_total,
        bytes = bytes_total,
        reused_bytes = bytes_reused,
        "uploading"
    );

    let copy_sources = volume_copy_sources(service);
    upload_all(
        job,
        repo,
        to_upload,
        local_paths,
        &copy_sources,
        &service.catalog,
    )
    .await?;
    advance(service, job, BackupState::SaveMeta, |r| {
        r.detail.upload_finished_time = Some(now_ms())
    })?;

    let meta_body = serde_json::to_vec_pretty(&meta)
        .map_err(|e| Failed(status_error("COMMON_ERROR", &e.to_string())))?;
    let meta_file = format::with_md5("__meta", &meta_body);
    let mut info = SnapshotInfo::from_meta(&meta, meta_file.clone());
    let continuous = job.lock().detail.continuous;
    if let Some(ext) = info.snaprock.as_mut() {
        ext.continuous = continuous;
    }
    let finish_time = now_ms();
    let ttl = job.lock().detail.ttl.clone();
    info.cluster_id = Some(service.cluster_id.clone());
    info.finish_time = Some(finish_time);
    info.expire_time = ttl
        .as_ref()
        .map(|(_, secs)| finish_time + *secs as i64 * 1000);
    info.ttl = ttl.map(|(text, _)| text);
    let info_body = serde_json::to_vec_pretty(&info)
        .map_err(|e| Failed(status_error("COMMON_ERROR", &e.to_string())))?;
    let dir = format::snapshot_dir(&repo.name, &meta.snapshot);
    let meta_key = format!("{dir}{meta_file}");
    let info_key = format!(
        "{dir}{}",
        format::with_md5(&format!("__info_{}", meta.timestamp), &info_body)
    );
    let info_key_for_record = info_key.clone();
    advance(service, job, BackupState::UploadInfo, |r| {
        r.detail.info_key = Some(info_key_for_record)
    })?;

    if !lock.is_trusted() {
        return Err(Failed(status_error(
            "COMMON_ERROR",
            "the repository lock could not be refreshed; nothing was published",
        )));
    }
    put_with_retry(job, repo, &meta_key, Bytes::from(meta_body)).await?;
    put_with_retry(job, repo, &info_key, Bytes::from(info_body)).await?;

    // The info file is the commit point. A cancel that won the race un-publishes it.
    let finished = if continuous {
        job.advance(BackupState::Running, |r| {
            r.detail.restorable_until = Some(meta.backup_time);
            r.detail.upload_finished_time.get_or_insert(finish_time);
        })
    } else {
        job.advance(BackupState::Finished, |r| {
            r.end(BackupState::Finished, status_ok())
        })
    };
    if !finished {
        if let Err(e) = repo.store.delete(&info_key).await {
            warn!(error = %e, "could not remove the info file of a cancelled backup");
        }
        return Err(Failed::ended(job));
    }
    if let Some(expire_ms) = info.expire_time {
        service.expires(&repo.name, &meta.snapshot, expire_ms);
        if let Err(e) = service.save() {
            warn!(error = %e, "could not save the snapshot's expiry");
        }
    }
    Ok(continuous.then_some(info))
}

/// Builds the snapshot's meta from one catalog state; returns the local path of every file,
/// relative to the data root.
fn capture(
    job: &BackupJob,
    catalog: &CatalogState,
) -> Result<(SnapshotMeta, BTreeMap<String, String>), Failed> {
    let record = job.record();
    let common = |msg: String| Failed(status_error("COMMON_ERROR", &msg));
    let db = catalog
        .database(&record.database)
        .ok_or_else(|| common(format!("database {} does not exist", record.database)))?;
    let mut local_paths = BTreeMap::new();
    let mut tables = Vec::new();
    for planned in &record.detail.plan.tables {
        let table = db
            .tables
            .get(&planned.name)
            .ok_or_else(|| common(format!("table {} does not exist", planned.name)))?;
        let chosen: Vec<_> = match &planned.partitions {
            None => table.partitions.iter().collect(),
            Some(names) => names
                .iter()
                .map(|p| {
                    table.partition(p).ok_or_else(|| {
                        common(format!(
                            "partition {p} does not exist  in table{}",
                            planned.name
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let remote = chosen
            .iter()
            .flat_map(|p| &p.files)
            .find_map(|f| match &f.home {
                snaprock_storage::FileHome::Repository(r) => Some(r),
                // A volume file is uploaded from its local copy, which this server keeps.
                snaprock_storage::FileHome::Local | snaprock_storage::FileHome::Volume(_) => None,
            });
        if let Some(repository) = remote {
            return Err(common(format!(
                "table {} still reads files from repository {repository} (an instant restore \
                 is downloading them): back it up when its restore job has FINISHED",
                planned.name
            )));
        }
        tables.push(table_snapshot(
            table,
            chosen.into_iter(),
            &mut |key, file| {
                local_paths.insert(key.to_string(), file.path.clone());
            },
        ));
    }
    let mut views = Vec::new();
    for name in &record.detail.plan.views {
        let view = db
            .views
            .get(name)
            .ok_or_else(|| common(format!("view {name} does not exist")))?;
        views.push(ViewSnapshot {
            name: view.name.clone(),
            columns: view.columns.clone(),
            query_sql: view.query_sql.clone(),
            comment: view.comment.clone(),
        });
    }
    let meta = SnapshotMeta {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        snapshot: record.snapshot.clone(),
        database: record.database.clone(),
        database_id: db.id,
        backup_time: record.create_time,
        timestamp: format::snapshot_timestamp(record.create_time),
        tables,
        views,
    };
    Ok((meta, local_paths))
}

/// The data files of tables on a storage volume, by the path of their local copy (which the
/// data cache may have evicted): the file, and where it is in its volume's S3 location (such
/// a file can be copied into the repository by the S3 service).
type CopySources = HashMap<PathBuf, (Arc<DataFile>, Option<(S3Settings, String)>)>;

fn volume_copy_sources(service: &BackupService) -> CopySources {
    let state = service.catalog.snapshot();
    let mut settings = HashMap::new();
    for volume in state.storage_volumes.volumes.values() {
        if let Ok(Location::S3(s3)) = crate::service::volume_location(volume) {
            settings.insert(volume.name.clone(), s3);
        }
    }
    let data_root = service.catalog.data_root();
    let mut sources = HashMap::new();
    let tables = state.databases.values().flat_map(|d| d.tables.values());
    for file in tables.flat_map(|t| t.partitions.iter().flat_map(|p| p.files.iter())) {
        if let FileHome::Volume(volume) = &file.home {
            let s3 = settings
                .get(volume)
                .map(|s3| (s3.clone(), volume_key(&file.path)));
            sources.insert(data_root.join(&file.path), (file.clone(), s3));
        }
    }
    sources
}

/// Uploads the files, a few at a time: a file whose volume is on the repository's S3 service
/// is copied there by the service, any other is streamed from its local copy. On the first
/// failure the job is cancelled, which makes every other transfer stop and abort its multipart
/// upload; all of them are awaited.
async fn upload_all(
    job: &Arc<BackupJob>,
    repo: &Arc<Repository>,
    files: Vec<SnapshotFile>,
    local_paths: &BTreeMap<String, PathBuf>,
    copy_sources: &CopySources,
    catalog: &Arc<snaprock_storage::Catalog>,
) -> Result<(), Failed> {
    let transfers: Vec<_> = files
        .into_iter()
        .map(|file| {
            let path = local_paths.get(&file.key).cloned().unwrap_or_default();
            let source = copy_sources.get(&path).cloned();
            let key = repo.key(&file.key);
            let (job, repo, catalog) = (job.clone(), repo.clone(), catalog.clone());
            async move {
                if let Some((_, Some((settings, source_key)))) = &source {
                    match repo
                        .store
                        .copy_within_service(settings, source_key, &key, file.bytes)
                        .await
                    {
                        Ok(true) => {
                            job.progress.add(file.bytes);
                            return ((file, path), Ok(()));
                        }
                        Ok(false) => {}
                        Err(e) => return ((file, path), Err(e)),
                    }
                }
                // A volume file the data cache evicted is fetched back first (the job holds
                // it, so it stays until uploaded).
                if let Some((volume_file, _)) = &source
                    && let Err(e) = catalog.ensure_local_copy(volume_file).await
                {
                    return ((file, path), Err(StoreError::Other(e.to_string())));
                }
                let expected = ExpectedContent {
                    size: file.bytes,
                    sha256: file.sha256.clone(),
                };
                let result = repo
                    .store
                    .upload_file(&key, &path, &expected, &job.progress, &job.cancel)
                    .await;
                ((file, path), result)
            }
        })
        .collect();
    transfer_all(job.as_ref(), transfers, |(file, path), e| {
        let status = match e {
            StoreError::Checksum { .. } => status_error(
                "BAD_FILE",
                &format!(
                    "local data file {} does not match its recorded checksum: {e}",
                    path.display()
                ),
            ),
            _ => status_for_store_error(&format!("failed to upload {}", file.key), e),
        };
        (file.key.clone(), status)
    })
    .await
    .map(|_| ())
}

/// Meta and info uploads: retried (on top of the SDK's own retries) until the job times out
/// or is cancelled, as StarRocks does in UPLOAD_INFO.
async fn put_with_retry(
    job: &BackupJob,
    repo: &Repository,
    key: &str,
    body: Bytes,
) -> Result<(), Failed> {
    let mut delay = Duration::from_millis(200);
    loop {
        if job.cancel.is_cancelled() {
            return Err(Failed::ended(job));
        }
        match repo.store.put(key, body.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                warn!(key, error = %e, "upload of snapshot metadata failed; retrying");
                job.lock().task_err_msg = format!("[{key}: {e}]");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = job.cancel.cancelled() => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

//! The second half of an instant restore: after its commit the restored tables read their
//! files in the repository (`FileHome::Repository`); this downloads each one, verifies it
//! against its size and SHA-256, and swaps it for the local copy in a small catalog commit
//! under the table's write lock, so readers and writers never notice. It never gives up: a
//! failed file is retried with a growing pause, and a restart resumes the job (see
//! `BackupService::resume_jobs`). What is left to download is read from the catalog, not
//! from the job: a table dropped or rewritten meanwhile simply has nothing left to fetch.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use snaprock_storage::{CatalogState, DataFile, FileHome, new_data_file_path};
use tracing::{info, warn};

use crate::error::StoreError;
use crate::format::now_ms;
use crate::job::{FILES_IN_FLIGHT, status_ok};
use crate::locks::RepoLock;
use crate::repository::Repository;
use crate::restore::job::{RestoreJob, RestoreState};
use crate::service::BackupService;
use crate::store::{CancelSignal, ExpectedContent, TransferProgress};

/// The first pause after a failed pass; it doubles up to [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_secs(1);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(15);

/// A data file of the job's database still read from the repository.
#[derive(Debug, Clone)]
struct RemoteFile {
    table_id: u64,
    partition_id: u64,
    file: Arc<DataFile>,
}

/// Downloads every file the job's database still reads from `repo` and swaps in the local
/// copies, then ends the job FINISHED. Returns only when nothing is left to download.
pub(crate) async fn download_committed_files(
    service: &BackupService,
    job: &RestoreJob,
    repo: &Arc<Repository>,
) {
    let database = job.lock().database.clone();
    let mut pause = FIRST_RETRY_PAUSE;
    loop {
        let pending = remote_files(&service.catalog.snapshot(), &database, &repo.name);
        if pending.is_empty() {
            break;
        }
        count_progress(job, &pending);
        let failures: Vec<String> = futures::stream::iter(pending)
            .map(|remote| localize(service, job, repo, &database, remote))
            .buffer_unordered(FILES_IN_FLIGHT)
            .filter_map(|result| async move { result.err() })
            .collect()
            .await;
        if let Some(first) = failures.first() {
            warn!(failed = failures.len(), error = %first, retry_in = ?pause, "download pass failed");
            job.lock().task_err_msg = format!("[{first}]; retrying");
            save(service);
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
        } else {
            pause = FIRST_RETRY_PAUSE;
            job.lock().task_err_msg.clear();
        }
    }
    {
        let mut r = job.lock();
        r.detail.download_finished_time = Some(now_ms());
        r.end(RestoreState::Finished, status_ok());
    }
    job.files_done
        .store(job.lock().files_total, Ordering::Relaxed);
    job.progress
        .bytes_done
        .store(job.lock().bytes_total, Ordering::Relaxed);
    save(service);
    info!("instant restore: every file is local");
}

/// Resumes, after a restart, an instant restore that had committed: takes the repository's
/// shared lock again (retrying while the repository is unreachable), then downloads.
pub(crate) async fn resume(
    service: Arc<BackupService>,
    job: Arc<RestoreJob>,
    repo: Arc<Repository>,
) {
    info!("resuming the download of an instant restore");
    job.progress.count_into(
        service
            .metrics
            .transferred_bytes
            .with_label_values(&["download"]),
    );
    let owner = format!("{}-restore", service.cluster_id);
    let never = CancelSignal::new();
    let mut pause = FIRST_RETRY_PAUSE;
    let lock = loop {
        if repo.read_only {
            break None;
        }
        match RepoLock::shared(&repo, &owner, &never).await {
            Ok(lock) => break Some(lock),
            Err(e) => {
                job.lock().task_err_msg = format!("[failed to lock the repository: {e}]; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            }
        }
    };
    download_committed_files(&service, &job, &repo).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    service.restore_ended(&job);
}

/// Every file of `database` whose home is repository `repository`, once per partition.
fn remote_files(state: &CatalogState, database: &str, repository: &str) -> Vec<RemoteFile> {
    let Some(db) = state.database(database).filter(|db| db.attached.is_none()) else {
        return Vec::new();
    };
    let home = FileHome::Repository(repository.to_string());
    let mut found = Vec::new();
    for table in db.tables.values() {
        for partition in &table.partitions {
            let mut seen = std::collections::HashSet::new();
            for file in partition.files.iter().filter(|f| f.home == home) {
                if seen.insert(file.path.as_str()) {
                    found.push(RemoteFile {
                        table_id: table.id,
                        partition_id: partition.id,
                        file: file.clone(),
                    });
                }
            }
        }
    }
    found
}

/// Progress from what is left: everything not pending is done (also right after a restart).
fn count_progress(job: &RestoreJob, pending: &[RemoteFile]) {
    let (files_total, bytes_total) = {
        let r = job.lock();
        (r.files_total, r.bytes_total)
    };
    let bytes_left: u64 = pending.iter().map(|p| p.file.bytes).sum();
    job.files_done.store(
        files_total.saturating_sub(pending.len() as u64),
        Ordering::Relaxed,
    );
    job.progress
        .bytes_done
        .store(bytes_total.saturating_sub(bytes_left), Ordering::Relaxed);
}

/// Downloads one file into a new local file and swaps it in; the error text on failure.
async fn localize(
    service: &BackupService,
    job: &RestoreJob,
    repo: &Repository,
    database: &str,
    remote: RemoteFile,
) -> Result<(), String> {
    let relative = new_data_file_path(remote.table_id, remote.partition_id);
    let path = service.catalog.data_root().join(&relative);
    let expected = ExpectedContent {
        size: remote.file.bytes,
        sha256: remote.file.sha256.clone(),
    };
    // Its own counter: a failed attempt must not count twice in the job's progress.
    let progress = TransferProgress::default();
    let never = CancelSignal::new();
    let key = repo.key(&remote.file.path);
    if let Err(e) = repo
        .store
        .download_file(&key, &path, &expected, &progress, &never)
        .await
    {
        return Err(describe(&remote.file.path, &e));
    }
    let local = Arc::new(DataFile {
        path: relative,
        home: FileHome::Local,
        ..DataFile::clone(&remote.file)
    });
    let swapped = swap_in(service, database, &remote, local).await;
    match swapped {
        Ok(true) => {
            job.files_done.fetch_add(1, Ordering::Relaxed);
            job.progress.add(remote.file.bytes);
            save(service);
            Ok(())
        }
        Ok(false) => {
            // The table or partition changed meanwhile and no longer lists the file.
            remove_quietly(&path).await;
            Ok(())
        }
        Err(e) => {
            remove_quietly(&path).await;
            Err(format!(
                "{}: the catalog commit failed: {e}",
                remote.file.path
            ))
        }
    }
}

fn describe(key: &str, e: &StoreError) -> String {
    format!("{key}: {e}")
}

/// Replaces `remote` by `local` in its partition, under the table's write lock; false when
/// the partition no longer lists it.
async fn swap_in(
    service: &BackupService,
    database: &str,
    remote: &RemoteFile,
    local: Arc<DataFile>,
) -> snaprock_storage::Result<bool> {
    let _writers = service.catalog.lock_table(remote.table_id).await;
    service.catalog.commit(|state| {
        let Some(db) = state.databases.get_mut(database) else {
            return Ok(false);
        };
        let Some(name) = db
            .tables
            .values()
            .find(|t| t.id == remote.table_id)
            .map(|t| t.name.clone())
        else {
            return Ok(false);
        };
        let db = Arc::make_mut(db);
        let Some(table) = db.tables.get_mut(&name) else {
            return Ok(false);
        };
        let table = Arc::make_mut(table);
        let Some(partition) = table
            .partitions
            .iter_mut()
            .find(|p| p.id == remote.partition_id)
        else {
            return Ok(false);
        };
        let mut swapped = false;
        for file in partition.files.iter_mut() {
            if file.home == remote.file.home && file.path == remote.file.path {
                // Rows deleted since the restore (a delete vector) stay deleted.
                *file = Arc::new(DataFile {
                    deleted: file.deleted.clone(),
                    ..DataFile::clone(&local)
                });
                swapped = true;
            }
        }
        Ok(swapped)
    })
}

async fn remove_quietly(path: &std::path::Path) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(path = %path.display(), error = %e, "could not remove a downloaded file");
    }
}

fn save(service: &BackupService) {
    if let Err(e) = service.save() {
        warn!(error = %e, "could not save the restore job's progress");
    }
}

//! The running part of a continuous backup (state RUNNING, after its first snapshot is
//! published): every [`SHIP_EVERY`], the commits the catalog's watch recorded are shipped as one
//! log batch (their new data files first), a checkpoint follows every
//! [`CHECKPOINT_EVERY`](super::CHECKPOINT_EVERY) commits, then the head; only then does the
//! watch forget them. Repository faults are retried without end (TaskErrMsg says why); CANCEL
//! ships what is pending once more, marks the head stopped and ends the watch.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use snaprock_storage::{DataFile, TableChange, TableMeta, WatchedCommit};
use tracing::{info, warn};

use crate::backup::job::BackupJob;
use crate::continuous::{
    CHECKPOINT_EVERY, Checkpoint, ContinuousHead, LogBatch, LoggedCommit, LoggedTable, apply,
    batch_name, checkpoint_dir, checkpoint_name, head_key, log_dir,
};
use crate::error::StoreError;
use crate::format::{
    self, FORMAT_NAME, FORMAT_VERSION, PartitionSnapshot, SnapshotFile, SnapshotInfo, SnapshotMeta,
    TableSnapshot, ViewSnapshot, snapshot_timestamp,
};
use crate::job::{plan_file, status_error};
use crate::locks::RepoLock;
use crate::repository::Repository;
use crate::service::BackupService;
use crate::store::{CancelSignal, ExpectedContent};

/// How often pending commits are shipped: the RPO is about this plus one upload.
pub const SHIP_EVERY: Duration = Duration::from_millis(500);
/// With no commit, the head still moves on this often (the range grows while idle).
const IDLE_HEAD_EVERY_MS: i64 = 5_000;
/// How long CANCEL waits for the last shipment.
const FINAL_SHIP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the shipper knows between cycles.
struct Shipper {
    service: Arc<BackupService>,
    job: Arc<BackupJob>,
    repo: Arc<Repository>,
    holder: String,
    snapshot: String,
    /// The snapshot as of `last_seq`.
    meta: SnapshotMeta,
    last_seq: u64,
    commits_since_checkpoint: u64,
    head_until_ms: i64,
    /// Data files the published snapshot already names (collection keeps them).
    known: HashSet<String>,
    /// The shipper's own transfers' signal: CANCEL ends the loop, not the last shipment.
    cancel: Arc<CancelSignal>,
}

/// Runs a continuous backup whose first snapshot `info` is published, until it is cancelled.
pub(crate) async fn run(
    service: Arc<BackupService>,
    job: Arc<BackupJob>,
    repo: Arc<Repository>,
    info: SnapshotInfo,
) {
    let record = job.record();
    let holder = plan_file::holder("backup", &record);
    let mut shipper = match Shipper::open(&service, &job, &repo, &holder, &info).await {
        Ok(shipper) => shipper,
        Err(e) => {
            // The log cannot be read back: shipping on would leave a hole. Stop here.
            let status = status_error("COMMON_ERROR", &format!("cannot continue the log: {e}"));
            job.cancel_with(|_| status);
            end(&service, &holder);
            return;
        }
    };
    info!(last_seq = shipper.last_seq, "continuous backup running");
    let mut delay = SHIP_EVERY;
    while !job.cancel.is_cancelled() {
        match shipper.ship().await {
            Ok(()) => {
                delay = SHIP_EVERY;
                job.lock().task_err_msg.clear();
            }
            Err(e) => {
                warn!(error = %e, "shipping commits failed; retrying");
                job.lock().task_err_msg = format!("[{e}]; retrying");
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = job.cancel.cancelled() => {}
        }
    }
    shipper.stop().await;
    end(&service, &holder);
    if let Err(e) = service.save() {
        warn!(error = %e, "could not save the job's final state");
    }
}

fn end(service: &BackupService, holder: &str) {
    plan_file::release(service, holder);
    if let Err(e) = service.catalog.end_watch(holder) {
        warn!(error = %e, "could not end the continuous backup's watch");
    }
}

impl Shipper {
    /// Reads the log back: the snapshot as of its last shipped commit.
    async fn open(
        service: &Arc<BackupService>,
        job: &Arc<BackupJob>,
        repo: &Arc<Repository>,
        holder: &str,
        info: &SnapshotInfo,
    ) -> Result<Self, StoreError> {
        let snapshot = job.lock().snapshot.clone();
        let mut base = info.clone();
        if let Some(ext) = base.snaprock.as_mut() {
            ext.point_ms = None;
        }
        let (meta, last_seq) = repo.replay(&snapshot, &base, i64::MAX).await?;
        let known = repo.continuous_files(&snapshot, &base).await?;
        let range = repo.restorable_range(&snapshot, &base).await?;
        Ok(Shipper {
            service: service.clone(),
            job: job.clone(),
            repo: repo.clone(),
            holder: holder.to_string(),
            snapshot,
            meta,
            last_seq,
            commits_since_checkpoint: last_seq % CHECKPOINT_EVERY,
            head_until_ms: range.until_ms,
            known,
            cancel: CancelSignal::new(),
        })
    }

    /// One cycle: ships the pending commits (or moves the head on while idle).
    async fn ship(&mut self) -> Result<(), StoreError> {
        let Some((pending, until_ms)) = self.service.catalog.watched_commits(&self.holder) else {
            return Err(StoreError::Other(
                "the catalog no longer watches this backup's tables".to_string(),
            ));
        };
        let shipped_before = pending.iter().any(|c| c.seq <= self.last_seq);
        let commits: Vec<&WatchedCommit> =
            pending.iter().filter(|c| c.seq > self.last_seq).collect();
        if commits.is_empty() {
            if shipped_before {
                self.drain()?;
            }
            if until_ms - self.head_until_ms >= IDLE_HEAD_EVERY_MS {
                self.write_head(until_ms, false).await?;
            }
            return Ok(());
        }
        let mut files = BTreeMap::new();
        let logged: Vec<LoggedCommit> = commits
            .iter()
            .map(|c| logged_commit(c, &mut files))
            .collect();
        let unknown: Vec<(String, Arc<DataFile>)> = files
            .into_iter()
            .filter(|(key, _)| !self.known.contains(key))
            .collect();
        // Files not yet named by the log: under a shared lock from the check to the batch
        // that names them, so no collection deletes one in between.
        let lock = if unknown.is_empty() {
            None
        } else {
            let owner = format!("{}-{}", self.service.cluster_id, self.holder);
            Some(RepoLock::shared(&self.repo, &owner, &self.cancel).await?)
        };
        let result = self.publish(logged, &unknown, until_ms).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result?;
        self.known.extend(unknown.into_iter().map(|(key, _)| key));
        self.drain()
    }

    async fn publish(
        &mut self,
        logged: Vec<LoggedCommit>,
        unknown: &[(String, Arc<DataFile>)],
        until_ms: i64,
    ) -> Result<(), StoreError> {
        let data_root = self.service.catalog.data_root().to_path_buf();
        for (key, file) in unknown {
            let full_key = self.repo.key(key);
            if self.repo.store.exists(&full_key).await? {
                continue;
            }
            let expected = ExpectedContent {
                size: file.bytes,
                sha256: file.sha256.clone(),
            };
            let path = data_root.join(&file.path);
            let job = &self.job;
            self.repo
                .store
                .upload_file(&full_key, &path, &expected, &job.progress, &self.cancel)
                .await?;
            job.files_done
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let (first, last) = match (logged.first(), logged.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => return Ok(()),
        };
        let batch = LogBatch {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            commits: logged,
        };
        let body = to_json(&batch)?;
        let key = format!(
            "{}{}",
            log_dir(&self.repo.name, &self.snapshot),
            batch_name(first, last, &body)
        );
        self.repo.store.put(&key, Bytes::from(body)).await?;
        for commit in &batch.commits {
            apply(&mut self.meta, commit);
        }
        self.last_seq = last;
        self.commits_since_checkpoint += batch.commits.len() as u64;
        if self.commits_since_checkpoint >= CHECKPOINT_EVERY {
            self.write_checkpoint(batch.commits.last().map_or(until_ms, |c| c.time_ms))
                .await?;
        }
        self.write_head(until_ms, false).await?;
        let mut r = self.job.lock();
        r.detail.commits_shipped += batch.commits.len() as u64;
        Ok(())
    }

    async fn write_checkpoint(&mut self, time_ms: i64) -> Result<(), StoreError> {
        let checkpoint = Checkpoint {
            seq: self.last_seq,
            time_ms,
            meta: self.meta.clone(),
        };
        let body = to_json(&checkpoint)?;
        let key = format!(
            "{}{}",
            checkpoint_dir(&self.repo.name, &self.snapshot),
            checkpoint_name(self.last_seq, time_ms, &body)
        );
        self.repo.store.put(&key, Bytes::from(body)).await?;
        self.commits_since_checkpoint = 0;
        Ok(())
    }

    async fn write_head(&mut self, until_ms: i64, stopped: bool) -> Result<(), StoreError> {
        let head = ContinuousHead {
            last_seq: self.last_seq,
            restorable_until_ms: until_ms,
            restorable_until: snapshot_timestamp(until_ms),
            stopped,
        };
        let body = to_json(&head)?;
        self.repo
            .store
            .put(
                &head_key(&self.repo.name, &self.snapshot),
                Bytes::from(body),
            )
            .await?;
        self.head_until_ms = until_ms;
        self.job.lock().detail.restorable_until = Some(until_ms);
        Ok(())
    }

    /// The catalog forgets the shipped commits (their files are no longer held for us).
    fn drain(&self) -> Result<(), StoreError> {
        self.service
            .catalog
            .drain_watch(&self.holder, self.last_seq)
            .map_err(|e| StoreError::Other(e.to_string()))
    }

    /// After CANCEL: ships what is pending once more (bounded), then marks the head stopped.
    async fn stop(&mut self) {
        let last = async {
            self.ship().await?;
            let until = self.head_until_ms;
            self.write_head(until, true).await
        };
        let outcome = tokio::time::timeout(FINAL_SHIP_TIMEOUT, last).await;
        let until = snapshot_timestamp(self.head_until_ms);
        let status = match outcome {
            Ok(Ok(())) => format!("[OK, msg: continuous backup stopped; restorable until {until}]"),
            Ok(Err(e)) => format!(
                "[COMMON_ERROR, msg: continuous backup stopped; the last commits could not be \
                 shipped ({e}); restorable until {until}]"
            ),
            Err(_) => format!(
                "[COMMON_ERROR, msg: continuous backup stopped; the last shipment timed out; \
                 restorable until {until}]"
            ),
        };
        info!(%status, "continuous backup stopped");
        self.job.lock().status = status;
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Other(e.to_string()))
}

/// A watched commit in the snapshot format; the data files it names are added to `files`.
fn logged_commit(
    commit: &WatchedCommit,
    files: &mut BTreeMap<String, Arc<DataFile>>,
) -> LoggedCommit {
    LoggedCommit {
        seq: commit.seq,
        time_ms: commit.time_ms,
        tables: commit
            .tables
            .iter()
            .map(|change| logged_table(change, files))
            .collect(),
        views: commit.views.as_ref().map(|views| {
            views
                .iter()
                .map(|v| ViewSnapshot {
                    name: v.name.clone(),
                    columns: v.columns.clone(),
                    query_sql: v.query_sql.clone(),
                    comment: v.comment.clone(),
                })
                .collect()
        }),
    }
}

fn logged_table(change: &TableChange, files: &mut BTreeMap<String, Arc<DataFile>>) -> LoggedTable {
    LoggedTable {
        name: change.name.clone(),
        table: change.table.as_ref().map(|t| {
            table_snapshot(t, t.partitions.iter(), &mut |key, file| {
                files.insert(key.to_string(), file.clone());
            })
        }),
        partition_names: change.partition_names.clone(),
        whole: change.whole,
    }
}

/// A table in the snapshot format with the given partitions; `on_file` sees each data file
/// with its key in the repository.
pub(crate) fn table_snapshot<'a>(
    table: &TableMeta,
    partitions: impl Iterator<Item = &'a snaprock_storage::PartitionMeta>,
    on_file: &mut dyn FnMut(&str, &Arc<DataFile>),
) -> TableSnapshot {
    let partitions = partitions
        .map(|p| PartitionSnapshot {
            id: p.id,
            name: p.name.clone(),
            bounds: p.bounds.clone(),
            version: p.version,
            rows: p.rows(),
            bytes: p.bytes(),
            files: p
                .files
                .iter()
                .map(|f| {
                    let key = format::data_file_key(&f.sha256);
                    on_file(&key, f);
                    SnapshotFile {
                        key,
                        rows: f.rows,
                        bytes: f.bytes,
                        sha256: f.sha256.clone(),
                        deleted: f.deleted.clone(),
                    }
                })
                .collect(),
        })
        .collect();
    TableSnapshot {
        id: table.id,
        name: table.name.clone(),
        columns: table.columns.clone(),
        keys_model: table.keys_model,
        key_columns: table.key_columns.clone(),
        partitioning: table.partitioning.clone(),
        distribution: table.distribution.clone(),
        properties: table.properties.clone(),
        comment: table.comment.clone(),
        partitions,
        materialized_view: table.materialized_view.as_deref().cloned(),
        indexes: table.indexes.clone(),
    }
}

//! Backup jobs: their states, the record kept durable across restarts, and the SHOW BACKUP row.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::format::{now_ms, show_time};
use crate::store::{CancelSignal, TransferProgress};

/// The states of §3.1, in order; FINISHED and CANCELLED are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackupState {
    Pending,
    Snapshoting,
    UploadSnapshot,
    Uploading,
    SaveMeta,
    UploadInfo,
    Finished,
    Cancelled,
}

impl BackupState {
    pub fn name(self) -> &'static str {
        match self {
            BackupState::Pending => "PENDING",
            BackupState::Snapshoting => "SNAPSHOTING",
            BackupState::UploadSnapshot => "UPLOAD_SNAPSHOT",
            BackupState::Uploading => "UPLOADING",
            BackupState::SaveMeta => "SAVE_META",
            BackupState::UploadInfo => "UPLOAD_INFO",
            BackupState::Finished => "FINISHED",
            BackupState::Cancelled => "CANCELLED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, BackupState::Finished | BackupState::Cancelled)
    }
}

/// A table to back up: all its partitions (`None`) or the named ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTable {
    pub name: String,
    pub partitions: Option<Vec<String>>,
}

/// What a job backs up, fixed when the statement is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPlan {
    pub tables: Vec<PlannedTable>,
    pub views: Vec<String>,
}

/// Everything SHOW BACKUP shows, persisted at every state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupJobRecord {
    /// -1 until the job starts running.
    pub job_id: i64,
    pub snapshot: String,
    pub database: String,
    pub repository: String,
    pub state: BackupState,
    /// The BackupObjs column.
    pub objects: String,
    pub plan: BackupPlan,
    pub create_time: i64,
    pub snapshot_finished_time: Option<i64>,
    pub upload_finished_time: Option<i64>,
    pub finished_time: Option<i64>,
    pub timeout_secs: u64,
    pub status: String,
    pub task_err_msg: String,
    /// Files and bytes this job uploads (files already in the repository are not counted).
    pub files_total: u64,
    pub files_done: u64,
    pub bytes_total: u64,
    pub bytes_done: u64,
    /// Bytes of the snapshot that were already in the repository (not uploaded again).
    pub bytes_reused: u64,
    /// The info file's key once it is known (SAVE_META): after a crash in UPLOAD_INFO its
    /// presence tells whether the snapshot was published.
    pub info_key: Option<String>,
}

/// Status texts of §2.2.
pub fn status_ok() -> String {
    "[OK]".to_string()
}

pub fn status_error(code: &str, msg: &str) -> String {
    format!("[{code}, msg: {msg}]")
}

/// The status of a job that failed on storage.
pub fn status_for_store_error(context: &str, e: &StoreError) -> String {
    let code = match e {
        StoreError::Unreachable(_) => "BAD_CONNECTION",
        StoreError::Checksum { .. } => "BAD_FILE",
        StoreError::NotFound(_) => "NOT_FOUND",
        _ => "COMMON_ERROR",
    };
    status_error(code, &format!("{context}: {e}"))
}

/// A running or finished backup job.
#[derive(Debug)]
pub struct BackupJob {
    record: Mutex<BackupJobRecord>,
    pub cancel: Arc<CancelSignal>,
    pub progress: TransferProgress,
    pub files_done: AtomicU64,
}

impl BackupJob {
    pub fn new(record: BackupJobRecord) -> Arc<Self> {
        let files_done = AtomicU64::new(record.files_done);
        let progress = TransferProgress::default();
        progress.add(record.bytes_done);
        Arc::new(BackupJob {
            record: Mutex::new(record),
            cancel: CancelSignal::new(),
            progress,
            files_done,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, BackupJobRecord> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the record with the live counters folded in.
    pub fn record(&self) -> BackupJobRecord {
        let mut r = self.lock().clone();
        r.files_done = self.files_done.load(Ordering::Relaxed);
        r.bytes_done = self.progress.bytes_done.load(Ordering::Relaxed);
        r
    }

    pub fn state(&self) -> BackupState {
        self.lock().state
    }

    /// Moves to `state` unless the job already ended (cancelled); returns whether it moved.
    pub fn advance(&self, state: BackupState, update: impl FnOnce(&mut BackupJobRecord)) -> bool {
        let mut r = self.lock();
        if r.state.is_done() {
            return false;
        }
        r.state = state;
        update(&mut r);
        true
    }

    /// Ends the job as CANCELLED with `status` unless it already ended; signals its transfers.
    pub fn cancel_with(&self, status: String) -> bool {
        let ended = {
            let mut r = self.lock();
            if r.state.is_done() {
                false
            } else {
                r.state = BackupState::Cancelled;
                r.status = status;
                r.finished_time = Some(now_ms());
                true
            }
        };
        if ended {
            self.cancel.cancel();
        }
        ended
    }

    /// The 14 columns of SHOW BACKUP.
    pub fn show_row(&self) -> Vec<Option<String>> {
        let r = self.record();
        let time = |t: Option<i64>| t.map(show_time);
        let (unfinished, progress) = match r.state {
            BackupState::Pending | BackupState::Snapshoting => (String::new(), String::new()),
            _ => {
                let unfinished = if r.state == BackupState::Uploading {
                    format!(
                        "files_remaining={}",
                        r.files_total.saturating_sub(r.files_done)
                    )
                } else {
                    String::new()
                };
                (
                    unfinished,
                    format!(
                        "[files: {}/{}], [bytes: {}/{}]",
                        r.files_done, r.files_total, r.bytes_done, r.bytes_total
                    ),
                )
            }
        };
        vec![
            Some(r.job_id.to_string()),
            Some(r.snapshot),
            Some(r.database),
            Some(r.state.name().to_string()),
            Some(r.objects),
            Some(show_time(r.create_time)),
            time(r.snapshot_finished_time),
            time(r.upload_finished_time),
            time(r.finished_time),
            Some(unfinished),
            Some(progress),
            Some(r.task_err_msg),
            Some(r.status),
            Some(r.timeout_secs.to_string()),
        ]
    }
}

pub const SHOW_BACKUP_COLUMNS: [&str; 14] = [
    "JobId",
    "SnapshotName",
    "DbName",
    "State",
    "BackupObjs",
    "CreateTime",
    "SnapshotFinishedTime",
    "UploadFinishedTime",
    "FinishedTime",
    "UnfinishedTasks",
    "Progress",
    "TaskErrMsg",
    "Status",
    "Timeout",
];

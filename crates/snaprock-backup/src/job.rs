//! Backup jobs: their states, the record kept durable across restarts, and the SHOW BACKUP row.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::format::show_time;
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

/// The Progress column of SHOW BACKUP and SHOW RESTORE: files and bytes moved of the total.
pub fn transfer_progress(
    files_done: u64,
    files_total: u64,
    bytes_done: u64,
    bytes_total: u64,
) -> String {
    format!("[files: {files_done}/{files_total}], [bytes: {bytes_done}/{bytes_total}]")
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

/// What [`TrackedJob`] needs of a job's durable record.
pub trait JobRecord: Clone + Send + 'static {
    type State: Copy + PartialEq + std::fmt::Debug;
    fn state(&self) -> Self::State;
    fn set_state(&mut self, state: Self::State);
    fn is_done(&self) -> bool;
    /// Ends the job as CANCELLED with `status`, setting its FinishedTime.
    fn end_cancelled(&mut self, status: String);
    /// Folds the live transfer counters into the record.
    fn set_counters(&mut self, files_done: u64, bytes_done: u64);
    fn counters(&self) -> (u64, u64);
    fn status(&self) -> &str;
    /// Epoch milliseconds at which the job times out.
    fn deadline_ms(&self) -> i64;
    /// The Status of a job that timed out.
    fn timeout_status(&self) -> String;
    /// SHOW's TaskErrMsg: which file failed and why.
    fn set_task_err_msg(&mut self, message: String);
}

/// A running or finished job: its record behind a lock, and the live parts its transfers share.
#[derive(Debug)]
pub struct TrackedJob<R> {
    record: Mutex<R>,
    pub cancel: Arc<CancelSignal>,
    pub progress: TransferProgress,
    pub files_done: AtomicU64,
}

pub type BackupJob = TrackedJob<BackupJobRecord>;

impl<R: JobRecord> TrackedJob<R> {
    pub fn new(record: R) -> Arc<Self> {
        let (files_done, bytes_done) = record.counters();
        let progress = TransferProgress::default();
        progress.add(bytes_done);
        Arc::new(TrackedJob {
            record: Mutex::new(record),
            cancel: CancelSignal::new(),
            progress,
            files_done: AtomicU64::new(files_done),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, R> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the record with the live counters folded in.
    pub fn record(&self) -> R {
        let mut r = self.lock().clone();
        r.set_counters(
            self.files_done.load(Ordering::Relaxed),
            self.progress.bytes_done.load(Ordering::Relaxed),
        );
        r
    }

    pub fn state(&self) -> R::State {
        self.lock().state()
    }

    pub fn is_done(&self) -> bool {
        self.lock().is_done()
    }

    /// Moves to `state` unless the job already ended (cancelled); returns whether it moved.
    pub fn advance(&self, state: R::State, update: impl FnOnce(&mut R)) -> bool {
        let mut r = self.lock();
        if r.is_done() {
            return false;
        }
        r.set_state(state);
        update(&mut r);
        // Inside the job's span: which job, and now which state.
        tracing::info!(state = ?state, "job state");
        true
    }

    /// Ends the job as CANCELLED with the status `status` builds from the record, unless it
    /// already ended; signals its transfers.
    pub fn cancel_with(&self, status: impl FnOnce(&R) -> String) -> bool {
        let ended = {
            let mut r = self.lock();
            if r.is_done() {
                false
            } else {
                let status = status(&r);
                r.end_cancelled(status);
                true
            }
        };
        if ended {
            self.cancel.cancel();
        }
        ended
    }
}

/// The [`JobRecord`] methods that backup and restore records share field for field (both have
/// `state`, `status`, `create_time`, `finished_time`, `timeout_secs`, `files_done`,
/// `bytes_done`); each record adds its own `timeout_status`.
macro_rules! job_record_fields {
    ($state:ident) => {
        type State = $state;

        fn state(&self) -> $state {
            self.state
        }

        fn set_state(&mut self, state: $state) {
            self.state = state;
        }

        fn is_done(&self) -> bool {
            self.state.is_done()
        }

        fn end_cancelled(&mut self, status: String) {
            self.state = $state::Cancelled;
            self.status = status;
            self.finished_time = Some($crate::format::now_ms());
        }

        fn set_task_err_msg(&mut self, message: String) {
            self.task_err_msg = message;
        }

        fn set_counters(&mut self, files_done: u64, bytes_done: u64) {
            self.files_done = files_done;
            self.bytes_done = bytes_done;
        }

        fn counters(&self) -> (u64, u64) {
            (self.files_done, self.bytes_done)
        }

        fn status(&self) -> &str {
            &self.status
        }

        fn deadline_ms(&self) -> i64 {
            self.create_time + self.timeout_secs as i64 * 1000
        }
    };
}
pub(crate) use job_record_fields;

impl JobRecord for BackupJobRecord {
    job_record_fields!(BackupState);

    fn timeout_status(&self) -> String {
        status_error("TIMEOUT", "")
    }
}

impl TrackedJob<BackupJobRecord> {
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
                    transfer_progress(r.files_done, r.files_total, r.bytes_done, r.bytes_total),
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

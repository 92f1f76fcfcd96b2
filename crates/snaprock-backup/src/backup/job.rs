//! A backup job's durable record: its states, what it backs up, its SHOW BACKUP row.

use serde::{Deserialize, Serialize};

use crate::format::show_time;
use crate::job::{JobRecord, TrackedJob, job_record_fields, status_error, transfer_progress};

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

pub type BackupJob = TrackedJob<BackupJobRecord>;

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

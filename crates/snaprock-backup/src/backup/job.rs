//! What a backup job adds to the common job record: its states, what it backs up, its SHOW
//! BACKUP columns.

use serde::{Deserialize, Serialize};

use crate::job::{
    Cell, JobKind, JobRecord, JobState, ShowColumn, TrackedJob, status_error, time_cell,
};

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
    /// A continuous backup after its first snapshot: shipping every commit.
    Running,
    Finished,
    Cancelled,
}

impl JobState for BackupState {
    const PENDING: Self = BackupState::Pending;
    const FINISHED: Self = BackupState::Finished;
    const CANCELLED: Self = BackupState::Cancelled;

    fn name(self) -> &'static str {
        match self {
            BackupState::Pending => "PENDING",
            BackupState::Snapshoting => "SNAPSHOTING",
            BackupState::UploadSnapshot => "UPLOAD_SNAPSHOT",
            BackupState::Uploading => "UPLOADING",
            BackupState::SaveMeta => "SAVE_META",
            BackupState::UploadInfo => "UPLOAD_INFO",
            BackupState::Running => "RUNNING",
            BackupState::Finished => "FINISHED",
            BackupState::Cancelled => "CANCELLED",
        }
    }

    fn is_transferring(self) -> bool {
        self == BackupState::Uploading
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
    /// No ON clause: the whole database (a continuous backup then follows new tables too).
    #[serde(default)]
    pub whole_database: bool,
}

/// What only a backup job keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupDetail {
    /// The BackupObjs column.
    pub objects: String,
    pub plan: BackupPlan,
    pub snapshot_finished_time: Option<i64>,
    pub upload_finished_time: Option<i64>,
    /// Bytes of the snapshot that were already in the repository (not uploaded again).
    pub bytes_reused: u64,
    /// Data files of the snapshot that were already in the repository.
    #[serde(default)]
    pub files_reused: u64,
    /// The info file's key once it is known (SAVE_META): after a crash in UPLOAD_INFO its
    /// presence tells whether the snapshot was published.
    pub info_key: Option<String>,
    /// The `ttl` property: as written, and in seconds.
    #[serde(default)]
    pub ttl: Option<(String, u64)>,
    /// A continuous backup (`"continuous" = "true"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continuous: bool,
    /// A continuous backup: the end of its restorable range (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restorable_until: Option<i64>,
    /// A continuous backup: commits shipped since it (re)started.
    #[serde(default)]
    pub commits_shipped: u64,
}

pub type BackupJobRecord = JobRecord<BackupDetail>;
pub type BackupJob = TrackedJob<BackupDetail>;

impl JobKind for BackupDetail {
    type State = BackupState;

    /// The 14 columns of SHOW BACKUP.
    const SHOW_COLUMNS: &'static [ShowColumn<Self>] = &[
        ShowColumn::new("JobId", Cell::JobId),
        ShowColumn::new("SnapshotName", Cell::Snapshot),
        ShowColumn::new("DbName", Cell::Database),
        ShowColumn::new("State", Cell::State),
        ShowColumn::new("BackupObjs", Cell::Detail(|d| Some(d.objects.clone()))),
        ShowColumn::new("CreateTime", Cell::CreateTime),
        ShowColumn::new(
            "SnapshotFinishedTime",
            Cell::Detail(|d| time_cell(d.snapshot_finished_time)),
        ),
        ShowColumn::new(
            "UploadFinishedTime",
            Cell::Detail(|d| time_cell(d.upload_finished_time)),
        ),
        ShowColumn::new("FinishedTime", Cell::FinishedTime),
        ShowColumn::new("UnfinishedTasks", Cell::UnfinishedTasks),
        ShowColumn::new("Progress", Cell::Progress),
        ShowColumn::new("TaskErrMsg", Cell::TaskErrMsg),
        ShowColumn::new("Status", Cell::Status),
        ShowColumn::new("Timeout", Cell::Timeout),
    ];

    fn timeout_status(_: &BackupJobRecord) -> String {
        status_error("TIMEOUT", "")
    }

    fn shows_progress(r: &BackupJobRecord) -> bool {
        !matches!(r.state, BackupState::Pending | BackupState::Snapshoting)
    }

    /// A continuous backup past its first snapshot shows how far its range reaches.
    fn progress_text(r: &BackupJobRecord) -> String {
        match r.detail.restorable_until {
            Some(until) if r.detail.continuous => format!(
                "[restorable until: {}], [commits: {}], [files: {}], [bytes: {}]",
                crate::format::snapshot_timestamp(until),
                r.detail.commits_shipped,
                r.files_done,
                r.bytes_done
            ),
            _ => r.transfer_progress_text(),
        }
    }
}

//! What a restore job adds to the common job record: its states, what it restores, its SHOW
//! RESTORE columns.

use serde::{Deserialize, Serialize};

use crate::job::{
    Cell, JobKind, JobRecord, JobState, ShowColumn, TrackedJob, status_error, time_cell,
};

/// The states of §3.2, in order; FINISHED and CANCELLED are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RestoreState {
    Pending,
    Snapshoting,
    Download,
    Downloading,
    Commit,
    Committing,
    Finished,
    Cancelled,
}

impl JobState for RestoreState {
    const PENDING: Self = RestoreState::Pending;
    const FINISHED: Self = RestoreState::Finished;
    const CANCELLED: Self = RestoreState::Cancelled;

    fn name(self) -> &'static str {
        match self {
            RestoreState::Pending => "PENDING",
            RestoreState::Snapshoting => "SNAPSHOTING",
            RestoreState::Download => "DOWNLOAD",
            RestoreState::Downloading => "DOWNLOADING",
            RestoreState::Commit => "COMMIT",
            RestoreState::Committing => "COMMITTING",
            RestoreState::Finished => "FINISHED",
            RestoreState::Cancelled => "CANCELLED",
        }
    }

    fn is_transferring(self) -> bool {
        self == RestoreState::Downloading
    }
}

/// A table of the snapshot to restore, under `target` (its alias, or its own name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTable {
    pub source: String,
    pub target: String,
    /// The snapshot's partitions to restore (all of them when the statement named none).
    pub partitions: Vec<String>,
    /// The table has a single partition named after it (unpartitioned).
    pub unpartitioned: bool,
}

/// A view of the snapshot to restore under `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreView {
    pub source: String,
    pub target: String,
}

/// What a job restores, fixed when the statement is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePlan {
    pub tables: Vec<RestoreTable>,
    pub views: Vec<RestoreView>,
}

impl RestorePlan {
    /// The RestoreObjs column: `tbl` or `tbl PARTITIONS [p1, p2]` (no list for unpartitioned
    /// tables), original names, joined by ", ".
    pub fn describe(&self) -> String {
        let tables = self.tables.iter().map(|t| {
            if t.unpartitioned {
                t.source.clone()
            } else {
                format!("{} PARTITIONS [{}]", t.source, t.partitions.join(", "))
            }
        });
        let views = self.views.iter().map(|v| v.source.clone());
        tables.chain(views).collect::<Vec<_>>().join(", ")
    }
}

/// What only a restore job keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreDetail {
    /// The `backup_timestamp` exactly as given.
    pub timestamp: String,
    /// The database name recorded in the snapshot.
    pub source_database: String,
    pub allow_load: bool,
    pub replication_num: u32,
    pub plan: RestorePlan,
    pub meta_prepared_time: Option<i64>,
    pub snapshot_finished_time: Option<i64>,
    pub download_finished_time: Option<i64>,
    /// `"instant" = "true"`: the commit comes first, with the files still in the repository;
    /// the job then downloads them in the background.
    #[serde(default)]
    pub instant: bool,
    /// When an instant restore committed: from then on it can no longer be cancelled, and a
    /// restart resumes its download.
    #[serde(default)]
    pub committed_time: Option<i64>,
}

pub type RestoreJobRecord = JobRecord<RestoreDetail>;
pub type RestoreJob = TrackedJob<RestoreDetail>;

impl JobKind for RestoreDetail {
    type State = RestoreState;

    /// The 18 columns of SHOW RESTORE.
    const SHOW_COLUMNS: &'static [ShowColumn<Self>] = &[
        ShowColumn::new("JobId", Cell::JobId),
        ShowColumn::new("Label", Cell::Snapshot),
        ShowColumn::new("Timestamp", Cell::Detail(|d| Some(d.timestamp.clone()))),
        ShowColumn::new("DbName", Cell::Database),
        ShowColumn::new("State", Cell::State),
        ShowColumn::new(
            "AllowLoad",
            Cell::Detail(|d| Some(d.allow_load.to_string())),
        ),
        ShowColumn::new(
            "ReplicationNum",
            Cell::Detail(|d| Some(d.replication_num.to_string())),
        ),
        ShowColumn::new("RestoreObjs", Cell::Detail(|d| Some(d.plan.describe()))),
        ShowColumn::new("CreateTime", Cell::CreateTime),
        ShowColumn::new(
            "MetaPreparedTime",
            Cell::Detail(|d| time_cell(d.meta_prepared_time)),
        ),
        ShowColumn::new(
            "SnapshotFinishedTime",
            Cell::Detail(|d| time_cell(d.snapshot_finished_time)),
        ),
        ShowColumn::new(
            "DownloadFinishedTime",
            Cell::Detail(|d| time_cell(d.download_finished_time)),
        ),
        ShowColumn::new("FinishedTime", Cell::FinishedTime),
        ShowColumn::new("UnfinishedTasks", Cell::UnfinishedTasks),
        ShowColumn::new("Progress", Cell::Progress),
        ShowColumn::new("TaskErrMsg", Cell::TaskErrMsg),
        ShowColumn::new("Status", Cell::Status),
        ShowColumn::new("Timeout", Cell::Timeout),
    ];

    fn timeout_status(r: &RestoreJobRecord) -> String {
        // Two spaces before "timeout", as StarRocks writes it.
        status_error(
            "TIMEOUT",
            &format!("restore job with label: {}  timeout.", r.snapshot),
        )
    }

    fn cancellable(r: &RestoreJobRecord) -> bool {
        r.detail.committed_time.is_none()
    }

    fn shows_progress(r: &RestoreJobRecord) -> bool {
        !matches!(r.state, RestoreState::Pending | RestoreState::Snapshoting)
            && (r.files_total > 0 || r.detail.download_finished_time.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_objs_names_partitions_except_for_unpartitioned_tables() {
        let plan = RestorePlan {
            tables: vec![
                RestoreTable {
                    source: "sr_member".into(),
                    target: "m2".into(),
                    partitions: vec!["p1".into(), "p2".into()],
                    unpartitioned: false,
                },
                RestoreTable {
                    source: "flat".into(),
                    target: "flat".into(),
                    partitions: vec!["flat".into()],
                    unpartitioned: true,
                },
            ],
            views: vec![RestoreView {
                source: "v".into(),
                target: "v".into(),
            }],
        };
        assert_eq!(plan.describe(), "sr_member PARTITIONS [p1, p2], flat, v");
    }
}

//! Restore jobs: their states, what they restore, the record kept durable across restarts, and
//! the SHOW RESTORE row.

use serde::{Deserialize, Serialize};

use crate::format::show_time;
use crate::job::{JobRecord, TrackedJob, job_record_fields, status_error, transfer_progress};

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

impl RestoreState {
    pub fn name(self) -> &'static str {
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

    pub fn is_done(self) -> bool {
        matches!(self, RestoreState::Finished | RestoreState::Cancelled)
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

/// Everything SHOW RESTORE shows, persisted at every state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreJobRecord {
    /// -1 until the job starts running.
    pub job_id: i64,
    pub snapshot: String,
    /// The `backup_timestamp` exactly as given.
    pub timestamp: String,
    /// The database restored into.
    pub database: String,
    /// The database name recorded in the snapshot.
    pub source_database: String,
    pub repository: String,
    pub state: RestoreState,
    pub allow_load: bool,
    pub replication_num: u32,
    pub plan: RestorePlan,
    pub create_time: i64,
    pub meta_prepared_time: Option<i64>,
    pub snapshot_finished_time: Option<i64>,
    pub download_finished_time: Option<i64>,
    pub finished_time: Option<i64>,
    pub timeout_secs: u64,
    pub status: String,
    pub task_err_msg: String,
    pub files_total: u64,
    pub files_done: u64,
    pub bytes_total: u64,
    pub bytes_done: u64,
}

pub type RestoreJob = TrackedJob<RestoreJobRecord>;

impl JobRecord for RestoreJobRecord {
    job_record_fields!(RestoreState);

    fn timeout_status(&self) -> String {
        // Two spaces before "timeout", as StarRocks writes it.
        status_error(
            "TIMEOUT",
            &format!("restore job with label: {}  timeout.", self.snapshot),
        )
    }
}

impl TrackedJob<RestoreJobRecord> {
    /// The 18 columns of SHOW RESTORE.
    pub fn show_row(&self) -> Vec<Option<String>> {
        let r = self.record();
        let time = |t: Option<i64>| t.map(show_time);
        let started_transfers =
            !matches!(r.state, RestoreState::Pending | RestoreState::Snapshoting)
                && (r.files_total > 0 || r.download_finished_time.is_some());
        let unfinished = if r.state == RestoreState::Downloading {
            format!(
                "files_remaining={}",
                r.files_total.saturating_sub(r.files_done)
            )
        } else {
            String::new()
        };
        let progress = if started_transfers {
            transfer_progress(r.files_done, r.files_total, r.bytes_done, r.bytes_total)
        } else {
            String::new()
        };
        vec![
            Some(r.job_id.to_string()),
            Some(r.snapshot.clone()),
            Some(r.timestamp.clone()),
            Some(r.database.clone()),
            Some(r.state.name().to_string()),
            Some(r.allow_load.to_string()),
            Some(r.replication_num.to_string()),
            Some(r.plan.describe()),
            Some(show_time(r.create_time)),
            time(r.meta_prepared_time),
            time(r.snapshot_finished_time),
            time(r.download_finished_time),
            time(r.finished_time),
            Some(unfinished),
            Some(progress),
            Some(r.task_err_msg),
            Some(r.status),
            Some(r.timeout_secs.to_string()),
        ]
    }
}

pub const SHOW_RESTORE_COLUMNS: [&str; 18] = [
    "JobId",
    "Label",
    "Timestamp",
    "DbName",
    "State",
    "AllowLoad",
    "ReplicationNum",
    "RestoreObjs",
    "CreateTime",
    "MetaPreparedTime",
    "SnapshotFinishedTime",
    "DownloadFinishedTime",
    "FinishedTime",
    "UnfinishedTasks",
    "Progress",
    "TaskErrMsg",
    "Status",
    "Timeout",
];

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

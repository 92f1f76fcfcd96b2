//! Continuous snapshots: a first snapshot (an ordinary meta and info file), then every later
//! commit to the covered tables as a small delta in the snapshot's log, a full checkpoint every
//! [`CHECKPOINT_EVERY`] commits, and a head saying up to when the log is complete. Any time in
//! the range is a point a RESTORE can ask for: one checkpoint (or the first snapshot) plus a
//! bounded number of deltas give the snapshot's meta as of the last commit at or before it
//! (see `docs/snapshot-format.md`).
//!
//! ```text
//! __ss_<snapshot>/__meta.<md5>, __info_<ts>.<md5>      the first snapshot (info says continuous)
//! __ss_<snapshot>/__log/<first seq>-<last seq>.<md5>   commits first..last (JSON)
//! __ss_<snapshot>/__checkpoint/<seq>-<time ms>.<md5>   the whole meta as of commit seq
//! __ss_<snapshot>/__head                               {"last_seq", "restorable_until_ms", ...}
//! ```
//!
//! * `read.rs`: the range of a continuous snapshot and its meta at a point;
//! * `ship.rs`: the running job that ships commits.

pub(crate) mod read;
pub(crate) mod ship;

use serde::{Deserialize, Serialize};

use crate::format::{self, SnapshotMeta, TableSnapshot, ViewSnapshot};

/// A checkpoint is written after this many commits since the last one, so a point reads at
/// most this many commits past its checkpoint.
pub const CHECKPOINT_EVERY: u64 = 64;

/// One shipped batch of commits, `__log/<first>-<last>.<md5>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogBatch {
    pub format: String,
    pub format_version: u32,
    pub commits: Vec<LoggedCommit>,
}

/// One commit: the covered tables it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedCommit {
    pub seq: u64,
    /// Epoch milliseconds of the commit.
    pub time_ms: i64,
    pub tables: Vec<LoggedTable>,
    /// All views of the database after the commit, when it changed views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<ViewSnapshot>>,
}

/// How a commit changed one table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedTable {
    pub name: String,
    /// The table after the commit with only its new or changed partitions (all of them when
    /// `whole`); `None`: the table was dropped.
    pub table: Option<TableSnapshot>,
    /// All partition names after the commit, in order; a partition not named is gone.
    pub partition_names: Vec<String>,
    /// The table is new under this name: forget what the name held before.
    pub whole: bool,
}

/// `__checkpoint/<seq>-<time ms>.<md5>`: the meta as of commit `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub time_ms: i64,
    pub meta: SnapshotMeta,
}

/// `__head`: how far the log is complete. Rewritten by the running job; a stale head only
/// makes the range shorter, never wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContinuousHead {
    pub last_seq: u64,
    /// No commit after `last_seq` happened at or before this time (epoch ms).
    pub restorable_until_ms: i64,
    /// The same time as a `backup_timestamp`.
    pub restorable_until: String,
    /// The job stopped: the range ends here.
    pub stopped: bool,
}

pub fn log_dir(repo: &str, snapshot: &str) -> String {
    format!("{}__log/", format::snapshot_dir(repo, snapshot))
}

pub fn checkpoint_dir(repo: &str, snapshot: &str) -> String {
    format!("{}__checkpoint/", format::snapshot_dir(repo, snapshot))
}

pub fn head_key(repo: &str, snapshot: &str) -> String {
    format!("{}__head", format::snapshot_dir(repo, snapshot))
}

/// `<first>-<last>` of a log batch, zero-padded so names sort by sequence.
pub fn batch_name(first: u64, last: u64, body: &[u8]) -> String {
    format::with_md5(&format!("{first:020}-{last:020}"), body)
}

pub fn checkpoint_name(seq: u64, time_ms: i64, body: &[u8]) -> String {
    format::with_md5(&format!("{seq:020}-{time_ms}"), body)
}

/// The two numbers of a `<a>-<b>.<md5>` name.
pub fn parse_pair(file_name: &str) -> Option<(u64, i64)> {
    let (base, _) = format::split_md5(file_name)?;
    let (a, b) = base.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Applies one commit to `meta` (the snapshot as of the commit before).
pub fn apply(meta: &mut SnapshotMeta, commit: &LoggedCommit) {
    for change in &commit.tables {
        let position = meta.tables.iter().position(|t| t.name == change.name);
        let Some(new) = &change.table else {
            if let Some(i) = position {
                meta.tables.remove(i);
            }
            continue;
        };
        let mut table = new.clone();
        if let (Some(i), false) = (position, change.whole) {
            let old = &meta.tables[i];
            table.partitions = change
                .partition_names
                .iter()
                .filter_map(|name| {
                    new.partitions
                        .iter()
                        .chain(&old.partitions)
                        .find(|p| &p.name == name)
                        .cloned()
                })
                .collect();
        }
        match position {
            Some(i) => meta.tables[i] = table,
            None => {
                meta.tables.push(table);
                meta.tables.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }
    if let Some(views) = &commit.views {
        meta.views = views.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{PartitionSnapshot, SnapshotFile};
    use snaprock_storage::{DistributionMeta, KeysModel, PartitionBounds, Partitioning};

    fn partition(name: &str, version: u64, file: &str) -> PartitionSnapshot {
        PartitionSnapshot {
            id: 1,
            name: name.into(),
            bounds: PartitionBounds::All,
            version,
            rows: 1,
            bytes: 1,
            files: vec![SnapshotFile {
                key: file.into(),
                rows: 1,
                bytes: 1,
                sha256: file.into(),
                deleted: None,
            }],
        }
    }

    fn table(name: &str, partitions: Vec<PartitionSnapshot>) -> TableSnapshot {
        TableSnapshot {
            id: 7,
            name: name.into(),
            columns: vec![],
            keys_model: KeysModel::Duplicate,
            key_columns: vec![],
            partitioning: Partitioning::Unpartitioned,
            distribution: DistributionMeta::Random { buckets: None },
            properties: vec![],
            comment: None,
            partitions,
            materialized_view: None,
            indexes: vec![],
        }
    }

    fn meta(tables: Vec<TableSnapshot>) -> SnapshotMeta {
        SnapshotMeta {
            format: format::FORMAT_NAME.into(),
            format_version: format::FORMAT_VERSION,
            snapshot: "s".into(),
            database: "d".into(),
            database_id: 1,
            backup_time: 0,
            timestamp: String::new(),
            tables,
            views: vec![],
        }
    }

    #[test]
    fn a_commit_replaces_changed_partitions_keeps_the_rest_and_drops_what_is_gone() {
        let mut m = meta(vec![table(
            "t",
            vec![partition("p1", 1, "a"), partition("p2", 1, "b")],
        )]);
        let commit = LoggedCommit {
            seq: 1,
            time_ms: 5,
            tables: vec![LoggedTable {
                name: "t".into(),
                table: Some(table("t", vec![partition("p3", 1, "c")])),
                partition_names: vec!["p1".into(), "p3".into()],
                whole: false,
            }],
            views: None,
        };
        apply(&mut m, &commit);
        let names: Vec<_> = m.tables[0].partitions.iter().map(|p| &p.name).collect();
        assert_eq!(names, ["p1", "p3"]);
        assert_eq!(m.tables[0].partitions[0].files[0].key, "a");

        let drop = LoggedCommit {
            seq: 2,
            time_ms: 6,
            tables: vec![LoggedTable {
                name: "t".into(),
                table: None,
                partition_names: vec![],
                whole: false,
            }],
            views: None,
        };
        apply(&mut m, &drop);
        assert!(m.tables.is_empty());
    }

    #[test]
    fn names_sort_by_sequence_and_parse_back() {
        let name = batch_name(3, 12, b"{}");
        assert!(name < batch_name(10, 11, b"{}"));
        assert_eq!(parse_pair(&name), Some((3, 12)));
        assert_eq!(
            parse_pair(&checkpoint_name(64, 1_700_000, b"x")),
            Some((64, 1_700_000))
        );
        assert_eq!(parse_pair("junk"), None);
    }
}

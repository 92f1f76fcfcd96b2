//! Reading a continuous snapshot: its restorable range, and its meta as of a point (the last
//! commit at or before a time). Every RESTORE form, ADMIN CHECK SNAPSHOT and attaching go
//! through `Repository::read_info` / `read_meta`, which come here for a continuous snapshot.

use std::collections::HashSet;

use futures::StreamExt;

use crate::continuous::{
    Checkpoint, ContinuousHead, LogBatch, apply, checkpoint_dir, head_key, log_dir, parse_pair,
};
use crate::error::StoreError;
use crate::format::{self, SnapshotInfo, SnapshotMeta, snapshot_timestamp};
use crate::repository::Repository;

/// Log batches read at the same time while a point is rebuilt.
const BATCH_READS_IN_FLIGHT: usize = 16;

/// The times a continuous snapshot can be restored at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestorableRange {
    pub from_ms: i64,
    pub until_ms: i64,
    /// The job that wrote it stopped: the range no longer grows.
    pub stopped: bool,
}

impl RestorableRange {
    /// `[from, until]` as backup timestamps.
    pub fn describe(&self) -> String {
        format!(
            "[{}, {}]",
            snapshot_timestamp(self.from_ms),
            snapshot_timestamp(self.until_ms)
        )
    }
}

impl Repository {
    /// The info file of a continuous snapshot, if `snapshot` is one.
    pub(crate) async fn continuous_info(
        &self,
        snapshot: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let listing = self.snapshot_listing(snapshot).await?;
        for timestamp in listing
            .timestamps
            .iter()
            .filter(|t| !t.starts_with("Invalid"))
        {
            let info = self.read_info_file(snapshot, timestamp).await?;
            if info.snaprock.as_ref().is_some_and(|e| e.continuous) {
                return Ok(Some(info));
            }
        }
        Ok(None)
    }

    /// The range of the continuous snapshot whose info file is `info`.
    pub async fn restorable_range(
        &self,
        snapshot: &str,
        info: &SnapshotInfo,
    ) -> Result<RestorableRange, StoreError> {
        let head = match self.store.get(&head_key(&self.name, snapshot)).await {
            Ok(body) => serde_json::from_slice::<ContinuousHead>(&body).ok(),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(RestorableRange {
            from_ms: info.backup_time,
            until_ms: head.as_ref().map_or(info.backup_time, |h| {
                h.restorable_until_ms.max(info.backup_time)
            }),
            stopped: head.is_some_and(|h| h.stopped),
        })
    }

    /// The info of the point `timestamp` of the continuous snapshot whose info file is `base`:
    /// its objects are those of that point. Refused outside the range, naming it.
    pub(crate) async fn point_info(
        &self,
        snapshot: &str,
        base: &SnapshotInfo,
        timestamp: &str,
    ) -> Result<SnapshotInfo, StoreError> {
        let range = self.restorable_range(snapshot, base).await?;
        let point_ms = format::parse_snapshot_timestamp(timestamp)
            .filter(|t| (range.from_ms..=range.until_ms).contains(t))
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "backup_timestamp {timestamp} is outside the restorable range {} of \
                     continuous snapshot {snapshot}",
                    range.describe()
                ))
            })?;
        let meta = self.meta_at(snapshot, base, point_ms, timestamp).await?;
        let Some(ext) = &base.snaprock else {
            return Err(StoreError::Other(format!(
                "{snapshot} has no snaprock info"
            )));
        };
        let mut info = SnapshotInfo::from_meta(&meta, ext.meta_file.clone());
        info.cluster_id = base.cluster_id.clone();
        info.finish_time = base.finish_time;
        if let Some(point) = info.snaprock.as_mut() {
            point.continuous = true;
            point.point_ms = Some(point_ms);
        }
        Ok(info)
    }

    /// The meta as of the last commit at or before `point_ms`: the newest checkpoint at or
    /// before it (or the first snapshot), then the log's commits after it.
    pub(crate) async fn meta_at(
        &self,
        snapshot: &str,
        base: &SnapshotInfo,
        point_ms: i64,
        timestamp: &str,
    ) -> Result<SnapshotMeta, StoreError> {
        let (mut meta, _) = self.replay(snapshot, base, point_ms).await?;
        meta.backup_time = point_ms;
        meta.timestamp = timestamp.to_string();
        Ok(meta)
    }

    /// The meta as of the last commit at or before `point_ms`, and that commit's sequence
    /// number (0: the first snapshot).
    pub(crate) async fn replay(
        &self,
        snapshot: &str,
        base: &SnapshotInfo,
        point_ms: i64,
    ) -> Result<(SnapshotMeta, u64), StoreError> {
        let checkpoints = self
            .store
            .list(&checkpoint_dir(&self.name, snapshot))
            .await?;
        let newest = checkpoints
            .iter()
            .filter_map(|e| Some((parse_pair(file_name(&e.key))?, &e.key)))
            .filter(|((_, time), _)| *time <= point_ms)
            .max_by_key(|((seq, _), _)| *seq);
        let (mut meta, mut seq) = match newest {
            Some(((seq, _), key)) => {
                let body = self.read_checked(key).await?;
                let checkpoint: Checkpoint = parse(key, &body)?;
                (checkpoint.meta, seq)
            }
            None => {
                let mut base_only = base.clone();
                if let Some(ext) = base_only.snaprock.as_mut() {
                    ext.point_ms = None;
                }
                (self.read_meta(snapshot, &base_only).await?, 0)
            }
        };
        // The batches after the checkpoint, read a few at a time (each is one small GET: read
        // one by one, their round trips would add up), applied in order up to the point.
        let mut wanted = Vec::new();
        for (first, last, key) in self.log_batches(snapshot).await? {
            if last <= seq {
                continue;
            }
            let expected_first = wanted.last().map_or(seq + 1, |(_, last, _)| last + 1);
            if first > expected_first {
                return Err(StoreError::Other(format!(
                    "the log of continuous snapshot {snapshot} misses commits {expected_first} \
                     to {}",
                    first - 1
                )));
            }
            wanted.push((first, last, key));
        }
        let mut batches = futures::stream::iter(wanted)
            .map(|(_, _, key)| self.read_batch(key))
            .buffered(BATCH_READS_IN_FLIGHT);
        'batches: while let Some(batch) = batches.next().await {
            for commit in &batch?.commits {
                if commit.seq <= seq {
                    continue;
                }
                if commit.time_ms > point_ms {
                    break 'batches;
                }
                apply(&mut meta, commit);
                seq = commit.seq;
            }
        }
        Ok((meta, seq))
    }

    /// The log's batches as (first seq, last seq, key), in sequence order.
    async fn log_batches(&self, snapshot: &str) -> Result<Vec<(u64, u64, String)>, StoreError> {
        let mut batches: Vec<_> = self
            .store
            .list(&log_dir(&self.name, snapshot))
            .await?
            .into_iter()
            .filter_map(|e| {
                let (first, last) = parse_pair(file_name(&e.key))?;
                Some((first, last as u64, e.key))
            })
            .collect();
        batches.sort();
        Ok(batches)
    }

    /// The keys of every data file a continuous snapshot names at any point.
    pub(crate) async fn continuous_files(
        &self,
        snapshot: &str,
        base: &SnapshotInfo,
    ) -> Result<HashSet<String>, StoreError> {
        let mut base_only = base.clone();
        if let Some(ext) = base_only.snaprock.as_mut() {
            ext.point_ms = None;
        }
        let meta = self.read_meta(snapshot, &base_only).await?;
        let mut keys: HashSet<String> = meta.files().into_iter().map(|f| f.key.clone()).collect();
        let mut batches = futures::stream::iter(self.log_batches(snapshot).await?)
            .map(|(_, _, key)| self.read_batch(key))
            .buffer_unordered(BATCH_READS_IN_FLIGHT);
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            let files = batch
                .commits
                .iter()
                .flat_map(|c| &c.tables)
                .filter_map(|t| t.table.as_ref())
                .flat_map(|t| &t.partitions)
                .flat_map(|p| &p.files);
            keys.extend(files.map(|f| f.key.clone()));
        }
        Ok(keys)
    }

    /// One log batch, checked.
    async fn read_batch(&self, key: String) -> Result<LogBatch, StoreError> {
        let body = self.read_checked(&key).await?;
        parse(&key, &body)
    }

    /// Reads an object whose name ends with the MD5 of its bytes, and checks it.
    pub(crate) async fn read_checked(&self, key: &str) -> Result<bytes::Bytes, StoreError> {
        let body = self.store.get(key).await?;
        crate::repository::check_md5(key, &body)?;
        Ok(body)
    }
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, body: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Other(format!("{key} is not valid: {e}")))
}

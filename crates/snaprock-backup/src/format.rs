//! The repository layout and the documents in it (see `docs/snapshot-format.md`).
//!
//! ```text
//! <location>/__starrocks_repository_<repo>/
//!   __repo_info                                   {"name", "create_time"}
//!   __data/<sha256[0..2]>/<sha256>.parquet        data files, content-addressed, shared
//!   __ss_<snapshot>/__meta.<md5>                  schema, partitions, file list (JSON)
//!   __ss_<snapshot>/__info_<yyyy-MM-dd-HH-mm-ss-SSS>.<md5>   written last: the commit point
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Local, TimeZone};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use snaprock_storage::{ColumnMeta, DistributionMeta, KeysModel, PartitionBounds, Partitioning};

use crate::store::hex;

/// The name of our snapshot format, in every meta file.
pub const FORMAT_NAME: &str = "snaprock-snapshot";
pub const FORMAT_VERSION: u32 = 1;
/// The `meta_version` / `starrocks_meta_version` StarRocks 3.x writes into info files.
pub const META_VERSION: u32 = 92;
pub const STARROCKS_META_VERSION: u32 = 4;

/// The directory of a repository, relative to its location.
pub fn repo_root(repo: &str) -> String {
    format!("__starrocks_repository_{repo}/")
}

pub fn repo_info_key(repo: &str) -> String {
    format!("{}__repo_info", repo_root(repo))
}

pub fn data_prefix(repo: &str) -> String {
    format!("{}__data/", repo_root(repo))
}

/// The key of a data file, relative to the repository root.
pub fn data_file_key(sha256: &str) -> String {
    let shard = sha256.get(..2).unwrap_or("00");
    format!("__data/{shard}/{sha256}.parquet")
}

pub fn snapshot_dir(repo: &str, snapshot: &str) -> String {
    format!("{}__ss_{snapshot}/", repo_root(repo))
}

/// `<name>.<md5 of body>`, the checksum-suffixed names StarRocks uses for meta and info files.
pub fn with_md5(name: &str, body: &[u8]) -> String {
    format!("{name}.{}", md5_hex(body))
}

pub fn md5_hex(body: &[u8]) -> String {
    hex(&Md5::digest(body))
}

/// Splits `<name>.<md5>`; `None` when the suffix is not 32 hex digits.
pub fn split_md5(file_name: &str) -> Option<(&str, &str)> {
    let (name, sum) = file_name.rsplit_once('.')?;
    (sum.len() == 32 && sum.bytes().all(|b| b.is_ascii_hexdigit())).then_some((name, sum))
}

/// The snapshot timestamp of an info file name: `yyyy-MM-dd-HH-mm-ss-SSS`.
pub fn snapshot_timestamp(ms: i64) -> String {
    local_time(ms).format("%Y-%m-%d-%H-%M-%S-%3f").to_string()
}

/// The instant of a `backup_timestamp` (`yyyy-MM-dd-HH-mm-ss-SSS`, local time), if valid.
pub fn parse_snapshot_timestamp(text: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d-%H-%M-%S-%3f").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
}

/// The time format of SHOW output: `yyyy-MM-dd HH:mm:ss`.
pub fn show_time(ms: i64) -> String {
    local_time(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn local_time(ms: i64) -> DateTime<Local> {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Local::now)
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `__repo_info`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoInfo {
    pub name: String,
    pub create_time: String,
}

/// One data file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// Key relative to the repository root (`__data/ab/ab...parquet`).
    pub key: String,
    /// Rows in the file (deleted ones too: what its footer says).
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The file's rows the table no longer holds (see docs/snapshot-format.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<snaprock_storage::DeleteVector>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionSnapshot {
    pub id: u64,
    pub name: String,
    pub bounds: PartitionBounds,
    /// The partition version captured (its data as of that commit).
    pub version: u64,
    pub rows: u64,
    pub bytes: u64,
    pub files: Vec<SnapshotFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableSnapshot {
    pub id: u64,
    pub name: String,
    pub columns: Vec<ColumnMeta>,
    pub keys_model: KeysModel,
    pub key_columns: Vec<String>,
    pub partitioning: Partitioning,
    pub distribution: DistributionMeta,
    pub properties: Vec<(String, String)>,
    pub comment: Option<String>,
    /// Only the partitions that were backed up.
    pub partitions: Vec<PartitionSnapshot>,
    /// Set when the table is an asynchronous materialized view's rows: its definition and
    /// refresh state (base tables named by their source database, name and id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materialized_view: Option<snaprock_storage::MaterializedViewMeta>,
    /// The table's secondary indexes (bitmap, n-gram bloom filter) as declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<snaprock_storage::IndexMeta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewSnapshot {
    pub name: String,
    pub columns: Vec<String>,
    pub query_sql: String,
    pub comment: Option<String>,
}

/// `__meta.<md5>`: everything needed to restore the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub format: String,
    pub format_version: u32,
    pub snapshot: String,
    pub database: String,
    pub database_id: u64,
    /// Epoch milliseconds of the job's creation (the timestamp's instant).
    pub backup_time: i64,
    pub timestamp: String,
    pub tables: Vec<TableSnapshot>,
    pub views: Vec<ViewSnapshot>,
}

impl SnapshotMeta {
    /// Distinct data files (a file shared by two partitions is stored once).
    pub fn files(&self) -> Vec<&SnapshotFile> {
        let mut seen = BTreeMap::new();
        for table in &self.tables {
            for partition in &table.partitions {
                for file in &partition.files {
                    seen.entry(file.key.as_str()).or_insert(file);
                }
            }
        }
        seen.into_values().collect()
    }
}

/// The part of an info file that snaprock adds to StarRocks' keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InfoExtension {
    pub format: String,
    pub format_version: u32,
    /// The meta file's name inside the snapshot directory.
    pub meta_file: String,
    pub files: u64,
    pub bytes: u64,
    pub rows: u64,
    /// A continuous snapshot: its log follows the first snapshot (see `continuous/`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continuous: bool,
    /// Set (never written) when this info describes a point of a continuous snapshot: the
    /// meta is rebuilt as of this time (epoch ms) rather than read from `meta_file`.
    #[serde(default, skip_serializing)]
    pub point_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PartitionInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub partitions: BTreeMap<String, PartitionInfo>,
    /// The object is a materialized view (restored by `MATERIALIZED VIEW name`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized_view: bool,
    /// A synchronous materialized view: the table it is restored with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_of: Option<String>,
}

/// `__info_<ts>.<md5>`: StarRocks' BackupJobInfo keys, plus `snaprock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub name: String,
    pub database: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub backup_time: i64,
    pub meta_version: u32,
    pub starrocks_meta_version: u32,
    pub backup_result: String,
    pub backup_objects: BTreeMap<String, ObjectInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snaprock: Option<InfoExtension>,
    /// StarRocks 4.2: the server (cluster) that wrote the snapshot; only it drops it without
    /// FORCE, and only its sweeper expires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Epoch milliseconds at which the snapshot was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<i64>,
    /// The `ttl` property as written (`7 DAY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Epoch milliseconds after which the snapshot is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<i64>,
}

impl SnapshotInfo {
    pub fn from_meta(meta: &SnapshotMeta, meta_file: String) -> Self {
        let mut objects = BTreeMap::new();
        for table in &meta.tables {
            let partitions = table
                .partitions
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        PartitionInfo {
                            id: Some(p.id),
                            version: Some(p.version),
                        },
                    )
                })
                .collect();
            objects.insert(
                table.name.clone(),
                ObjectInfo {
                    id: Some(table.id),
                    partitions,
                    materialized_view: table.materialized_view.is_some(),
                    rollup_of: table
                        .materialized_view
                        .as_ref()
                        .and_then(|v| v.rollup_of())
                        .map(|b| b.table.clone()),
                },
            );
        }
        for view in &meta.views {
            objects.insert(view.name.clone(), ObjectInfo::default());
        }
        let files = meta.files();
        SnapshotInfo {
            name: meta.snapshot.clone(),
            database: meta.database.clone(),
            id: Some(meta.database_id),
            backup_time: meta.backup_time,
            meta_version: META_VERSION,
            starrocks_meta_version: STARROCKS_META_VERSION,
            backup_result: "succeed".to_string(),
            backup_objects: objects,
            cluster_id: None,
            finish_time: None,
            ttl: None,
            expire_time: None,
            snaprock: Some(InfoExtension {
                format: FORMAT_NAME.to_string(),
                format_version: FORMAT_VERSION,
                meta_file,
                files: files.len() as u64,
                bytes: files.iter().map(|f| f.bytes).sum(),
                rows: meta
                    .tables
                    .iter()
                    .flat_map(|t| &t.partitions)
                    .map(|p| p.rows)
                    .sum(),
                continuous: false,
                point_ms: None,
            }),
        }
    }

    /// The brief JSON of SHOW SNAPSHOT's Details: names only, indented by one space; a
    /// continuous snapshot adds its restorable range.
    pub fn brief(&self, range: Option<crate::continuous::read::RestorableRange>) -> String {
        let objects: serde_json::Map<String, serde_json::Value> = self
            .backup_objects
            .iter()
            .map(|(name, object)| {
                let partitions: serde_json::Map<String, serde_json::Value> = object
                    .partitions
                    .keys()
                    .map(|p| (p.clone(), serde_json::json!({})))
                    .collect();
                (
                    name.clone(),
                    serde_json::json!({ "partitions": partitions }),
                )
            })
            .collect();
        let brief = serde_json::json!({
            "backup_objects": objects,
            "meta_version": self.meta_version,
            "name": self.name,
            "database": self.database,
            "backup_time": self.backup_time,
            "backup_result": self.backup_result,
            "starrocks_meta_version": self.starrocks_meta_version,
        });
        let mut brief = brief;
        if let (Some(range), Some(map)) = (range, brief.as_object_mut()) {
            map.insert(
                "restorable_range".to_string(),
                serde_json::json!({
                    "from": snapshot_timestamp(range.from_ms),
                    "to": snapshot_timestamp(range.until_ms),
                    "running": !range.stopped,
                }),
            );
        }
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        match brief.serialize(&mut ser) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => brief.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_checksums() {
        let name = with_md5("__info_2023-02-07-14-45-53-143", b"{}");
        let (base, sum) = split_md5(&name).unwrap();
        assert_eq!(base, "__info_2023-02-07-14-45-53-143");
        assert_eq!(sum, md5_hex(b"{}"));
        assert_eq!(split_md5("__info_x.part"), None);
        assert_eq!(
            data_file_key("abcdef"),
            "__data/ab/abcdef.parquet".to_string()
        );
        let ts = snapshot_timestamp(1_675_781_153_143);
        assert_eq!(ts.len(), "2023-02-07-14-45-53-143".len());
        assert!(ts.ends_with("-143"), "{ts}");
        assert_eq!(parse_snapshot_timestamp(&ts), Some(1_675_781_153_143));
        assert_eq!(parse_snapshot_timestamp("2023-02-07"), None);
    }
}

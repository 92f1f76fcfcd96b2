//! The catalog's data model: what is persisted in `catalog.json`.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::locations::FileHome;
use crate::types::{ColumnType, SQL_TYPE_METADATA_KEY};

/// One immutable state of the whole catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CatalogState {
    /// Incremented by every commit.
    pub version: u64,
    /// Next id for databases, tables and partitions.
    pub next_id: u64,
    pub databases: BTreeMap<String, Arc<DatabaseMeta>>,
    /// Ids of the latest restore jobs this catalog committed (newest last, bounded): after a
    /// crash, a job found here was committed even if its own record says otherwise.
    #[serde(default)]
    pub restore_commits: Vec<u64>,
    /// The loads each database committed, by label: a label is used once (see `loads.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub loads: BTreeMap<String, Arc<crate::loads::LoadHistory>>,
    /// Labels as catalogs written before load records kept them (commit times in ms); read
    /// once and turned into `loads` at open.
    #[serde(default, rename = "labels", skip_serializing)]
    pub legacy_labels: BTreeMap<String, BTreeMap<String, i64>>,
    /// Data files a job keeps across a restart, by the job that holds them, as paths relative
    /// to the data root: a backup's captured files until they are uploaded, a restore's
    /// downloads until they are committed. Held files are neither deleted as orphans at open
    /// nor swept when no state lists them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held_files: BTreeMap<String, Vec<String>>,
    /// Continuous backups' watches, by the job that owns them (see `watch.rs`); their pending
    /// commits' files are held like `held_files`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commit_watches: BTreeMap<String, crate::watch::CommitWatch>,
    /// What DROP without FORCE kept (see `recycle.rs`).
    #[serde(default, skip_serializing_if = "crate::recycle::RecycleBin::is_empty")]
    pub recycle_bin: crate::recycle::RecycleBin,
    /// CREATE STORAGE VOLUME's volumes (see `storage_volume.rs`).
    #[serde(
        default,
        skip_serializing_if = "crate::storage_volume::StorageVolumes::is_empty"
    )]
    pub storage_volumes: crate::storage_volume::StorageVolumes,
}

/// How many restore job ids `CatalogState::restore_commits` keeps.
const RESTORE_COMMITS_KEPT: usize = 256;

impl CatalogState {
    /// Records that restore job `job_id` is committed by this state.
    pub fn record_restore_commit(&mut self, job_id: u64) {
        self.restore_commits.push(job_id);
        let excess = self
            .restore_commits
            .len()
            .saturating_sub(RESTORE_COMMITS_KEPT);
        self.restore_commits.drain(..excess);
    }

    /// Every relative path a job keeps: held files and the files of watches' pending commits.
    pub fn held_paths(&self) -> impl Iterator<Item = &str> {
        self.held_files
            .values()
            .flatten()
            .map(String::as_str)
            .chain(
                self.commit_watches
                    .values()
                    .flat_map(crate::watch::CommitWatch::pending_paths),
            )
    }

    pub fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn database(&self, name: &str) -> Option<&Arc<DatabaseMeta>> {
        self.databases.get(name)
    }

    pub fn table(&self, database: &str, table: &str) -> Option<&Arc<TableMeta>> {
        self.databases.get(database)?.tables.get(table)
    }

    /// The table, or `UnknownTable` naming it.
    pub fn table_or_err(
        &self,
        database: &str,
        table: &str,
    ) -> Result<Arc<TableMeta>, crate::StorageError> {
        self.table(database, table)
            .cloned()
            .ok_or_else(|| crate::StorageError::UnknownTable {
                database: database.to_string(),
                table: table.to_string(),
            })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseMeta {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub tables: BTreeMap<String, Arc<TableMeta>>,
    pub views: BTreeMap<String, Arc<ViewMeta>>,
    /// Set for a snapshot attached as a read-only database (its files are in the repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached: Option<AttachedSnapshot>,
    /// The storage volume its new tables are placed on (`PROPERTIES ("storage_volume" = ...)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_volume: Option<String>,
    /// Set for a database another server writes, shown read-only here: the storage volume
    /// (this server's name for it) whose published catalog it mirrors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_volume: Option<String>,
}

/// The snapshot a read-only database reads (`CREATE DATABASE d FROM SNAPSHOT s ON repo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedSnapshot {
    pub repository: String,
    pub snapshot: String,
    /// The snapshot's `backup_timestamp`.
    pub timestamp: String,
}

impl DatabaseMeta {
    /// Refuses any change to an attached snapshot or a database another server writes.
    pub fn check_writable(&self) -> crate::Result<()> {
        if let Some(volume) = &self.followed_volume {
            return Err(crate::StorageError::ReadOnlyFollowedDatabase {
                database: self.name.clone(),
                volume: volume.clone(),
            });
        }
        match &self.attached {
            None => Ok(()),
            Some(a) => Err(crate::StorageError::ReadOnlySnapshotDatabase {
                database: self.name.clone(),
                snapshot: a.snapshot.clone(),
                repository: a.repository.clone(),
            }),
        }
    }

    /// Whether the database is read-only here (an attached snapshot or a followed database).
    pub fn is_read_only(&self) -> bool {
        self.attached.is_some() || self.followed_volume.is_some()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewMeta {
    pub name: String,
    /// Column names given in `CREATE VIEW v (a, b)`; empty when the query names them.
    pub columns: Vec<String>,
    /// The view's query as written.
    pub query_sql: String,
    pub comment: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeysModel {
    Duplicate,
    Primary,
    Unique,
    Aggregate,
}

impl KeysModel {
    pub fn sql(self) -> &'static str {
        match self {
            KeysModel::Duplicate => "DUPLICATE KEY",
            KeysModel::Primary => "PRIMARY KEY",
            KeysModel::Unique => "UNIQUE KEY",
            KeysModel::Aggregate => "AGGREGATE KEY",
        }
    }

    /// Whether a row whose key exists replaces the old row.
    pub fn replaces_on_key(self) -> bool {
        matches!(self, KeysModel::Primary | KeysModel::Unique)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnMeta {
    /// The name as written at CREATE TABLE (column names match case-insensitively).
    pub name: String,
    pub column_type: ColumnType,
    pub nullable: bool,
    /// The default as SQL text (`'0'`, `CURRENT_TIMESTAMP`), if any.
    pub default: Option<String>,
    pub comment: Option<String>,
    pub is_key: bool,
    pub aggregation: Option<String>,
    pub auto_increment: bool,
}

impl ColumnMeta {
    /// The Arrow field name: the lower-cased column name.
    pub fn field_name(&self) -> String {
        self.name.to_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Partitioning {
    /// One partition named after the table.
    Unpartitioned,
    Range {
        columns: Vec<String>,
        /// Expression partitioning: partitions are made as rows arrive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto: Option<AutoPartition>,
        /// The `columns` computed from expressions (`RANGE(str2date(c, '%Y-%m-%d'))`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        generated: Vec<GeneratedPartitionColumn>,
    },
    List {
        columns: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto: Option<AutoPartition>,
        /// The `columns` computed from expressions (`from_unixtime(ts, '%Y%m%d'), city`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        generated: Vec<GeneratedPartitionColumn>,
    },
}

/// A partition key StarRocks computes from an expression over the table's columns
/// (`PARTITION BY from_unixtime(ts, '%Y%m%d'), city`). It is one of the partitioning's
/// `columns`, named `__generated_partition_column_N` as StarRocks names it; its values are
/// computed as rows are loaded and never stored, so the table's files and schema are those of
/// its own columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedPartitionColumn {
    pub name: String,
    /// The expression as SHOW CREATE TABLE writes it.
    pub expression: String,
    /// The expression after the dialect's rewrites, as DataFusion plans it over the table's
    /// columns.
    pub planned: String,
    pub column_type: ColumnType,
    /// The table columns the expression reads.
    pub sources: Vec<String>,
}

/// Names starting so are StarRocks' generated partition columns, refused as column names.
pub const GENERATED_PARTITION_COLUMN_PREFIX: &str = "__generated_partition_column_";

impl Partitioning {
    pub fn columns(&self) -> &[String] {
        match self {
            Partitioning::Unpartitioned => &[],
            Partitioning::Range { columns, .. } | Partitioning::List { columns, .. } => columns,
        }
    }

    /// The partition keys computed from expressions.
    pub fn generated(&self) -> &[GeneratedPartitionColumn] {
        match self {
            Partitioning::Unpartitioned => &[],
            Partitioning::Range { generated, .. } | Partitioning::List { generated, .. } => {
                generated
            }
        }
    }

    /// The rule that makes partitions for rows that fit none (StarRocks' expression
    /// partitioning), if the table has one.
    pub fn auto(&self) -> Option<&AutoPartition> {
        match self {
            Partitioning::Unpartitioned => None,
            Partitioning::Range { auto, .. } | Partitioning::List { auto, .. } => auto.as_ref(),
        }
    }
}

/// How an expression-partitioned table makes a partition for a row that fits none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AutoPartition {
    /// `date_trunc('unit', c)` (`step` 1) or `time_slice(c, INTERVAL step unit)`: a range
    /// partition per period of the one partition column.
    Time {
        function: String,
        unit: String,
        step: u32,
    },
    /// `PARTITION BY (c1, c2)`: a list partition per distinct value tuple.
    Values,
}

/// The rows a partition holds; bound values are canonical text of the column type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PartitionBounds {
    All,
    /// `[lower, upper)`; an empty `lower` is MINVALUE, a `None` upper is MAXVALUE. A tuple
    /// shorter than the partition columns compares on its prefix.
    Range {
        lower: Vec<String>,
        upper: Option<Vec<String>>,
    },
    /// One tuple per key the partition holds; `None` is NULL (a partition expression
    /// partitioning makes for rows whose partition column is NULL).
    List {
        values: Vec<Vec<Option<String>>>,
    },
}

impl PartitionBounds {
    /// A list value as SHOW and information_schema print it: its text, or NULL.
    pub fn list_value_text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("NULL")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the data directory's `data/` folder, or the key in its home.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    /// Hex SHA-256 of the file's bytes, computed while it was written.
    pub sha256: String,
    /// Where the bytes are (the data directory unless said otherwise).
    #[serde(default, skip_serializing_if = "FileHome::is_local")]
    pub home: FileHome,
    /// Rows of the file deleted since it was written (`rows` counts them too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<crate::DeleteVector>,
}

impl DataFile {
    /// The rows the file holds for the table: its rows less the deleted ones.
    pub fn live_rows(&self) -> u64 {
        self.rows
            .saturating_sub(self.deleted.as_ref().map_or(0, |d| d.len()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionMeta {
    pub id: u64,
    pub name: String,
    pub bounds: PartitionBounds,
    /// Incremented by every commit that changes this partition's data.
    pub version: u64,
    pub version_time: String,
    pub files: Vec<Arc<DataFile>>,
}

impl PartitionMeta {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.live_rows()).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DistributionMeta {
    Hash {
        columns: Vec<String>,
        buckets: Option<u64>,
    },
    Random {
        buckets: Option<u64>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    pub id: u64,
    pub name: String,
    pub columns: Vec<ColumnMeta>,
    pub keys_model: KeysModel,
    pub key_columns: Vec<String>,
    pub partitioning: Partitioning,
    pub partitions: Vec<PartitionMeta>,
    pub distribution: DistributionMeta,
    pub properties: Vec<(String, String)>,
    pub comment: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the table is an asynchronous materialized view's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materialized_view: Option<Arc<crate::MaterializedViewMeta>>,
    /// Secondary indexes as declared (StarRocks' bitmap and n-gram bloom filter indexes):
    /// kept, shown and backed up with the table; scans do not need them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexMeta>,
}

/// `INDEX name (column) USING BITMAP | NGRAMBF [("k" = "v")] [COMMENT '...']`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub name: String,
    pub columns: Vec<String>,
    /// `BITMAP` or `NGRAMBF`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<(String, String)>,
    #[serde(default)]
    pub comment: String,
}

impl TableMeta {
    /// The Arrow schema of the table's files and scans (lower-cased field names, SQL type in
    /// the field metadata). Fields are nullable: NOT NULL is enforced by the write path with
    /// MySQL's error, not by Arrow.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| {
                Field::new(c.field_name(), c.column_type.arrow_type(), true).with_metadata(
                    [(SQL_TYPE_METADATA_KEY.to_string(), c.column_type.sql())]
                        .into_iter()
                        .collect(),
                )
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// A column by name, case-insensitively.
    pub fn column(&self, name: &str) -> Option<(usize, &ColumnMeta)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name.eq_ignore_ascii_case(name))
    }

    pub fn partition(&self, name: &str) -> Option<&PartitionMeta> {
        self.partitions
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn rows(&self) -> u64 {
        self.partitions.iter().map(PartitionMeta::rows).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.partitions.iter().map(PartitionMeta::bytes).sum()
    }

    /// Whether the table is a synchronous materialized view's rows (listed with its base
    /// table, not among the database's tables).
    pub fn is_rollup(&self) -> bool {
        self.materialized_view
            .as_ref()
            .is_some_and(|v| v.rollup_of().is_some())
    }

    /// Indexes of the partition columns in `columns`.
    /// The type of partition key `name`: a table column or a generated partition column.
    pub fn partition_key_type(&self, name: &str) -> Option<&ColumnType> {
        match self.column(name) {
            Some((_, c)) => Some(&c.column_type),
            None => self
                .partitioning
                .generated()
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(name))
                .map(|g| &g.column_type),
        }
    }
}

//! The sink of INSERT INTO / INSERT OVERWRITE: routes rows to partitions (adding the ones
//! expression partitioning asks for), writes data files, merges keyed tables' rows by key, and
//! commits the files with the load's record in one catalog commit.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, SendableRecordBatchStream};
use futures::StreamExt;
use snaprock_storage::{
    BaseVersions, Catalog, DataFile, DataFileWriter, NewLoad, PartitionRouter, StorageError,
    TableMeta,
};

use crate::df::catalog_provider::{CommittedLoad, LoadStart, external};
use crate::df::generated_keys::CompiledKey;
use crate::df::key_merge;
use crate::{ExecError, Result};
/// Rows per data file before a new file is started.
const ROWS_PER_FILE: u64 = 8 * 1024 * 1024;

use super::dml::{PartitionChange, check_constraints, commit_table_changes, current_table};

/// INSERT INTO / INSERT OVERWRITE into one table.
pub(crate) struct InsertSink {
    catalog: Arc<Catalog>,
    database: String,
    table: Arc<TableMeta>,
    schema: SchemaRef,
    /// `Some(partitions)`: overwrite those partitions (empty: all of them).
    overwrite: Option<Vec<String>>,
    /// A materialized view's refresh: the base data the rows were computed from.
    refreshed_from: Option<BaseVersions>,
    /// The table's partition keys generated from expressions, compiled for this load.
    generated_keys: Vec<CompiledKey>,
    /// An INSERT's load: recorded in its commit (see snaprock-storage's `loads`), and reported
    /// to the statement once committed.
    load: Option<LoadStart>,
    committed_load: Arc<OnceLock<CommittedLoad>>,
}

impl std::fmt::Debug for InsertSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InsertSink({}.{})", self.database, self.table.name)
    }
}

impl DisplayAs for InsertSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InsertSink: table={}.{}", self.database, self.table.name)
    }
}

impl InsertSink {
    pub(crate) fn new(
        catalog: Arc<Catalog>,
        database: &str,
        table: Arc<TableMeta>,
        overwrite: Option<Vec<String>>,
    ) -> Self {
        InsertSink {
            schema: table.arrow_schema(),
            catalog,
            database: database.to_string(),
            table,
            overwrite,
            refreshed_from: None,
            generated_keys: Vec::new(),
            load: None,
            committed_load: Arc::default(),
        }
    }

    /// The sink of an INSERT: records `load` in its commit and reports it to `committed`.
    pub(crate) fn recording_load(
        mut self,
        load: Option<LoadStart>,
        committed: Arc<OnceLock<CommittedLoad>>,
    ) -> Self {
        self.load = load;
        self.committed_load = committed;
        self
    }

    /// The sink with the table's generated partition keys compiled (see `generated_keys`).
    pub(crate) fn with_generated_keys(mut self, keys: Vec<CompiledKey>) -> Self {
        self.generated_keys = keys;
        self
    }

    /// The partition keys of `batch`'s rows.
    fn partition_keys(&self, table: &TableMeta, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
        let generated = self
            .generated_keys
            .iter()
            .map(|k| k.evaluate(batch))
            .collect::<Result<Vec<_>>>()?;
        Ok(table.partition_keys(batch, &generated)?)
    }

    /// The sink of a materialized view's refresh from base data `versions`.
    pub(crate) fn refreshing_from(mut self, versions: BaseVersions) -> Self {
        self.refreshed_from = Some(versions);
        self
    }

    async fn insert(&self, mut data: SendableRecordBatchStream) -> Result<u64> {
        let _guard = self.catalog.lock_table(self.table.id).await;
        let table = current_table(&self.catalog, &self.database, &self.table)?;
        let mut target = self.target_partitions(&table)?;
        let mut router = PartitionRouter::new(&target)?;
        // Keyed tables merge new rows with the partition's rows (replace or aggregate by key).
        let merge_on_key = table.keys_model != snaprock_storage::KeysModel::Duplicate;
        let data_root = self.catalog.data_root().to_path_buf();

        let mut rows = 0u64;
        // By partition id: expression partitioning adds partitions while rows stream in.
        let mut writers: HashMap<u64, DataFileWriter> = HashMap::new();
        let mut finished: HashMap<u64, Vec<DataFile>> = HashMap::new();
        let mut buffered: HashMap<u64, Vec<RecordBatch>> = HashMap::new();
        while let Some(batch) = data.next().await {
            let batch = batch.map_err(ExecError::from)?;
            let batch = check_constraints(&table, batch)?;
            rows += batch.num_rows() as u64;
            let keys = self.partition_keys(&table, &batch)?;
            if self.makes_partitions() {
                let needed = snaprock_storage::partitions_for(&target, &keys)?;
                if !needed.is_empty() {
                    target = self.add_partitions(&table, &needed)?;
                    router = PartitionRouter::new(&target)?;
                }
            }
            for (index, part) in router.split(&batch, &keys)? {
                let partition_id = target.partitions[index].id;
                if merge_on_key {
                    buffered.entry(partition_id).or_default().push(part);
                    continue;
                }
                let writer = match writers.entry(partition_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(DataFileWriter::create(
                            &data_root,
                            table.id,
                            partition_id,
                            self.schema.clone(),
                        )?)
                    }
                };
                writer.write(&part)?;
                if writer.rows() >= ROWS_PER_FILE
                    && let Some(full) = writers.remove(&partition_id)
                {
                    finished
                        .entry(partition_id)
                        .or_default()
                        .push(full.finish()?);
                }
            }
        }
        for (partition_id, writer) in writers.drain() {
            finished
                .entry(partition_id)
                .or_default()
                .push(writer.finish()?);
        }
        let mut changes = Vec::new();
        for (partition_id, batches) in buffered {
            let Some(partition) = target.partitions.iter().find(|p| p.id == partition_id) else {
                continue;
            };
            let merged = key_merge::merge_partition(
                &self.catalog,
                &table,
                partition,
                &batches,
                self.overwrite.is_some(),
            )
            .await?;
            changes.push(PartitionChange {
                partition_id,
                files: merged.written.into_iter().collect(),
                kept: merged.kept,
                replace: true,
            });
        }
        for (partition_id, files) in finished {
            changes.push(PartitionChange {
                partition_id,
                files,
                kept: Vec::new(),
                replace: self.overwrite.is_some(),
            });
        }
        if self.overwrite.is_some() {
            // Overwritten partitions that received no rows become empty.
            for p in &target.partitions {
                if !changes.iter().any(|c| c.partition_id == p.id) {
                    changes.push(PartitionChange {
                        partition_id: p.id,
                        files: Vec::new(),
                        kept: Vec::new(),
                        replace: true,
                    });
                }
            }
        }
        // A load commits its record even when it brings no rows (its label is then used).
        if !changes.is_empty() || self.refreshed_from.is_some() || self.load.is_some() {
            let load = self.load.as_ref().map(|load| NewLoad {
                label: load.label.clone(),
                table: table.name.clone(),
                user: load.user.clone(),
                rows,
                bytes: changes.iter().flat_map(|c| &c.files).map(|f| f.bytes).sum(),
                created_ms: load.created_ms,
            });
            let job_id = commit_table_changes(
                &self.catalog,
                &self.database,
                &table,
                changes,
                self.refreshed_from.as_ref(),
                load,
            )
            .await?;
            if let (Some(load), Some(job_id)) = (&self.load, job_id) {
                let _ = self.committed_load.set(CommittedLoad {
                    label: load.label.clone(),
                    job_id,
                });
            }
        }
        Ok(rows)
    }

    /// The table with the partitions that may receive rows: all, or the ones named in INSERT
    /// OVERWRITE ... PARTITION.
    fn target_partitions(&self, table: &TableMeta) -> Result<TableMeta> {
        let mut target = TableMeta::clone(table);
        if let Some(names) = self.overwrite.as_ref().filter(|n| !n.is_empty()) {
            for name in names {
                if table.partition(name).is_none() {
                    return Err(StorageError::UnknownPartition {
                        table: table.name.clone(),
                        partition: name.clone(),
                    }
                    .into());
                }
            }
            target
                .partitions
                .retain(|p| names.iter().any(|n| n.eq_ignore_ascii_case(&p.name)));
        }
        Ok(target)
    }

    /// Whether rows that fit no partition make one: expression partitioning, unless the
    /// statement names the partitions it overwrites.
    fn makes_partitions(&self) -> bool {
        self.table.partitioning.auto().is_some()
            && self.overwrite.as_ref().is_none_or(|n| n.is_empty())
    }

    /// Adds the partitions rows need (one commit) and returns the table as it now is.
    fn add_partitions(
        &self,
        table: &TableMeta,
        needed: &[snaprock_storage::NewPartition],
    ) -> Result<TableMeta> {
        let now = crate::now_text();
        self.catalog.commit(|s| {
            snaprock_storage::add_partitions(s, &self.database, table.id, needed, &now)
        })?;
        let now_table = current_table(&self.catalog, &self.database, table)?;
        Ok(TableMeta::clone(&now_table))
    }
}

#[async_trait]
impl DataSink for InsertSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        self.insert(data).await.map_err(external)
    }
}

/// StarRocks' label for an INSERT that names none: `insert_` and a random UUID.
pub(crate) fn generated_label() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "insert_{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

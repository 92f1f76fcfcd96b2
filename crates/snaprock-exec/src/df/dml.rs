//! Write paths: INSERT (append, overwrite, replace-on-key) and DELETE.
//!
//! Each write takes the table's write lock, writes new Parquet files next to the old ones, and
//! commits the new file lists of every touched partition in one catalog commit. A failure
//! before the commit deletes the new files; the table is unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, SendableRecordBatchStream};
use futures::StreamExt;
use snaprock_storage::{
    BaseVersions, Catalog, ColumnType, DataFile, DataFileWriter, PartitionRouter, StorageError,
    TableMeta,
};

use crate::df::catalog_provider::external;
use crate::df::generated_keys::CompiledKey;
use crate::df::key_merge;
use crate::{ExecError, Result};

/// Rows per data file before a new file is started.
const ROWS_PER_FILE: u64 = 8 * 1024 * 1024;

/// The table as it is now, after taking its write lock (it may have changed since planning).
fn current_table(catalog: &Catalog, database: &str, planned: &TableMeta) -> Result<Arc<TableMeta>> {
    let state = catalog.snapshot();
    match state.table(database, &planned.name) {
        Some(t) if t.id == planned.id => Ok(t.clone()),
        _ => Err(ExecError::UnknownTable(format!(
            "{database}.{}",
            planned.name
        ))),
    }
}

/// New files for some partitions: either added to, or replacing, their current files.
pub(crate) struct PartitionChange {
    pub partition_id: u64,
    /// Files written by this change (removed again if it is not committed).
    pub files: Vec<DataFile>,
    /// With `replace`: files the partition already has that stay, their delete vectors
    /// perhaps grown (see `key_merge`).
    pub kept: Vec<Arc<DataFile>>,
    pub replace: bool,
}

/// Commits file changes to partitions of one table in one catalog commit.
pub(crate) async fn commit_partition_changes(
    catalog: &Catalog,
    database: &str,
    table: &TableMeta,
    changes: Vec<PartitionChange>,
) -> Result<()> {
    commit_table_changes(catalog, database, table, changes, None, None).await
}

/// Commits file changes to partitions of one table, and for a materialized view's refresh the
/// base data its new rows were computed from, in one catalog commit: a view's rows and what
/// they reflect never disagree, whatever the order concurrent refreshes commit in. The new
/// files of a table on a storage volume are published to it first.
async fn commit_table_changes(
    catalog: &Catalog,
    database: &str,
    table: &TableMeta,
    mut changes: Vec<PartitionChange>,
    refreshed_from: Option<&BaseVersions>,
    label: Option<&str>,
) -> Result<()> {
    let now = crate::now_text();
    let mut published = Ok(());
    for change in &mut changes {
        published = catalog.publish(table, &mut change.files).await;
        if published.is_err() {
            break;
        }
    }
    let new_files = |changes: &[PartitionChange]| -> Vec<DataFile> {
        changes
            .iter()
            .flat_map(|c| c.files.iter().cloned())
            .collect()
    };
    if let Err(e) = published {
        catalog.discard_new_files(&new_files(&changes));
        return Err(e.into());
    }
    let result = catalog.commit(|s| {
        if let Some(label) = label {
            snaprock_storage::claim_label(
                s,
                database,
                label,
                chrono::Utc::now().timestamp_millis(),
            )?;
        }
        let db = s
            .databases
            .get_mut(database)
            .ok_or(StorageError::Conflict)?;
        let db = Arc::make_mut(db);
        let t = db
            .tables
            .get_mut(&table.name)
            .ok_or(StorageError::Conflict)?;
        if t.id != table.id {
            return Err(StorageError::Conflict);
        }
        let t = Arc::make_mut(t);
        for change in &changes {
            let p = t
                .partitions
                .iter_mut()
                .find(|p| p.id == change.partition_id)
                .ok_or(StorageError::Conflict)?;
            if change.replace {
                p.files.clear();
                p.files.extend(change.kept.iter().cloned());
            }
            p.files.extend(change.files.iter().cloned().map(Arc::new));
            p.version += 1;
            p.version_time = now.clone();
        }
        t.updated_at = now.clone();
        if let Some(from) = refreshed_from {
            let view = t.materialized_view.as_mut().ok_or(StorageError::Conflict)?;
            Arc::make_mut(view).refreshed_from = Some(from.clone());
        }
        Ok(())
    });
    if result.is_err() {
        catalog.discard_new_files(&new_files(&changes));
    }
    Ok(result?)
}

/// Checks NOT NULL, string lengths and JSON validity of incoming rows, and writes JSON values
/// as StarRocks prints them (it stores JSON parsed, so `'{"a":1}'` reads back `{"a": 1}`).
pub(crate) fn check_constraints(table: &TableMeta, batch: RecordBatch) -> Result<RecordBatch> {
    check_values(table, &batch)?;
    normalize_json(table, batch)
}

/// JSON columns' values in StarRocks' text.
fn normalize_json(table: &TableMeta, batch: RecordBatch) -> Result<RecordBatch> {
    let json_columns: Vec<usize> = (0..table.columns.len())
        .filter(|i| table.columns[*i].column_type == ColumnType::Json)
        .collect();
    if json_columns.is_empty() {
        return Ok(batch);
    }
    let mut columns = batch.columns().to_vec();
    for i in json_columns {
        let Some(strings) = columns[i].as_string_opt::<i32>() else {
            continue;
        };
        let normalized: datafusion::arrow::array::StringArray = strings
            .iter()
            .map(|v| {
                v.map(
                    |text| match serde_json::from_str::<serde_json::Value>(text) {
                        Ok(value) => crate::df::starrocks_functions::json_text(&value),
                        Err(_) => text.to_string(),
                    },
                )
            })
            .collect();
        columns[i] = Arc::new(normalized);
    }
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

fn check_values(table: &TableMeta, batch: &RecordBatch) -> Result<()> {
    for (i, column) in table.columns.iter().enumerate() {
        let array = batch.column(i);
        if !column.nullable && array.null_count() > 0 {
            return Err(StorageError::NullInNotNullColumn(column.name.clone()).into());
        }
        let max_chars = match column.column_type {
            ColumnType::Char { length } | ColumnType::Varchar { length } => Some(length as usize),
            _ => None,
        };
        if max_chars.is_none() && column.column_type != ColumnType::Json {
            continue;
        }
        let Some(strings) = array.as_string_opt::<i32>() else {
            continue;
        };
        for (row, value) in strings.iter().enumerate() {
            let Some(value) = value else { continue };
            if let Some(max) = max_chars {
                // Bytes bound chars from above: count chars only when the bytes exceed the limit.
                if value.len() > max && value.chars().count() > max {
                    return Err(ExecError::DataTooLong {
                        column: column.name.clone(),
                        row: row + 1,
                    });
                }
            }
            if column.column_type == ColumnType::Json
                && serde_json::from_str::<serde_json::Value>(value).is_err()
            {
                return Err(ExecError::InvalidValue(format!(
                    "Invalid JSON text in column '{}' at row {}",
                    column.name,
                    row + 1
                )));
            }
        }
    }
    Ok(())
}

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
    /// `INSERT ... WITH LABEL l`: claimed in the load's commit (see snaprock-storage's labels).
    label: Option<String>,
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
            label: None,
        }
    }

    /// The sink of a load with a label.
    pub(crate) fn with_label(mut self, label: Option<String>) -> Self {
        self.label = label;
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
        // A labelled load commits its label even when it brings no rows.
        if !changes.is_empty() || self.refreshed_from.is_some() || self.label.is_some() {
            commit_table_changes(
                &self.catalog,
                &self.database,
                &table,
                changes,
                self.refreshed_from.as_ref(),
                self.label.as_deref(),
            )
            .await?;
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

/// Removes column qualifiers (`t.a` → `a`) so filters evaluate against the table's schema.
fn unqualify(expr: Expr) -> DfResult<Expr> {
    expr.transform(|e| {
        Ok(match e {
            Expr::Column(c) if c.relation.is_some() => {
                Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
            }
            other => Transformed::no(other),
        })
    })
    .map(|t| t.data)
}

/// DELETE FROM table WHERE filters: the matching rows are added to their files' delete
/// vectors (no file is rewritten; a file left without rows goes).
pub(crate) async fn delete_rows(
    catalog: &Arc<Catalog>,
    database: &str,
    planned: &TableMeta,
    state: &dyn Session,
    filters: Vec<Expr>,
) -> Result<u64> {
    let _guard = catalog.lock_table(planned.id).await;
    let table = current_table(catalog, database, planned)?;
    let schema = table.arrow_schema();
    let predicate = match conjunction(filters) {
        Some(p) => Some(unqualify(p)?),
        None => None,
    };
    let physical = match &predicate {
        Some(p) => {
            let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
            Some(state.create_physical_expr(p.clone(), &df_schema)?)
        }
        None => None,
    };
    let mut deleted = 0u64;
    let mut changes = Vec::new();
    for partition in &table.partitions {
        if partition.files.is_empty() {
            continue;
        }
        let Some(physical) = &physical else {
            deleted += partition.rows();
            changes.push(PartitionChange {
                partition_id: partition.id,
                files: Vec::new(),
                kept: Vec::new(),
                replace: true,
            });
            continue;
        };
        let mut kept = Vec::new();
        let mut removed_here = 0u64;
        for file in &partition.files {
            let matches = |batch: &RecordBatch| -> Result<Vec<bool>> {
                let matches = physical.evaluate(batch)?.into_array(batch.num_rows())?;
                let matches = matches
                    .as_boolean_opt()
                    .ok_or_else(|| ExecError::Plan("DELETE condition is not a boolean".into()))?;
                // NULL is not a match.
                Ok((0..matches.len())
                    .map(|i| matches.is_valid(i) && matches.value(i))
                    .collect())
            };
            let (file, removed) =
                key_merge::delete_rows_of_file(catalog, file, None, matches).await?;
            kept.extend(file);
            removed_here += removed;
        }
        if removed_here == 0 {
            continue;
        }
        deleted += removed_here;
        changes.push(PartitionChange {
            partition_id: partition.id,
            files: Vec::new(),
            kept,
            replace: true,
        });
    }
    if !changes.is_empty() {
        commit_partition_changes(catalog, database, &table, changes).await?;
    }
    Ok(deleted)
}

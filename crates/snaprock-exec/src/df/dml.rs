//! Write paths: INSERT (append, overwrite, replace-on-key) and DELETE.
//!
//! Each write takes the table's write lock, writes new Parquet files next to the old ones, and
//! commits the new file lists of every touched partition in one catalog commit. A failure
//! before the commit deletes the new files; the table is unchanged.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use snaprock_storage::{
    BaseVersions, Catalog, ColumnType, DataFile, NewLoad, StorageError, TableMeta,
};

use crate::df::key_merge;
use crate::{ExecError, Result};

/// The table as it is now, after taking its write lock (it may have changed since planning).
pub(super) fn current_table(
    catalog: &Catalog,
    database: &str,
    planned: &TableMeta,
) -> Result<Arc<TableMeta>> {
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
    commit_table_changes(catalog, database, table, changes, None, None).await?;
    Ok(())
}

/// Commits file changes to partitions of one table, and for a materialized view's refresh the
/// base data its new rows were computed from, in one catalog commit: a view's rows and what
/// they reflect never disagree, whatever the order concurrent refreshes commit in. The new
/// files of a table on a storage volume are published to it first.
pub(super) async fn commit_table_changes(
    catalog: &Catalog,
    database: &str,
    table: &TableMeta,
    mut changes: Vec<PartitionChange>,
    refreshed_from: Option<&BaseVersions>,
    load: Option<NewLoad>,
) -> Result<Option<u64>> {
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
        let job_id = match load {
            Some(load) => Some(snaprock_storage::record_load(
                s,
                database,
                load,
                chrono::Utc::now().timestamp_millis(),
            )?),
            None => None,
        };
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
        Ok(job_id)
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

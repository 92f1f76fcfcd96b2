//! How new rows meet the rows a keyed table already holds: PRIMARY and UNIQUE KEY tables
//! replace rows by key (the last new row of a key wins), AGGREGATE KEY tables fold rows of one
//! key into one with each value column's aggregation (SUM, MAX, MIN, REPLACE,
//! REPLACE_IF_NOT_NULL).
//!
//! A PRIMARY/UNIQUE KEY upsert writes only the new rows: the rows they replace are marked in
//! their files' delete vectors, the files themselves stay (StarRocks' primary-key tables work
//! the same way; compaction folds the vectors in later). An AGGREGATE KEY load rewrites the
//! partition as one file, as folding needs the old values. The caller commits the result with
//! the rest of the load.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::{
    CastOptions, cast_with_options, concat_batches, filter_record_batch,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Column;
use datafusion::functions_aggregate::expr_fn::{last_value, max, min, sum};
use datafusion::functions_aggregate::first_last::last_value_udaf;
use datafusion::logical_expr::{Expr, ExprFunctionExt};
use datafusion::prelude::SessionContext;
use snaprock_storage::{
    Catalog, DataFile, DataFileWriter, DeleteVector, KeysModel, PartitionMeta, TableMeta,
};

use crate::{ExecError, Result};

/// The column that orders rows by arrival for REPLACE (old rows first, new rows in order).
const ARRIVAL: &str = "__snaprock_arrival";

/// What a merge leaves in a partition: its files that stay (delete vectors perhaps grown)
/// and the file written, if any rows are new.
pub(crate) struct Merged {
    pub kept: Vec<Arc<DataFile>>,
    pub written: Option<DataFile>,
}

/// Merges `new_batches` into `partition` as the table's keys model says; with `overwrite`
/// the partition's current rows are dropped instead.
pub(crate) async fn merge_partition(
    catalog: &Catalog,
    table: &TableMeta,
    partition: &PartitionMeta,
    new_batches: &[RecordBatch],
    overwrite: bool,
) -> Result<Merged> {
    if table.keys_model == KeysModel::Aggregate {
        let written = merge_aggregate(catalog, table, partition, new_batches, overwrite).await?;
        return Ok(Merged {
            kept: Vec::new(),
            written,
        });
    }
    merge_on_key(catalog, table, partition, new_batches, overwrite).await
}

/// PRIMARY/UNIQUE KEY tables: new rows replace existing rows with the same key (the last new
/// row of a key wins). Writes the new rows; the replaced ones are deleted in place.
async fn merge_on_key(
    catalog: &Catalog,
    table: &TableMeta,
    partition: &PartitionMeta,
    new_batches: &[RecordBatch],
    overwrite: bool,
) -> Result<Merged> {
    let schema = table.arrow_schema();
    // In file order: the old rows are read with the key columns only, in that order.
    let mut key_indexes: Vec<usize> = table
        .key_columns
        .iter()
        .filter_map(|k| table.column(k).map(|(i, _)| i))
        .collect();
    key_indexes.sort_unstable();
    key_indexes.dedup();
    let converter = RowConverter::new(
        key_indexes
            .iter()
            .map(|i| SortField::new(schema.field(*i).data_type().clone()))
            .collect(),
    )?;
    let new_rows = concat_batches(&schema, new_batches)?;
    let key_columns: Vec<_> = key_indexes
        .iter()
        .map(|i| new_rows.column(*i).clone())
        .collect();
    let keys = converter.convert_columns(&key_columns)?;
    // Keep the last occurrence of each key among the new rows.
    let mut seen = HashSet::new();
    let mut keep = vec![false; new_rows.num_rows()];
    for row in (0..new_rows.num_rows()).rev() {
        if seen.insert(keys.row(row).as_ref().to_vec()) {
            keep[row] = true;
        }
    }
    let new_rows = filter_record_batch(&new_rows, &BooleanArray::from(keep))?;
    let mut kept = Vec::new();
    if !overwrite {
        for file in &partition.files {
            // `batch` holds the key columns alone.
            let replaced = |batch: &RecordBatch| -> Result<Vec<bool>> {
                let keys = converter.convert_columns(batch.columns())?;
                Ok((0..batch.num_rows())
                    .map(|r| seen.contains(keys.row(r).as_ref()))
                    .collect())
            };
            let columns = Some(key_indexes.as_slice());
            kept.extend(
                delete_rows_of_file(catalog, file, columns, replaced)
                    .await?
                    .0,
            );
        }
    }
    let mut writer =
        DataFileWriter::create(catalog.data_root(), table.id, partition.id, schema.clone())?;
    writer.write(&new_rows)?;
    let written = if writer.rows() == 0 {
        writer.abort();
        None
    } else {
        Some(writer.finish()?)
    };
    Ok(Merged { kept, written })
}

/// `file` with the rows `matches` picks (among those not yet deleted) added to its delete
/// vector, and how many it added; `None` for the file when no row remains. `matches` sees
/// the file's rows, with only `columns` when given (ascending indexes).
pub(crate) async fn delete_rows_of_file(
    catalog: &Catalog,
    file: &Arc<DataFile>,
    columns: Option<&[usize]>,
    mut matches: impl FnMut(&RecordBatch) -> Result<Vec<bool>>,
) -> Result<(Option<Arc<DataFile>>, u64)> {
    let mut positions = Vec::new();
    let mut start = 0u32;
    for batch in catalog.read_file_in_full(file, columns).await? {
        for (row, hit) in matches(&batch)?.into_iter().enumerate() {
            let position = start + row as u32;
            if hit && !file.deleted.as_ref().is_some_and(|d| d.contains(position)) {
                positions.push(position);
            }
        }
        start += batch.num_rows() as u32;
    }
    let added = positions.len() as u64;
    if positions.is_empty() {
        return Ok((Some(file.clone()), 0));
    }
    let added_vector = DeleteVector::from_positions(positions);
    let deleted = match &file.deleted {
        Some(d) => d.union(&added_vector),
        None => added_vector,
    };
    let updated = DataFile {
        deleted: Some(deleted),
        ..DataFile::clone(file)
    };
    Ok(((updated.live_rows() > 0).then(|| Arc::new(updated)), added))
}

/// AGGREGATE KEY tables: the partition's rows and the new rows, grouped by key, each value
/// column folded with its aggregation.
async fn merge_aggregate(
    catalog: &Catalog,
    table: &TableMeta,
    partition: &PartitionMeta,
    new_batches: &[RecordBatch],
    overwrite: bool,
) -> Result<Option<DataFile>> {
    let schema = table.arrow_schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(ARRIVAL, DataType::UInt64, false));
    let with_arrival = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    if !overwrite {
        for file in &partition.files {
            batches.extend(catalog.read_file(file).await?);
        }
    }
    batches.extend(new_batches.iter().cloned());
    let mut numbered = Vec::with_capacity(batches.len());
    let mut next = 0u64;
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let rows = batch.num_rows() as u64;
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from_iter_values(next..next + rows)));
        next += rows;
        numbered.push(RecordBatch::try_new(with_arrival.clone(), columns)?);
    }
    if numbered.is_empty() {
        return Ok(None);
    }
    let column = |name: String| Expr::Column(Column::new_unqualified(name));
    let mut groups = Vec::new();
    let mut aggregates = Vec::new();
    for meta in &table.columns {
        let field = meta.field_name();
        if meta.is_key {
            groups.push(column(field));
            continue;
        }
        let value = column(field.clone());
        let by_arrival = vec![column(ARRIVAL.to_string()).sort(true, false)];
        let folded = match meta.aggregation.as_deref().unwrap_or("REPLACE") {
            "SUM" => sum(value),
            "MAX" => max(value),
            "MIN" => min(value),
            "REPLACE" => last_value(value, by_arrival),
            "REPLACE_IF_NOT_NULL" => last_value_udaf()
                .call(vec![value.clone()])
                .order_by(by_arrival)
                .filter(value.is_not_null())
                .build()?,
            other => {
                return Err(ExecError::Unsupported(format!(
                    "{other} aggregation of column {}",
                    meta.name
                )));
            }
        };
        aggregates.push(folded.alias(field));
    }
    let merged = SessionContext::new()
        .read_batches(numbered)?
        .aggregate(groups, aggregates)?
        .collect()
        .await?;
    let mut writer =
        DataFileWriter::create(catalog.data_root(), table.id, partition.id, schema.clone())?;
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    for batch in merged.iter().filter(|b| b.num_rows() > 0) {
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(array, field)| cast_with_options(array, field.data_type(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    if writer.rows() == 0 {
        writer.abort();
        return Ok(None);
    }
    Ok(Some(writer.finish()?))
}

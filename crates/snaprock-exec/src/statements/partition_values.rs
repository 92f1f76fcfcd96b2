//! `INSERT OVERWRITE t PARTITION (c = v, ...)`: StarRocks' way to name a partition of an
//! expression-partitioned table by the partition column values it holds (`event_day =
//! '2022-06-08 20:12:04'` names `p20220608` of a `date_trunc('day', event_day)` table;
//! `dt = '2022-04-02', city = 'texas'` names `p20220402_texas`). The values are routed like a
//! row's: the partition that would hold the row, made first if the table's rule makes it.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::common::ScalarValue;
use snaprock_sql::ast::ObjectName;
use snaprock_storage::{PartitionRouter, StorageError, TableMeta};

use crate::session::Session;
use crate::{ExecError, Result};

/// The name of the partition of `table` holding the partition column `values`.
pub(crate) fn partition_named_by_values(
    session: &Session,
    table: &ObjectName,
    values: &[(String, String)],
) -> Result<String> {
    let (db, name) = session.resolve(table)?;
    let catalog = &session.engine.catalog;
    let meta = catalog
        .snapshot()
        .table(&db, &name)
        .cloned()
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?;
    for (column, _) in values {
        if meta.column(column).is_none() {
            return Err(ExecError::UnknownColumn {
                column: column.clone(),
                context: "partition".into(),
            });
        }
    }
    let row = one_row(&meta, values)?;
    let state = session.df.state();
    let compiled = crate::df::generated_keys::compile(&state, &meta)?;
    let generated = compiled
        .iter()
        .map(|k| k.evaluate(&row))
        .collect::<Result<Vec<_>>>()?;
    let keys = meta.partition_keys(&row, &generated)?;
    let needed = snaprock_storage::partitions_for(&meta, &keys)?;
    let meta = if needed.is_empty() {
        meta
    } else {
        let now = crate::now_text();
        catalog.commit(|s| snaprock_storage::add_partitions(s, &db, meta.id, &needed, &now))?;
        catalog
            .snapshot()
            .table(&db, &name)
            .cloned()
            .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?
    };
    let parts = PartitionRouter::new(&meta)?.split(&row, &keys)?;
    let (index, _) = parts.first().ok_or_else(|| {
        ExecError::from(StorageError::NoPartitionForValue(
            values
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ))
    })?;
    Ok(meta.partitions[*index].name.clone())
}

/// A row of `table`'s schema with the given column values and NULL elsewhere.
fn one_row(table: &TableMeta, values: &[(String, String)]) -> Result<RecordBatch> {
    let schema = table.arrow_schema();
    let columns = table
        .columns
        .iter()
        .zip(schema.fields())
        .map(|(c, field)| -> Result<ArrayRef> {
            match values.iter().find(|(n, _)| n.eq_ignore_ascii_case(&c.name)) {
                Some((_, v)) => {
                    let text = ScalarValue::Utf8(Some(v.clone()));
                    Ok(text.cast_to(field.data_type())?.to_array()?)
                }
                None => Ok(new_null_array(field.data_type(), 1)),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(&schema), columns)?)
}

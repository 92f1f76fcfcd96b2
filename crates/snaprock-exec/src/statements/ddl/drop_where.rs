//! `ALTER TABLE t DROP PARTITIONS WHERE <condition>` (StarRocks 3.4+): drops, as one commit
//! and into the recycle bin, the partitions whose values meet a condition over the partition
//! columns only (`dt < current_date() - INTERVAL 3 MONTH`, `province IN ('a', 'b')`,
//! `date_trunc('day', dt) < '2025-03-01'`).
//!
//! The condition is evaluated on each partition's values: a list partition goes when one of its
//! values meets it; a range partition only when both its first and its last value do (for the
//! comparisons such conditions are made of, the whole range), so a partition that still holds
//! rows the condition keeps is never dropped. Ranges open at either end (MINVALUE, MAXVALUE)
//! and ranges of text columns stay.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use snaprock_sql::StarRocksDialect;
use snaprock_sql::ast::ObjectName;
use snaprock_sql::sqlparser::ast::{Expr, Statement};
use snaprock_sql::sqlparser::parser::Parser;
use snaprock_storage::{ColumnType, PartitionBounds, Partitioning, TableMeta};

use crate::result::Output;
use crate::session::Session;
use crate::{ExecError, Result};

/// One value tuple of one partition to try the condition on.
struct Probe {
    partition: usize,
    /// `None`: NULL.
    values: Vec<Option<String>>,
}

pub(crate) async fn drop_partitions_where(
    session: &mut Session,
    name: &ObjectName,
    condition: Expr,
) -> Result<Output> {
    let (db, table) = session.resolve(name)?;
    let meta = session
        .engine
        .catalog
        .snapshot()
        .table(&db, &table)
        .cloned()
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table}")))?;
    if meta.partitioning == Partitioning::Unpartitioned {
        return Err(ExecError::InvalidDefinition(format!(
            "Table '{table}' is not partitioned"
        )));
    }
    let columns = partition_columns(&meta)?;
    check_columns(&condition, &columns)?;
    let probes = probes(&meta, &columns);
    let matched = evaluate(session, &condition, &columns, &probes).await?;
    let range = matches!(meta.partitioning, Partitioning::Range { .. });
    let mut names = Vec::new();
    for (i, p) in meta.partitions.iter().enumerate() {
        let results: Vec<bool> = probes
            .iter()
            .zip(&matched)
            .filter(|(probe, _)| probe.partition == i)
            .map(|(_, m)| *m)
            .collect();
        let drop = if range {
            !results.is_empty() && results.iter().all(|m| *m)
        } else {
            results.iter().any(|m| *m)
        };
        if drop {
            names.push(p.name.clone());
        }
    }
    if names.is_empty() {
        return Ok(Output::ok());
    }
    super::drop_partition_names(session, name, &names, true, false).await
}

/// The partition columns with their types.
fn partition_columns(meta: &TableMeta) -> Result<Vec<(String, ColumnType)>> {
    meta.partitioning
        .columns()
        .iter()
        .map(|c| {
            meta.partition_key_type(c)
                .map(|t| (c.clone(), t.clone()))
                .ok_or_else(|| ExecError::Plan(format!("unknown partition column {c}")))
        })
        .collect()
}

/// The condition may name partition columns only, and must name one.
fn check_columns(condition: &Expr, columns: &[(String, ColumnType)]) -> Result<()> {
    let names = crate::df::generated_keys::column_names(condition);
    let expressions: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let expressions = expressions.join("/");
    if names.is_empty() {
        return Err(ExecError::Analysis(format!(
            "No partition columns are used in the partition condition: {condition}, please use \
             table's partition expressions directly: {expressions}"
        )));
    }
    if let Some(other) = names
        .iter()
        .find(|n| !columns.iter().any(|(c, _)| c.eq_ignore_ascii_case(n)))
    {
        return Err(ExecError::Analysis(format!(
            "Column `{other}` in the partition condition is not a table's partition expression, \
             please use table's partition expressions: {expressions}"
        )));
    }
    Ok(())
}

/// The values each partition is tried on: every tuple of a list partition; the first and the
/// last value of a single-column range.
fn probes(meta: &TableMeta, columns: &[(String, ColumnType)]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (i, p) in meta.partitions.iter().enumerate() {
        match &p.bounds {
            PartitionBounds::List { values } => {
                for tuple in values.iter().filter(|t| t.len() == columns.len()) {
                    probes.push(Probe {
                        partition: i,
                        values: tuple.clone(),
                    });
                }
            }
            PartitionBounds::Range {
                lower,
                upper: Some(upper),
            } if columns.len() == 1 && lower.len() == 1 && upper.len() == 1 => {
                if let Some(last) = value_before(&upper[0], &columns[0].1) {
                    probes.push(Probe {
                        partition: i,
                        values: lower.iter().cloned().map(Some).collect(),
                    });
                    probes.push(Probe {
                        partition: i,
                        values: vec![Some(last)],
                    });
                }
            }
            _ => {}
        }
    }
    probes
}

/// The last value below a range's exclusive upper bound, for the types that have one.
fn value_before(upper: &str, column_type: &ColumnType) -> Option<String> {
    match column_type {
        ColumnType::Date => NaiveDate::parse_from_str(upper, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.pred_opt())
            .map(|d| d.format("%Y-%m-%d").to_string()),
        ColumnType::DateTime => {
            let t = NaiveDateTime::parse_from_str(upper, "%Y-%m-%d %H:%M:%S%.f")
                .or_else(|_| {
                    NaiveDate::parse_from_str(upper, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                })
                .ok()?;
            Some(
                (t - Duration::microseconds(1))
                    .format("%Y-%m-%d %H:%M:%S%.6f")
                    .to_string(),
            )
        }
        ColumnType::TinyInt
        | ColumnType::SmallInt
        | ColumnType::Int
        | ColumnType::BigInt
        | ColumnType::LargeInt => upper.parse::<i128>().ok().map(|v| (v - 1).to_string()),
        _ => None,
    }
}

/// The SQL type a probe value is cast to (one DataFusion's planner knows).
fn cast_type(t: &ColumnType) -> String {
    match t {
        ColumnType::DateTime => "TIMESTAMP".into(),
        ColumnType::LargeInt => "DECIMAL(38, 0)".into(),
        t if t.is_string() => "VARCHAR".into(),
        t => t.sql(),
    }
}

/// The condition's value on each probe (NULL counts as false), by one query over the probes.
async fn evaluate(
    session: &mut Session,
    condition: &Expr,
    columns: &[(String, ColumnType)],
    probes: &[Probe],
) -> Result<Vec<bool>> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<String> = probes
        .iter()
        .enumerate()
        .map(|(n, probe)| {
            let values: Vec<String> = probe
                .values
                .iter()
                .zip(columns)
                .map(|(v, (_, t))| match v {
                    Some(v) => format!(
                        "CAST('{}' AS {})",
                        v.replace('\\', "\\\\").replace('\'', "''"),
                        cast_type(t)
                    ),
                    None => format!("CAST(NULL AS {})", cast_type(t)),
                })
                .collect();
            format!("({n}, {})", values.join(", "))
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|(c, _)| format!("`{c}`")).collect();
    let sql = format!(
        "SELECT __probe, coalesce(({condition}), false) FROM (VALUES {}) AS __partitions(__probe, {})",
        rows.join(", "),
        names.join(", ")
    );
    let stmt = Parser::parse_sql(&StarRocksDialect::new(), &sql)
        .map_err(|e| ExecError::Plan(e.to_string()))?
        .pop()
        .ok_or_else(|| ExecError::Plan("empty probe query".into()))?;
    let Statement::Query(_) = &stmt else {
        return Err(ExecError::Plan("probe query".into()));
    };
    let mut matched = vec![false; probes.len()];
    for batch in super::super::query::query_batches(session, stmt).await? {
        let index = datafusion::arrow::compute::cast(batch.column(0), &DataType::Int64)?;
        let index = index.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let result = batch.column(1).as_boolean();
        for row in 0..batch.num_rows() {
            if let Some(slot) = usize::try_from(index.value(row))
                .ok()
                .and_then(|i| matched.get_mut(i))
            {
                *slot = result.is_valid(row) && result.value(row);
            }
        }
    }
    Ok(matched)
}

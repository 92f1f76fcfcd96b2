//! A CREATE TABLE as a table definition: column types from SQL and Arrow types, keys,
//! partitions with normalized bounds, distribution, properties.

use datafusion::arrow::datatypes::DataType as ArrowType;
use snaprock_sql::ast::{
    ColumnDef, CreateTable, Distribution, KeysKind, PartitionBy, PartitionDef, PartitionValue,
    PartitionValues,
};
use snaprock_sql::sqlparser::ast::{DataType, Expr};

pub(crate) use super::column_types::{column_type, column_type_of_arrow};
use snaprock_storage::{
    AutoPartition, ColumnMeta, ColumnType, DistributionMeta, GENERATED_PARTITION_COLUMN_PREFIX,
    GeneratedPartitionColumn, KeysModel, PartitionBounds, PartitionMeta, Partitioning,
    StorageError, TableMeta, bounds_to_scalars, normalize_bound,
};

use crate::df::provider::{CURRENT_TIMESTAMP, default_expr};
use crate::{ExecError, Result};

/// The text of a column default (`'0'` → `0`, `CURRENT_TIMESTAMP` kept as is).
fn default_text(expr: &Expr) -> Result<String> {
    match expr {
        Expr::Function(f)
            if f.name.to_string().eq_ignore_ascii_case("current_timestamp")
                || f.name.to_string().eq_ignore_ascii_case("now") =>
        {
            Ok(CURRENT_TIMESTAMP.to_string())
        }
        Expr::Identifier(i) if i.value.eq_ignore_ascii_case("current_timestamp") => {
            Ok(CURRENT_TIMESTAMP.to_string())
        }
        other => match snaprock_sql::literal_text(other) {
            Some(t) => Ok(t),
            None => Err(ExecError::InvalidDefinition(format!(
                "Invalid default value {other}"
            ))),
        },
    }
}

pub(super) fn partition_column_types(
    t: &TableMeta,
) -> Result<Vec<(String, ColumnType)>, StorageError> {
    t.partitioning
        .columns()
        .iter()
        .map(|c| {
            t.partition_key_type(c)
                .map(|m| (c.clone(), m.clone()))
                .ok_or_else(|| {
                    StorageError::InvalidDefinition(format!("Unknown partition column '{c}'"))
                })
        })
        .collect()
}

/// `date_trunc` / `time_slice` partitioning: of a DATE or DATETIME column, and of a DATETIME
/// one for hours, minutes and time_slice (StarRocks' rules and words).
fn check_time_partitioning(partitioning: &Partitioning, columns: &[ColumnMeta]) -> Result<()> {
    let Partitioning::Range {
        columns: names,
        auto:
            Some(AutoPartition::Time {
                function,
                unit,
                step,
            }),
        ..
    } = partitioning
    else {
        return Ok(());
    };
    let name = names.first().map_or("", |n| n.as_str());
    let column_type = columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.column_type.clone());
    let expr = if function == "time_slice" {
        format!("time_slice({name}, INTERVAL {step} {unit})")
    } else {
        format!("date_trunc('{unit}', {name})")
    };
    let unsupported = |explain: &str| {
        ExecError::InvalidDefinition(format!(
            "Unsupported expr '{expr}' in PARTITION BY clause{explain}"
        ))
    };
    match column_type {
        Some(ColumnType::DateTime) => Ok(()),
        Some(ColumnType::Date) if function == "time_slice" => Err(unsupported(
            ". time_slice partitioning only supports datetime type",
        )),
        Some(ColumnType::Date) if unit == "hour" || unit == "minute" => Err(unsupported(
            ". The hour/minute parameter only supports datetime type",
        )),
        Some(ColumnType::Date) => Ok(()),
        _ => Err(unsupported(
            ". The partition column must be of DATE or DATETIME type",
        )),
    }
}

/// Builds the table's metadata from CREATE TABLE (ids are assigned at commit); `generated`:
/// its partition keys generated from expressions, planned (see `df::generated_keys`).
pub(crate) fn build_table(
    create: &CreateTable,
    generated: &[GeneratedPartitionColumn],
    now: &str,
) -> Result<TableMeta> {
    let mut columns = build_columns(create)?;
    let column_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let find = |name: &str| -> Result<String> {
        column_names
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| ExecError::UnknownColumn {
                column: name.to_string(),
                context: "key definition".into(),
            })
    };
    let find_all = |names: &[String]| names.iter().map(|c| find(c)).collect::<Result<Vec<_>>>();
    // Partition keys: the table's columns, and the generated ones by their own names.
    let find_keys = |names: &[String]| {
        names
            .iter()
            .map(|c| match generated.iter().find(|g| &g.name == c) {
                Some(g) => Ok(g.name.clone()),
                None => find(c),
            })
            .collect::<Result<Vec<_>>>()
    };
    let (keys_model, key_columns) = build_keys(create, &mut columns, &find_all)?;
    let partitioning = match &create.partitioning {
        None => Partitioning::Unpartitioned,
        Some(PartitionBy::Range {
            columns,
            time_function,
            ..
        }) => Partitioning::Range {
            columns: find_keys(columns)?,
            auto: time_function.as_ref().map(|f| AutoPartition::Time {
                function: f.function.clone(),
                unit: f.unit.clone(),
                step: f.step,
            }),
            generated: generated.to_vec(),
        },
        Some(PartitionBy::List {
            columns, automatic, ..
        }) => Partitioning::List {
            columns: find_keys(columns)?,
            auto: automatic.then_some(AutoPartition::Values),
            generated: generated.to_vec(),
        },
    };
    check_time_partitioning(&partitioning, &columns)?;
    if keys_model.replaces_on_key() {
        check_keyed_partitioning(&partitioning, &key_columns, keys_model)?;
    }
    let distribution = match &create.distribution {
        Some(Distribution::Hash { columns, buckets }) => DistributionMeta::Hash {
            columns: find_all(columns)?,
            buckets: *buckets,
        },
        Some(Distribution::Random { buckets }) => DistributionMeta::Random { buckets: *buckets },
        None => DistributionMeta::Random { buckets: None },
    };
    let mut table = TableMeta {
        id: 0,
        name: create.name.name.clone(),
        columns,
        keys_model,
        key_columns,
        partitioning,
        partitions: Vec::new(),
        distribution,
        properties: create.properties.clone(),
        comment: create.comment.clone(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        materialized_view: None,
        indexes: Vec::new(),
    };
    check_complex_columns(&table)?;
    for def in &create.indexes {
        super::indexes::add_index(&mut table, def)?;
    }
    add_partitions(&mut table, create, now)?;
    Ok(table)
}

/// A keyed table is partitioned by key columns, or by expressions of key columns (StarRocks'
/// words for the latter).
fn check_keyed_partitioning(
    partitioning: &Partitioning,
    key_columns: &[String],
    keys_model: KeysModel,
) -> Result<()> {
    for g in partitioning.generated() {
        if g.sources.iter().any(|s| !key_columns.contains(s)) {
            return Err(ExecError::Analysis(
                "The partition expr should base on key column".into(),
            ));
        }
    }
    for c in partitioning.columns() {
        let generated = partitioning.generated().iter().any(|g| &g.name == c);
        if !generated && !key_columns.contains(c) {
            return Err(ExecError::InvalidDefinition(format!(
                "The partition column '{c}' must be a key column of a {} table",
                keys_model.sql()
            )));
        }
    }
    Ok(())
}

/// ARRAY, MAP and STRUCT columns cannot partition or distribute a table, and fold only by
/// REPLACE in an AGGREGATE KEY table (StarRocks' rules; keys are checked with the keys).
fn check_complex_columns(table: &TableMeta) -> Result<()> {
    let distribution: &[String] = match &table.distribution {
        DistributionMeta::Hash { columns, .. } => columns,
        DistributionMeta::Random { .. } => &[],
    };
    for c in table.columns.iter().filter(|c| c.column_type.is_complex()) {
        let role = if table.partitioning.columns().contains(&c.name) {
            "partition"
        } else if distribution.contains(&c.name) {
            "distribution"
        } else {
            continue;
        };
        return Err(ExecError::Analysis(format!(
            "Invalid data type of {role} column '{}': '{}'",
            c.name,
            c.column_type.sql()
        )));
    }
    if table.keys_model == KeysModel::Aggregate {
        for c in table.columns.iter().filter(|c| c.column_type.is_complex()) {
            if !matches!(
                c.aggregation.as_deref(),
                Some("REPLACE" | "REPLACE_IF_NOT_NULL")
            ) {
                return Err(ExecError::Analysis(format!(
                    "Invalid aggregate function '{}' for '{}'",
                    c.aggregation.as_deref().unwrap_or(""),
                    c.name
                )));
            }
        }
    }
    Ok(())
}

/// The columns of CREATE TABLE, checked (at least one, no duplicate or reserved names,
/// defaults of the column's type).
pub(crate) fn build_columns(create: &CreateTable) -> Result<Vec<ColumnMeta>> {
    if create.columns.is_empty() {
        return Err(ExecError::InvalidDefinition(
            "A table must have at least one column".into(),
        ));
    }
    let mut columns: Vec<ColumnMeta> = Vec::new();
    for c in &create.columns {
        if columns.iter().any(|x| x.name.eq_ignore_ascii_case(&c.name)) {
            return Err(ExecError::DuplicateColumn(c.name.clone()));
        }
        if c.name
            .to_lowercase()
            .starts_with(GENERATED_PARTITION_COLUMN_PREFIX)
        {
            return Err(ExecError::Analysis(format!(
                "Column name [{}] starts with {GENERATED_PARTITION_COLUMN_PREFIX} is a system \
                 reserved name. Please choose a different one.",
                c.name
            )));
        }
        columns.push(column_meta(c)?);
    }
    Ok(columns)
}

/// One column definition, checked (a known type, a default of the column's type); not yet a
/// key column.
pub(super) fn column_meta(c: &ColumnDef) -> Result<ColumnMeta> {
    let column_type = match &c.data_type {
        DataType::Custom(n, args) if n.to_string() == "SNAPROCK_TYPE" => args
            .first()
            .and_then(|a| serde_json::from_str(a).ok())
            .ok_or_else(|| ExecError::Plan("bad derived column type".into()))?,
        other => column_type(other)?,
    };
    let default = c.default.as_ref().map(default_text).transpose()?;
    if let Some(d) = &default {
        default_expr(d, &column_type)?;
    }
    Ok(ColumnMeta {
        name: c.name.clone(),
        column_type,
        nullable: c.nullable.unwrap_or(true),
        default,
        comment: c.comment.clone(),
        is_key: false,
        aggregation: c.aggregation.clone(),
        auto_increment: c.auto_increment,
    })
}

/// The keys model and key columns (marked in `columns`): StarRocks' `... KEY(...)`, an inline
/// PRIMARY KEY, or the first column of a duplicate-key table.
fn build_keys(
    create: &CreateTable,
    columns: &mut [ColumnMeta],
    find_all: &dyn Fn(&[String]) -> Result<Vec<String>>,
) -> Result<(KeysModel, Vec<String>)> {
    let inline_pk: Vec<String> = if !create.inline_primary_key.is_empty() {
        create.inline_primary_key.clone()
    } else {
        create
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect()
    };
    let (keys_model, key_columns) = match (&create.keys, inline_pk.is_empty()) {
        (Some(k), _) => (
            match k.kind {
                KeysKind::Duplicate => KeysModel::Duplicate,
                KeysKind::Primary => KeysModel::Primary,
                KeysKind::Unique => KeysModel::Unique,
                KeysKind::Aggregate => KeysModel::Aggregate,
            },
            find_all(&k.columns)?,
        ),
        (None, false) => (KeysModel::Primary, find_all(&inline_pk)?),
        (None, true) => {
            if columns[0].column_type.is_complex() {
                return Err(ExecError::Analysis(format!(
                    "Data type of first column cannot be {}",
                    columns[0].column_type.sql()
                )));
            }
            (KeysModel::Duplicate, vec![columns[0].name.clone()])
        }
    };
    // StarRocks: key columns are the first columns, in order.
    for (i, k) in key_columns.iter().enumerate() {
        if columns.get(i).map(|c| &c.name) != Some(k) {
            return Err(ExecError::InvalidDefinition(
                "Key columns should be a ordered prefix of the schema.".into(),
            ));
        }
        if columns[i].column_type.is_complex() {
            return Err(ExecError::Analysis(format!(
                "Invalid data type of key column '{k}': '{}'",
                columns[i].column_type.sql()
            )));
        }
        columns[i].is_key = true;
        if keys_model == KeysModel::Primary {
            columns[i].nullable = false;
        }
    }
    if keys_model == KeysModel::Aggregate {
        check_aggregations(columns)?;
    }
    Ok((keys_model, key_columns))
}

/// AGGREGATE KEY tables: every value column says how rows of one key fold, with a method
/// snaprock can run (HLL, BITMAP and PERCENTILE columns it does not have).
fn check_aggregations(columns: &[ColumnMeta]) -> Result<()> {
    for c in columns.iter().filter(|c| !c.is_key) {
        match c.aggregation.as_deref() {
            None => {
                return Err(ExecError::Analysis(format!(
                    "AGG_KEYS table should specify aggregate type for non-key column[{}]",
                    c.name
                )));
            }
            Some("SUM" | "MAX" | "MIN" | "REPLACE" | "REPLACE_IF_NOT_NULL") => {}
            Some(other) => {
                return Err(ExecError::Unsupported(format!(
                    "{other} columns are not supported: snaprock has no HLL, BITMAP or \
                     PERCENTILE types (column {})",
                    c.name
                )));
            }
        }
    }
    Ok(())
}

/// The partitions of CREATE TABLE (one covering everything when it has none), in order and
/// without overlaps.
fn add_partitions(table: &mut TableMeta, create: &CreateTable, now: &str) -> Result<()> {
    let column_types = partition_column_types(table)?;
    match &create.partitioning {
        None => table.partitions.push(PartitionMeta {
            id: 0,
            name: table.name.clone(),
            bounds: PartitionBounds::All,
            version: 1,
            version_time: now.to_string(),
            files: Vec::new(),
        }),
        Some(PartitionBy::Range { partitions, .. } | PartitionBy::List { partitions, .. }) => {
            let range = matches!(table.partitioning, Partitioning::Range { .. });
            let first = column_types
                .first()
                .map(|(_, t)| t.clone())
                .filter(|_| range);
            let partitions = super::batch_partitions::expand(partitions, first)?;
            if partitions.is_empty() && table.partitioning.auto().is_none() {
                return Err(ExecError::InvalidDefinition(
                    "A partitioned table needs at least one partition".into(),
                ));
            }
            for def in &partitions {
                if table.partition(&def.name).is_some() {
                    return Err(StorageError::PartitionExists(def.name.clone()).into());
                }
                let previous: Vec<PartitionBounds> =
                    table.partitions.iter().map(|p| p.bounds.clone()).collect();
                let bounds = partition_bounds(&table.partitioning, &column_types, def, &previous)?;
                table.check_no_overlap(&bounds, &def.name)?;
                table.partitions.push(PartitionMeta {
                    id: 0,
                    name: def.name.clone(),
                    bounds,
                    version: 1,
                    version_time: now.to_string(),
                    files: Vec::new(),
                });
                table.sort_partitions();
            }
        }
    }
    Ok(())
}

fn normalize_values(
    column_types: &[(String, ColumnType)],
    values: &[PartitionValue],
) -> Result<Option<Vec<String>>> {
    if values.len() > column_types.len() {
        return Err(ExecError::InvalidDefinition(format!(
            "Partition values ({}) are more than partition columns ({})",
            values.len(),
            column_types.len()
        )));
    }
    let mut out = Vec::new();
    for (v, (name, t)) in values.iter().zip(column_types) {
        match v {
            PartitionValue::MaxValue => {
                if out.is_empty() {
                    return Ok(None);
                }
                break;
            }
            PartitionValue::Literal(text) => out.push(normalize_bound(name, t, text)?),
        }
    }
    Ok(Some(out))
}

/// The bounds of a partition definition; `LESS THAN` starts where the previous partition ends.
pub(super) fn partition_bounds(
    partitioning: &Partitioning,
    column_types: &[(String, ColumnType)],
    def: &PartitionDef,
    previous: &[PartitionBounds],
) -> Result<PartitionBounds> {
    match (partitioning, &def.values) {
        (Partitioning::Range { .. }, PartitionValues::LessThan(values)) => {
            let upper = normalize_values(column_types, values)?;
            let types: Vec<ArrowType> = column_types.iter().map(|(_, t)| t.arrow_type()).collect();
            // Lower bound: the greatest existing upper bound below the new upper bound.
            let mut lower: Vec<String> = Vec::new();
            let upper_typed = upper
                .as_ref()
                .map(|u| bounds_to_scalars(u, &types))
                .transpose()?;
            for b in previous {
                if let PartitionBounds::Range { upper: Some(u), .. } = b {
                    let u_typed = bounds_to_scalars(u, &types)?;
                    let below_new = upper_typed.as_ref().is_none_or(|n| u_typed < *n);
                    let above_current =
                        lower.is_empty() || u_typed > bounds_to_scalars(&lower, &types)?;
                    if below_new && above_current {
                        lower = u.clone();
                    }
                }
            }
            Ok(PartitionBounds::Range { lower, upper })
        }
        (Partitioning::Range { .. }, PartitionValues::Fixed { lower, upper }) => {
            let lower = normalize_values(column_types, lower)?.ok_or_else(|| {
                ExecError::InvalidDefinition(
                    "The lower bound of a partition cannot be MAXVALUE".into(),
                )
            })?;
            let upper = normalize_values(column_types, upper)?;
            let types: Vec<ArrowType> = column_types.iter().map(|(_, t)| t.arrow_type()).collect();
            if let Some(u) = &upper
                && bounds_to_scalars(&lower, &types)? >= bounds_to_scalars(u, &types)?
            {
                return Err(ExecError::InvalidDefinition(format!(
                    "The lower bound of partition {} must be less than its upper bound",
                    def.name
                )));
            }
            Ok(PartitionBounds::Range { lower, upper })
        }
        (Partitioning::List { .. }, PartitionValues::In(tuples)) => {
            let mut values = Vec::new();
            for t in tuples {
                if t.len() != column_types.len() {
                    return Err(ExecError::InvalidDefinition(format!(
                        "Partition {} lists {} values for {} partition columns",
                        def.name,
                        t.len(),
                        column_types.len()
                    )));
                }
                let tuple = normalize_values(column_types, t)?.ok_or_else(|| {
                    ExecError::InvalidDefinition(
                        "MAXVALUE is not allowed in a LIST partition".into(),
                    )
                })?;
                values.push(tuple.into_iter().map(Some).collect());
            }
            Ok(PartitionBounds::List { values })
        }
        (Partitioning::Range { .. }, PartitionValues::Batch(_)) => Err(ExecError::Plan(
            "a batch of partitions is expanded before its bounds are read".into(),
        )),
        (Partitioning::Range { .. }, PartitionValues::In(_)) => Err(ExecError::InvalidDefinition(
            "VALUES IN is for LIST partitions; this table is RANGE partitioned".into(),
        )),
        (Partitioning::List { .. }, _) => Err(ExecError::InvalidDefinition(
            "This table is LIST partitioned; use VALUES IN (...)".into(),
        )),
        (Partitioning::Unpartitioned, _) => Err(ExecError::InvalidDefinition(
            "The table is not partitioned".into(),
        )),
    }
}

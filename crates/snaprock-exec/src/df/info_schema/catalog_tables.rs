//! information_schema tables about databases and what they hold: each table's columns and the
//! code that makes its rows side by side (a `#` suffix marks an integer column).

use snaprock_storage::{CatalogState, KeysModel, PartitionBounds, Partitioning};

use super::{NULL, NULL_INT, SYSTEM_TABLES, SystemTable, key_name, no_rows, t};
use crate::df::catalog_provider::INFORMATION_SCHEMA;
use crate::result::{Cell, RowsBuilder};

pub(super) const SCHEMATA: SystemTable = SystemTable {
    name: "SCHEMATA",
    columns: &[
        "CATALOG_NAME",
        "SCHEMA_NAME",
        "DEFAULT_CHARACTER_SET_NAME",
        "DEFAULT_COLLATION_NAME",
        "SQL_PATH",
        "DEFAULT_ENCRYPTION",
    ],
    rows: |_, state, rows| {
        rows.push(vec![
            t("def"),
            t(INFORMATION_SCHEMA),
            t("utf8mb4"),
            t("utf8mb4_general_ci"),
            NULL,
            t("NO"),
        ]);
        for db in state.databases.keys() {
            rows.push(vec![
                t("def"),
                t(db),
                t("utf8mb4"),
                t("utf8mb4_general_ci"),
                NULL,
                t("NO"),
            ]);
        }
    },
};

pub(super) const TABLES: SystemTable = SystemTable {
    name: "TABLES",
    columns: &[
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "TABLE_TYPE",
        "ENGINE",
        "VERSION#",
        "ROW_FORMAT",
        "TABLE_ROWS#",
        "AVG_ROW_LENGTH#",
        "DATA_LENGTH#",
        "MAX_DATA_LENGTH#",
        "INDEX_LENGTH#",
        "DATA_FREE#",
        "AUTO_INCREMENT#",
        "CREATE_TIME",
        "UPDATE_TIME",
        "CHECK_TIME",
        "TABLE_COLLATION",
        "CHECKSUM#",
        "CREATE_OPTIONS",
        "TABLE_COMMENT",
    ],
    rows: |_, state, rows| {
        for name in SYSTEM_TABLES.iter().map(|t| t.name) {
            rows.push(vec![
                t("def"),
                t(INFORMATION_SCHEMA),
                t(name),
                t("SYSTEM VIEW"),
                t("MEMORY"),
                Cell::Int(Some(10)),
                t("Fixed"),
                NULL_INT,
                NULL_INT,
                NULL_INT,
                NULL_INT,
                NULL_INT,
                NULL_INT,
                NULL_INT,
                NULL,
                NULL,
                NULL,
                t("utf8mb4_general_ci"),
                NULL_INT,
                t(""),
                t(""),
            ]);
        }
        for db in state.databases.values() {
            for table in db.tables.values().filter(|t| !t.is_rollup()) {
                let rows_count = table.rows();
                let bytes = table.bytes();
                rows.push(vec![
                    t("def"),
                    t(&db.name),
                    t(&table.name),
                    t("BASE TABLE"),
                    t("StarRocks"),
                    Cell::Int(Some(10)),
                    t("Dynamic"),
                    rows_count.into(),
                    Cell::Int(Some(bytes.checked_div(rows_count).unwrap_or(0) as i64)),
                    bytes.into(),
                    Cell::Int(Some(0)),
                    Cell::Int(Some(0)),
                    Cell::Int(Some(0)),
                    NULL_INT,
                    t(&table.created_at),
                    t(&table.updated_at),
                    NULL,
                    t("utf8mb4_general_ci"),
                    NULL_INT,
                    t(""),
                    t(table.comment.as_deref().unwrap_or("")),
                ]);
            }
            for view in db.views.values() {
                rows.push(vec![
                    t("def"),
                    t(&db.name),
                    t(&view.name),
                    t("VIEW"),
                    NULL,
                    NULL_INT,
                    NULL,
                    NULL_INT,
                    NULL_INT,
                    NULL_INT,
                    NULL_INT,
                    NULL_INT,
                    NULL_INT,
                    NULL_INT,
                    t(&view.created_at),
                    NULL,
                    NULL,
                    NULL,
                    NULL_INT,
                    NULL,
                    // StarRocks: a view's comment, as a table's (not MySQL's "VIEW").
                    t(view.comment.as_deref().unwrap_or("")),
                ]);
            }
        }
    },
};

pub(super) const COLUMNS: SystemTable = SystemTable {
    name: "COLUMNS",
    columns: &[
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "COLUMN_NAME",
        "ORDINAL_POSITION#",
        "COLUMN_DEFAULT",
        "IS_NULLABLE",
        "DATA_TYPE",
        "CHARACTER_MAXIMUM_LENGTH#",
        "CHARACTER_OCTET_LENGTH#",
        "NUMERIC_PRECISION#",
        "NUMERIC_SCALE#",
        "DATETIME_PRECISION#",
        "CHARACTER_SET_NAME",
        "COLLATION_NAME",
        "COLUMN_TYPE",
        "COLUMN_KEY",
        "EXTRA",
        "PRIVILEGES",
        "COLUMN_COMMENT",
        "GENERATION_EXPRESSION",
        "SRS_ID#",
    ],
    rows: |_, state, rows| {
        for db in state.databases.values() {
            for table in db.tables.values().filter(|t| !t.is_rollup()) {
                for (i, c) in table.columns.iter().enumerate() {
                    let (precision, scale) = c.column_type.numeric_precision_scale().unzip();
                    let chars = c.column_type.char_length();
                    let is_text = c.column_type.is_string();
                    rows.push(vec![
                        t("def"),
                        t(&db.name),
                        t(&table.name),
                        t(&c.name),
                        Cell::Int(Some(i as i64 + 1)),
                        Cell::Text(c.default.clone()),
                        t(if c.nullable { "YES" } else { "NO" }),
                        t(c.column_type.mysql_data_type()),
                        chars.map(|v| v as i64).into(),
                        chars.map(|v| v as i64 * 4).into(),
                        precision.map(|v| v as i64).into(),
                        scale.map(|v| v as i64).into(),
                        Cell::Int(
                            matches!(c.column_type, snaprock_storage::ColumnType::DateTime)
                                .then_some(0),
                        ),
                        Cell::Text(is_text.then(|| "utf8mb4".to_string())),
                        Cell::Text(is_text.then(|| "utf8mb4_general_ci".to_string())),
                        t(&c.column_type.mysql_column_type()),
                        t(if c.is_key {
                            key_name(table.keys_model)
                        } else {
                            ""
                        }),
                        t(if c.auto_increment {
                            "auto_increment"
                        } else {
                            ""
                        }),
                        t("select,insert,update,references"),
                        t(c.comment.as_deref().unwrap_or("")),
                        t(""),
                        NULL_INT,
                    ]);
                }
            }
        }
    },
};

pub(super) const STATISTICS: SystemTable = SystemTable {
    name: "STATISTICS",
    columns: &[
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "NON_UNIQUE#",
        "INDEX_SCHEMA",
        "INDEX_NAME",
        "SEQ_IN_INDEX#",
        "COLUMN_NAME",
        "COLLATION",
        "CARDINALITY#",
        "SUB_PART#",
        "PACKED",
        "NULLABLE",
        "INDEX_TYPE",
        "COMMENT",
        "INDEX_COMMENT",
        "IS_VISIBLE",
        "EXPRESSION",
    ],
    rows: |_, state, rows| key_rows(state, rows, KeyRows::Statistics),
};

pub(super) const KEY_COLUMN_USAGE: SystemTable = SystemTable {
    name: "KEY_COLUMN_USAGE",
    columns: &[
        "CONSTRAINT_CATALOG",
        "CONSTRAINT_SCHEMA",
        "CONSTRAINT_NAME",
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "COLUMN_NAME",
        "ORDINAL_POSITION#",
        "POSITION_IN_UNIQUE_CONSTRAINT#",
        "REFERENCED_TABLE_SCHEMA",
        "REFERENCED_TABLE_NAME",
        "REFERENCED_COLUMN_NAME",
    ],
    rows: |_, state, rows| key_rows(state, rows, KeyRows::KeyColumns),
};

pub(super) const TABLE_CONSTRAINTS: SystemTable = SystemTable {
    name: "TABLE_CONSTRAINTS",
    columns: &[
        "CONSTRAINT_CATALOG",
        "CONSTRAINT_SCHEMA",
        "CONSTRAINT_NAME",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "CONSTRAINT_TYPE",
        "ENFORCED",
    ],
    rows: |_, state, rows| key_rows(state, rows, KeyRows::Constraints),
};

pub(super) const REFERENTIAL_CONSTRAINTS: SystemTable = SystemTable {
    name: "REFERENTIAL_CONSTRAINTS",
    columns: &[
        "CONSTRAINT_CATALOG",
        "CONSTRAINT_SCHEMA",
        "CONSTRAINT_NAME",
        "UNIQUE_CONSTRAINT_CATALOG",
        "UNIQUE_CONSTRAINT_SCHEMA",
        "UNIQUE_CONSTRAINT_NAME",
        "MATCH_OPTION",
        "UPDATE_RULE",
        "DELETE_RULE",
        "TABLE_NAME",
        "REFERENCED_TABLE_NAME",
    ],
    rows: no_rows,
};

pub(super) const VIEWS: SystemTable = SystemTable {
    name: "VIEWS",
    columns: &[
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "VIEW_DEFINITION",
        "CHECK_OPTION",
        "IS_UPDATABLE",
        "DEFINER",
        "SECURITY_TYPE",
        "CHARACTER_SET_CLIENT",
        "COLLATION_CONNECTION",
    ],
    rows: |_, state, rows| {
        for db in state.databases.values() {
            for view in db.views.values() {
                rows.push(vec![
                    t("def"),
                    t(&db.name),
                    t(&view.name),
                    t(&view.query_sql),
                    t("NONE"),
                    t("NO"),
                    t("root@%"),
                    t("DEFINER"),
                    t("utf8mb4"),
                    t("utf8mb4_general_ci"),
                ]);
            }
        }
    },
};

pub(super) const PARTITIONS: SystemTable = SystemTable {
    name: "PARTITIONS",
    columns: &[
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "PARTITION_NAME",
        "SUBPARTITION_NAME",
        "PARTITION_ORDINAL_POSITION#",
        "SUBPARTITION_ORDINAL_POSITION#",
        "PARTITION_METHOD",
        "SUBPARTITION_METHOD",
        "PARTITION_EXPRESSION",
        "SUBPARTITION_EXPRESSION",
        "PARTITION_DESCRIPTION",
        "TABLE_ROWS#",
        "AVG_ROW_LENGTH#",
        "DATA_LENGTH#",
        "MAX_DATA_LENGTH#",
        "INDEX_LENGTH#",
        "DATA_FREE#",
        "CREATE_TIME",
        "UPDATE_TIME",
        "CHECK_TIME",
        "CHECKSUM#",
        "PARTITION_COMMENT",
        "NODEGROUP",
        "TABLESPACE_NAME",
    ],
    rows: |_, state, rows| {
        for db in state.databases.values() {
            for table in db.tables.values() {
                let method = match &table.partitioning {
                    Partitioning::Unpartitioned => None,
                    Partitioning::Range { columns, .. } if columns.len() > 1 => {
                        Some("RANGE COLUMNS")
                    }
                    Partitioning::Range { .. } => Some("RANGE"),
                    Partitioning::List { columns, .. } if columns.len() > 1 => Some("LIST COLUMNS"),
                    Partitioning::List { .. } => Some("LIST"),
                };
                for (i, p) in table.partitions.iter().enumerate() {
                    let unpartitioned = method.is_none();
                    let description = match &p.bounds {
                        PartitionBounds::All => None,
                        PartitionBounds::Range { upper: Some(u), .. } => Some(u.join(",")),
                        PartitionBounds::Range { upper: None, .. } => Some("MAXVALUE".into()),
                        PartitionBounds::List { values } => Some(
                            values
                                .iter()
                                .map(|v| {
                                    v.iter()
                                        .map(PartitionBounds::list_value_text)
                                        .collect::<Vec<_>>()
                                        .join(",")
                                })
                                .collect::<Vec<_>>()
                                .join(","),
                        ),
                    };
                    let rows_count = p.rows();
                    rows.push(vec![
                        t("def"),
                        t(&db.name),
                        t(&table.name),
                        Cell::Text((!unpartitioned).then(|| p.name.clone())),
                        NULL,
                        Cell::Int((!unpartitioned).then_some(i as i64 + 1)),
                        NULL_INT,
                        Cell::Text(method.map(str::to_string)),
                        NULL,
                        Cell::Text(
                            (!unpartitioned).then(|| table.partitioning.columns().join(",")),
                        ),
                        NULL,
                        Cell::Text(description),
                        rows_count.into(),
                        Cell::Int(Some(p.bytes().checked_div(rows_count).unwrap_or(0) as i64)),
                        p.bytes().into(),
                        Cell::Int(Some(0)),
                        Cell::Int(Some(0)),
                        Cell::Int(Some(0)),
                        t(&table.created_at),
                        t(&p.version_time),
                        NULL,
                        NULL_INT,
                        t(""),
                        t("default"),
                        NULL,
                    ]);
                }
            }
        }
    },
};

pub(super) const CHECK_CONSTRAINTS: SystemTable = SystemTable {
    name: "CHECK_CONSTRAINTS",
    columns: &[
        "CONSTRAINT_CATALOG",
        "CONSTRAINT_SCHEMA",
        "CONSTRAINT_NAME",
        "CHECK_CLAUSE",
    ],
    rows: no_rows,
};

/// The rows of a table with a primary or unique key, in STATISTICS, KEY_COLUMN_USAGE or
/// TABLE_CONSTRAINTS.
#[derive(Clone, Copy)]
enum KeyRows {
    Statistics,
    KeyColumns,
    Constraints,
}

fn key_rows(state: &CatalogState, rows: &mut RowsBuilder, kind: KeyRows) {
    for db in state.databases.values() {
        for table in db
            .tables
            .values()
            .filter(|t| t.keys_model.replaces_on_key())
        {
            let primary = table.keys_model == KeysModel::Primary;
            let name = if primary { "PRIMARY" } else { "UNIQUE" };
            match kind {
                KeyRows::Constraints => {
                    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
                    rows.push(vec![
                        t("def"),
                        t(&db.name),
                        t(name),
                        t(&db.name),
                        t(&table.name),
                        t(kind),
                        t("YES"),
                    ]);
                }
                KeyRows::Statistics => {
                    for (i, k) in table.key_columns.iter().enumerate() {
                        rows.push(vec![
                            t("def"),
                            t(&db.name),
                            t(&table.name),
                            Cell::Int(Some(0)),
                            t(&db.name),
                            t(name),
                            Cell::Int(Some(i as i64 + 1)),
                            t(k),
                            t("A"),
                            table.rows().into(),
                            NULL_INT,
                            NULL,
                            t(""),
                            t("BTREE"),
                            t(""),
                            t(""),
                            t("YES"),
                            NULL,
                        ]);
                    }
                }
                KeyRows::KeyColumns => {
                    for (i, k) in table.key_columns.iter().enumerate() {
                        rows.push(vec![
                            t("def"),
                            t(&db.name),
                            t(name),
                            t("def"),
                            t(&db.name),
                            t(&table.name),
                            t(k),
                            Cell::Int(Some(i as i64 + 1)),
                            NULL_INT,
                            NULL,
                            NULL,
                            NULL,
                        ]);
                    }
                }
            }
        }
    }
}

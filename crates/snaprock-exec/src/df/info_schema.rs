//! `information_schema` with MySQL's table and column names, built from the statement's catalog
//! snapshot. Columns are declared below; a `#` suffix marks an integer column.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result as DfResult;
use snaprock_storage::{KeysModel, PartitionBounds, Partitioning, TableMeta};

use crate::df::catalog_provider::{INFORMATION_SCHEMA, StatementContext, external};
use crate::result::{Cell, CellKind, RowsBuilder};

const TABLES: &[(&str, &[&str])] = &[
    (
        "SCHEMATA",
        &[
            "CATALOG_NAME",
            "SCHEMA_NAME",
            "DEFAULT_CHARACTER_SET_NAME",
            "DEFAULT_COLLATION_NAME",
            "SQL_PATH",
            "DEFAULT_ENCRYPTION",
        ],
    ),
    (
        "TABLES",
        &[
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
    ),
    (
        "COLUMNS",
        &[
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
    ),
    (
        "STATISTICS",
        &[
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
    ),
    (
        "KEY_COLUMN_USAGE",
        &[
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
    ),
    (
        "TABLE_CONSTRAINTS",
        &[
            "CONSTRAINT_CATALOG",
            "CONSTRAINT_SCHEMA",
            "CONSTRAINT_NAME",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "CONSTRAINT_TYPE",
            "ENFORCED",
        ],
    ),
    (
        "REFERENTIAL_CONSTRAINTS",
        &[
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
    ),
    (
        "ROUTINES",
        &[
            "SPECIFIC_NAME",
            "ROUTINE_CATALOG",
            "ROUTINE_SCHEMA",
            "ROUTINE_NAME",
            "ROUTINE_TYPE",
            "DATA_TYPE",
            "CHARACTER_MAXIMUM_LENGTH#",
            "CHARACTER_OCTET_LENGTH#",
            "NUMERIC_PRECISION#",
            "NUMERIC_SCALE#",
            "DATETIME_PRECISION#",
            "CHARACTER_SET_NAME",
            "COLLATION_NAME",
            "DTD_IDENTIFIER",
            "ROUTINE_BODY",
            "ROUTINE_DEFINITION",
            "EXTERNAL_NAME",
            "EXTERNAL_LANGUAGE",
            "PARAMETER_STYLE",
            "IS_DETERMINISTIC",
            "SQL_DATA_ACCESS",
            "SQL_PATH",
            "SECURITY_TYPE",
            "CREATED",
            "LAST_ALTERED",
            "SQL_MODE",
            "ROUTINE_COMMENT",
            "DEFINER",
            "CHARACTER_SET_CLIENT",
            "COLLATION_CONNECTION",
            "DATABASE_COLLATION",
        ],
    ),
    (
        "PARAMETERS",
        &[
            "SPECIFIC_CATALOG",
            "SPECIFIC_SCHEMA",
            "SPECIFIC_NAME",
            "ORDINAL_POSITION#",
            "PARAMETER_MODE",
            "PARAMETER_NAME",
            "DATA_TYPE",
            "CHARACTER_MAXIMUM_LENGTH#",
            "CHARACTER_OCTET_LENGTH#",
            "NUMERIC_PRECISION#",
            "NUMERIC_SCALE#",
            "DATETIME_PRECISION#",
            "CHARACTER_SET_NAME",
            "COLLATION_NAME",
            "DTD_IDENTIFIER",
            "ROUTINE_TYPE",
        ],
    ),
    (
        "ENGINES",
        &[
            "ENGINE",
            "SUPPORT",
            "COMMENT",
            "TRANSACTIONS",
            "XA",
            "SAVEPOINTS",
        ],
    ),
    ("KEYWORDS", &["WORD", "RESERVED#"]),
    (
        "TRIGGERS",
        &[
            "TRIGGER_CATALOG",
            "TRIGGER_SCHEMA",
            "TRIGGER_NAME",
            "EVENT_MANIPULATION",
            "EVENT_OBJECT_CATALOG",
            "EVENT_OBJECT_SCHEMA",
            "EVENT_OBJECT_TABLE",
            "ACTION_ORDER#",
            "ACTION_CONDITION",
            "ACTION_STATEMENT",
            "ACTION_ORIENTATION",
            "ACTION_TIMING",
            "ACTION_REFERENCE_OLD_TABLE",
            "ACTION_REFERENCE_NEW_TABLE",
            "ACTION_REFERENCE_OLD_ROW",
            "ACTION_REFERENCE_NEW_ROW",
            "CREATED",
            "SQL_MODE",
            "DEFINER",
            "CHARACTER_SET_CLIENT",
            "COLLATION_CONNECTION",
            "DATABASE_COLLATION",
        ],
    ),
    (
        "VIEWS",
        &[
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
    ),
    (
        "PARTITIONS",
        &[
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
    ),
    (
        "CHARACTER_SETS",
        &[
            "CHARACTER_SET_NAME",
            "DEFAULT_COLLATE_NAME",
            "DESCRIPTION",
            "MAXLEN#",
        ],
    ),
    (
        "COLLATIONS",
        &[
            "COLLATION_NAME",
            "CHARACTER_SET_NAME",
            "ID#",
            "IS_DEFAULT",
            "IS_COMPILED",
            "SORTLEN#",
            "PAD_ATTRIBUTE",
        ],
    ),
    (
        "CHECK_CONSTRAINTS",
        &[
            "CONSTRAINT_CATALOG",
            "CONSTRAINT_SCHEMA",
            "CONSTRAINT_NAME",
            "CHECK_CLAUSE",
        ],
    ),
    (
        "EVENTS",
        &[
            "EVENT_CATALOG",
            "EVENT_SCHEMA",
            "EVENT_NAME",
            "DEFINER",
            "TIME_ZONE",
            "EVENT_BODY",
            "EVENT_DEFINITION",
            "EVENT_TYPE",
            "EXECUTE_AT",
            "INTERVAL_VALUE",
            "INTERVAL_FIELD",
            "SQL_MODE",
            "STARTS",
            "ENDS",
            "STATUS",
            "ON_COMPLETION",
            "CREATED",
            "LAST_ALTERED",
            "LAST_EXECUTED",
            "EVENT_COMMENT",
            "ORIGINATOR#",
            "CHARACTER_SET_CLIENT",
            "COLLATION_CONNECTION",
            "DATABASE_COLLATION",
        ],
    ),
    (
        "PROCESSLIST",
        &[
            "ID#", "USER", "HOST", "DB", "COMMAND", "TIME#", "STATE", "INFO",
        ],
    ),
    ("GLOBAL_VARIABLES", &["VARIABLE_NAME", "VARIABLE_VALUE"]),
    ("SESSION_VARIABLES", &["VARIABLE_NAME", "VARIABLE_VALUE"]),
    (
        "USER_PRIVILEGES",
        &["GRANTEE", "TABLE_CATALOG", "PRIVILEGE_TYPE", "IS_GRANTABLE"],
    ),
    (
        "SCHEMA_PRIVILEGES",
        &[
            "GRANTEE",
            "TABLE_CATALOG",
            "TABLE_SCHEMA",
            "PRIVILEGE_TYPE",
            "IS_GRANTABLE",
        ],
    ),
    (
        "TABLE_PRIVILEGES",
        &[
            "GRANTEE",
            "TABLE_CATALOG",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "PRIVILEGE_TYPE",
            "IS_GRANTABLE",
        ],
    ),
    (
        "COLUMN_PRIVILEGES",
        &[
            "GRANTEE",
            "TABLE_CATALOG",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "COLUMN_NAME",
            "PRIVILEGE_TYPE",
            "IS_GRANTABLE",
        ],
    ),
];

/// MySQL 8 reserved words (information_schema.KEYWORDS, RESERVED = 1).
const RESERVED_WORDS: &[&str] = &[
    "ADD",
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BLOB",
    "BOTH",
    "BY",
    "CALL",
    "CASCADE",
    "CASE",
    "CHANGE",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "CONDITION",
    "CONSTRAINT",
    "CONTINUE",
    "CONVERT",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURSOR",
    "DATABASE",
    "DATABASES",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DIV",
    "DOUBLE",
    "DROP",
    "ELSE",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FLOAT",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULLTEXT",
    "GRANT",
    "GROUP",
    "GROUPING",
    "HAVING",
    "IF",
    "IN",
    "INDEX",
    "INNER",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "KEYS",
    "KILL",
    "LEADING",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOAD",
    "LOCK",
    "MATCH",
    "NOT",
    "NULL",
    "NUMERIC",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PRIMARY",
    "RANGE",
    "REFERENCES",
    "REGEXP",
    "RENAME",
    "REPLACE",
    "RIGHT",
    "ROW",
    "ROWS",
    "SCHEMA",
    "SCHEMAS",
    "SELECT",
    "SET",
    "SHOW",
    "SMALLINT",
    "TABLE",
    "THEN",
    "TINYINT",
    "TO",
    "TRUE",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USE",
    "USING",
    "VALUES",
    "VARCHAR",
    "WHEN",
    "WHERE",
    "WITH",
];

/// (lower-case field, upper-case display) names of an information_schema table's columns.
pub(crate) fn column_names(table: &str) -> Vec<(String, String)> {
    TABLES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(table))
        .map(|(_, cols)| {
            cols.iter()
                .map(|c| {
                    let name = c.trim_end_matches('#');
                    (name.to_lowercase(), name.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn builder(columns: &[&str]) -> RowsBuilder {
    let cols: Vec<(&str, CellKind)> = columns
        .iter()
        .map(|c| match c.strip_suffix('#') {
            Some(name) => (name, CellKind::Int),
            None => (*c, CellKind::Text),
        })
        .collect();
    RowsBuilder::new(&cols)
}

fn t(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

const NULL: Cell = Cell::Text(None);
const NULL_INT: Cell = Cell::Int(None);

pub struct InformationSchema {
    pub(crate) ctx: Arc<StatementContext>,
}

impl std::fmt::Debug for InformationSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InformationSchema")
    }
}

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|(t, _)| t.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some((table, columns)) = TABLES.iter().find(|(t, _)| t.eq_ignore_ascii_case(name))
        else {
            return Err(external(crate::ExecError::UnknownTable(format!(
                "{INFORMATION_SCHEMA}.{name}"
            ))));
        };
        let mut rows = builder(columns);
        fill(table, &self.ctx, &mut rows);
        let batch = rows.batch().map_err(external)?;
        Ok(Some(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.iter().any(|(t, _)| t.eq_ignore_ascii_case(name))
    }
}

fn key_name(model: KeysModel) -> &'static str {
    match model {
        KeysModel::Primary => "PRI",
        KeysModel::Unique => "UNI",
        _ => "",
    }
}

fn has_index(table: &TableMeta) -> bool {
    table.keys_model.replaces_on_key()
}

enum RowsKind {
    Statistics,
    KeyColumns,
    Constraints,
}

fn kind_of(table: &str) -> RowsKind {
    match table {
        "STATISTICS" => RowsKind::Statistics,
        "KEY_COLUMN_USAGE" => RowsKind::KeyColumns,
        _ => RowsKind::Constraints,
    }
}

fn fill(table: &str, ctx: &StatementContext, rows: &mut RowsBuilder) {
    // Only the databases, tables and views the session may see.
    let state = &ctx.visible_state();
    match table {
        "SCHEMATA" => {
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
        }
        "TABLES" => {
            for (name, _) in TABLES {
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
                for table in db.tables.values() {
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
                        t("VIEW"),
                    ]);
                }
            }
        }
        "COLUMNS" => {
            for db in state.databases.values() {
                for table in db.tables.values() {
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
        }
        table_kind @ ("STATISTICS" | "KEY_COLUMN_USAGE" | "TABLE_CONSTRAINTS") => {
            for db in state.databases.values() {
                for table in db.tables.values().filter(|t| has_index(t)) {
                    let primary = table.keys_model == KeysModel::Primary;
                    let name = if primary { "PRIMARY" } else { "UNIQUE" };
                    match kind_of(table_kind) {
                        RowsKind::Constraints => {
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
                        RowsKind::Statistics => {
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
                        RowsKind::KeyColumns => {
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
        "ENGINES" => {
            rows.push(crate::server_info::engine_row());
        }
        "KEYWORDS" => {
            for w in RESERVED_WORDS {
                rows.push(vec![t(w), Cell::Int(Some(1))]);
            }
        }
        "VIEWS" => {
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
        }
        "PARTITIONS" => {
            for db in state.databases.values() {
                for table in db.tables.values() {
                    let method = match &table.partitioning {
                        Partitioning::Unpartitioned => None,
                        Partitioning::Range { columns } if columns.len() > 1 => {
                            Some("RANGE COLUMNS")
                        }
                        Partitioning::Range { .. } => Some("RANGE"),
                        Partitioning::List { columns } if columns.len() > 1 => Some("LIST COLUMNS"),
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
                                    .map(|v| v.join(","))
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
        }
        "CHARACTER_SETS" => {
            for (name, collation, description, maxlen) in crate::server_info::CHARSETS {
                rows.push(vec![
                    t(name),
                    t(collation),
                    t(description),
                    Cell::Int(Some(*maxlen)),
                ]);
            }
        }
        "COLLATIONS" => {
            for row in crate::server_info::collation_rows() {
                rows.push(row);
            }
        }
        "PROCESSLIST" => {
            for row in crate::server_info::processlist_rows(&ctx.engine, ctx.privileges.as_ref()) {
                rows.push(row);
            }
        }
        "GLOBAL_VARIABLES" | "SESSION_VARIABLES" => {
            for (name, value) in ctx.engine.globals.all() {
                rows.push(vec![t(name), t(&value.display())]);
            }
        }
        _ => {}
    }
}

/// The information_schema tables and their columns.
pub(crate) fn table_list() -> &'static [(&'static str, &'static [&'static str])] {
    TABLES
}

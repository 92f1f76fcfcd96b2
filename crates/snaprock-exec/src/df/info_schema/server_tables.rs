//! information_schema tables about the server: engines, keywords, character sets,
//! collations, sessions, variables and privileges; each table's columns and the code that makes
//! its rows side by side (a `#` suffix marks an integer column).

use super::{StatementContext, SystemTable, no_rows, t};
use crate::result::{Cell, RowsBuilder};
use snaprock_storage::CatalogState;

pub(super) const ENGINES: SystemTable = SystemTable {
    name: "ENGINES",
    columns: &[
        "ENGINE",
        "SUPPORT",
        "COMMENT",
        "TRANSACTIONS",
        "XA",
        "SAVEPOINTS",
    ],
    rows: |_, _, rows| {
        rows.push(crate::server_info::engine_row());
    },
};

pub(super) const KEYWORDS: SystemTable = SystemTable {
    name: "KEYWORDS",
    columns: &["WORD", "RESERVED#"],
    rows: |_, _, rows| {
        for w in RESERVED_WORDS {
            rows.push(vec![t(w), Cell::Int(Some(1))]);
        }
    },
};

pub(super) const CHARACTER_SETS: SystemTable = SystemTable {
    name: "CHARACTER_SETS",
    columns: &[
        "CHARACTER_SET_NAME",
        "DEFAULT_COLLATE_NAME",
        "DESCRIPTION",
        "MAXLEN#",
    ],
    rows: |_, _, rows| {
        for (name, collation, description, maxlen) in crate::server_info::CHARSETS {
            rows.push(vec![
                t(name),
                t(collation),
                t(description),
                Cell::Int(Some(*maxlen)),
            ]);
        }
    },
};

pub(super) const COLLATIONS: SystemTable = SystemTable {
    name: "COLLATIONS",
    columns: &[
        "COLLATION_NAME",
        "CHARACTER_SET_NAME",
        "ID#",
        "IS_DEFAULT",
        "IS_COMPILED",
        "SORTLEN#",
        "PAD_ATTRIBUTE",
    ],
    rows: |_, _, rows| {
        for row in crate::server_info::collation_rows() {
            rows.push(row);
        }
    },
};

pub(super) const PROCESSLIST: SystemTable = SystemTable {
    name: "PROCESSLIST",
    columns: &[
        "ID#", "USER", "HOST", "DB", "COMMAND", "TIME#", "STATE", "INFO",
    ],
    rows: |ctx, _, rows| {
        for row in crate::server_info::processlist_rows(&ctx.engine, ctx.privileges.as_ref()) {
            rows.push(row);
        }
    },
};

pub(super) const GLOBAL_VARIABLES: SystemTable = SystemTable {
    name: "GLOBAL_VARIABLES",
    columns: &["VARIABLE_NAME", "VARIABLE_VALUE"],
    rows: variables,
};

pub(super) const SESSION_VARIABLES: SystemTable = SystemTable {
    name: "SESSION_VARIABLES",
    columns: &["VARIABLE_NAME", "VARIABLE_VALUE"],
    rows: variables,
};

pub(super) const USER_PRIVILEGES: SystemTable = SystemTable {
    name: "USER_PRIVILEGES",
    columns: &["GRANTEE", "TABLE_CATALOG", "PRIVILEGE_TYPE", "IS_GRANTABLE"],
    rows: super::starrocks_tables::user_privileges,
};

pub(super) const SCHEMA_PRIVILEGES: SystemTable = SystemTable {
    name: "SCHEMA_PRIVILEGES",
    columns: &[
        "GRANTEE",
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "PRIVILEGE_TYPE",
        "IS_GRANTABLE",
    ],
    rows: super::starrocks_tables::schema_privileges,
};

pub(super) const TABLE_PRIVILEGES: SystemTable = SystemTable {
    name: "TABLE_PRIVILEGES",
    columns: &[
        "GRANTEE",
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "PRIVILEGE_TYPE",
        "IS_GRANTABLE",
    ],
    rows: super::starrocks_tables::table_privileges,
};

pub(super) const COLUMN_PRIVILEGES: SystemTable = SystemTable {
    name: "COLUMN_PRIVILEGES",
    columns: &[
        "GRANTEE",
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "COLUMN_NAME",
        "PRIVILEGE_TYPE",
        "IS_GRANTABLE",
    ],
    rows: no_rows,
};

fn variables(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    for (name, value) in ctx.engine.globals.all() {
        rows.push(vec![t(name), t(&value.display())]);
    }
}

/// MySQL's reserved words, for information_schema.KEYWORDS.
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

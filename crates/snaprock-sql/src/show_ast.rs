//! The AST of SHOW statements: what each SHOW asks for, its filter (`LIKE` / `WHERE`) and the
//! ORDER BY / LIMIT of StarRocks' job SHOWs.

use sqlparser::ast::Expr;

use crate::ast::{ObjectName, SnapshotFilter, UserIdentity};

/// `LIKE 'pattern'` or `WHERE expr` after a SHOW.
#[derive(Debug, Clone, PartialEq)]
pub enum ShowFilter {
    Like(String),
    Where(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Show {
    Databases {
        filter: Option<ShowFilter>,
    },
    Tables {
        full: bool,
        database: Option<String>,
        filter: Option<ShowFilter>,
    },
    Columns {
        full: bool,
        /// `DESC t`: StarRocks' DESCRIBE layout (Key `true`/`false`) rather than SHOW COLUMNS'.
        describe: bool,
        table: ObjectName,
        filter: Option<ShowFilter>,
    },
    CreateTable {
        table: ObjectName,
    },
    CreateView {
        view: ObjectName,
    },
    CreateDatabase {
        database: String,
    },
    Variables {
        global: bool,
        filter: Option<ShowFilter>,
    },
    Status {
        global: bool,
        filter: Option<ShowFilter>,
    },
    Warnings,
    Errors,
    Engines,
    /// `SHOW CATALOGS`: the one internal catalog.
    Catalogs,
    /// `SHOW BACKENDS` / `SHOW FRONTENDS` / `SHOW PROC 'path'`: the nodes.
    Backends,
    Frontends,
    Proc(String),
    Charset {
        filter: Option<ShowFilter>,
    },
    Collation {
        filter: Option<ShowFilter>,
    },
    Processlist {
        full: bool,
    },
    TableStatus {
        database: Option<String>,
        filter: Option<ShowFilter>,
    },
    Index {
        table: ObjectName,
    },
    Partitions {
        table: ObjectName,
        temporary: bool,
        filter: Option<ShowFilter>,
    },
    /// `SHOW GRANTS [FOR user | FOR ROLE r]`.
    Grants {
        target: GrantsTarget,
    },
    /// `SHOW USERS`.
    Users,
    /// `SHOW ROLES`.
    Roles,
    ProcedureStatus {
        functions: bool,
        filter: Option<ShowFilter>,
    },
    Triggers {
        database: Option<String>,
        filter: Option<ShowFilter>,
    },
    Events {
        database: Option<String>,
    },
    Plugins,
    Privileges,
    Profiles,
    OpenTables,
    Repositories,
    Backup {
        database: Option<String>,
    },
    Restore {
        database: Option<String>,
    },
    Snapshot {
        repository: String,
        filter: SnapshotFilter,
    },
    /// `SHOW DATA [FROM [db.]t]`.
    Data {
        table: Option<ObjectName>,
    },
    /// `SHOW TABLET FROM [db.]t`.
    Tablet {
        table: ObjectName,
    },
    /// `SHOW ALTER TABLE COLUMN | ROLLUP | OPTIMIZE [FROM db] [WHERE ...] [ORDER BY ...]
    /// [LIMIT n]`: schema-change jobs.
    /// `DESC t ALL`: the table and its synchronous materialized views, as indexes.
    DescribeAll {
        table: ObjectName,
    },
    /// `SHOW MATERIALIZED VIEWS [FROM db] [LIKE '..' | WHERE ..]`.
    MaterializedViews {
        database: Option<String>,
        filter: Option<ShowFilter>,
    },
    AlterJobs {
        /// `COLUMN`, `ROLLUP`, `OPTIMIZE` or `MATERIALIZED VIEW`.
        kind: String,
        database: Option<String>,
        filter: Option<ShowFilter>,
        order: ShowOrder,
    },
    /// `SHOW LOAD [FROM db] [WHERE ...] [ORDER BY ...] [LIMIT ...]`: the database's loads.
    Load {
        database: Option<String>,
        filter: Option<ShowFilter>,
        order: ShowOrder,
    },
    /// `SHOW ROUTINE LOAD [FOR [db.]name] [FROM db]`: snaprock has no routine loads.
    RoutineLoad {
        database: Option<String>,
    },
    /// `SHOW ANALYZE STATUS [WHERE ...]`: the statistics jobs run.
    AnalyzeStatus {
        filter: Option<ShowFilter>,
    },
    /// `SHOW STATS META [WHERE ...]`: the tables with statistics.
    StatsMeta {
        filter: Option<ShowFilter>,
    },
    /// `SHOW [GLOBAL] [FULL] [BUILTIN] FUNCTIONS [FROM db] [LIKE ...]`.
    Functions {
        full: bool,
        builtin: bool,
        global: bool,
        database: Option<String>,
        filter: Option<ShowFilter>,
    },
}

/// `ORDER BY column [ASC | DESC], ... LIMIT [offset,] count` after a StarRocks job SHOW.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShowOrder {
    /// Column and ascending.
    pub order_by: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// Whose grants SHOW GRANTS lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantsTarget {
    /// The current user (also `FOR CURRENT_USER[()]`).
    CurrentUser,
    User(UserIdentity),
    Role(String),
}

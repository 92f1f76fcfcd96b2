//! The statements snaprock understands, as the parser hands them to the executor.

use sqlparser::ast::{DataType, Expr, Query};

pub use crate::access_ast::{
    AccessStatement, GrantObject, Grantee, Password, Privilege, RoleSelection, UserIdentity,
};
pub use crate::alter_ast::{AlterTableChange, ColumnPosition, IndexDef};
pub use crate::analyze::AnalyzeTable;
pub use crate::backup::{
    AttachSnapshot, BackupObject, BackupStatement, CheckSnapshot, CreateRepository, DropSnapshot,
    ObjectKind, RestoreStatement, SnapshotFilter,
};
pub use crate::mv_ast::{
    AlterMaterializedView, CreateMaterializedView, MaterializedViewStatement, RefreshKind,
    RefreshScheme,
};
pub use crate::set_ast::{SetItem, SetValue, VariableScope};
pub use crate::show_ast::{GrantsTarget, Show, ShowFilter, ShowOrder};
pub use crate::storage_volume::{CreateStorageVolume, StorageVolumeStatement};
pub use crate::task_ast::{IntervalUnit, SubmitTask, TaskSchedule};

/// One parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// SELECT, INSERT, DELETE, UPDATE, EXPLAIN, VALUES: planned by DataFusion.
    Standard(Box<sqlparser::ast::Statement>),
    /// `INSERT OVERWRITE t [PARTITION (p, ...) | PARTITION (c = v, ...)] <query>` (StarRocks).
    InsertOverwrite {
        table: ObjectName,
        partitions: Vec<String>,
        /// `PARTITION (c = v, ...)`: the partition holding these partition column values
        /// (made if the table's expression partitioning makes it), as literal text.
        partition_values: Vec<(String, String)>,
        columns: Vec<String>,
        query: Box<Query>,
    },
    /// `INSERT INTO | OVERWRITE t [PARTITION (...)] BY NAME <query>`: the query's columns go
    /// to the table's columns of the same names.
    InsertByName {
        table: ObjectName,
        partitions: Vec<String>,
        overwrite: bool,
        query: Box<Query>,
    },
    CreateDatabase {
        name: String,
        if_not_exists: bool,
        /// `PROPERTIES (...)` (`storage_volume`, ...), checked by the executor.
        properties: Vec<(String, String)>,
    },
    /// `DROP DATABASE d [FORCE]`: without FORCE the database goes to the recycle bin.
    DropDatabase {
        name: String,
        if_exists: bool,
        force: bool,
    },
    /// `ALTER TABLE t <change>[, <change> ...]`: columns, name, comment, properties.
    AlterTable {
        table: ObjectName,
        changes: Vec<AlterTableChange>,
    },
    /// `RECOVER DATABASE | TABLE | PARTITION`: brings back what a DROP put in the recycle bin.
    Recover(Recover),
    /// `ADMIN SET FRONTEND CONFIG ("key" = "value")`.
    AdminSetConfig {
        key: String,
        value: String,
    },
    /// `ADMIN SHOW FRONTEND CONFIG [LIKE 'pattern']`.
    AdminShowConfig {
        filter: Option<ShowFilter>,
    },
    /// `CREATE DATABASE db FROM SNAPSHOT snap ON repo`: a snapshot attached read-only.
    AttachSnapshot(Box<AttachSnapshot>),
    /// `ADMIN CHECK SNAPSHOT snap ON repo`: verifies a snapshot where it is.
    CheckSnapshot(Box<CheckSnapshot>),
    /// `DROP SNAPSHOT snap ON repo [FORCE]`.
    DropSnapshot(Box<DropSnapshot>),
    /// `USE [catalog.]db`.
    Use {
        catalog: Option<String>,
        database: String,
    },
    /// `SET CATALOG c`.
    SetCatalog(String),
    /// `INSERT ... WITH LABEL label ...`: the INSERT, committed at most once per label.
    Labeled {
        label: String,
        statement: Box<Statement>,
    },
    CreateTable(Box<CreateTable>),
    CreateTableLike {
        name: ObjectName,
        like: ObjectName,
        if_not_exists: bool,
    },
    DropTable {
        name: ObjectName,
        if_exists: bool,
        force: bool,
    },
    TruncateTable {
        name: ObjectName,
        partitions: Vec<String>,
    },
    AddPartition {
        table: ObjectName,
        partition: PartitionDef,
        if_not_exists: bool,
    },
    DropPartition {
        table: ObjectName,
        partition: String,
        if_exists: bool,
        force: bool,
    },
    /// `ALTER TABLE t DROP PARTITIONS [IF EXISTS] (p1, p2) | START .. END .. EVERY .. [FORCE]`.
    DropPartitions {
        table: ObjectName,
        /// Names, or one batch definition (`PartitionValues::Batch`) naming them.
        partitions: Vec<PartitionDef>,
        if_exists: bool,
        force: bool,
    },
    /// `ALTER TABLE t DROP PARTITIONS WHERE <condition on partition columns>`.
    DropPartitionsWhere {
        table: ObjectName,
        condition: Box<sqlparser::ast::Expr>,
    },
    CreateView(Box<CreateView>),
    /// `ANALYZE TABLE t ...`: collects the table's column statistics.
    Analyze(Box<AnalyzeTable>),
    /// `DROP STATS t`.
    DropStats(ObjectName),
    DropView {
        name: ObjectName,
        if_exists: bool,
    },
    Show(Show),
    Set(Vec<SetItem>),
    /// BEGIN / START TRANSACTION / COMMIT / ROLLBACK: accepted; every statement autocommits.
    Transaction(TransactionOp),
    Kill {
        connection_id: u64,
        query_only: bool,
    },
    /// Statements clients send that have nothing to do here (LOCK/UNLOCK TABLES, FLUSH, ...).
    Ignored(String),
    CreateRepository(Box<CreateRepository>),
    /// CREATE / ALTER / DROP / DESC STORAGE VOLUME, SHOW STORAGE VOLUMES, SET DEFAULT.
    StorageVolume(Box<StorageVolumeStatement>),
    DropRepository {
        name: String,
    },
    Backup(Box<BackupStatement>),
    Restore(Box<RestoreStatement>),
    /// `CANCEL BACKUP FROM db` / `CANCEL RESTORE FROM db`.
    CancelBackup {
        database: String,
        restore: bool,
    },
    /// Users, roles, passwords and privileges.
    Access(Box<AccessStatement>),
    /// `SUBMIT TASK ... AS <statement>`: a statement run once, or on a schedule.
    SubmitTask(Box<SubmitTask>),
    /// `DROP TASK [IF EXISTS] name`.
    DropTask {
        name: String,
        if_exists: bool,
    },
    /// CREATE / DROP / ALTER / REFRESH / CANCEL REFRESH MATERIALIZED VIEW.
    MaterializedView(Box<MaterializedViewStatement>),
}

/// `[db.]name` as written (names keep their case; StarRocks names are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName {
    pub database: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.database {
            Some(db) => write!(f, "{db}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// What `RECOVER` brings back from the recycle bin.
#[derive(Debug, Clone, PartialEq)]
pub enum Recover {
    Database(String),
    Table(ObjectName),
    Partition {
        partition: String,
        table: ObjectName,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionOp {
    Begin,
    Commit,
    Rollback,
}

/// CREATE TABLE in StarRocks form (a plain MySQL CREATE TABLE is the same without the tail).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub external: bool,
    pub columns: Vec<ColumnDef>,
    pub engine: Option<String>,
    pub keys: Option<KeysDef>,
    pub comment: Option<String>,
    pub partitioning: Option<PartitionBy>,
    pub distribution: Option<Distribution>,
    pub order_by: Vec<String>,
    pub properties: Vec<(String, String)>,
    /// CREATE TABLE ... AS SELECT: the query (columns then come from it).
    pub as_query: Option<Box<Query>>,
    /// A MySQL `PRIMARY KEY (a, b)` inside the column list.
    pub inline_primary_key: Vec<String>,
    /// `INDEX i (c) USING BITMAP ...` inside the column list.
    pub indexes: Vec<IndexDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: DataType,
    /// `None`: not said (nullable, except key columns of some models).
    pub nullable: Option<bool>,
    pub default: Option<Expr>,
    pub comment: Option<String>,
    /// StarRocks AGGREGATE KEY value columns: SUM, MAX, MIN, REPLACE, ...
    pub aggregation: Option<String>,
    pub auto_increment: bool,
    /// `col TYPE PRIMARY KEY` (MySQL form).
    pub primary_key: bool,
    /// `col TYPE KEY` (StarRocks form).
    pub key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysKind {
    Duplicate,
    Primary,
    Unique,
    Aggregate,
}

impl KeysKind {
    pub fn sql(self) -> &'static str {
        match self {
            KeysKind::Duplicate => "DUPLICATE KEY",
            KeysKind::Primary => "PRIMARY KEY",
            KeysKind::Unique => "UNIQUE KEY",
            KeysKind::Aggregate => "AGGREGATE KEY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysDef {
    pub kind: KeysKind,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionBy {
    Range {
        columns: Vec<String>,
        partitions: Vec<PartitionDef>,
        /// `PARTITION BY date_trunc('day', c)` / `time_slice(c, INTERVAL n unit)`: partitions are
        /// made as rows arrive (`partitions` are made in advance).
        time_function: Option<TimeFunction>,
        /// `RANGE(str2date(c, '%Y-%m-%d'))`: keys computed from expressions (named in `columns`).
        generated: Vec<GeneratedKey>,
    },
    List {
        columns: Vec<String>,
        partitions: Vec<PartitionDef>,
        /// `PARTITION BY (c1, c2)`: a partition is made for each value tuple as rows arrive.
        automatic: bool,
        /// `PARTITION BY from_unixtime(ts), city`: keys computed from expressions.
        generated: Vec<GeneratedKey>,
    },
}

/// A partition key computed from an expression, named in the partitioning's columns as
/// StarRocks names it (`__generated_partition_column_0`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    pub name: String,
    pub expr: Expr,
}

/// The time function of expression partitioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFunction {
    /// `date_trunc` or `time_slice`.
    pub function: String,
    /// `minute`, `hour`, `day`, `month` or `year`.
    pub unit: String,
    /// Units per partition (time_slice's INTERVAL; 1 for date_trunc).
    pub step: u32,
}

/// A bound value in a partition definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionValue {
    /// The literal's text (`'2024-01-01'` → `2024-01-01`, `-5` → `-5`).
    Literal(String),
    MaxValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionValues {
    /// `VALUES LESS THAN (v, ...)`: the lower bound is the previous partition's upper bound.
    LessThan(Vec<PartitionValue>),
    /// `VALUES [(lower...), (upper...))`.
    Fixed {
        lower: Vec<PartitionValue>,
        upper: Vec<PartitionValue>,
    },
    /// `VALUES IN (v, ...)` or `VALUES IN ((a, b), ...)`: one tuple per allowed key.
    In(Vec<Vec<PartitionValue>>),
    /// `START ("2024-01-01") END ("2024-12-31") EVERY (INTERVAL 1 MONTH)` or `EVERY (10)`:
    /// many range partitions at once, named by their start (the definition's name is empty).
    Batch(BatchRange),
}

/// The bounds and step of a batch of range partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRange {
    pub start: String,
    pub end: String,
    pub every: u64,
    /// `HOUR`, `DAY`, `WEEK`, `MONTH`, `YEAR` (upper case) for dates; `None` for numbers.
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDef {
    pub name: String,
    pub values: PartitionValues,
    pub properties: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distribution {
    Hash {
        columns: Vec<String>,
        buckets: Option<u64>,
    },
    Random {
        buckets: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateView {
    pub name: ObjectName,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub columns: Vec<String>,
    pub comment: Option<String>,
    /// The query text exactly as written after `AS`.
    pub query_sql: String,
    pub query: Box<Query>,
}

impl Statement {
    /// The statement's kind as logs and traces name it (`SELECT`, `CREATE TABLE`, ...): never
    /// its text, which can hold secrets.
    pub fn kind(&self) -> &'static str {
        match self {
            Statement::Standard(stmt) => match stmt.as_ref() {
                sqlparser::ast::Statement::Query(_) => "SELECT",
                sqlparser::ast::Statement::Insert(_) => "INSERT",
                sqlparser::ast::Statement::Delete(_) => "DELETE",
                sqlparser::ast::Statement::Update { .. } => "UPDATE",
                sqlparser::ast::Statement::Explain { .. } => "EXPLAIN",
                _ => "QUERY",
            },
            Statement::InsertOverwrite { .. } => "INSERT OVERWRITE",
            Statement::InsertByName { .. } => "INSERT BY NAME",
            Statement::CreateDatabase { .. } => "CREATE DATABASE",
            Statement::DropDatabase { .. } => "DROP DATABASE",
            Statement::Recover(Recover::Database(_)) => "RECOVER DATABASE",
            Statement::Recover(Recover::Table(_)) => "RECOVER TABLE",
            Statement::Recover(Recover::Partition { .. }) => "RECOVER PARTITION",
            Statement::AdminSetConfig { .. } => "ADMIN SET FRONTEND CONFIG",
            Statement::AdminShowConfig { .. } => "ADMIN SHOW FRONTEND CONFIG",
            Statement::AttachSnapshot(_) => "CREATE DATABASE FROM SNAPSHOT",
            Statement::CheckSnapshot(_) => "ADMIN CHECK SNAPSHOT",
            Statement::DropSnapshot(_) => "DROP SNAPSHOT",
            Statement::Use { .. } => "USE",
            Statement::SetCatalog(_) => "SET CATALOG",
            Statement::Labeled { statement, .. } => statement.kind(),
            Statement::CreateTable(_) => "CREATE TABLE",
            Statement::CreateTableLike { .. } => "CREATE TABLE LIKE",
            Statement::DropTable { .. } => "DROP TABLE",
            Statement::TruncateTable { .. } => "TRUNCATE TABLE",
            Statement::AddPartition { .. } => "ADD PARTITION",
            Statement::DropPartition { .. } => "DROP PARTITION",
            Statement::DropPartitions { .. } | Statement::DropPartitionsWhere { .. } => {
                "DROP PARTITIONS"
            }
            Statement::AlterTable { .. } => "ALTER TABLE",
            Statement::CreateView(_) => "CREATE VIEW",
            Statement::DropView { .. } => "DROP VIEW",
            Statement::Analyze(_) => "ANALYZE",
            Statement::DropStats(_) => "DROP STATS",
            Statement::Show(_) => "SHOW",
            Statement::Set(_) => "SET",
            Statement::Transaction(_) => "TRANSACTION",
            Statement::Kill { .. } => "KILL",
            Statement::Ignored(_) => "IGNORED",
            Statement::CreateRepository(_) => "CREATE REPOSITORY",
            Statement::StorageVolume(stmt) => stmt.kind(),
            Statement::DropRepository { .. } => "DROP REPOSITORY",
            Statement::Backup(_) => "BACKUP",
            Statement::Restore(_) => "RESTORE",
            Statement::CancelBackup { .. } => "CANCEL",
            Statement::Access(_) => "ACCOUNT",
            Statement::SubmitTask(_) => "SUBMIT TASK",
            Statement::DropTask { .. } => "DROP TASK",
            Statement::MaterializedView(mv) => match mv.as_ref() {
                MaterializedViewStatement::Create(_) => "CREATE MATERIALIZED VIEW",
                MaterializedViewStatement::Drop { .. } => "DROP MATERIALIZED VIEW",
                MaterializedViewStatement::Alter { .. } => "ALTER MATERIALIZED VIEW",
                MaterializedViewStatement::Refresh { .. } => "REFRESH MATERIALIZED VIEW",
                MaterializedViewStatement::CancelRefresh { .. } => {
                    "CANCEL REFRESH MATERIALIZED VIEW"
                }
            },
        }
    }
}

//! Materialized view statements as the parser hands them over (`materialized_view.rs` parses
//! them).

use sqlparser::ast::Query;

use crate::ast::{Distribution, ObjectName, PartitionBy, TaskSchedule};

/// CREATE, DROP, ALTER, REFRESH and CANCEL REFRESH of a materialized view.
#[derive(Debug, Clone, PartialEq)]
pub enum MaterializedViewStatement {
    Create(Box<CreateMaterializedView>),
    Drop {
        name: ObjectName,
        if_exists: bool,
    },
    Alter {
        name: ObjectName,
        change: AlterMaterializedView,
    },
    /// `REFRESH MATERIALIZED VIEW mv [PARTITION START (..) END (..)] [FORCE]
    /// [WITH SYNC | ASYNC MODE]`.
    Refresh {
        name: ObjectName,
        force: bool,
        /// `WITH SYNC MODE`: the statement returns when the refresh has ended.
        sync: bool,
    },
    /// `CANCEL REFRESH MATERIALIZED VIEW mv [FORCE]`.
    CancelRefresh {
        name: ObjectName,
    },
}

/// `CREATE MATERIALIZED VIEW [IF NOT EXISTS] [db.]mv [(c [COMMENT ''], ...)] [COMMENT '']
/// [PARTITION BY ..] [DISTRIBUTED BY ..] [ORDER BY (..)] [REFRESH ..] [PROPERTIES (..)] AS query`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateMaterializedView {
    pub name: ObjectName,
    pub if_not_exists: bool,
    /// Column names given before the query's; empty when the query names them.
    pub columns: Vec<String>,
    pub comment: Option<String>,
    pub partition_by: Option<PartitionBy>,
    pub distribution: Option<Distribution>,
    pub order_by: Vec<String>,
    /// `None` without REFRESH: synchronous when nothing else (DISTRIBUTED BY) is said either,
    /// as StarRocks decides.
    pub refresh: Option<RefreshScheme>,
    pub properties: Vec<(String, String)>,
    /// The query as written after `AS`: stored, shown, and planned again at every refresh.
    pub query_sql: String,
    pub query: Box<Query>,
}

impl CreateMaterializedView {
    /// StarRocks' rule: no REFRESH and no DISTRIBUTED BY make a synchronous view.
    pub fn is_synchronous(&self) -> bool {
        self.refresh.is_none() && self.distribution.is_none() && self.partition_by.is_none()
    }
}

/// `REFRESH [IMMEDIATE | DEFERRED] {ASYNC [START ('..')] [EVERY (INTERVAL n unit)] | MANUAL |
/// INCREMENTAL}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshScheme {
    /// `DEFERRED`: no refresh at creation.
    pub deferred: bool,
    pub kind: RefreshKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshKind {
    /// `ASYNC`: on a schedule, or (without EVERY) whenever a base table's data changes.
    Async(Option<TaskSchedule>),
    Manual,
    Incremental,
}

/// What `ALTER MATERIALIZED VIEW mv ...` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterMaterializedView {
    Rename(String),
    Refresh(RefreshScheme),
    Active,
    Inactive,
    SetProperties(Vec<(String, String)>),
}

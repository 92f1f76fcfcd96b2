//! What makes a table an asynchronous materialized view: the query it is refreshed from, how
//! and when it refreshes, whether it is active, and which base data its rows were computed
//! from.
//!
//! The view's rows are an ordinary table's (partitions, Parquet files, versions), so scans,
//! SHOW DATA, backup and restore treat it as one; this part of its `TableMeta` travels with
//! it. Its refresh schedule lives here too, not in the task list, so a restored view refreshes
//! again without anything else restored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::CatalogState;

/// A materialized view's definition and state (see the module comment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterializedViewMeta {
    /// The query as written after `AS`.
    pub query_sql: String,
    /// The names given before the query (`CREATE MATERIALIZED VIEW mv (a, b)`), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_names: Vec<String>,
    pub refresh: MvRefresh,
    /// The tables the query reads, as they were when it was created (or last made active).
    pub base_tables: Vec<BaseTable>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_reason: Option<String>,
    /// `'user'@'host'` of the creator: refreshes run with its privileges.
    pub creator_user: String,
    pub creator_host: String,
    /// When it was created (epoch ms): a schedule's first run is counted from here.
    pub created_ms: i64,
    /// The base data the current rows were computed from; `None` before the first refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_from: Option<BaseVersions>,
    /// The base data the last refresh read, whether it succeeded or not (or, for a view
    /// created DEFERRED, the data at creation): a view refreshed on change refreshes when the
    /// base data is no longer this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempted_from: Option<BaseVersions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<LastRefresh>,
}

/// How the view refreshes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MvRefresh {
    /// `REFRESH ASYNC`: on a schedule, or without one whenever a base table's data changes.
    Async {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schedule: Option<MvSchedule>,
    },
    /// `REFRESH MANUAL`: only when asked.
    Manual,
    /// A synchronous (single-table, "rollup") view: refreshed after every change of its base
    /// table's data, used only while fresh, not listed among the database's tables, and
    /// backed up and restored with its base table.
    Sync,
}

impl MvRefresh {
    /// `refresh_type` as SHOW MATERIALIZED VIEWS lists it.
    pub fn type_name(&self) -> &'static str {
        match self {
            MvRefresh::Async { .. } => "ASYNC",
            MvRefresh::Manual => "MANUAL",
            MvRefresh::Sync => "ROLLUP",
        }
    }
}

/// `START ('...') EVERY (INTERVAL amount unit)`: runs at `start_ms + k * period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MvSchedule {
    pub start_ms: i64,
    pub amount: u64,
    /// `SECOND`, `MINUTE`, `HOUR` or `DAY`.
    pub unit: String,
    /// The START text as written, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_text: Option<String>,
}

/// A table a view's query reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseTable {
    pub database: String,
    pub table: String,
    /// The table's id then: a table dropped and created again under the name is another one.
    pub table_id: u64,
}

/// The data versions of the base tables, by table id: each partition's id and version.
pub type BaseVersions = BTreeMap<u64, Vec<(u64, u64)>>;

/// How the last refresh went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRefresh {
    pub start_ms: i64,
    pub finish_ms: Option<i64>,
    /// `RUNNING`, `SUCCESS` or `FAILED`.
    pub state: String,
    pub force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The query id of the task run.
    #[serde(default)]
    pub query_id: String,
}

impl MaterializedViewMeta {
    /// The base tables' data versions in `state`; `Err` names the first base table that is
    /// gone (dropped, or dropped and created again).
    pub fn base_versions(&self, state: &CatalogState) -> Result<BaseVersions, String> {
        let mut versions = BaseVersions::new();
        for base in &self.base_tables {
            let table = state
                .table(&base.database, &base.table)
                .filter(|t| t.id == base.table_id)
                .ok_or_else(|| format!("base-table dropped: {}", base.table))?;
            versions.insert(
                table.id,
                table.partitions.iter().map(|p| (p.id, p.version)).collect(),
            );
        }
        Ok(versions)
    }

    /// A synchronous view's base table (its only one).
    pub fn rollup_of(&self) -> Option<&BaseTable> {
        match self.refresh {
            MvRefresh::Sync => self.base_tables.first(),
            _ => None,
        }
    }

    /// Whether the view's rows are those of the base tables in `state`.
    pub fn is_fresh(&self, state: &CatalogState) -> bool {
        match (&self.refreshed_from, self.base_versions(state)) {
            (Some(from), Ok(now)) => *from == now,
            _ => false,
        }
    }
}

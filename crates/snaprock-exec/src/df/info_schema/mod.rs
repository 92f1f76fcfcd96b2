//! `information_schema` with MySQL's table and column names, built from the statement's catalog
//! snapshot. Each table is one `SystemTable`: its columns and its row maker side by side
//! (`catalog_tables.rs`, `server_tables.rs`, `task_tables.rs`, `starrocks_tables.rs`,
//! `backend_tables.rs`), so a
//! column cannot drift from its value.

mod backend_tables;
mod catalog_tables;
pub(crate) mod load_tables;
mod routine_tables;
mod server_tables;
mod starrocks_tables;
mod task_tables;
mod view_tables;

pub use backend_tables::ServerSetting;
pub(crate) use view_tables::{SHOW_COLUMNS as SHOW_MATERIALIZED_VIEWS_COLUMNS, view_row};

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result as DfResult;
use snaprock_storage::{CatalogState, KeysModel};

use crate::df::catalog_provider::{INFORMATION_SCHEMA, StatementContext, external};
use crate::result::{Cell, CellKind, RowsBuilder};

/// One information_schema table.
pub(crate) struct SystemTable {
    pub(crate) name: &'static str,
    /// Column names; a `#` suffix marks an integer column.
    pub(crate) columns: &'static [&'static str],
    /// Pushes the rows the session may see (the state is already filtered to its privileges).
    rows: fn(&StatementContext, &CatalogState, &mut RowsBuilder),
}

const SYSTEM_TABLES: &[SystemTable] = &[
    catalog_tables::SCHEMATA,
    catalog_tables::TABLES,
    catalog_tables::COLUMNS,
    catalog_tables::STATISTICS,
    catalog_tables::KEY_COLUMN_USAGE,
    catalog_tables::TABLE_CONSTRAINTS,
    catalog_tables::REFERENTIAL_CONSTRAINTS,
    routine_tables::ROUTINES,
    routine_tables::PARAMETERS,
    server_tables::ENGINES,
    server_tables::KEYWORDS,
    routine_tables::TRIGGERS,
    catalog_tables::VIEWS,
    catalog_tables::PARTITIONS,
    server_tables::CHARACTER_SETS,
    server_tables::COLLATIONS,
    catalog_tables::CHECK_CONSTRAINTS,
    routine_tables::EVENTS,
    server_tables::PROCESSLIST,
    server_tables::GLOBAL_VARIABLES,
    server_tables::SESSION_VARIABLES,
    server_tables::USER_PRIVILEGES,
    server_tables::SCHEMA_PRIVILEGES,
    server_tables::TABLE_PRIVILEGES,
    server_tables::COLUMN_PRIVILEGES,
    task_tables::TASKS,
    task_tables::TASK_RUNS,
    starrocks_tables::PARTITIONS_META,
    starrocks_tables::TABLES_CONFIG,
    starrocks_tables::APPLICABLE_ROLES,
    load_tables::LOADS,
    starrocks_tables::BE_TABLETS,
    backend_tables::BE_CONFIGS,
    backend_tables::BE_METRICS,
    backend_tables::BE_THREADS,
    backend_tables::BE_COMPACTIONS,
    backend_tables::BE_TXNS,
    backend_tables::BE_LOGS,
    backend_tables::BE_BVARS,
    view_tables::MATERIALIZED_VIEWS,
];

fn find(name: &str) -> Option<&'static SystemTable> {
    SYSTEM_TABLES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

/// A table with no rows here (routines, triggers, events, privileges tables).
fn no_rows(_: &StatementContext, _: &CatalogState, _: &mut RowsBuilder) {}

/// (lower-case field, upper-case display) names of an information_schema table's columns.
pub(crate) fn column_names(table: &str) -> Vec<(String, String)> {
    find(table)
        .map(|system| {
            system
                .columns
                .iter()
                .map(|c| {
                    let name = c.trim_end_matches('#');
                    (name.to_lowercase(), name.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn builder(columns: &[&str]) -> RowsBuilder {
    let cols: Vec<(&str, CellKind)> = columns
        .iter()
        .map(|c| match c.strip_suffix('#') {
            Some(name) => (name, CellKind::Int),
            None => (*c, CellKind::Text),
        })
        .collect();
    RowsBuilder::new(&cols)
}

pub(super) fn t(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

pub(super) const NULL: Cell = Cell::Text(None);
pub(super) const NULL_INT: Cell = Cell::Int(None);

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
        SYSTEM_TABLES.iter().map(|t| t.name.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(system) = find(name) else {
            return Err(external(crate::ExecError::UnknownTable(format!(
                "{INFORMATION_SCHEMA}.{name}"
            ))));
        };
        let mut rows = builder(system.columns);
        // Only the databases, tables and views the session may see.
        let state = self.ctx.visible_state();
        (system.rows)(&self.ctx, &state, &mut rows);
        let batch = rows.batch().map_err(external)?;
        Ok(Some(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        find(name).is_some()
    }
}

pub(super) fn key_name(model: KeysModel) -> &'static str {
    match model {
        KeysModel::Primary => "PRI",
        KeysModel::Unique => "UNI",
        _ => "",
    }
}

/// The information_schema tables, in the order SHOW TABLES lists them.
pub(crate) fn table_list() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    SYSTEM_TABLES.iter().map(|t| (t.name, t.columns))
}

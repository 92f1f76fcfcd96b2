//! Presents one catalog snapshot to DataFusion: a catalog `def` with a schema per database and
//! `information_schema`. A statement plans and runs against one snapshot, so it sees every
//! table as of the same moment.
//!
//! Every table the planner resolves through `def` is checked against the session's privileges
//! here, after DataFusion has told CTE names from tables: SELECT, or the statement's DML
//! privilege for its target table. Tables inside an expanded view are resolved through the
//! view catalog, which does not check: SELECT on the view is what reading it needs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use snaprock_access::{Effective, Target};
use snaprock_sql::ast::Privilege;
use snaprock_storage::CatalogState;

use crate::ExecError;
use crate::df::info_schema;
use crate::df::provider::SnaprockTable;
use crate::engine::Engine;

/// Name of the DataFusion catalog holding every database.
pub const CATALOG_NAME: &str = "def";
/// StarRocks' name of its internal catalog: `default_catalog.db.t` names a table too.
pub const DEFAULT_CATALOG: &str = "default_catalog";

/// `SET CATALOG c` / `USE c.db`: only the internal catalog exists (StarRocks' text otherwise).
pub(crate) fn check_catalog(catalog: &str) -> crate::Result<()> {
    if catalog.eq_ignore_ascii_case(DEFAULT_CATALOG) {
        return Ok(());
    }
    Err(ExecError::Analysis(format!("Unknown catalog '{catalog}'")))
}
/// Default schema when no database is selected: every lookup in it fails with 1046.
pub const NO_DATABASE: &str = "__snaprock_no_database__";
pub const INFORMATION_SCHEMA: &str = "information_schema";
/// Catalog through which the tables of expanded views are read (see the module comment).
pub const VIEW_CATALOG: &str = "__snaprock_view";

/// The table an INSERT, DELETE or UPDATE writes, and the privilege that needs.
#[derive(Debug, Clone)]
pub struct DmlTarget {
    pub database: String,
    pub table: String,
    pub privilege: Privilege,
    /// A materialized view's refresh: it writes the view's rows with no privilege on the
    /// view (the query's tables are checked as they are read).
    pub refresh: bool,
    /// An INSERT: the load it commits (SHOW LOAD lists it).
    pub load: Option<LoadStart>,
}

/// An INSERT as a load, before it commits: recorded in its commit (snaprock-storage's `loads`).
#[derive(Debug, Clone)]
pub struct LoadStart {
    /// `WITH LABEL l`, or StarRocks' generated `insert_<uuid>`.
    pub label: String,
    pub user: String,
    /// When the statement was planned (ms since the epoch).
    pub created_ms: i64,
}

/// A load that committed: what the INSERT's OK packet reports.
#[derive(Debug, Clone)]
pub struct CommittedLoad {
    pub label: String,
    pub job_id: u64,
}

/// What one statement sees.
pub struct StatementContext {
    pub engine: Arc<Engine>,
    pub state: Arc<CatalogState>,
    /// The databases, tables and views the session may see (information_schema shows these);
    /// computed when first needed.
    pub visible: std::sync::OnceLock<Arc<CatalogState>>,
    /// The session's privileges; `None` for the server's own statements.
    pub privileges: Option<Effective>,
    /// The table the statement writes, if it is DML.
    pub dml_target: Option<DmlTarget>,
    /// `INSERT OVERWRITE t PARTITION (...)`: the partitions to replace.
    pub overwrite_partitions: Mutex<Option<Vec<String>>>,
    /// `scan_olap_partition_num_limit`: the most partitions one table scan may read (0: any).
    pub scan_partition_limit: u64,
    /// Tables made by FILES() calls of this statement.
    pub files_tables: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
    /// Set by the statement's INSERT when its load commits.
    pub committed_load: Arc<std::sync::OnceLock<CommittedLoad>>,
}

pub(crate) fn external(e: ExecError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl StatementContext {
    /// What information_schema shows: the catalog filtered to what the session may see.
    pub(crate) fn visible_state(&self) -> Arc<CatalogState> {
        self.visible
            .get_or_init(|| match &self.privileges {
                Some(p) => visible_state(&self.state, p),
                None => self.state.clone(),
            })
            .clone()
    }

    /// Whether the statement may use table `db.table`: SELECT, or the DML privilege when it is
    /// the table the statement writes.
    pub(crate) fn check_table_use(&self, db: &str, table: &str) -> Result<(), ExecError> {
        let Some(privileges) = &self.privileges else {
            return Ok(());
        };
        let privilege = match &self.dml_target {
            Some(t) if t.database == db && t.table == table && t.refresh => return Ok(()),
            Some(t) if t.database == db && t.table == table => t.privilege,
            _ => Privilege::Select,
        };
        Ok(privileges.check(privilege, &Target::table(db, table))?)
    }
}

/// The databases, tables and views of `state` that `privileges` may see.
pub(crate) fn visible_state(
    state: &Arc<CatalogState>,
    privileges: &Effective,
) -> Arc<CatalogState> {
    if privileges.sees_everything() {
        return state.clone();
    }
    let mut visible = (**state).clone();
    visible
        .databases
        .retain(|name, _| privileges.sees_database(name));
    for (name, db) in visible.databases.iter_mut() {
        let mut filtered = (**db).clone();
        filtered
            .tables
            .retain(|t, _| privileges.sees_table(name, t));
        filtered.views.retain(|v, _| privileges.sees_table(name, v));
        *db = Arc::new(filtered);
    }
    Arc::new(visible)
}

#[derive(Clone)]
pub struct SnapshotCatalog {
    pub ctx: Arc<StatementContext>,
    /// Whether tables resolved through this catalog are checked against the privileges.
    pub checked: bool,
}

impl std::fmt::Debug for SnapshotCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotCatalog")
            .field("version", &self.ctx.state.version)
            .finish()
    }
}

impl CatalogProvider for SnapshotCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.ctx.state.databases.keys().cloned().collect();
        names.push(INFORMATION_SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == crate::df::FILES_SCHEMA {
            return Some(Arc::new(FilesSchema {
                ctx: self.ctx.clone(),
            }));
        }
        if name.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
            return Some(Arc::new(info_schema::InformationSchema {
                ctx: self.ctx.clone(),
            }));
        }
        Some(Arc::new(DatabaseSchema {
            ctx: self.ctx.clone(),
            database: name.to_string(),
            checked: self.checked,
        }))
    }
}

/// Separates a table's name from the partitions `FROM t PARTITION (p1, p2)` selects, in the
/// name the rewrite gives such a table (a character no identifier holds).
const PARTITION_SELECTION: char = '\u{1f}';

/// The name that reads only `partitions` of `table`.
pub(crate) fn with_partitions(table: &str, partitions: &[String]) -> String {
    let mut name = table.to_string();
    for p in partitions {
        name.push(PARTITION_SELECTION);
        name.push_str(p);
    }
    name
}

/// A table name and the partitions it selects, if any.
pub(crate) fn split_partitions(name: &str) -> (&str, Option<Vec<String>>) {
    match name.split_once(PARTITION_SELECTION) {
        None => (name, None),
        Some((table, rest)) => (
            table,
            Some(
                rest.split(PARTITION_SELECTION)
                    .map(str::to_string)
                    .collect(),
            ),
        ),
    }
}

/// DataFusion's table functions that queries may call.
const TABLE_FUNCTIONS: [&str; 2] = ["generate_series", "range"];

/// The tables of one database.
pub struct DatabaseSchema {
    ctx: Arc<StatementContext>,
    database: String,
    checked: bool,
}

impl std::fmt::Debug for DatabaseSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSchema")
            .field("database", &self.database)
            .finish()
    }
}

impl DatabaseSchema {
    /// A synchronous materialized view is no table of its database (StarRocks): only its
    /// refresh writes it and only the query rewrite reads it, through the view catalog, while
    /// it is up to date, so no statement ever sees it stale.
    fn is_hidden_rollup(&self, name: &str) -> bool {
        let refreshing = self
            .ctx
            .dml_target
            .as_ref()
            .is_some_and(|t| t.refresh && t.database == self.database && t.table == name);
        !refreshing
            && self
                .ctx
                .state
                .table(&self.database, name)
                .is_some_and(|t| t.is_rollup())
    }
}

#[async_trait]
impl SchemaProvider for DatabaseSchema {
    fn table_names(&self) -> Vec<String> {
        self.ctx
            .state
            .database(&self.database)
            .map(|d| d.tables.keys().cloned().collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let (name, selected) = split_partitions(name);
        // DataFusion resolves a table function's name as a table first: no such table is no
        // error then (`TABLE(generate_series(1, 3))`).
        if TABLE_FUNCTIONS.contains(&name) && self.ctx.state.table(&self.database, name).is_none() {
            return Ok(None);
        }
        if self.database == NO_DATABASE {
            return Err(external(ExecError::NoDatabaseSelected));
        }
        if self.checked && self.is_hidden_rollup(name) {
            return Err(external(ExecError::UnknownTable(format!(
                "{}.{name}",
                self.database
            ))));
        }
        if self.checked {
            self.ctx
                .check_table_use(&self.database, name)
                .map_err(external)?;
        }
        let db = self
            .ctx
            .state
            .database(&self.database)
            .ok_or_else(|| external(ExecError::UnknownDatabase(self.database.clone())))?;
        let table = db.tables.get(name).ok_or_else(|| {
            external(ExecError::UnknownTable(format!("{}.{name}", self.database)))
        })?;
        let mut provider = SnaprockTable::new(self.ctx.clone(), &self.database, table.clone())
            .map_err(external)?;
        if let Some(selected) = selected {
            provider.select_partitions(selected).map_err(external)?;
        }
        Ok(Some(Arc::new(provider)))
    }

    fn table_exist(&self, name: &str) -> bool {
        let (name, _) = split_partitions(name);
        self.ctx.state.table(&self.database, name).is_some()
    }
}

/// The tables FILES() calls of the running statement read.
pub struct FilesSchema {
    ctx: Arc<StatementContext>,
}

impl std::fmt::Debug for FilesSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FilesSchema")
    }
}

#[async_trait]
impl SchemaProvider for FilesSchema {
    fn table_names(&self) -> Vec<String> {
        self.ctx
            .files_tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        Ok(self
            .ctx
            .files_tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned())
    }

    fn table_exist(&self, name: &str) -> bool {
        self.ctx
            .files_tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(name)
    }
}

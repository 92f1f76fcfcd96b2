//! Presents one catalog snapshot to DataFusion: a catalog `def` with a schema per database and
//! `information_schema`. A statement plans and runs against one snapshot, so it sees every
//! table as of the same moment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use snaprock_storage::CatalogState;

use crate::ExecError;
use crate::engine::Engine;
use crate::info_schema;
use crate::provider::SnaprockTable;

/// Name of the DataFusion catalog holding every database.
pub const CATALOG_NAME: &str = "def";
/// Default schema when no database is selected: every lookup in it fails with 1046.
pub const NO_DATABASE: &str = "__snaprock_no_database__";
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// What one statement sees.
pub struct StatementContext {
    pub engine: Arc<Engine>,
    pub state: Arc<CatalogState>,
    /// `INSERT OVERWRITE t PARTITION (...)`: the partitions to replace.
    pub overwrite_partitions: Mutex<Option<Vec<String>>>,
    /// Tables made by FILES() calls of this statement.
    pub files_tables: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

pub(crate) fn external(e: ExecError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[derive(Clone)]
pub struct SnapshotCatalog {
    pub ctx: Arc<StatementContext>,
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
        if name == crate::query::FILES_SCHEMA {
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
        }))
    }
}

/// The tables of one database.
pub struct DatabaseSchema {
    ctx: Arc<StatementContext>,
    database: String,
}

impl std::fmt::Debug for DatabaseSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSchema")
            .field("database", &self.database)
            .finish()
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
        if self.database == NO_DATABASE {
            return Err(external(ExecError::NoDatabaseSelected));
        }
        let db = self
            .ctx
            .state
            .database(&self.database)
            .ok_or_else(|| external(ExecError::UnknownDatabase(self.database.clone())))?;
        let table = db.tables.get(name).ok_or_else(|| {
            external(ExecError::UnknownTable(format!("{}.{name}", self.database)))
        })?;
        let provider = SnaprockTable::new(self.ctx.clone(), &self.database, table.clone())
            .map_err(external)?;
        Ok(Some(Arc::new(provider)))
    }

    fn table_exist(&self, name: &str) -> bool {
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

//! One refresh of an asynchronous materialized view: the view's query runs as its creator in
//! the view's database and its rows replace the view's in one commit (INSERT OVERWRITE of the
//! whole view), so a reader sees the old rows or the new ones, never a mix, and a refresh cut
//! short by a crash leaves the old rows. The same commit records which base data the new rows
//! were computed from, so the rows and the versions they reflect never disagree (whatever order
//! concurrent refreshes commit in); the query rewrite uses a view only while those versions are
//! its base tables' current ones.

use std::sync::Arc;

use snaprock_sql::ast::{ObjectName, Statement, UserIdentity};
use snaprock_sql::sqlparser::ast::{Query, Statement as SqlStatement};
use snaprock_storage::{
    BaseVersions, CatalogState, LastRefresh, MaterializedViewMeta, StorageError,
};
use tracing::info;

use crate::engine::Engine;
use crate::{ExecError, Result};

/// Refreshes view `table_id` of `database` (task run `query_id`); unless `force`, a view whose
/// rows are those of its base tables' current data is left as it is. Returns the rows written.
pub(crate) async fn refresh_view(
    engine: &Arc<Engine>,
    database: &str,
    table_id: u64,
    force: bool,
    query_id: &str,
) -> Result<u64> {
    let state = engine.catalog.snapshot();
    let (name, view) = view_by_id(&state, database, table_id)?;
    if !view.active {
        return Err(ExecError::Analysis(format!(
            "Materialized view {name} is not active ({}), cannot be refreshed",
            view.inactive_reason.as_deref().unwrap_or("inactive")
        )));
    }
    let current = match view.base_versions(&state) {
        Ok(versions) => versions,
        Err(reason) => {
            update_view(engine, database, table_id, |v| {
                v.active = false;
                v.inactive_reason = Some(reason.clone());
            })?;
            return Err(ExecError::Analysis(format!(
                "Materialized view {name} became inactive: {reason}"
            )));
        }
    };
    let start_ms = crate::tasks::now_ms();
    let running = LastRefresh {
        start_ms,
        finish_ms: None,
        state: "RUNNING".into(),
        force,
        error_message: None,
        query_id: query_id.to_string(),
    };
    if !force && view.refreshed_from.as_ref() == Some(&current) {
        info!(view = %name, "materialized view is fresh; nothing to refresh");
        update_view(engine, database, table_id, |v| {
            v.attempted_from = Some(current.clone());
            v.last_refresh = Some(finished(running, None));
        })?;
        return Ok(0);
    }
    update_view(engine, database, table_id, |v| {
        v.last_refresh = Some(running.clone())
    })?;
    let result = overwrite(engine, database, &name, &view).await;
    update_view(engine, database, table_id, |v| match &result {
        Ok((read, _)) => {
            // `refreshed_from` was set with the rows, in the overwrite's own commit.
            v.attempted_from = Some(read.clone());
            v.last_refresh = Some(finished(running.clone(), None));
        }
        Err(e) => {
            v.attempted_from = Some(current.clone());
            v.last_refresh = Some(finished(running.clone(), Some(e.to_string())));
        }
    })?;
    let (_, rows) = result?;
    info!(view = %name, rows, "materialized view refreshed");
    Ok(rows)
}

fn finished(mut refresh: LastRefresh, error: Option<String>) -> LastRefresh {
    refresh.finish_ms = Some(crate::tasks::now_ms());
    refresh.state = if error.is_some() { "FAILED" } else { "SUCCESS" }.into();
    refresh.error_message = error;
    refresh
}

/// Runs the view's query as its creator and overwrites the view with its rows; the base data
/// it read and the rows written.
async fn overwrite(
    engine: &Arc<Engine>,
    database: &str,
    name: &str,
    view: &MaterializedViewMeta,
) -> Result<(BaseVersions, u64)> {
    let mut session = engine.internal_session(UserIdentity {
        user: view.creator_user.clone(),
        host: view.creator_host.clone(),
    });
    session.use_database(database)?;
    let query = view_query(&view.query_sql)?;
    let target = ObjectName {
        database: Some(database.to_string()),
        name: name.to_string(),
    };
    let (read, rows) =
        crate::statements::query::overwrite_view(&mut session, &target, query).await?;
    let versions = view.base_versions(&read).map_err(ExecError::Analysis)?;
    Ok((versions, rows))
}

/// A view's stored query, parsed.
pub(super) fn view_query(query_sql: &str) -> Result<Box<Query>> {
    match snaprock_sql::parse_statement(query_sql)? {
        Statement::Standard(stmt) => match *stmt {
            SqlStatement::Query(query) => Ok(query),
            _ => Err(ExecError::Plan(
                "a materialized view's query is not a query".into(),
            )),
        },
        _ => Err(ExecError::Plan(
            "a materialized view's query is not a query".into(),
        )),
    }
}

/// The name and definition of view `table_id` in `database`.
pub(crate) fn view_by_id(
    state: &CatalogState,
    database: &str,
    table_id: u64,
) -> Result<(String, Arc<MaterializedViewMeta>)> {
    state
        .database(database)
        .and_then(|d| d.tables.values().find(|t| t.id == table_id))
        .and_then(|t| Some((t.name.clone(), t.materialized_view.clone()?)))
        .ok_or_else(|| {
            ExecError::Analysis(format!(
                "materialized view {table_id} of database {database} no longer exists"
            ))
        })
}

/// Changes the definition of view `table_id` in `database` (one commit).
pub(crate) fn update_view(
    engine: &Engine,
    database: &str,
    table_id: u64,
    change: impl FnOnce(&mut MaterializedViewMeta),
) -> Result<()> {
    engine.catalog.commit(|s| {
        let db = s
            .databases
            .get_mut(database)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        let table = Arc::make_mut(db)
            .tables
            .values_mut()
            .find(|t| t.id == table_id)
            .ok_or(StorageError::Conflict)?;
        let view = Arc::make_mut(table)
            .materialized_view
            .as_mut()
            .ok_or(StorageError::Conflict)?;
        change(Arc::make_mut(view));
        Ok(())
    })?;
    Ok(())
}

//! Asynchronous materialized views: CREATE (`create.rs`), DROP, ALTER, REFRESH and CANCEL
//! REFRESH here, one refresh in `refresh.rs`. A view's rows are a table's (so scans, SHOW
//! DATA, backup and restore treat them as one) marked with its definition; only its refresh
//! writes them. Refreshes run as task runs (`information_schema.task_runs`, task `mv-<id>`),
//! started by REFRESH or by the task scheduler (`tasks/refresh.rs`) on the view's schedule or
//! when its base tables' data changes.

mod create;
mod refresh;

pub(crate) use refresh::{refresh_view, update_view, view_by_id};

use std::sync::Arc;

use snaprock_sql::ast::{AlterMaterializedView, MaterializedViewStatement, ObjectName, Statement};
use snaprock_storage::{MaterializedViewMeta, StorageError};

use crate::result::{Cell, Output, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result};

pub(crate) async fn run(
    session: &mut Session,
    statement: MaterializedViewStatement,
    sql: &str,
) -> Result<Output> {
    match statement {
        MaterializedViewStatement::Create(create) => create::create(session, *create, sql).await,
        MaterializedViewStatement::Drop { name, if_exists } => drop(session, &name, if_exists),
        MaterializedViewStatement::Alter { name, change } => alter(session, &name, change).await,
        MaterializedViewStatement::Refresh { name, force, sync } => {
            let (database, id, _) = find(session, &name)?;
            let engine = session.engine.clone();
            let query_id = if sync {
                engine
                    .tasks
                    .refresh_now(&engine, &database, id, force)
                    .await?
            } else {
                engine.tasks.start_refresh(&engine, &database, id, force)?
            };
            let mut rows = RowsBuilder::text(&["QUERY_ID"]);
            rows.push(vec![Cell::Text(Some(query_id))]);
            Ok(Output::Rows(rows.into_result()?))
        }
        MaterializedViewStatement::CancelRefresh { name } => {
            let (_, id, _) = find(session, &name)?;
            // A refresh commits its rows in one step at its end: a cancelled refresh is one
            // whose result is not waited for; StarRocks answers OK with nothing running, too.
            session.engine.tasks.cancel_refresh(&session.engine, id);
            Ok(Output::ok())
        }
    }
}

/// The database, table id and definition of materialized view `name`.
fn find(session: &Session, name: &ObjectName) -> Result<(String, u64, Arc<MaterializedViewMeta>)> {
    let (db, view) = session.resolve(name)?;
    let state = session.engine.catalog.snapshot();
    if state.database(&db).is_none() {
        return Err(ExecError::UnknownDatabase(db));
    }
    match state.table(&db, &view) {
        Some(t) => match &t.materialized_view {
            Some(mv) => Ok((db, t.id, mv.clone())),
            None => Err(not_a_view(&view)),
        },
        None => Err(ExecError::UnknownTable(format!("{db}.{view}"))),
    }
}

fn not_a_view(name: &str) -> ExecError {
    ExecError::Analysis(format!("Materialized view {name} is not found"))
}

/// DROP MATERIALIZED VIEW: the view's rows go at once (a view comes back by being created
/// again, not from the recycle bin); its refreshes stop with it.
fn drop(session: &mut Session, name: &ObjectName, if_exists: bool) -> Result<Output> {
    let (db, view) = session.resolve(name)?;
    let state = session.engine.catalog.snapshot();
    if state
        .table(&db, &view)
        .is_some_and(|t| t.materialized_view.is_none())
    {
        return Err(not_a_view(&view));
    }
    session.engine.catalog.commit(|s| {
        let table = match s.table(&db, &view) {
            Some(t) if t.materialized_view.is_some() => t.clone(),
            Some(_) => {
                return Err(StorageError::InvalidDefinition(format!(
                    "Materialized view {view} is not found"
                )));
            }
            None if if_exists => return Ok(()),
            None => {
                return Err(StorageError::UnknownTable {
                    database: db.clone(),
                    table: view.clone(),
                });
            }
        };
        let dbm = s.databases.get_mut(&db).ok_or(StorageError::Conflict)?;
        Arc::make_mut(dbm).tables.remove(&table.name);
        Ok(())
    })?;
    Ok(Output::ok())
}

async fn alter(
    session: &mut Session,
    name: &ObjectName,
    change: AlterMaterializedView,
) -> Result<Output> {
    let (db, id, view) = find(session, name)?;
    let engine = session.engine.clone();
    match change {
        AlterMaterializedView::Rename(new_name) => {
            crate::statements::ddl::validate_name(&new_name, "materialized view")?;
            engine.catalog.commit(|s| {
                let dbm = s.databases.get_mut(&db).ok_or(StorageError::Conflict)?;
                let dbm = Arc::make_mut(dbm);
                if dbm.tables.contains_key(&new_name) || dbm.views.contains_key(&new_name) {
                    return Err(StorageError::TableExists(new_name.clone()));
                }
                let old = dbm
                    .tables
                    .iter()
                    .find(|(_, t)| t.id == id)
                    .map(|(n, _)| n.clone())
                    .ok_or(StorageError::Conflict)?;
                let mut table = dbm.tables.remove(&old).ok_or(StorageError::Conflict)?;
                Arc::make_mut(&mut table).name = new_name.clone();
                dbm.tables.insert(new_name.clone(), table);
                Ok(())
            })?;
        }
        AlterMaterializedView::Refresh(_) if view.rollup_of().is_some() => {
            return Err(ExecError::Analysis(
                "A synchronous materialized view is refreshed with its base table; its refresh \
                 scheme cannot be changed"
                    .into(),
            ));
        }
        AlterMaterializedView::Refresh(scheme) => {
            let refresh = create::refresh_of(&scheme.kind, crate::tasks::now_ms())?;
            update_view(&engine, &db, id, |v| v.refresh = refresh)?;
        }
        AlterMaterializedView::Active => {
            // The base tables are looked up again by name: the query must plan over them.
            let query = refresh::view_query(&view.query_sql)?;
            let previous_db = session.current_db.replace(db.clone());
            let planned =
                crate::statements::query::query_columns(session, &query, &view.query_sql).await;
            session.current_db = previous_db;
            planned?;
            let state = engine.catalog.snapshot();
            let bases = create::base_tables(&state, &db, &query, 0)?;
            update_view(&engine, &db, id, |v| {
                v.base_tables = bases;
                v.active = true;
                v.inactive_reason = None;
            })?;
        }
        AlterMaterializedView::Inactive => {
            update_view(&engine, &db, id, |v| {
                v.active = false;
                v.inactive_reason =
                    Some("user use alter materialized view set status to inactive".into());
            })?;
        }
        AlterMaterializedView::SetProperties(properties) => {
            engine.catalog.commit(|s| {
                let dbm = s.databases.get_mut(&db).ok_or(StorageError::Conflict)?;
                let table = Arc::make_mut(dbm)
                    .tables
                    .values_mut()
                    .find(|t| t.id == id)
                    .ok_or(StorageError::Conflict)?;
                let table = Arc::make_mut(table);
                for (key, value) in &properties {
                    table.properties.retain(|(k, _)| k != key);
                    table.properties.push((key.clone(), value.clone()));
                }
                Ok(())
            })?;
        }
    }
    Ok(Output::ok())
}

/// Table statements a view's rows do not take (StarRocks' text for DROP TABLE; the others
/// name the statement a view takes instead).
pub(crate) fn refuse_table_statement(session: &Session, statement: &Statement) -> Result<()> {
    let (name, what) = match statement {
        Statement::DropTable { name, .. } => (name, "dropped"),
        Statement::TruncateTable { name, .. } => (name, "truncated"),
        Statement::AlterTable { table, .. }
        | Statement::AddPartition { table, .. }
        | Statement::DropPartition { table, .. }
        | Statement::DropPartitions { table, .. }
        | Statement::DropPartitionsWhere { table, .. } => (table, "altered"),
        _ => return Ok(()),
    };
    let (db, table) = session.resolve(name)?;
    let is_view = session
        .engine
        .catalog
        .snapshot()
        .table(&db, &table)
        .is_some_and(|t| t.materialized_view.is_some());
    if !is_view {
        return Ok(());
    }
    let instead = if what == "altered" { "alter" } else { "drop" };
    Err(ExecError::Analysis(format!(
        "The data of '{table}' cannot be {what} because '{table}' is a materialized view,\
         use '{instead} materialized view {table}' to {instead} it"
    )))
}

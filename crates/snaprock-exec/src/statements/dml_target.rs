//! The table an INSERT, DELETE or UPDATE writes, the writes no statement may make, and the
//! record of an INSERT that failed.

use snaprock_sql::ast::Privilege;
use snaprock_sql::sqlparser::ast::{self as sql_ast, Statement, TableFactor};

use crate::df::catalog_provider::{DmlTarget, INFORMATION_SCHEMA, StatementContext};
use crate::session::Session;
use crate::{ExecError, Result};

/// The table an INSERT, DELETE or UPDATE writes (resolved against the current database) and
/// the privilege that needs; `None` for queries.
pub(super) fn dml_target(stmt: &Statement, current_db: Option<&str>) -> Option<DmlTarget> {
    let (name, privilege) = match stmt {
        Statement::Insert(insert) => match &insert.table {
            sql_ast::TableObject::TableName(name) => (name, Privilege::Insert),
            _ => return None,
        },
        Statement::Delete(delete) => {
            let (sql_ast::FromTable::WithFromKeyword(from)
            | sql_ast::FromTable::WithoutKeyword(from)) = &delete.from;
            match delete.tables.first() {
                Some(name) => (name, Privilege::Delete),
                None => match &from.first()?.relation {
                    TableFactor::Table { name, .. } => (name, Privilege::Delete),
                    _ => return None,
                },
            }
        }
        Statement::Update(update) => match &update.table.relation {
            TableFactor::Table { name, .. } => (name, Privilege::Update),
            _ => return None,
        },
        Statement::Explain { statement, .. } => return dml_target(statement, current_db),
        _ => return None,
    };
    let parts = snaprock_sql::name_parts(name);
    let (database, table) = match parts.as_slice() {
        [t] => (current_db?.to_string(), t.clone()),
        [d, t] => (d.clone(), t.clone()),
        [_, d, t] => (d.clone(), t.clone()),
        _ => return None,
    };
    Some(DmlTarget {
        database,
        table,
        privilege,
        refresh: false,
        load: None,
    })
}

/// What a write may not change: information_schema (read-only, as in MySQL: its 1044), and a
/// materialized view's rows, which change only by its refresh (StarRocks' texts).
pub(super) fn refuse_read_only(
    session: &Session,
    state: &snaprock_storage::CatalogState,
    target: &DmlTarget,
) -> Result<()> {
    refuse_information_schema(session, &target.database)?;
    let is_view = state
        .table(&target.database, &target.table)
        .is_some_and(|t| t.materialized_view.is_some());
    if !is_view || target.refresh {
        return Ok(());
    }
    let name = &target.table;
    let what = match target.privilege {
        Privilege::Delete => format!("The data of '{name}' cannot be deleted because it is"),
        Privilege::Update => format!("The data of '{name}' cannot be modified because '{name}' is"),
        _ => format!("The data of '{name}' cannot be inserted because '{name}' is"),
    };
    Err(ExecError::Analysis(format!(
        "{what} a materialized view,and the data of materialized view must be consistent with \
         the base table"
    )))
}

/// information_schema is read-only, as in MySQL (its 1044).
pub(super) fn refuse_information_schema(session: &Session, database: &str) -> Result<()> {
    if database.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
        return Err(ExecError::DatabaseAccessDenied {
            user: session.identity.user.clone(),
            host: session.identity.host.clone(),
            database: INFORMATION_SCHEMA.to_string(),
        });
    }
    Ok(())
}

/// An INSERT that failed while running is a CANCELLED load with its error (SHOW LOAD lists it),
/// recorded in a commit of its own; its label stays free. A retry refused for its label is not
/// recorded (the label is the committed load's).
pub(crate) fn record_failed_load(ctx: &StatementContext, error: &ExecError) {
    let Some(target) = &ctx.dml_target else {
        return;
    };
    let Some(load) = &target.load else {
        return;
    };
    if ctx.committed_load.get().is_some()
        || matches!(
            error,
            ExecError::Storage(snaprock_storage::StorageError::LabelAlreadyUsed(_))
        )
    {
        return;
    }
    let failed = snaprock_storage::NewLoad {
        label: load.label.clone(),
        table: target.table.clone(),
        user: load.user.clone(),
        rows: 0,
        bytes: 0,
        created_ms: load.created_ms,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let recorded = ctx.engine.catalog.commit(|s| {
        snaprock_storage::record_failed_load(s, &target.database, failed, error.to_string(), now)
    });
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "cannot record a failed load");
    }
}

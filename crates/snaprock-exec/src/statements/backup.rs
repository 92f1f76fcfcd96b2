//! Repository, BACKUP, RESTORE and snapshot statements: handed to the engine's `BackupService`, whose
//! rows become result sets here.

use snaprock_backup::Rows;
use std::sync::Arc;

use snaprock_sql::ast::{
    AttachSnapshot, BackupStatement, CheckSnapshot, CreateRepository, DropSnapshot,
    RestoreStatement, Show,
};
use snaprock_storage::{CatalogState, StorageError};
use tracing::info;

use crate::result::{Cell, Output, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result, now_text};

fn rows_output(rows: Rows) -> Result<Output> {
    let mut builder = RowsBuilder::text(&rows.columns);
    for row in rows.rows {
        builder.push(row.into_iter().map(Cell::Text).collect());
    }
    Ok(Output::Rows(builder.into_result()?))
}

/// Whether the session holds EXPORT on every table and view of `db`.
fn may_export_all_of(session: &Session, db: &str) -> bool {
    let privileges = session.privileges();
    let state = session.engine.catalog.snapshot();
    state.database(db).is_none_or(|d| {
        d.tables.keys().chain(d.views.keys()).all(|t| {
            privileges.allows(
                snaprock_sql::ast::Privilege::Export,
                &snaprock_access::Target::table(db, t),
            )
        })
    })
}

pub(crate) async fn create_repository(
    session: &mut Session,
    stmt: &CreateRepository,
) -> Result<Output> {
    session.engine().backup.create_repository(stmt).await?;
    Ok(Output::ok())
}

pub(crate) fn drop_repository(session: &mut Session, name: &str) -> Result<Output> {
    session.engine().backup.drop_repository(name)?;
    Ok(Output::ok())
}

pub(crate) async fn backup(session: &mut Session, stmt: &BackupStatement) -> Result<Output> {
    let current = session.current_database().map(str::to_string);
    let backup = session.engine().backup.clone();
    backup.backup(stmt, current.as_deref()).await?;
    Ok(Output::ok())
}

pub(crate) async fn restore(session: &mut Session, stmt: &RestoreStatement) -> Result<Output> {
    let backup = session.engine().backup.clone();
    backup.restore(stmt).await?;
    Ok(Output::ok())
}

pub(crate) fn cancel_backup(
    session: &mut Session,
    database: &str,
    restore: bool,
) -> Result<Output> {
    session.engine().backup.cancel(database, restore)?;
    Ok(Output::ok())
}

/// `CREATE DATABASE d FROM SNAPSHOT s ON repo`: reads the snapshot's info and meta files,
/// then adds the read-only database in one catalog commit.
pub(crate) async fn attach_snapshot(
    session: &mut Session,
    stmt: &AttachSnapshot,
) -> Result<Output> {
    super::ddl::validate_name(&stmt.database, "database")?;
    let exists = |state: &CatalogState| state.databases.contains_key(&stmt.database);
    if stmt.if_not_exists && exists(&session.engine.catalog.snapshot()) {
        return Ok(Output::affected(0));
    }
    let snapshot = session.engine.backup.read_snapshot_database(stmt).await?;
    let now = now_text();
    let created = session.engine.catalog.commit(|s| {
        if exists(s) {
            if stmt.if_not_exists {
                return Ok(false);
            }
            return Err(StorageError::DatabaseExists(stmt.database.clone()));
        }
        let db = snapshot.database(s, &stmt.database, &now);
        s.databases.insert(stmt.database.clone(), Arc::new(db));
        Ok(true)
    })?;
    info!(database = %stmt.database, snapshot = %stmt.snapshot, repository = %stmt.repository, "snapshot attached");
    Ok(Output::affected(u64::from(created)))
}

/// `DROP SNAPSHOT snap ON repo [FORCE]`.
pub(crate) async fn drop_snapshot(session: &mut Session, stmt: &DropSnapshot) -> Result<Output> {
    let backup = session.engine.backup.clone();
    backup.drop_snapshot(stmt).await?;
    Ok(Output::ok())
}

/// `ADMIN CHECK SNAPSHOT`: one row per problem found, or one saying OK.
pub(crate) async fn check_snapshot(session: &mut Session, stmt: &CheckSnapshot) -> Result<Output> {
    let backup = session.engine.backup.clone();
    rows_output(backup.check_snapshot(stmt).await?)
}

/// SHOW REPOSITORIES / BACKUP / RESTORE / SNAPSHOT.
pub(crate) async fn show_backup_info(session: &mut Session, show: Show) -> Result<Output> {
    let backup = session.engine().backup.clone();
    let rows = match show {
        Show::Repositories => backup.show_repositories(),
        Show::Backup { database } => {
            let mut rows = backup.show_backup(database.as_deref())?;
            // As StarRocks: a job of a database whose tables the session may not all
            // export is not shown.
            let db_column = rows.columns.iter().position(|c| *c == "DbName");
            rows.rows.retain(|row| {
                db_column
                    .and_then(|i| row.get(i).cloned().flatten())
                    .is_some_and(|db| may_export_all_of(session, &db))
            });
            rows
        }
        Show::Restore { database } => backup.show_restore(database.as_deref())?,
        Show::Snapshot { repository, filter } => backup.show_snapshot(&repository, &filter).await?,
        other => {
            return Err(ExecError::Unsupported(format!(
                "not a backup SHOW: {other:?}"
            )));
        }
    };
    rows_output(rows)
}

//! The statements, one module per family: `show/` (one function per SHOW variant), `ddl`,
//! `access` (accounts and privileges), `backup` (repositories, BACKUP, RESTORE), `query`
//! (SELECT, INSERT, DELETE, EXPLAIN through DataFusion) with `column_names`, `task` (SUBMIT /
//! DROP TASK). The dispatch from
//! a parsed statement to its handler is `Session::dispatch`, below; `set` handles SET.

mod access;
mod analyze;
mod backup;
mod column_names;
mod config;
pub(crate) mod ddl;
mod dml_target;
mod hints;
mod materialized_view;
mod partition_values;
mod prepared;
pub(crate) mod query;
mod set;
mod show;
mod storage_volume;
mod task;
mod update;
pub(crate) use materialized_view::{refresh_view, update_view, view_by_id};
pub use prepared::PreparedStatement;
pub(crate) use query::release_statement_context;

use datafusion::common::ScalarValue;
use snaprock_sql::ast::{Statement, TransactionOp};

use crate::Result;
use crate::engine::KillRequest;
use crate::result::Output;
use crate::session::Session;

/// Runs a parsed and authorized statement; one that may have changed data answers once the
/// synchronous materialized views of what it changed are up to date.
pub(crate) async fn dispatch(
    session: &mut Session,
    statement: Statement,
    sql: &str,
    params: Option<Vec<ScalarValue>>,
) -> Result<Output> {
    let reads_only = matches!(
        statement.kind(),
        "SELECT" | "EXPLAIN" | "SHOW" | "SET" | "USE" | "TRANSACTION" | "KILL" | "IGNORED"
    );
    let output = run_handler(session, statement, sql, params).await?;
    if !reads_only {
        let engine = session.engine.clone();
        engine.tasks.bring_sync_views_up_to_date(&engine).await;
    }
    Ok(output)
}

/// The dispatch table: each statement to its handler.
async fn run_handler(
    session: &mut Session,
    statement: Statement,
    sql: &str,
    params: Option<Vec<ScalarValue>>,
) -> Result<Output> {
    materialized_view::refuse_table_statement(session, &statement)?;
    match statement {
        Statement::Labeled { label, statement } => {
            let is_insert = match statement.as_ref() {
                Statement::Standard(s) => {
                    matches!(**s, snaprock_sql::sqlparser::ast::Statement::Insert(_))
                }
                Statement::InsertOverwrite { .. } | Statement::InsertByName { .. } => true,
                _ => false,
            };
            if !is_insert {
                return Err(crate::ExecError::Unsupported(
                    "WITH LABEL outside an INSERT".into(),
                ));
            }
            session.load_label = Some(label);
            let result = Box::pin(run_handler(session, *statement, sql, params)).await;
            session.load_label = None;
            result
        }
        Statement::Standard(stmt) => query::run_standard(session, *stmt, sql, params).await,
        Statement::InsertOverwrite {
            table,
            mut partitions,
            partition_values,
            columns,
            query,
        } => {
            if !partition_values.is_empty() {
                partitions = vec![partition_values::partition_named_by_values(
                    session,
                    &table,
                    &partition_values,
                )?];
            }
            query::run_insert_overwrite(session, table, partitions, columns, query).await
        }
        Statement::InsertByName {
            table,
            partitions,
            overwrite,
            query,
        } => query::run_insert_by_name(session, table, partitions, overwrite, query, sql).await,
        Statement::Use { catalog, database } => {
            if let Some(catalog) = &catalog {
                crate::df::catalog_provider::check_catalog(catalog)?;
            }
            session.use_database(&database)?;
            Ok(Output::ok())
        }
        Statement::SetCatalog(catalog) => {
            crate::df::catalog_provider::check_catalog(&catalog)?;
            Ok(Output::ok())
        }
        Statement::Set(items) => {
            for item in items {
                set::set(session, item).await?;
            }
            Ok(Output::ok())
        }
        Statement::Transaction(op) => {
            // Every statement commits on its own; BEGIN/COMMIT/ROLLBACK are accepted so
            // drivers and pools work.
            let _ = op == TransactionOp::Begin;
            Ok(Output::ok())
        }
        Statement::Kill {
            connection_id,
            query_only,
        } => {
            let request = if query_only {
                KillRequest::Query
            } else {
                KillRequest::Connection
            };
            session.engine.kill(connection_id, request)?;
            Ok(Output::ok())
        }
        Statement::Ignored(_) => Ok(Output::ok()),
        Statement::Show(show) => show::show(session, show).await,
        Statement::CreateDatabase {
            name,
            if_not_exists,
            properties,
        } => ddl::create_database(session, &name, if_not_exists, &properties),
        Statement::StorageVolume(stmt) => storage_volume::run(session, *stmt).await,
        Statement::AttachSnapshot(stmt) => backup::attach_snapshot(session, &stmt).await,
        Statement::CheckSnapshot(stmt) => backup::check_snapshot(session, &stmt).await,
        Statement::DropSnapshot(stmt) => backup::drop_snapshot(session, &stmt).await,
        Statement::DropDatabase {
            name,
            if_exists,
            force,
        } => ddl::drop_database(session, &name, if_exists, force),
        Statement::Recover(recover) => ddl::recycle::recover(session, &recover).await,
        Statement::AdminSetConfig { key, value } => config::set(session, &key, &value),
        Statement::AdminShowConfig { filter } => config::show(session, filter).await,
        Statement::CreateTable(create) => ddl::create_table(session, *create, sql).await,
        Statement::CreateTableLike {
            name,
            like,
            if_not_exists,
        } => ddl::create_table_like(session, &name, &like, if_not_exists),
        Statement::DropTable {
            name,
            if_exists,
            force,
        } => ddl::drop_table(session, &name, if_exists, force),
        Statement::TruncateTable { name, partitions } => {
            ddl::truncate_table(session, &name, &partitions).await
        }
        Statement::AddPartition {
            table,
            partition,
            if_not_exists,
        } => ddl::add_partition(session, &table, &partition, if_not_exists),
        Statement::DropPartition {
            table,
            partition,
            if_exists,
            force,
        } => ddl::drop_partition(session, &table, &partition, if_exists, force).await,
        Statement::DropPartitions {
            table,
            partitions,
            if_exists,
            force,
        } => ddl::drop_partitions(session, &table, &partitions, if_exists, force).await,
        Statement::DropPartitionsWhere { table, condition } => {
            ddl::drop_partitions_where(session, &table, *condition).await
        }
        Statement::AlterTable { table, changes } => {
            ddl::alter_table(session, &table, &changes).await
        }
        Statement::CreateView(view) => ddl::create_view(session, *view).await,
        Statement::DropView { name, if_exists } => ddl::drop_view(session, &name, if_exists),
        Statement::Analyze(analyze) => analyze::analyze(session, &analyze).await,
        Statement::DropStats(table) => analyze::drop_stats(session, &table),
        Statement::CreateRepository(stmt) => backup::create_repository(session, &stmt).await,
        Statement::DropRepository { name } => backup::drop_repository(session, &name),
        Statement::Backup(stmt) => backup::backup(session, &stmt).await,
        Statement::Restore(stmt) => backup::restore(session, &stmt).await,
        Statement::CancelBackup { database, restore } => {
            backup::cancel_backup(session, &database, restore)
        }
        Statement::Access(stmt) => access::run_access_statement(session, *stmt),
        Statement::SubmitTask(stmt) => task::submit_task(session, &stmt),
        Statement::DropTask { name, if_exists } => task::drop_task(session, &name, if_exists),
        Statement::MaterializedView(stmt) => materialized_view::run(session, *stmt, sql).await,
    }
}

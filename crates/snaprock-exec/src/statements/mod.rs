//! The statements, one module per family: `show/` (one function per SHOW variant), `ddl`,
//! `access` (accounts and privileges), `backup` (repositories, BACKUP, RESTORE), `query`
//! (SELECT, INSERT, DELETE, EXPLAIN through DataFusion) with `column_names`. The dispatch from
//! a parsed statement to its handler is `Session::dispatch`, below; `set` handles SET.

mod access;
mod backup;
mod column_names;
mod ddl;
mod prepared;
mod query;
mod set;
mod show;
pub use prepared::PreparedStatement;

use datafusion::common::ScalarValue;
use snaprock_sql::ast::{Statement, TransactionOp};

use crate::Result;
use crate::engine::KillRequest;
use crate::result::Output;
use crate::session::Session;

impl Session {
    /// The dispatch table: each parsed and authorized statement to its handler.
    pub(crate) async fn dispatch(
        &mut self,
        statement: Statement,
        sql: &str,
        params: Option<Vec<ScalarValue>>,
    ) -> Result<Output> {
        match statement {
            Statement::Standard(stmt) => self.run_standard(*stmt, sql, params).await,
            Statement::InsertOverwrite {
                table,
                partitions,
                columns,
                query,
            } => {
                self.run_insert_overwrite(table, partitions, columns, query)
                    .await
            }
            Statement::Use { database } => {
                self.use_database(&database)?;
                Ok(Output::ok())
            }
            Statement::Set(items) => {
                for item in items {
                    self.set(item).await?;
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
                self.engine.kill(connection_id, request)?;
                Ok(Output::ok())
            }
            Statement::Ignored(_) => Ok(Output::ok()),
            Statement::Show(show) => self.show(show).await,
            Statement::CreateDatabase {
                name,
                if_not_exists,
            } => self.create_database(&name, if_not_exists),
            Statement::DropDatabase { name, if_exists } => self.drop_database(&name, if_exists),
            Statement::CreateTable(create) => self.create_table(*create, sql).await,
            Statement::CreateTableLike {
                name,
                like,
                if_not_exists,
            } => self.create_table_like(&name, &like, if_not_exists),
            Statement::DropTable { name, if_exists } => self.drop_table(&name, if_exists),
            Statement::TruncateTable { name, partitions } => {
                self.truncate_table(&name, &partitions).await
            }
            Statement::AddPartition {
                table,
                partition,
                if_not_exists,
            } => self.add_partition(&table, &partition, if_not_exists),
            Statement::DropPartition {
                table,
                partition,
                if_exists,
            } => self.drop_partition(&table, &partition, if_exists).await,
            Statement::CreateView(view) => self.create_view(*view).await,
            Statement::DropView { name, if_exists } => self.drop_view(&name, if_exists),
            Statement::CreateRepository(stmt) => self.create_repository(&stmt).await,
            Statement::DropRepository { name } => self.drop_repository(&name),
            Statement::Backup(stmt) => self.backup(&stmt).await,
            Statement::Restore(stmt) => self.restore(&stmt).await,
            Statement::CancelBackup { database, restore } => self.cancel_backup(&database, restore),
            Statement::Access(stmt) => self.run_access_statement(*stmt),
        }
    }
}

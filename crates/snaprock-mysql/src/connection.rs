//! One client connection: authentication, then commands handed to a `Session`, results encoded
//! back. Implements opensrv's `AsyncMysqlShim`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use opensrv_mysql::{
    AsyncMysqlShim, CapabilityFlags, Column, ColumnType, ErrorKind, FieldListWriter, InitWriter,
    OkResponse, ParamParser, QueryResultWriter, RowWriter, StatementMetaWriter,
};
use snaprock_exec::{Engine, ExecError, Output, ResultSet, Session};
use tokio::io::AsyncWrite;
use tracing::{debug, info, warn};

use crate::ServerConfig;
use crate::auth::new_salt;
use crate::encode::{ColumnReader, Value, column_definition};
use crate::error_codes::{ProtocolError, mysql_error, protocol_error};
use crate::params;

const NATIVE_PASSWORD: &str = "mysql_native_password";

/// MySQL 8's default `max_allowed_packet`, should the variable be unreadable.
const DEFAULT_MAX_ALLOWED_PACKET: usize = 64 << 20;

struct PreparedStatement {
    prepared: snaprock_exec::PreparedStatement,
    /// Byte ranges of the `?` markers (for statements bound as text).
    placeholders: Vec<(usize, usize)>,
}

/// The server side of one connection.
pub struct Backend {
    engine: Arc<Engine>,
    config: Arc<ServerConfig>,
    peer: SocketAddr,
    connection_id: u32,
    salt: [u8; 20],
    session: Option<Session>,
    statements: HashMap<u32, PreparedStatement>,
    next_statement_id: u32,
    /// The client announced CLIENT_INTERACTIVE (its idle limit is `interactive_timeout`).
    interactive: bool,
}

impl Backend {
    /// Counts a connection refused before it logged in.
    pub fn refused(&self, why: snaprock_exec::Refusal) {
        self.engine.metrics.connection_refused(why);
    }

    /// The server greeting of this connection (opensrv sends it unless TLS is possible).
    pub fn greeting(&self, tls: bool) -> Vec<u8> {
        opensrv_mysql::server_greeting(
            snaprock_exec::SERVER_VERSION,
            self.connection_id,
            &self.salt,
            NATIVE_PASSWORD,
            tls,
        )
    }

    pub fn new(engine: Arc<Engine>, config: Arc<ServerConfig>, peer: SocketAddr) -> Self {
        let connection_id = engine.allocate_connection_id();
        Backend {
            engine,
            config,
            peer,
            connection_id,
            salt: new_salt(),
            session: None,
            statements: HashMap::new(),
            next_statement_id: 1,
            interactive: false,
        }
    }

    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    fn session(&mut self) -> io::Result<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::PermissionDenied, "not authenticated"))
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.engine
            .release_prepared_statements(self.statements.len() as u64);
        if self.session.is_some() {
            self.engine.unregister_connection(self.connection_id);
        }
    }
}

/// Writes every statement's outcome; `SERVER_MORE_RESULTS_EXISTS` on all but the last.
async fn write_outputs<W: AsyncWrite + Send + Unpin>(
    outputs: Vec<Result<Output, ExecError>>,
    results: QueryResultWriter<'_, W>,
    warnings: u16,
) -> io::Result<()> {
    let binary = results.is_binary();
    let definitions: Vec<Vec<Column>> = outputs
        .iter()
        .map(|o| match o {
            Ok(Output::Rows(rs)) => rs.columns.iter().map(column_definition).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut writer = results;
    for (output, columns) in outputs.into_iter().zip(&definitions) {
        match output {
            Err(e) => {
                let (kind, message) = mysql_error(&e);
                return writer.error(kind, message.as_bytes()).await;
            }
            Ok(Output::Ok {
                affected_rows,
                info,
            }) => {
                writer = writer
                    .complete_one(OkResponse {
                        affected_rows,
                        info,
                        warnings,
                        ..Default::default()
                    })
                    .await?;
            }
            Ok(Output::Rows(rows)) => {
                let mut row_writer = writer.start(columns).await?;
                match write_rows(&mut row_writer, rows, binary).await {
                    Ok(()) => writer = row_writer.finish_one().await?,
                    Err(RowError::Io(e)) => return Err(e),
                    Err(RowError::Exec(e)) => {
                        let (kind, message) = mysql_error(&e);
                        return row_writer.finish_error(kind, &message.as_bytes()).await;
                    }
                }
            }
        }
    }
    writer.no_more_results().await
}

enum RowError {
    Io(io::Error),
    Exec(ExecError),
}

impl From<io::Error> for RowError {
    fn from(e: io::Error) -> Self {
        RowError::Io(e)
    }
}

async fn write_rows<W: AsyncWrite + Send + Unpin>(
    writer: &mut RowWriter<'_, W>,
    mut rows: ResultSet,
    binary: bool,
) -> Result<(), RowError> {
    let batches = std::mem::take(&mut rows.batches);
    for batch in batches {
        write_batch(writer, &batch, binary).await?;
    }
    if let Some(mut stream) = rows.stream.take() {
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| RowError::Exec(e.into()))?;
            write_batch(writer, &batch, binary).await?;
        }
    }
    Ok(())
}

async fn write_batch<W: AsyncWrite + Send + Unpin>(
    writer: &mut RowWriter<'_, W>,
    batch: &datafusion::arrow::array::RecordBatch,
    binary: bool,
) -> Result<(), RowError> {
    // Values are read synchronously (the Arrow formatter is not Send), then written.
    let rows: Vec<Vec<Value>> = {
        let readers = batch
            .columns()
            .iter()
            .map(ColumnReader::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RowError::Exec(e.into()))?;
        (0..batch.num_rows())
            .map(|row| readers.iter().map(|r| r.value(row)).collect())
            .collect()
    };
    for row in rows {
        for value in row {
            if binary {
                match value {
                    Value::Null => writer.write_col(None::<i64>)?,
                    Value::I8(v) => writer.write_col(v)?,
                    Value::I16(v) => writer.write_col(v)?,
                    Value::I32(v) => writer.write_col(v)?,
                    Value::I64(v) => writer.write_col(v)?,
                    Value::U64(v) => writer.write_col(v)?,
                    Value::F32(v) => writer.write_col(v)?,
                    Value::F64(v) => writer.write_col(v)?,
                    Value::Text(s) => writer.write_col(s)?,
                    Value::Bytes(b) => writer.write_col(b)?,
                    Value::Date(d) => writer.write_col(d)?,
                    Value::DateTime(d) => writer.write_col(d)?,
                }
            } else {
                writer.write_col(value.to_text())?;
            }
        }
        writer.end_row().await?;
    }
    Ok(())
}

#[async_trait]
impl<W: AsyncWrite + Send + Unpin + 'static> AsyncMysqlShim<W> for Backend {
    type Error = io::Error;

    fn version(&self) -> String {
        snaprock_exec::SERVER_VERSION.to_string()
    }

    fn connect_id(&self) -> u32 {
        self.connection_id
    }

    fn salt(&self) -> [u8; 20] {
        self.salt
    }

    fn max_allowed_packet(&self) -> usize {
        self.session
            .as_ref()
            .and_then(|s| s.number_variable("max_allowed_packet"))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_ALLOWED_PACKET)
    }

    fn idle_timeout(&self) -> Option<Duration> {
        let seconds = self.session.as_ref()?.number_variable("wait_timeout")?;
        Some(Duration::from_secs(seconds.max(1)))
    }

    async fn shutting_down(&self) {
        let mut closing = self.config.shutting_down.subscribe();
        if closing.wait_for(|closing| *closing).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    fn on_client_capabilities(&mut self, capabilities: CapabilityFlags) {
        self.interactive = capabilities.contains(CapabilityFlags::CLIENT_INTERACTIVE);
    }

    async fn authenticate(
        &mut self,
        auth_plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> Result<(), (ErrorKind, String)> {
        let user = String::from_utf8_lossy(username).to_string();
        let host = self.peer.ip().to_string();
        let identity = if auth_plugin == NATIVE_PASSWORD {
            self.engine
                .access
                .authenticate(&user, self.peer.ip(), salt, auth_data)
        } else {
            None
        };
        let Some(identity) = identity else {
            let using_password = !auth_data.is_empty();
            let delay = self.config.login_throttle.failed(self.peer.ip());
            warn!(user = %user, host = %host, delay_ms = delay.as_millis() as u64, "authentication failed");
            self.engine
                .metrics
                .connection_refused(snaprock_exec::Refusal::AccessDenied);
            tokio::time::sleep(delay).await;
            return Err(protocol_error(&ProtocolError::AccessDenied {
                user,
                host,
                using_password,
            }));
        };
        self.config.login_throttle.succeeded(self.peer.ip());
        let info = self
            .engine
            .register_connection_with_id(self.connection_id, &user, &host);
        let mut session = Session::new(self.engine.clone(), info, identity);
        if self.interactive {
            session.use_interactive_timeout();
        }
        self.session = Some(session);
        info!(user = %user, "client authenticated");
        Ok(())
    }

    async fn on_prepare<'a>(
        &'a mut self,
        query: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> io::Result<()> {
        let placeholders = match params::placeholders(query) {
            Ok(p) => p,
            Err(e) => {
                let (kind, message) = protocol_error(&ProtocolError::PrepareSyntax(e));
                return info.error(kind, message.as_bytes()).await;
            }
        };
        let session = self.session()?;
        let prepared = match session.prepare(query, placeholders.len()).await {
            Ok(p) => p,
            Err(e) => {
                let (kind, message) = mysql_error(&e);
                return info.error(kind, message.as_bytes()).await;
            }
        };
        if !prepared.binds_values() {
            // Bound as text at execute: with NULL for each marker, the statement must parse.
            let nulls = vec!["NULL".to_string(); placeholders.len()];
            let probe = params::bind(query, &placeholders, &nulls);
            if let Err(e) = snaprock_sql::parse_statement(&probe) {
                let (kind, message) = mysql_error(&e.into());
                return info.error(kind, message.as_bytes()).await;
            }
        }
        let columns: Vec<Column> = prepared.columns.iter().map(column_definition).collect();
        let max = self
            .engine
            .globals
            .number("max_prepared_stmt_count")
            .unwrap_or(16_382);
        if !self.engine.reserve_prepared_statement(max) {
            let (kind, message) = protocol_error(&ProtocolError::TooManyPreparedStatements(max));
            return info.error(kind, message.as_bytes()).await;
        }
        let id = self.next_statement_id;
        self.next_statement_id = self.next_statement_id.wrapping_add(1).max(1);
        let param_columns: Vec<Column> = placeholders
            .iter()
            .map(|_| Column::new("", "?", ColumnType::MYSQL_TYPE_VAR_STRING))
            .collect();
        self.statements.insert(
            id,
            PreparedStatement {
                prepared,
                placeholders,
            },
        );
        info.reply(id, &param_columns, &columns).await
    }

    async fn on_execute<'a>(
        &'a mut self,
        id: u32,
        params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        let Some(statement) = self.statements.get(&id) else {
            let (kind, message) = protocol_error(&ProtocolError::UnknownStatement(id));
            return results.error(kind, message.as_bytes()).await;
        };
        let expected = statement.placeholders.len();
        let binds = statement.prepared.binds_values();
        let mut values = Vec::with_capacity(expected);
        let mut literals = Vec::with_capacity(expected);
        let mut failure = None;
        for p in params {
            match p {
                Ok(p) if binds => values.push(params::scalar(&p)),
                Ok(p) => literals.push(params::literal(&p)),
                Err(e) => {
                    failure = Some(ProtocolError::WrongParameters(e.to_string()));
                    break;
                }
            }
        }
        let given = values.len() + literals.len();
        if failure.is_none() && given != expected {
            failure = Some(ProtocolError::WrongParameters(format!(
                "{given} of {expected} parameters"
            )));
        }
        if let Some(failure) = failure {
            let (kind, message) = protocol_error(&failure);
            return results.error(kind, message.as_bytes()).await;
        }
        let prepared = statement.prepared.clone();
        let text =
            (!binds).then(|| params::bind(prepared.sql(), &statement.placeholders, &literals));
        let session = self.session()?;
        let output = match text {
            // SHOW, SET, DDL: the values as SQL literals in the text.
            Some(sql) => session.execute_one(&sql).await,
            None => session.execute_prepared(&prepared, values).await,
        };
        let warnings = session.warning_count();
        write_outputs(vec![output], results, warnings).await
    }

    async fn on_close<'a>(&'a mut self, stmt: u32)
    where
        W: 'async_trait,
    {
        if self.statements.remove(&stmt).is_some() {
            self.engine.release_prepared_statements(1);
        }
    }

    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        let multi_allowed = results.multi_statements_allowed();
        let session = self.session()?;
        if !multi_allowed
            && snaprock_sql::split_statements(query)
                .map(|s| s.len() > 1)
                .unwrap_or(false)
        {
            let (kind, message) = protocol_error(&ProtocolError::MultiStatementsOff);
            return results.error(kind, message.as_bytes()).await;
        }
        let outputs = session.execute(query).await;
        let warnings = session.warning_count();
        let killed = session.is_killed();
        write_outputs(outputs, results, warnings).await?;
        if killed {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection killed",
            ));
        }
        Ok(())
    }

    async fn on_init<'a>(&'a mut self, db: &'a str, w: InitWriter<'a, W>) -> io::Result<()> {
        let session = self.session()?;
        match session.use_database(db) {
            Ok(()) => w.ok().await,
            Err(e) => {
                let (kind, message) = mysql_error(&e);
                w.error(kind, message.as_bytes()).await
            }
        }
    }

    async fn on_field_list<'a>(
        &'a mut self,
        table: &'a str,
        w: FieldListWriter<'a, W>,
    ) -> io::Result<()> {
        let session = self.session()?;
        match session.field_list(table) {
            Ok(columns) => {
                let defs: Vec<Column> = columns.iter().map(column_definition).collect();
                w.reply(&defs).await
            }
            Err(e) => {
                debug!(error = %e, "COM_FIELD_LIST failed");
                let (kind, message) = mysql_error(&e);
                w.error(kind, message.as_bytes()).await
            }
        }
    }

    async fn on_statistics(&mut self) -> String {
        self.session
            .as_ref()
            .map(Session::statistics)
            .unwrap_or_default()
    }

    async fn on_reset_connection(&mut self) {
        self.engine
            .release_prepared_statements(self.statements.len() as u64);
        self.statements.clear();
        if let Some(s) = self.session.as_mut() {
            s.reset();
        }
    }
}

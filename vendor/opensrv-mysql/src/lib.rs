// Copyright 2021 Datafuse Labs.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// Note to developers: you can find decent overviews of the protocol at
//
//   https://github.com/cwarden/mysql-proxy/blob/master/doc/protocol.rst
//
// and
//
//   https://mariadb.com/kb/en/library/clientserver-protocol/
//
// Wireshark also does a pretty good job at parsing the MySQL protocol.

//! A MySQL/MariaDB wire-protocol server framework (opensrv-mysql 0.7.0, patched for snaprock;
//! see PATCHES.md at the crate root for every change).

// Inherited upstream code: clippy is kept quiet here rather than restyling the fork.
#![allow(clippy::all)]

extern crate mysql_common as myc;

use std::collections::HashMap;
use std::io;
use std::io::Write;

use async_trait::async_trait;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;

pub use crate::myc::constants::{CapabilityFlags, ColumnFlags, ColumnType, StatusFlags};

mod commands;
mod errorcodes;
mod packet_reader;
mod packet_writer;
mod params;
mod resultset;
mod value;
mod writers;

// max payload size 2^(24-1)
pub const U24_MAX: usize = 16_777_215;

/// Collation id of utf8mb4_general_ci, announced in the greeting and on text columns.
pub const UTF8MB4_GENERAL_CI: u16 = 45;
/// Collation id of `binary`: numeric, temporal and binary columns carry it.
pub const BINARY_COLLATION: u16 = 63;

/// Meta-information abot a single column, used either to describe a prepared statement parameter
/// or an output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// This column's associated table.
    ///
    /// Note that this is *technically* the table's alias.
    pub table: String,
    /// This column's name.
    ///
    /// Note that this is *technically* the column's alias.
    pub column: String,
    /// This column's type>
    pub coltype: ColumnType,
    /// Any flags associated with this column.
    ///
    /// Of particular interest are `ColumnFlags::UNSIGNED_FLAG` and `ColumnFlags::NOT_NULL_FLAG`.
    pub colflags: ColumnFlags,
    /// Collation id of the column (snaprock patch: was always utf8_general_ci).
    pub charset: u16,
    /// Maximum display length of the column (snaprock patch: was always 1024).
    pub column_length: u32,
    /// Number of decimals, e.g. a DECIMAL's scale (snaprock patch: was always 0).
    pub decimals: u8,
}

impl Column {
    /// A column with the charset, length and decimals MySQL uses for `coltype`.
    pub fn new(table: &str, column: &str, coltype: ColumnType) -> Self {
        use ColumnType::*;
        let (charset, column_length) = match coltype {
            MYSQL_TYPE_TINY => (BINARY_COLLATION, 4),
            MYSQL_TYPE_SHORT => (BINARY_COLLATION, 6),
            MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => (BINARY_COLLATION, 11),
            MYSQL_TYPE_LONGLONG => (BINARY_COLLATION, 20),
            MYSQL_TYPE_FLOAT => (BINARY_COLLATION, 12),
            MYSQL_TYPE_DOUBLE => (BINARY_COLLATION, 22),
            MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL => (BINARY_COLLATION, 40),
            MYSQL_TYPE_DATE => (BINARY_COLLATION, 10),
            MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP => (BINARY_COLLATION, 26),
            MYSQL_TYPE_TIME => (BINARY_COLLATION, 17),
            MYSQL_TYPE_YEAR => (BINARY_COLLATION, 4),
            MYSQL_TYPE_NULL => (BINARY_COLLATION, 0),
            _ => (UTF8MB4_GENERAL_CI, 1_048_576),
        };
        Column {
            table: table.to_string(),
            column: column.to_string(),
            coltype,
            colflags: ColumnFlags::empty(),
            charset,
            column_length,
            decimals: 0,
        }
    }
}

/// QueryStatusInfo represents the status of a query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OkResponse {
    /// header
    pub header: u8,
    /// affected rows in update/insert
    pub affected_rows: u64,
    /// insert_id in update/insert
    pub last_insert_id: u64,
    /// StatusFlags associated with this query
    pub status_flags: StatusFlags,
    /// Warnings
    pub warnings: u16,
    /// Extra infomation
    pub info: String,
    /// session state change information
    pub session_state_info: String,
}

pub use crate::errorcodes::ErrorKind;
pub use crate::params::{ParamParser, ParamValue, Params};
pub use crate::resultset::{
    FieldListWriter, InitWriter, QueryResultWriter, RowWriter, StatementMetaWriter,
};
pub use crate::value::{decode::to_naive_datetime, ToMysqlValue, Value, ValueInner};
use crate::{commands::ClientHandshake, packet_reader::PacketReader, packet_writer::PacketWriter};

const SCRAMBLE_SIZE: usize = 20;
const MYSQL_NATIVE_PASSWORD: &str = "mysql_native_password";

/// What the server announces in its greeting. The capabilities used afterwards are the
/// intersection with the client's (snaprock patch: 0.7.0 used the client's flags alone).
pub const SERVER_CAPABILITIES: CapabilityFlags = CapabilityFlags::from_bits_truncate(
    CapabilityFlags::CLIENT_LONG_PASSWORD.bits()
        | CapabilityFlags::CLIENT_FOUND_ROWS.bits()
        | CapabilityFlags::CLIENT_LONG_FLAG.bits()
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB.bits()
        | CapabilityFlags::CLIENT_PROTOCOL_41.bits()
        | CapabilityFlags::CLIENT_INTERACTIVE.bits()
        | CapabilityFlags::CLIENT_TRANSACTIONS.bits()
        | CapabilityFlags::CLIENT_SECURE_CONNECTION.bits()
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS.bits()
        | CapabilityFlags::CLIENT_MULTI_RESULTS.bits()
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS.bits()
        | CapabilityFlags::CLIENT_PLUGIN_AUTH.bits()
        | CapabilityFlags::CLIENT_CONNECT_ATTRS.bits()
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA.bits()
        | CapabilityFlags::CLIENT_DEPRECATE_EOF.bits(),
);

#[async_trait]
/// Implementors of this async-trait can be used to drive a MySQL-compatible database backend.
pub trait AsyncMysqlShim<W: Send> {
    /// The error type produced by operations on this shim.
    ///
    /// Must implement `From<io::Error>` so that transport-level errors can be lifted.
    type Error: From<io::Error>;

    /// Server version
    fn version(&self) -> String {
        "8.0.33".to_string()
    }

    /// Connection id
    fn connect_id(&self) -> u32 {
        u32::from_le_bytes([0x08, 0x00, 0x00, 0x00])
    }

    /// get auth plugin
    fn default_auth_plugin(&self) -> &str {
        MYSQL_NATIVE_PASSWORD
    }

    /// get auth plugin
    async fn auth_plugin_for_username(&self, _user: &[u8]) -> &str {
        MYSQL_NATIVE_PASSWORD
    }

    /// The salt (scramble) for this connection. Implementors must return fresh random bytes
    /// (no NUL or `$`); the default is only for tests.
    fn salt(&self) -> [u8; SCRAMBLE_SIZE] {
        let bs = ";X,po_k}>o6^Wz!/kM}N".as_bytes();
        let mut scramble: [u8; SCRAMBLE_SIZE] = [0; SCRAMBLE_SIZE];
        scramble.copy_from_slice(&bs[..SCRAMBLE_SIZE]);
        scramble
    }

    /// The capabilities the client announced in its handshake, before `authenticate` (snaprock
    /// patch: e.g. CLIENT_INTERACTIVE, which picks MySQL's `interactive_timeout`).
    fn on_client_capabilities(&mut self, _capabilities: CapabilityFlags) {}

    /// Checks the client's credentials; `Err` carries the error to send (snaprock patch: 0.7.0
    /// took a bool and always answered ER_ACCESS_DENIED_NO_PASSWORD_ERROR).
    async fn authenticate(
        &mut self,
        auth_plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> Result<(), (ErrorKind, String)>;

    /// Called when the client issues a request to prepare `query` for later execution.
    async fn on_prepare<'a>(
        &'a mut self,
        query: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> Result<(), Self::Error>;

    /// Called when the client executes a previously prepared statement.
    async fn on_execute<'a>(
        &'a mut self,
        id: u32,
        params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> Result<(), Self::Error>;

    /// Called when the client wishes to deallocate resources associated with a previously prepared
    /// statement.
    async fn on_close<'a>(&'a mut self, stmt: u32)
    where
        W: 'async_trait;

    /// Called when the client issues a query for immediate execution.
    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> Result<(), Self::Error>;

    /// Called when client switches database (COM_INIT_DB or a database in the handshake).
    async fn on_init<'a>(
        &'a mut self,
        db: &'a str,
        w: InitWriter<'a, W>,
    ) -> Result<(), Self::Error>;

    /// COM_FIELD_LIST: the columns of `table` (snaprock patch: 0.7.0 always sent none).
    async fn on_field_list<'a>(
        &'a mut self,
        table: &'a str,
        w: FieldListWriter<'a, W>,
    ) -> Result<(), Self::Error>;

    /// COM_STATISTICS: the human-readable status line (snaprock patch).
    async fn on_statistics(&mut self) -> String {
        String::new()
    }

    /// COM_RESET_CONNECTION: drop session state (snaprock patch).
    async fn on_reset_connection(&mut self) {}

    /// Largest command packet accepted once the client is authenticated (MySQL's
    /// `max_allowed_packet`); a larger one is answered with ERR 1153 and the connection closed
    /// (snaprock patch). Before authentication [`MAX_HANDSHAKE_PACKET`] applies.
    fn max_allowed_packet(&self) -> usize {
        64 << 20
    }

    /// How long an authenticated connection may wait idle for its next command (MySQL's
    /// `wait_timeout`); then it gets ERR 4031 and is closed (snaprock patch).
    fn idle_timeout(&self) -> Option<std::time::Duration> {
        None
    }

    /// Resolves once the server is shutting down: the connection is closed before its next
    /// command, with ERR 1053 (snaprock patch). A running command finishes first.
    async fn shutting_down(&self) {
        std::future::pending::<()>().await
    }
}

/// Largest packet accepted before authentication (a handshake response with connection
/// attributes is a few hundred bytes): an unauthenticated client cannot make the server buffer
/// more than this.
pub const MAX_HANDSHAKE_PACKET: usize = 64 * 1024;

/// What MySQL answers a packet over `max_allowed_packet` with (ER_NET_PACKET_TOO_LARGE).
const PACKET_TOO_LARGE: &[u8] = b"Got a packet bigger than 'max_allowed_packet' bytes";

/// The options which passed to AsyncMysqlIntermediary struct
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntermediaryOptions {
    /// reject connection if dbname not provided
    pub reject_connection_on_dbname_absence: bool,
    /// The caller already sent the server greeting (see [`server_greeting`]), e.g. because it
    /// negotiated TLS before handing the connection over.
    pub greeting_sent: bool,
    /// The connection runs over TLS: the client's handshake response carries CLIENT_SSL.
    pub secure: bool,
    /// A client that has not authenticated by then is disconnected (MySQL's `connect_timeout`).
    pub handshake_deadline: Option<tokio::time::Instant>,
}

/// The payload of the server greeting (HandshakeV10); `tls` advertises CLIENT_SSL.
pub fn server_greeting(
    version: &str,
    connect_id: u32,
    scramble: &[u8; 20],
    auth_plugin: &str,
    tls: bool,
) -> Vec<u8> {
    // https://dev.mysql.com/doc/internals/en/connection-phase-packets.html#packet-Protocol::HandshakeV10
    let mut capabilities = SERVER_CAPABILITIES;
    if tls {
        capabilities |= CapabilityFlags::CLIENT_SSL;
    }
    let capabilities = capabilities.bits().to_le_bytes();
    let mut out = Vec::with_capacity(128);
    out.push(10); // protocol 10
    out.extend_from_slice(version.as_bytes());
    out.push(0x00);
    out.extend_from_slice(&connect_id.to_le_bytes());
    out.extend_from_slice(&scramble[0..AUTH_PLUGIN_DATA_PART_1_LENGTH]); // auth-plugin-data-part-1
    out.push(0x00);
    out.extend_from_slice(&capabilities[..2]);
    out.push(UTF8MB4_GENERAL_CI as u8);
    out.extend_from_slice(&StatusFlags::SERVER_STATUS_AUTOCOMMIT.bits().to_le_bytes());
    out.extend_from_slice(&capabilities[2..4]);
    out.push((scramble.len() + 1) as u8);
    out.extend_from_slice(&[0x00; 10]); // 10 bytes filler
    out.extend_from_slice(&scramble[AUTH_PLUGIN_DATA_PART_1_LENGTH..]); // 12 bytes
    out.push(0x00);
    out.extend_from_slice(auth_plugin.as_bytes());
    out.push(0x00);
    out
}

#[derive(Default)]
struct StatementData {
    long_data: HashMap<u16, Vec<u8>>,
    /// COM_STMT_SEND_LONG_DATA sent more than `max_allowed_packet` in all (the data was dropped;
    /// the next execute fails).
    long_data_too_large: bool,
    bound_types: Vec<(myc::constants::ColumnType, bool)>,
    params: u16,
}

const AUTH_PLUGIN_DATA_PART_1_LENGTH: usize = 8;

/// A server that speaks the MySQL/MariaDB protocol, and can delegate client commands to a backend
/// that implements [`AsyncMysqlShim`](trait.AsyncMysqlShim.html).
pub struct AsyncMysqlIntermediary<B, S: AsyncRead + Unpin, W> {
    pub(crate) client_capabilities: CapabilityFlags,
    reject_connection_on_dbname_absence: bool,
    shim: B,
    reader: packet_reader::PacketReader<S>,
    writer: packet_writer::PacketWriter<W>,
}

fn handshake_error(e: nom::Err<nom::error::Error<&[u8]>>) -> io::Error {
    match e {
        nom::Err::Incomplete(_) => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "client sent incomplete handshake",
        ),
        nom::Err::Failure(nom_error) | nom::Err::Error(nom_error) => {
            if let nom::error::ErrorKind::Eof = nom_error.code {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "client did not complete handshake",
                )
            } else {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad client handshake ({:?})", nom_error.code),
                )
            }
        }
    }
}

/// Sleeps for `duration`, or forever without one.
async fn sleep_or_forever(duration: Option<std::time::Duration>) {
    match duration {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

fn peer_gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "peer terminated connection",
    )
}

impl<B, R, W> AsyncMysqlIntermediary<B, R, W>
where
    W: AsyncWrite + Send + Unpin,
    B: AsyncMysqlShim<W> + Send + Sync,
    R: AsyncRead + Send + Unpin,
{
    /// Create a new server over two one-way channels and process client commands until the client
    /// disconnects or an error occurs.
    pub async fn run_on(shim: B, stream: R, output_stream: W) -> Result<(), B::Error> {
        Self::run_with_options(shim, stream, output_stream, &Default::default()).await
    }

    /// Create a new server over two one-way channels and process client commands until the client
    /// disconnects or an error occurs, with config options.
    pub async fn run_with_options(
        shim: B,
        input_stream: R,
        output_stream: W,
        opts: &IntermediaryOptions,
    ) -> Result<(), B::Error> {
        let mut mi = AsyncMysqlIntermediary {
            client_capabilities: CapabilityFlags::empty(),
            reject_connection_on_dbname_absence: opts.reject_connection_on_dbname_absence,
            shim,
            reader: PacketReader::new(input_stream),
            writer: PacketWriter::new(output_stream),
        };
        mi.reader.set_max_payload(MAX_HANDSHAKE_PACKET);
        let handshake = mi.handshake(opts.greeting_sent, opts.secure);
        let authenticated = match opts.handshake_deadline {
            None => handshake.await?,
            Some(deadline) => match tokio::time::timeout_at(deadline, handshake).await {
                Ok(authenticated) => authenticated?,
                Err(_) => {
                    return Err(
                        io::Error::new(io::ErrorKind::TimedOut, "handshake timed out").into(),
                    )
                }
            },
        };
        if !authenticated {
            return Ok(());
        }
        mi.run().await
    }

    /// The next packet; a packet over the reader's limit is answered with ERR 1153 and ends
    /// the connection.
    async fn checked_packet(
        &mut self,
        next: io::Result<Option<(u8, Vec<u8>)>>,
    ) -> Result<Option<(u8, Vec<u8>)>, B::Error> {
        match next {
            Ok(packet) => Ok(packet),
            Err(e) => {
                if let Some(seq) = packet_reader::packet_too_large(&e) {
                    self.writer.set_seq(seq.wrapping_add(1));
                    writers::write_err(
                        ErrorKind::ER_NET_PACKET_TOO_LARGE,
                        PACKET_TOO_LARGE,
                        &mut self.writer,
                    )
                    .await?;
                    self.writer.flush_all().await?;
                }
                Err(e.into())
            }
        }
    }

    /// Sends an error the client did not ask for (idle timeout, shutdown) before closing: with
    /// sequence id 1, as the answer to the command the client may be sending.
    async fn close_with(&mut self, kind: ErrorKind, message: &[u8]) -> Result<(), B::Error> {
        self.writer.set_seq(1);
        writers::write_err(kind, message, &mut self.writer).await?;
        self.writer.flush_all().await?;
        Ok(())
    }

    /// Greets the client and authenticates it. `Ok(false)`: the client was refused (an ERR
    /// packet was sent).
    async fn handshake(&mut self, greeting_sent: bool, secure: bool) -> Result<bool, B::Error> {
        let scramble = self.shim.salt();
        if !greeting_sent {
            let greeting = server_greeting(
                &self.shim.version(),
                self.shim.connect_id(),
                &scramble,
                self.shim.default_auth_plugin(),
                false,
            );
            self.writer.write_all(&greeting)?;
            self.writer.end_packet().await?;
            self.writer.flush_all().await?;
        }

        let next = self.reader.next_async().await;
        let (mut seq, packet) = self.checked_packet(next).await?.ok_or_else(peer_gone)?;
        let handshake: ClientHandshake = commands::client_handshake(&packet, true)
            .map_err(handshake_error)?
            .1;
        if !secure && handshake.capabilities.contains(CapabilityFlags::CLIENT_SSL) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "client requested SSL despite us not advertising support for it",
            )
            .into());
        }
        if !handshake
            .capabilities
            .contains(CapabilityFlags::CLIENT_PROTOCOL_41)
        {
            self.writer.set_seq(seq.wrapping_add(1));
            writers::write_err(
                ErrorKind::ER_NOT_SUPPORTED_AUTH_MODE,
                b"Client does not support the 4.1 protocol; please upgrade the MySQL client",
                &mut self.writer,
            )
            .await?;
            self.writer.flush_all().await?;
            return Ok(false);
        }
        self.client_capabilities = handshake.capabilities & SERVER_CAPABILITIES;
        self.shim.on_client_capabilities(handshake.capabilities);

        let username = handshake.username.clone().unwrap_or_default();
        let mut auth_response = handshake.auth_response.clone();
        let auth_plugin_expect = self
            .shim
            .auth_plugin_for_username(&username)
            .await
            .to_string();

        // auth switch: the client used another plugin than the one we verify.
        if !handshake.auth_plugin.is_empty()
            && handshake.auth_plugin != auth_plugin_expect.as_bytes()
        {
            self.writer.set_seq(seq.wrapping_add(1));
            self.writer.write_all(&[0xfe])?;
            self.writer.write_all(auth_plugin_expect.as_bytes())?;
            self.writer.write_all(&[0x00])?;
            self.writer.write_all(&scramble)?;
            self.writer.write_all(&[0x00])?;
            self.writer.end_packet().await?;
            self.writer.flush_all().await?;
            let next = self.reader.next_async().await;
            let (rseq, data) = self.checked_packet(next).await?.ok_or_else(peer_gone)?;
            seq = rseq;
            auth_response = data;
        }
        self.writer.set_seq(seq.wrapping_add(1));

        if let Err((kind, msg)) = self
            .shim
            .authenticate(&auth_plugin_expect, &username, &scramble, &auth_response)
            .await
        {
            writers::write_err(kind, msg.as_bytes(), &mut self.writer).await?;
            self.writer.flush_all().await?;
            return Ok(false);
        }

        let db = handshake
            .db
            .as_ref()
            .and_then(|x| std::str::from_utf8(x).ok())
            .filter(|db| !db.is_empty());
        if let Some(db) = db {
            let w = InitWriter {
                client_capabilities: self.client_capabilities,
                writer: &mut self.writer,
            };
            self.shim.on_init(db, w).await?;
        } else if self.reject_connection_on_dbname_absence {
            writers::write_err(
                ErrorKind::ER_DATABASE_NAME,
                "database required on connection".as_bytes(),
                &mut self.writer,
            )
            .await?;
        } else {
            writers::write_ok_packet(
                &mut self.writer,
                self.client_capabilities,
                OkResponse::default(),
            )
            .await?;
        }
        self.writer.flush_all().await?;
        Ok(true)
    }

    async fn run(mut self) -> Result<(), B::Error> {
        use crate::commands::Command;

        let mut stmts: HashMap<u32, StatementData> = HashMap::new();
        loop {
            let max_packet = self.shim.max_allowed_packet();
            self.reader.set_max_payload(max_packet);
            let idle = self.shim.idle_timeout();
            let next = tokio::select! {
                biased;
                _ = self.shim.shutting_down() => {
                    self.close_with(ErrorKind::ER_SERVER_SHUTDOWN, b"Server shutdown in progress")
                        .await?;
                    return Ok(());
                }
                next = self.reader.next_async() => next,
                _ = sleep_or_forever(idle) => {
                    self.close_with(
                        ErrorKind::ER_CLIENT_INTERACTION_TIMEOUT,
                        b"The client was disconnected by the server because of inactivity. \
                          See wait_timeout and interactive_timeout for configuring this behavior.",
                    )
                    .await?;
                    return Ok(());
                }
            };
            let Some((seq, packet)) = self.checked_packet(next).await? else {
                break;
            };
            self.writer.set_seq(seq.wrapping_add(1));
            let cmd = match commands::parse(&packet) {
                Ok((_, cmd)) => cmd,
                Err(_) => {
                    // snaprock patch: 0.7.0 answered unknown commands with OK.
                    writers::write_err(
                        ErrorKind::ER_UNKNOWN_COM_ERROR,
                        b"Unknown command",
                        &mut self.writer,
                    )
                    .await?;
                    self.writer.flush_all().await?;
                    continue;
                }
            };
            match cmd {
                // snaprock patch: no interception of `SELECT @@...` / `USE ...` by text.
                Command::Query(q) => {
                    let w =
                        QueryResultWriter::new(&mut self.writer, false, self.client_capabilities);
                    match std::str::from_utf8(q) {
                        Ok(q) => self.shim.on_query(q, w).await?,
                        Err(_) => {
                            w.error(
                                ErrorKind::ER_INVALID_CHARACTER_STRING,
                                b"Invalid utf8mb4 character string in query",
                            )
                            .await?
                        }
                    }
                }
                Command::Prepare(q) => {
                    let w = StatementMetaWriter {
                        writer: &mut self.writer,
                        stmts: &mut stmts,
                        client_capabilities: self.client_capabilities,
                    };
                    match std::str::from_utf8(q) {
                        Ok(q) => self.shim.on_prepare(q, w).await?,
                        Err(_) => {
                            w.error(
                                ErrorKind::ER_INVALID_CHARACTER_STRING,
                                b"Invalid utf8mb4 character string in query",
                            )
                            .await?
                        }
                    }
                }
                Command::Execute { stmt, params } => match stmts.get_mut(&stmt) {
                    Some(state) if state.long_data_too_large => {
                        state.long_data.clear();
                        state.long_data_too_large = false;
                        writers::write_err(
                            ErrorKind::ER_UNKNOWN_ERROR,
                            b"Parameter of prepared statement which is set through \
                              mysql_send_long_data() is longer than 'max_allowed_packet' bytes",
                            &mut self.writer,
                        )
                        .await?;
                    }
                    Some(state) => {
                        {
                            let params = params::ParamParser::new(params, state);
                            let w = QueryResultWriter::new(
                                &mut self.writer,
                                true,
                                self.client_capabilities,
                            );
                            self.shim.on_execute(stmt, params, w).await?;
                        }
                        state.long_data.clear();
                    }
                    None => {
                        let msg = format!(
                            "Unknown prepared statement handler ({}) given to mysqld_stmt_execute",
                            stmt
                        );
                        writers::write_err(
                            ErrorKind::ER_UNKNOWN_STMT_HANDLER,
                            msg.as_bytes(),
                            &mut self.writer,
                        )
                        .await?;
                    }
                },
                Command::SendLongData { stmt, param, data } => {
                    // No response, as the protocol requires; unknown statements are ignored.
                    // The data of one execute is bounded by max_allowed_packet, as in MySQL.
                    if let Some(state) = stmts.get_mut(&stmt) {
                        let held: usize = state.long_data.values().map(Vec::len).sum();
                        if held + data.len() > max_packet {
                            state.long_data.clear();
                            state.long_data_too_large = true;
                        } else if !state.long_data_too_large {
                            state.long_data.entry(param).or_default().extend(data);
                        }
                    }
                }
                Command::Close(stmt) => {
                    self.shim.on_close(stmt).await;
                    stmts.remove(&stmt);
                    // NOTE: spec dictates no response from server
                }
                Command::ResetStmt(stmt) => match stmts.get_mut(&stmt) {
                    Some(state) => {
                        state.long_data.clear();
                        state.long_data_too_large = false;
                        writers::write_ok_packet(
                            &mut self.writer,
                            self.client_capabilities,
                            OkResponse::default(),
                        )
                        .await?;
                    }
                    None => {
                        let msg = format!(
                            "Unknown prepared statement handler ({}) given to mysqld_stmt_reset",
                            stmt
                        );
                        writers::write_err(
                            ErrorKind::ER_UNKNOWN_STMT_HANDLER,
                            msg.as_bytes(),
                            &mut self.writer,
                        )
                        .await?;
                    }
                },
                Command::ListFields(payload) => {
                    let table = payload.split(|b| *b == 0).next().unwrap_or_default();
                    let table = String::from_utf8_lossy(table).to_string();
                    let w = FieldListWriter {
                        client_capabilities: self.client_capabilities,
                        writer: &mut self.writer,
                    };
                    self.shim.on_field_list(&table, w).await?;
                }
                Command::Init(schema) => {
                    let w = InitWriter {
                        client_capabilities: self.client_capabilities,
                        writer: &mut self.writer,
                    };
                    let schema = String::from_utf8_lossy(schema).to_string();
                    self.shim.on_init(&schema, w).await?;
                }
                Command::Ping => {
                    writers::write_ok_packet(
                        &mut self.writer,
                        self.client_capabilities,
                        OkResponse::default(),
                    )
                    .await?;
                }
                Command::Statistics => {
                    let text = self.shim.on_statistics().await;
                    self.writer.write_all(text.as_bytes())?;
                    self.writer.end_packet().await?;
                }
                Command::ResetConnection => {
                    self.shim.on_reset_connection().await;
                    stmts.clear();
                    writers::write_ok_packet(
                        &mut self.writer,
                        self.client_capabilities,
                        OkResponse::default(),
                    )
                    .await?;
                }
                Command::SetOption(option) => {
                    if option == 0 {
                        self.client_capabilities |= CapabilityFlags::CLIENT_MULTI_STATEMENTS;
                    } else {
                        self.client_capabilities -= CapabilityFlags::CLIENT_MULTI_STATEMENTS;
                    }
                    writers::write_eof_packet(
                        &mut self.writer,
                        StatusFlags::SERVER_STATUS_AUTOCOMMIT,
                    )
                    .await?;
                }
                Command::Quit => {
                    break;
                }
            }
            self.writer.flush_all().await?;
        }
        Ok(())
    }
}

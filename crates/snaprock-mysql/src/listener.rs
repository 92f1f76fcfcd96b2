//! Accepts connections and runs each one in its own task with its own tracing span; on a
//! server with a certificate, negotiates TLS first when the client asks for it. Bounds what
//! clients can take: `max_connections`, `connect_timeout` for the handshake, and a shutdown
//! that stops accepting, lets running statements finish within a grace period, then returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use opensrv_mysql::{
    AsyncMysqlIntermediary, CapabilityFlags, IntermediaryOptions, MAX_HANDSHAKE_PACKET,
};
use snaprock_exec::{Engine, Refusal};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::connection::Backend;
use crate::error_codes::{ProtocolError, protocol_error};
use crate::{ServerConfig, TlsSettings};

/// Serves MySQL clients on `listener` until `shutdown` completes, then closes every
/// connection between statements (waiting up to `config.shutdown_grace` for running ones).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    config: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    info!(address = %listener.local_addr()?, "accepting MySQL connections");
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        engine.metrics.connection_accepted();
        let max_connections = engine.globals.number("max_connections").unwrap_or(1024);
        if connections.len() as u64 >= max_connections {
            warn!(peer = %peer, max_connections, "connection refused: too many connections");
            engine
                .metrics
                .connection_refused(Refusal::TooManyConnections);
            tokio::spawn(refuse(stream, ProtocolError::TooManyConnections));
            continue;
        }
        let connect_timeout = engine.globals.number("connect_timeout").unwrap_or(10);
        let deadline = Instant::now() + Duration::from_secs(connect_timeout);
        let backend = Backend::new(engine.clone(), config.clone(), peer);
        let span = info_span!("connection", id = backend.connection_id(), peer = %peer);
        let tls = config.tls.clone();
        connections.spawn(
            async move {
                debug!("connected");
                let result = match tls {
                    None => {
                        let (reader, writer) = stream.into_split();
                        let writer = BufWriter::with_capacity(64 * 1024, writer);
                        let options = IntermediaryOptions {
                            handshake_deadline: Some(deadline),
                            ..IntermediaryOptions::default()
                        };
                        AsyncMysqlIntermediary::run_with_options(backend, reader, writer, &options)
                            .await
                    }
                    Some(tls) => serve_tls_capable(stream, backend, &tls, deadline).await,
                };
                match result {
                    Ok(()) => debug!("disconnected"),
                    Err(e) => debug!(error = %e, "connection ended"),
                }
            }
            .instrument(span),
        );
    }
    drop(listener);
    info!(
        connections = connections.len(),
        "shutting down: no new connections; open ones close after their running statement"
    );
    config.shutting_down.send_replace(true);
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            connections = connections.len(),
            grace_secs = config.shutdown_grace.as_secs(),
            "statements still running after the shutdown grace period are ended"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Answers a connection the server will not serve with one error packet, instead of the
/// greeting (as MySQL does for ER_CON_COUNT_ERROR), and closes it. Before the handshake no
/// protocol 4.1 is agreed, so the packet has no SQLSTATE.
async fn refuse(mut stream: TcpStream, error: ProtocolError) {
    let packet = error_packet(&error, false);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        write_packet(&mut stream, 0, &packet),
    )
    .await;
}

/// An ERR packet's payload; with the SQLSTATE once the client speaks protocol 4.1.
fn error_packet(error: &ProtocolError, with_sqlstate: bool) -> Vec<u8> {
    let (kind, message) = protocol_error(error);
    let mut err = vec![0xff];
    err.extend_from_slice(&(kind as u16).to_le_bytes());
    if with_sqlstate {
        err.push(b'#');
        err.extend_from_slice(kind.sqlstate());
    }
    err.extend_from_slice(message.as_bytes());
    err
}

/// A connection on a server with TLS: the greeting offers it; a client whose first packet is
/// an SSLRequest continues over TLS, one that answers in plain text continues in plain text
/// unless secure transport is required.
async fn serve_tls_capable(
    mut stream: TcpStream,
    backend: Backend,
    tls: &TlsSettings,
    deadline: Instant,
) -> std::io::Result<()> {
    write_packet(&mut stream, 0, &backend.greeting(true)).await?;
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out");
    let mut header = [0u8; 4];
    tokio::time::timeout_at(deadline, stream.read_exact(&mut header))
        .await
        .map_err(|_| timed_out())??;
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let seq = header[3];
    if length > MAX_HANDSHAKE_PACKET {
        let err = error_packet(&ProtocolError::PacketTooLarge, true);
        write_packet(&mut stream, seq.wrapping_add(1), &err).await?;
        return Ok(());
    }
    let mut payload = vec![0u8; length];
    tokio::time::timeout_at(deadline, stream.read_exact(&mut payload))
        .await
        .map_err(|_| timed_out())??;
    let capabilities = payload
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or_default();
    let wants_tls =
        CapabilityFlags::from_bits_truncate(capabilities).contains(CapabilityFlags::CLIENT_SSL);
    let options = IntermediaryOptions {
        greeting_sent: true,
        secure: wants_tls,
        handshake_deadline: Some(deadline),
        ..IntermediaryOptions::default()
    };
    if wants_tls && length == SSL_REQUEST_LENGTH {
        let stream = tokio::time::timeout_at(deadline, tls.acceptor.accept(stream))
            .await
            .map_err(|_| timed_out())??;
        debug!("TLS established");
        let (reader, writer) = tokio::io::split(stream);
        let writer = BufWriter::with_capacity(64 * 1024, writer);
        return AsyncMysqlIntermediary::run_with_options(backend, reader, writer, &options).await;
    }
    if tls.require_secure_transport {
        warn!("plaintext login refused: secure transport is required");
        backend.refused(Refusal::InsecureTransport);
        let err = error_packet(&ProtocolError::InsecureTransport, true);
        write_packet(&mut stream, seq.wrapping_add(1), &err).await?;
        return Ok(());
    }
    // Plain text: hand opensrv the packet already read, then the rest of the stream.
    let (reader, writer) = stream.into_split();
    let mut first = header.to_vec();
    first.extend_from_slice(&payload);
    let reader = std::io::Cursor::new(first).chain(reader);
    let writer = BufWriter::with_capacity(64 * 1024, writer);
    AsyncMysqlIntermediary::run_with_options(backend, reader, writer, &options).await
}

/// The SSLRequest packet: capabilities, max packet size, charset, 23 bytes of filler.
const SSL_REQUEST_LENGTH: usize = 32;

async fn write_packet(stream: &mut TcpStream, seq: u8, payload: &[u8]) -> std::io::Result<()> {
    let length = (payload.len() as u32).to_le_bytes();
    let mut packet = Vec::with_capacity(payload.len() + 4);
    packet.extend_from_slice(&length[..3]);
    packet.push(seq);
    packet.extend_from_slice(payload);
    stream.write_all(&packet).await?;
    stream.flush().await
}

//! Accepts connections and runs each one in its own task with its own tracing span; on a
//! server with a certificate, negotiates TLS first when the client asks for it.

use std::future::Future;
use std::sync::Arc;

use opensrv_mysql::{AsyncMysqlIntermediary, CapabilityFlags, IntermediaryOptions};
use snaprock_exec::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::connection::Backend;
use crate::{ServerConfig, TlsSettings};

/// Serves MySQL clients on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    config: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    info!(address = %listener.local_addr()?, "accepting MySQL connections");
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => {
                info!("shutting down the MySQL listener");
                return Ok(());
            }
        };
        let _ = stream.set_nodelay(true);
        let backend = Backend::new(engine.clone(), config.clone(), peer);
        let span = info_span!("connection", id = backend.connection_id(), peer = %peer);
        let tls = config.tls.clone();
        tokio::spawn(
            async move {
                debug!("connected");
                let result = match tls {
                    None => {
                        let (reader, writer) = stream.into_split();
                        let writer = BufWriter::with_capacity(64 * 1024, writer);
                        AsyncMysqlIntermediary::run_on(backend, reader, writer).await
                    }
                    Some(tls) => serve_tls_capable(stream, backend, &tls).await,
                };
                match result {
                    Ok(()) => debug!("disconnected"),
                    Err(e) => debug!(error = %e, "connection ended"),
                }
            }
            .instrument(span),
        );
    }
}

/// MySQL's ER_SECURE_TRANSPORT_REQUIRED.
const SECURE_TRANSPORT_REQUIRED: u16 = 3159;

/// A connection on a server with TLS: the greeting offers it; a client whose first packet is
/// an SSLRequest continues over TLS, one that answers in plain text continues in plain text
/// unless secure transport is required.
async fn serve_tls_capable(
    mut stream: TcpStream,
    backend: Backend,
    tls: &TlsSettings,
) -> std::io::Result<()> {
    write_packet(&mut stream, 0, &backend.greeting(true)).await?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await?;
    let length = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let seq = header[3];
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await?;
    let capabilities = payload
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or_default();
    let wants_tls =
        CapabilityFlags::from_bits_truncate(capabilities).contains(CapabilityFlags::CLIENT_SSL);
    let options = IntermediaryOptions {
        greeting_sent: true,
        secure: wants_tls,
        ..IntermediaryOptions::default()
    };
    if wants_tls && length == SSL_REQUEST_LENGTH {
        let stream = tls.acceptor.accept(stream).await?;
        debug!("TLS established");
        let (reader, writer) = tokio::io::split(stream);
        let writer = BufWriter::with_capacity(64 * 1024, writer);
        return AsyncMysqlIntermediary::run_with_options(backend, reader, writer, &options).await;
    }
    if tls.require_secure_transport {
        warn!("plaintext login refused: secure transport is required");
        let mut err = vec![0xff];
        err.extend_from_slice(&SECURE_TRANSPORT_REQUIRED.to_le_bytes());
        err.extend_from_slice(b"#HY000");
        err.extend_from_slice(
            b"Connections using insecure transport are prohibited while --require_secure_transport=ON.",
        );
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

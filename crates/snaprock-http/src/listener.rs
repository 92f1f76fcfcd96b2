//! Accepts HTTP connections and serves each in its own task with its own tracing span.
//! Bounds what a client can take, logged in or not: at most [`MAX_CONNECTIONS`] at once (more
//! are closed at once), [`HANDSHAKE_TIMEOUT`] for TLS, [`HEADER_TIMEOUT`] to send a request's
//! headers (idle keep-alive connections close after it too), [`MAX_REQUEST_BUFFER`] bytes of
//! headers. No route reads a request body. On shutdown: stop accepting, let requests in flight
//! finish for a moment, then close.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::health::HttpState;

/// HTTP connections served at once.
pub const MAX_CONNECTIONS: usize = 128;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Request line and headers (hyper's smallest allowed buffer is 8 KiB).
const MAX_REQUEST_BUFFER: usize = 16 * 1024;
/// How long requests in flight may go on once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves HTTP on `listener` until `shutdown` completes; over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    state: Arc<HttpState>,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!(address = %listener.local_addr()?, scheme, "accepting HTTP connections");
    let mut connections = JoinSet::new();
    let mut next_id: u64 = 0;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = &mut shutdown => break,
        };
        if connections.len() >= MAX_CONNECTIONS {
            warn!(peer = %peer, "HTTP connection refused: too many connections");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let span = info_span!("http_connection", id = next_id, peer = %peer);
        let state = state.clone();
        let tls = tls.clone();
        connections.spawn(
            async move {
                let result = match tls {
                    None => serve_connection(stream, state, peer).await,
                    Some(tls) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                            Ok(Ok(stream)) => serve_connection(stream, state, peer).await,
                            Ok(Err(e)) => Err(e.to_string()),
                            Err(_) => Err("TLS handshake timed out".to_string()),
                        }
                    }
                };
                if let Err(e) = result {
                    debug!(error = %e, "HTTP connection ended");
                }
            }
            .instrument(span),
        );
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.shutdown().await;
    }
    info!("HTTP listener stopped");
    Ok(())
}

async fn serve_connection<S>(
    stream: S,
    state: Arc<HttpState>,
    peer: SocketAddr,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let state = state.clone();
        async move {
            Ok::<_, std::convert::Infallible>(crate::routes::handle(&state, request, peer).await)
        }
    });
    http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_REQUEST_BUFFER)
        .serve_connection(TokioIo::new(stream), service)
        .await
        .map_err(|e| e.to_string())
}

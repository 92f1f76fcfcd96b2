//! Accepts connections and runs each one in its own task with its own tracing span.

use std::future::Future;
use std::sync::Arc;

use opensrv_mysql::AsyncMysqlIntermediary;
use snaprock_exec::Engine;
use tokio::io::BufWriter;
use tokio::net::TcpListener;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::ServerConfig;
use crate::connection::Backend;

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
        tokio::spawn(
            async move {
                debug!("connected");
                let (reader, writer) = stream.into_split();
                let writer = BufWriter::with_capacity(64 * 1024, writer);
                match AsyncMysqlIntermediary::run_on(backend, reader, writer).await {
                    Ok(()) => debug!("disconnected"),
                    Err(e) => debug!(error = %e, "connection ended"),
                }
            }
            .instrument(span),
        );
    }
}

//! `snaprock`: starts the server (see `snaprock --help`).

use clap::Parser;
use snaprock::{Options, shutdown_signal, start};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let options = Options::parse();
    let data_dir = options.data_dir.clone();
    match start(options, shutdown_signal()).await {
        Ok((address, handle)) => {
            tracing::info!(%address, data_dir = %data_dir.display(), "snaprock is ready");
            match handle.await {
                Ok(Ok(())) => std::process::ExitCode::SUCCESS,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "server failed");
                    std::process::ExitCode::FAILURE
                }
                Err(e) => {
                    tracing::error!(error = %e, "server task failed");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            std::process::ExitCode::FAILURE
        }
    }
}

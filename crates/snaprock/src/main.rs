//! `snaprock`: starts the server (see `snaprock --help`).

use clap::Parser;
use snaprock::{Options, shutdown_signal, start};
use tracing_subscriber::EnvFilter;

/// See `main`: the parser's own log would repeat statement texts.
const SQLPARSER_LOG_LEVEL: &str = "sqlparser=info";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logs go to stderr, so stdout stays free for whoever runs the binary. sqlparser echoes
    // every statement's text at debug level, and statement texts can hold secrets (S3 keys in
    // CREATE REPOSITORY): it never logs below info, whatever RUST_LOG says.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(SQLPARSER_LOG_LEVEL.parse().expect("a valid directive"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
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

//! `snaprock`: starts the server (see `snaprock --help`).

use clap::Parser;
use snaprock::{Options, shutdown_signal, start};
use tracing_subscriber::EnvFilter;

/// See `main`: these libraries' own logs repeat statement texts or the literals in them
/// (sqlparser its tokens, DataFusion every plan it builds), whatever level RUST_LOG asks for.
/// A directive names a target prefix, so `datafusion` covers every `datafusion_*` crate.
const QUIET_LIBRARIES: [&str; 2] = ["sqlparser=info", "datafusion=info"];

/// Stack of each runtime thread. Planning a statement nests DataFusion's and the statement
/// handlers' futures deeply, and an unoptimized build's frames are large: tokio's 2 MiB default
/// once overflowed (and a stack overflow aborts the whole server, every session with it).
const THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve()),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve() -> std::process::ExitCode {
    // Logs go to stderr, so stdout stays free for whoever runs the binary. Statement texts can
    // hold secrets (S3 keys in CREATE REPOSITORY, passwords in CREATE USER): the libraries
    // that echo them never log below info, whatever RUST_LOG says.
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in QUIET_LIBRARIES {
        filter = filter.add_directive(directive.parse().expect("a valid directive"));
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let options = Options::parse();
    let data_dir = options.data_dir.clone();
    match start(options, shutdown_signal()).await {
        Ok(started) => {
            tracing::info!(
                address = %started.mysql,
                http = %started.http.map_or_else(|| "off".to_string(), |a| a.to_string()),
                data_dir = %data_dir.display(),
                "snaprock is ready"
            );
            match started.handle.await {
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

//! The snaprock server: command-line options and start-up, shared by the binary and the tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use snaprock_exec::{Engine, ServerSetting};
use snaprock_mysql::{ServerConfig, TlsSettings};
use tokio::net::TcpListener;

/// Command-line options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "snaprock",
    version,
    about = "StarRocks-compatible MySQL-protocol server with backup and restore"
)]
pub struct Options {
    /// Directory holding the catalog and table data (created if missing).
    #[arg(long, default_value = "./snaprock-data")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// MySQL protocol port (StarRocks' query port).
    #[arg(long, default_value_t = 9030)]
    pub port: u16,
    /// HTTP port (StarRocks' FE HTTP port): /api/health, /metrics and the backup console at
    /// `/`, on the same --host, over TLS when --tls-cert is given. 0 turns it off.
    #[arg(long, default_value_t = 8030)]
    pub http_port: u16,
    /// Password of the `root` user, set at startup: on the first start (default: none) and to
    /// reset a lost one. Without it the stored password (SET PASSWORD) stays. Prefer
    /// SNAPROCK_ROOT_PASSWORD: command lines are visible to other users of the machine.
    #[arg(
        long,
        env = "SNAPROCK_ROOT_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    pub root_password: String,
    /// Seconds between background compaction passes.
    #[arg(long, default_value_t = 30)]
    pub compaction_interval_secs: u64,
    /// Server certificate chain (PEM): turns on TLS for the MySQL protocol (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse logins that do not use TLS (needs --tls-cert and --tls-key).
    #[arg(long, requires = "tls_cert")]
    pub require_secure_transport: bool,
    /// On SIGTERM or Ctrl-C, how long running statements may go on before they are ended.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Size in MiB of one part of a multipart upload to S3 (S3 takes 5 to 5120).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(5..=5120))]
    pub upload_part_mib: u64,
    /// Parts of one file uploaded at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub upload_parts_in_flight: u64,
    /// Size in KiB of one ranged GET of a download from S3: larger files are read in such
    /// parts, in parallel.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u64).range(64..=1_048_576))]
    pub download_part_kib: u64,
    /// Ranged GETs in flight at once across all downloads from one repository (memory bound:
    /// this times the part size).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub download_parts_in_flight: u64,
    /// Write downloaded parts with direct I/O (`O_DIRECT`) where the file system allows it:
    /// much less CPU than the page cache; `false` writes through the page cache.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub download_direct_io: bool,
    /// Bound of the data cache: local copies of the files of tables on storage volumes, least
    /// recently used out first (bytes, or with K, M, G or T: `10G`). 0 keeps none.
    #[arg(long, default_value = "10G", value_parser = parse_size)]
    pub datacache_size: u64,
    /// Seconds a data file a table on a storage volume no longer reads stays in the store
    /// before it is deleted: servers following the volume finish their queries over the
    /// version before (longer than their longest query).
    #[arg(long, default_value_t = 300)]
    pub volume_retire_grace_secs: u64,
}

/// `1048576`, `512K`, `100M`, `10G`, `1T` (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!(
                "'{text}' is not a size (write 10G, 512M, or bytes)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (write 10G, 512M, or bytes)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

impl Options {
    /// The options as information_schema.be_configs lists them, each with its default; never
    /// the root password.
    pub fn settings(&self) -> Vec<ServerSetting> {
        let command = <Options as clap::CommandFactory>::command();
        let setting = |id: &str, value: String, kind: &'static str| {
            let default = command
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_default_values().first())
                .map(|v| v.to_string_lossy().into_owned())
                // A size written `10G` is shown in bytes, as its value is.
                .map(|v| match (kind, parse_size(&v)) {
                    ("int64", Ok(n)) => n.to_string(),
                    _ => v,
                })
                // A flag (a bool without a default value) is off unless given.
                .unwrap_or_else(|| {
                    if kind == "bool" {
                        "false".into()
                    } else {
                        String::new()
                    }
                });
            ServerSetting {
                name: id.to_string(),
                value,
                kind,
                default,
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        vec![
            setting("data_dir", self.data_dir.display().to_string(), "string"),
            setting("host", self.host.clone(), "string"),
            setting("port", self.port.to_string(), "int64"),
            setting("http_port", self.http_port.to_string(), "int64"),
            setting(
                "compaction_interval_secs",
                self.compaction_interval_secs.to_string(),
                "int64",
            ),
            setting(
                "tls_cert",
                path(&self.tls_cert).unwrap_or_default(),
                "string",
            ),
            setting("tls_key", path(&self.tls_key).unwrap_or_default(), "string"),
            setting(
                "require_secure_transport",
                self.require_secure_transport.to_string(),
                "bool",
            ),
            setting(
                "shutdown_grace_secs",
                self.shutdown_grace_secs.to_string(),
                "int64",
            ),
            setting("upload_part_mib", self.upload_part_mib.to_string(), "int64"),
            setting(
                "upload_parts_in_flight",
                self.upload_parts_in_flight.to_string(),
                "int64",
            ),
            setting(
                "download_part_kib",
                self.download_part_kib.to_string(),
                "int64",
            ),
            setting(
                "download_parts_in_flight",
                self.download_parts_in_flight.to_string(),
                "int64",
            ),
            setting(
                "download_direct_io",
                self.download_direct_io.to_string(),
                "bool",
            ),
            setting("datacache_size", self.datacache_size.to_string(), "int64"),
            setting(
                "volume_retire_grace_secs",
                self.volume_retire_grace_secs.to_string(),
                "int64",
            ),
        ]
    }

    /// The repository transfer settings these options ask for.
    pub fn transfers(&self) -> snaprock_backup::store::TransferTuning {
        snaprock_backup::store::TransferTuning {
            part_size: (self.upload_part_mib * 1024 * 1024) as usize,
            download_part_size: (self.download_part_kib * 1024) as usize,
            parts_in_flight: self.upload_parts_in_flight as usize,
            download_parts_in_flight: self.download_parts_in_flight as usize,
            download_direct_io: self.download_direct_io,
        }
    }
}

/// A started server.
#[derive(Debug)]
pub struct Started {
    /// Where the MySQL protocol listens.
    pub mysql: SocketAddr,
    /// Where HTTP listens (`None` with `--http-port 0`).
    pub http: Option<SocketAddr>,
    /// Ends when the server has stopped (after `shutdown` completed).
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds the HTTP listener (it answers 503 meanwhile), opens the data directory, binds the
/// MySQL listener; the returned handle serves both until `shutdown` completes.
pub async fn start(
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Started> {
    let tls = match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => Some(
            TlsSettings::load(cert, key, options.require_secure_transport)
                .map_err(std::io::Error::other)?,
        ),
        _ if options.require_secure_transport => {
            return Err(std::io::Error::other(
                "--require-secure-transport needs --tls-cert and --tls-key",
            ));
        }
        _ => None,
    };
    let config = Arc::new(ServerConfig {
        tls: tls.clone(),
        shutdown_grace: Duration::from_secs(options.shutdown_grace_secs),
        ..ServerConfig::default()
    });
    // HTTP first: while the data directory opens, /api/health answers 503.
    let http_state = snaprock_http::HttpState::starting(config.clone());
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = if options.http_port == 0 {
        None
    } else {
        let listener = TcpListener::bind((options.host.as_str(), options.http_port))
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot listen for HTTP on {}:{}: {e} (--http-port 0 turns HTTP off)",
                        options.host, options.http_port
                    ),
                )
            })?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(snaprock_http::serve(
            listener,
            http_state.clone(),
            tls.as_ref().map(|t| t.acceptor.clone()),
            async move {
                let _ = http_stopped.await;
            },
        ));
        Some((address, task))
    };
    let root_password = Some(options.root_password.as_str()).filter(|p| !p.is_empty());
    // On any error below, dropping `http_stop` stops the HTTP listener.
    let engine = Engine::open(&options.data_dir, root_password, options.transfers())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    engine.catalog.set_datacache_limit(options.datacache_size);
    engine
        .catalog
        .set_volume_retire_grace(Duration::from_secs(options.volume_retire_grace_secs));
    if tls.is_some() {
        // What clients read to learn whether TLS is offered (`SHOW VARIABLES LIKE 'have_ssl'`).
        let text = |v: &str| snaprock_exec::VarValue::Str(v.to_string());
        for (name, value) in [
            ("have_ssl", "YES"),
            ("have_openssl", "YES"),
            (
                "require_secure_transport",
                if options.require_secure_transport {
                    "ON"
                } else {
                    "OFF"
                },
            ),
        ] {
            engine
                .globals
                .set_server_value(name, text(value))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
    engine.start_background_tasks(Duration::from_secs(options.compaction_interval_secs.max(1)));
    let listener = TcpListener::bind((options.host.as_str(), options.port)).await?;
    let address = listener.local_addr()?;
    let http_address = http.as_ref().map(|(a, _)| *a);
    // The ports as bound (an option of 0 asks for any free one).
    let mut settings = options.settings();
    for setting in &mut settings {
        match setting.name.as_str() {
            "port" => setting.value = address.port().to_string(),
            "http_port" => setting.value = http_address.map_or(0, |a| a.port()).to_string(),
            _ => {}
        }
    }
    engine.set_server_settings(settings);
    http_state.serving(engine.clone());
    let handle = tokio::spawn(async move {
        // /api/health says SHUTTING_DOWN while the MySQL side drains, then HTTP stops.
        let served = snaprock_mysql::serve(listener, engine.clone(), config, shutdown).await;
        let _ = http_stop.send(());
        if let Some((_, task)) = http {
            let _ = task.await;
        }
        // Nothing of this server writes into the data directory once its handle has ended.
        engine.stop().await;
        served
    });
    Ok(Started {
        mysql: address,
        http: http_address,
        handle,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::{Options, parse_size};
    use clap::Parser;

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1t"), Ok(1 << 40));
        assert!(parse_size("10X").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    /// be_configs lists every option but the root password, each with its default.
    #[test]
    fn every_option_but_the_password_is_a_setting() {
        let options = Options::parse_from(["snaprock", "--port", "9999"]);
        let settings = options.settings();
        let command = <Options as clap::CommandFactory>::command();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let listed = settings.iter().any(|s| s.name == id);
            match id {
                "root_password" | "help" | "version" => assert!(!listed, "{id} is listed"),
                _ => assert!(listed, "option {id} is not a be_configs setting"),
            }
        }
        let port = settings.iter().find(|s| s.name == "port").unwrap();
        assert_eq!(
            (port.value.as_str(), port.default.as_str()),
            ("9999", "9030")
        );
        let cache = settings
            .iter()
            .find(|s| s.name == "datacache_size")
            .unwrap();
        assert_eq!(cache.default, (10u64 << 30).to_string());
        assert_eq!(cache.value, cache.default);
    }
}

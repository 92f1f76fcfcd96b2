//! Test harness: starts a real snaprock server on an ephemeral port and connects real MySQL
//! clients to it over TCP.

pub mod http;
pub mod point_in_time;
pub mod raw;
pub mod s3;
pub use point_in_time::{job_row, restorable_until, wait_restorable};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use tokio::sync::oneshot;

/// A server running in this process, on its own data directory.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Where HTTP listens, when the options gave it a port.
    pub http: Option<SocketAddr>,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A server on a fresh temporary data directory, root without password.
    pub async fn start() -> Self {
        // Not hidden: DataFusion's file listing (FILES()) skips paths under a `.name` directory.
        let temp = tempfile::Builder::new()
            .prefix("snaprock-test-")
            .tempdir()
            .expect("temp dir");
        let mut server = Self::start_in(temp.path(), "").await;
        server._temp = Some(temp);
        server
    }

    /// A server on `data_dir` (kept after the server stops).
    pub async fn start_in(data_dir: &Path, root_password: &str) -> Self {
        Self::start_with(Self::options(data_dir, root_password)).await
    }

    /// The options of [`TestServer::start_in`], to change before [`TestServer::start_with`].
    pub fn options(data_dir: &Path, root_password: &str) -> snaprock::Options {
        snaprock::Options {
            data_dir: data_dir.to_path_buf(),
            host: "127.0.0.1".into(),
            port: 0,
            http_port: 0,
            root_password: root_password.into(),
            compaction_interval_secs: 3600,
            tls_cert: None,
            tls_key: None,
            require_secure_transport: false,
            shutdown_grace_secs: 30,
            upload_part_mib: 8,
            upload_parts_in_flight: 4,
            download_part_kib: 8192,
            download_parts_in_flight: 16,
            download_direct_io: true,
            datacache_size: 10 * 1024 * 1024 * 1024,
            volume_retire_grace_secs: 0,
        }
    }

    /// A server with these options (its data directory is kept after it stops).
    pub async fn start_with(options: snaprock::Options) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let data_dir = options.data_dir.clone();
        let started = snaprock::start(options, async move {
            let _ = rx.await;
        })
        .await
        .expect("server starts");
        TestServer {
            addr: started.mysql,
            http: started.http,
            handle: Some(started.handle),
            data_dir,
            _temp: None,
            shutdown: Some(tx),
        }
    }

    pub fn opts(&self, user: &str, password: Option<&str>, db: Option<&str>) -> Opts {
        OptsBuilder::default()
            .ip_or_hostname(self.addr.ip().to_string())
            .tcp_port(self.addr.port())
            .user(Some(user))
            .pass(password)
            .db_name(db)
            .prefer_socket(false)
            .into()
    }

    /// A connection as root.
    pub async fn conn(&self) -> Conn {
        Conn::new(self.opts("root", None, None))
            .await
            .expect("connect as root")
    }

    /// Stops accepting connections (open connections end when their clients go).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

/// The MySQL error code of a failed call.
pub fn error_code<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>) -> u16 {
    match result {
        Err(mysql_async::Error::Server(e)) => e.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// The MySQL error of a failed call: (code, message).
pub fn server_error<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>) -> (u16, String) {
    match result {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Asserts that `sql` fails with exactly this error code and message.
pub async fn expect_error(conn: &mut Conn, sql: &str, code: u16, message: &str) {
    let (got_code, got) = match conn.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("{sql}: expected a server error, got {other:?}"),
    };
    assert_eq!((got_code, got.as_str()), (code, message), "{sql}");
}

/// Polls `condition` every 50 ms for up to 20 s.
pub async fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    for _ in 0..400 {
        if condition() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Runs statements, panicking with the statement on failure.
pub async fn run(conn: &mut Conn, statements: &[&str]) {
    for s in statements {
        if let Err(e) = conn.query_drop(*s).await {
            panic!("{s}: {e}");
        }
    }
}

/// SHOW PARTITIONS of `table`: each partition's name and range (or list of values).
pub async fn partition_ranges(conn: &mut Conn, table: &str) -> Vec<(String, String)> {
    rows(conn, &format!("SHOW PARTITIONS FROM {table}"))
        .await
        .into_iter()
        .map(|r| (r[1].clone(), r[7].clone()))
        .collect()
}

/// The names of `table`'s partitions, in SHOW PARTITIONS' order.
pub async fn partition_names(conn: &mut Conn, table: &str) -> Vec<String> {
    partition_ranges(conn, table)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// A query's rows as text (NULL as "NULL").
pub async fn rows(conn: &mut Conn, sql: &str) -> Vec<Vec<String>> {
    try_rows(conn, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A query's rows as text (NULL as "NULL"), or its error.
pub async fn try_rows(conn: &mut Conn, sql: &str) -> Result<Vec<Vec<String>>, mysql_async::Error> {
    let result: Vec<mysql_async::Row> = conn.query(sql).await?;
    Ok(result
        .into_iter()
        .map(|row| {
            (0..row.len())
                .map(|i| match row.as_ref(i) {
                    Some(mysql_async::Value::NULL) | None => "NULL".to_string(),
                    Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).to_string(),
                    Some(v) => v.as_sql(true).trim_matches('\'').to_string(),
                })
                .collect()
        })
        .collect())
}

/// A one-value query's value as text.
/// Each row of the query's result as its values joined by `,` (NULL as `NULL`).
pub async fn joined_rows(conn: &mut Conn, sql: &str) -> Vec<String> {
    rows(conn, sql)
        .await
        .into_iter()
        .map(|r| r.join(","))
        .collect()
}

pub async fn value(conn: &mut Conn, sql: &str) -> String {
    rows(conn, sql)
        .await
        .first()
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or_else(|| panic!("{sql}: no rows"))
}

/// Epoch milliseconds as a `backup_timestamp` (the server's format, local time).
pub fn backup_timestamp(ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .expect("a valid time")
        .format("%Y-%m-%d-%H-%M-%S-%3f")
        .to_string()
}

/// The newest timestamp of a snapshot, from SHOW SNAPSHOT.
pub async fn snapshot_timestamp(c: &mut Conn, repo: &str, snapshot: &str) -> String {
    let listed = rows(
        c,
        &format!("SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = '{snapshot}'"),
    )
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    listed[0][1]
        .lines()
        .last()
        .expect("a timestamp")
        .to_string()
}

/// Runs an external client program (a check script against the server) and asserts it succeeded
/// and printed its closing `summary` line (e.g. "3 passed, 0 failed").
pub async fn run_client_checks(mut command: std::process::Command, summary: &str) {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("client task")
        .expect("client program starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(summary), "{stdout}");
}

/// The SHOW BACKUP row of `db` as (column name, value) pairs.
pub async fn show_backup(conn: &mut Conn, db: &str) -> Vec<(String, String)> {
    show_job(conn, "BACKUP", db).await
}

/// The SHOW RESTORE row of `db` as (column name, value) pairs.
pub async fn show_restore(conn: &mut Conn, db: &str) -> Vec<(String, String)> {
    show_job(conn, "RESTORE", db).await
}

/// The `SHOW <kind> FROM db` row as (column name, value) pairs.
async fn show_job(conn: &mut Conn, kind: &str, db: &str) -> Vec<(String, String)> {
    show_job_rows(conn, kind, db)
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {kind} job in {db}"))
}

/// Every `SHOW <kind> FROM db` row as (column name, value) pairs.
pub async fn show_job_rows(conn: &mut Conn, kind: &str, db: &str) -> Vec<Vec<(String, String)>> {
    named_rows(conn, &format!("SHOW {kind} FROM {db}")).await
}

/// Every row of `sql` as (column name, text) pairs (NULL as `NULL`).
pub async fn named_rows(conn: &mut Conn, sql: &str) -> Vec<Vec<(String, String)>> {
    let result: Vec<mysql_async::Row> = conn
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    result
        .into_iter()
        .map(|row| {
            let columns = row.columns();
            (0..row.len())
                .map(|i| {
                    let value = match row.as_ref(i) {
                        Some(mysql_async::Value::Bytes(b)) => {
                            String::from_utf8_lossy(b).to_string()
                        }
                        _ => "NULL".to_string(),
                    };
                    (columns[i].name_str().to_string(), value)
                })
                .collect()
        })
        .collect()
}

/// One column of a SHOW BACKUP row.
pub fn column<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {name} in {row:?}"))
}

/// RESTOREs snapshot `snapshot` of `repo` into database `db` (its newest timestamp) and waits
/// until the job FINISHED.
pub async fn restore_snapshot_into(conn: &mut Conn, repo: &str, snapshot: &str, db: &str) {
    let ts = snapshot_timestamp(conn, repo, snapshot).await;
    run(
        conn,
        &[&format!(
            "RESTORE SNAPSHOT {db}.{snapshot} FROM {repo} PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(conn, db, &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
}

/// Polls SHOW BACKUP until the job's State is one of `states`; returns the row.
pub async fn wait_for_backup_state(
    conn: &mut Conn,
    db: &str,
    states: &[&str],
) -> Vec<(String, String)> {
    wait_for_job_state(conn, "BACKUP", db, states).await
}

/// Polls SHOW RESTORE until the job's State is one of `states`; returns the row.
pub async fn wait_for_restore_state(
    conn: &mut Conn,
    db: &str,
    states: &[&str],
) -> Vec<(String, String)> {
    wait_for_job_state(conn, "RESTORE", db, states).await
}

async fn wait_for_job_state(
    conn: &mut Conn,
    kind: &str,
    db: &str,
    states: &[&str],
) -> Vec<(String, String)> {
    for _ in 0..1200 {
        let row = show_job(conn, kind, db).await;
        if states.contains(&column(&row, "State")) {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{kind} in {db} never reached {states:?}: {:?}",
        show_job(conn, kind, db).await
    );
}

/// The snaprock binary next to the test executables (built by `cargo test --workspace`).
pub fn snaprock_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let binary = dir.join("snaprock");
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        binary.display()
    );
    binary
}

/// A port nothing listens on now (for a server about to bind it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The real binary as a child process (for kill -9, SIGTERM, its memory).
pub struct ServerProcess {
    child: std::process::Child,
    pub port: u16,
    /// The HTTP port it was given (`None` when the test chose one in `args`).
    pub http_port: Option<u16>,
}

/// How to start the real binary.
#[derive(Default)]
pub struct ProcessOptions<'a> {
    /// Working directory (default: the test's own).
    pub cwd: Option<&'a Path>,
    /// `--data-dir` as typed (relative paths allowed); `None` leaves the default.
    pub data_dir: Option<&'a str>,
    /// More command-line options.
    pub args: Vec<String>,
    /// The log (stderr) to this file at level `RUST_LOG`.
    pub log: Option<(&'a Path, &'a str)>,
}

impl ServerProcess {
    pub async fn start(data_dir: &Path) -> ServerProcess {
        Self::start_with_log(data_dir, None).await
    }

    /// Starts the binary with its log (stderr) written to `log` at level `RUST_LOG`.
    pub async fn start_with_log(data_dir: &Path, log: Option<(&Path, &str)>) -> ServerProcess {
        let data_dir = data_dir.to_string_lossy();
        Self::spawn(ProcessOptions {
            data_dir: Some(&data_dir),
            log,
            ..ProcessOptions::default()
        })
        .await
    }

    /// Starts the binary on a free port and waits until it accepts connections.
    pub async fn spawn(options: ProcessOptions<'_>) -> ServerProcess {
        let port = free_port();
        let mut command = std::process::Command::new(snaprock_binary());
        // Tests run side by side: HTTP on a free port too, unless the test says otherwise.
        let http_port = if options.args.iter().any(|a| a == "--http-port") {
            None
        } else {
            Some(free_port())
        };
        if let Some(http_port) = http_port {
            command.args(["--http-port", &http_port.to_string()]);
        }
        command
            .args(["--port", &port.to_string()])
            .args(&options.args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(dir) = options.data_dir {
            command.args(["--data-dir", dir]);
        }
        if let Some(cwd) = options.cwd {
            command.current_dir(cwd);
        }
        if let Some((path, level)) = options.log {
            let file = std::fs::File::create(path).expect("log file");
            command.stderr(file).env("RUST_LOG", level);
        }
        let mut child = command.spawn().expect("spawn snaprock");
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return ServerProcess {
                    child,
                    port,
                    http_port,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("snaprock did not start");
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Connection options as `user` with `password`.
    pub fn opts(&self, user: &str, password: Option<&str>) -> Opts {
        OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some(user))
            .pass(password)
            .prefer_socket(false)
            .into()
    }

    pub async fn conn(&self) -> Conn {
        Conn::new(self.opts("root", None)).await.expect("connect")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as `docker stop` or systemd sends it.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    pub async fn wait_exit(mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("snaprock did not exit within {limit:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A memory figure of the process from /proc (`VmRSS`, `VmHWM`: the peak), in bytes.
    pub fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }
}

/// A server a test did not stop (it failed, or it is done with it) is killed, not left running
/// after the test binary exits.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The first SQL block of a README.md section, split into statements.
pub fn readme_statements(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let section = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("README has no {heading} section"))
        .1;
    let block = section
        .split_once("```sql\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("an sql block")
        .0;
    let without_comments: String = block
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes a CSV of `rows` rows with 64 pseudo-random hex characters each (hardly compressible).
pub fn write_random_csv(path: &Path, rows: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..rows {
        let mut text = String::with_capacity(64);
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(&format!("{state:016x}"));
        }
        writeln!(out, "{i},{text}").unwrap();
    }
}

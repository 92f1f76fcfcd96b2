//! The HTTP listener beside the MySQL one, over real HTTP: `/api/health`, `/metrics` whose
//! values move with a real backup and restore (and never show a secret), the console's data
//! endpoints (login refusals, each account seeing what its SHOW statements show), HTTPS with the
//! MySQL certificate, and bad requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use snaprock_tests::http::{basic, exchange, get, metric, request, request_text};
use snaprock_tests::s3::{ACCESS_KEY, SECRET_KEY, TestS3};
use snaprock_tests::{
    TestServer, column, free_port, run, wait_for_backup_state, wait_for_restore_state,
};

async fn http_server(dir: &std::path::Path, root_password: &str) -> (TestServer, SocketAddr) {
    let mut options = TestServer::options(dir, root_password);
    options.http_port = free_port();
    let server = TestServer::start_with(options).await;
    let http = server.http.expect("HTTP listens");
    (server, http)
}

async fn metrics(http: SocketAddr) -> String {
    let response = get(http, "/metrics", None).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.headers
    );
    response.body
}

/// /metrics once `name{labels}` reads `expected`, or after 10 s: a job's counters are recorded
/// just after SHOW BACKUP / RESTORE shows it ended, the repository check a moment later.
async fn metrics_when(
    http: SocketAddr,
    name: &str,
    labels: &[(&str, &str)],
    expected: f64,
) -> String {
    let mut exposition = String::new();
    for _ in 0..100 {
        exposition = metrics(http).await;
        if metric(&exposition, name, labels) == Some(expected) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    exposition
}

fn value(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric(exposition, name, labels).unwrap_or(0.0)
}

#[tokio::test]
async fn health_routes_and_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (server, http) = http_server(dir.path(), "").await;

    let health = get(http, "/api/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), serde_json::json!({"status": "OK"}));
    assert_eq!(health.header("content-type"), Some("application/json"));
    assert_eq!(health.header("cache-control"), Some("no-store"));

    let post = request(http, "POST", "/api/health", None).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(get(http, "/no/such/page", None).await.status, 404);
    assert_eq!(request(http, "DELETE", "/nope", None).await.status, 404);

    let head = request(http, "HEAD", "/metrics", None).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body: {}", head.body);

    // Headers past the request buffer are refused, and the listener goes on serving.
    let huge = format!(
        "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let stream = tokio::net::TcpStream::connect(http).await.unwrap();
    let refused = exchange(stream, &huge).await;
    assert_eq!(refused.status, 431, "{refused:?}");
    assert_eq!(get(http, "/api/health", None).await.status, 200);

    // Requests are counted by route, not by the path a client made up.
    let exposition = metrics(http).await;
    assert!(
        value(
            &exposition,
            "snaprock_http_requests_total",
            &[("path", "other"), ("code", "404")]
        ) >= 2.0
    );
    assert!(!exposition.contains("/no/such/page"));
    server.stop().await;
}

#[tokio::test]
async fn metrics_move_with_a_real_backup_and_restore_and_show_no_secret() {
    let s3 = TestS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestServer::options(dir.path(), "");
    options.http_port = free_port();
    // Compaction passes every second: their counter shows up too.
    options.compaction_interval_secs = 1;
    let server = TestServer::start_with(options).await;
    let http = server.http.expect("HTTP listens");
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE shop",
            "CREATE TABLE shop.orders (id INT, amount DOUBLE) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO shop.orders VALUES (1, 2.5), (2, 3.5), (3, 4.5)",
        ],
    )
    .await;
    let before = metrics(http).await;
    assert!(value(&before, "snaprock_connections_total", &[]) >= 1.0);
    assert_eq!(value(&before, "snaprock_connections", &[]), 1.0);
    assert_eq!(
        value(&before, "snaprock_statements_total", &[("kind", "INSERT")]),
        1.0
    );
    assert!(value(&before, "snaprock_catalog_commits_total", &[]) >= 3.0);
    assert!(value(&before, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(
        metric(
            &before,
            "snaprock_query_duration_seconds_count",
            &[("kind", "INSERT")]
        )
        .is_some_and(|n| n >= 1.0)
    );

    // A failed statement and a failed login are counted.
    assert!(
        mysql_async::prelude::Queryable::query_drop(&mut c, "SELEKT 1")
            .await
            .is_err()
    );
    let denied = mysql_async::Conn::new(server.opts("root", Some("wrong"), None)).await;
    assert!(denied.is_err());

    // Every data write fails once: the SDK retries, and the retries are counted.
    s3.faults.fail_next.store(1, Ordering::SeqCst);
    run(
        &mut c,
        &[&s3.create_repository_sql("repo", "metrics", false)],
    )
    .await;
    run(&mut c, &["BACKUP SNAPSHOT shop.first TO repo ON (orders)"]).await;
    let row = wait_for_backup_state(&mut c, "shop", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let progress = column(&row, "Progress").to_string();
    let files: f64 = progress
        .trim_start_matches("[files: ")
        .split('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{progress}"));
    assert!(files >= 1.0);

    // The repository check after a finished backup counts its snapshot.
    let after = metrics_when(
        http,
        "snaprock_repository_snapshots",
        &[("repository", "repo")],
        1.0,
    )
    .await;
    assert_eq!(
        value(
            &after,
            "snaprock_repository_snapshots",
            &[("repository", "repo")]
        ),
        1.0,
        "{after}"
    );
    assert_eq!(
        value(&after, "snaprock_repository_up", &[("repository", "repo")]),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "snaprock_backup_jobs_ended_total",
            &[("kind", "backup"), ("state", "FINISHED")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "snaprock_backup_jobs",
            &[("kind", "backup"), ("state", "FINISHED")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "snaprock_backup_files_total",
            &[("outcome", "uploaded")]
        ),
        files
    );
    assert!(
        value(
            &after,
            "snaprock_backup_transferred_bytes_total",
            &[("direction", "upload")]
        ) > 0.0
    );
    assert_eq!(
        value(
            &after,
            "snaprock_backup_job_duration_seconds_count",
            &[("kind", "backup"), ("state", "FINISHED")]
        ),
        1.0
    );
    let last = value(
        &after,
        "snaprock_backup_last_success_timestamp_seconds",
        &[("database", "shop"), ("repository", "repo")],
    );
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - 120.0..=now + 1.0).contains(&last), "{last} vs {now}");
    assert!(value(&after, "snaprock_s3_request_retries_total", &[]) >= 1.0);
    assert_eq!(
        value(
            &after,
            "snaprock_statement_errors_total",
            &[("kind", "unparsed")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "snaprock_connections_refused_total",
            &[("reason", "access_denied")]
        ),
        1.0
    );

    // A second snapshot of unchanged data reuses every file.
    run(&mut c, &["BACKUP SNAPSHOT shop.second TO repo ON (orders)"]).await;
    wait_for_backup_state(&mut c, "shop", &["FINISHED"]).await;
    let timestamp = snaprock_tests::snapshot_timestamp(&mut c, "repo", "first").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT shop.first FROM repo ON (orders AS restored) \
             PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
        )],
    )
    .await;
    let restored = wait_for_restore_state(&mut c, "shop", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&restored, "State"), "FINISHED", "{restored:?}");
    let last = metrics_when(
        http,
        "snaprock_backup_jobs_ended_total",
        &[("kind", "restore"), ("state", "FINISHED")],
        1.0,
    )
    .await;
    assert_eq!(
        value(
            &last,
            "snaprock_backup_files_total",
            &[("outcome", "reused")]
        ),
        files
    );
    assert_eq!(
        value(
            &last,
            "snaprock_backup_files_total",
            &[("outcome", "downloaded")]
        ),
        files
    );
    assert!(
        value(
            &last,
            "snaprock_backup_transferred_bytes_total",
            &[("direction", "download")]
        ) > 0.0
    );
    assert_eq!(
        value(
            &last,
            "snaprock_backup_jobs_ended_total",
            &[("kind", "restore"), ("state", "FINISHED")]
        ),
        1.0
    );
    for secret in [SECRET_KEY, ACCESS_KEY] {
        assert!(!last.contains(secret), "a key in /metrics");
    }
    // The first compaction pass runs a second after the start.
    let mut last = last;
    let started = std::time::Instant::now();
    while value(&last, "snaprock_compaction_runs_total", &[("result", "ok")]) < 1.0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "no compaction pass in 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        last = metrics(http).await;
    }
    eprintln!("compaction seen after {:?}", started.elapsed());
    check_documented_metrics(&last);
    server.stop().await;
}

/// Every metric the Grafana dashboard and the alert rules of docs/operations/ name is one the
/// server exports.
fn check_documented_metrics(exposition: &str) {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations");
    let mut names = std::collections::BTreeSet::new();
    for file in ["grafana-dashboard.json", "alerts.yml"] {
        let text = std::fs::read_to_string(docs.join(file)).unwrap();
        for prefix in ["snaprock_", "process_"] {
            for (start, _) in text.match_indices(prefix) {
                let name: String = text[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let family = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(&name)
                    .to_string();
                names.insert(family);
            }
        }
    }
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        assert!(
            exposition.contains(&format!("# TYPE {name} ")),
            "{name} is in docs/operations but not in /metrics"
        );
    }
}

#[tokio::test]
async fn the_console_needs_a_login_and_shows_what_the_account_sees() {
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = tempfile::Builder::new().prefix("repo-").tempdir().unwrap();
    let (server, http) = http_server(dir.path(), "rootpw").await;
    let root = basic("root", "rootpw");

    let anonymous = get(http, "/", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Basic realm=\"snaprock\", charset=\"UTF-8\"")
    );
    let wrong = get(http, "/api/console", Some(&basic("root", "nope"))).await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("Access denied for user 'root'"),
        "{}",
        wrong.body
    );
    assert_eq!(
        get(http, "/api/console", Some("Bearer x")).await.status,
        401
    );
    let page = get(http, "/", Some(&root)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>snaprock console</title>"));
    assert!(page.header("content-security-policy").is_some());
    assert_eq!(get(http, "/console.js", None).await.status, 200);

    let mut c = mysql_async::Conn::new(server.opts("root", Some("rootpw"), None))
        .await
        .unwrap();
    let location = format!("file://{}", repo_dir.path().display());
    run(
        &mut c,
        &[
            "CREATE DATABASE a",
            "CREATE DATABASE b",
            "CREATE TABLE a.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "CREATE TABLE b.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO a.t VALUES (1), (2)",
            "INSERT INTO b.t VALUES (3)",
            &format!("CREATE REPOSITORY r WITH BROKER ON LOCATION \"{location}\""),
            "BACKUP SNAPSHOT a.sa TO r",
            "BACKUP SNAPSHOT b.sb TO r",
            "CREATE USER ops IDENTIFIED BY 'opspw'",
            "GRANT SELECT ON ALL TABLES IN DATABASE a TO USER ops",
        ],
    )
    .await;
    wait_for_backup_state(&mut c, "a", &["FINISHED"]).await;
    wait_for_backup_state(&mut c, "b", &["FINISHED"]).await;

    let snapshots_of = |data: &serde_json::Value| -> Vec<String> {
        data["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["snapshot"].as_str().unwrap().to_string())
            .collect()
    };
    let as_root = get(http, "/api/console", Some(&root)).await.json();
    assert_eq!(as_root["user"], "'root'@'%'");
    let mut snapshots = snapshots_of(&as_root);
    snapshots.sort();
    assert_eq!(snapshots, vec!["sa", "sb"]);
    let first = as_root["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["database"] == "a")
        .unwrap();
    assert_eq!(first["kind"], "BACKUP");
    assert_eq!(first["state"], "FINISHED");
    assert_eq!(first["database"], "a");
    assert!(first["bytes"].as_u64().unwrap() > 0);
    assert_eq!(as_root["jobs"].as_array().unwrap().len(), 2);

    let ops = basic("ops", "opspw");
    let as_ops = get(http, "/api/console", Some(&ops)).await.json();
    assert_eq!(
        snapshots_of(&as_ops),
        vec!["sa"],
        "ops sees database a only"
    );
    let jobs = as_ops["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["database"], "a");

    let repos = get(http, "/api/repositories", Some(&root)).await.json();
    let repo = &repos["repositories"][0];
    assert_eq!(repo["name"], "r");
    let mut names: Vec<&str> = repo["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Snapshot"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["sa", "sb"]);
    // SHOW REPOSITORIES needs the REPOSITORY privilege: ops sees none.
    let repos = get(http, "/api/repositories", Some(&ops)).await.json();
    assert_eq!(repos["repositories"], serde_json::json!([]));
    server.stop().await;
}

#[tokio::test]
async fn https_with_the_mysql_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let mut options = TestServer::options(&dir.path().join("data"), "");
    options.http_port = free_port();
    options.tls_cert = Some(cert);
    options.tls_key = Some(key);
    let server = TestServer::start_with(options).await;
    let http = server.http.unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let health = exchange(tls, &request_text("GET", "/api/health", None)).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "OK");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let tcp = tokio::net::TcpStream::connect(http).await.unwrap();
    let mut plain = tcp;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    plain
        .write_all(request_text("GET", "/api/health", None).as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        plain.read_to_end(&mut answer),
    )
    .await;
    assert!(!answer.starts_with(b"HTTP/1.1 200"), "no plaintext answer");
    server.stop().await;
}

#[tokio::test]
async fn health_says_shutting_down_while_statements_drain() {
    let dir = tempfile::tempdir().unwrap();
    let (server, http) = http_server(dir.path(), "").await;
    let mut c = server.conn().await;
    // A statement that runs while the server stops.
    let sleeper = tokio::spawn(async move {
        let _ = mysql_async::prelude::Queryable::query_drop(&mut c, "SELECT SLEEP(3)").await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stopping = tokio::spawn(server.stop());
    let mut status = 0;
    for _ in 0..50 {
        let health = get(http, "/api/health", None).await;
        status = health.status;
        if status == 503 {
            assert_eq!(health.json()["status"], "SHUTTING_DOWN");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 503, "health answers 503 while the server drains");
    sleeper.await.unwrap();
    stopping.await.unwrap();
    // Once stopped, nothing listens.
    assert!(tokio::net::TcpStream::connect(http).await.is_err());
}

//! TLS on the MySQL protocol: a server started with `--tls-cert/--tls-key` serves the `mariadb`
//! CLI (`--ssl`) and PyMySQL over TLS, still serves plaintext clients unless
//! `--require-secure-transport`, which refuses them with MySQL's error 3159.
//!
//! CI installs the clients; elsewhere a missing client is reported and its part skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use snaprock_tests::{TestServer, server_error, value};

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM files.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let cert = dir.join("server-cert.pem");
    let key = dir.join("server-key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    (cert, key)
}

async fn tls_server(dir: &Path, require: bool) -> (TestServer, PathBuf) {
    let (cert, key) = certificate(dir);
    let mut options = TestServer::options(&dir.join("data"), "");
    options.tls_cert = Some(cert.clone());
    options.tls_key = Some(key);
    options.require_secure_transport = require;
    (TestServer::start_with(options).await, cert)
}

fn have(program: &str, args: &[&str]) -> bool {
    let found = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {program} {args:?}"
        );
        eprintln!("{program} {args:?} is not available: that part is not run");
    }
    found
}

/// Runs the `mariadb` CLI in batch mode; returns (exit code, stdout, stderr).
fn mariadb(server: &TestServer, extra: &[&str], sql: &str) -> (i32, String, String) {
    let out = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            &server.addr.port().to_string(),
            "-u",
            "root",
            "--batch",
        ])
        .args(extra)
        .args(["-e", sql])
        .output()
        .expect("mariadb runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PYMYSQL_TLS: &str = r#"
import ssl, sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", password="",
                       ssl={"ca": sys.argv[2]})
cur = conn.cursor()
cur.execute("SELECT 40 + 2")
print("answer", cur.fetchone()[0])
print("tls", isinstance(conn._sock, ssl.SSLSocket), conn._sock.version())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_logins_and_plaintext_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, cert) = tls_server(dir.path(), false).await;
    let cert_arg = format!("--ssl-ca={}", cert.display());
    if have("mariadb", &["--version"]) {
        let (code, out, err) = mariadb(
            &server,
            &["--ssl", &cert_arg, "--ssl-verify-server-cert"],
            "SELECT 6 * 7",
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("42"), "{out}");
        // The CLI's own report of the connection: a cipher is in use.
        let (code, out, err) = mariadb(&server, &["--ssl", &cert_arg], "status");
        assert_eq!(code, 0, "{err}");
        let ssl_line = out
            .lines()
            .find(|l| l.starts_with("SSL:"))
            .unwrap_or_default();
        assert!(ssl_line.contains("Cipher in use is"), "{out}");
        // Without TLS, on a server that does not require it.
        let (code, out, err) = mariadb(&server, &["--skip-ssl"], "SELECT 1");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains('1'), "{out}");
    }
    if have("python3", &["-c", "import pymysql"]) {
        let out = Command::new("python3")
            .args(["-c", PYMYSQL_TLS, &server.addr.port().to_string()])
            .arg(&cert)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("answer 42"), "{stdout}");
        assert!(stdout.contains("tls True TLSv1."), "{stdout}");
    }
    // A plain mysql_async client still gets in, and can see that TLS is offered.
    let mut conn = server.conn().await;
    assert_eq!(value(&mut conn, "SELECT 1").await, "1");
    assert_eq!(value(&mut conn, "SELECT @@have_ssl").await, "YES");
    assert_eq!(
        value(&mut conn, "SELECT @@require_secure_transport").await,
        "OFF"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_secure_transport_refuses_plaintext_logins() {
    let dir = tempfile::tempdir().unwrap();
    let (server, cert) = tls_server(dir.path(), true).await;
    let message =
        "Connections using insecure transport are prohibited while --require_secure_transport=ON.";
    let (code, text) = server_error(mysql_async::Conn::new(server.opts("root", None, None)).await);
    assert_eq!((code, text.as_str()), (3159, message));
    if have("mariadb", &["--version"]) {
        let (code, _, err) = mariadb(&server, &["--skip-ssl"], "SELECT 1");
        assert_ne!(code, 0);
        assert!(err.contains("3159") && err.contains(message), "{err}");
        let cert_arg = format!("--ssl-ca={}", cert.display());
        let (code, out, err) = mariadb(&server, &["--ssl", &cert_arg], "SELECT 'over tls'");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("over tls"), "{out}");
    }
}

#[tokio::test]
async fn bad_tls_settings_stop_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestServer::options(&dir.path().join("data"), "");
    options.require_secure_transport = true;
    let error = snaprock::start(options, async {})
        .await
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "--require-secure-transport needs --tls-cert and --tls-key"
    );
    let mut options = TestServer::options(&dir.path().join("data"), "");
    let missing = dir.path().join("missing.pem");
    options.tls_cert = Some(missing.clone());
    options.tls_key = Some(missing.clone());
    let error = snaprock::start(options, async {})
        .await
        .expect_err("refused");
    assert!(
        error.to_string().starts_with(&format!(
            "cannot read the certificate {}",
            missing.display()
        )),
        "{error}"
    );
}

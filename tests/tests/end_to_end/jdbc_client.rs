//! A JDBC driver (MariaDB Connector/J, as Metabase ships it) against the server:
//! `tests/clients/JdbcClient.java` is compiled and run. CI installs the JDK and the driver;
//! elsewhere the test says so and passes only if CI is not set.

use std::path::Path;
use std::process::Command;

use snaprock_tests::{TestServer, run_client_checks};

const DRIVER: &str = "/usr/share/java/mariadb-java-client.jar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_driver_connects_loads_queries_and_browses_metadata() {
    let have_javac = Command::new("javac")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_javac || !Path::new(DRIVER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install a JDK and libmariadb-java"
        );
        eprintln!("javac or {DRIVER} missing: JDBC test not run");
        return;
    }
    let classes = tempfile::tempdir().unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/JdbcClient.java");
    let compiled = Command::new("javac")
        .args([
            "-d",
            classes.path().to_str().unwrap(),
            "-cp",
            DRIVER,
            source,
        ])
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let server = TestServer::start().await;
    let classpath = format!("{DRIVER}:{}", classes.path().display());
    let port = server.addr.port().to_string();
    let mut java = Command::new("java");
    java.args(["-cp", &classpath, "JdbcClient", &port]);
    run_client_checks(java, "4 passed, 0 failed").await;
}

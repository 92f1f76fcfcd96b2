//! PyMySQL, mysql-connector-python (with server-side prepared statements) and SQLAlchemy's
//! inspector against the server (`tests/clients/python_clients.py`). CI installs them with pip;
//! elsewhere the test says so and passes only if CI is not set.

use std::process::Command;

use snaprock_tests::{TestServer, run_client_checks};

/// Whether the Python client libraries are installed; CI must have them.
fn python_clients_installed() -> bool {
    let installed = Command::new("python3")
        .args(["-c", "import pymysql, mysql.connector, sqlalchemy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must pip install pymysql mysql-connector-python sqlalchemy"
        );
        eprintln!("python client libraries not installed: test not run");
    }
    installed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_connect_load_query_and_introspect() {
    if !python_clients_installed() {
        return;
    }
    let server = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/python_clients.py");
    let port = server.addr.port().to_string();
    let mut python = Command::new("python3");
    python.args([script, &port]);
    run_client_checks(python, "3 passed, 0 failed").await;
}

/// A client that starts with caching_sha2_password (MySQL 8.4+/9.x clients, Connector/J 9 do)
/// is switched to mysql_native_password and logs in; a wrong password still fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_sha2_password_clients_are_switched_and_log_in() {
    if !python_clients_installed() {
        return;
    }
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    snaprock_tests::run(&mut root, &["CREATE USER sha2 IDENTIFIED BY 'sha2-pw'"]).await;
    let script = r#"
import sys
import mysql.connector
port = int(sys.argv[1])
def connect(password):
    return mysql.connector.connect(host="127.0.0.1", port=port, user="sha2", password=password,
                                   auth_plugin="caching_sha2_password", use_pure=True)
conn = connect("sha2-pw")
cur = conn.cursor()
cur.execute("SELECT CURRENT_USER()")
assert cur.fetchone()[0] == "'sha2'@'%'"
conn.close()
try:
    connect("wrong")
    raise SystemExit("a wrong password logged in")
except mysql.connector.Error as e:
    assert e.errno == 1045, e
print("1 passed, 0 failed")
"#;
    let mut python = Command::new("python3");
    python.args(["-c", script, &server.addr.port().to_string()]);
    run_client_checks(python, "1 passed, 0 failed").await;
}

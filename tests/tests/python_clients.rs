//! PyMySQL, mysql-connector-python (with server-side prepared statements) and SQLAlchemy's
//! inspector against the server (`tests/clients/python_clients.py`). CI installs them with pip;
//! elsewhere the test says so and passes only if CI is not set.

use std::process::Command;

use snaprock_tests::{TestServer, run_client_checks};

fn python_clients_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import pymysql, mysql.connector, sqlalchemy"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_connect_load_query_and_introspect() {
    if !python_clients_installed() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must pip install pymysql mysql-connector-python sqlalchemy"
        );
        eprintln!("python client libraries not installed: test not run");
        return;
    }
    let server = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/python_clients.py");
    let port = server.addr.port().to_string();
    let mut python = Command::new("python3");
    python.args([script, &port]);
    run_client_checks(python, "3 passed, 0 failed").await;
}

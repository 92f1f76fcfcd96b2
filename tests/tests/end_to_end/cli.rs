//! The `mariadb`/`mysql` command-line client against the server: batch mode, errors and exit
//! codes, and an interactive session (on a pseudo-terminal) that runs `use db` with
//! auto-rehash, which sends COM_FIELD_LIST for every table.
//!
//! CI installs the client; elsewhere the test says so and passes only if CI is not set.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snaprock_tests::{TestServer, run};

fn client() -> Option<&'static str> {
    ["mariadb", "mysql"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn require_client() -> Option<&'static str> {
    match client() {
        Some(c) => Some(c),
        None if std::env::var_os("CI").is_some() => panic!("CI must install mariadb-client"),
        None => {
            eprintln!("no mariadb/mysql client installed: CLI test not run");
            None
        }
    }
}

fn run_with_timeout(mut cmd: Command, input: &str, timeout: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let _ = status;
            return (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            );
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "client hung; output so far: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_batch_and_interactive() {
    let Some(cli) = require_client() else { return };
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE shop",
            "CREATE TABLE shop.items (id INT, name VARCHAR(20), price DECIMAL(8,2))",
        ],
    )
    .await;
    let port = server.addr.port().to_string();
    let base = move |extra: &[&str]| {
        let mut c = Command::new(cli);
        c.args(["-h", "127.0.0.1", "-P", &port, "-u", "root"])
            .args(extra);
        c
    };

    // Batch mode.
    let script = "INSERT INTO items VALUES (1, 'pen', 1.50), (2, 'ink', NULL);\nSELECT id, name, price FROM items ORDER BY id;\n";
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run_with_timeout(
            base(&["-D", "shop", "--batch"]),
            script,
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "id\tname\tprice\n1\tpen\t1.50\n2\tink\tNULL\n");

    // An error: the exact code, exit status 1.
    let port2 = server.addr.port().to_string();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        let mut c = Command::new(cli);
        c.args(["-h", "127.0.0.1", "-P", &port2, "-u", "root", "--batch"]);
        run_with_timeout(c, "SELECT * FROM shop.nope;\n", Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("ERROR 1146 (42S02)"), "{err}");

    // Interactive on a pty: `use shop` triggers auto-rehash (COM_FIELD_LIST per table).
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have `script` (util-linux)"
        );
        return;
    }
    let port3 = server.addr.port().to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let command = format!("{cli} -h 127.0.0.1 -P {port3} -u root");
        let mut c = Command::new("script");
        c.args(["-q", "-e", "-c", &command, "/dev/null"]);
        run_with_timeout(
            c,
            "use shop\nselect count(*) as n from items;\nstatus\nquit\n",
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Database changed"), "{out}");
    assert!(
        out.contains("| 2 |") || out.contains("|    2 |") || out.contains("| n |"),
        "{out}"
    );
    assert!(
        out.contains("Server version:") && out.contains("8.0.33-snaprock"),
        "{out}"
    );
    assert!(out.contains("Uptime:"), "{out}");
}

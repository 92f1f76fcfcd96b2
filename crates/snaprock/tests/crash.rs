//! Durability of the real binary: kill -9 while clients write, restart, and every committed
//! statement is there in full while no uncommitted one is half there.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mysql_async::prelude::*;

struct Server {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    async fn start(dir: &std::path::Path) -> Server {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_snaprock"))
            .args([
                "--data-dir",
                dir.to_str().unwrap(),
                "--port",
                &port.to_string(),
                // No HTTP listener: the default port may be taken by another server.
                "--http-port",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Server { child, port };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("server did not start");
    }

    async fn conn(&self) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some("root"));
        mysql_async::Conn::new(opts).await.unwrap()
    }

    fn kill9(mut self) {
        // SIGKILL: no shutdown code runs.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

const ROWS_PER_INSERT: usize = 50;

#[tokio::test]
async fn kill_9_during_writes_loses_no_committed_row_and_leaves_no_partial_statement() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let mut conn = server.conn().await;
    conn.query_drop("CREATE DATABASE d").await.unwrap();
    conn.query_drop(
        "CREATE TABLE d.t (k INT, batch INT, v STRING) PARTITION BY RANGE(k) \
         (PARTITION p0 VALUES LESS THAN ('25'), PARTITION p1 VALUES LESS THAN (MAXVALUE))",
    )
    .await
    .unwrap();
    // Two writers insert statements whose rows span both partitions.
    let mut writers = Vec::new();
    for w in 0..2 {
        let mut c = server.conn().await;
        writers.push(tokio::spawn(async move {
            let mut acknowledged = 0usize;
            for batch in 0.. {
                let values: Vec<String> = (0..ROWS_PER_INSERT)
                    .map(|k| format!("({k}, {}, 'writer {w}')", w * 100_000 + batch))
                    .collect();
                if c.query_drop(format!("INSERT INTO d.t VALUES {}", values.join(",")))
                    .await
                    .is_err()
                {
                    break;
                }
                acknowledged += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    let mut acknowledged = 0;
    for w in writers {
        acknowledged += w.await.unwrap();
    }
    assert!(acknowledged > 0, "no insert finished before the kill");

    let server = Server::start(dir.path()).await;
    let mut conn = server.conn().await;
    let count: usize = conn
        .query_first("SELECT count(*) FROM d.t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        count % ROWS_PER_INSERT,
        0,
        "a statement was half applied: {count} rows"
    );
    assert!(
        count / ROWS_PER_INSERT >= acknowledged,
        "{count} rows but {acknowledged} inserts were acknowledged"
    );
    assert!(
        count / ROWS_PER_INSERT <= acknowledged + 2,
        "more statements than were sent"
    );
    // Every statement is complete in both partitions.
    let partial: Vec<(i64, i64)> = conn
        .query("SELECT batch, count(*) AS n FROM d.t GROUP BY batch HAVING count(*) <> 50")
        .await
        .unwrap();
    assert!(partial.is_empty(), "partial statements: {partial:?}");
    // Files of statements that did not commit were removed at start-up.
    let files = count_files(&dir.path().join("data"));
    let listed = std::fs::read_to_string(dir.path().join("catalog.json"))
        .unwrap()
        .matches("\"path\":")
        .count();
    assert_eq!(files, listed, "data files on disk vs files in the catalog");
    drop(conn);
    server.kill9();
}

fn count_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += count_files(&path);
        } else {
            n += 1;
        }
    }
    n
}

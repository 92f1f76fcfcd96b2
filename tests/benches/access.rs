//! Privilege-check cost: the same statements as root (sees everything) and as a user holding
//! one grant per table, through a real server and client. Prints mean latencies of a point
//! query and of an information_schema listing (which filters the catalog for that user).
//!
//! `cargo bench -p snaprock-tests --bench access` (SNAPROCK_BENCH_TABLES=N, default 500).

use std::time::Instant;

use mysql_async::Conn;
use mysql_async::prelude::*;
use snaprock_tests::TestServer;

const ROUNDS: u32 = 2000;

async fn mean_ms(conn: &mut Conn, sql: &str, rounds: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        let _: Vec<mysql_async::Row> = conn.query(sql).await.expect(sql);
    }
    start.elapsed().as_secs_f64() * 1e3 / f64::from(rounds)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tables: usize = std::env::var("SNAPROCK_BENCH_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    root.query_drop("CREATE DATABASE d").await.unwrap();
    root.query_drop("CREATE USER reader IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    for i in 0..tables {
        root.query_drop(format!(
            "CREATE TABLE d.t{i} (id INT, v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1"
        ))
        .await
        .unwrap();
        // Every other table granted: the filter has work to do.
        if i % 2 == 0 {
            root.query_drop(format!("GRANT SELECT ON TABLE d.t{i} TO USER reader"))
                .await
                .unwrap();
        }
    }
    root.query_drop("INSERT INTO d.t0 VALUES (1, 1), (2, 2)")
        .await
        .unwrap();
    let mut reader = Conn::new(server.opts("reader", Some("pw"), None))
        .await
        .unwrap();

    let point = "SELECT v FROM d.t0 WHERE id = 1";
    let listing = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'd'";
    // Warm up both sessions.
    mean_ms(&mut root, point, 50).await;
    mean_ms(&mut reader, point, 50).await;
    let root_point = mean_ms(&mut root, point, ROUNDS).await;
    let reader_point = mean_ms(&mut reader, point, ROUNDS).await;
    let root_listing = mean_ms(&mut root, listing, ROUNDS / 10).await;
    let reader_listing = mean_ms(&mut reader, listing, ROUNDS / 10).await;
    println!(
        "tables: {tables}, reader holds {} grants",
        tables.div_ceil(2)
    );
    println!(
        "point query      root {root_point:.3} ms   reader {reader_point:.3} ms   ratio {:.2}",
        reader_point / root_point
    );
    println!(
        "tables listing   root {root_listing:.3} ms   reader {reader_listing:.3} ms   ratio {:.2}",
        reader_listing / root_listing
    );
    drop((root, reader));
    server.stop().await;
}

//! Materialized view benchmark: the same dashboard queries on a table of N rows (default 10
//! million) answered from the base table and from an asynchronous materialized view of it,
//! side by side in one run, through a real server and a real MySQL client; plus the time of a
//! full refresh. Each query's two answers are compared before any time is printed.
//!
//! `cargo bench -p snaprock-tests --bench materialized_view` (SNAPROCK_BENCH_ROWS=N to change
//! the size).

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use snaprock_tests::TestServer;

/// The dashboard's queries: totals per region, a filtered breakdown, a top-N.
const QUERIES: [(&str, &str); 3] = [
    (
        "totals per region (100 of 100,000 groups)",
        "SELECT region_id, sum(amount), count(*) FROM b.sales GROUP BY region_id ORDER BY region_id",
    ),
    (
        "3 regions by product (3000 groups)",
        "SELECT region_id, product_id, sum(amount) AS total FROM b.sales \
         WHERE region_id IN (1, 2, 3) GROUP BY region_id, product_id ORDER BY region_id, product_id",
    ),
    (
        "top 10 products",
        "SELECT product_id, sum(amount) AS total FROM b.sales GROUP BY product_id \
         ORDER BY total DESC, product_id LIMIT 10",
    ),
];

/// Best of 5 and the rows of the last run.
async fn timed(conn: &mut mysql_async::Conn, sql: &str) -> (Duration, Vec<mysql_async::Row>) {
    let mut best = Duration::MAX;
    let mut rows = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        rows = conn.query(sql).await.unwrap();
        best = best.min(start.elapsed());
    }
    (best, rows)
}

fn text(rows: &[mysql_async::Row]) -> Vec<Vec<Option<Vec<u8>>>> {
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| match r.as_ref(i) {
                    Some(mysql_async::Value::Bytes(b)) => Some(b.clone()),
                    Some(v) => Some(v.as_sql(true).into_bytes()),
                    None => None,
                })
                .collect()
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("SNAPROCK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    // Not a hidden directory: DataFusion's listing skips paths with a component starting with '.'.
    let work = tempfile::Builder::new()
        .prefix("snaprock-bench-")
        .tempdir()
        .unwrap();
    let csv = work.path().join("sales.csv");
    {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&csv).unwrap());
        for id in 0..rows {
            // amount in cents: integers, so both answers add exactly the same numbers.
            writeln!(
                w,
                "{id},{},{},{}",
                id % 100,
                (id / 100) % 1000,
                (id * 31) % 10_000
            )
            .unwrap();
        }
    }
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = TestServer::start_in(&data, "").await;
    let mut conn = server.conn().await;
    for sql in [
        "CREATE DATABASE b".to_string(),
        "CREATE TABLE b.sales (id BIGINT, region_id BIGINT, product_id BIGINT, amount BIGINT) \
         DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 8"
            .to_string(),
        format!(
            "INSERT INTO b.sales SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
            csv.display()
        ),
        "CREATE MATERIALIZED VIEW b.sales_mv REFRESH DEFERRED MANUAL AS \
         SELECT region_id, product_id, sum(amount) AS total, count(*) AS n FROM b.sales \
         GROUP BY region_id, product_id"
            .to_string(),
    ] {
        conn.query_drop(&sql).await.unwrap();
    }
    let start = Instant::now();
    conn.query_drop("REFRESH MATERIALIZED VIEW b.sales_mv WITH SYNC MODE")
        .await
        .unwrap();
    let refresh = start.elapsed();
    let view_rows: Option<u64> = conn
        .query_first("SELECT count(*) FROM b.sales_mv")
        .await
        .unwrap();

    println!("rows in the base table:  {rows}");
    println!("rows in the view:        {}", view_rows.unwrap_or(0));
    println!("full refresh:            {:.2} s", refresh.as_secs_f64());
    println!();
    println!("| query | base table | from the view | speed-up |");
    println!("|---|---|---|---|");
    for (name, sql) in QUERIES {
        conn.query_drop("SET enable_materialized_view_rewrite = false")
            .await
            .unwrap();
        let (base, base_rows) = timed(&mut conn, sql).await;
        conn.query_drop("SET enable_materialized_view_rewrite = true")
            .await
            .unwrap();
        let plan: Vec<mysql_async::Row> = conn.query(format!("EXPLAIN {sql}")).await.unwrap();
        let rewritten = text(&plan)
            .iter()
            .flatten()
            .flatten()
            .any(|cell| String::from_utf8_lossy(cell).contains("sales_mv"));
        assert!(rewritten, "{sql} was not answered from the view");
        let (view, view_rows) = timed(&mut conn, sql).await;
        assert_eq!(text(&base_rows), text(&view_rows), "{sql}");
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1}× |",
            base.as_secs_f64() * 1e3,
            view.as_secs_f64() * 1e3,
            base.as_secs_f64() / view.as_secs_f64()
        );
    }
    drop(conn);
    server.stop().await;
}

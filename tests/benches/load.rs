//! Load benchmark: writes a CSV of N rows (default 10 million, about 1 GB), loads it with
//! `INSERT INTO ... SELECT * FROM FILES(...)` through a real server and a real client, and
//! prints rows/s, bytes on disk, and the latency of `SELECT count(*)` and a GROUP BY. The same
//! two queries then run on plain DataFusion over the same Parquet files, for comparison.
//!
//! `cargo bench -p snaprock-tests --bench load` (SNAPROCK_BENCH_ROWS=N to change the size).

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use mysql_async::prelude::*;
use snaprock_tests::TestServer;

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
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
    let csv = work.path().join("rows.csv");
    {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&csv).unwrap());
        for id in 0..rows {
            let k = (id * 7919) % 1000;
            writeln!(
                w,
                "{id},{k},{:064x},2024-{:02}-{:02} {:02}:{:02}:{:02}",
                id as u128 * 2654435761,
                id % 12 + 1,
                id % 28 + 1,
                id % 24,
                id % 60,
                (id / 60) % 60
            )
            .unwrap();
        }
    }
    let csv_bytes = std::fs::metadata(&csv).unwrap().len();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = TestServer::start_in(&data, "").await;
    let mut conn = server.conn().await;
    conn.query_drop("CREATE DATABASE b").await.unwrap();
    conn.query_drop(
        "CREATE TABLE b.t (id BIGINT, k BIGINT, s VARCHAR(64), ts DATETIME) DUPLICATE KEY(id) \
         PARTITION BY RANGE(id) (PARTITION p0 VALUES LESS THAN ('2500000'), PARTITION p1 VALUES LESS THAN ('5000000'), \
         PARTITION p2 VALUES LESS THAN ('7500000'), PARTITION p3 VALUES LESS THAN (MAXVALUE)) DISTRIBUTED BY HASH(id) BUCKETS 8",
    )
    .await
    .unwrap();
    let start = Instant::now();
    conn.query_drop(format!(
        "INSERT INTO b.t SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
        csv.display()
    ))
    .await
    .unwrap();
    let load = start.elapsed();
    let on_disk = dir_bytes(&data.join("data"));
    let count_sql = "SELECT count(*) FROM b.t";
    let group_sql = "SELECT k, count(*), sum(id) FROM b.t GROUP BY k ORDER BY k";
    let mut count_latency = Duration::MAX;
    let mut group_latency = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let n: Option<u64> = conn.query_first(count_sql).await.unwrap();
        assert_eq!(n, Some(rows as u64));
        count_latency = count_latency.min(start.elapsed());
        let start = Instant::now();
        let groups: Vec<(i64, u64, String)> = conn.query(group_sql).await.unwrap();
        assert_eq!(groups.len(), 1000.min(rows));
        group_latency = group_latency.min(start.elapsed());
    }

    println!("rows loaded:            {rows}");
    println!("CSV size:               {:.1} MB", csv_bytes as f64 / 1e6);
    println!("load time:              {:.2} s", load.as_secs_f64());
    println!(
        "load rate:              {:.0} rows/s ({:.1} MB/s of CSV)",
        rows as f64 / load.as_secs_f64(),
        csv_bytes as f64 / 1e6 / load.as_secs_f64()
    );
    println!(
        "bytes on disk:          {:.1} MB (Parquet, zstd)",
        on_disk as f64 / 1e6
    );

    // Plain DataFusion over the same files (they sit in partition subdirectories).
    let config = datafusion::prelude::SessionConfig::new().set_bool(
        "datafusion.execution.listing_table_ignore_subdirectory",
        false,
    );
    let ctx = SessionContext::new_with_config(config);
    ctx.register_parquet(
        "t",
        data.join("data").to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let mut df_count = Duration::MAX;
    let mut df_group = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        ctx.sql("SELECT count(*) FROM t")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        df_count = df_count.min(start.elapsed());
        let start = Instant::now();
        ctx.sql("SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        df_group = df_group.min(start.elapsed());
    }

    println!(
        "SELECT count(*):        {:.1} ms (DataFusion alone: {:.1} ms)",
        count_latency.as_secs_f64() * 1e3,
        df_count.as_secs_f64() * 1e3
    );
    println!(
        "GROUP BY k (1000 keys): {:.1} ms (DataFusion alone: {:.1} ms)",
        group_latency.as_secs_f64() * 1e3,
        df_group.as_secs_f64() * 1e3
    );
    drop(conn);
    server.stop().await;
}

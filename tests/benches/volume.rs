//! Tables on a storage volume against tables on local disk, side by side in one run, through a
//! real server, a real client and a real S3 server (s3s-fs in this process, over loopback):
//!
//! * the load of the same CSV (default 10 million rows, about 1 GB) into a local table and into
//!   a table on the volume;
//! * `SELECT count(*)` and a GROUP BY on each: the volume table warm (its local copies in the
//!   data cache), and cold (a restart with `--datacache-size 0`: every read goes to the store);
//! * BACKUP of each table to a repository on the same S3 server: the volume table's files are
//!   copied by the store, the local table's streamed; time and data bytes sent to the store.
//!
//! `cargo bench -p snaprock-tests --bench volume` (SNAPROCK_BENCH_ROWS=N to change the size).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mysql_async::Conn;
use mysql_async::prelude::*;
use snaprock_tests::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3};
use snaprock_tests::{TestServer, column, wait_for_backup_state, write_random_csv};

const GROUP_SQL: &str = "SELECT id % 1000, count(*), max(k) FROM {t} GROUP BY id % 1000";

/// Best of three runs of `sql`, in milliseconds.
async fn best_of_3(c: &mut Conn, sql: &str) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let _: Vec<mysql_async::Row> = c.query(sql).await.unwrap();
        best = best.min(start.elapsed());
    }
    best.as_secs_f64() * 1e3
}

/// The first run of `sql` (cold), in milliseconds.
async fn once(c: &mut Conn, sql: &str) -> f64 {
    let start = Instant::now();
    let _: Vec<mysql_async::Row> = c.query(sql).await.unwrap();
    start.elapsed().as_secs_f64() * 1e3
}

async fn load(c: &mut Conn, table: &str, csv: &Path) -> f64 {
    let start = Instant::now();
    c.query_drop(format!(
        "INSERT INTO {table} SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
        csv.display()
    ))
    .await
    .unwrap();
    start.elapsed().as_secs_f64()
}

/// Runs BACKUP of `db` and returns (seconds, data bytes the store received).
async fn backup(c: &mut Conn, s3: &TestS3, db: &str) -> (f64, u64) {
    s3.faults.data_write_bytes.store(0, Ordering::SeqCst);
    let start = Instant::now();
    c.query_drop(format!("BACKUP SNAPSHOT {db}.{db}_snap TO repo"))
        .await
        .unwrap();
    let row = wait_for_backup_state(c, db, &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    (
        start.elapsed().as_secs_f64(),
        s3.faults.data_write_bytes.load(Ordering::SeqCst),
    )
}

async fn start(data: &Path, datacache: u64) -> TestServer {
    let mut options = TestServer::options(data, "");
    options.datacache_size = datacache;
    TestServer::start_with(options).await
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("SNAPROCK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let work = tempfile::Builder::new()
        .prefix("snaprock-bench-volume-")
        .tempdir()
        .unwrap();
    let csv = work.path().join("rows.csv");
    write_random_csv(&csv, rows);
    let csv_mb = std::fs::metadata(&csv).unwrap().len() as f64 / 1e6;
    let s3 = TestS3::start().await;
    let data = work.path().join("data");
    let server = start(&data, 64 << 30).await;
    let mut c = server.conn().await;
    let volume = format!(
        "CREATE STORAGE VOLUME sv TYPE = S3 LOCATIONS = (\"s3://{BUCKET}/volume\") PROPERTIES \
         (\"aws.s3.region\" = \"us-east-1\", \"aws.s3.endpoint\" = \"{}\", \"aws.s3.access_key\" \
         = \"{ACCESS_KEY}\", \"aws.s3.secret_key\" = \"{SECRET_KEY}\", \
         \"aws.s3.enable_path_style_access\" = \"true\")",
        s3.endpoint()
    );
    for sql in [
        volume.as_str(),
        &s3.create_repository_sql("repo", "repo", false),
        "CREATE DATABASE l",
        "CREATE DATABASE v PROPERTIES (\"storage_volume\" = \"sv\")",
        "CREATE TABLE l.t (id BIGINT, k STRING) DISTRIBUTED BY HASH(id) BUCKETS 8",
        "CREATE TABLE v.t (id BIGINT, k STRING) DISTRIBUTED BY HASH(id) BUCKETS 8",
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let load_local = load(&mut c, "l.t", &csv).await;
    let load_volume = load(&mut c, "v.t", &csv).await;
    let group = |t: &str| GROUP_SQL.replace("{t}", t);
    let count_local = best_of_3(&mut c, "SELECT count(*) FROM l.t").await;
    let count_warm = best_of_3(&mut c, "SELECT count(*) FROM v.t").await;
    let group_local = best_of_3(&mut c, &group("l.t")).await;
    let group_warm = best_of_3(&mut c, &group("v.t")).await;
    let (backup_local, bytes_local) = backup(&mut c, &s3, "l").await;
    let (backup_volume, bytes_volume) = backup(&mut c, &s3, "v").await;
    drop(c);
    server.stop().await;

    // Cold: no data cache, every read of the volume table goes to the store.
    let server = start(&data, 0).await;
    let mut c = server.conn().await;
    let count_cold = once(&mut c, "SELECT count(*) FROM v.t").await;
    let group_cold = once(&mut c, &group("v.t")).await;
    drop(c);
    server.stop().await;

    println!("rows: {rows} ({csv_mb:.1} MB of CSV)");
    println!("| figure | local table | table on the volume |");
    println!("|---|---|---|");
    println!(
        "| load | {load_local:.2} s ({:.0} MB/s of CSV) | {load_volume:.2} s ({:.0} MB/s of CSV) |",
        csv_mb / load_local,
        csv_mb / load_volume
    );
    println!("| `SELECT count(*)`, warm | {count_local:.1} ms | {count_warm:.1} ms |");
    println!("| `SELECT count(*)`, cold (no cache) | | {count_cold:.1} ms |");
    println!("| GROUP BY (1000 groups), warm | {group_local:.1} ms | {group_warm:.1} ms |");
    println!("| GROUP BY (1000 groups), cold (no cache) | | {group_cold:.1} ms |");
    println!(
        "| BACKUP to a repository on the same S3 server | {backup_local:.2} s, {:.1} MB sent (streamed) | {backup_volume:.2} s, {:.1} MB sent (copied in the store) |",
        bytes_local as f64 / 1e6,
        bytes_volume as f64 / 1e6
    );
}

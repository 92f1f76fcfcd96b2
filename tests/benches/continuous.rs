//! Continuous backup benchmark: the RPO under a steady stream of small INSERTs, the bytes
//! shipped per commit, and the restore of a point against a plain restore of the same data,
//! with a plain (scheduled-style) incremental BACKUP as the baseline in the same run.
//!
//! The release server runs as a child process, the S3 server (s3s-fs) in this process on
//! loopback. A table of SNAPROCK_BENCH_ROWS rows (default 2 M; `id BIGINT`, 64 hex characters)
//! is loaded, a continuous backup of it started, then one INSERT of 10 rows is committed every
//! SNAPROCK_BENCH_COMMIT_MS (default 200 ms) for SNAPROCK_BENCH_SECONDS (default 20 s) while a
//! second connection reads SHOW BACKUP's `restorable until` every 20 ms. A commit's RPO is the
//! time from its INSERT's OK to the first reading whose range covers it.
//!
//! `cargo build --release -p snaprock && cargo bench -p snaprock-tests --bench continuous`

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{Local, TimeZone};
use mysql_async::prelude::*;
use snaprock_tests::s3::TestS3;
use snaprock_tests::{
    ServerProcess, column, show_job_rows, wait_for_backup_state, wait_for_restore_state,
    write_random_csv,
};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

use snaprock_tests::backup_timestamp as timestamp;

/// The continuous job's `restorable until`, as epoch ms.
async fn restorable_until(c: &mut mysql_async::Conn) -> Option<i64> {
    let rows = show_job_rows(c, "BACKUP", "bench").await;
    let row = rows.iter().find(|r| column(r, "SnapshotName") == "cont")?;
    let ts = column(row, "Progress")
        .strip_prefix("[restorable until: ")?
        .split(']')
        .next()?
        .to_string();
    let naive = chrono::NaiveDateTime::parse_from_str(&ts, "%Y-%m-%d-%H-%M-%S-%3f").ok()?;
    Some(
        Local
            .from_local_datetime(&naive)
            .earliest()?
            .timestamp_millis(),
    )
}

/// Bytes under `dir` whose path contains `part` (all bytes when `part` is empty).
fn bytes_under(dir: &Path, part: &str) -> u64 {
    snaprock_tests::s3::files_under(dir)
        .iter()
        .filter(|f| f.contains(part) && !f.contains(".upload-"))
        .map(|f| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Restores `d.<snapshot>` (at `timestamp`) as table `target`; returns the time to FINISHED.
async fn timed_restore(c: &mut mysql_async::Conn, snapshot: &str, at: &str, target: &str) -> f64 {
    let started = Instant::now();
    c.query_drop(format!(
        "RESTORE SNAPSHOT bench.{snapshot} FROM repo ON (TABLE t AS {target}) \
         PROPERTIES (\"backup_timestamp\" = \"{at}\")"
    ))
    .await
    .unwrap();
    let row = wait_for_restore_state(c, "bench", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    started.elapsed().as_secs_f64()
}

async fn count_and_sum(c: &mut mysql_async::Conn, table: &str) -> (i64, String) {
    c.query_first(format!("SELECT count(*), sum(id) FROM bench.{table}"))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows = env_or("SNAPROCK_BENCH_ROWS", 2_000_000);
    let seconds = env_or("SNAPROCK_BENCH_SECONDS", 20);
    let commit_every = Duration::from_millis(env_or("SNAPROCK_BENCH_COMMIT_MS", 200));
    let s3 = TestS3::start().await;
    let work = tempfile::Builder::new()
        .prefix("snaprock-continuous-bench-")
        .tempdir_in(std::env::var("SNAPROCK_BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .unwrap();
    let server = ServerProcess::start(&work.path().join("data")).await;
    let mut c = server.conn().await;
    let csv = work.path().join("rows.csv");
    write_random_csv(&csv, rows as usize);
    for sql in [
        "CREATE DATABASE bench".to_string(),
        "CREATE TABLE bench.t (id BIGINT, payload STRING)".to_string(),
        format!(
            "INSERT INTO bench.t SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
            csv.display()
        ),
        s3.create_repository_sql("repo", "bench", false),
    ] {
        c.query_drop(sql).await.unwrap();
    }
    std::fs::remove_file(&csv).unwrap();
    let bucket = s3.bucket_dir();

    let started = Instant::now();
    c.query_drop(
        "BACKUP SNAPSHOT bench.cont TO repo ON (t) PROPERTIES (\"continuous\" = \"true\")",
    )
    .await
    .unwrap();
    while restorable_until(&mut c).await.is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_snapshot = started.elapsed();
    let before_stream = (bytes_under(&bucket, "__data"), bytes_under(&bucket, ""));

    // The stream of small commits, and a reader of the range beside it.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let mut r = server.conn().await;
        tokio::spawn(async move {
            let mut readings = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(until) = restorable_until(&mut r).await {
                    readings.push((now_ms(), until));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            readings
        })
    };
    let mut commits = Vec::new();
    let stream_start = Instant::now();
    let mut next_id = rows as i64;
    while stream_start.elapsed() < Duration::from_secs(seconds) {
        let values: Vec<String> = (0..10)
            .map(|i| format!("({}, 'commit {}')", next_id + i, commits.len()))
            .collect();
        next_id += 10;
        c.query_drop(format!("INSERT INTO bench.t VALUES {}", values.join(", ")))
            .await
            .unwrap();
        commits.push(now_ms());
        tokio::time::sleep(commit_every).await;
    }
    let last_commit = *commits.last().unwrap();
    while restorable_until(&mut c)
        .await
        .is_none_or(|u| u < last_commit)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let readings = reader.await.unwrap();
    let mut rpo: Vec<i64> = commits
        .iter()
        .filter_map(|&at| {
            readings
                .iter()
                .find(|(_, until)| *until >= at)
                .map(|(seen, _)| seen - at)
        })
        .collect();
    rpo.sort_unstable();
    let after_stream = (bytes_under(&bucket, "__data"), bytes_under(&bucket, ""));
    let shipped_data = after_stream.0 - before_stream.0;
    let shipped_all = after_stream.1 - before_stream.1;
    let n = commits.len() as u64;

    // Baseline: a plain incremental BACKUP after one more small commit, as a scheduled backup
    // taken at every commit would cost.
    c.query_drop(format!(
        "INSERT INTO bench.t VALUES ({next_id}, 'one more')"
    ))
    .await
    .unwrap();
    let point_at = {
        let committed = now_ms();
        while restorable_until(&mut c).await.is_none_or(|u| u < committed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        committed + 1
    };
    let before_plain = bytes_under(&bucket, "");
    let started = Instant::now();
    c.query_drop("BACKUP SNAPSHOT bench.plain TO repo ON (t)")
        .await
        .unwrap();
    let row = wait_for_backup_state(&mut c, "bench", &["FINISHED", "CANCELLED"]).await;
    let plain_backup = started.elapsed();
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let plain_bytes = bytes_under(&bucket, "") - before_plain;
    let plain_at = snaprock_tests::snapshot_timestamp(&mut c, "repo", "plain").await;

    // Restore of the point (same rows as the plain snapshot) against the plain restore,
    // alternating, twice each.
    let point_ts = timestamp(point_at);
    let mut point = Vec::new();
    let mut plain = Vec::new();
    for round in 0..2 {
        point.push(timed_restore(&mut c, "cont", &point_ts, &format!("t_point{round}")).await);
        plain.push(timed_restore(&mut c, "plain", &plain_at, &format!("t_plain{round}")).await);
    }
    let source = count_and_sum(&mut c, "t").await;
    assert_eq!(count_and_sum(&mut c, "t_point0").await, source);
    assert_eq!(count_and_sum(&mut c, "t_plain0").await, source);
    let best = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);

    println!("| figure | value |");
    println!("|---|---|");
    println!("| table | {} rows |", source.0);
    println!(
        "| first snapshot of the continuous backup | {:.2} s |",
        first_snapshot.as_secs_f64()
    );
    println!(
        "| commits in the stream | {n} (10 rows each, one every {} ms, {seconds} s) |",
        commit_every.as_millis()
    );
    println!(
        "| RPO (INSERT's OK → restorable), p50 / p95 / max | {} / {} / {} ms ({} of {n} commits measured) |",
        percentile(&rpo, 0.5),
        percentile(&rpo, 0.95),
        rpo.last().unwrap(),
        rpo.len()
    );
    println!(
        "| bytes shipped per commit | {:.0} B: {:.0} B data files, {:.0} B log, checkpoints and head |",
        shipped_all as f64 / n as f64,
        shipped_data as f64 / n as f64,
        (shipped_all - shipped_data) as f64 / n as f64
    );
    println!(
        "| baseline: a plain incremental BACKUP after one commit | {plain_bytes} B written, {:.2} s |",
        plain_backup.as_secs_f64()
    );
    println!(
        "| restore of a point (best of 2) | {:.2} s ({:.2} s, {:.2} s) |",
        best(&point),
        point[0],
        point[1]
    );
    println!(
        "| plain restore of the same rows (best of 2) | {:.2} s ({:.2} s, {:.2} s) |",
        best(&plain),
        plain[0],
        plain[1]
    );
    println!(
        "| point / plain | {:.2}× the time |",
        best(&point) / best(&plain)
    );
    server.kill9();
}

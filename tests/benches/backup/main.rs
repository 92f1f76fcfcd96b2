//! Backup and restore benchmark: a table of at least 1 GB on disk is backed up by the real
//! (release) server to a loopback S3 server (s3s-fs in this process); in the same run the same
//! files are uploaded with a plain aws-sdk-s3 multipart upload (the raw ceiling, same part size
//! and parallelism). Then the snapshot is restored into a new database and, again in the same
//! run, the same objects are downloaded with plain aws-sdk-s3 GETs into local files. Prints
//! MB/s of each, the ratios, the server's RSS growth during the backup and the restore, and the
//! time of a second backup of the unchanged table; then the same snapshot attached in place
//! (CREATE DATABASE ... FROM SNAPSHOT) and restored instantly (`"instant" = "true"`): time to
//! their first answer against the restore's.
//!
//! `cargo build --release -p snaprock && cargo bench -p snaprock-tests --bench backup`
//! (SNAPROCK_BENCH_CSV_ROWS = rows of the generated CSV, default 2 M; the table is that CSV
//! loaded once and doubled SNAPROCK_BENCH_DOUBLINGS times, default 4; SNAPROCK_BENCH_SERVER_ARGS
//! adds options to the server, such as `--download-parts-in-flight 8`).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::StreamExt;
use mysql_async::prelude::*;
use snaprock_tests::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3};
use snaprock_tests::{
    ProcessOptions, ServerProcess, column, wait_for_backup_state, wait_for_restore_state,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod peers;
mod raw;

use peers::{clickhouse, single_file_restore};
use raw::{CEILING_PART, CEILING_STREAMS, raw_download, raw_parallel_download, raw_upload};

const PART_SIZE: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 4;
const FILES_IN_FLIGHT: usize = 4;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            parquet_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
}

/// CPU seconds (user + system) the process has used: /proc/<pid>/stat, in USER_HZ (100) ticks.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the process's RSS until stopped; returns the peak.
fn sample_peak_rss(pid: u32, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss_kib(pid));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    })
}

fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let csv_rows = env_or("SNAPROCK_BENCH_CSV_ROWS", 2_000_000);
    let doublings = env_or("SNAPROCK_BENCH_DOUBLINGS", 4);
    let s3 = TestS3::start().await;
    let work = tempfile::Builder::new()
        .prefix("snaprock-backup-bench-")
        .tempdir_in(std::env::var("SNAPROCK_BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .unwrap();
    let data_dir = work.path().join("data");
    // SNAPROCK_BENCH_SERVER_ARGS: more options of the server under test (its transfer knobs).
    let server_args: Vec<String> = std::env::var("SNAPROCK_BENCH_SERVER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let data_dir_text = data_dir.to_string_lossy().to_string();
    let server = ServerProcess::spawn(ProcessOptions {
        data_dir: Some(&data_dir_text),
        args: server_args,
        ..ProcessOptions::default()
    })
    .await;
    let mut c = server.conn().await;

    // Hardly compressible payload: 64 hex characters of xorshift output per row.
    let csv = work.path().join("rows.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&csv).unwrap());
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for i in 0..csv_rows {
            write!(out, "{i},").unwrap();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                write!(out, "{state:016x}").unwrap();
            }
            writeln!(out).unwrap();
        }
    }
    let load = Instant::now();
    for sql in [
        "CREATE DATABASE bench".to_string(),
        "CREATE TABLE bench.t (id BIGINT, payload STRING)".to_string(),
        format!(
            "INSERT INTO bench.t SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
            csv.display()
        ),
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let csv_bytes = std::fs::metadata(&csv).unwrap().len();
    let logical_bytes = csv_bytes << doublings;
    for _ in 0..doublings {
        c.query_drop("INSERT INTO bench.t SELECT * FROM bench.t")
            .await
            .unwrap();
    }
    let mut files = Vec::new();
    parquet_files(&data_dir.join("data"), &mut files);
    let table_bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let rows: String = c
        .query_first("SELECT count(*) FROM bench.t")
        .await
        .unwrap()
        .unwrap();
    println!(
        "table: {rows} rows, {} files, {:.1} MB on disk (loaded in {:.1} s)",
        files.len(),
        table_bytes as f64 / 1e6,
        load.elapsed().as_secs_f64()
    );

    c.query_drop(s3.create_repository_sql("bench_repo", "bench", false))
        .await
        .unwrap();
    let pid = server.pid();
    let baseline = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_peak_rss(pid, stop.clone());
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    c.query_drop("BACKUP SNAPSHOT bench.full TO bench_repo")
        .await
        .unwrap();
    let row = wait_for_backup_state(&mut c, "bench", &["FINISHED", "CANCELLED"]).await;
    let backup_time = started.elapsed();
    let backup_cpu = cpu_seconds(pid) - cpu_before;
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    println!("backup progress: {}", column(&row, "Progress"));

    let started = Instant::now();
    c.query_drop("BACKUP SNAPSHOT bench.unchanged TO bench_repo")
        .await
        .unwrap();
    let row = wait_for_backup_state(&mut c, "bench", &["FINISHED", "CANCELLED"]).await;
    let unchanged_time = started.elapsed();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let unchanged_progress = column(&row, "Progress").to_string();

    // The raw ceiling: the same files, plain aws-sdk-s3 multipart, same part size/parallelism.
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "bench",
        ))
        .endpoint_url(s3.endpoint())
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let uploaded = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    futures::stream::iter(files.iter().enumerate().map(|(i, path)| {
        let client = client.clone();
        let uploaded = uploaded.clone();
        let path = path.clone();
        async move {
            let n = raw_upload(&client, format!("raw/file-{i}"), path).await;
            uploaded.fetch_add(n, Ordering::Relaxed);
        }
    }))
    .buffer_unordered(FILES_IN_FLIGHT)
    .collect::<Vec<_>>()
    .await;
    let raw_time = started.elapsed();
    let raw_bytes = uploaded.load(Ordering::Relaxed);

    // Restore the full snapshot into a new database.
    let listed: Vec<mysql_async::Row> = c
        .query("SHOW SNAPSHOT ON bench_repo WHERE SNAPSHOT = 'full'")
        .await
        .unwrap();
    let timestamp: String = listed[0].get(1).unwrap();
    let baseline_restore = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_peak_rss(pid, stop.clone());
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    c.query_drop(format!(
        "RESTORE SNAPSHOT restored.full FROM bench_repo PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
    ))
    .await
    .unwrap();
    let row = wait_for_restore_state(&mut c, "restored", &["FINISHED", "CANCELLED"]).await;
    let restore_time = started.elapsed();
    let restore_cpu = cpu_seconds(pid) - cpu_before;
    stop.store(true, Ordering::Relaxed);
    let restore_peak = sampler.await.unwrap();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let restored_rows: String = c
        .query_first("SELECT count(*) FROM restored.t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored_rows, rows);
    let restore_to_first_query = started.elapsed();

    // The same snapshot attached in place: statement sent until the first query answers, then
    // one more query on each copy (what the repository's ranged reads cost against local files).
    let attach_started = Instant::now();
    c.query_drop("CREATE DATABASE attached FROM SNAPSHOT full ON bench_repo")
        .await
        .unwrap();
    let attached_rows: String = c
        .query_first("SELECT count(*) FROM attached.t")
        .await
        .unwrap()
        .unwrap();
    let attach_to_first_query = attach_started.elapsed();
    assert_eq!(attached_rows, rows);
    let scan_started = Instant::now();
    let _: Option<String> = c
        .query_first("SELECT max(payload) FROM attached.t")
        .await
        .unwrap();
    let attached_scan = scan_started.elapsed();
    let scan_started = Instant::now();
    let _: Option<String> = c
        .query_first("SELECT max(payload) FROM restored.t")
        .await
        .unwrap();
    let restored_scan = scan_started.elapsed();

    // The same snapshot restored instantly: statement sent until the first query answers
    // (the job polled every 50 ms until it has committed), then until every file is local.
    let instant_started = Instant::now();
    c.query_drop(format!(
        "RESTORE SNAPSHOT instant.full FROM bench_repo PROPERTIES \
         (\"backup_timestamp\" = \"{timestamp}\", \"instant\" = \"true\")"
    ))
    .await
    .unwrap();
    wait_for_restore_state(&mut c, "instant", &["DOWNLOADING", "FINISHED"]).await;
    let instant_rows: String = c
        .query_first("SELECT count(*) FROM instant.t")
        .await
        .unwrap()
        .unwrap();
    let instant_to_first_query = instant_started.elapsed();
    assert_eq!(instant_rows, rows);
    let row = wait_for_restore_state(&mut c, "instant", &["FINISHED", "CANCELLED"]).await;
    let instant_to_local = instant_started.elapsed();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");

    // The raw download ceiling: the same objects, plain GETs, same parallelism.
    let repo_data = s3
        .bucket_dir()
        .join("bench/__starrocks_repository_bench_repo/__data");
    let mut objects = Vec::new();
    parquet_files(&repo_data, &mut objects);
    let keys: Vec<String> = objects
        .iter()
        .map(|p| {
            format!(
                "bench/__starrocks_repository_bench_repo/__data/{}",
                p.strip_prefix(&repo_data).unwrap().display()
            )
        })
        .collect();
    let keys_again = keys.clone();
    let download_dir = work.path().join("raw-downloads");
    std::fs::create_dir_all(&download_dir).unwrap();
    let downloaded = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    futures::stream::iter(keys.into_iter().enumerate().map(|(i, key)| {
        let client = client.clone();
        let downloaded = downloaded.clone();
        let path = download_dir.join(format!("file-{i}"));
        async move {
            let n = raw_download(&client, key, path).await;
            downloaded.fetch_add(n, Ordering::Relaxed);
        }
    }))
    .buffer_unordered(FILES_IN_FLIGHT)
    .collect::<Vec<_>>()
    .await;
    let raw_download_time = started.elapsed();
    let raw_download_bytes = downloaded.load(Ordering::Relaxed);
    let sized: Vec<(String, u64)> = objects
        .iter()
        .zip(&keys_again)
        .map(|(p, k)| (k.clone(), std::fs::metadata(p).unwrap().len()))
        .collect();
    let started = Instant::now();
    let parallel_bytes = raw_parallel_download(&client, &sized, &download_dir).await;
    let parallel_time = started.elapsed();

    let ours = mb_per_s(table_bytes, backup_time);
    let raw = mb_per_s(raw_bytes, raw_time);
    println!(
        "backup (statement to FINISHED): {:.1} MB in {:.2} s = {ours:.1} MB/s",
        table_bytes as f64 / 1e6,
        backup_time.as_secs_f64()
    );
    println!(
        "raw aws-sdk-s3 multipart:       {:.1} MB in {:.2} s = {raw:.1} MB/s",
        raw_bytes as f64 / 1e6,
        raw_time.as_secs_f64()
    );
    println!("ratio backup / raw: {:.2}", ours / raw);
    println!(
        "server RSS: {:.1} MiB before, peak {:.1} MiB during the backup, growth {:.1} MiB",
        baseline as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(baseline) as f64 / 1024.0
    );
    println!(
        "second backup of the unchanged table: {:.2} s ({})",
        unchanged_time.as_secs_f64(),
        unchanged_progress
    );
    let ours_restore = mb_per_s(table_bytes, restore_time);
    let raw_get = mb_per_s(raw_download_bytes, raw_download_time);
    println!(
        "restore (statement to FINISHED): {:.1} MB in {:.2} s = {ours_restore:.1} MB/s",
        table_bytes as f64 / 1e6,
        restore_time.as_secs_f64()
    );
    println!(
        "raw aws-sdk-s3 GETs to files:     {:.1} MB in {:.2} s = {raw_get:.1} MB/s",
        raw_download_bytes as f64 / 1e6,
        raw_download_time.as_secs_f64()
    );
    println!("ratio restore / raw: {:.2}", ours_restore / raw_get);
    let parallel = mb_per_s(parallel_bytes, parallel_time);
    println!(
        "raw parallel ranged GETs ({} MiB parts, {CEILING_STREAMS} in flight): {:.1} MB in {:.2} s = {parallel:.1} MB/s",
        CEILING_PART / 1024 / 1024,
        parallel_bytes as f64 / 1e6,
        parallel_time.as_secs_f64()
    );
    println!(
        "ratio restore / parallel raw: {:.2}",
        ours_restore / parallel
    );
    println!(
        "server RSS: {:.1} MiB before, peak {:.1} MiB during the restore, growth {:.1} MiB",
        baseline_restore as f64 / 1024.0,
        restore_peak as f64 / 1024.0,
        restore_peak.saturating_sub(baseline_restore) as f64 / 1024.0
    );
    println!(
        "time to first query: restore {:.2} s, attached snapshot {:.3} s ({:.0}x sooner)",
        restore_to_first_query.as_secs_f64(),
        attach_to_first_query.as_secs_f64(),
        restore_to_first_query.as_secs_f64() / attach_to_first_query.as_secs_f64()
    );
    println!(
        "time to first query: instant restore {:.3} s ({:.0}x sooner than restore), every \
         file local after {:.2} s",
        instant_to_first_query.as_secs_f64(),
        restore_to_first_query.as_secs_f64() / instant_to_first_query.as_secs_f64(),
        instant_to_local.as_secs_f64()
    );
    println!(
        "SELECT max(payload): restored table {:.2} s, attached snapshot {:.2} s",
        restored_scan.as_secs_f64(),
        attached_scan.as_secs_f64()
    );
    println!(
        "logical (CSV) bytes: {:.1} MB; backup {:.1} MB/s, restore {:.1} MB/s of CSV",
        logical_bytes as f64 / 1e6,
        mb_per_s(logical_bytes, backup_time),
        mb_per_s(logical_bytes, restore_time)
    );
    let csv_gb = logical_bytes as f64 / 1e9;
    println!(
        "server CPU: backup {backup_cpu:.2} s = {:.2} s per GB of CSV, restore {restore_cpu:.2} s = {:.2} s per GB of CSV",
        backup_cpu / csv_gb,
        restore_cpu / csv_gb
    );
    single_file_restore(&mut c, &data_dir, restore_time, table_bytes).await;
    drop(c);
    server.kill9();
    clickhouse(
        &csv,
        doublings,
        &s3,
        work.path(),
        logical_bytes,
        backup_time,
        restore_time,
    );
}

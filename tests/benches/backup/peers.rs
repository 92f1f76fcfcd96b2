//! The references beside the server's own figures: the same rows as one big file, and
//! ClickHouse (chdb) backing up and restoring them to the same S3 server.

use super::*;

/// The same rows as one file: `INSERT ... SELECT` writes one file per partition, so a copy of
/// the table is one 1 GB file; backed up and restored like the many-file table.
pub(crate) async fn single_file_restore(
    c: &mut mysql_async::Conn,
    data_dir: &Path,
    many_files_restore: Duration,
    many_files_bytes: u64,
) {
    let mut before = Vec::new();
    parquet_files(&data_dir.join("data"), &mut before);
    c.query_drop("CREATE TABLE bench.one (id BIGINT, payload STRING)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO bench.one SELECT * FROM bench.t")
        .await
        .unwrap();
    let mut after = Vec::new();
    parquet_files(&data_dir.join("data"), &mut after);
    let new: Vec<&PathBuf> = after.iter().filter(|f| !before.contains(f)).collect();
    let bytes: u64 = new
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    c.query_drop("BACKUP SNAPSHOT bench.one_file TO bench_repo ON (one)")
        .await
        .unwrap();
    let row = wait_for_backup_state(c, "bench", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let timestamp = snaprock_tests::snapshot_timestamp(c, "bench_repo", "one_file").await;
    let started = Instant::now();
    c.query_drop(format!(
        "RESTORE SNAPSHOT bench.one_file FROM bench_repo ON (TABLE one AS one_restored) \
         PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
    ))
    .await
    .unwrap();
    let row = wait_for_restore_state(c, "bench", &["FINISHED", "CANCELLED"]).await;
    let elapsed = started.elapsed();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    println!(
        "single-file table ({} file, {:.1} MB): restore {:.2} s = {:.1} MB/s; the {}-byte many-file table: {:.1} MB/s",
        new.len(),
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        mb_per_s(bytes, elapsed),
        many_files_bytes,
        mb_per_s(many_files_bytes, many_files_restore)
    );
}

/// ClickHouse's BACKUP/RESTORE of the same rows to the same S3 server, when
/// SNAPROCK_BENCH_PYTHON names a Python with `chdb` (`tests/benches/clickhouse_backup.py`).
pub(crate) fn clickhouse(
    csv: &Path,
    doublings: usize,
    s3: &TestS3,
    work: &Path,
    logical_bytes: u64,
    backup_time: Duration,
    restore_time: Duration,
) {
    let Ok(python) = std::env::var("SNAPROCK_BENCH_PYTHON") else {
        println!("ClickHouse: not measured (set SNAPROCK_BENCH_PYTHON to a Python with chdb)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/clickhouse_backup.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(csv)
        .arg(doublings.to_string())
        .arg(s3.endpoint())
        .arg(BUCKET)
        .arg(ACCESS_KEY)
        .arg(SECRET_KEY)
        .arg(work)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().last().filter(|_| output.status.success()) else {
        println!(
            "ClickHouse: failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    };
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let (ch_backup, ch_restore) = (
        v["backup_s"].as_f64().unwrap(),
        v["restore_s"].as_f64().unwrap(),
    );
    println!(
        "ClickHouse (chdb) on {} rows, {:.1} MB stored: BACKUP {:.2} s = {:.1} MB/s of CSV, RESTORE {:.2} s = {:.1} MB/s of CSV",
        v["rows"],
        v["stored_bytes"].as_f64().unwrap() / 1e6,
        ch_backup,
        logical_bytes as f64 / 1e6 / ch_backup,
        ch_restore,
        logical_bytes as f64 / 1e6 / ch_restore
    );
    println!(
        "ratio snaprock / ClickHouse: backup {:.2}x, restore {:.2}x",
        ch_backup / backup_time.as_secs_f64(),
        ch_restore / restore_time.as_secs_f64()
    );
}

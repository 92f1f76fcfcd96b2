//! Restore downloads a file larger than one part in parallel ranged GETs (issue 18): the
//! restored table equals the source, the store sees one GET per part, a part that fails (an
//! error status, or a body cut halfway) is fetched again alone, and a corrupted, truncated or grown object still fails the restore
//! with the file named and nothing left behind; parts written through the page cache instead
//! of with direct I/O restore the same rows.

use std::sync::atomic::Ordering;

use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{TestServer, column, rows, run, snapshot_timestamp, wait_for_restore_state};

/// Part size of the server under test: small, so a table of a few MB has many parts.
const PART_KIB: u64 = 64;

async fn restore(
    c: &mut mysql_async::Conn,
    target: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    run(
        c,
        &[&format!(
            "RESTORE SNAPSHOT d.snap FROM repo ON (TABLE t AS {target}) \
             PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
        )],
    )
    .await;
    wait_for_restore_state(c, "d", &["FINISHED", "CANCELLED"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_restores_in_parallel_ranged_parts_verified() {
    let s3 = TestS3::start().await;
    let work = tempfile::Builder::new()
        .prefix("snaprock-ranged-")
        .tempdir()
        .unwrap();
    let mut options = TestServer::options(&work.path().join("data"), "");
    options.download_part_kib = PART_KIB;
    options.download_parts_in_flight = 4;
    let server = TestServer::start_with(options).await;
    let mut c = server.conn().await;
    let csv = work.path().join("rows.csv");
    snaprock_tests::write_random_csv(&csv, 40_000);
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "ranged", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (id BIGINT, payload STRING)",
            &format!(
                "INSERT INTO d.t SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
                csv.display()
            ),
            "BACKUP SNAPSHOT d.snap TO repo ON (t)",
        ],
    )
    .await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let timestamp = snapshot_timestamp(&mut c, "repo", "snap").await;
    let repo_root = s3.bucket_dir().join("ranged/__starrocks_repository_repo");
    let data: Vec<(String, u64)> = files_under(&repo_root)
        .into_iter()
        .filter(|f| f.starts_with("__data/") && f.ends_with(".parquet"))
        .map(|f| {
            let size = std::fs::metadata(repo_root.join(&f)).unwrap().len();
            (f, size)
        })
        .collect();
    let bytes: u64 = data.iter().map(|(_, s)| s).sum();
    let parts: u64 = data.iter().map(|(_, s)| s.div_ceil(PART_KIB * 1024)).sum();
    assert!(
        bytes > 8 * PART_KIB * 1024,
        "the table is many parts: {data:?}"
    );
    let source = rows(&mut c, "SELECT count(*), sum(id), max(payload) FROM d.t").await;

    // One GET per part, some failing once (503): each is fetched again alone.
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    s3.faults.read_fail_next.store(3, Ordering::SeqCst);
    let row = restore(&mut c, "t1", &timestamp).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let reads = s3.faults.data_reads.load(Ordering::SeqCst);
    assert!(
        (parts..=parts + 3).contains(&reads),
        "{reads} data GETs for {parts} parts of {} files",
        data.len()
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(id), max(payload) FROM d.t1").await,
        source
    );

    // Parts whose connection breaks halfway through the body: each is fetched again alone,
    // from its start, and the restored file is whole.
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    s3.faults.read_cut_next.store(3, Ordering::SeqCst);
    let row = restore(&mut c, "t2", &timestamp).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(s3.faults.read_cut_next.load(Ordering::SeqCst), 0);
    let reads = s3.faults.data_reads.load(Ordering::SeqCst);
    assert!(
        (parts + 3..=parts + 6).contains(&reads),
        "{reads} data GETs for {parts} parts, 3 of them cut"
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(id), max(payload) FROM d.t2").await,
        source
    );

    // A corrupted, a truncated and a grown object each fail the restore, naming the file.
    let (victim_name, _) = data.iter().max_by_key(|(_, s)| *s).unwrap().clone();
    let victim = repo_root.join(&victim_name);
    let good = std::fs::read(&victim).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() - 10] ^= 0xff;
    let mut grown = good.clone();
    grown.extend_from_slice(b"more");
    for (what, body) in [
        ("corrupted", flipped),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("grown", grown),
    ] {
        std::fs::write(&victim, &body).unwrap();
        let target = format!("t_{what}");
        let row = restore(&mut c, &target, &timestamp).await;
        let status = column(&row, "Status");
        assert!(
            status.starts_with(&format!(
                "[BAD_FILE, msg: failed to download {victim_name}: checksum mismatch"
            )),
            "{what}: {status}"
        );
        let tables = rows(&mut c, "SHOW TABLES FROM d").await;
        assert!(!tables.iter().any(|r| r[0] == target), "{what}: {tables:?}");
    }
    std::fs::write(&victim, &good).unwrap();

    // Another server writing its downloads through the page cache (`--download-direct-io
    // false`) restores the same rows from the same parts.
    let mut options = TestServer::options(&work.path().join("data2"), "");
    options.download_part_kib = PART_KIB;
    options.download_direct_io = false;
    let cached = TestServer::start_with(options).await;
    let mut c2 = cached.conn().await;
    run(
        &mut c2,
        &[
            &s3.create_repository_sql("repo", "ranged", true),
            "CREATE DATABASE d",
        ],
    )
    .await;
    let row = restore(&mut c2, "t", &timestamp).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(
        rows(&mut c2, "SELECT count(*), sum(id), max(payload) FROM d.t").await,
        source
    );

    let leftovers: Vec<String> = files_under(&server.data_dir)
        .into_iter()
        .filter(|f| f.contains(".download-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

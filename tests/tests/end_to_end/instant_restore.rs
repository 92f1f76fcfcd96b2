//! Instant restore (`"instant" = "true"`): the restored tables answer as soon as the job has
//! committed, their files read in the repository; the job then downloads every file in the
//! background (DOWNLOADING with byte progress) and swaps in local copies. Reads and writes work
//! the whole time; a failing repository gives clear query errors and retries, never a loss; a
//! kill -9 during the download resumes it at the next start.

use std::sync::atomic::Ordering;

use mysql_async::prelude::Queryable;
use snaprock_tests::s3::TestS3;
use snaprock_tests::{
    ServerProcess, TestServer, column, rows, run, server_error, show_restore, snapshot_timestamp,
    value, wait_for_backup_state, wait_for_restore_state,
};

const SOURCE: &[&str] = &[
    "CREATE DATABASE hub",
    "CREATE TABLE hub.member (id INT NOT NULL, city VARCHAR(20), dt DATE NOT NULL)
     DUPLICATE KEY(id)
     PARTITION BY RANGE(dt) (
         PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
         PARTITION p2025 VALUES LESS THAN ('2026-01-01'))
     DISTRIBUTED BY HASH(id)",
    "INSERT INTO hub.member VALUES (1, 'Oslo', '2024-03-01'), (2, 'Lima', '2024-07-07')",
    "INSERT INTO hub.member VALUES (3, 'Pune', '2025-01-02'), (4, 'Oslo', '2025-09-09')",
    "CREATE TABLE hub.kv (k INT NOT NULL, v VARCHAR(10)) PRIMARY KEY(k) DISTRIBUTED BY HASH(k)",
    "INSERT INTO hub.kv VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    "CREATE VIEW hub.oslo AS SELECT id FROM member WHERE city = 'Oslo'",
];

/// Every data read of the S3 server fails (HTTP 503) until the faults are cleared.
const ALWAYS: u64 = u64::MAX / 2;

async fn backup_source(c: &mut mysql_async::Conn, s3: &TestS3) -> String {
    run(c, SOURCE).await;
    run(c, &[&s3.create_repository_sql("repo", "instant", false)]).await;
    run(c, &["BACKUP SNAPSHOT hub.snap1 TO repo"]).await;
    let row = wait_for_backup_state(c, "hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    snapshot_timestamp(c, "repo", "snap1").await
}

fn instant_restore(ts: &str) -> String {
    format!(
        "RESTORE SNAPSHOT hub.snap1 FROM repo \
         PROPERTIES (\"backup_timestamp\" = \"{ts}\", \"instant\" = \"true\")"
    )
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_answer_at_once_and_accept_writes_while_files_download() {
    let s3 = TestS3::start().await;
    let source = TestServer::start().await;
    let mut c = source.conn().await;
    let ts = backup_source(&mut c, &s3).await;
    let members = rows(&mut c, "SELECT * FROM hub.member ORDER BY id").await;

    // Another server (a migration); the repository is unreachable for data from the start.
    let server = TestServer::start().await;
    let mut d = server.conn().await;
    run(
        &mut d,
        &[&s3.create_repository_sql("repo", "instant", false)],
    )
    .await;
    s3.faults.read_fail_next.store(ALWAYS, Ordering::SeqCst);
    run(&mut d, &[&instant_restore(&ts)]).await;
    let row =
        wait_for_restore_state(&mut d, "hub", &["DOWNLOADING", "FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "DOWNLOADING", "{row:?}");
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");

    // Committed: every object is there before a single data byte arrived.
    assert_eq!(
        rows(&mut d, "SHOW TABLES FROM hub").await,
        strings(&[&["kv"], &["member"], &["oslo"]])
    );
    assert_eq!(rows(&mut d, "DESC hub.member").await.len(), 3);
    // A query that needs a file gets a clear error; the connection stays usable.
    let (code, message) = server_error(
        d.query::<mysql_async::Row, _>("SELECT * FROM hub.member")
            .await,
    );
    assert_eq!(code, 1105, "{message}");
    assert!(message.contains("__data/"), "{message}");
    assert_eq!(value(&mut d, "SELECT 1 + 1").await, "2");
    // Past its commit the job can no longer be cancelled; it keeps retrying and says why.
    let (code, message) = server_error(d.query_drop("CANCEL RESTORE FROM hub").await);
    assert_eq!(code, 5064, "{message}");
    assert!(
        message.contains("can not be cancelled. state: DOWNLOADING"),
        "{message}"
    );
    let mut last = Vec::new();
    for _ in 0..200 {
        last = show_restore(&mut d, "hub").await;
        if column(&last, "TaskErrMsg").contains("retrying") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(column(&last, "TaskErrMsg").contains("retrying"), "{last:?}");
    assert_eq!(column(&last, "State"), "DOWNLOADING");
    // Writes that need no old file work even now.
    run(
        &mut d,
        &["INSERT INTO hub.member VALUES (5, 'Kyiv', '2025-05-05')"],
    )
    .await;
    // The database's one job slot is the restore's until everything is local.
    let (_, message) = server_error(d.query_drop("BACKUP SNAPSHOT hub.snap2 TO repo").await);
    assert!(message.contains("one backup or restore job"), "{message}");

    // The repository is back: reads, deletes and primary-key upserts read the files in place
    // or locally, whichever they are by then; nothing is lost either way.
    s3.faults.clear();
    let mut expected = members.clone();
    expected.push(vec!["5".into(), "Kyiv".into(), "2025-05-05".into()]);
    assert_eq!(
        rows(&mut d, "SELECT * FROM hub.member ORDER BY id").await,
        expected
    );
    run(
        &mut d,
        &[
            "DELETE FROM hub.member WHERE id = 1",
            "INSERT INTO hub.kv VALUES (2, 'TWO'), (4, 'four')",
        ],
    )
    .await;
    expected.remove(0);

    let row = wait_for_restore_state(&mut d, "hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(column(&row, "Status"), "[OK]");
    assert_eq!(column(&row, "TaskErrMsg"), "");
    let progress = column(&row, "Progress");
    let done_of = |what: &str| -> (String, String) {
        let part = progress
            .split(&format!("[{what}: "))
            .nth(1)
            .and_then(|p| p.split(']').next())
            .unwrap_or_else(|| panic!("no {what} in {progress}"));
        let (a, b) = part.split_once('/').expect("a/b");
        (a.to_string(), b.to_string())
    };
    let (files_done, files_total) = done_of("files");
    let (bytes_done, bytes_total) = done_of("bytes");
    assert_eq!(files_done, files_total, "{progress}");
    assert_eq!(bytes_done, bytes_total, "{progress}");
    assert_ne!(files_total, "0", "{progress}");

    // Everything is local now: with the repository failing again, every query still answers.
    s3.faults.read_fail_next.store(ALWAYS, Ordering::SeqCst);
    assert_eq!(
        rows(&mut d, "SELECT * FROM hub.member ORDER BY id").await,
        expected
    );
    assert_eq!(
        rows(&mut d, "SELECT * FROM hub.kv ORDER BY k").await,
        strings(&[
            &["1", "one"],
            &["2", "TWO"],
            &["3", "three"],
            &["4", "four"]
        ])
    );
    assert_eq!(
        rows(&mut d, "SELECT id FROM hub.oslo ORDER BY id").await,
        strings(&[&["4"]])
    );
    s3.faults.clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_during_the_download_resumes_it_at_the_next_start() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    let ts = backup_source(&mut c, &s3).await;
    let members = rows(&mut c, "SELECT * FROM hub.member ORDER BY id").await;
    let kv = rows(&mut c, "SELECT * FROM hub.kv ORDER BY k").await;
    run(
        &mut c,
        &[
            "DROP TABLE hub.member",
            "DROP TABLE hub.kv",
            "DROP VIEW hub.oslo",
        ],
    )
    .await;

    s3.faults.read_fail_next.store(ALWAYS, Ordering::SeqCst);
    run(&mut c, &[&instant_restore(&ts)]).await;
    let row =
        wait_for_restore_state(&mut c, "hub", &["DOWNLOADING", "FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "DOWNLOADING", "{row:?}");
    drop(c);
    server.kill9();

    // Restarted with the repository still failing: the tables are there, the job DOWNLOADING.
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    let row = show_restore(&mut c, "hub").await;
    assert_eq!(column(&row, "State"), "DOWNLOADING", "{row:?}");
    assert_eq!(
        rows(&mut c, "SHOW TABLES FROM hub").await,
        strings(&[&["kv"], &["member"], &["oslo"]])
    );
    s3.faults.clear();
    let row = wait_for_restore_state(&mut c, "hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(column(&row, "Status"), "[OK]");

    // All of it local and intact, still so after another restart.
    drop(c);
    server.kill9();
    s3.faults.read_fail_next.store(ALWAYS, Ordering::SeqCst);
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    assert_eq!(
        rows(&mut c, "SELECT * FROM hub.member ORDER BY id").await,
        members
    );
    assert_eq!(rows(&mut c, "SELECT * FROM hub.kv ORDER BY k").await, kv);
    let row = show_restore(&mut c, "hub").await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    s3.faults.clear();
    drop(c);
    server.kill9();
}

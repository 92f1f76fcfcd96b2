//! kill -9 of the real server during a BACKUP and during a RESTORE of a table on a storage
//! volume, both by copies inside the store: the files a job holds are not taken for orphans
//! at the next start, the resumed job finishes, the table is unchanged, and the restore gives
//! the same rows.

use std::sync::atomic::Ordering;
use std::time::Duration;

use snaprock_tests::s3::TestS3;
use snaprock_tests::{ServerProcess, column, rows, run, snapshot_timestamp};

/// Checks that `job` (kind, database, state) is in that state with its transfers held at
/// the store, kills the server, lets the held requests end, and starts it again.
async fn kill_during(
    s3: &TestS3,
    data: &std::path::Path,
    server: ServerProcess,
    mut c: mysql_async::Conn,
    (kind, database, state): (&str, &str, &str),
) -> (ServerProcess, mysql_async::Conn) {
    tokio::time::sleep(Duration::from_millis(800)).await;
    let row = snaprock_tests::show_job_rows(&mut c, kind, database)
        .await
        .remove(0);
    assert_eq!(column(&row, "State"), state, "{row:?}");
    drop(c);
    server.kill9();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    s3.faults.clear();
    let server = ServerProcess::start(data).await;
    let c = server.conn().await;
    (server, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_backup_and_a_restore_of_a_volume_table() {
    assert!(
        snaprock_tests::snaprock_binary().exists(),
        "build the server first: cargo build -p snaprock"
    );
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let server = ServerProcess::start(&data).await;
    let mut c = server.conn().await;
    let mut statements = vec![
        s3.create_volume_sql("sv", "kb"),
        s3.create_repository_sql("repo", "kbrepo", false),
        "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")".into(),
        "CREATE TABLE sd.t (k INT, v STRING) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS \
         THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"200\"), PARTITION p3 VALUES LESS \
         THAN (\"300\"))"
            .into(),
    ];
    for start in [1, 100, 200] {
        let values: Vec<String> = (start..start + 90)
            .map(|k| format!("({k}, 'row-{k}')"))
            .collect();
        statements.push(format!("INSERT INTO sd.t VALUES {}", values.join(", ")));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    run(&mut c, &statements).await;
    let source = rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd.t").await;
    let committed = s3.volume_data_objects("kb");
    assert_eq!(committed.len(), 3);

    // BACKUP: each copy is held at the store; the server dies while the job copies.
    s3.faults.delay_ms.store(1500, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT sd.snap TO repo"]).await;
    let (server, mut c) = kill_during(&s3, &data, server, c, ("BACKUP", "sd", "UPLOADING")).await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "sd", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        s3.volume_data_objects("kb"),
        committed,
        "the table's objects stay"
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd.t").await,
        source
    );

    // RESTORE into a new database on the volume: copies held at the store, the server dies.
    let ts = snapshot_timestamp(&mut c, "repo", "snap").await;
    s3.faults.delay_ms.store(1500, Ordering::SeqCst);
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT sd2.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let (server, mut c) =
        kill_during(&s3, &data, server, c, ("RESTORE", "sd2", "DOWNLOADING")).await;
    let row =
        snaprock_tests::wait_for_restore_state(&mut c, "sd2", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd2.t").await,
        source
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd.t").await,
        source
    );
    // The restored table's three files joined the volume, and nothing else did.
    assert_eq!(s3.volume_data_objects("kb").len(), 6);
    drop(c);
    server.kill9();
}

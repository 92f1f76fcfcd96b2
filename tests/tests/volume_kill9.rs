//! kill -9 of the real server during a BACKUP and during a RESTORE of a table on a storage
//! volume, both by copies inside the store: the files a job holds are not taken for orphans
//! at the next start, the resumed job finishes, the table is unchanged, and the restore gives
//! the same rows.

use std::sync::atomic::Ordering;
use std::time::Duration;

use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{ServerProcess, column, rows, run, snapshot_timestamp};

/// The Parquet objects under a volume's data directory.
fn volume_objects(s3: &TestS3, prefix: &str) -> Vec<String> {
    let mut objects: Vec<String> = files_under(&s3.bucket_dir().join(prefix).join("snaprock/data"))
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    objects.sort();
    objects
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
    let committed = volume_objects(&s3, "kb");
    assert_eq!(committed.len(), 3);

    // BACKUP: each copy is held at the store; the server dies while the job copies.
    s3.faults.delay_ms.store(1500, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT sd.snap TO repo"]).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let row = snaprock_tests::show_job_rows(&mut c, "BACKUP", "sd")
        .await
        .remove(0);
    assert_eq!(column(&row, "State"), "UPLOADING", "{row:?}");
    drop(c);
    server.kill9();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    s3.faults.clear();
    let server = ServerProcess::start(&data).await;
    let mut c = server.conn().await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "sd", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        volume_objects(&s3, "kb"),
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
    tokio::time::sleep(Duration::from_millis(800)).await;
    let row = snaprock_tests::show_job_rows(&mut c, "RESTORE", "sd2")
        .await
        .remove(0);
    assert_eq!(column(&row, "State"), "DOWNLOADING", "{row:?}");
    drop(c);
    server.kill9();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    s3.faults.clear();
    let server = ServerProcess::start(&data).await;
    let mut c = server.conn().await;
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
    assert_eq!(volume_objects(&s3, "kb").len(), 6);
    drop(c);
    server.kill9();
}

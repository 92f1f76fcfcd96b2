//! Every kind of statement on tables kept on a storage volume (issue 15), against a real S3
//! server: key-model writes (upserts, UPDATE, DELETE), partition pruning, ALTER, TRUNCATE,
//! INSERT OVERWRITE, background compaction, views and materialized views, SHOW and
//! information_schema, and privileges. At the end the data directory's copies are removed and
//! the server restarted: every answer is the same, read from the volume alone, so every file a
//! statement committed is in the volume.

use std::sync::atomic::Ordering;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::s3::TestS3;
use snaprock_tests::{TestServer, rows, run, server_error, wait_until};

/// The queries whose answers must survive losing every local copy.
const CHECKS: &[&str] = &[
    "SELECT id, name, score FROM sd.users ORDER BY id",
    "SELECT k, v, extra FROM sd.events ORDER BY k",
    "SELECT count(*), sum(k) FROM sd.events WHERE k < 100",
    "SELECT count(*) FROM sd.small",
    "SELECT * FROM sd.high_scores ORDER BY id",
    "SELECT total FROM sd.score_total",
    "SELECT count(*) FROM sd.wiped",
];

async fn answers(c: &mut Conn) -> Vec<Vec<Vec<String>>> {
    let mut all = Vec::new();
    for sql in CHECKS {
        all.push(rows(c, sql).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_works_on_volume_tables() {
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut options = TestServer::options(&data, "");
    options.compaction_interval_secs = 1;
    let server = TestServer::start_with(options).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "every"),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            // Key models: upserts, partial UPDATE, DELETE.
            "CREATE TABLE sd.users (id INT, name STRING, score INT) PRIMARY KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 2",
            "INSERT INTO sd.users VALUES (1, 'ann', 10), (2, 'bob', 20), (3, 'cy', 30)",
            "INSERT INTO sd.users VALUES (2, 'bob', 25)",
            "UPDATE sd.users SET score = score + 1 WHERE id = 3",
            "DELETE FROM sd.users WHERE id = 1",
            // Partitions: pruning, ALTER, TRUNCATE PARTITION.
            "CREATE TABLE sd.events (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k) \
             (PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"200\"), \
             PARTITION p3 VALUES LESS THAN (\"300\"))",
            "INSERT INTO sd.events VALUES (5, 'a'), (50, 'b'), (150, 'c'), (250, 'd')",
            "ALTER TABLE sd.events ADD COLUMN extra INT DEFAULT \"7\"",
            "INSERT INTO sd.events VALUES (60, 'e', 8)",
            "TRUNCATE TABLE sd.events PARTITION (p3)",
            // INSERT OVERWRITE and TRUNCATE TABLE.
            "CREATE TABLE sd.wiped (k INT)",
            "INSERT INTO sd.wiped VALUES (1), (2)",
            "INSERT OVERWRITE sd.wiped SELECT k FROM sd.events",
            // Views and a materialized view over a volume table.
            "CREATE VIEW sd.high_scores AS SELECT id, score FROM sd.users WHERE score > 20",
            "CREATE MATERIALIZED VIEW sd.score_total REFRESH ASYNC AS SELECT sum(score) AS \
             total FROM sd.users",
            "REFRESH MATERIALIZED VIEW sd.score_total WITH SYNC MODE",
            "CREATE TABLE sd.small (k INT)",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT id, name, score FROM sd.users ORDER BY id").await,
        vec![
            vec!["2".to_string(), "bob".into(), "25".into()],
            vec!["3".into(), "cy".into(), "31".into()]
        ]
    );
    assert_eq!(
        rows(&mut c, "SELECT k, v, extra FROM sd.events ORDER BY k").await,
        vec![
            vec!["5".to_string(), "a".into(), "7".into()],
            vec!["50".into(), "b".into(), "7".into()],
            vec!["60".into(), "e".into(), "8".into()],
            vec!["150".into(), "c".into(), "7".into()],
        ]
    );
    assert_eq!(
        rows(&mut c, "SELECT total FROM sd.score_total").await,
        vec![vec!["56".to_string()]]
    );
    // Pruning: a query of one partition reads only that partition's files.
    let plan = rows(
        &mut c,
        "EXPLAIN SELECT count(*) FROM sd.events WHERE k < 100",
    )
    .await;
    let plan = format!("{plan:?}");
    let scanned: std::collections::BTreeSet<&str> = plan
        .split("volumes/sv/")
        .skip(1)
        .filter_map(|file| file.split('/').nth(1))
        .collect();
    assert_eq!(scanned.len(), 1, "one partition's files are read: {plan}");

    // Compaction merges a partition's small files on the volume too.
    for k in 0..9 {
        run(&mut c, &[&format!("INSERT INTO sd.small VALUES ({k})")]).await;
    }
    let before = s3.volume_data_objects("every").len();
    wait_until(
        || s3.volume_data_objects("every").len() <= before - 8,
        "the small files compacted on the volume",
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT count(*) FROM sd.small").await,
        vec![vec!["9".to_string()]]
    );

    // SHOW and information_schema.
    let partitions = rows(&mut c, "SHOW PARTITIONS FROM sd.events").await;
    assert_eq!(partitions.len(), 3, "{partitions:?}");
    let tables = rows(
        &mut c,
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.tables WHERE TABLE_SCHEMA = 'sd' \
         AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    )
    .await;
    let names: Vec<&str> = tables.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["events", "score_total", "small", "users", "wiped"]);

    // Privileges: SELECT only.
    run(
        &mut c,
        &[
            "CREATE USER reader IDENTIFIED BY 'pw'",
            "GRANT SELECT ON TABLE sd.users TO USER reader",
        ],
    )
    .await;
    let mut r = Conn::new(server.opts("reader", Some("pw"), None))
        .await
        .unwrap();
    assert_eq!(
        rows(&mut r, "SELECT count(*) FROM sd.users").await[0][0],
        "2"
    );
    let (code, _) = server_error(
        r.query_drop("INSERT INTO sd.users VALUES (9, 'x', 1)")
            .await,
    );
    assert_eq!(code, 5203);
    let (code, _) = server_error(r.query_drop("SELECT * FROM sd.events").await);
    assert_eq!(code, 5203);
    drop(r);

    // Every committed file is in the volume: without the local copies, the same answers.
    let expected = answers(&mut c).await;
    drop(c);
    server.stop().await;
    std::fs::remove_dir_all(data.join("data")).unwrap();
    let server = TestServer::start_in(&data, "").await;
    let mut c = server.conn().await;
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    assert_eq!(answers(&mut c).await, expected);
    assert!(s3.faults.data_reads.load(Ordering::SeqCst) > 0);
}

//! Snapshots as data: `CREATE DATABASE d FROM SNAPSHOT s ON repo` attaches a snapshot as a
//! read-only database read in place from the repository (S3 here, and file://), queried like any
//! other (SHOW, DESC, information_schema, JOINs with live tables, partition pruning); writes
//! refused with a clear error; detached by DROP DATABASE without touching the repository;
//! surviving a restart; and every refusal of the statement itself.

use std::sync::atomic::Ordering;

use mysql_async::prelude::Queryable;

use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{
    TestServer, column, expect_error, rows, run, server_error, snapshot_timestamp, value,
    wait_for_backup_state, wait_for_restore_state,
};

const SOURCE: &[&str] = &[
    "CREATE DATABASE hub",
    "CREATE TABLE hub.member (id INT NOT NULL, city VARCHAR(20), dt DATE NOT NULL, score DOUBLE)
     DUPLICATE KEY(id)
     PARTITION BY RANGE(dt) (
         PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
         PARTITION p2025 VALUES LESS THAN ('2026-01-01'),
         PARTITION p2026 VALUES LESS THAN ('2027-01-01'))
     DISTRIBUTED BY HASH(id)",
    "INSERT INTO hub.member VALUES (1, 'Oslo', '2024-03-01', 1.5), (2, 'Lima', '2024-07-07', 2.5)",
    "INSERT INTO hub.member VALUES (3, 'Pune', '2025-01-02', 3.5), (4, 'Oslo', '2025-09-09', NULL)",
    "INSERT INTO hub.member VALUES (5, 'Kyiv', '2026-05-05', 5.5)",
    "CREATE VIEW hub.oslo AS SELECT id, score FROM member WHERE city = 'Oslo'",
];

async fn backup(c: &mut mysql_async::Conn, snapshot: &str) {
    run(c, &[&format!("BACKUP SNAPSHOT hub.{snapshot} TO repo")]).await;
    let row = wait_for_backup_state(c, "hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_on_s3_is_queried_in_place_and_refuses_writes() {
    let s3 = TestS3::start().await;
    let source = TestServer::start().await;
    let mut c = source.conn().await;
    run(&mut c, SOURCE).await;
    run(&mut c, &[&s3.create_repository_sql("repo", "snaps", false)]).await;
    backup(&mut c, "snap1").await;
    let expected = rows(&mut c, "SELECT * FROM hub.member ORDER BY id").await;

    // Another server, as after a migration: the repository read-only, the snapshot attached.
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut d = server.conn().await;
    run(&mut d, &[&s3.create_repository_sql("repo", "snaps", true)]).await;
    let reads_before = s3.faults.data_reads.load(Ordering::SeqCst);
    run(
        &mut d,
        &["CREATE DATABASE hub_0207 FROM SNAPSHOT snap1 ON repo"],
    )
    .await;
    assert_eq!(
        s3.faults.data_reads.load(Ordering::SeqCst),
        reads_before,
        "attaching reads the manifest only, no data file"
    );

    // Footers are read once and cached for every later query.
    let reads = s3.faults.data_reads.load(Ordering::SeqCst);
    assert_eq!(
        value(&mut d, "SELECT count(*) FROM hub_0207.member").await,
        "5"
    );
    let first = s3.faults.data_reads.load(Ordering::SeqCst) - reads;
    assert_eq!(
        value(&mut d, "SELECT count(*) FROM hub_0207.member").await,
        "5"
    );
    let second = s3.faults.data_reads.load(Ordering::SeqCst) - reads - first;
    assert!(
        first > 0 && second < first,
        "first query {first} reads, second {second}"
    );

    // An ordinary database to every client.
    let dbs = rows(&mut d, "SHOW DATABASES").await;
    assert!(dbs.iter().any(|r| r[0] == "hub_0207"), "{dbs:?}");
    run(&mut d, &["USE hub_0207"]).await;
    let tables = rows(&mut d, "SHOW TABLES").await;
    assert_eq!(
        tables,
        vec![vec!["member".to_string()], vec!["oslo".to_string()]]
    );
    let desc = rows(&mut d, "DESC member").await;
    assert_eq!(desc.len(), 4, "{desc:?}");
    assert_eq!(
        rows(&mut d, "SELECT * FROM member ORDER BY id").await,
        expected
    );
    assert_eq!(
        rows(&mut d, "SELECT id FROM hub_0207.oslo ORDER BY id").await,
        vec![vec!["1".to_string()], vec!["4".to_string()]]
    );
    let schema_rows = value(
        &mut d,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hub_0207'",
    )
    .await;
    assert_eq!(schema_rows, "2");

    // Partition pruning reads only the partition a filter keeps (its file, footer and data).
    let reads = s3.faults.data_reads.load(Ordering::SeqCst);
    assert_eq!(
        value(
            &mut d,
            "SELECT count(*) FROM member WHERE dt >= '2026-01-01'"
        )
        .await,
        "1"
    );
    let pruned_reads = s3.faults.data_reads.load(Ordering::SeqCst) - reads;
    let reads = s3.faults.data_reads.load(Ordering::SeqCst);
    value(&mut d, "SELECT sum(score) FROM member").await;
    let full_reads = s3.faults.data_reads.load(Ordering::SeqCst) - reads;
    assert!(
        pruned_reads > 0 && pruned_reads < full_reads,
        "pruned scan read {pruned_reads} ranges, full scan {full_reads}"
    );

    // The repository failing: a clear error, the connection still usable, then rows again.
    s3.faults.read_fail_next.store(1000, Ordering::SeqCst);
    let (code, message) = server_error(
        d.query_drop("SELECT sum(score), max(city) FROM member")
            .await,
    );
    assert_eq!(code, 1105, "{message}");
    assert!(message.contains("repository"), "{message}");
    s3.faults.clear();
    assert_eq!(
        rows(&mut d, "SELECT * FROM member ORDER BY id").await,
        expected
    );

    // Writes and DDL are refused with an error that says it is a snapshot; data unchanged.
    for sql in [
        "INSERT INTO member VALUES (9, 'Rome', '2025-02-02', 9.0)",
        "DELETE FROM member WHERE id = 1",
        "INSERT OVERWRITE member SELECT * FROM member",
        "TRUNCATE TABLE member",
        "DROP TABLE member",
        "CREATE TABLE extra (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
        "ALTER TABLE member ADD PARTITION p2027 VALUES LESS THAN ('2028-01-01')",
        "ALTER TABLE member DROP PARTITION p2024",
        "CREATE VIEW v2 AS SELECT 1",
        "DROP VIEW oslo",
    ] {
        let (code, message) = server_error(d.query_drop(sql).await);
        assert_eq!(code, 1290, "{sql}: {message}");
        assert!(
            message.contains("snapshot 'snap1'") && message.contains("read-only"),
            "{sql}: {message}"
        );
    }
    assert_eq!(
        rows(&mut d, "SELECT * FROM member ORDER BY id").await,
        expected
    );
    let (code, message) =
        server_error(d.query_drop("BACKUP SNAPSHOT hub_0207.again TO repo").await);
    assert!(message.contains("attached read-only"), "{code}: {message}");

    // The repository cannot be dropped under it; DROP DATABASE detaches and deletes nothing.
    let (_, message) = server_error(d.query_drop("DROP REPOSITORY repo").await);
    assert!(message.contains("hub_0207"), "{message}");
    let objects = files_under(&s3.bucket_dir());
    run(&mut d, &["DROP DATABASE hub_0207"]).await;
    assert_eq!(files_under(&s3.bucket_dir()), objects);
    run(&mut d, &["DROP REPOSITORY repo"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_and_snapshot_join_and_the_database_survives_a_restart() {
    let repo_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    run(&mut c, SOURCE).await;
    run(
        &mut c,
        &[&format!(
            "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
            repo_dir.path().display()
        )],
    )
    .await;
    backup(&mut c, "before").await;
    run(
        &mut c,
        &["CREATE DATABASE hub_before FROM SNAPSHOT before ON repo"],
    )
    .await;
    // The live table moves on; the snapshot does not.
    run(
        &mut c,
        &[
            "DELETE FROM hub.member WHERE id = 2",
            "INSERT INTO hub.member VALUES (6, 'Rome', '2026-06-06', 6.5)",
        ],
    )
    .await;
    let changed = rows(
        &mut c,
        "SELECT coalesce(l.id, s.id) AS id, l.id IS NULL AS gone, s.id IS NULL AS added
         FROM hub.member l FULL OUTER JOIN hub_before.member s ON l.id = s.id
         WHERE l.id IS NULL OR s.id IS NULL ORDER BY 1",
    )
    .await;
    assert_eq!(
        changed,
        vec![
            vec!["2".to_string(), "1".to_string(), "0".to_string()],
            vec!["6".to_string(), "0".to_string(), "1".to_string()],
        ]
    );
    let before = rows(&mut c, "SELECT * FROM hub_before.member ORDER BY id").await;
    assert_eq!(before.len(), 5);
    let shown = rows(&mut c, "SHOW CREATE DATABASE hub_before").await;
    assert!(
        shown[0][1].starts_with("CREATE DATABASE `hub_before` FROM SNAPSHOT `before` ON `repo`"),
        "{shown:?}"
    );

    // Compaction never touches it, and a restart keeps it attached and readable.
    drop(c);
    server.stop().await;
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    assert_eq!(
        rows(&mut c, "SELECT * FROM hub_before.member ORDER BY id").await,
        before
    );
    let (code, _) = server_error(
        c.query_drop("INSERT INTO hub_before.member VALUES (7, 'x', '2024-01-01', 0)")
            .await,
    );
    assert_eq!(code, 1290);
    // RESTORE into it is refused too; a RESTORE of the same snapshot elsewhere works.
    let ts = snapshot_timestamp(&mut c, "repo", "before").await;
    let (_, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT before FROM repo DATABASE hub AS hub_before \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        ))
        .await,
    );
    assert!(message.contains("read-only"), "{message}");
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT before FROM repo DATABASE hub AS hub_copy \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "hub_copy", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        rows(&mut c, "SELECT * FROM hub_copy.member ORDER BY id").await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_of_create_database_from_snapshot() {
    let repo_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(&mut c, SOURCE).await;
    run(
        &mut c,
        &[&format!(
            "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
            repo_dir.path().display()
        )],
    )
    .await;
    backup(&mut c, "twice").await;
    // Two backups of one name need a timestamp to choose.
    run(
        &mut c,
        &["INSERT INTO hub.member VALUES (8, 'Baku', '2025-08-08', 8.0)"],
    )
    .await;
    run(&mut c, &["BACKUP SNAPSHOT hub.other TO repo"]).await;
    wait_for_backup_state(&mut c, "hub", &["FINISHED"]).await;

    expect_error(
        &mut c,
        "CREATE DATABASE x FROM SNAPSHOT twice ON nowhere",
        5064,
        "Repository nowhere does not exist",
    )
    .await;
    let (_, message) = server_error(
        c.query_drop("CREATE DATABASE x FROM SNAPSHOT missing ON repo")
            .await,
    );
    assert!(message.contains("'missing' does not exist"), "{message}");
    let (_, message) = server_error(
        c.query_drop(
            "CREATE DATABASE x FROM SNAPSHOT twice ON repo PROPERTIES (\"colour\" = \"red\")",
        )
        .await,
    );
    assert!(message.contains("Unknown property: colour"), "{message}");
    let (_, message) = server_error(
        c.query_drop(
            "CREATE DATABASE x FROM SNAPSHOT twice ON repo PROPERTIES \
             (\"backup_timestamp\" = \"2020-01-01-00-00-00-000\")",
        )
        .await,
    );
    assert!(
        message.contains("Failed to read snapshot 'twice'"),
        "{message}"
    );
    let (code, _) = server_error(
        c.query_drop("CREATE DATABASE hub FROM SNAPSHOT twice ON repo")
            .await,
    );
    assert_eq!(code, 1007);
    run(
        &mut c,
        &["CREATE DATABASE IF NOT EXISTS hub FROM SNAPSHOT twice ON repo"],
    )
    .await;
    let (code, _) = server_error(
        c.query_drop("CREATE DATABASE x FROM SNAPSHOT twice ON repo extra")
            .await,
    );
    assert_eq!(code, 1064);

    // The chosen timestamp's rows; without REPOSITORY on SYSTEM the statement is denied.
    let ts = snapshot_timestamp(&mut c, "repo", "other").await;
    run(
        &mut c,
        &[&format!(
            "CREATE DATABASE hub_other FROM SNAPSHOT other ON repo \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM hub_other.member").await,
        "6"
    );
    run(
        &mut c,
        &[
            "CREATE USER analyst IDENTIFIED BY 'pw'",
            "GRANT SELECT ON ALL TABLES IN DATABASE hub_other TO USER analyst",
        ],
    )
    .await;
    let mut a = mysql_async::Conn::new(server.opts("analyst", Some("pw"), None))
        .await
        .unwrap();
    assert_eq!(
        value(&mut a, "SELECT count(*) FROM hub_other.member").await,
        "6"
    );
    let (code, message) = server_error(
        a.query_drop("CREATE DATABASE y FROM SNAPSHOT other ON repo")
            .await,
    );
    assert!(message.contains("REPOSITORY"), "{code}: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_check_snapshot_names_a_flipped_byte_and_a_deleted_object() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(&mut c, SOURCE).await;
    run(
        &mut c,
        &[&s3.create_repository_sql("repo", "checked", false)],
    )
    .await;
    backup(&mut c, "snap").await;
    for level in ["files", "data"] {
        let ok = rows(
            &mut c,
            &format!("ADMIN CHECK SNAPSHOT snap ON repo PROPERTIES (\"level\" = \"{level}\")"),
        )
        .await;
        assert_eq!(ok.len(), 1, "{ok:?}");
        assert_eq!(ok[0][1], "OK", "{ok:?}");
        assert!(ok[0][2].starts_with("3 files"), "{ok:?}");
    }
    let mut data: Vec<_> = files_under(&s3.bucket_dir())
        .into_iter()
        .filter(|f| f.contains("__data/") && f.ends_with(".parquet"))
        .collect();
    data.sort();
    assert_eq!(data.len(), 3, "{data:?}");
    let key_of = |f: &str| f[f.find("__data/").unwrap()..].to_string();
    // One byte flipped in the middle of one file (same size), another file deleted.
    let flipped = s3.bucket_dir().join(&data[0]);
    let mut bytes = std::fs::read(&flipped).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&flipped, &bytes).unwrap();
    std::fs::remove_file(s3.bucket_dir().join(&data[1])).unwrap();

    let files_level = rows(&mut c, "ADMIN CHECK SNAPSHOT snap ON repo").await;
    assert_eq!(
        files_level.len(),
        1,
        "the flip keeps the size: {files_level:?}"
    );
    assert_eq!(files_level[0][0], key_of(&data[1]));
    assert_eq!(files_level[0][1], "MISSING");
    let data_level = rows(
        &mut c,
        "ADMIN CHECK SNAPSHOT snap ON repo PROPERTIES (\"level\" = \"data\")",
    )
    .await;
    let mut found: Vec<(String, String)> = data_level
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    found.sort();
    let mut expected = vec![
        (key_of(&data[0]), "WRONG_CHECKSUM".to_string()),
        (key_of(&data[1]), "MISSING".to_string()),
    ];
    expected.sort();
    assert_eq!(found, expected, "{data_level:?}");

    let (_, message) = server_error(
        c.query_drop("ADMIN CHECK SNAPSHOT snap ON repo PROPERTIES (\"level\" = \"deep\")")
            .await,
    );
    assert!(message.contains("Invalid level: deep"), "{message}");
    let (_, message) = server_error(c.query_drop("ADMIN CHECK SNAPSHOT nope ON repo").await);
    assert!(message.contains("'nope' does not exist"), "{message}");
}

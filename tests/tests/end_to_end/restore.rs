//! RESTORE end to end: round trips of every type through `file://` and S3 repositories,
//! partition subsets, aliases, overwrites, schema mismatches, every refusal with its exact
//! error, corrupted and missing objects, CANCEL, kill -9, and migration to a second server.

use std::path::Path;
use std::sync::atomic::Ordering;

use mysql_async::prelude::*;
use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{
    TestServer, column, expect_error, rows, run, server_error, show_restore, snapshot_timestamp,
    value, wait_for_backup_state, wait_for_restore_state, wait_until,
};

const ALL_TYPES_TABLE: &str = "CREATE TABLE src.all_types (
    id INT NOT NULL,
    dt DATE NOT NULL,
    b BOOLEAN, ti TINYINT, si SMALLINT, bi BIGINT, li LARGEINT,
    f FLOAT, d DOUBLE, dec DECIMAL(12, 3),
    ch CHAR(4), vc VARCHAR(20), s STRING, j JSON, ts DATETIME
) DUPLICATE KEY(id)
PARTITION BY RANGE(dt) (
    PARTITION p1 VALUES LESS THAN ('2024-01-01'),
    PARTITION p2 VALUES LESS THAN ('2025-01-01'),
    PARTITION p3 VALUES LESS THAN ('2026-01-01')
)
DISTRIBUTED BY HASH(id)";

const ALL_TYPES_ROWS: &str = "INSERT INTO src.all_types VALUES
    (1, '2023-05-01', true, 1, 100, 10000000000, 170141183460469231731687303715884105727,
     1.5, 2.25, 123456789.125, 'ab', 'hello', 'a longer string', '{\"k\": [1, 2]}', '2023-05-01 10:11:12'),
    (2, '2023-12-31', false, -128, -32768, -9223372036854775808, -5,
     -0.5, 12345.678, -0.001, 'cd', '', 'x', '[]', '2023-12-31 23:59:59'),
    (3, '2024-02-29', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, '2024-07-04', true, 127, 32767, 9223372036854775807, 0,
     3.25, -2.5, 0.000, 'efgh', 'world', 'ünïcödé ✓', 'null', '2024-07-04 00:00:00'),
    (5, '2025-03-03', false, 0, 0, 0, 42, 0, 0, 999999999.999, '', 'v', 's', '{}', '2025-03-03 03:03:03')";

/// All rows of a table in id order, as text.
async fn table_rows(c: &mut mysql_async::Conn, table: &str) -> Vec<Vec<String>> {
    rows(c, &format!("SELECT * FROM {table} ORDER BY id")).await
}

async fn backup_and_wait(c: &mut mysql_async::Conn, sql: &str, db: &str) {
    run(c, &[sql]).await;
    let row = wait_for_backup_state(c, db, &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
}

/// Runs a RESTORE and waits for its end; returns the SHOW RESTORE row.
async fn restore_and_wait(c: &mut mysql_async::Conn, sql: &str, db: &str) -> Vec<(String, String)> {
    run(c, &[sql]).await;
    wait_for_restore_state(c, db, &["FINISHED", "CANCELLED"]).await
}

/// Parquet and temporary files in a server's data directory.
fn data_files(data_dir: &Path) -> Vec<String> {
    files_under(&data_dir.join("data"))
}

/// Whether the data directory holds no file that is not in `before` (files of `before` may
/// be gone: replaced data files are deleted once no reader holds them).
fn only_files_of(data_dir: &Path, before: &[String]) -> bool {
    data_files(data_dir).iter().all(|f| before.contains(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_of_every_type_subset_alias_and_views() {
    let repo_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo_dir.path().display()
            ),
            "CREATE DATABASE src",
            ALL_TYPES_TABLE,
            ALL_TYPES_ROWS,
            "CREATE VIEW src.recent AS SELECT id, vc FROM src.all_types WHERE dt >= '2024-01-01'",
        ],
    )
    .await;
    backup_and_wait(&mut c, "BACKUP SNAPSHOT src.snap1 TO repo", "src").await;
    let ts = snapshot_timestamp(&mut c, "repo", "snap1").await;
    let original = table_rows(&mut c, "src.all_types").await;
    assert_eq!(original.len(), 5);

    // Old syntax: the label's database is the target (created by the commit).
    let row = restore_and_wait(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT dst.snap1 FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\", \
             \"replication_num\" = \"1\")"
        ),
        "dst",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(row.len(), 18, "{row:?}");
    assert_eq!(column(&row, "Label"), "snap1");
    assert_eq!(column(&row, "Timestamp"), ts);
    assert_eq!(column(&row, "DbName"), "dst");
    assert_eq!(column(&row, "State"), "FINISHED");
    assert_eq!(column(&row, "AllowLoad"), "false");
    assert_eq!(column(&row, "ReplicationNum"), "1");
    assert_eq!(
        column(&row, "RestoreObjs"),
        "all_types PARTITIONS [p1, p2, p3], recent"
    );
    assert_eq!(column(&row, "Timeout"), "86400");
    assert_ne!(column(&row, "JobId"), "-1");
    for time in [
        "CreateTime",
        "MetaPreparedTime",
        "SnapshotFinishedTime",
        "DownloadFinishedTime",
        "FinishedTime",
    ] {
        assert_ne!(column(&row, time), "NULL", "{time}: {row:?}");
    }
    let progress = column(&row, "Progress");
    let files = files_under(repo_dir.path())
        .into_iter()
        .filter(|f| f.contains("__data/"))
        .count();
    assert!(
        progress.starts_with(&format!("[files: {files}/{files}], [bytes: ")),
        "{progress}"
    );
    assert_eq!(table_rows(&mut c, "dst.all_types").await, original);
    assert_eq!(
        rows(&mut c, "SELECT * FROM dst.recent ORDER BY id").await,
        rows(&mut c, "SELECT * FROM src.recent ORDER BY id").await
    );
    let create = |db: &str| format!("SHOW CREATE TABLE {db}.all_types");
    assert_eq!(
        rows(&mut c, &create("dst")).await,
        rows(&mut c, &create("src")).await
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM dst.all_types WHERE dt < '2024-01-01'"
        )
        .await,
        "2"
    );

    // 3.4 syntax: one partition under an alias, into another new database.
    let row = restore_and_wait(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT snap1 FROM repo DATABASE src AS dst2 ON (TABLE all_types \
             PARTITION (p2) AS part_copy) PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        ),
        "dst2",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(column(&row, "RestoreObjs"), "all_types PARTITIONS [p2]");
    assert_eq!(
        rows(&mut c, "SHOW TABLES FROM dst2").await,
        vec![vec!["part_copy".to_string()]]
    );
    let partitions = rows(&mut c, "SHOW PARTITIONS FROM dst2.part_copy").await;
    assert_eq!(partitions.len(), 1, "{partitions:?}");
    let subset: Vec<Vec<String>> = original
        .iter()
        .filter(|r| r[1].starts_with("2024"))
        .cloned()
        .collect();
    assert_eq!(table_rows(&mut c, "dst2.part_copy").await, subset);

    // No database at all: back into the database the snapshot names.
    run(&mut c, &["DROP DATABASE src"]).await;
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT snap1 FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\")"),
        "src",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(table_rows(&mut c, "src.all_types").await, original);

    // Restored tables are ordinary tables: writable, and their jobs survive a restart.
    run(
        &mut c,
        &["INSERT INTO dst.all_types (id, dt) VALUES (6, '2025-06-06')"],
    )
    .await;
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM dst.all_types").await,
        "6"
    );
    drop(c);
    server.stop().await;
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    let row = show_restore(&mut c, "src").await;
    assert_eq!(column(&row, "State"), "FINISHED");
    assert_eq!(table_rows(&mut c, "src.all_types").await, original);
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM dst.all_types").await,
        "6"
    );
}

const T_TABLE: &str = "CREATE TABLE {db}.t (
    id INT, dt DATE, v STRING
) DUPLICATE KEY(id)
PARTITION BY RANGE(dt) (
    PARTITION p1 VALUES [('2024-01-01'), ('2024-02-01')),
    PARTITION p2 VALUES [('2024-02-01'), ('2024-03-01')),
    PARTITION p3 VALUES [('2024-03-01'), ('2024-04-01'))
)
DISTRIBUTED BY HASH(id)";

fn t_table(db: &str) -> String {
    T_TABLE.replace("{db}", db)
}

async fn partition_counts(c: &mut mysql_async::Conn, table: &str) -> Vec<Vec<String>> {
    rows(
        c,
        &format!(
            "SELECT date_format(dt, '%Y-%m') AS m, count(*) FROM {table} GROUP BY m ORDER BY m"
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrite_adds_partitions_and_mismatches_change_nothing() {
    let repo_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo_dir.path().display()
            ),
            "CREATE DATABASE src",
            &t_table("src"),
            "INSERT INTO src.t VALUES (1, '2024-01-05', 'a'), (2, '2024-01-06', 'b'), \
             (3, '2024-02-05', 'c'), (4, '2024-03-05', 'd')",
            "CREATE TABLE src.u (id INT, v STRING)",
            "INSERT INTO src.u VALUES (1, 'u')",
        ],
    )
    .await;
    backup_and_wait(&mut c, "BACKUP SNAPSHOT src.snap TO repo", "src").await;
    let ts = snapshot_timestamp(&mut c, "repo", "snap").await;
    let props = format!("PROPERTIES (\"backup_timestamp\" = \"{ts}\")");

    // Change the live table: more rows in p1, p3 dropped, a new p4.
    run(
        &mut c,
        &[
            "INSERT INTO src.t VALUES (5, '2024-01-07', 'new')",
            "ALTER TABLE src.t DROP PARTITION p3",
            "ALTER TABLE src.t ADD PARTITION p4 VALUES [('2024-04-01'), ('2024-05-01'))",
            "INSERT INTO src.t VALUES (6, '2024-04-05', 'kept')",
        ],
    )
    .await;
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT src.snap FROM repo ON (t) {props}"),
        "src",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    // p1 and p2 overwritten, p3 added back, p4 (not in the snapshot) kept.
    assert_eq!(
        partition_counts(&mut c, "src.t").await,
        vec![
            vec!["2024-01".to_string(), "2".to_string()],
            vec!["2024-02".to_string(), "1".to_string()],
            vec!["2024-03".to_string(), "1".to_string()],
            vec!["2024-04".to_string(), "1".to_string()],
        ]
    );
    let names: Vec<String> = rows(&mut c, "SHOW PARTITIONS FROM src.t")
        .await
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(names, ["p1", "p2", "p3", "p4"]);

    // A partition whose range overlaps an existing one under another name: nothing changes,
    // and the job's other table is not created either.
    run(
        &mut c,
        &[
            "CREATE DATABASE d1",
            "CREATE TABLE d1.t (id INT, dt DATE, v STRING) DUPLICATE KEY(id) \
             PARTITION BY RANGE(dt) (PARTITION other VALUES [('2024-01-15'), ('2024-02-15'))) \
             DISTRIBUTED BY HASH(id)",
            "INSERT INTO d1.t VALUES (9, '2024-01-20', 'mine')",
        ],
    )
    .await;
    let before = data_files(&server.data_dir);
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT d1.snap FROM repo {props}"),
        "d1",
    )
    .await;
    assert_eq!(column(&row, "State"), "CANCELLED");
    assert_eq!(
        column(&row, "Status"),
        "[COMMON_ERROR, msg: Partition p1 in table t has conflict range with existing ranges]"
    );
    assert_eq!(
        rows(&mut c, "SELECT * FROM d1.t").await,
        vec![vec![
            "9".to_string(),
            "2024-01-20".to_string(),
            "mine".to_string()
        ]]
    );
    assert_eq!(
        rows(&mut c, "SHOW TABLES FROM d1").await,
        vec![vec!["t".to_string()]]
    );
    assert!(only_files_of(&server.data_dir, &before));

    // Same partition name, different range.
    run(
        &mut c,
        &[
            "CREATE DATABASE d2",
            "CREATE TABLE d2.t (id INT, dt DATE, v STRING) DUPLICATE KEY(id) \
             PARTITION BY RANGE(dt) (PARTITION p1 VALUES [('2023-01-01'), ('2024-01-01'))) \
             DISTRIBUTED BY HASH(id)",
        ],
    )
    .await;
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT d2.snap FROM repo ON (t PARTITION (p1)) {props}"),
        "d2",
    )
    .await;
    assert_eq!(
        column(&row, "Status"),
        "[COMMON_ERROR, msg: Partition p1 in table t has different range with partition in repository]"
    );

    // A different schema.
    run(
        &mut c,
        &[
            "CREATE DATABASE d3",
            "CREATE TABLE d3.t (id BIGINT, dt DATE, v STRING) DUPLICATE KEY(id) \
             PARTITION BY RANGE(dt) (PARTITION p1 VALUES [('2024-01-01'), ('2024-02-01'))) \
             DISTRIBUTED BY HASH(id)",
            "INSERT INTO d3.t VALUES (7, '2024-01-09', 'old')",
        ],
    )
    .await;
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT d3.snap FROM repo {props}"),
        "d3",
    )
    .await;
    assert_eq!(
        column(&row, "Status"),
        "[COMMON_ERROR, msg: Table t already exist but with different schema, column: id BIGINT \
         in existed table is different from the column in backup snapshot, column: id INT]"
    );
    assert_eq!(value(&mut c, "SELECT v FROM d3.t").await, "old");
    assert_eq!(
        rows(&mut c, "SHOW TABLES FROM d3").await,
        vec![vec!["t".to_string()]]
    );
    // The workaround the docs give: restore under an alias.
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT d3.snap FROM repo ON (t AS t_restored, u) {props}"),
        "d3",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM d3.t_restored").await,
        "4"
    );
    assert_eq!(value(&mut c, "SELECT v FROM d3.u").await, "u");
    assert_eq!(value(&mut c, "SELECT v FROM d3.t").await, "old");

    // A view in the snapshot cannot replace a table.
    run(
        &mut c,
        &[
            "CREATE VIEW src.vw AS SELECT id FROM src.u",
            "CREATE DATABASE d4",
            "CREATE TABLE d4.vw (id INT)",
        ],
    )
    .await;
    backup_and_wait(
        &mut c,
        "BACKUP SNAPSHOT src.with_view TO repo ON (VIEW vw)",
        "src",
    )
    .await;
    let view_ts = snapshot_timestamp(&mut c, "repo", "with_view").await;
    let row = restore_and_wait(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT d4.with_view FROM repo PROPERTIES (\"backup_timestamp\" = \"{view_ts}\")"
        ),
        "d4",
    )
    .await;
    assert_eq!(
        column(&row, "Status"),
        "[BAD_REPLACE, msg: Table: vw has existed and it is not a View]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_starrocks_error_and_changes_nothing() {
    let repo_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let location = format!("file://{}", repo_dir.path().display());
    run(
        &mut c,
        &[
            &format!("CREATE REPOSITORY repo WITH BROKER ON LOCATION \"{location}\""),
            "CREATE DATABASE src",
            &t_table("src"),
            "INSERT INTO src.t VALUES (1, '2024-01-05', 'a')",
        ],
    )
    .await;
    backup_and_wait(&mut c, "BACKUP SNAPSHOT src.snap TO repo", "src").await;
    let ts = snapshot_timestamp(&mut c, "repo", "snap").await;
    let props = format!("PROPERTIES (\"backup_timestamp\" = \"{ts}\")");
    let analysis = |m: &str| format!("Getting analyzing error. Detail message: {m}.");

    expect_error(
        &mut c,
        "RESTORE SNAPSHOT src.snap FROM repo",
        5064,
        &analysis("Missing backup_timestamp property"),
    )
    .await;
    expect_error(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT src.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\", \"color\" = \"red\")"
        ),
        5064,
        &analysis("Unknown restore job properties: [color]"),
    )
    .await;
    expect_error(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT src.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\", \"timeout\" = \"60\")"
        ),
        5064,
        &analysis("timeout must be at least 10 min"),
    )
    .await;
    expect_error(
        &mut c,
        &format!(
            "RESTORE SNAPSHOT src.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\", \"allow_load\" = \"yes\")"
        ),
        5064,
        &analysis("Invalid allow load value: yes"),
    )
    .await;
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT snap FROM repo ON (t) {props}"),
        1064,
        "Getting syntax error. Detail message: `ON` clause is forbidden if no Database explicitly specified in Restore stmt.",
    )
    .await;
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT src.snap FROM repo ON (t, t AS t2) {props}"),
        1064,
        &analysis("Duplicated table: t"),
    )
    .await;
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT src.snap FROM nope {props}"),
        5064,
        "Repository nope does not exist",
    )
    .await;
    expect_error(
        &mut c,
        "RESTORE SNAPSHOT src.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"2020-01-01-00-00-00-000\")",
        5064,
        &format!(
            "Failed to get info of snapshot 'snap' because: Expected one file with path: \
             {location}/__starrocks_repository_repo/__ss_snap/__info_2020-01-01-00-00-00-000. \
             get: 0. Maybe specified wrong backup timestamp"
        ),
    )
    .await;
    // A prefix of the real timestamp is not the timestamp.
    let prefix = &ts[..ts.len() - 4];
    let (code, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT src.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{prefix}\")"
        ))
        .await,
    );
    assert_eq!(code, 5064);
    assert!(
        message.contains("Maybe specified wrong backup timestamp"),
        "{message}"
    );
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT src.snap FROM repo ON (zz) {props}"),
        5064,
        "Table zz does not exist in snapshot snap",
    )
    .await;
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT src.snap FROM repo ON (t PARTITION (p9)) {props}"),
        5064,
        "Partition p9 of table t does not exist in snapshot snap",
    )
    .await;
    expect_error(
        &mut c,
        &format!("RESTORE SNAPSHOT snap FROM repo DATABASE other ON (t) {props}"),
        5064,
        "target database: other is not existed in snapshot",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL RESTORE FROM src",
        5064,
        "No restore is currently running",
    )
    .await;
    expect_error(
        &mut c,
        "SHOW RESTORE FROM nowhere",
        1049,
        "Unknown database 'nowhere'",
    )
    .await;
    // The connection is fine, nothing was restored and no job was registered.
    assert!(rows(&mut c, "SHOW RESTORE").await.is_empty());
    assert_eq!(value(&mut c, "SELECT count(*) FROM src.t").await, "1");
    // A finished restore cannot be cancelled.
    let row = restore_and_wait(
        &mut c,
        &format!("RESTORE SNAPSHOT copy.snap FROM repo {props}"),
        "copy",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    expect_error(
        &mut c,
        "CANCEL RESTORE FROM copy",
        5064,
        "Failed to cancel job: Job with label snap can not be cancelled. state: FINISHED",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL BACKUP FROM copy",
        5064,
        "No backup job is currently running",
    )
    .await;
}

/// Migration through one S3 server, verified downloads, CANCEL during DOWNLOADING, and reads
/// and writes of an existing table while a restore into it downloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_migration_verification_and_cancel() {
    let s3 = TestS3::start().await;
    let a = TestServer::start().await;
    let mut ca = a.conn().await;
    run(
        &mut ca,
        &[
            &s3.create_repository_sql("mig", "migration", false),
            "CREATE DATABASE src",
            &t_table("src"),
        ],
    )
    .await;
    for i in 0..6 {
        let month = i % 3 + 1;
        run(
            &mut ca,
            &[&format!(
                "INSERT INTO src.t VALUES ({i}, '2024-0{month}-0{}', 'row {i}')",
                i + 1
            )],
        )
        .await;
    }
    backup_and_wait(&mut ca, "BACKUP SNAPSHOT src.snap TO mig", "src").await;
    let ts = snapshot_timestamp(&mut ca, "mig", "snap").await;
    let props = format!("PROPERTIES (\"backup_timestamp\" = \"{ts}\")");
    let queries = [
        "SELECT * FROM src.t ORDER BY id",
        "SELECT count(*), sum(id), min(dt), max(v) FROM src.t",
        "SELECT date_format(dt, '%m'), count(*) FROM src.t GROUP BY 1 ORDER BY 1",
    ];
    let mut answers_a = Vec::new();
    for q in queries {
        answers_a.push(rows(&mut ca, q).await);
    }

    // Server B: same repository name and location, read only; transient 503s on GETs.
    let b = TestServer::start().await;
    let mut cb = b.conn().await;
    run(
        &mut cb,
        &[&s3.create_repository_sql("mig", "migration", true)],
    )
    .await;
    assert_eq!(
        rows(&mut cb, "SHOW SNAPSHOT ON mig").await,
        rows(&mut ca, "SHOW SNAPSHOT ON mig").await
    );
    s3.faults.read_fail_next.store(2, Ordering::SeqCst);
    let row = restore_and_wait(
        &mut cb,
        &format!("RESTORE SNAPSHOT src.snap FROM mig {props}"),
        "src",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(s3.faults.read_fail_next.load(Ordering::SeqCst), 0);
    for (q, expected) in queries.iter().zip(&answers_a) {
        assert_eq!(&rows(&mut cb, q).await, expected, "{q}");
    }

    // CANCEL during DOWNLOADING: the second job in the database is refused, the target
    // database never appears, and the downloaded files are removed.
    let before = data_files(&b.data_dir);
    s3.faults.read_delay_ms.store(1500, Ordering::SeqCst);
    run(
        &mut cb,
        &[&format!("RESTORE SNAPSHOT b2.snap FROM mig {props}")],
    )
    .await;
    let row = wait_for_restore_state(&mut cb, "b2", &["DOWNLOADING"]).await;
    assert_eq!(
        column(&row, "UnfinishedTasks").split('=').next(),
        Some("files_remaining")
    );
    expect_error(
        &mut cb,
        &format!("RESTORE SNAPSHOT b2.snap FROM mig {props}"),
        5064,
        "Can only run one backup or restore job of a database at same time",
    )
    .await;
    run(&mut cb, &["CANCEL RESTORE FROM b2"]).await;
    let row = show_restore(&mut cb, "b2").await;
    assert_eq!(column(&row, "State"), "CANCELLED");
    assert_eq!(
        column(&row, "Status"),
        "[COMMON_ERROR, msg: user cancelled, current state: DOWNLOADING]"
    );
    s3.faults.clear();
    wait_until(
        || only_files_of(&b.data_dir, &before),
        "the downloaded files are removed",
    )
    .await;
    assert!(
        !rows(&mut cb, "SHOW DATABASES")
            .await
            .iter()
            .any(|r| r[0] == "b2")
    );

    // An existing table keeps serving reads and writes until the commit.
    run(
        &mut cb,
        &["INSERT INTO src.t VALUES (100, '2024-01-20', 'live')"],
    )
    .await;
    s3.faults.read_delay_ms.store(700, Ordering::SeqCst);
    run(
        &mut cb,
        &[&format!("RESTORE SNAPSHOT src.snap FROM mig {props}")],
    )
    .await;
    wait_for_restore_state(&mut cb, "src", &["DOWNLOADING"]).await;
    assert_eq!(value(&mut cb, "SELECT count(*) FROM src.t").await, "7");
    run(
        &mut cb,
        &["INSERT INTO src.t VALUES (101, '2024-02-20', 'live')"],
    )
    .await;
    assert_eq!(value(&mut cb, "SELECT count(*) FROM src.t").await, "8");
    let row = wait_for_restore_state(&mut cb, "src", &["FINISHED", "CANCELLED"]).await;
    s3.faults.clear();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(rows(&mut cb, queries[0]).await, answers_a[0]);

    // A corrupted object: same size, one byte changed. The Status names the file.
    let repo_root = s3.bucket_dir().join("migration/__starrocks_repository_mig");
    let data: Vec<String> = files_under(&repo_root)
        .into_iter()
        .filter(|f| f.starts_with("__data/") && f.ends_with(".parquet"))
        .collect();
    assert!(data.len() >= 2, "{data:?}");
    let victim = repo_root.join(&data[0]);
    let good = std::fs::read(&victim).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0xff;
    std::fs::write(&victim, &bad).unwrap();
    let before = data_files(&b.data_dir);
    let row = restore_and_wait(
        &mut cb,
        &format!("RESTORE SNAPSHOT b3.snap FROM mig {props}"),
        "b3",
    )
    .await;
    let status = column(&row, "Status");
    assert!(
        status.starts_with(&format!(
            "[BAD_FILE, msg: failed to download {}: checksum mismatch",
            data[0]
        )),
        "{status}"
    );
    std::fs::write(&victim, &good).unwrap();
    wait_until(
        || only_files_of(&b.data_dir, &before),
        "no file of the failed job is left",
    )
    .await;

    // A deleted object.
    let victim = repo_root.join(&data[1]);
    let kept = std::fs::read(&victim).unwrap();
    std::fs::remove_file(&victim).unwrap();
    let row = restore_and_wait(
        &mut cb,
        &format!("RESTORE SNAPSHOT b3.snap FROM mig {props}"),
        "b3",
    )
    .await;
    let status = column(&row, "Status");
    assert!(
        status.starts_with(&format!("[NOT_FOUND, msg: failed to download {}", data[1])),
        "{status}"
    );
    assert!(
        !rows(&mut cb, "SHOW DATABASES")
            .await
            .iter()
            .any(|r| r[0] == "b3")
    );
    std::fs::write(&victim, &kept).unwrap();
    let row = restore_and_wait(
        &mut cb,
        &format!("RESTORE SNAPSHOT b3.snap FROM mig {props}"),
        "b3",
    )
    .await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(value(&mut cb, "SELECT count(*) FROM b3.t").await, "6");
}

//! Continuous backup and restore to a point in time: every commit after the first snapshot is
//! shipped to the repository, any time in the snapshot's range restores exactly what a query
//! saw then, CANCEL stops it with everything shipped still restorable, a kill -9 loses no
//! commit, and ordinary jobs of the same database run beside it.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use snaprock_tests::s3::TestS3;
use snaprock_tests::{
    ServerProcess, TestServer, column as cell, job_row, rows, run, server_error,
    wait_for_backup_state, wait_for_restore_state, wait_restorable,
};

const CONTINUOUS: &str = r#"PROPERTIES ("continuous" = "true")"#;

use snaprock_tests::backup_timestamp as timestamp;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Restores table `t` of the point `at` as `target` and returns its rows.
async fn restore_point(
    c: &mut mysql_async::Conn,
    snapshot: &str,
    table: &str,
    target: &str,
    at: i64,
) -> Vec<Vec<String>> {
    run(
        c,
        &[&format!(
            "RESTORE SNAPSHOT d.{snapshot} FROM repo ON (TABLE {table} AS {target}) \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            timestamp(at)
        )],
    )
    .await;
    let row = wait_for_restore_state(c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    rows(c, &format!("SELECT * FROM d.{target} ORDER BY 1")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_point_restores_what_a_query_saw_then_and_cancel_keeps_the_range() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "cont", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING) PARTITION BY RANGE(k) \
             (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('20'))",
            "INSERT INTO d.t VALUES (1, 'one')",
        ],
    )
    .await;
    run(
        &mut c,
        &[&format!(
            "BACKUP SNAPSHOT d.cont TO repo ON (t) {CONTINUOUS}"
        )],
    )
    .await;
    wait_for_backup_state(&mut c, "d", &["RUNNING"]).await;

    // A second continuous backup of the database is refused; an ordinary one runs beside it.
    let (_, message) = server_error(
        c.query_drop(format!("BACKUP SNAPSHOT d.cont2 TO repo {CONTINUOUS}"))
            .await,
    );
    assert!(message.contains("continuous backup"), "{message}");
    run(&mut c, &["BACKUP SNAPSHOT d.plain TO repo ON (t)"]).await;

    // Commits of every kind, each followed by the time at which a query saw its result.
    let statements = [
        "INSERT INTO d.t VALUES (2, 'two'), (12, 'twelve')",
        "DELETE FROM d.t WHERE k = 1",
        "ALTER TABLE d.t ADD PARTITION p3 VALUES LESS THAN ('30')",
        "INSERT INTO d.t VALUES (25, 'twenty-five')",
        "TRUNCATE TABLE d.t",
        "INSERT INTO d.t VALUES (3, 'three')",
    ];
    let mut seen = Vec::new();
    tokio::time::sleep(Duration::from_millis(5)).await;
    seen.push((now_ms(), rows(&mut c, "SELECT * FROM d.t ORDER BY 1").await));
    for sql in statements {
        tokio::time::sleep(Duration::from_millis(5)).await;
        run(&mut c, &[sql]).await;
        let at = now_ms();
        seen.push((at, rows(&mut c, "SELECT * FROM d.t ORDER BY 1").await));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last = seen.last().unwrap().0;
    let rpo = wait_restorable(&mut c, "d", "cont", last).await;
    println!("last commit restorable after {} ms", rpo.as_millis());

    // The plain backup finished beside it, and SHOW BACKUP lists both jobs.
    let plain = job_row(&mut c, "d", "plain").await;
    assert_eq!(cell(&plain, "State"), "FINISHED", "{plain:?}");
    assert_eq!(
        cell(&job_row(&mut c, "d", "cont").await, "State"),
        "RUNNING"
    );

    for (i, (at, expected)) in seen.iter().enumerate() {
        let restored = restore_point(&mut c, "cont", "t", &format!("t_at{i}"), *at).await;
        assert_eq!(&restored, expected, "point {i} at {}", timestamp(*at));
    }

    // Other forms on a point: attached as a database, and restored instantly into a
    // renamed database.
    let (at, expected) = &seen[2];
    run(
        &mut c,
        &[&format!(
            "CREATE DATABASE d_attached FROM SNAPSHOT cont ON repo \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            timestamp(*at)
        )],
    )
    .await;
    assert_eq!(
        &rows(&mut c, "SELECT * FROM d_attached.t ORDER BY 1").await,
        expected
    );
    let (at, expected) = &seen[3];
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT cont FROM repo DATABASE d AS d_instant \
             PROPERTIES (\"backup_timestamp\" = \"{}\", \"instant\" = \"true\")",
            timestamp(*at)
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "d_instant", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        &rows(&mut c, "SELECT * FROM d_instant.t ORDER BY 1").await,
        expected
    );

    // SHOW SNAPSHOT: the range in Details.
    let details = rows(
        &mut c,
        &format!(
            "SHOW SNAPSHOT ON repo WHERE SNAPSHOT = 'cont' AND TIMESTAMP = '{}'",
            timestamp(last)
        ),
    )
    .await;
    assert!(details[0][3].contains("restorable_range"), "{details:?}");

    // A time before the range is refused, naming the range.
    let (_, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT d.cont FROM repo ON (t AS t_early) \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            timestamp(seen[0].0 - 60_000)
        ))
        .await,
    );
    assert!(
        message.contains("outside the restorable range ["),
        "{message}"
    );

    // CANCEL stops the job; what was shipped stays restorable, later commits are not shipped.
    run(&mut c, &["CANCEL BACKUP FROM d"]).await;
    let mut stopped = job_row(&mut c, "d", "cont").await;
    for _ in 0..600 {
        if cell(&stopped, "Status").contains("restorable until") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        stopped = job_row(&mut c, "d", "cont").await;
    }
    assert_eq!(cell(&stopped, "State"), "CANCELLED", "{stopped:?}");
    assert!(
        cell(&stopped, "Status").starts_with("[OK, msg: continuous backup stopped"),
        "{stopped:?}"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    run(&mut c, &["INSERT INTO d.t VALUES (4, 'after cancel')"]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT d.cont FROM repo ON (t AS t_late) \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            timestamp(now_ms())
        ))
        .await,
    );
    assert!(
        message.contains("outside the restorable range"),
        "{message}"
    );

    // Dropping the plain snapshot collects the repository: files only the log names stay.
    run(&mut c, &["DROP SNAPSHOT plain ON repo"]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (at, expected) = &seen[4];
    let restored = restore_point(&mut c, "cont", "t", "t_after_gc", *at).await;
    assert_eq!(&restored, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_continuous_backup_loses_no_commit_and_the_job_runs_on() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "kill", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING)",
            "CREATE TABLE d.gone (k INT)",
            "INSERT INTO d.t VALUES (1, 'one')",
            "INSERT INTO d.gone VALUES (1)",
        ],
    )
    .await;
    run(
        &mut c,
        &[&format!("BACKUP SNAPSHOT d.cont TO repo {CONTINUOUS}")],
    )
    .await;
    wait_for_backup_state(&mut c, "d", &["RUNNING"]).await;

    // Commits right before the kill: shipped or not, the catalog keeps them for the job.
    run(
        &mut c,
        &[
            "INSERT INTO d.t VALUES (2, 'two')",
            "DROP TABLE d.gone",
            "CREATE TABLE d.fresh (k INT)",
            "INSERT INTO d.fresh VALUES (7)",
        ],
    )
    .await;
    let at = now_ms();
    let expected = rows(&mut c, "SELECT * FROM d.t ORDER BY 1").await;
    drop(c);
    server.kill9();

    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    wait_restorable(&mut c, "d", "cont", at).await;
    assert_eq!(
        cell(&job_row(&mut c, "d", "cont").await, "State"),
        "RUNNING"
    );
    assert_eq!(
        restore_point(&mut c, "cont", "t", "t_back", at).await,
        expected
    );
    assert_eq!(
        restore_point(&mut c, "cont", "fresh", "fresh_back", at).await,
        vec![vec!["7".to_string()]]
    );
    // The dropped table is not in the point after its drop.
    let (_, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT d.cont FROM repo ON (TABLE gone AS gone_back) \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            timestamp(at)
        ))
        .await,
    );
    assert!(message.contains("gone"), "{message}");

    // Commits after the restart are shipped too.
    run(&mut c, &["INSERT INTO d.t VALUES (3, 'three')"]).await;
    let later = now_ms();
    let expected = rows(&mut c, "SELECT * FROM d.t ORDER BY 1").await;
    wait_restorable(&mut c, "d", "cont", later).await;
    assert_eq!(
        restore_point(&mut c, "cont", "t", "t_later", later).await,
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_backup_it_cannot_do_is_refused_and_registers_nothing() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "bad", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING) PARTITION BY RANGE(k) \
             (PARTITION p1 VALUES LESS THAN ('10'))",
            "INSERT INTO d.t VALUES (1, 'one')",
        ],
    )
    .await;
    let refusals = [
        (
            r#"BACKUP SNAPSHOT d.c TO repo PROPERTIES ("continuous" = "maybe")"#,
            "Invalid continuous: maybe (true or false)",
        ),
        (
            r#"BACKUP SNAPSHOT d.c TO repo ON (t PARTITION (p1)) PROPERTIES ("continuous" = "true")"#,
            "A continuous backup follows whole tables: remove the PARTITION clause of t",
        ),
        (
            r#"BACKUP SNAPSHOT d.c TO repo PROPERTIES ("continuous" = "true", "ttl" = "1 DAY")"#,
            "A continuous backup cannot have a ttl: DROP SNAPSHOT it once it is stopped",
        ),
    ];
    for (sql, detail) in refusals {
        snaprock_tests::expect_error(
            &mut c,
            sql,
            5064,
            &format!("Getting analyzing error. Detail message: {detail}."),
        )
        .await;
    }
    assert!(
        snaprock_tests::show_job_rows(&mut c, "BACKUP", "d")
            .await
            .is_empty()
    );
    // A restore of a snapshot that is not there names the snapshot, as before.
    let (_, message) = server_error(
        c.query_drop(
            r#"RESTORE SNAPSHOT d.c FROM repo PROPERTIES ("backup_timestamp" = "2026-12-01-10-00-03-000")"#,
        )
        .await,
    );
    assert!(
        message.contains("Failed to get info of snapshot 'c'"),
        "{message}"
    );
    assert_eq!(
        rows(&mut c, "SELECT * FROM d.t").await,
        vec![vec!["1".to_string(), "one".to_string()]]
    );
}

//! Materialized view refreshes: on a schedule (`REFRESH ASYNC EVERY`), changed by ALTER,
//! guarded by StarRocks' privileges (CREATE MATERIALIZED VIEW on the database, REFRESH on the
//! view), and atomic under kill -9 of the real binary: after a crash at any moment the view
//! holds the rows of one complete refresh, and once refreshed it agrees with its query.

use std::time::Duration;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::{ServerProcess, TestServer, joined_rows, rows, run, server_error, value};

const ACCESS_DENIED: u16 = 5203;

async fn task_run_count(c: &mut Conn, view: &str) -> usize {
    let task = value(
        c,
        &format!("SELECT TASK_NAME FROM information_schema.materialized_views WHERE TABLE_NAME = '{view}'"),
    )
    .await;
    rows(
        c,
        &format!("SELECT STATE FROM information_schema.task_runs WHERE TASK_NAME = '{task}'"),
    )
    .await
    .len()
}

async fn wait_for_rows(c: &mut Conn, sql: &str, expected: &[String], what: &str) {
    for _ in 0..300 {
        if joined_rows(c, sql).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}: {:?} != {expected:?}",
        joined_rows(c, sql).await
    );
}

#[tokio::test]
async fn a_scheduled_view_refreshes_on_time_until_altered_and_privileges_are_starrocks() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO t VALUES (1, 10), (2, 20), (1, 5)",
            "CREATE MATERIALIZED VIEW every_second REFRESH ASYNC EVERY (INTERVAL 1 SECOND) \
             AS SELECT k, sum(v) AS total FROM t GROUP BY k",
        ],
    )
    .await;
    let query = "SELECT k, sum(v) FROM t GROUP BY k ORDER BY k";
    let view = "SELECT k, total FROM every_second ORDER BY k";
    let expected = joined_rows(&mut c, query).await;
    wait_for_rows(&mut c, view, &expected, "the first refresh").await;
    run(&mut c, &["INSERT INTO t VALUES (3, 1)"]).await;
    let expected = joined_rows(&mut c, query).await;
    wait_for_rows(&mut c, view, &expected, "a scheduled refresh").await;
    let schedule = value(
        &mut c,
        "SELECT SCHEDULE FROM information_schema.tasks WHERE DEFINITION LIKE '%every_second%'",
    )
    .await;
    assert!(schedule.starts_with("PERIODICAL (START "), "{schedule}");
    assert!(schedule.ends_with("EVERY(1 SECONDS))"), "{schedule}");
    // One run a second (fresh runs find nothing to do, and say so by succeeding).
    let before = task_run_count(&mut c, "every_second").await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let after = task_run_count(&mut c, "every_second").await;
    assert!(
        (1..=4).contains(&(after - before)),
        "{before} -> {after} runs"
    );
    // Manual from now on: no more runs, new rows wait for REFRESH.
    run(
        &mut c,
        &[
            "ALTER MATERIALIZED VIEW every_second REFRESH MANUAL",
            "INSERT INTO t VALUES (4, 4)",
        ],
    )
    .await;
    let stopped = task_run_count(&mut c, "every_second").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(task_run_count(&mut c, "every_second").await, stopped);
    assert_eq!(joined_rows(&mut c, view).await.len(), 3);
    assert!(
        rows(&mut c, "SHOW CREATE MATERIALIZED VIEW every_second").await[0][1]
            .contains("REFRESH MANUAL")
    );

    // Privileges: CREATE MATERIALIZED VIEW on the database, REFRESH on the view.
    run(
        &mut c,
        &[
            "CREATE USER bob IDENTIFIED BY 'pw'",
            "GRANT SELECT ON TABLE d.t TO USER bob",
        ],
    )
    .await;
    let mut bob = Conn::new(server.opts("bob", Some("pw"), Some("d")))
        .await
        .unwrap();
    let create = "CREATE MATERIALIZED VIEW bob_mv REFRESH DEFERRED MANUAL \
                  AS SELECT k, count(*) AS n FROM t GROUP BY k";
    let (code, message) = server_error(bob.query_drop(create).await);
    assert_eq!(code, ACCESS_DENIED, "{message}");
    assert!(
        message.contains("CREATE MATERIALIZED VIEW privilege(s) on DATABASE d"),
        "{message}"
    );
    run(
        &mut c,
        &["GRANT CREATE MATERIALIZED VIEW ON DATABASE d TO USER bob"],
    )
    .await;
    run(&mut bob, &[create]).await;
    let refresh = "REFRESH MATERIALIZED VIEW bob_mv WITH SYNC MODE";
    let (code, message) = server_error(bob.query_drop(refresh).await);
    assert_eq!(code, ACCESS_DENIED, "{message}");
    assert!(
        message.contains("REFRESH privilege(s) on TABLE bob_mv"),
        "{message}"
    );
    run(
        &mut c,
        &["GRANT REFRESH, SELECT ON MATERIALIZED VIEW d.bob_mv TO USER bob"],
    )
    .await;
    run(&mut bob, &[refresh]).await;
    assert_eq!(
        joined_rows(&mut bob, "SELECT k, n FROM bob_mv ORDER BY k").await,
        joined_rows(&mut c, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k").await
    );
    // The refresh reads as its creator: without SELECT on the base table it fails.
    run(
        &mut c,
        &[
            "REVOKE SELECT ON TABLE d.t FROM USER bob",
            "INSERT INTO t VALUES (5, 5)",
        ],
    )
    .await;
    let (code, message) = server_error(bob.query_drop(refresh).await);
    assert_eq!(code, ACCESS_DENIED, "{message}");
}

#[tokio::test]
async fn a_refresh_cut_by_kill_9_leaves_one_complete_refresh_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "CREATE MATERIALIZED VIEW mv REFRESH ASYNC AS \
             SELECT k, sum(v) AS total, count(*) AS n FROM t GROUP BY k",
        ],
    )
    .await;
    // Totals the view may hold after a crash: those of a complete state of the base table.
    let mut possible_counts = vec!["NULL".to_string(), "0".to_string()];
    for round in 0..4u64 {
        run(
            &mut c,
            &[&format!(
                "INSERT INTO d.t SELECT g % 97, g FROM TABLE(generate_series(1, {})) AS s(g)",
                100_000 + round * 50_000
            )],
        )
        .await;
        possible_counts.push(value(&mut c, "SELECT count(*) FROM d.t").await);
        // Somewhere inside the refresh the insert set off.
        tokio::time::sleep(Duration::from_millis(20 + 60 * round)).await;
        server.kill9();
        server = ServerProcess::start(dir.path()).await;
        c = server.conn().await;
        let held = value(&mut c, "SELECT sum(n) FROM d.mv").await;
        assert!(
            possible_counts.contains(&held),
            "round {round}: the view holds {held} rows' worth, not one complete refresh of {possible_counts:?}"
        );
        let expected = joined_rows(
            &mut c,
            "SELECT k, sum(v), count(*) FROM d.t GROUP BY k ORDER BY k",
        )
        .await;
        wait_for_rows(
            &mut c,
            "SELECT k, total, n FROM d.mv ORDER BY k",
            &expected,
            "the refresh after the restart",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_materialized_view_statements_get_clear_errors_and_change_nothing() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "CREATE TABLE u (k INT, w BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "CREATE MATERIALIZED VIEW mv REFRESH MANUAL AS SELECT k, sum(v) AS s FROM t GROUP BY k",
        ],
    )
    .await;
    let cases: [(&str, u16, &str); 7] = [
        (
            "CREATE MATERIALIZED VIEW m2 REFRESH ASYNC EVERY(INTERVAL 1 MONTH) AS SELECT k FROM t",
            1064,
            "Getting syntax error",
        ),
        (
            "CREATE MATERIALIZED VIEW m2 REFRESH MANUAL AS SELECT k FROM nope",
            1146,
            "nope",
        ),
        (
            "CREATE MATERIALIZED VIEW mv REFRESH MANUAL AS SELECT k FROM t",
            1050,
            "Table 'mv' already exists",
        ),
        (
            "CREATE MATERIALIZED VIEW m2 AS SELECT t.k, sum(u.w) FROM t JOIN u ON t.k = u.k \
             GROUP BY t.k",
            5064,
            "The materialized view only support one table in from clause.",
        ),
        (
            "CREATE MATERIALIZED VIEW m2 (a) REFRESH MANUAL AS SELECT k, v FROM t",
            5064,
            "The number of specified column names (1) is not equal to the number of columns",
        ),
        (
            "REFRESH MATERIALIZED VIEW t",
            5064,
            "Materialized view t is not found",
        ),
        ("ALTER MATERIALIZED VIEW nope RENAME m3", 1146, "nope"),
    ];
    for (sql, code, text) in cases {
        let (got, message) = server_error(c.query_drop(sql).await);
        assert_eq!(got, code, "{sql}: {message}");
        assert!(message.contains(text), "{sql}: {message}");
    }
    // Nothing was created, and the connection goes on.
    assert_eq!(joined_rows(&mut c, "SHOW TABLES").await, ["mv", "t", "u"]);
    assert_eq!(
        rows(&mut c, "SHOW MATERIALIZED VIEWS").await.len(),
        1,
        "only mv"
    );
}

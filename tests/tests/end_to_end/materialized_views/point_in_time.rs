//! Point-in-time restore and attach carry materialized views as they were at the point: a
//! synchronous view up to date with its restored table, an asynchronous one with the rows of
//! its last refresh before the point (fresh only if it was fresh then), and an attached
//! point lists them.

use std::time::Duration;

use mysql_async::Conn;
use snaprock_tests::{
    TestServer, backup_timestamp, column, joined_rows, rows, run, wait_for_backup_state,
    wait_for_restore_state, wait_restorable,
};

const BY_KEY: &str = "SELECT k, SUM(v) FROM t GROUP BY k ORDER BY k";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Restores the whole of `d` as it was at `at` into `target`.
async fn restore_at(c: &mut Conn, at: i64, target: &str) {
    run(
        c,
        &[&format!(
            "RESTORE SNAPSHOT cont FROM r DATABASE d AS {target} \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            backup_timestamp(at)
        )],
    )
    .await;
    let row = wait_for_restore_state(c, target, &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
}

async fn uses_sync_view(c: &mut Conn) -> bool {
    rows(c, &format!("EXPLAIN {BY_KEY}"))
        .await
        .iter()
        .flatten()
        .any(|cell| cell.contains("k_total"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_in_time_restore_brings_back_the_views_of_that_time() {
    let repo = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO t VALUES (1, 10), (2, 20)",
            "CREATE MATERIALIZED VIEW k_total AS SELECT k, SUM(v) FROM t GROUP BY k",
            "CREATE MATERIALIZED VIEW mv_all REFRESH MANUAL AS \
             SELECT count(*) AS n, sum(v) AS total FROM t",
            "REFRESH MATERIALIZED VIEW mv_all WITH SYNC MODE",
            "BACKUP SNAPSHOT d.cont TO r PROPERTIES (\"continuous\" = \"true\")",
        ],
    )
    .await;
    wait_for_backup_state(&mut c, "d", &["RUNNING"]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    run(&mut c, &["INSERT INTO t VALUES (3, 30)"]).await;
    let inserted = now_ms();
    tokio::time::sleep(Duration::from_millis(20)).await;
    run(&mut c, &["REFRESH MATERIALIZED VIEW mv_all WITH SYNC MODE"]).await;
    let refreshed = now_ms();
    tokio::time::sleep(Duration::from_millis(20)).await;
    run(&mut c, &["DELETE FROM t WHERE k = 1"]).await;
    wait_restorable(&mut c, "d", "cont", now_ms()).await;

    // After the insert: the synchronous view holds the insert, the manual one does not yet.
    restore_at(&mut c, inserted, "d_inserted").await;
    run(&mut c, &["USE d_inserted"]).await;
    assert!(
        uses_sync_view(&mut c).await,
        "the restored view is not used"
    );
    assert_eq!(joined_rows(&mut c, BY_KEY).await, ["1,10", "2,20", "3,30"]);
    let shown = rows(&mut c, "SHOW MATERIALIZED VIEWS").await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(
        joined_rows(&mut c, "SELECT n, total FROM mv_all").await,
        ["2,30"]
    );
    run(&mut c, &["REFRESH MATERIALIZED VIEW mv_all WITH SYNC MODE"]).await;
    assert_eq!(
        joined_rows(&mut c, "SELECT n, total FROM mv_all").await,
        ["3,60"]
    );

    // After the refresh: both views as they were then.
    restore_at(&mut c, refreshed, "d_refreshed").await;
    run(&mut c, &["USE d_refreshed"]).await;
    assert!(uses_sync_view(&mut c).await);
    assert_eq!(
        joined_rows(&mut c, "SELECT n, total FROM mv_all").await,
        ["3,60"]
    );

    // Attached at a point, the views are listed (inactive: an attached database is read-only).
    run(
        &mut c,
        &[&format!(
            "CREATE DATABASE d_attached FROM SNAPSHOT cont ON r \
             PROPERTIES (\"backup_timestamp\" = \"{}\")",
            backup_timestamp(refreshed)
        )],
    )
    .await;
    let attached = joined_rows(
        &mut c,
        "SELECT TABLE_NAME FROM information_schema.materialized_views \
         WHERE TABLE_SCHEMA = 'd_attached' ORDER BY 1",
    )
    .await;
    assert_eq!(attached, ["k_total", "mv_all"]);
    assert_eq!(
        joined_rows(&mut c, "SELECT n, total FROM d_attached.mv_all").await,
        ["3,60"]
    );
}

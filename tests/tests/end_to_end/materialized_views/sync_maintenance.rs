//! A synchronous view never disagrees with its base table: every write (UPDATE and DELETE of a
//! primary key table here, the other write paths in `sync_views.rs`) answers once the view is
//! up to date, kill -9 at any moment leaves answers equal to the base table's and the view
//! catches up after the restart, and it is dropped, recycled and recovered with its table.

use std::time::Duration;

use mysql_async::Conn;
use snaprock_tests::{ServerProcess, joined_rows, rows, run};

const QUERY: &str = "SELECT g, SUM(v) FROM t GROUP BY g ORDER BY g";

async fn uses_view(c: &mut Conn) -> bool {
    rows(c, &format!("EXPLAIN {QUERY}"))
        .await
        .iter()
        .flatten()
        .any(|cell| cell.contains("g_total"))
}

/// The answer as the query rewrite gives it, checked against the base table's own.
async fn answer_agrees(c: &mut Conn, what: &str) -> Vec<String> {
    let answer = joined_rows(c, QUERY).await;
    run(c, &["SET enable_materialized_view_rewrite = false"]).await;
    let base = joined_rows(c, QUERY).await;
    run(c, &["SET enable_materialized_view_rewrite = true"]).await;
    assert_eq!(
        answer, base,
        "{what}: the answer differs from the base table's"
    );
    answer
}

#[tokio::test]
async fn a_synchronous_view_agrees_with_its_table_under_updates_kill_9_and_drops() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, g INT, v BIGINT) PRIMARY KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO t SELECT x, x % 7, x FROM TABLE(generate_series(1, 1000)) AS s(x)",
            "CREATE MATERIALIZED VIEW g_total AS SELECT g, SUM(v) FROM t GROUP BY g",
        ],
    )
    .await;
    assert!(uses_view(&mut c).await, "the view is stale after CREATE");
    let created = answer_agrees(&mut c, "CREATE").await;
    for write in [
        "UPDATE t SET v = v + 1000 WHERE k % 3 = 0",
        "DELETE FROM t WHERE g = 2",
        "INSERT INTO t VALUES (1, 9, 5), (5000, 9, 6)",
    ] {
        run(&mut c, &[write]).await;
        assert!(uses_view(&mut c).await, "the view is stale after {write}");
        answer_agrees(&mut c, write).await;
    }
    assert_ne!(joined_rows(&mut c, QUERY).await, created);

    // kill -9 while the view is being brought up to date: the answer is still the base
    // table's, and after the restart the view catches up.
    for round in 0..3u64 {
        run(
            &mut c,
            &[&format!(
                "INSERT INTO d.t SELECT x, x % 11, x * {} FROM TABLE(generate_series(1, {})) AS s(x)",
                round + 2,
                200_000 + round * 100_000
            )],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(10 + 40 * round)).await;
        server.kill9();
        server = ServerProcess::start(dir.path()).await;
        c = server.conn().await;
        run(&mut c, &["USE d"]).await;
        answer_agrees(&mut c, &format!("the restart of round {round}")).await;
        let mut caught_up = false;
        for _ in 0..300 {
            if uses_view(&mut c).await {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(caught_up, "round {round}: the view did not catch up");
        answer_agrees(&mut c, &format!("the catch-up of round {round}")).await;
        // A write after the restart is answered with the view up to date again.
        run(
            &mut c,
            &[&format!("DELETE FROM t WHERE k = {}", round + 10)],
        )
        .await;
        assert!(uses_view(&mut c).await);
        answer_agrees(&mut c, &format!("the delete of round {round}")).await;
    }

    // Dropped with its table, recovered with it (still up to date), dropped for good by FORCE.
    let before_drop = joined_rows(&mut c, QUERY).await;
    run(&mut c, &["DROP TABLE t"]).await;
    assert!(rows(&mut c, "SHOW MATERIALIZED VIEWS").await.is_empty());
    run(&mut c, &["RECOVER TABLE t"]).await;
    let shown = rows(&mut c, "SHOW MATERIALIZED VIEWS").await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0][2], "g_total");
    assert!(uses_view(&mut c).await, "the recovered view is not used");
    assert_eq!(answer_agrees(&mut c, "RECOVER").await, before_drop);
    run(
        &mut c,
        &[
            "DROP TABLE t FORCE",
            "CREATE TABLE t (k INT, g INT, v BIGINT) PRIMARY KEY(k) DISTRIBUTED BY HASH(k)",
        ],
    )
    .await;
    assert!(rows(&mut c, "SHOW MATERIALIZED VIEWS").await.is_empty());
    assert!(!uses_view(&mut c).await);
    let (code, _) = snaprock_tests::server_error(
        mysql_async::prelude::Queryable::query_drop(&mut c, "RECOVER TABLE g_total").await,
    );
    assert_ne!(code, 0);
}

//! StarRocks' manual statistics collection: `ANALYZE [FULL | SAMPLE] TABLE t [(c, ...)] [WITH
//! SYNC | ASYNC MODE] [PROPERTIES (...)]` answers `db.t | analyze | status | OK` after scanning
//! the table; SHOW ANALYZE STATUS lists the collections and SHOW STATS META the statistics (the
//! real distinct and NULL counts, minimum and maximum of each column), healthy while the table
//! is unchanged; DROP STATS forgets them; privileges and unknown names answer as elsewhere.

use snaprock_tests::{TestServer, column, expect_error, named_rows, rows, run};

#[tokio::test]
async fn analyze_collects_real_statistics_and_show_lists_them() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, city VARCHAR(20), tags ARRAY<INT>, at DATETIME) DUPLICATE KEY(k) \
             DISTRIBUTED BY HASH(k)",
            "INSERT INTO t VALUES (1, 'Oslo', [1], '2024-01-01 10:00:00'), (2, 'Lima', NULL, NULL), \
             (3, NULL, [], NULL), (4, 'Oslo', [2], '2024-01-02 09:30:00')",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "ANALYZE TABLE t").await,
        vec![vec!["d.t", "analyze", "status", "OK"]]
    );
    let meta = named_rows(&mut c, "SHOW STATS META").await;
    assert_eq!(meta.len(), 1);
    assert_eq!(column(&meta[0], "Table"), "t");
    assert_eq!(column(&meta[0], "Columns"), "ALL");
    assert_eq!(column(&meta[0], "Type"), "FULL");
    assert_eq!(column(&meta[0], "Healthy"), "100%");
    // Arrays have no order: no statistics for them, as in StarRocks.
    assert_eq!(
        column(&meta[0], "ColumnStats"),
        "k(ndv=4, nulls=0, min=1, max=4), city(ndv=2, nulls=1, min=Lima, max=Oslo), \
         at(ndv=2, nulls=2, min=2024-01-01 10:00:00, max=2024-01-02 09:30:00)"
    );
    run(
        &mut c,
        &["ANALYZE SAMPLE TABLE d.t (city) WITH ASYNC MODE PROPERTIES (\"x\" = \"y\")"],
    )
    .await;
    let status = named_rows(&mut c, "SHOW ANALYZE STATUS").await;
    let summary: Vec<String> = status
        .iter()
        .map(|r| {
            format!(
                "{}.{} {} {} {}",
                column(r, "Database"),
                column(r, "Table"),
                column(r, "Columns"),
                column(r, "Type"),
                column(r, "Status")
            )
        })
        .collect();
    assert_eq!(
        summary,
        ["d.t ALL FULL FINISHED", "d.t city SAMPLE FINISHED"]
    );

    // A change makes the statistics less healthy; a new ANALYZE makes them whole again.
    run(&mut c, &["INSERT INTO t VALUES (5, 'Rome', NULL, NULL)"]).await;
    let healthy = |rows: &[Vec<(String, String)>]| column(&rows[0], "Healthy").to_string();
    assert_eq!(healthy(&named_rows(&mut c, "SHOW STATS META").await), "80%");
    run(&mut c, &["ANALYZE TABLE t (city)"]).await;
    let meta = named_rows(&mut c, "SHOW STATS META").await;
    assert_eq!(healthy(&meta), "100%");
    assert_eq!(
        column(&meta[0], "ColumnStats"),
        "city(ndv=3, nulls=1, min=Lima, max=Rome)"
    );

    expect_error(
        &mut c,
        "ANALYZE TABLE nosuch",
        1146,
        "Table 'd.nosuch' doesn't exist",
    )
    .await;
    expect_error(
        &mut c,
        "ANALYZE TABLE t (nosuch)",
        1054,
        "Unknown column 'nosuch' in 'field list'",
    )
    .await;
    // A user who may not read t can neither analyze it nor see its statistics.
    run(&mut c, &["CREATE USER u IDENTIFIED BY 'pw'"]).await;
    let mut u = mysql_async::Conn::new(server.opts("u", Some("pw"), None))
        .await
        .unwrap();
    let denied = mysql_async::prelude::Queryable::query_drop(&mut u, "ANALYZE TABLE d.t").await;
    assert_eq!(snaprock_tests::error_code(denied), 5203);
    assert!(rows(&mut u, "SHOW STATS META").await.is_empty());
    assert!(rows(&mut u, "SHOW ANALYZE STATUS").await.is_empty());
    drop(u);

    run(&mut c, &["DROP STATS t"]).await;
    assert!(rows(&mut c, "SHOW STATS META").await.is_empty());
    server.stop().await;
}

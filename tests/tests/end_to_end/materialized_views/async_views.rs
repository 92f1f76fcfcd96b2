//! Asynchronous materialized views as StarRocks' documentation writes them: a view created
//! with REFRESH MANUAL / ASYNC / ASYNC EVERY answers what its query answers after a refresh
//! (and not before, for a manual one), refreshes show up as task runs, SHOW MATERIALIZED VIEWS
//! and information_schema.materialized_views describe it, its rows refuse every other write,
//! a dropped base table makes it inactive until ALTER ... ACTIVE, and it survives a restart.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, expect_error, joined_rows, rows, run, server_error, value};

const COMMON_ERROR: u16 = 5064;

const REGION_TOTALS: &str =
    "SELECT region, sum(price) AS total, count(*) AS n FROM orders GROUP BY region ORDER BY region";

async fn orders(c: &mut Conn) {
    run(
        c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE orders (order_id INT, region VARCHAR(20), price DECIMAL(10, 2)) \
             DUPLICATE KEY(order_id) DISTRIBUTED BY HASH(order_id) BUCKETS 4",
            "INSERT INTO orders VALUES (1, 'east', 10.50), (2, 'west', 3.25), (3, 'east', 1.00)",
        ],
    )
    .await;
}

/// Polls until `sql` answers `expected` (20 s at most).
async fn wait_for_rows(c: &mut Conn, sql: &str, expected: &[String], what: &str) {
    for _ in 0..200 {
        if joined_rows(c, sql).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}: {sql} answers {:?}, expected {expected:?}",
        joined_rows(c, sql).await
    );
}

/// SHOW MATERIALIZED VIEWS' row for `name`, as (column, value) pairs.
async fn show_view(c: &mut Conn, name: &str) -> Vec<(String, String)> {
    let result: Vec<mysql_async::Row> = c
        .query(format!("SHOW MATERIALIZED VIEWS LIKE '{name}'"))
        .await
        .unwrap();
    assert_eq!(result.len(), 1, "{name}");
    let row = &result[0];
    let columns: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    let values = rows(c, &format!("SHOW MATERIALIZED VIEWS LIKE '{name}'")).await;
    columns.into_iter().zip(values[0].clone()).collect()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {name} in {row:?}"))
}

#[tokio::test]
async fn a_manual_view_answers_its_query_after_each_refresh_and_refuses_other_writes() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            "CREATE MATERIALIZED VIEW region_mv COMMENT 'totals per region' \
           DISTRIBUTED BY HASH(region) BUCKETS 2 REFRESH MANUAL \
           AS SELECT region, sum(price) AS total, count(*) AS n FROM orders GROUP BY region",
        ],
    )
    .await;
    // Created IMMEDIATE (the default): a first refresh runs by itself.
    let expected = joined_rows(&mut c, REGION_TOTALS).await;
    assert_eq!(expected, ["east,11.50,2", "west,3.25,1"]);
    let view_sql = "SELECT region, total, n FROM region_mv ORDER BY region";
    wait_for_rows(&mut c, view_sql, &expected, "the first refresh").await;

    // Manual: new base rows stay out of the view until REFRESH.
    run(
        &mut c,
        &["INSERT INTO orders VALUES (4, 'north', 7.00), (5, 'west', 1.75)"],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    let query_id = value(&mut c, "REFRESH MATERIALIZED VIEW region_mv WITH SYNC MODE").await;
    assert_eq!(query_id.len(), 36, "{query_id}");
    let expected = joined_rows(&mut c, REGION_TOTALS).await;
    assert_eq!(expected, ["east,11.50,2", "north,7.00,1", "west,5.00,2"]);
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);

    // Its rows change only by refresh (StarRocks' texts).
    let consistent = "a materialized view,and the data of materialized view must be consistent \
                      with the base table.";
    expect_error(
        &mut c,
        "INSERT INTO region_mv VALUES ('south', 1, 1)",
        COMMON_ERROR,
        &format!(
            "Getting analyzing error. Detail message: The data of 'region_mv' cannot be \
             inserted because 'region_mv' is {consistent}"
        ),
    )
    .await;
    expect_error(
        &mut c,
        "DELETE FROM region_mv WHERE region = 'east'",
        COMMON_ERROR,
        &format!(
            "Getting analyzing error. Detail message: The data of 'region_mv' cannot be \
             deleted because it is {consistent}"
        ),
    )
    .await;
    expect_error(
        &mut c,
        "DROP TABLE region_mv",
        COMMON_ERROR,
        "Getting analyzing error. Detail message: The data of 'region_mv' cannot be dropped \
         because 'region_mv' is a materialized view,use 'drop materialized view region_mv' to \
         drop it.",
    )
    .await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);

    // SHOW MATERIALIZED VIEWS, information_schema and the task runs describe it.
    let shown = show_view(&mut c, "region_mv").await;
    assert_eq!(field(&shown, "database_name"), "d");
    assert_eq!(field(&shown, "refresh_type"), "MANUAL");
    assert_eq!(field(&shown, "is_active"), "true");
    assert_eq!(field(&shown, "last_refresh_state"), "SUCCESS");
    assert_eq!(field(&shown, "rows"), "3");
    let task = field(&shown, "task_name").to_string();
    assert_eq!(task, format!("mv-{}", field(&shown, "id")));
    assert!(
        field(&shown, "text").contains("REFRESH MANUAL"),
        "{}",
        field(&shown, "text")
    );
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT TABLE_SCHEMA, TABLE_NAME, REFRESH_TYPE, IS_ACTIVE, TABLE_ROWS \
             FROM information_schema.materialized_views"
        )
        .await,
        ["d,region_mv,MANUAL,true,3"]
    );
    let runs = joined_rows(
        &mut c,
        &format!(
            "SELECT STATE FROM information_schema.task_runs WHERE TASK_NAME = '{task}' \
             ORDER BY CREATE_TIME"
        ),
    )
    .await;
    assert_eq!(runs, ["SUCCESS", "SUCCESS"]);
    let create = rows(&mut c, "SHOW CREATE MATERIALIZED VIEW region_mv").await;
    assert_eq!(create[0][0], "region_mv");
    assert!(
        create[0][1].starts_with("CREATE MATERIALIZED VIEW `region_mv` (`region`, `total`, `n`)")
            && create[0][1].contains("COMMENT \"totals per region\"")
            && create[0][1].contains("DISTRIBUTED BY HASH(`region`) BUCKETS 2")
            && create[0][1].ends_with(
                "AS SELECT region, sum(price) AS total, count(*) AS n FROM orders GROUP BY region;"
            ),
        "{}",
        create[0][1]
    );

    run(&mut c, &["DROP MATERIALIZED VIEW region_mv"]).await;
    let (code, _) = server_error(c.query_drop("SELECT * FROM region_mv").await);
    assert_eq!(code, 1146);
    run(&mut c, &["DROP MATERIALIZED VIEW IF EXISTS region_mv"]).await;
    expect_error(
        &mut c,
        "DROP MATERIALIZED VIEW orders",
        COMMON_ERROR,
        "Getting analyzing error. Detail message: Materialized view orders is not found.",
    )
    .await;
}

#[tokio::test]
async fn an_async_view_follows_its_base_tables_goes_inactive_without_them_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            "CREATE TABLE regions (region VARCHAR(20), manager VARCHAR(20)) \
             DUPLICATE KEY(region) DISTRIBUTED BY HASH(region)",
            "INSERT INTO regions VALUES ('east', 'ann'), ('west', 'bob')",
            "CREATE MATERIALIZED VIEW manager_mv REFRESH ASYNC AS \
             SELECT r.manager, sum(o.price) AS total FROM orders o JOIN regions r \
             ON o.region = r.region GROUP BY r.manager",
        ],
    )
    .await;
    let query = "SELECT r.manager, sum(o.price) AS total FROM orders o JOIN regions r \
                 ON o.region = r.region GROUP BY r.manager ORDER BY r.manager";
    let view_sql = "SELECT manager, total FROM manager_mv ORDER BY manager";
    wait_for_rows(
        &mut c,
        view_sql,
        &["ann,11.50".into(), "bob,3.25".into()],
        "refresh",
    )
    .await;
    // Each change of a base table's data is followed.
    run(&mut c, &["INSERT INTO orders VALUES (4, 'west', 2.00)"]).await;
    let expected = joined_rows(&mut c, query).await;
    assert_eq!(expected, ["ann,11.50", "bob,5.25"]);
    wait_for_rows(&mut c, view_sql, &expected, "the refresh after an insert").await;
    run(
        &mut c,
        &[
            "INSERT INTO orders VALUES (6, 'north', 4.00)",
            "INSERT INTO regions VALUES ('north', 'cy')",
        ],
    )
    .await;
    let expected = joined_rows(&mut c, query).await;
    wait_for_rows(
        &mut c,
        view_sql,
        &expected,
        "the refresh after a change of regions",
    )
    .await;

    // Across a restart: still a view, still following.
    server.stop().await;
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &["USE d", "INSERT INTO orders VALUES (5, 'east', 100.00)"],
    )
    .await;
    let expected = joined_rows(&mut c, query).await;
    wait_for_rows(&mut c, view_sql, &expected, "the refresh after a restart").await;

    // A dropped base table makes it inactive, with StarRocks' reason.
    run(&mut c, &["DROP TABLE regions"]).await;
    for _ in 0..200 {
        if field(&show_view(&mut c, "manager_mv").await, "is_active") == "false" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown = show_view(&mut c, "manager_mv").await;
    assert_eq!(field(&shown, "is_active"), "false");
    assert_eq!(
        field(&shown, "inactive_reason"),
        "base-table dropped: regions"
    );
    let (code, message) = server_error(
        c.query_drop("REFRESH MATERIALIZED VIEW manager_mv WITH SYNC MODE")
            .await,
    );
    assert_eq!(code, COMMON_ERROR, "{message}");
    assert!(message.contains("not active"), "{message}");
    // Its rows stay readable; ACTIVE takes the table created again.
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    run(
        &mut c,
        &[
            "CREATE TABLE regions (region VARCHAR(20), manager VARCHAR(20)) \
             DUPLICATE KEY(region) DISTRIBUTED BY HASH(region)",
            "INSERT INTO regions VALUES ('east', 'dee')",
            "ALTER MATERIALIZED VIEW manager_mv ACTIVE",
        ],
    )
    .await;
    let expected = joined_rows(&mut c, query).await;
    assert_eq!(expected, ["dee,111.50"]);
    wait_for_rows(&mut c, view_sql, &expected, "the refresh after ACTIVE").await;
    assert_eq!(
        field(&show_view(&mut c, "manager_mv").await, "is_active"),
        "true"
    );
}

#[tokio::test]
async fn a_view_travels_with_its_base_table_and_comes_back_fresh_or_inactive() {
    let repo = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            "CREATE MATERIALIZED VIEW region_mv REFRESH MANUAL AS \
             SELECT region, sum(price) AS total, count(*) AS n FROM orders GROUP BY region",
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
        ],
    )
    .await;
    let view_sql = "SELECT region, total, n FROM region_mv ORDER BY region";
    let expected = joined_rows(&mut c, REGION_TOTALS).await;
    wait_for_rows(&mut c, view_sql, &expected, "the first refresh").await;
    run(
        &mut c,
        &["BACKUP DATABASE d SNAPSHOT s1 TO r ON (TABLE orders, MATERIALIZED VIEW region_mv)"],
    )
    .await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");

    // With its base table: a view again, active, fresh, and refreshed from the restored table.
    let ts = snaprock_tests::snapshot_timestamp(&mut c, "r", "s1").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d2 \
             ON (TABLE orders, MATERIALIZED VIEW region_mv) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row =
        snaprock_tests::wait_for_restore_state(&mut c, "d2", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    run(&mut c, &["USE d2"]).await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    let shown = show_view(&mut c, "region_mv").await;
    assert_eq!(field(&shown, "database_name"), "d2");
    assert_eq!(field(&shown, "is_active"), "true");
    assert_eq!(field(&shown, "refresh_type"), "MANUAL");
    run(&mut c, &["INSERT INTO orders VALUES (9, 'south', 2.00)"]).await;
    run(
        &mut c,
        &["REFRESH MATERIALIZED VIEW region_mv WITH SYNC MODE"],
    )
    .await;
    let expected_d2 = joined_rows(&mut c, REGION_TOTALS).await;
    assert_eq!(expected_d2.len(), 3);
    assert_eq!(joined_rows(&mut c, view_sql).await, expected_d2);
    // The view in d is untouched by all of this.
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT region, total, n FROM d.region_mv ORDER BY region"
        )
        .await,
        expected
    );

    // Without its base table: its rows come back, inactive, saying why.
    let ts = snaprock_tests::snapshot_timestamp(&mut c, "r", "s1").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d3 ON (MATERIALIZED VIEW region_mv) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row =
        snaprock_tests::wait_for_restore_state(&mut c, "d3", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    run(&mut c, &["USE d3"]).await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    let shown = show_view(&mut c, "region_mv").await;
    assert_eq!(field(&shown, "is_active"), "false");
    assert_eq!(
        field(&shown, "inactive_reason"),
        "base-table not restored: orders"
    );
    // A whole-database restore brings the view with everything else; a snapshot attached
    // read-only lists it, inactive.
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d5 \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row =
        snaprock_tests::wait_for_restore_state(&mut c, "d5", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    run(&mut c, &["USE d5"]).await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    assert_eq!(
        field(&show_view(&mut c, "region_mv").await, "is_active"),
        "true"
    );
    run(&mut c, &["CREATE DATABASE d6 FROM SNAPSHOT s1 ON r"]).await;
    run(&mut c, &["USE d6"]).await;
    assert_eq!(joined_rows(&mut c, view_sql).await, expected);
    let shown = show_view(&mut c, "region_mv").await;
    assert_eq!(field(&shown, "is_active"), "false");
    assert_eq!(
        field(&shown, "inactive_reason"),
        "attached read-only from snapshot s1"
    );
    run(&mut c, &["USE d3"]).await;
    // `MATERIALIZED VIEW` names views only.
    let (_, message) = server_error(
        c.query_drop(format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d4 ON (MATERIALIZED VIEW orders) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        ))
        .await,
    );
    assert_eq!(message, "Table orders does not exist in snapshot s1");
}

/// EXPLAIN's text, all rows joined.
async fn explain(c: &mut Conn, sql: &str) -> String {
    rows(c, &format!("EXPLAIN {sql}"))
        .await
        .into_iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn aggregate_queries_on_the_base_table_are_answered_from_a_fresh_view() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            "INSERT INTO orders VALUES (4, 'north', 7.00), (5, 'west', 1.75), (6, NULL, 2.00)",
            "CREATE MATERIALIZED VIEW region_mv REFRESH MANUAL AS \
             SELECT region, sum(price) AS total, count(*) AS n, max(price) AS top, \
             min(price) AS low, count(price) AS priced, sum(order_id) AS ids, \
             count(order_id) AS id_count FROM orders GROUP BY region",
            "REFRESH MATERIALIZED VIEW region_mv WITH SYNC MODE",
        ],
    )
    .await;
    let queries = [
        "SELECT region, sum(price) FROM orders GROUP BY region ORDER BY region",
        "SELECT sum(price), count(*), max(price), min(price) FROM orders",
        "SELECT o.region AS r, count(*) AS c FROM orders o WHERE o.region IN ('east', 'west') \
         GROUP BY o.region HAVING count(*) > 1 ORDER BY c DESC, r",
        "SELECT count(DISTINCT region), count(price) FROM orders",
        "SELECT region, sum(price) / count(*) AS average FROM orders WHERE region LIKE '%st' \
         GROUP BY region ORDER BY 2 DESC",
        "SELECT region FROM orders GROUP BY region ORDER BY region LIMIT 2",
        "SELECT region, avg(order_id) FROM orders GROUP BY region ORDER BY region",
    ];
    let mut from_base = Vec::new();
    run(&mut c, &["SET enable_materialized_view_rewrite = false"]).await;
    for q in queries {
        assert!(!explain(&mut c, q).await.contains("region_mv"), "{q}");
        from_base.push(joined_rows(&mut c, q).await);
    }
    run(&mut c, &["SET enable_materialized_view_rewrite = true"]).await;
    for (q, expected) in queries.iter().zip(&from_base) {
        let plan = explain(&mut c, q).await;
        assert!(plan.contains("region_mv"), "{q} is not rewritten:\n{plan}");
        assert_eq!(&joined_rows(&mut c, q).await, expected, "{q}");
    }
    assert_eq!(
        from_base[0],
        ["NULL,2.00", "east,11.50", "north,7.00", "west,5.00"]
    );

    // What the view cannot answer reads the base table.
    for q in [
        "SELECT order_id, price FROM orders WHERE region = 'east' ORDER BY order_id",
        "SELECT region, sum(price) FROM orders WHERE price > 2 GROUP BY region",
        "SELECT region, avg(price) FROM orders GROUP BY region",
    ] {
        assert!(!explain(&mut c, q).await.contains("region_mv"), "{q}");
    }
    // A stale view is not used: the answer is the base table's.
    run(&mut c, &["INSERT INTO orders VALUES (7, 'east', 100.00)"]).await;
    assert!(!explain(&mut c, queries[0]).await.contains("region_mv"));
    assert_eq!(
        joined_rows(&mut c, queries[0]).await,
        ["NULL,2.00", "east,111.50", "north,7.00", "west,5.00"]
    );
    run(
        &mut c,
        &["REFRESH MATERIALIZED VIEW region_mv WITH SYNC MODE"],
    )
    .await;
    assert!(explain(&mut c, queries[0]).await.contains("region_mv"));
    assert_eq!(
        joined_rows(&mut c, queries[0]).await,
        ["NULL,2.00", "east,111.50", "north,7.00", "west,5.00"]
    );

    // Reading the base table is what a session needs, not a privilege on the view.
    run(
        &mut c,
        &[
            "CREATE USER analyst IDENTIFIED BY 'pw'",
            "GRANT SELECT ON TABLE d.orders TO USER analyst",
        ],
    )
    .await;
    let mut analyst = Conn::new(server.opts("analyst", Some("pw"), Some("d")))
        .await
        .unwrap();
    assert!(
        explain(&mut analyst, queries[0])
            .await
            .contains("region_mv")
    );
    assert_eq!(
        joined_rows(&mut analyst, queries[0]).await,
        ["NULL,2.00", "east,111.50", "north,7.00", "west,5.00"]
    );
    let (code, _) = server_error(analyst.query_drop("SELECT * FROM region_mv").await);
    assert_eq!(code, 5203);
}

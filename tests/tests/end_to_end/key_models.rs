//! Key models that behave as StarRocks': UPDATE on PRIMARY KEY tables (with FROM, joins, CTEs
//! and prepared parameters), UNIQUE KEY tables that replace rows by key, AGGREGATE KEY tables
//! that fold rows of one key with SUM, MAX, MIN, REPLACE and REPLACE_IF_NOT_NULL; and
//! StarRocks' errors for what it refuses.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, expect_error, joined_rows, rows, run};

async fn orders(c: &mut mysql_async::Conn) {
    run(
        c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE orders (id INT NOT NULL, status VARCHAR(16), amount DECIMAL(10, 2), note STRING)
             PRIMARY KEY (id) DISTRIBUTED BY HASH(id) BUCKETS 2",
            "INSERT INTO orders VALUES (1, 'new', 10.50, 'a'), (2, 'new', 20.00, 'b'), \
             (3, 'paid', 30.00, NULL), (4, 'new', 5.25, 'd')",
            "CREATE TABLE refunds (order_id INT, refund DECIMAL(10, 2))",
            "INSERT INTO refunds VALUES (2, 5.00), (4, 5.25)",
        ],
    )
    .await;
}

#[tokio::test]
async fn update_changes_only_the_matched_rows_and_columns() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    let result = c
        .query_iter("UPDATE orders SET status = 'shipped', note = concat(note, '!') WHERE id <= 2")
        .await
        .unwrap();
    assert_eq!(result.affected_rows(), 2);
    drop(result);
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM orders ORDER BY id").await,
        [
            "1,shipped,10.50,a!",
            "2,shipped,20.00,b!",
            "3,paid,30.00,NULL",
            "4,new,5.25,d"
        ]
    );
    // StarRocks' documentation: UPDATE ... FROM another table, and with a CTE.
    run(
        &mut c,
        &[
            "UPDATE orders SET amount = orders.amount - refunds.refund FROM refunds \
             WHERE orders.id = refunds.order_id",
            "WITH big AS (SELECT id FROM orders WHERE amount >= 20) \
             UPDATE orders SET status = 'vip' FROM big WHERE orders.id = big.id",
            "UPDATE orders o SET o.note = 'aliased' WHERE o.id = 3",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM orders ORDER BY id").await,
        [
            "1,shipped,10.50,a!",
            "2,shipped,15.00,b!",
            "3,vip,30.00,aliased",
            "4,new,0.00,d"
        ]
    );
    // Prepared, with the parameters out of column order.
    c.exec_drop(
        "UPDATE orders SET note = ?, status = ? WHERE id = ?",
        ("p", "prepared", 4),
    )
    .await
    .unwrap();
    assert_eq!(
        joined_rows(&mut c, "SELECT status, note FROM orders WHERE id = 4").await,
        ["prepared,p"]
    );
}

#[tokio::test]
async fn update_refuses_what_starrocks_refuses_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    let before = joined_rows(&mut c, "SELECT * FROM orders ORDER BY id").await;
    for (sql, code, message) in [
        (
            "UPDATE orders SET id = 9 WHERE id = 1",
            5064,
            "Getting analyzing error. Detail message: primary key column cannot be updated: id.",
        ),
        (
            "UPDATE orders SET status = 'x'",
            5064,
            "Getting analyzing error. Detail message: must specify where clause to prevent full table update.",
        ),
        (
            "UPDATE refunds SET refund = 0 WHERE order_id = 2",
            5064,
            "Getting analyzing error. Detail message: only support updating primary key table.",
        ),
        (
            "UPDATE orders SET nope = 1 WHERE id = 1",
            1054,
            "Unknown column 'nope' in 'field list'",
        ),
        (
            "UPDATE missing SET a = 1 WHERE a = 2",
            1146,
            "Table 'd.missing' doesn't exist",
        ),
    ] {
        expect_error(&mut c, sql, code, message).await;
    }
    // A value the column cannot take fails the whole statement.
    assert!(
        c.query_drop("UPDATE orders SET amount = 'abc' WHERE id > 0")
            .await
            .is_err()
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM orders ORDER BY id").await,
        before
    );
}

#[tokio::test]
async fn update_needs_the_update_privilege() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            "CREATE USER 'clerk'@'%' IDENTIFIED BY 'pw'",
            "GRANT SELECT, INSERT ON TABLE d.orders TO USER 'clerk'@'%'",
        ],
    )
    .await;
    let opts = server.opts("clerk", Some("pw"), Some("d"));
    let mut clerk = mysql_async::Conn::new(opts).await.unwrap();
    let err = clerk
        .query_drop("UPDATE orders SET status = 'x' WHERE id = 1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UPDATE"), "{err}");
    run(
        &mut c,
        &["GRANT UPDATE ON TABLE d.orders TO USER 'clerk'@'%'"],
    )
    .await;
    run(&mut clerk, &["UPDATE orders SET status = 'x' WHERE id = 1"]).await;
    assert_eq!(
        joined_rows(&mut c, "SELECT status FROM orders WHERE id = 1").await,
        ["x"]
    );
}

#[tokio::test]
async fn aggregate_key_tables_fold_rows_of_one_key() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // StarRocks' documentation example of the aggregate table.
            "CREATE TABLE example_db.aggregate_tbl (
                site_id LARGEINT NOT NULL COMMENT 'id of site',
                date DATE NOT NULL COMMENT 'time of event',
                city_code VARCHAR(20) COMMENT 'city_code of user',
                pv BIGINT SUM DEFAULT '0' COMMENT 'total page views',
                top INT MAX,
                low INT MIN,
                last_seen DATETIME REPLACE,
                label VARCHAR(10) REPLACE_IF_NOT_NULL
            )
            AGGREGATE KEY(site_id, date, city_code)
            DISTRIBUTED BY HASH(site_id)"
                .replace("example_db.", "")
                .as_str(),
            "INSERT INTO aggregate_tbl VALUES \
             (1, '2024-01-01', 'a', 10, 5, 5, '2024-01-01 10:00:00', 'x'), \
             (1, '2024-01-01', 'a', 1, 9, 2, '2024-01-01 11:00:00', NULL), \
             (2, '2024-01-01', 'b', 7, 1, 1, '2024-01-01 09:00:00', 'y')",
            "INSERT INTO aggregate_tbl VALUES \
             (1, '2024-01-01', 'a', 100, 3, 1, '2024-01-02 00:00:00', NULL), \
             (2, '2024-01-01', 'b', 3, 4, 4, '2024-01-01 08:00:00', 'z')",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM aggregate_tbl ORDER BY site_id").await,
        [
            "1,2024-01-01,a,111,9,1,2024-01-02 00:00:00,x",
            "2,2024-01-01,b,10,4,1,2024-01-01 08:00:00,z"
        ]
    );
    expect_error(
        &mut c,
        "CREATE TABLE bad (k INT, v INT) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k)",
        5064,
        "Getting analyzing error. Detail message: AGG_KEYS table should specify aggregate type for non-key column[v].",
    )
    .await;
}

#[tokio::test]
async fn unique_key_tables_keep_the_last_row_of_a_key() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE u (k INT, v VARCHAR(10)) UNIQUE KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO u VALUES (1, 'a'), (2, 'b'), (1, 'c')",
            "INSERT INTO u VALUES (2, 'd')",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM u ORDER BY k").await,
        ["1,c", "2,d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_and_altered_tables_come_back_from_a_backup_still_keyed() {
    let repo = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    orders(&mut c).await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "CREATE TABLE agg (k INT, total BIGINT SUM, latest VARCHAR(8) REPLACE) \
             AGGREGATE KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO agg VALUES (1, 5, 'a'), (1, 6, 'b'), (2, 1, 'c')",
            "ALTER TABLE orders ADD COLUMN region VARCHAR(8) DEFAULT 'eu' AFTER status",
            "UPDATE orders SET region = 'us' WHERE id = 2",
            "BACKUP SNAPSHOT d.snap TO repo",
        ],
    )
    .await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "Status"), "[OK]", "{row:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "repo", "snap", "d2").await;
    for table in ["orders", "agg"] {
        assert_eq!(
            joined_rows(&mut c, &format!("SELECT * FROM d2.{table} ORDER BY 1")).await,
            joined_rows(&mut c, &format!("SELECT * FROM d.{table} ORDER BY 1")).await,
            "{table}"
        );
    }
    // The restored tables keep their keys model: rows still fold and update by key.
    run(
        &mut c,
        &[
            "INSERT INTO d2.agg VALUES (1, 100, 'z')",
            "UPDATE d2.orders SET region = 'ap' WHERE id = 3",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT * FROM d2.agg ORDER BY k").await,
        ["1,111,z", "2,1,c"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT id, region FROM d2.orders ORDER BY id").await,
        ["1,eu", "2,us", "3,ap", "4,eu"]
    );
}

/// DESC and SHOW [FULL] COLUMNS in StarRocks' layouts: types by StarRocks' names, Key
/// `true`/`false` (DESC) or `YES`/`NO` (SHOW COLUMNS), Extra the aggregation.
#[tokio::test]
async fn columns_are_described_in_starrocks_layouts() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE agg (k INT, d DECIMAL(10, 2), total BIGINT SUM DEFAULT '0', \
             latest VARCHAR(8) REPLACE COMMENT 'last seen', tags ARRAY<STRING> REPLACE) \
             AGGREGATE KEY(k, d) DISTRIBUTED BY HASH(k)",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "DESC agg").await,
        vec![
            vec!["k", "int", "YES", "true", "NULL", ""],
            vec!["d", "decimal(10,2)", "YES", "true", "NULL", ""],
            vec!["total", "bigint", "YES", "false", "0", "SUM"],
            vec!["latest", "varchar(8)", "YES", "false", "NULL", "REPLACE"],
            vec![
                "tags",
                "array<varchar(65533)>",
                "YES",
                "false",
                "NULL",
                "REPLACE"
            ],
        ]
    );
    assert_eq!(
        rows(&mut c, "SHOW FULL COLUMNS FROM agg LIKE 'l%'").await,
        vec![vec![
            "latest",
            "varchar(8)",
            "",
            "YES",
            "NO",
            "NULL",
            "REPLACE",
            "",
            "last seen"
        ]]
    );
    assert_eq!(
        rows(&mut c, "SHOW COLUMNS FROM agg").await[0],
        vec!["k", "int", "YES", "YES", "NULL", ""]
    );
    server.stop().await;
}

//! ALTER TABLE's schema changes as StarRocks documents them (ADD / DROP / MODIFY / RENAME
//! COLUMN, RENAME, COMMENT, SET properties): rows the table already holds take the new schema,
//! StarRocks' DDL errors (5064) leave schema and data untouched, and the change survives a
//! restart. INSERT INTO / OVERWRITE ... BY NAME matches a query's columns to the table's by
//! name.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, expect_error, joined_rows, rows, run, value};

async fn columns(c: &mut mysql_async::Conn, table: &str) -> Vec<String> {
    rows(c, &format!("DESC {table}"))
        .await
        .into_iter()
        .map(|r| format!("{} {}", r[0], r[1]))
        .collect()
}

async fn sales_table(c: &mut mysql_async::Conn) {
    run(
        c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE sales (dt DATE, id INT, name VARCHAR(20), amount INT)
             DUPLICATE KEY(dt, id)
             PARTITION BY RANGE(dt) (
               PARTITION p1 VALUES LESS THAN ('2024-02-01'),
               PARTITION p2 VALUES LESS THAN ('2024-03-01'))
             DISTRIBUTED BY HASH(id) BUCKETS 2",
            "INSERT INTO sales VALUES ('2024-01-05', 1, 'apple', 10), \
             ('2024-02-07', 2, 'pear', NULL), ('2024-02-09', 3, '12', 30)",
        ],
    )
    .await;
}

#[tokio::test]
async fn added_columns_fill_existing_rows_with_their_default_in_their_place() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    sales_table(&mut c).await;
    run(
        &mut c,
        &[
            "ALTER TABLE sales ADD COLUMN region VARCHAR(10) DEFAULT 'eu' AFTER id",
            "ALTER TABLE sales ADD COLUMN (qty BIGINT DEFAULT '1', note STRING)",
            "ALTER TABLE sales ADD COLUMN flag BOOLEAN",
        ],
    )
    .await;
    assert_eq!(
        columns(&mut c, "sales").await,
        [
            "dt date",
            "id int",
            "region varchar(10)",
            "name varchar(20)",
            "amount int",
            "qty bigint",
            "note varchar(65533)",
            "flag boolean"
        ]
    );
    run(
        &mut c,
        &["INSERT INTO sales (dt, id, name, region) VALUES ('2024-01-06', 4, 'fig', 'us')"],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT id, region, name, qty, note, flag FROM sales ORDER BY id"
        )
        .await,
        [
            "1,eu,apple,1,NULL,NULL",
            "2,eu,pear,1,NULL,NULL",
            "3,eu,12,1,NULL,NULL",
            "4,us,fig,1,NULL,NULL"
        ]
    );
    // A key column goes after the last key column; FIRST puts one first.
    run(
        &mut c,
        &["ALTER TABLE sales ADD COLUMN k2 INT KEY DEFAULT '7'"],
    )
    .await;
    let names: Vec<String> = columns(&mut c, "sales").await;
    assert_eq!(names[2], "k2 int");
    let create = rows(&mut c, "SHOW CREATE TABLE sales").await[0][1].clone();
    assert!(
        create.contains("DUPLICATE KEY(`dt`, `id`, `k2`)"),
        "{create}"
    );
}

#[tokio::test]
async fn dropped_modified_and_renamed_columns_rewrite_the_rows() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    sales_table(&mut c).await;
    run(
        &mut c,
        &[
            "ALTER TABLE sales DROP COLUMN amount",
            // A re-added column of the same name does not bring the dropped values back.
            "ALTER TABLE sales ADD COLUMN amount INT",
            "ALTER TABLE sales MODIFY COLUMN name VARCHAR(30) NOT NULL DEFAULT 'x' COMMENT 'fruit'",
            "ALTER TABLE sales RENAME COLUMN id TO item_id",
            "ALTER TABLE sales RENAME COLUMN dt TO day",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT day, item_id, name, amount FROM sales ORDER BY item_id"
        )
        .await,
        [
            "2024-01-05,1,apple,NULL",
            "2024-02-07,2,pear,NULL",
            "2024-02-09,3,12,NULL"
        ]
    );
    // Key, partition and distribution columns follow the rename; pruning still works.
    let create = rows(&mut c, "SHOW CREATE TABLE sales").await[0][1].clone();
    for part in [
        "DUPLICATE KEY(`day`, `item_id`)",
        "PARTITION BY RANGE(`day`)",
        "DISTRIBUTED BY HASH(`item_id`)",
        "`name` varchar(30) NOT NULL DEFAULT 'x' COMMENT \"fruit\"",
    ] {
        assert!(create.contains(part), "{part} in {create}");
    }
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM sales WHERE day >= '2024-02-01'"
        )
        .await,
        "2"
    );
    // A string column becomes a number where every value is one.
    run(&mut c, &["DELETE FROM sales WHERE item_id < 3"]).await;
    run(&mut c, &["ALTER TABLE sales MODIFY COLUMN name BIGINT"]).await;
    assert_eq!(value(&mut c, "SELECT name + 1 FROM sales").await, "13");
}

#[tokio::test]
async fn a_change_the_rows_cannot_take_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    sales_table(&mut c).await;
    let before_columns = columns(&mut c, "sales").await;
    let all = "SELECT * FROM sales ORDER BY id";
    let before_rows = joined_rows(&mut c, all).await;
    let cases: &[(&str, &str)] = &[
        (
            "ALTER TABLE sales MODIFY COLUMN name INT",
            "Can not change column name to INT",
        ),
        (
            "ALTER TABLE sales MODIFY COLUMN name VARCHAR(3)",
            "Data too long for column 'name' at row 1",
        ),
        (
            "ALTER TABLE sales MODIFY COLUMN amount INT NOT NULL",
            "Column 'amount' cannot be null",
        ),
        // Several clauses are one change: the first does not land when the second fails.
        (
            "ALTER TABLE sales ADD COLUMN extra INT, DROP COLUMN nope",
            "Column does not exists: nope",
        ),
    ];
    for (sql, fragment) in cases {
        let err = c.query_drop(*sql).await.expect_err(sql);
        let mysql_async::Error::Server(e) = err else {
            panic!("{sql}: {err:?}")
        };
        assert!(
            e.message.contains(fragment),
            "{sql}: {} ({})",
            e.message,
            e.code
        );
        assert_eq!(columns(&mut c, "sales").await, before_columns, "{sql}");
        assert_eq!(joined_rows(&mut c, all).await, before_rows, "{sql}");
    }
    // StarRocks' DDL errors, word for word.
    for (sql, message) in [
        (
            "ALTER TABLE sales ADD COLUMN name INT",
            "Can not add column which already exists in base table: name",
        ),
        (
            "ALTER TABLE sales DROP COLUMN nope",
            "Column does not exists: nope",
        ),
        (
            "ALTER TABLE sales DROP COLUMN dt",
            "Can not drop partition or distribution column : dt",
        ),
        (
            "ALTER TABLE sales MODIFY COLUMN nope INT",
            "Column[nope] does not exists",
        ),
        (
            "ALTER TABLE sales ADD COLUMN v INT SUM",
            "Can not assign aggregation method on column in Duplicate data model table: v",
        ),
        (
            "ALTER TABLE sales ADD COLUMN v INT AFTER nope",
            "Column[nope] does not exists",
        ),
        (
            "ALTER TABLE sales RENAME COLUMN name TO amount",
            "Column name[amount] is already used",
        ),
    ] {
        expect_error(&mut c, sql, 5064, message).await;
    }
    run(
        &mut c,
        &["CREATE TABLE pk (k INT, v INT) PRIMARY KEY(k) DISTRIBUTED BY HASH(k)"],
    )
    .await;
    expect_error(
        &mut c,
        "ALTER TABLE pk DROP COLUMN k",
        5064,
        "Can not drop partition or distribution column : k",
    )
    .await;
    run(
        &mut c,
        &["CREATE TABLE pk2 (k INT, k2 INT, v INT) PRIMARY KEY(k, k2) DISTRIBUTED BY HASH(k)"],
    )
    .await;
    expect_error(
        &mut c,
        "ALTER TABLE pk2 DROP COLUMN k2",
        5064,
        "Can not drop key column in primary data model table",
    )
    .await;
    expect_error(
        &mut c,
        "ALTER TABLE pk2 MODIFY COLUMN k2 BIGINT",
        5064,
        "Can not modify key column: k2 for primary key table",
    )
    .await;
    assert_eq!(joined_rows(&mut c, all).await, before_rows);
}

#[tokio::test]
async fn rename_comment_and_properties_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    sales_table(&mut c).await;
    run(
        &mut c,
        &[
            "CREATE TABLE other (a INT)",
            "ALTER TABLE sales RENAME sales2024",
            "ALTER TABLE sales2024 COMMENT = 'daily sales'",
            "ALTER TABLE sales2024 SET (\"replication_num\" = \"1\")",
            "ALTER TABLE sales2024 ADD COLUMN region VARCHAR(8) DEFAULT 'eu'",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "SELECT * FROM sales",
        1146,
        "Table 'd.sales' doesn't exist",
    )
    .await;
    expect_error(
        &mut c,
        "ALTER TABLE sales2024 RENAME other",
        1050,
        "Table 'other' already exists",
    )
    .await;
    // An unpartitioned table's one partition follows its name, in a rename and in LIKE.
    run(
        &mut c,
        &[
            "ALTER TABLE other RENAME other2",
            "CREATE TABLE other3 LIKE other2",
        ],
    )
    .await;
    for table in ["other2", "other3"] {
        let partitions = rows(&mut c, &format!("SHOW PARTITIONS FROM {table}")).await;
        assert_eq!(partitions[0][1], table);
    }
    drop(c);
    server.stop().await;

    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(&mut c, &["USE d"]).await;
    assert_eq!(
        joined_rows(&mut c, "SELECT id, region FROM sales2024 ORDER BY id").await,
        ["1,eu", "2,eu", "3,eu"]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT TABLE_COMMENT FROM information_schema.tables WHERE TABLE_NAME = 'sales2024'"
        )
        .await,
        "daily sales"
    );
    let create = rows(&mut c, "SHOW CREATE TABLE sales2024").await[0][1].clone();
    assert!(create.contains("\"replication_num\" = \"1\""), "{create}");
    assert!(create.contains("COMMENT \"daily sales\""), "{create}");
}

#[tokio::test]
async fn insert_by_name_matches_columns_by_name() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    sales_table(&mut c).await;
    run(
        &mut c,
        &[
            "INSERT INTO sales BY NAME SELECT 40 AS amount, 'kiwi' AS name, 4 AS id, '2024-01-09' AS dt",
            // Columns the query does not name take their defaults (NULL here).
            "INSERT INTO sales BY NAME SELECT 5 AS id, '2024-02-10' AS dt",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT id, name, amount FROM sales WHERE id >= 4 ORDER BY id"
        )
        .await,
        ["4,kiwi,40", "5,NULL,NULL"]
    );
    run(
        &mut c,
        &["INSERT OVERWRITE sales PARTITION (p1) BY NAME SELECT 'fig' AS name, 9 AS id, '2024-01-02' AS dt"],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT id, name FROM sales PARTITION (p1) ORDER BY id"
        )
        .await,
        ["9,fig"]
    );
    expect_error(
        &mut c,
        "INSERT INTO sales BY NAME SELECT 1 AS nope",
        1054,
        "Unknown column 'nope' in 'field list'",
    )
    .await;
    assert_eq!(value(&mut c, "SELECT count(*) FROM sales").await, "4");
}

/// kill -9 of the real server while ALTER TABLE rewrites a table (and while an aggregate table
/// folds a load): after the restart the table is wholly old or wholly new, every row is there,
/// and no file is left over that the catalog does not list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_a_schema_change_leaves_the_old_or_the_new_table() {
    use snaprock_tests::ServerProcess;
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k BIGINT, v INT, s STRING) DISTRIBUTED BY HASH(k)",
            "INSERT INTO d.t SELECT g, g % 1000, concat('row-', CAST(g AS STRING)) \
             FROM TABLE(generate_series(1, 400000)) AS s(g)",
        ],
    )
    .await;
    drop(c);
    let mut server = server;
    let mut outcomes = Vec::new();
    // Kills early in the rewrite, late in it, and after it: each round flips the type.
    for (round, delay_ms) in [10u64, 200, 600, 1500, 5000].into_iter().enumerate() {
        let mut c = server.conn().await;
        let sql = if rows(&mut c, "DESC d.t").await[1][1] == "int" {
            "ALTER TABLE d.t MODIFY COLUMN v BIGINT"
        } else {
            "ALTER TABLE d.t MODIFY COLUMN v INT"
        };
        let alter = tokio::spawn(async move {
            let _ = c.query_drop(sql).await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        server.kill9();
        let _ = alter.await;
        server = ServerProcess::start(dir.path()).await;
        let mut c = server.conn().await;
        assert_eq!(
            rows(
                &mut c,
                "SELECT count(*), sum(v), count(DISTINCT s) FROM d.t"
            )
            .await,
            vec![vec!["400000", "199800000", "400000"]],
            "round {round}"
        );
        let v_type = rows(&mut c, "DESC d.t").await[1][1].clone();
        assert!(["int", "bigint"].contains(&v_type.as_str()), "{v_type}");
        outcomes.push(v_type);
        let listed: i64 = value(
            &mut c,
            "SELECT sum(NUM_ROWSET) FROM information_schema.be_tablets",
        )
        .await
        .parse()
        .unwrap();
        let on_disk = walk(&dir.path().join("data"));
        assert_eq!(
            on_disk as i64, listed,
            "round {round}: files on disk vs listed"
        );
    }
    eprintln!("types after each kill: {outcomes:?}");
}

/// Parquet files under `dir`.
fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                usize::from(path.extension().is_some_and(|x| x == "parquet"))
            }
        })
        .sum()
}

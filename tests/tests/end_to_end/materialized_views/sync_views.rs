//! Synchronous (single-table) materialized views as StarRocks' documentation creates them:
//! `CREATE MATERIALIZED VIEW mv AS SELECT k, SUM(v) FROM t GROUP BY k`. Not listed among the
//! tables, listed by SHOW MATERIALIZED VIEWS as ROLLUP, brought up to date after every write
//! path of the base table and used for its queries only while up to date (so answers are
//! always the base table's), and backed up and restored with their table.

use std::time::Duration;

use mysql_async::Conn;
use snaprock_tests::{
    TestServer, column, joined_rows, rows, run, snapshot_timestamp, wait_for_backup_state,
    wait_for_restore_state,
};

const QUERY: &str =
    "SELECT store_id, SUM(sale_amt) FROM sales_records GROUP BY store_id ORDER BY store_id";

async fn uses_view(c: &mut Conn) -> bool {
    rows(c, &format!("EXPLAIN {QUERY}"))
        .await
        .iter()
        .flatten()
        .any(|cell| cell.contains("store_amt"))
}

/// Waits until the view is up to date again (queries use it), checking on the way that the
/// answer is always the base table's.
async fn wait_until_used(c: &mut Conn, expected: &[String], after: &str) {
    for _ in 0..200 {
        assert_eq!(joined_rows(c, QUERY).await, expected, "after {after}");
        if uses_view(c).await {
            assert_eq!(joined_rows(c, QUERY).await, expected, "after {after}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the view was not brought up to date after {after}");
}

#[tokio::test]
async fn a_synchronous_view_follows_every_write_path_and_travels_with_its_table() {
    let repo = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // StarRocks' documentation example.
            "CREATE TABLE sales_records (record_id INT, seller_id INT, store_id INT, \
             sale_date DATE, sale_amt BIGINT) DUPLICATE KEY(record_id) \
             PARTITION BY RANGE(sale_date) (PARTITION p1 VALUES LESS THAN ('2024-01-01'), \
             PARTITION p2 VALUES LESS THAN ('2025-01-01')) DISTRIBUTED BY HASH(record_id)",
            "INSERT INTO sales_records VALUES (1, 1, 1, '2023-05-01', 100), \
             (2, 2, 1, '2024-05-01', 50), (3, 1, 2, '2024-06-01', 7)",
            "CREATE MATERIALIZED VIEW store_amt AS \
             SELECT store_id, SUM(sale_amt) FROM sales_records GROUP BY store_id",
        ],
    )
    .await;
    assert_eq!(joined_rows(&mut c, "SHOW TABLES").await, ["sales_records"]);
    let shown = rows(&mut c, "SHOW MATERIALIZED VIEWS").await;
    assert_eq!(
        (shown[0][2].as_str(), shown[0][3].as_str()),
        ("store_amt", "ROLLUP")
    );
    // Not a table: only queries on its base table read it, and only while up to date.
    let (code, _) = snaprock_tests::server_error(
        mysql_async::prelude::Queryable::query_drop(&mut c, "SELECT * FROM store_amt").await,
    );
    assert_eq!(code, 1146);
    wait_until_used(&mut c, &["1,150".into(), "2,7".into()], "CREATE").await;
    let jobs = rows(&mut c, "SHOW ALTER MATERIALIZED VIEW").await;
    assert_eq!(
        (
            jobs[0][1].as_str(),
            jobs[0][5].as_str(),
            jobs[0][8].as_str()
        ),
        ("sales_records", "store_amt", "FINISHED")
    );
    // DESC t ALL lists it as an index of the table (StarRocks' layout).
    let indexes = joined_rows(&mut c, "DESC sales_records ALL").await;
    assert_eq!(indexes.len(), 5 + 1 + 2, "{indexes:?}");
    assert_eq!(
        indexes[0],
        "sales_records,DUP_KEYS,record_id,int,Yes,true,NULL,"
    );
    assert_eq!(indexes[5], ",,,,,,,");
    assert_eq!(indexes[6], "store_amt,AGG_KEYS,store_id,int,Yes,true,NULL,");
    assert_eq!(indexes[7], ",,SUM(sale_amt),bigint,Yes,false,NULL,SUM");

    let writes: [(&str, &[&str]); 5] = [
        ("INSERT", &["1,160", "2,7", "3,1"]),
        ("DELETE", &["1,60", "2,7", "3,1"]),
        ("INSERT OVERWRITE", &["1,50", "2,7", "3,1", "4,4"]),
        ("TRUNCATE PARTITION", &["1,50", "2,7", "3,1"]),
        ("DROP PARTITION", &[]),
    ];
    for (write, expected) in writes {
        let sql = match write {
            "INSERT" => {
                "INSERT INTO sales_records VALUES (4, 1, 1, '2023-07-01', 10), \
                         (5, 3, 3, '2024-07-01', 1)"
            }
            "DELETE" => "DELETE FROM sales_records WHERE record_id = 1",
            "INSERT OVERWRITE" => {
                "INSERT OVERWRITE sales_records PARTITION (p1) VALUES (6, 1, 4, '2023-01-02', 4)"
            }
            "TRUNCATE PARTITION" => "TRUNCATE TABLE sales_records PARTITION (p1)",
            _ => "ALTER TABLE sales_records DROP PARTITION p2 FORCE",
        };
        run(&mut c, &[sql]).await;
        // The write answered once the view was up to date: the next query reads it.
        assert!(uses_view(&mut c).await, "the view is stale after {write}");
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(joined_rows(&mut c, QUERY).await, expected, "after {write}");
    }

    // Backed up with its table, restored with it: a view again, up to date, used.
    run(
        &mut c,
        &[
            "INSERT INTO sales_records VALUES (7, 1, 5, '2023-03-03', 70)",
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
        ],
    )
    .await;
    wait_until_used(&mut c, &["5,70".into()], "the last insert").await;
    run(&mut c, &["BACKUP SNAPSHOT d.s1 TO r ON (sales_records)"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let ts = snapshot_timestamp(&mut c, "r", "s1").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d2 ON (TABLE sales_records) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "d2", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    run(&mut c, &["USE d2"]).await;
    assert_eq!(joined_rows(&mut c, "SHOW TABLES").await, ["sales_records"]);
    let shown = rows(&mut c, "SHOW MATERIALIZED VIEWS").await;
    assert_eq!(
        (shown[0][2].as_str(), shown[0][4].as_str()),
        ("store_amt", "true")
    );
    assert!(uses_view(&mut c).await);
    assert_eq!(joined_rows(&mut c, QUERY).await, ["5,70"]);

    // Restored under another name, the table keeps its view.
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT s1 FROM r DATABASE d AS d3 ON (TABLE sales_records AS sr2) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "d3", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    let renamed = QUERY.replace("sales_records", "d3.sr2");
    let plan = rows(&mut c, &format!("EXPLAIN {renamed}")).await;
    assert!(
        plan.iter().flatten().any(|cell| cell.contains("store_amt")),
        "{plan:?}"
    );
    assert_eq!(joined_rows(&mut c, &renamed).await, ["5,70"]);

    run(&mut c, &["USE d", "DROP MATERIALIZED VIEW store_amt"]).await;
    assert!(!uses_view(&mut c).await);
    assert!(rows(&mut c, "SHOW MATERIALIZED VIEWS").await.is_empty());
}

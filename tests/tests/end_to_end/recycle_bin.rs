//! The recycle bin, as StarRocks has it: DROP DATABASE / TABLE / PARTITION without FORCE keep
//! what they drop (data files included) for `catalog_trash_expire_second`; RECOVER brings it
//! back exactly (a backup afterwards uploads nothing new); FORCE and expiry delete the files.
//! Error codes and texts are StarRocks' (LocalMetastore / CatalogRecycleBin).

use snaprock_tests::s3::files_under;
use snaprock_tests::{
    TestServer, column, expect_error, rows, run, value, wait_for_backup_state, wait_until,
};

fn parquet_files(data_dir: &std::path::Path) -> usize {
    files_under(data_dir)
        .iter()
        .filter(|f| f.ends_with(".parquet"))
        .count()
}

const SALES: &str = "CREATE TABLE d.sales (dt DATE NOT NULL, amount INT) DUPLICATE KEY(dt) \
    PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), \
    PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(dt) BUCKETS 1";

#[tokio::test]
async fn dropped_tables_and_databases_come_back_with_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            SALES,
            "INSERT INTO d.sales VALUES ('2024-01-05', 10), ('2024-02-07', 20)",
            "INSERT INTO d.sales VALUES ('2024-01-09', 5)",
        ],
    )
    .await;
    let files = parquet_files(&server.data_dir);
    assert!(files >= 2);

    run(&mut c, &["DROP TABLE d.sales"]).await;
    assert!(rows(&mut c, "SHOW TABLES FROM d").await.is_empty());
    assert_eq!(
        parquet_files(&server.data_dir),
        files,
        "the bin keeps the files"
    );
    run(&mut c, &["RECOVER TABLE d.sales"]).await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "35");
    expect_error(
        &mut c,
        "RECOVER TABLE d.sales",
        1050,
        "Table 'sales' already exists",
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER TABLE d.nothing",
        1051,
        "Unknown table 'nothing'",
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER TABLE nodb.t",
        1049,
        "Unknown database 'nodb'",
    )
    .await;

    // Only the latest drop of a name comes back.
    run(
        &mut c,
        &[
            "DROP TABLE d.sales",
            "CREATE TABLE d.sales (dt DATE NOT NULL, amount INT) DUPLICATE KEY(dt) \
             DISTRIBUTED BY HASH(dt) BUCKETS 1",
            "INSERT INTO d.sales VALUES ('2030-01-01', 1)",
            "DROP TABLE d.sales",
            "RECOVER TABLE d.sales",
        ],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "1");

    // A database comes back with its tables; StarRocks' texts when it cannot.
    run(
        &mut c,
        &[
            "CREATE TABLE d.other (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO d.other VALUES (7)",
            "USE d",
            "DROP DATABASE d",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "SELECT * FROM d.other",
        1049,
        "Unknown database 'd'",
    )
    .await;
    run(&mut c, &["RECOVER DATABASE d"]).await;
    assert_eq!(value(&mut c, "SELECT k FROM d.other").await, "7");
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.sales").await, "1");
    expect_error(
        &mut c,
        "RECOVER DATABASE d",
        5064,
        "Database[d] already exist.",
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER DATABASE nope",
        1049,
        "Unknown database 'nope'",
    )
    .await;

    // The bin survives a restart.
    run(&mut c, &["DROP TABLE d.other"]).await;
    drop(c);
    server.stop().await;
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(&mut c, &["RECOVER TABLE d.other"]).await;
    assert_eq!(value(&mut c, "SELECT k FROM d.other").await, "7");

    // FORCE skips the bin: nothing to recover, and the files go.
    let before = parquet_files(&server.data_dir);
    run(&mut c, &["DROP TABLE d.other FORCE"]).await;
    expect_error(
        &mut c,
        "RECOVER TABLE d.other",
        1051,
        "Unknown table 'other'",
    )
    .await;
    wait_until(
        || parquet_files(&server.data_dir) < before,
        "the files of a table dropped with FORCE are deleted",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn dropped_partitions_come_back_unless_their_place_is_taken() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            SALES,
            "INSERT INTO d.sales VALUES ('2024-01-05', 10), ('2024-02-07', 20)",
            "ALTER TABLE d.sales DROP PARTITION p1",
        ],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "20");
    run(&mut c, &["USE d", "RECOVER PARTITION p1 FROM sales"]).await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "30");
    let partitions: Vec<String> = rows(&mut c, "SHOW PARTITIONS FROM d.sales")
        .await
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(partitions, vec!["p1", "p2"]);
    expect_error(
        &mut c,
        "RECOVER PARTITION p1 FROM sales",
        5064,
        "partition[p1] already exist in table[sales]",
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER PARTITION p9 FROM sales",
        5064,
        "No partition named 'p9' in recycle bin that belongs to table 'sales'",
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER PARTITION p1 FROM nope",
        1146,
        "Table 'd.nope' doesn't exist",
    )
    .await;

    // Its range taken by a new partition: refused, and the bin still holds it.
    run(
        &mut c,
        &[
            "ALTER TABLE sales DROP PARTITION p1",
            "ALTER TABLE sales ADD PARTITION p1b VALUES [('2024-01-15'), ('2024-02-01'))",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "RECOVER PARTITION p1 FROM sales",
        1493,
        "Range of partition p1 is intersected with the range of partition p1b",
    )
    .await;
    run(
        &mut c,
        &[
            "ALTER TABLE sales DROP PARTITION p1b FORCE",
            "RECOVER PARTITION p1 FROM sales",
        ],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "30");

    // RECOVER needs what StarRocks asks: INSERT and ALTER on the table for a partition,
    // CREATE TABLE on the database for a table; a refused one changes nothing.
    run(
        &mut c,
        &[
            "ALTER TABLE sales DROP PARTITION p1",
            "CREATE USER reader IDENTIFIED BY 'pw'",
            "GRANT SELECT, INSERT ON ALL TABLES IN DATABASE d TO USER reader",
        ],
    )
    .await;
    let mut reader = mysql_async::Conn::new(server.opts("reader", Some("pw"), Some("d")))
        .await
        .unwrap();
    for sql in ["RECOVER PARTITION p1 FROM sales", "RECOVER TABLE d.gone"] {
        let (code, _) = snaprock_tests::server_error(
            mysql_async::prelude::Queryable::query_drop(&mut reader, sql).await,
        );
        assert_eq!(code, 5203, "{sql}");
    }
    run(&mut c, &["RECOVER PARTITION p1 FROM sales"]).await;
    assert_eq!(value(&mut c, "SELECT sum(amount) FROM d.sales").await, "30");

    // FORCE: gone for good.
    run(&mut c, &["ALTER TABLE sales DROP PARTITION p2 FORCE"]).await;
    expect_error(
        &mut c,
        "RECOVER PARTITION p2 FROM sales",
        5064,
        "No partition named 'p2' in recycle bin that belongs to table 'sales'",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn the_bin_forgets_after_catalog_trash_expire_second_and_deletes_the_files() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO d.t VALUES (1), (2)",
        ],
    )
    .await;
    // StarRocks' way to set it, and its errors.
    assert_eq!(
        rows(&mut c, "ADMIN SHOW FRONTEND CONFIG LIKE 'catalog_trash%'").await,
        vec![vec![
            "catalog_trash_expire_second".to_string(),
            "[]".into(),
            "86400".into(),
            "long".into(),
            "true".into(),
            "How long dropped databases, tables and partitions stay recoverable with RECOVER"
                .into(),
        ]]
    );
    expect_error(
        &mut c,
        "ADMIN SET FRONTEND CONFIG (\"no_such_config\" = \"1\")",
        5102,
        "Config 'no_such_config' does not exist or is not mutable",
    )
    .await;
    expect_error(
        &mut c,
        "ADMIN SET FRONTEND CONFIG (\"catalog_trash_expire_second\" = \"soon\")",
        5101,
        "Set config failed: Failed to set config 'catalog_trash_expire_second'. err: invalid long value 'soon'",
    )
    .await;
    run(
        &mut c,
        &["ADMIN SET FRONTEND CONFIG (\"catalog_trash_expire_second\" = \"1\")"],
    )
    .await;
    assert_eq!(
        value(&mut c, "SELECT @@global.catalog_trash_expire_second").await,
        "1"
    );
    let files = parquet_files(&server.data_dir);
    assert!(files >= 1);
    run(&mut c, &["DROP TABLE d.t"]).await;
    wait_until(
        || parquet_files(&server.data_dir) < files,
        "the expired table's files are deleted",
    )
    .await;
    expect_error(&mut c, "RECOVER TABLE d.t", 1051, "Unknown table 't'").await;
    server.stop().await;
}

#[tokio::test]
async fn a_recovered_table_backs_up_without_uploading_a_byte() {
    let repo = tempfile::Builder::new().prefix("repo-").tempdir().unwrap();
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            SALES,
            "INSERT INTO d.sales VALUES ('2024-01-05', 10), ('2024-02-07', 20)",
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.before TO r",
        ],
    )
    .await;
    wait_for_backup_state(&mut c, "d", &["FINISHED"]).await;
    run(
        &mut c,
        &[
            "DROP TABLE d.sales",
            "RECOVER TABLE d.sales",
            "BACKUP SNAPSHOT d.after TO r",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED"]).await;
    assert!(
        column(&row, "Progress").starts_with("[files: 0/0], [bytes: 0/0]"),
        "the same files: {row:?}"
    );
    server.stop().await;
}

//! StarRocks' secondary indexes as metadata that behaves: `INDEX i (c) USING BITMAP | NGRAMBF`
//! in CREATE TABLE, `CREATE INDEX ... ON`, `ALTER TABLE ADD | DROP INDEX`, `DROP INDEX ... ON`,
//! with StarRocks' checks and texts (and MySQL's codes for a duplicate name, a missing column or
//! index); SHOW INDEX and SHOW CREATE TABLE show them, SHOW CREATE TABLE's text creates the same
//! table again, CREATE TABLE LIKE, a restart, a backup and a restore keep them, and a dropped
//! or renamed column takes its indexes along.

use snaprock_tests::{TestServer, column, expect_error, named_rows, rows, run, value};

const PREFIX: &str = "Getting analyzing error. Detail message: ";

async fn index_list(c: &mut mysql_async::Conn, table: &str) -> Vec<String> {
    named_rows(c, &format!("SHOW INDEX FROM {table}"))
        .await
        .iter()
        .filter(|r| column(r, "Non_unique") == "1")
        .map(|r| {
            format!(
                "{}:{}:{}:{}",
                column(r, "Key_name"),
                column(r, "Column_name"),
                column(r, "Index_type"),
                column(r, "Index_comment")
            )
        })
        .collect()
}

async fn create_sql(c: &mut mysql_async::Conn, table: &str) -> String {
    rows(c, &format!("SHOW CREATE TABLE {table}")).await[0][1].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_indexes_are_declared_checked_shown_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v VARCHAR(20), d DOUBLE, \
             INDEX idx_v (v) USING BITMAP COMMENT 'by v') \
             DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "CREATE INDEX idx_k ON t (k) USING BITMAP COMMENT 'by k'",
            "ALTER TABLE t ADD INDEX ng (v) USING NGRAMBF (\"gram_num\" = \"4\") COMMENT ''",
            "INSERT INTO t VALUES (1, 'apple', 1.5), (2, 'banana', 2.5)",
        ],
    )
    .await;
    assert_eq!(
        index_list(&mut c, "t").await,
        [
            "idx_v:v:BITMAP:by v",
            "idx_k:k:BITMAP:by k",
            "ng:v:NGRAMBF:"
        ]
    );
    let ddl = create_sql(&mut c, "t").await;
    assert!(
        ddl.contains("  INDEX idx_v (`v`) USING BITMAP COMMENT 'by v',\n")
            && ddl.contains(
                "  INDEX ng (`v`) USING NGRAMBF(\"gram_num\" = \"4\", \"bloom_filter_fpp\" = \"0.05\", \
                 \"case_sensitive\" = \"true\") COMMENT ''\n) ENGINE=OLAP"
            ),
        "{ddl}"
    );
    // StarRocks' checks, with its texts; MySQL's codes for names and columns.
    let refused = [
        (
            "CREATE INDEX idx_k ON t (k)",
            1061,
            "Duplicate key name 'idx_k'".to_string(),
        ),
        (
            "CREATE INDEX x ON t (nosuch)",
            1072,
            "Key column 'nosuch' doesn't exist in table".into(),
        ),
        (
            "DROP INDEX nosuch ON t",
            1091,
            "Can't DROP 'nosuch'; check that column/key exists".into(),
        ),
        (
            "CREATE INDEX x ON t (d)",
            5064,
            format!("{PREFIX}DOUBLE is not supported in bitmap index. invalid column: d."),
        ),
        (
            "CREATE INDEX x ON t (k, v)",
            5064,
            format!("{PREFIX}x index can only apply to a single column."),
        ),
        (
            "ALTER TABLE t ADD INDEX x (k) USING NGRAMBF",
            5064,
            format!("{PREFIX}Invalid ngram bloom filter column 'k': unsupported type int(11)."),
        ),
        (
            "ALTER TABLE t ADD INDEX x (v) USING NGRAMBF (\"bloom_filter_fpp\" = \"0.5\")",
            5064,
            format!("{PREFIX}Bloom filter fpp should in [0.0001, 0.05]."),
        ),
        (
            "CREATE INDEX x ON t (v) USING GIN",
            5064,
            format!(
                "{PREFIX}The inverted index is disabled, enable it by setting FE config \
                 `enable_experimental_gin` to true."
            ),
        ),
    ];
    for (sql, code, message) in refused {
        expect_error(&mut c, sql, code, &message).await;
    }
    run(
        &mut c,
        &[
            "CREATE TABLE agg (k INT, n BIGINT SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k)",
            "DROP INDEX IF EXISTS nosuch ON t",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "CREATE INDEX x ON agg (n)",
        5064,
        &format!(
            "{PREFIX}BITMAP index only used in columns of DUP_KEYS/PRIMARY_KEYS table or key \
             columns of UNIQUE_KEYS/AGG_KEYS table. invalid column: n."
        ),
    )
    .await;
    // The refusals changed nothing; the rows are untouched.
    assert_eq!(index_list(&mut c, "t").await.len(), 3);
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM t WHERE v = 'apple'").await,
        "1"
    );

    // SHOW CREATE TABLE's text makes the same table; LIKE copies the indexes.
    let recreated = ddl.replace("CREATE TABLE `t`", "CREATE TABLE `t_again`");
    run(&mut c, &[&recreated, "CREATE TABLE t_like LIKE t"]).await;
    assert_eq!(
        create_sql(&mut c, "t_again").await,
        ddl.replace("CREATE TABLE `t`", "CREATE TABLE `t_again`")
    );
    assert_eq!(
        index_list(&mut c, "t_like").await,
        index_list(&mut c, "t").await
    );

    // A renamed column's indexes follow it; a dropped column's go with it.
    run(
        &mut c,
        &[
            "ALTER TABLE t_like RENAME COLUMN v TO w",
            "ALTER TABLE t_again DROP COLUMN v",
            "DROP INDEX idx_k ON t_again",
        ],
    )
    .await;
    assert_eq!(
        index_list(&mut c, "t_like").await,
        [
            "idx_v:w:BITMAP:by v",
            "idx_k:k:BITMAP:by k",
            "ng:w:NGRAMBF:"
        ]
    );
    assert!(index_list(&mut c, "t_again").await.is_empty());

    // A backup and a restore into another database keep them.
    let repo = tempfile::tempdir().unwrap();
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.s TO r ON (t)",
        ],
    )
    .await;
    let job = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&job, "State"), "FINISHED", "{job:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "r", "s", "d2").await;
    assert_eq!(create_sql(&mut c, "d2.t").await, ddl);
    drop(c);
    server.stop().await;

    // And a restart.
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    assert_eq!(create_sql(&mut c, "d.t").await, ddl);
    server.stop().await;
}

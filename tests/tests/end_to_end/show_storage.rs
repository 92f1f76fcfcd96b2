//! StarRocks' SHOW statements about storage: SHOW DATA (a database's tables with Total, Quota
//! and Left rows; one table with its row count), SHOW TABLET, and SHOW ALTER TABLE COLUMN,
//! which scripts written for StarRocks poll after an ALTER TABLE until the job is FINISHED;
//! StarRocks' information_schema tables; the session variables its scripts set.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, expect_error, rows, run, value};

#[tokio::test]
async fn show_data_lists_sizes_replicas_and_rows() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE a (k INT, v STRING) DISTRIBUTED BY HASH(k) BUCKETS 3",
            "CREATE TABLE b (dt DATE, v INT) PARTITION BY RANGE(dt) (
               PARTITION p1 VALUES LESS THAN ('2024-01-01'),
               PARTITION p2 VALUES LESS THAN ('2025-01-01')) DISTRIBUTED BY HASH(v) BUCKETS 2",
            "INSERT INTO a VALUES (1, 'x'), (2, 'y'), (3, 'z')",
        ],
    )
    .await;
    let data = rows(&mut c, "SHOW DATA").await;
    let names: Vec<&str> = data.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["a", "b", "Total", "Quota", "Left"]);
    // Table a holds one file; b none. Replicas: partitions x buckets.
    assert!(
        data[0][1].ends_with(" B") || data[0][1].ends_with(" KB"),
        "{data:?}"
    );
    assert_eq!(data[1][1], "0.000 B");
    assert_eq!((data[0][2].as_str(), data[1][2].as_str()), ("3", "4"));
    assert_eq!(data[2][2], "7");
    assert_eq!(data[2][1], data[0][1]);
    assert_eq!(data[3], ["Quota", "1024.000 TB", "1073741824"]);
    assert_eq!(data[4][2], "1073741817");

    let one = rows(&mut c, "SHOW DATA FROM d.a").await;
    assert_eq!(one.len(), 2, "{one:?}");
    assert_eq!(
        (
            one[0][0].as_str(),
            one[0][1].as_str(),
            one[0][3].as_str(),
            one[0][4].as_str()
        ),
        ("a", "a", "3", "3")
    );
    assert_eq!((one[1][0].as_str(), one[1][1].as_str()), ("", "Total"));

    let tablets = rows(&mut c, "SHOW TABLET FROM b").await;
    assert_eq!(tablets.len(), 2);
    assert!(tablets.iter().all(|t| t[13] == "NORMAL"));
    expect_error(
        &mut c,
        "SHOW DATA FROM d.nope",
        1146,
        "Table 'd.nope' doesn't exist",
    )
    .await;
}

#[tokio::test]
async fn show_alter_table_column_lists_finished_schema_changes() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v INT)",
            "CREATE TABLE u (k INT)",
            "INSERT INTO t VALUES (1, 2)",
            "ALTER TABLE t ADD COLUMN c INT DEFAULT '5'",
            "ALTER TABLE u ADD COLUMN c INT",
            "ALTER TABLE t COMMENT = 'not a column change'",
            "ALTER TABLE t MODIFY COLUMN v BIGINT",
        ],
    )
    .await;
    let jobs = rows(&mut c, "SHOW ALTER TABLE COLUMN").await;
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert!(jobs.iter().all(|j| j[9] == "FINISHED"), "{jobs:?}");
    // What StarRocks' connectors send after a schema change: the latest job of the table.
    let latest = rows(
        &mut c,
        "SHOW ALTER TABLE COLUMN FROM d WHERE TableName = 't' ORDER BY CreateTime DESC, JobId DESC LIMIT 1",
    )
    .await;
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0][1].as_str(), latest[0][7].as_str()), ("t", "2:0"));
    assert_eq!(
        value(&mut c, "SELECT v + c FROM t").await,
        "7",
        "the job's change is in the table"
    );
    assert!(rows(&mut c, "SHOW ALTER TABLE ROLLUP").await.is_empty());
    assert!(
        rows(&mut c, "SHOW ALTER MATERIALIZED VIEW FROM d")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn starrocks_information_schema_tables_describe_the_server() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE pk (id INT NOT NULL, v STRING) PRIMARY KEY (id) \
             DISTRIBUTED BY HASH(id) BUCKETS 4 PROPERTIES (\"replication_num\" = \"1\")",
            "CREATE TABLE ev (dt DATE, v INT) PARTITION BY date_trunc('month', dt)",
            "INSERT INTO ev VALUES ('2024-01-05', 1), ('2024-02-05', 2), ('2024-02-06', 3)",
            "CREATE ROLE analyst",
            "CREATE USER 'ann'@'%' IDENTIFIED BY 'pw' DEFAULT ROLE 'analyst'",
            "GRANT SELECT ON TABLE d.ev TO ROLE 'analyst'",
            "GRANT INSERT ON TABLE d.pk TO USER 'ann'@'%'",
        ],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT PARTITION_NAME, ROW_COUNT, PARTITION_KEY, PARTITION_VALUE \
             FROM information_schema.partitions_meta WHERE TABLE_NAME = 'ev' ORDER BY 1"
        )
        .await,
        vec![
            vec!["p202401", "1", "dt", "[2024-01-01, 2024-02-01)"],
            vec!["p202402", "2", "dt", "[2024-02-01, 2024-03-01)"]
        ]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT TABLE_MODEL, PRIMARY_KEY, DISTRIBUTE_KEY, DISTRIBUTE_TYPE, DISTRIBUTE_BUCKET, \
             PROPERTIES FROM information_schema.tables_config WHERE TABLE_NAME = 'pk'"
        )
        .await,
        vec![vec![
            "PRIMARY_KEYS",
            "id",
            "id",
            "HASH",
            "4",
            "{\"replication_num\":\"1\"}"
        ]]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT sum(NUM_ROW) FROM information_schema.be_tablets"
        )
        .await,
        "3"
    );
    // The one INSERT into ev is a finished load (show_load.rs tests them in full).
    assert_eq!(
        rows(
            &mut c,
            "SELECT TABLE_NAME, STATE, TYPE, SINK_ROWS FROM information_schema.loads"
        )
        .await,
        vec![vec!["ev", "FINISHED", "INSERT", "3"]]
    );
    // A user sees its own roles and grants.
    let opts = server.opts("ann", Some("pw"), None);
    let mut ann = mysql_async::Conn::new(opts).await.unwrap();
    assert_eq!(
        rows(
            &mut ann,
            "SELECT USER, ROLE_NAME, IS_DEFAULT FROM information_schema.applicable_roles"
        )
        .await,
        vec![vec!["ann", "analyst", "YES"]]
    );
    assert_eq!(
        rows(
            &mut ann,
            "SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE \
             FROM information_schema.table_privileges ORDER BY TABLE_NAME"
        )
        .await,
        vec![
            vec!["'ann'@'%'", "d", "ev", "SELECT"],
            vec!["'ann'@'%'", "d", "pk", "INSERT"]
        ]
    );
}

/// The session variables StarRocks' scripts and tests set are accepted, read back and reset.
#[tokio::test]
async fn starrocks_session_variables_are_accepted() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "SET scan_olap_partition_num_limit = 10",
            "SET enable_spill = true, new_planner_optimize_timeout = 10000",
            "SET SESSION partial_update_mode = 'column'",
        ],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT @@scan_olap_partition_num_limit, @@enable_spill, @@partial_update_mode, @@sql_dialect"
        )
        .await,
        vec![vec!["10", "1", "column", "StarRocks"]]
    );
    run(&mut c, &["SET scan_olap_partition_num_limit = DEFAULT"]).await;
    assert_eq!(
        rows(
            &mut c,
            "SHOW VARIABLES LIKE 'scan_olap_partition_num_limit'"
        )
        .await,
        vec![vec!["scan_olap_partition_num_limit", "0"]]
    );
    expect_error(
        &mut c,
        "SET enable_spill = 'maybe'",
        1231,
        "Variable 'enable_spill' can't be set to the value of 'maybe'",
    )
    .await;
}

/// StarRocks' be_* tables for the one backend a server is: its start-up options (never the
/// root password) with their defaults, the series of /metrics, its threads, what compaction
/// would pick; transactions, logs and brpc variables have no rows. information_schema is
/// read-only (MySQL's 1044), be_configs included.
#[tokio::test]
async fn be_tables_describe_the_one_backend() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    // The test server compacts hourly (default 30 s) and downloads 16 parts at once (default).
    assert_eq!(
        rows(
            &mut c,
            "SELECT BE_ID, NAME, VALUE, TYPE, `DEFAULT`, MUTABLE FROM information_schema.be_configs \
             WHERE NAME IN ('compaction_interval_secs', 'download_parts_in_flight') ORDER BY NAME"
        )
        .await,
        vec![
            vec![
                "10001",
                "compaction_interval_secs",
                "3600",
                "int64",
                "30",
                "false"
            ],
            vec![
                "10001",
                "download_parts_in_flight",
                "16",
                "int64",
                "16",
                "false"
            ],
        ]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM information_schema.be_configs WHERE NAME LIKE '%password%'"
        )
        .await,
        "0"
    );
    expect_error(
        &mut c,
        "UPDATE information_schema.be_configs SET VALUE = '1' WHERE NAME = 'port'",
        1044,
        "Access denied for user 'root'@'%' to database 'information_schema'",
    )
    .await;

    run(
        &mut c,
        &["CREATE DATABASE d", "CREATE TABLE d.t (k INT, v INT)"],
    )
    .await;
    // Eight INSERTs: eight small files in one partition, what a compaction pass waits for.
    for i in 0..8 {
        run(&mut c, &[&format!("INSERT INTO d.t VALUES ({i}, {i})")]).await;
    }
    assert_eq!(
        rows(
            &mut c,
            "SELECT CANDIDATES_NUM, CANDIDATE_MAX_SCORE FROM information_schema.be_compactions"
        )
        .await,
        vec![vec!["1", "8"]]
    );
    let statements: i64 = value(
        &mut c,
        "SELECT sum(VALUE) FROM information_schema.be_metrics \
         WHERE NAME = 'snaprock_statements_total'",
    )
    .await
    .parse()
    .unwrap();
    assert!(statements >= 10, "{statements}");
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM information_schema.be_metrics \
             WHERE NAME = 'snaprock_statements_total' AND LABELS LIKE '{kind=\"%\"}'"
        )
        .await,
        value(
            &mut c,
            "SELECT count(*) FROM information_schema.be_metrics \
             WHERE NAME = 'snaprock_statements_total'"
        )
        .await
    );
    let threads: i64 = value(
        &mut c,
        "SELECT count(*) FROM information_schema.be_threads WHERE TID > 0 AND BOUND_CPUS > 0",
    )
    .await
    .parse()
    .unwrap();
    assert!(threads >= 1, "{threads}");
    for empty in ["be_txns", "be_logs", "be_bvars"] {
        assert!(
            rows(&mut c, &format!("SELECT * FROM information_schema.{empty}"))
                .await
                .is_empty()
        );
    }
    assert_eq!(
        rows(
            &mut c,
            "SELECT BE_ID, LEVEL, TIMESTAMP, TID, LOG FROM information_schema.be_logs"
        )
        .await
        .len(),
        0
    );
}

/// StarRocks' catalogs, as BI tools and JDBC URLs name them: the one internal catalog,
/// `default_catalog`, in SHOW CATALOGS, SET CATALOG, `USE default_catalog.db` (as a statement
/// and as the database of the handshake), three-part table names and CATALOG(); any other
/// catalog is refused with StarRocks' text.
#[tokio::test]
async fn the_internal_catalog_is_named_as_starrocks_names_it() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v INT)",
            "INSERT INTO default_catalog.d.t VALUES (1, 10), (2, 20)",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SHOW CATALOGS").await,
        vec![vec![
            "default_catalog",
            "Internal",
            "An internal catalog contains this cluster's self-managed tables."
        ]]
    );
    run(
        &mut c,
        &["SET CATALOG default_catalog", "USE default_catalog.d"],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT database(), catalog(), current_catalog()").await,
        vec![vec!["d", "default_catalog", "default_catalog"]]
    );
    assert_eq!(
        value(&mut c, "SELECT sum(t.v) FROM default_catalog.d.t t").await,
        "30"
    );
    for sql in ["SET CATALOG hive_catalog", "USE hive_catalog.d"] {
        expect_error(
            &mut c,
            sql,
            5064,
            "Getting analyzing error. Detail message: Unknown catalog 'hive_catalog'.",
        )
        .await;
    }
    // A JDBC URL's `default_catalog.d` arrives as the handshake's database.
    let opts = server.opts("root", None, Some("default_catalog.d"));
    let mut jdbc_like = mysql_async::Conn::new(opts).await.unwrap();
    assert_eq!(value(&mut jdbc_like, "SELECT count(*) FROM t").await, "2");
}

/// SHOW BACKENDS / FRONTENDS and SHOW PROC '/backends' | '/frontends' in StarRocks' columns:
/// the one server, alive, with its tablets, ports and version; operators only.
#[tokio::test]
async fn the_server_is_its_own_backend_and_frontend() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (dt DATE, v INT) PARTITION BY RANGE(dt) (
               PARTITION p1 VALUES LESS THAN ('2024-01-01'),
               PARTITION p2 VALUES LESS THAN ('2025-01-01'))",
            "INSERT INTO d.t VALUES ('2023-05-01', 1)",
            "CREATE USER ann IDENTIFIED BY 'pw'",
        ],
    )
    .await;
    let backends = snaprock_tests::named_rows(&mut c, "SHOW BACKENDS").await;
    assert_eq!(backends.len(), 1, "{backends:?}");
    let backend = &backends[0];
    let names: Vec<&str> = backend.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 30);
    assert_eq!(&names[..3], ["BackendId", "IP", "HeartbeatPort"]);
    assert_eq!(names.last(), Some(&"StatusCode"));
    for (name, expected) in [
        ("BackendId", "10001"),
        ("IP", "127.0.0.1"),
        ("Alive", "true"),
        ("SystemDecommissioned", "false"),
        ("TabletNum", "2"),
        ("StatusCode", "OK"),
    ] {
        assert_eq!(snaprock_tests::column(backend, name), expected, "{name}");
    }
    assert!(snaprock_tests::column(backend, "TotalCapacity").ends_with('B'));
    assert!(snaprock_tests::column(backend, "UsedPct").ends_with(" %"));
    let by_proc = snaprock_tests::named_rows(&mut c, "SHOW PROC '/backends'").await;
    let proc_names: Vec<&str> = by_proc[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(proc_names, names);

    let frontends = snaprock_tests::named_rows(&mut c, "SHOW FRONTENDS").await;
    assert_eq!(frontends.len(), 1);
    let port = server.addr.port().to_string();
    for (name, expected) in [
        ("Role", "LEADER"),
        ("Alive", "true"),
        ("QueryPort", port.as_str()),
    ] {
        assert_eq!(
            snaprock_tests::column(&frontends[0], name),
            expected,
            "{name}"
        );
    }
    assert_eq!(
        snaprock_tests::named_rows(&mut c, "SHOW PROC '/frontends/'")
            .await
            .len(),
        1
    );
    let (code, message) =
        snaprock_tests::server_error(c.query_drop("SHOW PROC '/statistic'").await);
    assert_eq!(code, 5064, "{message}");
    assert!(
        message.contains("Proc path '/statistic' doesn't exist"),
        "{message}"
    );

    let mut ann = mysql_async::Conn::new(server.opts("ann", Some("pw"), None))
        .await
        .unwrap();
    let (code, message) = snaprock_tests::server_error(ann.query_drop("SHOW BACKENDS").await);
    assert_eq!(code, 5203, "{message}");
    assert!(
        message.contains("the OPERATE privilege(s) on SYSTEM"),
        "{message}"
    );
}

//! Partition keys generated from expressions (StarRocks 3.4+), as StarRocks' documentation
//! and its own `test_multi_expr` cases write them: `PARTITION BY from_unixtime(ts, '%Y%m%d')`,
//! `CAST(DATE_PARSE(..) AS DATE)`, mixed `from_unixtime(ts), city` and
//! `mod(k6, 5), k3, date_trunc('month', k1)`, and `RANGE(str2date(dt, '%Y-%m-%d'))` with
//! batch partitions. Rows reach the partition of their computed key (NULL keys one of their
//! own), keyed tables keep their semantics, columns the expressions read keep their name and
//! type, and the tables back up and restore as they were. Also where NULL times go in
//! `date_trunc` tables.

use mysql_async::prelude::Queryable;
use snaprock_tests::partition_ranges as partitions;
use snaprock_tests::{TestServer, column, joined_rows, rows, run, value};

/// The names of `table`'s partitions, sorted.
async fn partition_names(c: &mut mysql_async::Conn, table: &str) -> Vec<String> {
    let mut names = snaprock_tests::partition_names(c, table).await;
    names.sort();
    names
}

/// The server's error for `sql`: (code, message).
async fn error(c: &mut mysql_async::Conn, sql: &str) -> (u16, String) {
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("{sql}: {other:?}"),
    }
}

#[tokio::test]
async fn documentation_examples_partition_by_computed_keys() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE orders (
                ts BIGINT NOT NULL,
                id BIGINT NOT NULL,
                city STRING NOT NULL
            )
            PARTITION BY from_unixtime(ts,'%Y%m%d')",
            "CREATE TABLE orders_new (
                ts STRING NOT NULL,
                id BIGINT NOT NULL,
                city STRING NOT NULL
            )
            PARTITION BY CAST(DATE_PARSE(CAST(ts AS VARCHAR(100)),'%Y%m%d') AS DATE)",
            "CREATE TABLE orders_city (
                ts BIGINT NOT NULL,
                id BIGINT NOT NULL,
                city STRING NOT NULL
            )
            PARTITION BY from_unixtime(ts,'%Y%m%d'), city",
            // 2024-09-25 00:38:07 and 2024-09-26 00:38:07 UTC; a negative time has no date.
            "INSERT INTO orders VALUES (1727224687, 1, 'Houston'), (1727311087, 2, 'Austin'),
                (1727224688, 3, 'Austin'), (-5, 4, 'x')",
            "INSERT INTO orders_new VALUES ('20240506', 1, 'a'), ('20240507', 2, 'b'),
                ('20240506', 3, 'c')",
            "INSERT INTO orders_city SELECT * FROM orders",
        ],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "orders").await,
        ["p20240925", "p20240926", "pNULL"]
    );
    assert_eq!(
        partition_names(&mut c, "orders_new").await,
        ["p20240506", "p20240507"]
    );
    assert_eq!(
        partition_names(&mut c, "orders_city").await,
        [
            "p20240925_Austin",
            "p20240925_Houston",
            "p20240926_Austin",
            "pNULL_x"
        ]
    );
    // Each partition holds the rows of its key; the table reads as loaded.
    let lists: Vec<String> = partitions(&mut c, "orders_city")
        .await
        .into_iter()
        .map(|(_, list)| list)
        .collect();
    assert!(
        lists.contains(&"(('20240925', 'Houston'))".to_string()),
        "{lists:?}"
    );
    // The bounds column of a list-partitioned table is `List`, as in StarRocks' example.
    let austin = rows(
        &mut c,
        "SHOW PARTITIONS FROM orders_city WHERE List LIKE '%Austin%'",
    )
    .await;
    assert_eq!(austin.len(), 2, "{austin:?}");
    for (table, rows) in [("orders", "4"), ("orders_new", "3"), ("orders_city", "4")] {
        assert_eq!(
            value(&mut c, &format!("SELECT count(*) FROM {table}")).await,
            rows
        );
    }
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT PARTITION_NAME, ROW_COUNT FROM information_schema.partitions_meta
             WHERE TABLE_NAME = 'orders' ORDER BY 1"
        )
        .await,
        ["p20240925,2", "p20240926,1", "pNULL,1"]
    );
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT id FROM orders_new WHERE ts = '20240506' ORDER BY id"
        )
        .await,
        ["1", "3"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT id FROM orders WHERE ts < 0").await,
        ["4"]
    );
    // SHOW CREATE TABLE gives the rule as written, and it makes the same table again.
    let create = rows(&mut c, "SHOW CREATE TABLE orders_city").await[0][1].clone();
    assert!(
        create.contains("PARTITION BY from_unixtime(ts, '%Y%m%d'), `city`\n"),
        "{create}"
    );
    let again = create.replace("CREATE TABLE `orders_city`", "CREATE TABLE `again`");
    run(&mut c, &[&again, "INSERT INTO again SELECT * FROM orders"]).await;
    assert_eq!(
        partition_names(&mut c, "again").await,
        partition_names(&mut c, "orders_city").await
    );
    run(
        &mut c,
        &[
            "CREATE TABLE copy LIKE orders_new",
            "INSERT INTO copy VALUES ('20240601', 9, 'z')",
        ],
    )
    .await;
    // The copy has the rule (and the source's partitions, empty).
    assert_eq!(
        partition_names(&mut c, "copy").await,
        ["p20240506", "p20240507", "p20240601"]
    );
    assert_eq!(value(&mut c, "SELECT count(*) FROM copy").await, "1");
}

/// StarRocks' own `test_multi_expr` cases: keyed tables partitioned by expressions of their
/// keys, several expressions at once, and the refusals.
#[tokio::test]
async fn starrocks_multi_expression_cases() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "create table t1(k1 int, k2 bigint, v int) PRIMARY KEY(k1, k2)
             partition by from_unixtime(k2, '%Y-%m-%d'),k1",
            "insert into t1 values(1,UNIX_TIMESTAMP('2020-01-01 01:01:01'),1)",
            "insert into t1 values(2,UNIX_TIMESTAMP('2020-01-01 01:01:01'),1)",
            "insert into t1 values(2,UNIX_TIMESTAMP('2020-01-01 01:01:01'),2)",
            "insert into t1 values(1,UNIX_TIMESTAMP('2007-11-30 10:30:19'),1)",
            "insert into t1 values(1,UNIX_TIMESTAMP('2007-11-30 10:30:19'),2)",
        ],
    )
    .await;
    // Rows of one key replace each other (the key decides the partition).
    assert_eq!(
        joined_rows(
            &mut c,
            "select k1, from_unixtime(k2), v from t1 order by k1, k2"
        )
        .await,
        [
            "1,2007-11-30 10:30:19,2",
            "1,2020-01-01 01:01:01,1",
            "2,2020-01-01 01:01:01,2"
        ]
    );
    assert_eq!(
        partition_names(&mut c, "t1").await,
        ["p20071130_1", "p20200101_1", "p20200101_2"]
    );
    // StarRocks' default properties, ordered by name, as SHOW CREATE TABLE lists them.
    let create = rows(&mut c, "SHOW CREATE TABLE t1").await[0][1].clone();
    assert!(
        create.ends_with(
            "PROPERTIES (\n\"compression\" = \"ZSTD\",\n\"enable_persistent_index\" = \"true\",\n\
             \"fast_schema_evolution\" = \"false\",\n\"replicated_storage\" = \"true\",\n\
             \"replication_num\" = \"1\"\n);"
        ),
        "{create}"
    );
    assert_eq!(
        joined_rows(
            &mut c,
            "select k1, v from t1 where k2 = UNIX_TIMESTAMP('2007-11-30 10:30:19')"
        )
        .await,
        ["1,2"]
    );
    run(
        &mut c,
        &[
            "update t1 set v = 9 where k1 = 2",
            "delete from t1 where v = 2",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "select k1, v from t1 order by k1, k2").await,
        ["1,1", "2,9"]
    );

    run(
        &mut c,
        &[
            "CREATE TABLE multi_level_expr_par_tbl (
                `k1` date, `k2` datetime, `k3` char(20), `k4` varchar(20), `k5` boolean,
                `k6` tinyint, `k7` smallint, `k8` int, `k9` bigint, `k10` largeint,
                `k11` float, `k12` double, `k13` decimal(27,9)
            )
            DUPLICATE KEY(`k1`, `k2`, `k3`, `k4`, `k5`)
            COMMENT \"OLAP\"
            PARTITION BY mod(k6, 5), k3, date_trunc(\"month\", k1)
            DISTRIBUTED BY HASH(`k1`, `k2`, `k3`) BUCKETS 3
            PROPERTIES (\"replication_num\" = \"3\")",
            "insert into multi_level_expr_par_tbl(k1,k2,k3) values('2020-01-01','2020-01-01', \"123\")",
            "insert into multi_level_expr_par_tbl select * from multi_level_expr_par_tbl",
            "insert into multi_level_expr_par_tbl(k1,k3,k6) values('2020-03-15', 'a', 7)",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "select k1, k2, k3, k6 from multi_level_expr_par_tbl order by k1"
        )
        .await,
        [
            "2020-01-01,2020-01-01 00:00:00,123,NULL",
            "2020-01-01,2020-01-01 00:00:00,123,NULL",
            "2020-03-15,NULL,a,7"
        ]
    );
    // A DATE truncated to its month is a DATE, as in StarRocks.
    assert_eq!(
        partition_names(&mut c, "multi_level_expr_par_tbl").await,
        ["p2_a_20200301", "pNULL_123_20200101"]
    );
    let create = rows(&mut c, "SHOW CREATE TABLE multi_level_expr_par_tbl").await[0][1].clone();
    assert!(
        create.contains("PARTITION BY mod(k6, 5), `k3`, date_trunc('month', k1)\n"),
        "{create}"
    );

    for (sql, code, text) in [
        (
            "create table t(k1 int, k2 bigint, v int) PRIMARY KEY(k1)
             partition by from_unixtime(k2, '%Y-%m-%d')",
            5064,
            "Getting analyzing error. Detail message: The partition expr should base on key \
             column.",
        ),
        (
            "create table t(k1 int, k2 bigint, __generated_partition_column_0 int)",
            5064,
            "Column name [__generated_partition_column_0] starts with \
             __generated_partition_column_ is a system reserved name. Please choose a \
             different one..",
        ),
        (
            "create table t(k1 int, k2 bigint) partition by from_unixtime(k9)",
            1054,
            "Unknown column 'k9'",
        ),
    ] {
        let (got, message) = error(&mut c, sql).await;
        assert_eq!(got, code, "{sql}: {message}");
        assert!(message.contains(text), "{sql}: {message}");
    }
    // A column a partition expression reads keeps its name and type.
    run(
        &mut c,
        &["CREATE TABLE logs (ts BIGINT, msg STRING) PARTITION BY from_unixtime(ts, '%Y')"],
    )
    .await;
    for sql in [
        "ALTER TABLE logs DROP COLUMN ts",
        "ALTER TABLE logs RENAME COLUMN ts TO t2",
        "ALTER TABLE logs MODIFY COLUMN ts STRING",
    ] {
        let (_, message) = error(&mut c, sql).await;
        assert!(message.contains("ts"), "{sql}: {message}");
    }
}

/// `RANGE(str2date(...))`: range partitions over a date computed from text, made in
/// advance (batch partitions) and routed to by that date.
#[tokio::test]
async fn range_partitions_over_str2date() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE r (dt VARCHAR(20), v INT)
             PARTITION BY RANGE(str2date(dt, '%Y-%m-%d'))
             (START ('2024-01-01') END ('2024-01-04') EVERY (INTERVAL 1 DAY))",
            "INSERT INTO r VALUES ('2024-01-02', 1), ('2024-01-03', 2), ('2024-01-03', 3)",
        ],
    )
    .await;
    assert_eq!(
        partitions(&mut c, "r").await[1],
        (
            "p20240102".to_string(),
            "[types: [DATE]; keys: [2024-01-02]; ..types: [DATE]; keys: [2024-01-03]; )"
                .to_string()
        )
    );
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT PARTITION_NAME, ROW_COUNT FROM information_schema.partitions_meta
             WHERE TABLE_NAME = 'r' ORDER BY 1"
        )
        .await,
        ["p20240101,0", "p20240102,1", "p20240103,2"]
    );
    // A date no partition holds fails the whole load.
    let (code, message) = error(
        &mut c,
        "INSERT INTO r VALUES ('2024-01-02', 4), ('2024-02-01', 5)",
    )
    .await;
    assert_eq!(code, 1526, "{message}");
    assert_eq!(value(&mut c, "SELECT count(*) FROM r").await, "3");
    let create = rows(&mut c, "SHOW CREATE TABLE r").await[0][1].clone();
    assert!(
        create.contains("PARTITION BY RANGE(str2date(dt, '%Y-%m-%d'))\n"),
        "{create}"
    );
}

/// A table partitioned by computed keys backs up and restores as it was, and the restored
/// table keeps routing new rows by the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computed_keys_travel_in_snapshots() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let repo = tempfile::tempdir().unwrap();
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE ev (ts BIGINT, city STRING, v INT)
             PARTITION BY from_unixtime(ts, '%Y%m%d'), city",
            "INSERT INTO ev VALUES (1727224687, 'a', 1), (1727311087, 'b', 2), (NULL, 'a', 3)",
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.s TO r ON (ev)",
        ],
    )
    .await;
    let job = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&job, "State"), "FINISHED", "{job:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "r", "s", "d2").await;
    let names = partition_names(&mut c, "d.ev").await;
    assert_eq!(names, ["p20240925_a", "p20240926_b", "pNULL_a"]);
    assert_eq!(partition_names(&mut c, "d2.ev").await, names);
    assert_eq!(
        rows(&mut c, "SHOW CREATE TABLE d2.ev").await[0][1],
        rows(&mut c, "SHOW CREATE TABLE d.ev").await[0][1]
    );
    run(
        &mut c,
        &["INSERT INTO d2.ev VALUES (1727224687, 'c', 4), (1727224690, 'a', 5)"],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "d2.ev").await,
        ["p20240925_a", "p20240925_c", "p20240926_b", "pNULL_a"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM d2.ev WHERE city = 'a' ORDER BY v").await,
        ["1", "3", "5"]
    );
}

/// A NULL time sorts first: it goes to the period of 0000-01-01, where IS NULL finds it.
#[tokio::test]
async fn null_times_go_to_the_first_period() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE n (dt DATETIME, v INT) PARTITION BY date_trunc('day', dt)",
            "INSERT INTO n VALUES ('2024-01-01 10:00:00', 1), (NULL, 2)",
            "INSERT INTO n VALUES (NULL, 3), ('0000-01-01 05:00:00', 4)",
            "CREATE TABLE m (dt DATE, v INT) PARTITION BY date_trunc('month', dt)",
            "INSERT INTO m VALUES (NULL, 1), ('2024-05-06', 2)",
        ],
    )
    .await;
    assert_eq!(
        partitions(&mut c, "n").await,
        [
            (
                "p00000101".to_string(),
                "[types: [DATETIME]; keys: [0000-01-01 00:00:00]; ..types: [DATETIME]; keys: \
                 [0000-01-02 00:00:00]; )"
                    .to_string()
            ),
            (
                "p20240101".to_string(),
                "[types: [DATETIME]; keys: [2024-01-01 00:00:00]; ..types: [DATETIME]; keys: \
                 [2024-01-02 00:00:00]; )"
                    .to_string()
            ),
        ]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM n WHERE dt IS NULL ORDER BY v").await,
        ["2", "3"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM n WHERE dt < '2024-01-01' ORDER BY v").await,
        ["4"]
    );
    assert_eq!(partition_names(&mut c, "m").await, ["p000001", "p202405"]);
    assert_eq!(value(&mut c, "SELECT v FROM m WHERE dt IS NULL").await, "1");
}

/// `INSERT OVERWRITE t PARTITION (c = v, ...)`, StarRocks' documentation examples: the
/// partition holding those values is overwritten, made first if it does not exist yet.
#[tokio::test]
async fn insert_overwrite_names_a_partition_by_its_values() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t_recharge_detail1 (
                id bigint, user_id bigint, recharge_money decimal(32,2),
                city varchar(20) not null, dt varchar(20) not null
            )
            DUPLICATE KEY(id)
            PARTITION BY dt,city
            DISTRIBUTED BY HASH(`id`)",
            "CREATE TABLE t_recharge_detail2 LIKE t_recharge_detail1",
            "INSERT INTO t_recharge_detail1 VALUES (1, 1, 1, 'Houston', '2022-04-01'),
                (2, 2, 2, 'texas', '2022-04-02')",
            "INSERT INTO t_recharge_detail2 VALUES (3, 3, 3, 'texas', '2022-04-02'),
                (4, 4, 4, 'texas', '2022-04-02'), (5, 5, 5, 'Houston', '2022-04-01')",
            "INSERT OVERWRITE t_recharge_detail1 PARTITION(dt='2022-04-02',city='texas')
                SELECT * FROM t_recharge_detail2 PARTITION(p20220402_texas)",
            "CREATE TABLE site_access1 (event_day DATETIME NOT NULL, site_id INT, pv BIGINT)
             PARTITION BY date_trunc('day', event_day)",
            "CREATE TABLE site_access2 LIKE site_access1",
            "INSERT INTO site_access1 VALUES ('2022-06-01 10:00:00', 1, 1)",
            "INSERT INTO site_access2 VALUES ('2022-06-08 08:00:00', 2, 2),
                ('2022-06-08 09:00:00', 3, 3), ('2022-06-09 09:00:00', 4, 4)",
            // The partition does not exist yet: it is made.
            "INSERT OVERWRITE site_access1 PARTITION(event_day='2022-06-08 20:12:04')
                SELECT * FROM site_access2 PARTITION(p20220608)",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT id, city FROM t_recharge_detail1 ORDER BY id"
        )
        .await,
        ["1,Houston", "3,texas", "4,texas"]
    );
    assert_eq!(
        partition_names(&mut c, "site_access1").await,
        ["p20220601", "p20220608"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT site_id FROM site_access1 ORDER BY site_id").await,
        ["1", "2", "3"]
    );
    // Rows of another partition do not go in; the table is unchanged.
    let (code, _) = error(
        &mut c,
        "INSERT OVERWRITE site_access1 PARTITION(event_day='2022-06-08')
         SELECT * FROM site_access2",
    )
    .await;
    assert_eq!(code, 1526);
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM site_access1").await,
        "3"
    );
    let (code, _) = error(
        &mut c,
        "INSERT OVERWRITE site_access1 PARTITION(nope='2022-06-08') SELECT * FROM site_access2",
    )
    .await;
    assert_eq!(code, 1054);
}

//! StarRocks' expression partitioning as its documentation writes it: `PARTITION BY
//! date_trunc('day', c)`, `time_slice(c, INTERVAL n unit)` and `PARTITION BY (c1, c2)` tables
//! get their partitions as rows arrive, named and bounded as StarRocks names them; queries
//! read only the partitions they need; the rule survives a restart and a backup; StarRocks'
//! refusals for what it does not support.

use mysql_async::prelude::Queryable;
use snaprock_tests::partition_ranges as partitions;
use snaprock_tests::{TestServer, column, joined_rows, partition_names, rows, run, value};

#[tokio::test]
async fn date_trunc_tables_make_a_partition_per_period_as_rows_arrive() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // StarRocks' documentation example.
            "CREATE TABLE site_access1 (
                event_day DATETIME NOT NULL,
                site_id INT DEFAULT '10',
                city_code VARCHAR(100),
                user_name VARCHAR(32) DEFAULT '',
                pv BIGINT DEFAULT '0'
            )
            DUPLICATE KEY(event_day, site_id, city_code, user_name)
            PARTITION BY date_trunc('day', event_day)
            DISTRIBUTED BY HASH(event_day, site_id)",
        ],
    )
    .await;
    assert!(partition_names(&mut c, "site_access1").await.is_empty());
    run(
        &mut c,
        &["INSERT INTO site_access1 (event_day, site_id, pv) VALUES \
           ('2023-02-26 20:12:04', 2, 1), ('2023-02-26 23:00:00', 3, 2), \
           ('2023-02-28 01:00:00', 4, 3)"],
    )
    .await;
    assert_eq!(
        partitions(&mut c, "site_access1").await,
        [
            (
                "p20230226".to_string(),
                "[types: [DATETIME]; keys: [2023-02-26 00:00:00]; ..types: [DATETIME]; keys: [2023-02-27 00:00:00]; )"
                    .to_string()
            ),
            (
                "p20230228".to_string(),
                "[types: [DATETIME]; keys: [2023-02-28 00:00:00]; ..types: [DATETIME]; keys: [2023-03-01 00:00:00]; )"
                    .to_string()
            ),
        ]
    );
    // Later rows land in the partitions there are and make the ones that are missing.
    run(
        &mut c,
        &["INSERT INTO site_access1 (event_day, site_id, pv) VALUES \
           ('2023-02-26 08:00:00', 5, 4), ('2023-02-27 12:00:00', 6, 5)"],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "site_access1").await,
        ["p20230226", "p20230227", "p20230228"]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT sum(pv) FROM site_access1 PARTITION (p20230226)"
        )
        .await,
        "7"
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM site_access1 WHERE event_day >= '2023-02-27'"
        )
        .await,
        "2"
    );
    let create = rows(&mut c, "SHOW CREATE TABLE site_access1").await[0][1].clone();
    assert!(
        create.contains("PARTITION BY date_trunc('day', `event_day`)"),
        "{create}"
    );
    assert!(!create.contains("p20230226"), "{create}");
    // The statement SHOW CREATE TABLE gives makes the same kind of table.
    run(
        &mut c,
        &[&create.replace("`site_access1`", "`site_access2`")],
    )
    .await;
    run(
        &mut c,
        &["INSERT INTO site_access2 (event_day) VALUES ('2024-05-01 10:00:00')"],
    )
    .await;
    assert_eq!(partition_names(&mut c, "site_access2").await, ["p20240501"]);
}

#[tokio::test]
async fn month_year_and_time_slice_periods() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE by_month (dt DATE, v INT) PARTITION BY date_trunc('month', dt)",
            "INSERT INTO by_month VALUES ('2024-01-31', 1), ('2024-02-01', 2), ('2023-12-25', 3)",
            "CREATE TABLE by_year (dt DATETIME, v INT) PARTITION BY date_trunc('year', dt)",
            "INSERT INTO by_year VALUES ('2024-06-01 00:00:00', 1), ('2025-01-01 00:00:00', 2)",
            "CREATE TABLE by_week (ts DATETIME, v INT) \
             PARTITION BY time_slice(ts, INTERVAL 7 day) DISTRIBUTED BY HASH(v)",
            "INSERT INTO by_week VALUES ('2024-03-15 10:00:00', 1), ('2024-03-16 10:00:00', 2)",
        ],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "by_month").await,
        ["p202312", "p202401", "p202402"]
    );
    assert_eq!(partition_names(&mut c, "by_year").await, ["p2024", "p2025"]);
    let weeks = partitions(&mut c, "by_week").await;
    assert_eq!(weeks.len(), 1, "{weeks:?}");
    assert_eq!(value(&mut c, "SELECT sum(v) FROM by_week").await, "3");
    let create = rows(&mut c, "SHOW CREATE TABLE by_week").await[0][1].clone();
    assert!(
        create.contains("PARTITION BY time_slice(`ts`, INTERVAL 7 day)"),
        "{create}"
    );
}

#[tokio::test]
async fn column_expression_tables_make_a_partition_per_value_tuple() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // StarRocks' documentation example.
            "CREATE TABLE t_recharge_detail1 (
                id bigint,
                user_id bigint,
                recharge_money decimal(32,2),
                city varchar(20) not null,
                dt varchar(20) not null
            )
            DUPLICATE KEY(id)
            PARTITION BY (dt, city)
            DISTRIBUTED BY HASH(`id`)",
            "INSERT INTO t_recharge_detail1 VALUES \
             (1, 1, 10.00, 'Houston', '2022-04-01'), (2, 2, 20.00, 'Los Angeles', '2022-04-01'), \
             (3, 3, 30.00, 'Houston', '2022-04-01'), (4, 4, 40.00, 'Houston', '2022-04-02')",
            "CREATE TABLE by_city (city varchar(20), v int) PARTITION BY city",
            "INSERT INTO by_city VALUES ('杭州', 1), ('-11', 2), ('paris', 3)",
        ],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "t_recharge_detail1").await,
        [
            "p20220401_Houston",
            "p20220401_LosAngeles",
            "p20220402_Houston"
        ]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT sum(recharge_money) FROM t_recharge_detail1 PARTITION (p20220401_Houston)"
        )
        .await,
        "40.00"
    );
    let mut names = partition_names(&mut c, "by_city").await;
    names.sort();
    assert_eq!(names, ["p676d5dde", "p_11", "pparis"]);
    let create = rows(&mut c, "SHOW CREATE TABLE t_recharge_detail1").await[0][1].clone();
    assert!(create.contains("PARTITION BY (`dt`, `city`)"), "{create}");

    // "The partition column allows NULL values": NULL is a value with a partition of its own,
    // which IS NULL reads and a comparison prunes away.
    run(
        &mut c,
        &[
            "CREATE TABLE by_pair (province varchar(20), dt date, v int) PARTITION BY (province, dt)",
            "INSERT INTO by_pair VALUES (NULL, '2024-01-01', 1), ('x', NULL, 2), \
             (NULL, '2024-01-01', 3), ('x', '2024-01-02', 4)",
        ],
    )
    .await;
    let mut names = partition_names(&mut c, "by_pair").await;
    names.sort();
    assert_eq!(names, ["pNULL_20240101", "px_20240102", "px_NULL"]);
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT v FROM by_pair WHERE province IS NULL ORDER BY v"
        )
        .await,
        ["1", "3"]
    );
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM by_pair WHERE dt IS NULL").await,
        ["2"]
    );
    let lists = joined_rows(
        &mut c,
        "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.partitions \
         WHERE TABLE_NAME = 'by_pair' ORDER BY 1",
    )
    .await;
    assert_eq!(
        lists,
        [
            "pNULL_20240101,NULL,2024-01-01",
            "px_20240102,x,2024-01-02",
            "px_NULL,x,NULL"
        ]
    );
    // Backed up and restored with its NULL partitions as they were.
    let repo = tempfile::tempdir().unwrap();
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.s TO r ON (by_pair)",
        ],
    )
    .await;
    let job = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&job, "State"), "FINISHED", "{job:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "r", "s", "d2").await;
    let mut restored = partition_names(&mut c, "d2.by_pair").await;
    restored.sort();
    assert_eq!(restored, names);
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT v FROM d2.by_pair WHERE province IS NULL ORDER BY v"
        )
        .await,
        ["1", "3"]
    );
    run(
        &mut c,
        &["ALTER TABLE by_pair DROP PARTITIONS WHERE province IS NULL"],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM by_pair ORDER BY v").await,
        ["2", "4"]
    );
}

#[tokio::test]
async fn unsupported_partition_expressions_are_refused_as_starrocks_refuses_them() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    for (sql, detail) in [
        (
            "CREATE TABLE t (dt DATE) PARTITION BY date_trunc('week', dt)",
            "Unsupported expr 'date_trunc('week', dt)' in PARTITION BY clause",
        ),
        (
            "CREATE TABLE t (dt DATE) PARTITION BY date_trunc('hour', dt)",
            "Unsupported expr 'date_trunc('hour', dt)' in PARTITION BY clause. \
             The hour/minute parameter only supports datetime type",
        ),
        (
            "CREATE TABLE t (k INT) PARTITION BY date_trunc('day', k)",
            "Unsupported expr 'date_trunc('day', k)' in PARTITION BY clause",
        ),
        (
            "CREATE TABLE t (dt DATETIME) PARTITION BY time_slice(dt, INTERVAL 1 day, 'ceil')",
            "Automatic partitioning does not support the ceil parameter",
        ),
        (
            "CREATE TABLE t (x DOUBLE) PARTITION BY abs(x)",
            "Unsupported expr 'abs(x)' in PARTITION BY clause: a partition key cannot be of \
             type DOUBLE",
        ),
    ] {
        let err = c.query_drop(sql).await.unwrap_err();
        let mysql_async::Error::Server(e) = err else {
            panic!("{sql}: {err:?}")
        };
        assert!([1064, 5064].contains(&e.code), "{sql}: {}", e.message);
        assert!(e.message.contains(detail), "{sql}: {}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partitioning_rule_survives_a_restart_and_a_restore() {
    let dir = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.events (dt DATE, v INT) PARTITION BY date_trunc('day', dt)",
            "INSERT INTO d.events VALUES ('2024-01-01', 1), ('2024-01-02', 2)",
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.snap TO repo",
        ],
    )
    .await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    drop(c);
    server.stop().await;

    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(&mut c, &["INSERT INTO d.events VALUES ('2024-01-03', 3)"]).await;
    assert_eq!(
        partition_names(&mut c, "d.events").await,
        ["p20240101", "p20240102", "p20240103"]
    );
    snaprock_tests::restore_snapshot_into(&mut c, "repo", "snap", "d2").await;
    run(&mut c, &["INSERT INTO d2.events VALUES ('2024-02-01', 4)"]).await;
    assert_eq!(
        partition_names(&mut c, "d2.events").await,
        ["p20240101", "p20240102", "p20240201"]
    );
    assert_eq!(value(&mut c, "SELECT sum(v) FROM d2.events").await, "7");
}

/// `scan_olap_partition_num_limit`, as StarRocks' own test exercises it: 0 and -1 read any
/// number of partitions; a limit below what a query needs refuses it with StarRocks' text.
#[tokio::test]
async fn a_query_over_more_partitions_than_allowed_is_refused() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (ds DATE, v INT) PARTITION BY date_trunc('day', ds)",
            "INSERT INTO t VALUES ('2024-09-22', 1), ('2024-09-23', 2), ('2024-09-24', 3), \
             ('2024-09-25', 4), ('2024-09-26', 5), ('2024-09-20', 6)",
        ],
    )
    .await;
    let query = "SELECT count(*) FROM t WHERE ds >= '2024-09-22'";
    assert_eq!(value(&mut c, query).await, "5");
    run(&mut c, &["SET scan_olap_partition_num_limit = -1"]).await;
    assert_eq!(value(&mut c, query).await, "5");
    run(&mut c, &["SET scan_olap_partition_num_limit = 3"]).await;
    snaprock_tests::expect_error(
        &mut c,
        query,
        1064,
        "Exceeded the limit of number of olap table partitions to be scanned. Number of partitions \
         allowed: 3, number of partitions to be scanned: 5. Please adjust the SQL or change the \
         limit by set variable scan_olap_partition_num_limit.",
    )
    .await;
    // Pruned to few enough partitions, the query runs.
    assert_eq!(
        value(&mut c, "SELECT sum(v) FROM t WHERE ds >= '2024-09-25'").await,
        "9"
    );
}

/// The SET_VAR and SET_USER_VARIABLE hints set variables for their statement only (StarRocks'
/// query-hint documentation): the limit above as a hint, and user variables computed by
/// subqueries; the session's own values are back afterwards, bad hints are refused clearly.
#[tokio::test]
async fn hints_set_variables_for_one_statement() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (ds DATE, v INT) PARTITION BY date_trunc('day', ds)",
            "INSERT INTO t VALUES ('2024-09-22', 1), ('2024-09-23', 2), ('2024-09-24', 3)",
            "SET @a = 100",
        ],
    )
    .await;
    snaprock_tests::expect_error(
        &mut c,
        "SELECT /*+ SET_VAR(scan_olap_partition_num_limit = 2) */ count(*) FROM t",
        1064,
        "Exceeded the limit of number of olap table partitions to be scanned. Number of partitions \
         allowed: 2, number of partitions to be scanned: 3. Please adjust the SQL or change the \
         limit by set variable scan_olap_partition_num_limit.",
    )
    .await;
    assert_eq!(value(&mut c, "SELECT count(*) FROM t").await, "3");
    assert_eq!(
        value(&mut c, "SELECT @@scan_olap_partition_num_limit").await,
        "0"
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT /*+ SET_USER_VARIABLE(@a = (SELECT max(v) FROM t), @b = 'x') */ @a, @b, ds \
             FROM t WHERE v = @a"
        )
        .await,
        vec![vec!["3", "x", "2024-09-24"]]
    );
    assert_eq!(
        rows(&mut c, "SELECT @a, @b").await,
        vec![vec!["100", "NULL"]]
    );
    // INSERT ... SELECT takes hints too.
    run(
        &mut c,
        &["INSERT INTO t SELECT /*+ SET_USER_VARIABLE(@n = 40) */ '2024-09-25', @n"],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT sum(v) FROM t").await, "46");
    snaprock_tests::expect_error(
        &mut c,
        "SELECT /*+ SET_VAR(no_such_variable = 1) */ 1",
        1193,
        "Unknown system variable 'no_such_variable'",
    )
    .await;
    let (code, _) = snaprock_tests::server_error(
        mysql_async::prelude::Queryable::query_drop(
            &mut c,
            "SELECT /*+ SET_USER_VARIABLE(a = 1) */ 1",
        )
        .await,
    );
    assert_eq!(code, 1064);
    assert_eq!(value(&mut c, "SELECT @a").await, "100");
}

/// `ALTER TABLE t DROP PARTITIONS WHERE ...` as StarRocks' own tests run it: a condition on a
/// non-partition column is refused with StarRocks' text; range partitions go when the whole
/// range meets the condition, list partitions when their value does; dropped partitions are in
/// the recycle bin; date expressions (`str2date`, `last_day`, `'...' - INTERVAL n MONTH`) work.
#[tokio::test]
async fn partitions_are_dropped_by_a_condition_on_their_values() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t1 (dt date, province string, v1 int) PARTITION BY RANGE(dt) (\
             PARTITION p0 values [('2020-07-01'),('2020-07-02')), \
             PARTITION p1 values [('2020-07-02'),('2020-07-03')), \
             PARTITION p2 values [('2020-07-03'),('2020-07-04')), \
             PARTITION p3 values [('2020-07-04'),('2020-07-05')), \
             PARTITION p4 values [('2020-07-05'),('2020-07-15'))) \
             DISTRIBUTED BY HASH(dt) BUCKETS 3",
            "INSERT INTO t1 VALUES ('2020-07-01', 'beijing', 1), ('2020-07-01', 'chengdu', 2), \
             ('2020-07-02', 'beijing', 3), ('2020-07-02', 'hangzhou', 4), \
             ('2020-07-03', 'chengdu', 1), ('2020-07-04', 'hangzhou', 1), ('2020-07-12', 'x', 9)",
        ],
    )
    .await;
    snaprock_tests::expect_error(
        &mut c,
        "ALTER TABLE t1 DROP PARTITIONS WHERE province like '%a%'",
        5064,
        "Getting analyzing error. Detail message: Column `province` in the partition condition is \
         not a table's partition expression, please use table's partition expressions: dt.",
    )
    .await;
    run(
        &mut c,
        &["ALTER TABLE t1 DROP PARTITIONS WHERE str2date(dt, '%Y-%m-%d') = '2020-07-07'"],
    )
    .await;
    assert_eq!(
        partition_names(&mut c, "t1").await,
        ["p0", "p1", "p2", "p3", "p4"]
    );
    // p4 spans 07-05..07-14: a condition met by part of it keeps it (and its row).
    run(
        &mut c,
        &["ALTER TABLE t1 DROP PARTITIONS WHERE dt >= '2020-07-03' AND dt < '2020-07-10'"],
    )
    .await;
    assert_eq!(partition_names(&mut c, "t1").await, ["p0", "p1", "p4"]);
    assert_eq!(value(&mut c, "SELECT sum(v1) FROM t1").await, "19");
    run(&mut c, &["RECOVER PARTITION p2 FROM t1"]).await;
    assert_eq!(value(&mut c, "SELECT sum(v1) FROM t1").await, "20");

    // An expression-partitioned table: keep three months, then only month ends.
    run(
        &mut c,
        &[
            "CREATE TABLE ttl (dt datetime, province string, num int) DUPLICATE KEY(dt, province) \
             PARTITION BY date_trunc('day', dt)",
            "INSERT INTO ttl (dt, province, num) SELECT minutes_add(hours_add(date_add('2025-01-01', x), \
             x%24), x%60), concat('x-', x%3), x FROM TABLE(generate_series(0, 200-1)) as t(x)",
            "ALTER TABLE ttl DROP PARTITIONS WHERE date_trunc('day', dt) < '2025-05-30' - INTERVAL 3 MONTH",
        ],
    )
    .await;
    assert_eq!(partition_names(&mut c, "ttl").await.len(), 142);
    assert_eq!(
        value(&mut c, "SELECT min(date(dt)) FROM ttl").await,
        "2025-02-28"
    );
    run(
        &mut c,
        &["ALTER TABLE ttl DROP PARTITIONS WHERE last_day(date_trunc('day', dt)) != date_trunc('day', dt)"],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT DISTINCT date(dt) FROM ttl ORDER BY 1")
            .await
            .concat(),
        [
            "2025-02-28",
            "2025-03-31",
            "2025-04-30",
            "2025-05-31",
            "2025-06-30"
        ]
    );

    // List partitions: by their values.
    run(
        &mut c,
        &[
            "CREATE TABLE lp (id INT, city VARCHAR(10)) PARTITION BY (city)",
            "INSERT INTO lp VALUES (1, 'rome'), (2, 'oslo'), (3, 'bern')",
            "ALTER TABLE lp DROP PARTITIONS WHERE city IN ('rome', 'bern')",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT * FROM lp").await,
        vec![vec!["2", "oslo"]]
    );
}

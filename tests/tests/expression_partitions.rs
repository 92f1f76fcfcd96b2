//! StarRocks' expression partitioning as its documentation writes it: `PARTITION BY
//! date_trunc('day', c)`, `time_slice(c, INTERVAL n unit)` and `PARTITION BY (c1, c2)` tables
//! get their partitions as rows arrive, named and bounded as StarRocks names them; queries
//! read only the partitions they need; the rule survives a restart and a backup; StarRocks'
//! refusals for what it does not support.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, column, rows, run, value};

async fn partitions(c: &mut mysql_async::Conn, table: &str) -> Vec<(String, String)> {
    rows(c, &format!("SHOW PARTITIONS FROM {table}"))
        .await
        .into_iter()
        .map(|r| (r[1].clone(), r[7].clone()))
        .collect()
}

async fn partition_names(c: &mut mysql_async::Conn, table: &str) -> Vec<String> {
    partitions(c, table)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

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
            "CREATE TABLE t (dt DATETIME) PARTITION BY upper(dt)",
            "Unsupported expr 'upper(dt)' in PARTITION BY clause",
        ),
    ] {
        let err = c.query_drop(sql).await.unwrap_err();
        let mysql_async::Error::Server(e) = err else {
            panic!("{sql}: {err:?}")
        };
        assert_eq!(e.code, 1064, "{sql}: {}", e.message);
        assert!(e.message.contains(detail), "{sql}: {}", e.message);
    }
    // A NULL has no period: the load fails whole and leaves nothing.
    run(
        &mut c,
        &["CREATE TABLE n (dt DATETIME, v INT) PARTITION BY date_trunc('day', dt)"],
    )
    .await;
    assert!(
        c.query_drop("INSERT INTO n VALUES ('2024-01-01 00:00:00', 1), (NULL, 2)")
            .await
            .is_err()
    );
    assert_eq!(value(&mut c, "SELECT count(*) FROM n").await, "0");
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

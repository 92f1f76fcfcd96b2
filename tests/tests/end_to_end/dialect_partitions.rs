//! StarRocks' batch partitions (`START .. END .. EVERY ..`) in CREATE TABLE and ALTER TABLE ADD
//! PARTITIONS, as its documentation writes them: partition names and bounds as StarRocks makes
//! them, rows landing in them, reading named partitions (`FROM t PARTITION (p)`), and
//! StarRocks' errors for what it refuses.

use snaprock_tests::{TestServer, expect_error, rows, run, value};

async fn partitions(c: &mut mysql_async::Conn, table: &str) -> Vec<(String, String)> {
    rows(c, &format!("SHOW PARTITIONS FROM {table}"))
        .await
        .into_iter()
        .map(|r| (r[1].clone(), r[16].clone()))
        .collect()
}

#[tokio::test]
async fn batch_partitions_by_day_month_and_number() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // StarRocks' documentation example.
            "CREATE TABLE site_access (
                datekey DATE,
                site_id INT,
                city_code SMALLINT,
                user_name VARCHAR(32),
                pv BIGINT DEFAULT '0'
            )
            DUPLICATE KEY(datekey, site_id, city_code, user_name)
            PARTITION BY RANGE (datekey) (
                START (\"2021-01-01\") END (\"2021-01-04\") EVERY (INTERVAL 1 DAY)
            )
            DISTRIBUTED BY HASH(site_id)",
            "ALTER TABLE site_access ADD PARTITIONS START (\"2021-01-04\") END (\"2021-01-06\") EVERY (INTERVAL 1 DAY)",
            "INSERT INTO site_access (datekey, site_id, city_code, user_name) VALUES \
             ('2021-01-01', 1, 1, 'a'), ('2021-01-05', 2, 1, 'b')",
        ],
    )
    .await;
    let names: Vec<String> = partitions(&mut c, "site_access")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        vec![
            "p20210101",
            "p20210102",
            "p20210103",
            "p20210104",
            "p20210105"
        ]
    );
    // Reading named partitions only.
    for (sql, count) in [
        (
            "SELECT count(*) FROM site_access PARTITION (p20210105)",
            "1",
        ),
        (
            "SELECT count(*) FROM d.site_access PARTITION (p20210101, p20210105) s",
            "2",
        ),
        (
            "SELECT count(*) FROM site_access PARTITION (p20210102)",
            "0",
        ),
        ("SELECT count(*) FROM site_access", "2"),
    ] {
        assert_eq!(value(&mut c, sql).await, count, "{sql}");
    }
    expect_error(
        &mut c,
        "SELECT * FROM site_access PARTITION (p20210101, nope)",
        1507,
        "Error in list of partitions to [nope]",
    )
    .await;
    let rows_in: Vec<(String, String)> = partitions(&mut c, "site_access").await;
    assert_eq!(rows_in[0], ("p20210101".to_string(), "1".to_string()));
    assert_eq!(rows_in[4], ("p20210105".to_string(), "1".to_string()));
    assert_eq!(rows_in.len(), 5);
    expect_error(
        &mut c,
        "INSERT INTO site_access (datekey, site_id, city_code, user_name) VALUES ('2021-01-06', 3, 1, 'c')",
        1526,
        "Table has no partition for value 2021-01-06",
    )
    .await;

    // DROP PARTITIONS by names and by the batch that made them; they go to the recycle bin.
    run(
        &mut c,
        &[
            "ALTER TABLE site_access DROP PARTITIONS (p20210102, p20210103)",
            "ALTER TABLE site_access DROP PARTITIONS IF EXISTS START (\"2021-01-04\") END (\"2021-01-06\") EVERY (INTERVAL 1 DAY)",
        ],
    )
    .await;
    let names: Vec<String> = partitions(&mut c, "site_access")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["p20210101"]);
    expect_error(
        &mut c,
        "ALTER TABLE site_access DROP PARTITIONS (p20210101, nope)",
        1735,
        "Unknown partition 'nope' in table 'site_access'",
    )
    .await;
    run(&mut c, &["RECOVER PARTITION p20210105 FROM site_access"]).await;
    assert_eq!(value(&mut c, "SELECT count(*) FROM site_access").await, "2");

    // Months, a mixed list, and numbers.
    run(
        &mut c,
        &[
            "CREATE TABLE monthly (dt DATE, v INT) DUPLICATE KEY(dt) \
             PARTITION BY RANGE (dt) (PARTITION p_old VALUES LESS THAN ('2021-01-01'), \
             START ('2021-01-01') END ('2021-04-01') EVERY (INTERVAL 1 MONTH)) \
             DISTRIBUTED BY HASH(dt) BUCKETS 1",
            "CREATE TABLE numbered (k INT, v INT) DUPLICATE KEY(k) \
             PARTITION BY RANGE (k) (START ('1') END ('25') EVERY (10)) \
             DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO numbered VALUES (1, 1), (11, 2), (30, 3)",
        ],
    )
    .await;
    let names: Vec<String> = partitions(&mut c, "monthly")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["p_old", "p202101", "p202102", "p202103"]);
    // 30 lands in p21 = [21, 31): the last partition runs past END, as in StarRocks.
    assert_eq!(
        partitions(&mut c, "numbered").await,
        vec![
            ("p1".to_string(), "1".to_string()),
            ("p11".to_string(), "1".to_string()),
            ("p21".to_string(), "1".to_string()),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn batch_partitions_refuse_what_starrocks_refuses() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    let create = |bounds: &str, column: &str| {
        format!(
            "CREATE TABLE t (k {column}, v INT) DUPLICATE KEY(k) PARTITION BY RANGE (k) ({bounds}) \
             DISTRIBUTED BY HASH(k) BUCKETS 1"
        )
    };
    let cases = [
        (
            create(
                "START ('2021-01-05') END ('2021-01-01') EVERY (INTERVAL 1 DAY)",
                "DATE",
            ),
            "Batch build partition start date should less than end date",
        ),
        (
            create("START ('2021-01-01') END ('2021-01-05') EVERY (1)", "DATE"),
            "Unknown timeunit for batch build partition",
        ),
        (
            create("START ('1') END ('5') EVERY (INTERVAL 1 DAY)", "INT"),
            "Batch build partition EVERY is date type but START or END does not type match",
        ),
        (
            create("START ('x') END ('5') EVERY (1)", "INT"),
            "Batch build partition EVERY is number type but START or END does not type match",
        ),
        (
            create("START ('0') END ('5000') EVERY (1)", "INT"),
            "The number of batch partitions should not exceed:4096",
        ),
        (
            create("START ('a') END ('b') EVERY (1)", "VARCHAR(10)"),
            "Unsupported batch partition build type:VARCHAR(10)",
        ),
    ];
    for (sql, message) in cases {
        expect_error(
            &mut c,
            &sql,
            5064,
            &format!("Getting analyzing error. Detail message: {message}."),
        )
        .await;
    }
    assert!(
        rows(&mut c, "SHOW TABLES").await.is_empty(),
        "nothing created"
    );
    server.stop().await;
}

/// `TRUNCATE TABLE t PARTITION (..)` and `ALTER TABLE t TRUNCATE PARTITION ..` empty only the
/// partitions they name, which stay.
#[tokio::test]
async fn partitions_are_truncated_by_name() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (dt DATE, v INT) PARTITION BY RANGE (dt)
             (START ('2021-01-01') END ('2021-01-05') EVERY (INTERVAL 1 DAY))",
            "INSERT INTO t VALUES ('2021-01-01', 1), ('2021-01-02', 2), ('2021-01-03', 3),
                ('2021-01-04', 4)",
            "TRUNCATE TABLE t PARTITION (p20210101)",
            "ALTER TABLE t TRUNCATE PARTITION p20210102",
            "ALTER TABLE t TRUNCATE PARTITIONS p20210103",
        ],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT group_concat(v) FROM t").await, "4");
    assert_eq!(partitions(&mut c, "t").await.len(), 4);
    expect_error(
        &mut c,
        "ALTER TABLE t TRUNCATE PARTITION nope",
        1735,
        "Unknown partition 'nope' in table 't'",
    )
    .await;
}

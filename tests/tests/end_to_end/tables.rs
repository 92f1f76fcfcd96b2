//! Tables end to end: every type and NULL through a partitioned table, key models, partitions,
//! durability across restart, partition pruning, views, CTAS, FILES() loads, and metadata
//! introspection as BI tools and drivers query it.

use mysql_async::prelude::*;
use snaprock_tests::{TestServer, error_code, rows, run, value};

const ALL_TYPES: &str = "CREATE TABLE d.all_types (
    dt DATE NOT NULL,
    id BIGINT NOT NULL,
    b BOOLEAN,
    ti TINYINT,
    si SMALLINT,
    i INT,
    li LARGEINT,
    f FLOAT,
    db DOUBLE,
    dec DECIMAL(12, 3),
    c CHAR(4),
    vc VARCHAR(32),
    s STRING,
    ts DATETIME,
    j JSON
) DUPLICATE KEY(dt, id)
PARTITION BY RANGE(dt) (
    PARTITION p2023 VALUES LESS THAN ('2024-01-01'),
    PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
)
DISTRIBUTED BY HASH(id) BUCKETS 4
PROPERTIES ('replication_num' = '1')";

const ALL_TYPES_ROWS: &str = "INSERT INTO d.all_types VALUES
    ('2023-06-01', 1, true, -5, 300, 70000, 170141183460469231731687303715884105727, 1.5, 2.25, 12345.678, 'ab', 'hello', 'wörld ✓', '2023-06-01 12:34:56', '{\"a\": [1, 2]}'),
    ('2024-02-29', 2, false, 127, -32768, -2147483648, -5, -0.5, 1e100, -0.001, 'abcd', '', 'x', '2024-02-29 00:00:00', 'null'),
    ('2025-12-31', 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";

fn expected_rows() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "2023-06-01",
            "1",
            "1",
            "-5",
            "300",
            "70000",
            "170141183460469231731687303715884105727",
            "1.5",
            "2.25",
            "12345.678",
            "ab",
            "hello",
            "wörld ✓",
            "2023-06-01 12:34:56",
            "{\"a\": [1, 2]}",
        ],
        vec![
            "2024-02-29",
            "2",
            "0",
            "127",
            "-32768",
            "-2147483648",
            "-5",
            "-0.5",
            "1e100",
            "-0.001",
            "abcd",
            "",
            "x",
            "2024-02-29 00:00:00",
            "null",
        ],
        vec![
            "2025-12-31",
            "3",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
        ],
    ]
}

async fn check_all_types(conn: &mut mysql_async::Conn) {
    let got = rows(conn, "SELECT * FROM d.all_types ORDER BY id").await;
    let expected = expected_rows();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        for (i, (gv, ev)) in g.iter().zip(e).enumerate() {
            if i == 8 && *ev == "1e100" {
                // A DOUBLE: equal to within its precision.
                let v = gv.parse::<f64>().unwrap();
                assert!((v - 1e100).abs() / 1e100 < 1e-12, "{v}");
            } else {
                assert_eq!(gv, ev, "column {i} of row {g:?}");
            }
        }
    }
}

#[tokio::test]
async fn every_type_and_null_survive_a_partitioned_round_trip_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut conn = server.conn().await;
    run(&mut conn, &["CREATE DATABASE d", ALL_TYPES, ALL_TYPES_ROWS]).await;
    check_all_types(&mut conn).await;
    let parts = rows(&mut conn, "SHOW PARTITIONS FROM d.all_types").await;
    let counts: Vec<(String, String)> = parts
        .iter()
        .map(|r| (r[1].clone(), r[16].clone()))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("p2023".into(), "1".into()),
            ("p2024".into(), "1".into()),
            ("pmax".into(), "1".into())
        ]
    );
    // Column types as MySQL clients see them.
    let result = conn
        .query_iter("SELECT dt, id, b, dec, vc, ts, j FROM d.all_types LIMIT 1")
        .await
        .unwrap();
    let types: Vec<mysql_async::consts::ColumnType> = result
        .columns_ref()
        .iter()
        .map(|c| c.column_type())
        .collect();
    drop(result);
    use mysql_async::consts::ColumnType::*;
    assert_eq!(
        types,
        vec![
            MYSQL_TYPE_DATE,
            MYSQL_TYPE_LONGLONG,
            MYSQL_TYPE_TINY,
            MYSQL_TYPE_NEWDECIMAL,
            MYSQL_TYPE_VAR_STRING,
            MYSQL_TYPE_DATETIME,
            MYSQL_TYPE_JSON
        ]
    );
    drop(conn);
    server.stop().await;

    let server = TestServer::start_in(dir.path(), "").await;
    let mut conn = server.conn().await;
    check_all_types(&mut conn).await;
    // SHOW CREATE TABLE re-creates the same table.
    let ddl = rows(&mut conn, "SHOW CREATE TABLE d.all_types").await[0][1].clone();
    run(&mut conn, &["CREATE DATABASE e", "USE e", &ddl]).await;
    let again = rows(&mut conn, "SHOW CREATE TABLE e.all_types").await[0][1].clone();
    assert_eq!(ddl, again);
    run(
        &mut conn,
        &["INSERT INTO e.all_types SELECT * FROM d.all_types"],
    )
    .await;
    assert_eq!(
        value(
            &mut conn,
            "SELECT count(*) FROM e.all_types WHERE j IS NOT NULL"
        )
        .await,
        "2"
    );
}

#[tokio::test]
async fn rows_outside_every_partition_fail_the_whole_statement() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING) PARTITION BY RANGE(k) (PARTITION p1 VALUES [('0'), ('10')), PARTITION p2 VALUES [('10'), ('20')))",
            "INSERT INTO d.t VALUES (1, 'a')",
        ],
    )
    .await;
    let (code, message) = snaprock_tests::server_error(
        conn.query_drop("INSERT INTO d.t VALUES (2, 'b'), (25, 'c'), (3, 'd')")
            .await,
    );
    assert_eq!(code, 1526);
    assert_eq!(message, "Table has no partition for value 25");
    assert_eq!(value(&mut conn, "SELECT count(*) FROM d.t").await, "1");
    assert_eq!(
        error_code(
            conn.query_drop("ALTER TABLE d.t ADD PARTITION p3 VALUES [('15'), ('30'))")
                .await
        ),
        1493
    );
    run(
        &mut conn,
        &[
            "ALTER TABLE d.t ADD PARTITION p3 VALUES LESS THAN ('30')",
            "INSERT INTO d.t VALUES (25, 'c')",
        ],
    )
    .await;
    assert_eq!(
        value(&mut conn, "SELECT v FROM d.t WHERE k = 25").await,
        "c"
    );
    assert_eq!(
        error_code(
            conn.query_drop("ALTER TABLE d.t ADD PARTITION p3 VALUES LESS THAN ('40')")
                .await
        ),
        1517
    );
    assert_eq!(
        error_code(conn.query_drop("ALTER TABLE d.t DROP PARTITION nope").await),
        1735
    );
    run(&mut conn, &["ALTER TABLE d.t DROP PARTITION p3"]).await;
    assert_eq!(value(&mut conn, "SELECT count(*) FROM d.t").await, "1");
    assert_eq!(
        error_code(conn.query_drop("TRUNCATE TABLE d.t PARTITION (nope)").await),
        1735
    );
}

#[tokio::test]
async fn where_on_the_partition_column_reads_only_matching_partitions() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (dt DATE, v INT) PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2024-01-01'), PARTITION p2 VALUES LESS THAN ('2025-01-01'))",
            "INSERT INTO d.t VALUES ('2023-05-05', 1), ('2024-05-05', 2)",
        ],
    )
    .await;
    // Remove p1's files from disk behind the server's back: a query that reads only p2 still
    // works, one that needs p1 fails. That proves the pruning.
    let state: serde_json_lite::Value =
        serde_json_lite::read(&server.data_dir.join("catalog.json"));
    let p1_files = serde_json_lite::files_of(&state, "d", "t", "p1");
    assert_eq!(p1_files.len(), 1);
    for f in &p1_files {
        std::fs::remove_file(server.data_dir.join("data").join(f)).unwrap();
    }
    assert_eq!(
        value(&mut conn, "SELECT sum(v) FROM d.t WHERE dt >= '2024-01-01'").await,
        "2"
    );
    assert_eq!(
        value(&mut conn, "SELECT sum(v) FROM d.t WHERE dt = '2024-05-05'").await,
        "2"
    );
    assert_eq!(
        value(
            &mut conn,
            "SELECT sum(v) FROM d.t WHERE dt BETWEEN '2024-02-01' AND '2024-12-31'"
        )
        .await,
        "2"
    );
    assert!(conn.query_drop("SELECT sum(v) FROM d.t").await.is_err());
}

/// Just enough JSON reading to find a partition's files in catalog.json.
mod serde_json_lite {
    pub type Value = String;

    pub fn read(path: &std::path::Path) -> Value {
        std::fs::read_to_string(path).unwrap()
    }

    /// Paths of the files of a partition: the catalog lists them as "path":"t<id>/p<id>/...".
    pub fn files_of(state: &Value, _db: &str, _table: &str, partition: &str) -> Vec<String> {
        let marker = format!("\"name\":\"{partition}\"");
        let start = state.find(&marker).expect("partition in catalog");
        let rest = &state[start..];
        let rest = &rest[rest.find("\"files\":[").expect("files")..];
        let end = rest.find("]").unwrap_or(rest.len());
        rest[..end]
            .split("\"path\":\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    }
}

#[tokio::test]
async fn key_models_overwrite_truncate_delete() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE pk (id INT NOT NULL, v STRING) PRIMARY KEY(id) DISTRIBUTED BY HASH(id)",
            "INSERT INTO pk VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO pk VALUES (2, 'B'), (3, 'c'), (3, 'C')",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut conn, "SELECT id, v FROM pk ORDER BY id").await,
        vec![vec!["1", "a"], vec!["2", "B"], vec!["3", "C"]]
    );
    assert_eq!(
        error_code(
            conn.query_drop("CREATE TABLE bad (a INT, b INT) PRIMARY KEY(b)")
                .await
        ),
        1064
    );
    run(
        &mut conn,
        &[
            "CREATE TABLE dup (k INT, v INT) DUPLICATE KEY(k) PARTITION BY LIST(k) (PARTITION pa VALUES IN ('1', '2'), PARTITION pb VALUES IN ('3'))",
            "INSERT INTO dup VALUES (1, 10), (1, 10), (3, 30)",
        ],
    )
    .await;
    assert_eq!(value(&mut conn, "SELECT count(*) FROM dup").await, "3");
    run(
        &mut conn,
        &["INSERT OVERWRITE dup PARTITION (pb) SELECT 3, 33"],
    )
    .await;
    assert_eq!(
        rows(&mut conn, "SELECT k, v FROM dup ORDER BY k, v").await,
        vec![vec!["1", "10"], vec!["1", "10"], vec!["3", "33"]]
    );
    assert_eq!(
        error_code(
            conn.query_drop("INSERT OVERWRITE dup PARTITION (pb) SELECT 1, 1")
                .await
        ),
        1526
    );
    run(&mut conn, &["INSERT OVERWRITE dup SELECT 2, 20"]).await;
    assert_eq!(
        rows(&mut conn, "SELECT k, v FROM dup").await,
        vec![vec!["2", "20"]]
    );
    let deleted = conn
        .query_iter("DELETE FROM pk WHERE id >= 2")
        .await
        .unwrap()
        .affected_rows();
    assert_eq!(deleted, 2);
    assert_eq!(value(&mut conn, "SELECT count(*) FROM pk").await, "1");
    run(&mut conn, &["TRUNCATE TABLE pk"]).await;
    assert_eq!(value(&mut conn, "SELECT count(*) FROM pk").await, "0");
    let inserted = conn
        .query_iter("INSERT INTO dup VALUES (1, 1), (2, 2)")
        .await
        .unwrap()
        .affected_rows();
    assert_eq!(inserted, 2);
}

#[tokio::test]
async fn views_ctas_like_and_files_loads() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "1,alice,2024-01-02\n2,bob,2024-03-04\n3,carol,2025-05-06\n",
    )
    .unwrap();
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE people (id INT, name VARCHAR(20), born DATE) PARTITION BY RANGE(born) (PARTITION p24 VALUES LESS THAN ('2025-01-01'), PARTITION p25 VALUES LESS THAN ('2026-01-01'))",
            &format!("INSERT INTO people SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")", csv.display()),
            "CREATE VIEW adults (who, n) AS SELECT name, id FROM people WHERE id > 1",
            "CREATE TABLE copy PROPERTIES ('replication_num' = '1') AS SELECT id, name FROM people WHERE id < 3",
            "CREATE TABLE empty_like LIKE people",
        ],
    )
    .await;
    assert_eq!(value(&mut conn, "SELECT count(*) FROM people").await, "3");
    assert_eq!(
        rows(&mut conn, "SELECT who FROM adults ORDER BY n").await,
        vec![vec!["bob"], vec!["carol"]]
    );
    assert_eq!(
        rows(&mut conn, "SHOW FULL TABLES")
            .await
            .iter()
            .map(|r| format!("{}:{}", r[0], r[1]))
            .collect::<Vec<_>>(),
        vec![
            "adults:VIEW",
            "copy:BASE TABLE",
            "empty_like:BASE TABLE",
            "people:BASE TABLE"
        ]
    );
    assert_eq!(value(&mut conn, "SELECT count(*) FROM copy").await, "2");
    assert_eq!(
        value(&mut conn, "SELECT count(*) FROM empty_like").await,
        "0"
    );
    assert_eq!(
        rows(&mut conn, "SHOW PARTITIONS FROM empty_like")
            .await
            .len(),
        2
    );
    // The server's own data files are plain Parquet: FILES() reads them back from the data
    // directory (and its table/partition subdirectories). people (3 rows) + copy (2).
    let dir_url = format!("file://{}/data/", server.data_dir.display());
    let sql =
        format!("SELECT count(*) FROM FILES(\"path\" = \"{dir_url}\", \"format\" = \"parquet\")");
    assert_eq!(value(&mut conn, &sql).await, "5");
    assert_eq!(
        error_code(
            conn.query_drop("CREATE VIEW broken AS SELECT nope FROM people")
                .await
        ),
        1054
    );
    assert_eq!(
        error_code(
            conn.query_drop("SELECT * FROM FILES(\"path\" = \"s3://b/x\", \"format\" = \"csv\")")
                .await
        ),
        1235
    );
    run(&mut conn, &["DROP VIEW adults"]).await;
    assert_eq!(
        error_code(conn.query_drop("SELECT * FROM adults").await),
        1146
    );
}

#[tokio::test]
async fn metadata_introspection_as_drivers_and_bi_tools_send_it() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE shop",
            "CREATE TABLE shop.orders (id BIGINT NOT NULL, ts DATETIME, amount DOUBLE, note VARCHAR(50) COMMENT 'free text') PRIMARY KEY(id)",
        ],
    )
    .await;
    // Connector/J getTables (information_schema path, HAVING on an alias without GROUP BY).
    let jdbc_tables = "SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, CASE WHEN TABLE_TYPE='BASE TABLE' THEN CASE WHEN TABLE_SCHEMA = 'mysql' OR TABLE_SCHEMA = 'performance_schema' THEN 'SYSTEM TABLE' ELSE 'TABLE' END WHEN TABLE_TYPE='TEMPORARY' THEN 'LOCAL_TEMPORARY' ELSE TABLE_TYPE END AS TABLE_TYPE, TABLE_COMMENT AS REMARKS, NULL AS TYPE_CAT, NULL AS TYPE_SCHEM, NULL AS TYPE_NAME, NULL AS SELF_REFERENCING_COL_NAME, NULL AS REF_GENERATION FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME LIKE '%' HAVING TABLE_TYPE IN ('TABLE','VIEW','SYSTEM TABLE','SYSTEM VIEW','LOCAL TEMPORARY') ORDER BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME";
    let t = rows(&mut conn, jdbc_tables).await;
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0][0].as_str(), t[0][2].as_str(), t[0][3].as_str()),
        ("shop", "orders", "TABLE")
    );
    // A view's TABLE_COMMENT is its comment, as StarRocks answers.
    run(
        &mut conn,
        &["CREATE VIEW shop.daily COMMENT 'daily totals' AS SELECT id FROM shop.orders"],
    )
    .await;
    assert_eq!(
        rows(
            &mut conn,
            "SELECT TABLE_TYPE, TABLE_COMMENT FROM information_schema.tables \
             WHERE table_schema = 'shop' AND table_name = 'daily'"
        )
        .await,
        vec![vec!["VIEW", "daily totals"]]
    );
    run(&mut conn, &["DROP VIEW shop.daily"]).await;
    // Grafana's editor queries need lower-case data types.
    let g = rows(&mut conn, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'orders' AND data_type IN ('timestamp','datetime','bigint','int','double','float') ORDER BY column_name").await;
    assert_eq!(
        g,
        vec![
            vec!["amount", "double"],
            vec!["id", "bigint"],
            vec!["ts", "datetime"]
        ]
    );
    let schemas = rows(&mut conn, "SELECT DISTINCT TABLE_SCHEMA from information_schema.TABLES where TABLE_TYPE != 'SYSTEM VIEW' ORDER BY TABLE_SCHEMA").await;
    assert_eq!(schemas, vec![vec!["shop"]]);
    // Metabase's fast sync (IF, UPPER, column_key, comments).
    let m = rows(&mut conn, "SELECT c.column_name AS name, c.ordinal_position - 1 AS pos, IF(column_type = 'tinyint(1)', 'BIT', UPPER(c.data_type)) AS t, c.column_key = 'PRI' AS pk, is_nullable = 'YES' AS n, NULLIF(c.column_comment, '') AS comment FROM information_schema.columns AS c WHERE c.table_schema NOT IN ('information_schema','performance_schema','sys','mysql') AND c.table_schema = 'shop' ORDER BY c.table_name, c.ordinal_position").await;
    assert_eq!(m[0], vec!["id", "0", "BIGINT", "1", "0", "NULL"]);
    assert_eq!(m[3], vec!["note", "3", "VARCHAR", "0", "1", "free text"]);
    // SHOW statements.
    assert!(
        rows(&mut conn, "SHOW DATABASES")
            .await
            .contains(&vec!["shop".to_string()])
    );
    assert_eq!(
        rows(&mut conn, "SHOW DATABASES LIKE 'sh%'").await,
        vec![vec!["shop"]]
    );
    assert_eq!(
        rows(&mut conn, "SHOW FULL COLUMNS FROM orders FROM shop")
            .await
            .len(),
        4
    );
    assert_eq!(
        rows(&mut conn, "SHOW COLUMNS FROM shop.orders LIKE 'a%'").await[0][0],
        "amount"
    );
    assert_eq!(
        rows(&mut conn, "SHOW INDEX FROM shop.orders").await[0][2],
        "PRIMARY"
    );
    assert_eq!(
        rows(&mut conn, "SHOW TABLE STATUS FROM shop").await[0][0],
        "orders"
    );
    assert_eq!(
        rows(&mut conn, "SHOW VARIABLES LIKE 'lower_case_table_names'").await,
        vec![vec!["lower_case_table_names", "0"]]
    );
    assert_eq!(
        rows(
            &mut conn,
            "SHOW VARIABLES WHERE Variable_name = 'autocommit'"
        )
        .await,
        vec![vec!["autocommit", "1"]]
    );
    for sql in [
        "SHOW ENGINES",
        "SHOW CHARSET",
        "SHOW COLLATION",
        "SHOW PROCESSLIST",
        "SHOW WARNINGS",
        "SHOW GRANTS FOR CURRENT_USER()",
        "SHOW CREATE DATABASE shop",
    ] {
        assert!(
            !rows(&mut conn, sql).await.is_empty() || sql == "SHOW WARNINGS",
            "{sql}"
        );
    }
    for table in [
        "SCHEMATA",
        "STATISTICS",
        "KEY_COLUMN_USAGE",
        "TABLE_CONSTRAINTS",
        "REFERENTIAL_CONSTRAINTS",
        "ROUTINES",
        "PARAMETERS",
        "ENGINES",
        "KEYWORDS",
        "TRIGGERS",
        "VIEWS",
        "PARTITIONS",
        "CHECK_CONSTRAINTS",
    ] {
        conn.query_drop(format!("SELECT * FROM information_schema.{table}"))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    assert_eq!(value(&mut conn, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_NAME = 'orders' AND INDEX_NAME = 'PRIMARY'").await, "1");
    assert!(
        value(
            &mut conn,
            "SELECT count(*) FROM INFORMATION_SCHEMA.KEYWORDS WHERE RESERVED=1"
        )
        .await
        .parse::<i64>()
        .unwrap()
            > 50
    );
    assert_eq!(
        error_code(conn.query_drop("SHOW TABLES FROM nowhere").await),
        1049
    );
    assert_eq!(
        error_code(conn.query_drop("DESCRIBE shop.nope").await),
        1146
    );
    // SELECT * from information_schema names its columns the MySQL way.
    let result = conn
        .query_iter("SELECT * FROM information_schema.SCHEMATA")
        .await
        .unwrap();
    let names: Vec<String> = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    drop(result);
    assert_eq!(names[1], "SCHEMA_NAME");
}

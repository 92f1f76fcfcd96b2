//! First contact, as a newcomer meets the server: the README tour with a relative data
//! directory from another working directory, result headers as written, the statements BI
//! tools and drivers send, prepared statements over the binary protocol, and statements with
//! words the server does not understand.

use std::path::Path;

use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use snaprock_tests::{
    ProcessOptions, ServerProcess, TestServer, expect_error, readme_statements, rows, run, value,
    wait_for_backup_state, wait_for_restore_state, wait_until,
};

/// The CSV files the README's bulk load reads, in `dir`: three rows.
fn write_sales_csv(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("a.csv"),
        "2025-03-01,rome,5.00\n2025-04-01,oslo,7.25\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.csv"), "2024-03-01,rome,1.00\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not,a,row\n").unwrap();
}

/// Column names of a query's result.
async fn headers(conn: &mut Conn, sql: &str) -> Vec<String> {
    let result = conn
        .query_iter(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let names = result
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    result.drop_result().await.unwrap();
    names
}

/// Runs the README tour statement by statement on the real binary, started with
/// `--data-dir ./snaprock-data` from a directory that is not the test's, then uses the same
/// relative directory for FILES(), compaction, backup, restore and a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_tour_runs_from_a_relative_data_dir() {
    let home = tempfile::Builder::new()
        .prefix("snaprock-home-")
        .tempdir()
        .unwrap();
    let csv_dir = home.path().join("incoming").join("sales");
    write_sales_csv(&csv_dir);
    let log = home.path().join("server.log");
    let options = || ProcessOptions {
        cwd: Some(home.path()),
        data_dir: Some("./snaprock-data"),
        args: vec!["--compaction-interval-secs".into(), "1".into()],
        log: Some((&log, "info")),
    };
    let server = ServerProcess::spawn(options()).await;
    let mut c = server.conn().await;
    let mut answers = Vec::new();
    let readme_glob = "file:///data/sales/*.csv";
    for statement in readme_statements("## A short tour") {
        let sql = if statement.contains("FILES(") {
            assert!(statement.contains(readme_glob), "{statement}");
            statement.replace(readme_glob, &format!("file://{}/*.csv", csv_dir.display()))
        } else {
            statement
        };
        if sql.starts_with("SELECT") || sql.starts_with("SHOW") {
            answers.push((headers(&mut c, &sql).await, rows(&mut c, &sql).await));
        } else {
            run(&mut c, &[&sql]).await;
        }
    }
    let (select_headers, selected) = &answers[0];
    assert_eq!(select_headers, &["city", "sum(amount)"]);
    assert_eq!(selected, &[vec!["paris".to_string(), "20.25".into()]]);
    let partitions: Vec<&str> = answers[1].1.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(partitions, ["p2024", "p2025"]);
    assert!(
        answers[2].1[0][1].contains("PARTITION BY RANGE"),
        "{:?}",
        answers[2]
    );
    assert!(
        home.path().join("snaprock-data").join("data").is_dir(),
        "the data dir is relative to the server's working directory"
    );
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM sr_hub.sales").await,
        "5"
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT sum(amount) FROM sr_hub.sales WHERE city = 'rome'"
        )
        .await,
        "6.00"
    );

    // Eight small loads make a partition worth compacting; queries go on reading it.
    for i in 0..8 {
        run(
            &mut c,
            &[&format!(
                "INSERT INTO sr_hub.sales VALUES ('2025-06-0{}', 'lima', 1.00)",
                i + 1
            )],
        )
        .await;
    }
    wait_until(
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("compaction finished")),
        "a compaction pass",
    )
    .await;
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap()
            .contains("compaction pass failed")
    );
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM sr_hub.sales").await,
        "13"
    );

    // Backup and restore through a file:// repository.
    let repo = home.path().join("backups");
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo.display()
            ),
            "BACKUP SNAPSHOT sr_hub.tour TO repo ON (sales)",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "Status"), "[OK]", "{row:?}");
    let timestamp = snaprock_tests::snapshot_timestamp(&mut c, "repo", "tour").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT sr_hub.tour FROM repo ON (sales AS sales_restored) \
             PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM sr_hub.sales_restored").await,
        "13"
    );
    drop(c);

    // A restart from the same directory with the same relative path sees everything.
    server.terminate();
    assert!(
        server
            .wait_exit(std::time::Duration::from_secs(30))
            .await
            .success()
    );
    let server = ServerProcess::spawn(options()).await;
    let mut c = server.conn().await;
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM sr_hub.sales").await,
        "13"
    );
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM sr_hub.sales_restored").await,
        "13"
    );
    drop(c);
    server.kill9();
}

/// Without `--data-dir` the default `./snaprock-data` is used, relative to where the server
/// was started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_data_dir_works() {
    let home = tempfile::Builder::new()
        .prefix("snaprock-home-")
        .tempdir()
        .unwrap();
    let server = ServerProcess::spawn(ProcessOptions {
        cwd: Some(home.path()),
        ..ProcessOptions::default()
    })
    .await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING) DISTRIBUTED BY HASH(k)",
            "INSERT INTO d.t VALUES (1, 'a'), (2, 'b')",
        ],
    )
    .await;
    assert_eq!(
        value(&mut c, "SELECT max(v) FROM d.t WHERE k > 0").await,
        "b"
    );
    assert!(
        home.path()
            .join("snaprock-data")
            .join("catalog.json")
            .exists()
    );
    drop(c);
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_columns_are_named_as_written() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.sales (dt DATE, city STRING, amount DECIMAL(10, 2))",
            "INSERT INTO d.sales VALUES ('2025-01-01', 'rome', 1.50)",
        ],
    )
    .await;
    let sql = "SELECT city, sum(amount), count(*), max(dt), concat('a','b'), \
               Upper( city ) AS loud, 1 + 2 FROM d.sales GROUP BY city";
    assert_eq!(
        headers(&mut c, sql).await,
        [
            "city",
            "sum(amount)",
            "count(*)",
            "max(dt)",
            "concat('a','b')",
            "loud",
            "1 + 2"
        ]
    );
    // The last expression ends the statement text.
    assert_eq!(
        headers(&mut c, "SELECT max(dt) FROM d.sales WHERE city IN ('rome')").await,
        ["max(dt)"]
    );
    assert_eq!(
        headers(&mut c, "SELECT lower(concat('A', 'B'))").await,
        ["lower(concat('A', 'B'))"]
    );
}

/// What BI tools and drivers send: GROUP_CONCAT with SEPARATOR, Metabase's time-zone probe,
/// MySQL's date functions, SLEEP, string functions over numbers, FILES() globs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_clients_send() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (id INT, qty INT, name STRING, at DATETIME)",
            "INSERT INTO d.t VALUES (1, 5, 'a', '2024-05-01 13:04:05'), \
             (2, 9, 'b', '2024-12-31 23:59:59'), (3, 7, NULL, NULL)",
        ],
    )
    .await;
    assert_eq!(
        value(
            &mut c,
            "SELECT GROUP_CONCAT(id ORDER BY qty DESC SEPARATOR ' ') FROM d.t"
        )
        .await,
        "2 3 1"
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT group_concat(DISTINCT name) FROM d.t WHERE id < 3"
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT CASE WHEN qty > 6 THEN 'big' ELSE 'small' END AS size, \
             GROUP_CONCAT(id, name ORDER BY id) FROM d.t GROUP BY size ORDER BY size"
        )
        .await,
        [
            vec!["big".to_string(), "2b".into()],
            vec!["small".into(), "1a".into()]
        ]
    );

    let probe = "SELECT @@GLOBAL.time_zone, @@system_time_zone, \
                 time_format(timediff(now(), convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')";
    assert_eq!(
        rows(&mut c, probe).await,
        [vec!["SYSTEM".to_string(), "UTC".into(), "00:00".into()]]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT date_format(at, '%W %M %D %Y %H:%i:%s'), date_format(at, '%d/%m/%y %r'), \
             timediff(at, '2024-05-01 00:00:00'), time_format('100:30:00', '%H %k %h %i %p') \
             FROM d.t WHERE id = 1"
        )
        .await,
        [vec![
            "Wednesday May 1st 2024 13:04:05".to_string(),
            "01/05/24 01:04:05 PM".into(),
            "13:04:05".into(),
            "100 100 04 30 AM".into()
        ]]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT convert_tz('2024-01-01 12:00:00', 'UTC', 'Europe/Berlin')"
        )
        .await,
        "2024-01-01 13:00:00"
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT convert_tz('2024-01-01 12:00:00', 'Nowhere', '+00:00')"
        )
        .await,
        "NULL"
    );
    assert_eq!(
        value(&mut c, "SELECT date_format(NULL, '%Y')").await,
        "NULL"
    );

    let started = std::time::Instant::now();
    assert_eq!(value(&mut c, "SELECT sleep(0.3)").await, "0");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    expect_error(
        &mut c,
        "SELECT sleep(-1)",
        1210,
        "Incorrect arguments to sleep.",
    )
    .await;

    // Connector/J 8's getColumns() applies UPPER() to numbers; MySQL reads them as text.
    assert_eq!(
        rows(
            &mut c,
            "SELECT upper(42), lower(1.5), length(12345), upper(id) FROM d.t WHERE id = 1"
        )
        .await,
        [vec!["42".to_string(), "1.5".into(), "5".into(), "1".into()]]
    );

    // FILES() with a glob, as StarRocks documents it; a glob that matches nothing says so.
    let dir = tempfile::Builder::new()
        .prefix("snaprock-csv-")
        .tempdir()
        .unwrap();
    write_sales_csv(dir.path());
    run(
        &mut c,
        &[
            "CREATE TABLE d.sales (dt DATE, city STRING, amount DECIMAL(10, 2))",
            &format!(
                "INSERT INTO d.sales SELECT * FROM FILES(\"path\" = \"file://{}/*.csv\", \"format\" = \"csv\")",
                dir.path().display()
            ),
        ],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.sales").await, "3");
    assert_eq!(
        value(
            &mut c,
            &format!(
                "SELECT count(*) FROM FILES(\"path\" = \"file://{}/b*.csv\", \"format\" = \"csv\")",
                dir.path().display()
            )
        )
        .await,
        "1"
    );
    let (code, _) = snaprock_tests::server_error(
        c.query_drop(format!(
            "SELECT * FROM FILES(\"path\" = \"file://{}/*.parquet\", \"format\" = \"parquet\")",
            dir.path().display()
        ))
        .await,
    );
    assert_ne!(code, 0);
    assert_eq!(
        value(&mut c, "SELECT 1").await,
        "1",
        "the connection stays usable"
    );
}

/// Prepared statements over the binary protocol (mysql_async prepares on the server) bind
/// DATE, DATETIME and TIME parameters to their values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_protocol_binds_dates_and_times() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (id INT, d DATE, ts DATETIME, s STRING)",
        ],
    )
    .await;
    let insert = "INSERT INTO d.t VALUES (?, ?, ?, ?)";
    c.exec_drop(
        insert,
        (
            1,
            Value::Date(2024, 5, 1, 0, 0, 0, 0),
            Value::Date(2024, 5, 1, 13, 4, 5, 250_000),
            Value::Bytes(b"it's".to_vec()),
        ),
    )
    .await
    .unwrap();
    c.exec_drop(
        insert,
        (
            2,
            Value::Date(2023, 1, 2, 0, 0, 0, 0),
            Value::NULL,
            Value::NULL,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&mut c, "SELECT id, d, ts, s FROM d.t ORDER BY id").await,
        [
            vec![
                "1".to_string(),
                "2024-05-01".into(),
                "2024-05-01 13:04:05.250000".into(),
                "it's".into()
            ],
            vec![
                "2".into(),
                "2023-01-02".into(),
                "NULL".into(),
                "NULL".into()
            ],
        ]
    );
    let found: Vec<i32> = c
        .exec(
            "SELECT id FROM d.t WHERE d = ?",
            (Value::Date(2024, 5, 1, 0, 0, 0, 0),),
        )
        .await
        .unwrap();
    assert_eq!(found, [1]);
    let found: Vec<i32> = c
        .exec(
            "SELECT id FROM d.t WHERE ts > ?",
            (Value::Date(2024, 5, 1, 13, 4, 5, 0),),
        )
        .await
        .unwrap();
    assert_eq!(found, [1]);
    let time: Vec<String> = c
        .exec("SELECT ?", (Value::Time(false, 0, 3, 4, 5, 0),))
        .await
        .unwrap();
    assert_eq!(time, ["03:04:05"]);
    let time: Vec<String> = c
        .exec("SELECT ?", (Value::Time(true, 1, 2, 0, 0, 500_000),))
        .await
        .unwrap();
    assert_eq!(time, ["-26:00:00.500000"]);
    let numbers: Vec<(i64, f64, String)> = c
        .exec("SELECT ?, ?, ?", (-7i64, 2.5f64, "x"))
        .await
        .unwrap();
    assert_eq!(numbers, [(-7, 2.5, "x".to_string())]);
    // A value is bound into the plan, never spliced into the text: quotes, backslashes and SQL
    // in a string stay data.
    let tricky = "x'); DELETE FROM d.t; -- \\ \"";
    c.exec_drop("INSERT INTO d.t (id, s) VALUES (?, ?)", (3, tricky))
        .await
        .unwrap();
    let stored: Vec<String> = c
        .exec("SELECT s FROM d.t WHERE s = ? AND id > ?", (tricky, 2))
        .await
        .unwrap();
    assert_eq!(stored, [tricky]);
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.t").await, "3");
    // Statements DataFusion does not plan take their parameters as SQL literals.
    c.exec_drop("SET @v = ?", (tricky,)).await.unwrap();
    assert_eq!(value(&mut c, "SELECT @v").await, tricky);
    let (code, _) = snaprock_tests::server_error(
        c.exec_drop("SELECT id FROM d.t WHERE d = ?", ("not a date",))
            .await,
    );
    assert_ne!(code, 0);
    assert_eq!(
        value(&mut c, "SELECT 1").await,
        "1",
        "the connection stays usable"
    );
}

/// A statement with words the server does not understand is refused whole, never partly run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_words_are_a_syntax_error() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    for sql in [
        "CREATE DATABASE x FROM SNAPSHOT s ON r trailing",
        "CREATE DATABASE x anything at all",
        "CREATE DATABASE x DEFAULT",
        "START TRANSACTION maybe",
    ] {
        let (code, message) = snaprock_tests::server_error(c.query_drop(sql).await);
        assert_eq!(code, 1064, "{sql}: {message}");
        assert!(message.starts_with("Getting syntax error"), "{message}");
    }
    let databases: Vec<String> = c.query("SHOW DATABASES").await.unwrap();
    assert!(!databases.contains(&"x".to_string()), "{databases:?}");
    run(
        &mut c,
        &[
            "CREATE DATABASE x DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
            "CREATE TABLE x.t (k DATE) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('2024-01-01')) \
             DISTRIBUTED BY HASH(k)",
        ],
    )
    .await;
    let (code, _) = snaprock_tests::server_error(
        c.query_drop(
            "ALTER TABLE x.t ADD PARTITION p2 VALUES LESS THAN ('2025-01-01') and then some",
        )
        .await,
    );
    assert_eq!(code, 1064);
    assert_eq!(rows(&mut c, "SHOW PARTITIONS FROM x.t").await.len(), 1);
    run(
        &mut c,
        &["ALTER TABLE x.t ADD PARTITION p2 VALUES LESS THAN ('2025-01-01') DISTRIBUTED BY HASH(k) BUCKETS 2"],
    )
    .await;
    assert_eq!(rows(&mut c, "SHOW PARTITIONS FROM x.t").await.len(), 2);
}

/// The log promise holds at every level: at debug and trace, neither a failed statement's
/// text (a password, an S3 key) nor DataFusion's plans with their literals reach the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_texts_never_reach_the_log_at_any_level() {
    for level in ["debug", "trace"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let data = dir.path().join("data");
        let data = data.to_string_lossy();
        let server = ServerProcess::spawn(ProcessOptions {
            data_dir: Some(&data),
            log: Some((&log, level)),
            ..ProcessOptions::default()
        })
        .await;
        let mut c = server.conn().await;
        let secrets = ["pw-secret-1", "sk-secret-2", "lit-secret-3", "pw-secret-4"];
        for (sql, code) in [
            ("CREATE USER 'u3' IDENTIFIED 'pw-secret-1'", 1064),
            (
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"s3a://b/p\" PROPERTIES \
                 (\"aws.s3.secret_key\" \"sk-secret-2\")",
                1064,
            ),
            ("SELECT 'lit-secret-3' FROM d0.no_such_table", 1049),
        ] {
            let (got, _) = snaprock_tests::server_error(c.query_drop(sql).await);
            assert_eq!(got, code, "{sql}");
        }
        run(
            &mut c,
            &[
                "CREATE DATABASE d",
                "CREATE TABLE d.t (s STRING)",
                "INSERT INTO d.t VALUES ('lit-secret-3')",
                "CREATE USER u4 IDENTIFIED BY 'pw-secret-4'",
            ],
        )
        .await;
        assert_eq!(
            value(
                &mut c,
                "SELECT upper(s) FROM d.t WHERE s LIKE 'lit-secret-%'"
            )
            .await,
            "LIT-SECRET-3"
        );
        drop(c);
        server.kill9();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("DEBUG") && text.contains("statement failed"),
            "the log is at {level}"
        );
        for secret in secrets {
            let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
            assert!(
                leaks.is_empty(),
                "{level}: the log holds {secret}: {leaks:#?}"
            );
        }
        assert!(!text.contains("Projection:"), "{level}: a plan was logged");
    }
}

/// Every information_schema table answers SELECT * with rows as wide as its columns, over a
/// catalog with a key table, partitions and a view (a row that drifted from its columns fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_information_schema_table_answers() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.k (id INT NOT NULL, dt DATE, v STRING) PRIMARY KEY(id, dt) \
             PARTITION BY RANGE(dt) (PARTITION p1 VALUES LESS THAN ('2025-01-01')) \
             DISTRIBUTED BY HASH(id)",
            "INSERT INTO d.k VALUES (1, '2024-01-01', 'a')",
            "CREATE VIEW d.v AS SELECT id FROM d.k",
        ],
    )
    .await;
    let tables: Vec<String> = c
        .query("SHOW TABLES FROM information_schema")
        .await
        .unwrap();
    assert!(tables.len() >= 25, "{tables:?}");
    for table in &tables {
        let sql = format!("SELECT * FROM information_schema.{table}");
        let width = headers(&mut c, &sql).await.len();
        assert!(width > 0, "{table}");
        for row in rows(&mut c, &sql).await {
            assert_eq!(row.len(), width, "{table}");
        }
    }
    assert_eq!(
        rows(
            &mut c,
            "SELECT constraint_name, table_name FROM information_schema.table_constraints \
             WHERE table_schema = 'd'"
        )
        .await,
        [vec!["PRIMARY".to_string(), "k".into()]]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM information_schema.key_column_usage WHERE table_name = 'k'"
        )
        .await,
        "2"
    );
}

/// CREATE TABLE AS SELECT and INSERT OVERWRITE run their query as written: columns named as
/// the select list names them, literals with quotes and backslashes kept byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctas_and_insert_overwrite_keep_names_and_literals() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE sales (city STRING, amount INT)",
            "INSERT INTO sales VALUES ('rome', 1), ('rome', 2), ('oslo', 5)",
            "CREATE TABLE totals AS SELECT city, sum(amount) AS total, count(*) FROM sales GROUP BY city",
        ],
    )
    .await;
    let columns: Vec<String> = rows(&mut c, "SHOW COLUMNS FROM totals")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(columns, ["city", "total", "count(*)"]);
    assert_eq!(
        value(&mut c, "SELECT total FROM totals WHERE city = 'rome'").await,
        "3"
    );
    run(
        &mut c,
        &["INSERT OVERWRITE sales (amount, city) SELECT 7, 'it''s a \\\\ \"test\"'"],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT city, amount FROM sales").await,
        [vec!["it's a \\ \"test\"".to_string(), "7".into()]]
    );
    expect_error(
        &mut c,
        "CREATE TABLE broken AS SELECT nope FROM sales",
        1054,
        "Unknown column 'nope' in 'field list'",
    )
    .await;
    let tables: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    assert!(!tables.contains(&"broken".to_string()), "{tables:?}");
}

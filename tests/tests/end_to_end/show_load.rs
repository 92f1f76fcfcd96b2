//! Every INSERT is a load, as in StarRocks: its OK packet names its label, state and
//! transaction (`{'label':'insert_<uuid>', 'status':'VISIBLE', 'txnId':'N'}`), and SHOW LOAD
//! and information_schema.loads list it FINISHED with its rows, in StarRocks' columns, with
//! WHERE LABEL = / LIKE, STATE =, ORDER BY and LIMIT [offset,] n. Records survive a restart;
//! a failed INSERT is CANCELLED with its error and its label free for the retry; a session sees only the loads of tables it may see; UPDATE and
//! DELETE are not loads.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, column, expect_error, named_rows, rows, run, value};

const LOAD_COLUMNS: [&str; 21] = [
    "JobId",
    "Label",
    "State",
    "Progress",
    "Type",
    "Priority",
    "ScanRows",
    "FilteredRows",
    "UnselectedRows",
    "SinkRows",
    "EtlInfo",
    "TaskInfo",
    "ErrorMsg",
    "CreateTime",
    "EtlStartTime",
    "EtlFinishTime",
    "LoadStartTime",
    "LoadFinishTime",
    "TrackingSQL",
    "JobDetails",
    "Warehouse",
];

/// The OK packet's info of `sql`.
async fn insert_info(c: &mut mysql_async::Conn, sql: &str) -> String {
    c.query_drop(sql).await.unwrap();
    c.info().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_insert_is_a_load_show_load_lists() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    expect_error(&mut c, "SHOW LOAD", 1046, "No database selected").await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (k INT, v VARCHAR(10)) PRIMARY KEY (k) DISTRIBUTED BY HASH(k)",
            "CREATE TABLE secret (k INT) DUPLICATE KEY (k) DISTRIBUTED BY HASH(k)",
        ],
    )
    .await;

    let generated = insert_info(&mut c, "INSERT INTO t VALUES (1, 'a'), (2, 'b')").await;
    assert_eq!(c.affected_rows(), 2);
    let (label, txn) = parse_info(&generated);
    assert!(
        label.starts_with("insert_") && label.len() == 43,
        "{generated}"
    );
    let labelled = insert_info(
        &mut c,
        "INSERT INTO t WITH LABEL nightly_1 SELECT k + 10, v FROM t",
    )
    .await;
    let (label_1, txn_1) = parse_info(&labelled);
    assert_eq!(label_1, "nightly_1");
    assert!(txn_1 > txn, "{generated} then {labelled}");
    insert_info(&mut c, "INSERT INTO secret WITH LABEL hidden_1 VALUES (7)").await;
    // A failed INSERT is a CANCELLED load with its error; UPDATE and DELETE are not loads.
    let failed = c
        .query_drop("INSERT INTO t WITH LABEL failed_1 VALUES (3, 'far too long a value')")
        .await;
    assert_eq!(snaprock_tests::error_code(failed), 1406);
    run(
        &mut c,
        &[
            "UPDATE t SET v = 'z' WHERE k = 1",
            "DELETE FROM t WHERE k = 2",
        ],
    )
    .await;

    let loads = named_rows(&mut c, "SHOW LOAD").await;
    let names: Vec<&str> = loads[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, LOAD_COLUMNS);
    let labels: Vec<&str> = loads.iter().map(|r| column(r, "Label")).collect();
    assert_eq!(
        labels,
        [label.as_str(), "nightly_1", "hidden_1", "failed_1"]
    );
    let failed = &loads[3];
    assert_eq!(column(failed, "State"), "CANCELLED");
    assert_eq!(column(failed, "SinkRows"), "0");
    assert_eq!(
        column(failed, "ErrorMsg"),
        "Data too long for column 'v' at row 1"
    );
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM t WHERE k = 3").await,
        "0"
    );
    let nightly = &loads[1];
    assert_eq!(column(nightly, "JobId"), txn_1.to_string());
    assert_eq!(column(nightly, "State"), "FINISHED");
    assert_eq!(column(nightly, "Progress"), "ETL:100%; LOAD:100%");
    assert_eq!(column(nightly, "Type"), "INSERT");
    assert_eq!(column(nightly, "SinkRows"), "2");
    assert_eq!(column(nightly, "ErrorMsg"), "NULL");
    let details: serde_json::Value = serde_json::from_str(column(nightly, "JobDetails")).unwrap();
    assert_eq!(details["InternalTableLoadRows"], 2);
    assert!(details["InternalTableLoadBytes"].as_u64().unwrap() > 0);

    // StarRocks' filters, order and limits.
    for (sql, expected) in [
        ("SHOW LOAD WHERE LABEL = 'nightly_1'", vec!["nightly_1"]),
        (
            "SHOW LOAD FROM d WHERE LABEL = \"nightly_1\" AND STATE = \"FINISHED\"",
            vec!["nightly_1"],
        ),
        // (`_` is LIKE's any-one-character: a generated label may end in `1`.)
        ("SHOW LOAD WHERE LABEL LIKE 'night%'", vec!["nightly_1"]),
        ("SHOW LOAD WHERE LABEL LIKE '%dde%'", vec!["hidden_1"]),
        ("SHOW LOAD WHERE STATE = 'CANCELLED'", vec!["failed_1"]),
        ("SHOW LOAD ORDER BY JobId DESC LIMIT 1", vec!["failed_1"]),
        ("SHOW LOAD LIMIT 1, 1", vec!["nightly_1"]),
        ("SHOW LOAD LIMIT 1 OFFSET 2", vec!["hidden_1"]),
    ] {
        let got: Vec<String> = named_rows(&mut c, sql)
            .await
            .iter()
            .map(|r| column(r, "Label").to_string())
            .collect();
        assert_eq!(got, expected, "{sql}");
    }
    assert_eq!(
        rows(
            &mut c,
            "SELECT LABEL, DB_NAME, TABLE_NAME, USER, STATE, TYPE, SINK_ROWS FROM information_schema.loads \
             WHERE LABEL = 'nightly_1'"
        )
        .await,
        vec![vec!["nightly_1", "d", "t", "root", "FINISHED", "INSERT", "2"]]
    );
    assert!(rows(&mut c, "SHOW ROUTINE LOAD").await.is_empty());
    expect_error(
        &mut c,
        "SHOW LOAD FROM nosuch",
        1049,
        "Unknown database 'nosuch'",
    )
    .await;

    // A user who may read t but not secret sees t's loads only.
    run(
        &mut c,
        &[
            "CREATE USER reader IDENTIFIED BY 'pw'",
            "GRANT SELECT ON TABLE d.t TO reader",
        ],
    )
    .await;
    let mut reader = mysql_async::Conn::new(server.opts("reader", Some("pw"), Some("d")))
        .await
        .unwrap();
    let seen: Vec<String> = named_rows(&mut reader, "SHOW LOAD")
        .await
        .iter()
        .map(|r| column(r, "Label").to_string())
        .collect();
    assert_eq!(seen, [label.clone(), "nightly_1".into(), "failed_1".into()]);
    assert_eq!(
        rows(&mut reader, "SELECT count(*) FROM information_schema.loads").await,
        vec![vec!["3"]]
    );
    drop(reader);
    drop(c);
    server.stop().await;

    // The records are part of the catalog: a restart keeps them and their labels used.
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT LABEL, JOB_ID FROM information_schema.loads WHERE LABEL = 'nightly_1'"
        )
        .await,
        vec![vec!["nightly_1".to_string(), txn_1.to_string()]]
    );
    expect_error(
        &mut c,
        "INSERT INTO d.t WITH LABEL nightly_1 VALUES (3, 'c')",
        5064,
        "Label [nightly_1] has already been used.",
    )
    .await;
    // A cancelled load's label is free for the retry, which then finishes.
    run(
        &mut c,
        &["INSERT INTO d.t WITH LABEL failed_1 VALUES (3, 'fits')"],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT STATE, SINK_ROWS, ERROR_MSG FROM information_schema.loads WHERE LABEL = 'failed_1'"
        )
        .await,
        vec![vec!["FINISHED", "1", "NULL"]]
    );
    server.stop().await;
}

/// `{'label':'l', 'status':'VISIBLE', 'txnId':'7'}` → ("l", 7).
fn parse_info(info: &str) -> (String, u64) {
    let field = |name: &str| -> String {
        let start = info
            .find(&format!("'{name}':'"))
            .unwrap_or_else(|| panic!("{info}"))
            + name.len()
            + 4;
        let end = start + info[start..].find('\'').unwrap();
        info[start..end].to_string()
    };
    assert_eq!(field("status"), "VISIBLE", "{info}");
    (field("label"), field("txnId").parse().unwrap())
}

//! StarRocks' load labels: `INSERT INTO | OVERWRITE t WITH LABEL l ...` commits at most once
//! per label and database. A retry of a committed load is refused with StarRocks' text and
//! changes nothing, also after a restart and when the retries race each other; a load that
//! brings no rows still uses its label.

use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, expect_error, rows, run, value};

const USED: &str = "Label [load_1] has already been used.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_commits_once_across_retries_races_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE DATABASE e",
            "CREATE TABLE d.t (k INT, v VARCHAR(10))",
            "CREATE TABLE e.t (k INT, v VARCHAR(10))",
            "INSERT INTO d.t WITH LABEL load_1 (k, v) VALUES (1, 'it''s')",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "INSERT INTO d.t WITH LABEL load_1 VALUES (2, 'b')",
        5064,
        USED,
    )
    .await;
    // Labels belong to a database; OVERWRITE and INSERT ... SELECT take one too.
    run(
        &mut c,
        &[
            "INSERT INTO e.t WITH LABEL load_1 SELECT k, v FROM d.t",
            "INSERT OVERWRITE e.t WITH LABEL load_2 SELECT k + 10, v FROM d.t",
            "INSERT INTO d.t WITH LABEL empty_load SELECT * FROM d.t WHERE k < 0",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "INSERT INTO d.t WITH LABEL empty_load VALUES (3, 'c')",
        5064,
        "Label [empty_load] has already been used.",
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT * FROM d.t").await,
        vec![vec!["1", "it's"]]
    );
    assert_eq!(
        rows(&mut c, "SELECT * FROM e.t").await,
        vec![vec!["11", "it's"]]
    );

    // Eight clients retry one load with one label at once: exactly one commits.
    let mut racers = Vec::new();
    for i in 0..8 {
        let mut conn = server.conn().await;
        racers.push(tokio::spawn(async move {
            conn.query_drop(format!(
                "INSERT INTO d.t WITH LABEL raced VALUES ({}, 'r')",
                100 + i
            ))
            .await
        }));
    }
    let mut committed = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => committed += 1,
            Err(mysql_async::Error::Server(e)) => {
                assert_eq!(
                    (e.code, e.message.as_str()),
                    (5064, "Label [raced] has already been used.")
                );
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(committed, 1);
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM d.t WHERE v = 'r'").await,
        "1"
    );
    drop(c);
    server.stop().await;

    // The labels are part of the committed catalog: a restart keeps them.
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    expect_error(
        &mut c,
        "INSERT INTO d.t WITH LABEL load_1 VALUES (2, 'b')",
        5064,
        USED,
    )
    .await;
    run(
        &mut c,
        &["INSERT INTO d.t WITH LABEL load_3 VALUES (2, 'b')"],
    )
    .await;
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.t").await, "3");
}

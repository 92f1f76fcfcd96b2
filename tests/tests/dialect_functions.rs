//! StarRocks' table function call `TABLE(generate_series(start, end[, step]))`: its rows and
//! column name as StarRocks gives them, with or without a database selected, and clean errors
//! (never the parse tree DataFusion would print).

use snaprock_tests::{TestServer, expect_error, rows, run, value};

#[tokio::test]
async fn generate_series_as_a_table() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    assert_eq!(
        rows(&mut c, "SELECT * FROM TABLE(generate_series(1, 3))").await,
        vec![vec!["1"], vec!["2"], vec!["3"]]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT sum(g.generate_series) FROM TABLE(generate_series(1, 10, 3)) g"
        )
        .await,
        "22"
    );
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM TABLE(generate_series(1, 100))"
        )
        .await,
        "100"
    );
    expect_error(
        &mut c,
        "SELECT * FROM TABLE(nope(1))",
        1235,
        "Unknown table function 'nope'",
    )
    .await;
    let (code, message) = snaprock_tests::server_error(
        mysql_async::prelude::Queryable::query_drop(
            &mut c,
            "SELECT * FROM TABLE(generate_series())",
        )
        .await,
    );
    assert_eq!(code, 1064);
    assert!(!message.contains("Ident {"), "no parse tree: {message}");
    server.stop().await;
}

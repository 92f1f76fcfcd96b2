//! A call of a function that does not exist answers as StarRocks does: `No matching function
//! with signature: name(argument types)`, with the types of the arguments as written (columns,
//! literals, `*`), wherever the call sits (select list, WHERE, GROUP BY, inside an aggregate,
//! as an aggregate, as a window, in a subquery, in INSERT ... SELECT). Names DataFusion's planner
//! handles without a registered function (`unnest`, `map`) keep working.

use snaprock_tests::{TestServer, expect_error, rows, run, value};

const PREFIX: &str =
    "Getting analyzing error. Detail message: No matching function with signature: ";

#[tokio::test]
async fn unknown_functions_name_their_signature() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (a INT, b VARCHAR(10)) DUPLICATE KEY(a) DISTRIBUTED BY HASH(a)",
            "INSERT INTO t VALUES (1, 'x'), (2, 'y')",
        ],
    )
    .await;
    let cases = [
        ("SELECT foo(1)", "foo(bigint(20))"),
        ("SELECT FOO(a, b) FROM t", "foo(int(11), varchar(65533))"),
        ("SELECT nosuch(*) FROM t", "nosuch(*)"),
        ("SELECT bar()", "bar()"),
        ("SELECT 1 FROM t WHERE zzz(a) > 0", "zzz(int(11))"),
        ("SELECT count(*) FROM t GROUP BY grp(a)", "grp(int(11))"),
        ("SELECT sum(inner_fn(a)) FROM t", "inner_fn(int(11))"),
        ("SELECT a, agg(b) FROM t GROUP BY a", "agg(varchar(65533))"),
        ("SELECT win(a) OVER () FROM t", "win(int(11))"),
        (
            "SELECT a FROM t WHERE a IN (SELECT sub(a) FROM t)",
            "sub(int(11))",
        ),
        ("SELECT d.udf(1)", "d.udf(bigint(20))"),
        (
            "SELECT f(1, 'x', 2.5, DATE '2024-01-01')",
            "f(bigint(20), varchar(65533), decimal(2,1), date)",
        ),
        ("INSERT INTO t SELECT a, q(b) FROM t", "q(varchar(65533))"),
        // A window function outside a window.
        ("SELECT rank() FROM t", "rank()"),
        // The first of several unknown functions.
        ("SELECT one(a), two(b) FROM t", "one(int(11))"),
    ];
    for (sql, signature) in cases {
        expect_error(&mut c, sql, 5064, &format!("{PREFIX}{signature}.")).await;
    }
    // The failed INSERT wrote nothing; the connection still works.
    assert_eq!(value(&mut c, "SELECT count(*) FROM t").await, "2");
    assert_eq!(
        rows(&mut c, "SELECT unnest([1, 2])").await,
        vec![vec!["1"], vec!["2"]]
    );
    assert_eq!(value(&mut c, "SELECT map(1, 2)").await, "{1:2}");
    assert_eq!(
        value(&mut c, "SELECT upper(b) FROM t WHERE a = 1").await,
        "X"
    );
    server.stop().await;
}

//! StarRocks' table function call `TABLE(generate_series(start, end[, step]))`: its rows and
//! column name as StarRocks gives them, with or without a database selected, and clean errors
//! (never the parse tree DataFusion would print). StarRocks' and MySQL's date arithmetic,
//! aggregates, string and JSON functions, with the answers StarRocks' documentation gives.

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

/// Each query's single row, as text, against the answer StarRocks' documentation gives.
async fn answers(c: &mut mysql_async::Conn, cases: &[(&str, &str)]) {
    for (sql, expected) in cases {
        let got = rows(c, sql).await.remove(0).join("|");
        assert_eq!(&got, expected, "{sql}");
    }
}

#[tokio::test]
async fn date_arithmetic_as_mysql_and_starrocks_spell_it() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    answers(
        &mut c,
        &[
            (
                "SELECT date_add('2010-11-30 23:59:59', INTERVAL 2 DAY)",
                "2010-12-02 23:59:59",
            ),
            (
                "SELECT date_sub('2024-03-31', INTERVAL 1 MONTH)",
                "2024-02-29 00:00:00",
            ),
            (
                "SELECT adddate('2024-01-01', 2), subdate('2024-01-01', 1)",
                "2024-01-03 00:00:00|2023-12-31 00:00:00",
            ),
            // A DATE plus whole days stays a DATE.
            (
                "SELECT date_add(CAST('2024-01-30' AS DATE), INTERVAL 1 WEEK)",
                "2024-02-06",
            ),
            (
                "SELECT days_add('2023-10-31 23:59:59', 2)",
                "2023-11-02 23:59:59",
            ),
            (
                "SELECT months_add('2022-01-31', 1), years_sub('2022-02-28', 1)",
                "2022-02-28 00:00:00|2021-02-28 00:00:00",
            ),
            (
                "SELECT hours_add('2022-01-01 01:01:01', 2), minutes_sub('2022-01-01 01:01:01', 2)",
                "2022-01-01 03:01:01|2022-01-01 00:59:01",
            ),
            ("SELECT datediff('2022-01-01', '2021-12-31 23:59:59')", "1"),
            (
                "SELECT months_diff('2010-11-30 23:59:59', '2010-7-31 23:59:59')",
                "3",
            ),
            (
                "SELECT days_diff('2010-11-30 23:59:59', '2010-11-28 23:59:59')",
                "2",
            ),
            (
                "SELECT years_diff('2010-11-30 23:59:59', '2000-11-1 23:59:59')",
                "10",
            ),
            (
                "SELECT timestampdiff(MONTH, '2003-02-01', '2003-05-01')",
                "3",
            ),
            (
                "SELECT timestampadd(MINUTE, 1, '2019-01-02')",
                "2019-01-02 00:01:00",
            ),
            (
                "SELECT str_to_date('2014-12-21 12:34:56', '%Y-%m-%d %H:%i:%s')",
                "2014-12-21 12:34:56",
            ),
            (
                "SELECT str_to_date('21/12/2014', '%d/%m/%Y'), str_to_date('x', '%Y')",
                "2014-12-21 00:00:00|NULL",
            ),
        ],
    )
    .await;
    // On columns, with NULLs and unreadable values giving NULL.
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (d DATE, ts DATETIME, s VARCHAR(20))",
            "INSERT INTO d.t VALUES ('2024-01-31', '2024-01-31 10:00:00', 'nope'), (NULL, NULL, NULL)",
        ],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT months_add(d, 1), date_add(ts, INTERVAL 90 MINUTE), days_add(s, 1) \
             FROM d.t ORDER BY d IS NULL"
        )
        .await,
        vec![
            vec!["2024-02-29", "2024-01-31 11:30:00", "NULL"],
            vec!["NULL", "NULL", "NULL"]
        ]
    );
}

#[tokio::test]
async fn starrocks_aggregates_strings_and_json() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE s (k INT, v INT, name VARCHAR(10))",
            "INSERT INTO s VALUES (1, 10, 'a'), (1, 30, 'b'), (1, 20, 'c'), (2, 5, 'd'), (2, NULL, 'e')",
            // StarRocks stores JSON parsed: a value reads back in its own text.
            "CREATE TABLE js (id INT, data JSON)",
            "INSERT INTO js VALUES (1, '{\"key\":\"aaa\"}'), (2, parse_json('{\"b\":[1,2],\"a\":1}'))",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT data FROM js ORDER BY id").await,
        vec![
            vec!["{\"key\": \"aaa\"}"],
            vec!["{\"a\": 1, \"b\": [1, 2]}"]
        ]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT k, max_by(name, v), min_by(name, v), percentile_disc(v, 0.5), \
             approx_count_distinct(v), any_value(k) FROM s GROUP BY k ORDER BY k"
        )
        .await,
        vec![
            vec!["1", "b", "a", "20", "3", "1"],
            vec!["2", "d", "d", "5", "1", "2"]
        ]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT percentile_approx(v, 0.5) FROM s WHERE k = 1"
        )
        .await,
        "20"
    );
    answers(
        &mut c,
        &[
            ("SELECT money_format(17014116), money_format(1123.456), money_format(1123.4)", "17,014,116.00|1,123.46|1,123.40"),
            ("SELECT url_encode('https://docs.starrocks.io/docs/introduction/StarRocks_intro/')", "https%3A%2F%2Fdocs.starrocks.io%2Fdocs%2Fintroduction%2FStarRocks_intro%2F"),
            ("SELECT url_decode('https%3A%2F%2Fdocs.starrocks.io%2Fdocs%2Fintroduction%2FStarRocks_intro%2F')", "https://docs.starrocks.io/docs/introduction/StarRocks_intro/"),
            ("SELECT split_part('hello world', ' ', 1)", "hello"),
            // StarRocks' documentation example: a literal number of places is the decimals kept.
            ("SELECT truncate(3.14,1), truncate(1.785927343, 3), truncate(123.45, -1), truncate(-3.99, 0)", "3.1|1.785|120|-3"),
            ("SELECT get_json_string('{\"k1\":\"v1\", \"k2\":\"v2\"}', '$.k1')", "v1"),
            ("SELECT get_json_int('{\"k1\":1, \"k2\":{\"k3\":2}}', '$.k2.k3')", "2"),
            ("SELECT get_json_double('{\"k1\":1.3, \"k2\":\"2\"}', '$.k1')", "1.3"),
            ("SELECT json_query('{\"a\": {\"b\": [1, 2]}}', '$.a.b')", "[1, 2]"),
            ("SELECT json_query(parse_json('{\"a\": 1}'), '$.a'), parse_json('nope')", "1|NULL"),
            ("SELECT '{\"a\": {\"b\": 1}}' -> '$.a', get_json_string('{\"a\": 1}', '$.nope')", "{\"b\": 1}|NULL"),
            // StarRocks' own test_json_set and test_get_json_string_object answers: JSON
            // values with a space after `:` and `,`, keys in order; get_json_string's text
            // of an object compact.
            ("SELECT parse_json('{\"name\": \"Alice\", \"tags\": [\"A\"], \"city\":\"W\"}')",
             "{\"city\": \"W\", \"name\": \"Alice\", \"tags\": [\"A\"]}"),
            ("SELECT get_json_string('{\"key\": {\"a1\":1}}', '$.key')", "{\"a1\":1}"),
            ("SELECT is_role_in_session('root'), is_role_in_session('no_such_role')", "1|0"),
        ],
    )
    .await;
}

/// MySQL's date-part and epoch functions as BI tools use them (Metabase groups by YEAR() /
/// QUARTER() / WEEK(), Grafana filters with UNIX_TIMESTAMP and FROM_UNIXTIME), with MySQL's
/// answers; NOW() at whole seconds as MySQL gives it.
#[tokio::test]
async fn date_parts_and_epochs_as_mysql_answers_them() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    answers(
        &mut c,
        &[
            ("SELECT year('2024-05-17'), month('2024-05-17'), day('2024-05-17'), dayofmonth('2024-05-17')", "2024|5|17|17"),
            ("SELECT day(CAST('2024-05-17' AS DATE)), day(CAST('2024-05-17' AS DATE))", "17|17"),
            ("SELECT hour('2024-05-17 10:11:12'), minute('2024-05-17 10:11:12'), second('2024-05-17 10:11:12.5')", "10|11|12"),
            ("SELECT quarter('2024-05-17'), dayofyear('2024-05-17'), dayofweek('2024-05-17'), weekofyear('2024-05-17')", "2|138|6|20"),
            ("SELECT week('2024-05-17'), week('2024-01-06'), week('2024-01-07'), week('2023-01-01')", "19|0|1|1"),
            ("SELECT unix_timestamp('2024-01-01 00:00:00'), from_unixtime(1704067200)", "1704067200|2024-01-01 00:00:00"),
            ("SELECT to_days('2024-01-01'), from_days(739251), dayname('2024-05-17'), monthname('2024-05-17')", "739251|2024-01-01|Friday|May"),
            ("SELECT now() = current_timestamp(), length(CAST(now() AS VARCHAR)) = 19, unix_timestamp() > 1700000000", "1|1|1"),
        ],
    )
    .await;
    // Grouping a table by the parts, as a dashboard does.
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.sales (at DATETIME, amount INT)",
            "INSERT INTO d.sales VALUES ('2024-01-05 10:00:00', 1), ('2024-02-10 11:00:00', 2), \
             ('2024-04-01 00:00:00', 4), ('2025-01-01 00:00:00', 8)",
        ],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT year(at), quarter(at), sum(amount) FROM d.sales GROUP BY year(at), quarter(at) \
             ORDER BY 1, 2"
        )
        .await,
        vec![
            vec!["2024", "1", "3"],
            vec!["2024", "2", "4"],
            vec!["2025", "1", "8"]
        ]
    );
    // The same expression twice, as MySQL allows.
    assert_eq!(
        rows(
            &mut c,
            "SELECT amount, amount, year(at), year(at) FROM d.sales ORDER BY 1 LIMIT 1"
        )
        .await,
        vec![vec!["1", "1", "2024", "2024"]]
    );
    server.stop().await;
}

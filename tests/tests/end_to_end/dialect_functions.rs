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

/// Functions MySQL and StarRocks both have that DataFusion lacks or answers otherwise, with the
/// answers their reference manuals give (MySQL's WEEK/YEARWEEK/CONV/SEC_TO_TIME examples,
/// StarRocks' regexp_extract, parse_url, next_day and JSON constructor examples).
#[tokio::test]
async fn mysql_and_starrocks_functions_answer_as_their_manuals_say() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    answers(
        &mut c,
        &[
            ("SELECT hex(255), hex('abc'), hex(-1)", "FF|616263|FFFFFFFFFFFFFFFF"),
            ("SELECT unhex('4D7953514C'), bin(12), char(77)", "MySQL|1100|M"),
            ("SELECT conv('a', 16, 2), conv('6E', 18, 8), conv('-17', 10, -18)", "1010|172|-H"),
            ("SELECT crc32('MySQL'), crc32('mysql')", "3259397556|2501908538"),
            (
                "SELECT sha2('abc', 224), sha2('abc', 7)",
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7|NULL",
            ),
            (
                "SELECT regexp_extract('AbCdE', '([[:lower:]]+)C([[:lower:]]+)', 1), \
                 regexp_extract('AbCdExCeF', '([[:lower:]]+)C([[:lower:]]+)', 2), \
                 regexp_extract('abc', 'x(.)', 1) = ''",
                "b|d|1",
            ),
            // MySQL and StarRocks replace every match; DataFusion alone, the first.
            ("SELECT regexp_replace('a b c', ' ', '-')", "a-b-c"),
            (
                "SELECT parse_url('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'HOST'), \
                 parse_url('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'QUERY'), \
                 parse_url('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'REF')",
                "facebook.com|k1=v1&k2=v2|Ref1",
            ),
            (
                "SELECT week('2008-02-20'), week('2008-02-20', 1), week('2008-12-31', 1), \
                 week('2000-01-01', 0), week('2000-01-01', 2)",
                "7|8|53|0|52",
            ),
            ("SELECT yearweek('1987-01-01'), yearweek('2024-01-01')", "198652|202353"),
            (
                "SELECT next_day('2023-04-05', 'Monday'), next_day('2023-04-05', 'Mo'), \
                 previous_day('2023-04-05', 'Wednesday')",
                "2023-04-10|2023-04-10|2023-03-29",
            ),
            ("SELECT makedate(2011, 31), makedate(2011, 32), makedate(2011, 0)", "2011-01-31|2011-02-01|NULL"),
            ("SELECT sec_to_time(2378), time_to_sec('22:23:00')", "00:39:38|80580"),
            (
                // StarRocks keeps an object's keys sorted (its documentation's example).
                "SELECT json_object('name', 'starrocks', 'active', true, 'published', 2020), \
                 json_array(1, 'a', NULL)",
                "{\"active\": true, \"name\": \"starrocks\", \"published\": 2020}|[1, \"a\", null]",
            ),
            (
                "SELECT json_length('[1, 2, 3]'), json_length('{\"a\": {\"b\": 1, \"c\": 2}}', '$.a'), \
                 json_keys('{\"a\": 1, \"b\": 2}'), json_exists('{\"a\": 1}', '$.a'), \
                 json_exists('{\"a\": 1}', '$.b')",
                "3|2|[\"a\", \"b\"]|1|0",
            ),
            ("SELECT pmod(-7, 3), positive(-4), negative(4), e() > 2.718", "2|-4|-4|1"),
            (
                "SELECT bitand(6, 3), bitor(6, 3), bitxor(6, 3), bitnot(1), bit_shift_left(1, 4), \
                 bit_shift_right(16, 2)",
                "2|7|5|-2|16|4",
            ),
            (
                "SELECT concat('[', space(2), ']'), strleft('starrocks', 4), strright('starrocks', 5), \
                 split('a,b,c', ',')",
                "[  ]|star|rocks|[\"a\",\"b\",\"c\"]",
            ),
            (
                "SELECT dayofweek_iso('2023-01-01'), week_iso('2023-01-01'), week_iso('2023-01-02')",
                "7|52|1",
            ),
            (
                "SELECT null_or_empty(''), null_or_empty(NULL), null_or_empty('a'), \
                 append_trailing_char_if_absent('a', 'c'), append_trailing_char_if_absent('ac', 'c')",
                "1|1|0|ac|ac",
            ),
            ("SELECT field('ej', 'Hej', 'ej', 'Heja'), field('fo', 'Hej')", "2|0"),
        ],
    )
    .await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v INT)",
            "INSERT INTO d.t VALUES (1, 1), (2, 2), (3, 3), (4, 3)",
        ],
    )
    .await;
    // MySQL's and StarRocks' STDDEV and VARIANCE are the population's.
    answers(
        &mut c,
        &[
            (
                "SELECT count_if(v > 1), multi_distinct_count(v), multi_distinct_sum(v) FROM d.t",
                "3|3|6",
            ),
            (
                "SELECT round(stddev(v), 4), round(std(v), 4), round(variance(v), 4), \
                 round(var_samp(v), 4), round(stddev_samp(v), 4) FROM d.t",
                "0.8292|0.8292|0.6875|0.9167|0.9574",
            ),
        ],
    )
    .await;
}

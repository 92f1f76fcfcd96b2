//! StarRocks' time bucketing and conversions with the answers its documentation gives:
//! `time_slice` / `date_slice` (windows counted from 0001-01-01, FLOOR or CEIL), `to_iso8601`,
//! `CAST(x AS DATETIME)` / `DATETIME '...'` / `CONVERT(x, DATETIME)` (also before 1677, which a
//! nanosecond timestamp cannot hold), `str_to_map`, `host_name()`; grouping a table's rows by
//! hour; casts of one value to several types in one select list.

use snaprock_tests::{TestServer, expect_error, rows, run, value};

#[tokio::test]
async fn time_slices_conversions_and_maps_answer_as_starrocks_documents() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    // The documentation's examples.
    assert_eq!(
        rows(
            &mut c,
            "SELECT date_slice('2022-04-26', interval 5 year), \
             date_slice('0001-01-07', interval 5 day, CEIL), \
             time_slice('1691-12-23 04:01:09', interval 5 second), \
             time_slice('2023-10-31 09:12:00', INTERVAL 5 MINUTE, ceil), \
             time_slice('2023-10-31 09:12:00', INTERVAL 1 quarter), \
             time_slice(NULL, INTERVAL 1 day)"
        )
        .await,
        vec![vec![
            "2021-01-01",
            "0001-01-11",
            "1691-12-23 04:01:05",
            "2023-10-31 09:15:00",
            "2023-10-01 00:00:00",
            "NULL"
        ]]
    );
    expect_error(
        &mut c,
        "SELECT date_slice('2022-04-26', interval 5 hour)",
        5064,
        "Getting analyzing error. Detail message: date_slice function can't support time unit HOUR.",
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT to_iso8601(date'2020-01-01'), to_iso8601(datetime'2020-01-01 00:00:00.01')"
        )
        .await,
        vec![vec!["2020-01-01", "2020-01-01T00:00:00.010000"]]
    );
    // A DATETIME prints its microseconds when it has a fraction of a second, as StarRocks does.
    assert_eq!(
        rows(
            &mut c,
            "SELECT DATETIME '2020-01-01 00:00:00.01', CAST('2020-01-01 10:00:00.123456' AS DATETIME)"
        )
        .await,
        vec![vec!["2020-01-01 00:00:00.010000", "2020-01-01 10:00:00.123456"]]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT CAST('2020-01-01 10:00:00' AS DATETIME), CAST('0001-01-07 10:00:00' AS DATETIME), \
             CONVERT('2020-01-02', DATETIME)"
        )
        .await,
        vec![vec![
            "2020-01-01 10:00:00",
            "0001-01-07 10:00:00",
            "2020-01-02 00:00:00"
        ]]
    );
    // One value cast to several types: each its own column (DataFusion names all of them `1`).
    assert_eq!(
        rows(
            &mut c,
            "SELECT CAST(1 AS SIGNED), CAST(1 AS CHAR), CAST(1 AS DOUBLE)"
        )
        .await,
        vec![vec!["1", "1", "1"]]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT str_to_map('a:1,b:2,a:3'), str_to_map('k=v;x=y', ';', '='), \
             str_to_map('a:1,b:2')['b'], str_to_map(NULL)"
        )
        .await,
        vec![vec![
            r#"{"a":"3","b":"2"}"#,
            r#"{"k":"v","x":"y"}"#,
            "2",
            "NULL"
        ]]
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(value(&mut c, "SELECT host_name()").await, host.trim());

    // Rows of a table bucketed by hour, and a map column filled by str_to_map.
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE events (id INT, at DATETIME, tags MAP<VARCHAR(10), VARCHAR(10)>) \
             DUPLICATE KEY(id) DISTRIBUTED BY HASH(id)",
            "INSERT INTO events VALUES (1, '2024-01-01 10:15:00', NULL), \
             (2, '2024-01-01 10:45:00', NULL), (3, '2024-01-01 11:05:00', NULL)",
            "INSERT INTO events SELECT 4, CAST('0001-01-01 00:00:07' AS DATETIME), str_to_map('src:web')",
        ],
    )
    .await;
    assert_eq!(
        rows(
            &mut c,
            "SELECT time_slice(at, INTERVAL 1 HOUR) AS h, count(*) FROM events \
             WHERE id < 4 GROUP BY h ORDER BY h"
        )
        .await,
        vec![
            vec!["2024-01-01 10:00:00", "2"],
            vec!["2024-01-01 11:00:00", "1"]
        ]
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT time_slice(at, INTERVAL 5 SECOND, CEIL), tags['src'] FROM events WHERE id = 4"
        )
        .await,
        vec![vec!["0001-01-01 00:00:10", "web"]]
    );
    server.stop().await;
}

//! ARRAY, MAP and STRUCT columns as StarRocks has them: declared with `ARRAY<T>`,
//! `MAP<K, V>`, `STRUCT<name T, ...>` (nested freely), filled with `[...]`, `map{k: v}`,
//! `row(...)`, `named_struct(...)`, printed the way StarRocks prints them (`[1,null]`,
//! `{1:"a"}`, `{"x":1}`), read with `a[i]`, `m[k]`, `s.f`, `element_at`, the array and map
//! functions and a lateral `unnest`; refused where StarRocks refuses them (keys, partitions,
//! distribution); kept across a restart and carried whole through BACKUP and RESTORE.

use snaprock_tests::{TestServer, expect_error, rows, run, value};

/// Each row's values joined by `|` (values here contain commas).
async fn piped(c: &mut mysql_async::Conn, sql: &str) -> Vec<String> {
    rows(c, sql)
        .await
        .into_iter()
        .map(|r| r.join("|"))
        .collect()
}

const CREATE: &str = "CREATE TABLE t (id INT, a ARRAY<INT>, m MAP<INT, VARCHAR(10)>, \
     s STRUCT<x INT, y STRING>, aa ARRAY<ARRAY<STRING>>, ms MAP<STRING, ARRAY<DATE>>) \
     DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1";

async fn fill(c: &mut mysql_async::Conn) {
    run(
        c,
        &[
            CREATE,
            "INSERT INTO t VALUES (1, [1,2,3], map{1:'a', 2:'b'}, named_struct('x', 1, 'y', 'b'), \
             [['a','b'],[]], map{'k': ['2024-01-02']})",
            "INSERT INTO t VALUES (2, [], map{}, row(2, 'say \"hi\"'), NULL, NULL)",
            "INSERT INTO t (id, a, s) VALUES (3, [NULL, 5], struct(3, NULL))",
        ],
    )
    .await;
}

#[tokio::test]
async fn complex_columns_hold_and_print_values_as_starrocks_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    fill(&mut c).await;
    let expected = vec![
        r#"1|[1,2,3]|{1:"a",2:"b"}|{"x":1,"y":"b"}|[["a","b"],[]]|{"k":["2024-01-02"]}"#,
        r#"2|[]|{}|{"x":2,"y":"say \"hi\""}|NULL|NULL"#,
        r#"3|[null,5]|NULL|{"x":3,"y":null}|NULL|NULL"#,
    ];
    assert_eq!(piped(&mut c, "SELECT * FROM t ORDER BY id").await, expected);
    // An INSERT ... SELECT's row() takes the STRUCT column's field names by position too.
    run(
        &mut c,
        &["INSERT INTO t (id, s) SELECT 9, row(9, 'from select')"],
    )
    .await;
    assert_eq!(
        piped(&mut c, "SELECT s FROM t WHERE id = 9").await,
        vec![r#"{"x":9,"y":"from select"}"#]
    );
    run(&mut c, &["DELETE FROM t WHERE id = 9"]).await;
    // Access by position (1-based), key and field; functions over arrays and maps.
    assert_eq!(
        piped(
            &mut c,
            "SELECT id, a[1], a[9], m[2], s.x, element_at(a, 2), element_at(m, 1), \
             array_length(a), array_contains(a, 2), cardinality(m), map_keys(m), array_sum(a) \
             FROM t ORDER BY id"
        )
        .await,
        vec![
            "1|1|NULL|b|1|2|a|3|1|2|[1,2]|6",
            "2|NULL|NULL|NULL|2|NULL|NULL|0|0|0|[]|NULL",
            "3|NULL|NULL|NULL|3|5|NULL|2|0|NULL|NULL|5",
        ]
    );
    // Literals as StarRocks prints them (row() fields are col1, col2, ...).
    assert_eq!(
        piped(
            &mut c,
            "SELECT [1, NULL], ['a','b'], map{1:\"apple\"}, row(1, 2), named_struct('a', 1, 'b', 'x')"
        )
        .await,
        vec![r#"[1,null]|["a","b"]|{1:"apple"}|{"col1":1,"col2":2}|{"a":1,"b":"x"}"#]
    );
    // A field of a struct value by name, after a function or a subscript as after a column.
    assert_eq!(
        piped(
            &mut c,
            "SELECT named_struct('a', 1, 'b', 'x').b, [named_struct('a', 5)][1].a, row(7, 8).col2"
        )
        .await,
        vec!["x|5|8"]
    );
    // StarRocks' array and map functions with its semantics (typed literals, array_slice by
    // length, array_remove of every match, reverse of arrays and of text).
    assert_eq!(
        piped(
            &mut c,
            "SELECT ARRAY<float>[1, 2], ARRAY<INT>[], ARRAY<INT>['12', '100'], \
             array_slice([1,2,3,4], 2, 2), array_remove([1,2,1], 1), reverse([1,2,3]), \
             reverse('abc'), map_size(map{1:'a', 2:'b'}), array_join(['a', NULL, 'b'], ',', 'N')"
        )
        .await,
        vec!["[1,2]|[]|[12,100]|[2,3]|[2]|[3,2,1]|cba|2|a,N,b"]
    );
    // Lambdas, lambda first as StarRocks writes them (or array first); `->` stays MySQL's JSON
    // operator in statements without one.
    assert_eq!(
        piped(
            &mut c,
            "SELECT id, array_map(x -> x * 10, a), array_filter(x -> x > 1, a), \
             any_match(x -> x > 2, a), all_match(x -> x > 0, a) FROM t ORDER BY id"
        )
        .await,
        vec![
            "1|[10,20,30]|[2,3]|1|1",
            "2|[]|[]|0|1",
            "3|[null,50]|[5]|1|NULL",
        ]
    );
    assert_eq!(
        value(&mut c, "SELECT array_map([1, 2], x -> x + 1)").await,
        "[2,3]"
    );
    assert_eq!(value(&mut c, "SELECT '{\"a\": 7}' -> '$.a'").await, "7");
    // Lateral unnest, in both spellings; empty and NULL arrays give no rows; NULL sorts first.
    let unnested = vec!["1|1", "1|2", "1|3", "3|NULL", "3|5"];
    assert_eq!(
        piped(
            &mut c,
            "SELECT id, u.x FROM t, unnest(t.a) AS u(x) ORDER BY id, x"
        )
        .await,
        unnested
    );
    assert_eq!(
        piped(
            &mut c,
            "SELECT t.id, unnest FROM t CROSS JOIN unnest(a) ORDER BY 1, 2"
        )
        .await,
        unnested
    );
    assert_eq!(
        value(&mut c, "SELECT array_agg(id ORDER BY id) FROM t").await,
        "[1,2,3]"
    );
    assert_eq!(
        value(&mut c, "SELECT count(*) FROM t WHERE array_contains(a, 5)").await,
        "1"
    );
    // Types as StarRocks names them.
    let create = rows(&mut c, "SHOW CREATE TABLE t")
        .await
        .remove(0)
        .remove(1);
    assert!(
        create.contains("`a` array<int(11)> NULL")
            && create.contains("`m` map<int(11),varchar(10)> NULL")
            && create.contains("`s` struct<x int(11), y varchar(65533)> NULL")
            && create.contains("`ms` map<varchar(65533),array<date>> NULL"),
        "{create}"
    );
    // SHOW CREATE TABLE's text creates the same table again.
    run(
        &mut c,
        &[&create.replacen("CREATE TABLE `t`", "CREATE TABLE `t_again`", 1)],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SHOW CREATE TABLE t_again")
            .await
            .remove(0)
            .remove(1),
        create.replacen("CREATE TABLE `t`", "CREATE TABLE `t_again`", 1)
    );
    assert_eq!(
        piped(
            &mut c,
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.columns \
             WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME = 't' AND DATA_TYPE <> 'int' \
             ORDER BY ORDINAL_POSITION"
        )
        .await,
        vec![
            "a|array|array<int(11)>",
            "m|map|map<int(11),varchar(10)>",
            "s|struct|struct<x int(11), y varchar(65533)>",
            "aa|array|array<array<varchar(65533)>>",
            "ms|map|map<varchar(65533),array<date>>",
        ]
    );
    // A PRIMARY KEY table upserts complex values; CTAS keeps the types.
    run(
        &mut c,
        &[
            "CREATE TABLE pk (id INT, tags ARRAY<STRING>, attrs MAP<STRING, INT>) \
             PRIMARY KEY(id) DISTRIBUTED BY HASH(id)",
            "INSERT INTO pk VALUES (1, ['a'], map{'x': 1}), (2, ['b'], map{'y': 2})",
            "INSERT INTO pk VALUES (1, ['z', 'z'], map{'w': 26})",
            "UPDATE pk SET tags = ['u'] WHERE id = 2",
            "CREATE TABLE copy AS SELECT * FROM pk",
            "ALTER TABLE pk ADD COLUMN extra ARRAY<BIGINT>",
        ],
    )
    .await;
    assert_eq!(
        piped(&mut c, "SELECT * FROM pk ORDER BY id").await,
        vec![r#"1|["z","z"]|{"w":26}|NULL"#, r#"2|["u"]|{"y":2}|NULL"#]
    );
    assert_eq!(
        piped(&mut c, "SELECT * FROM copy ORDER BY id").await,
        vec![r#"1|["z","z"]|{"w":26}"#, r#"2|["u"]|{"y":2}"#]
    );
    drop(c);
    server.stop().await;

    // After a restart: same values, same types.
    let server = TestServer::start_in(dir.path(), "").await;
    let mut c = server.conn().await;
    assert_eq!(
        piped(&mut c, "SELECT * FROM d.t ORDER BY id").await,
        expected
    );
    let after = rows(&mut c, "SHOW CREATE TABLE d.t")
        .await
        .remove(0)
        .remove(1);
    assert_eq!(after, create);
    server.stop().await;
}

#[tokio::test]
async fn complex_columns_are_refused_where_starrocks_refuses_them() {
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    for (sql, message) in [
        (
            "CREATE TABLE e1 (a ARRAY<INT>, id INT) DISTRIBUTED BY HASH(id)",
            "Data type of first column cannot be ARRAY<INT>",
        ),
        (
            "CREATE TABLE e2 (id INT, m MAP<INT, INT>) DUPLICATE KEY(id, m) DISTRIBUTED BY HASH(id)",
            "Invalid data type of key column 'm': 'MAP<INT,INT>'",
        ),
        (
            "CREATE TABLE e3 (id INT, a ARRAY<INT>) DISTRIBUTED BY HASH(a)",
            "Invalid data type of distribution column 'a': 'ARRAY<INT>'",
        ),
        (
            "CREATE TABLE e4 (id INT, s STRUCT<x INT>) PARTITION BY LIST(s) () \
             DISTRIBUTED BY HASH(id)",
            "Invalid data type of partition column 's': 'STRUCT<x INT>'",
        ),
        (
            "CREATE TABLE e5 (id INT, a ARRAY<INT> SUM) AGGREGATE KEY(id) DISTRIBUTED BY HASH(id)",
            "Invalid aggregate function 'SUM' for 'a'",
        ),
    ] {
        let full = format!("Getting analyzing error. Detail message: {message}.");
        expect_error(&mut c, sql, 5064, &full).await;
    }
    // The connection stays usable and nothing was created.
    assert_eq!(
        value(
            &mut c,
            "SELECT count(*) FROM information_schema.tables WHERE TABLE_SCHEMA = 'd'"
        )
        .await,
        "0"
    );
    server.stop().await;
}

#[tokio::test]
async fn complex_tables_back_up_and_restore_whole() {
    let server = TestServer::start().await;
    let repo = tempfile::tempdir().unwrap();
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "USE d"]).await;
    fill(&mut c).await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.snap TO repo",
        ],
    )
    .await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "Status"), "[OK]", "{row:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "repo", "snap", "d2").await;
    assert_eq!(
        piped(&mut c, "SELECT * FROM d2.t ORDER BY id").await,
        piped(&mut c, "SELECT * FROM d.t ORDER BY id").await,
    );
    let create = |db: &str| format!("SHOW CREATE TABLE {db}.t");
    assert_eq!(
        rows(&mut c, &create("d2")).await.remove(0).remove(1),
        rows(&mut c, &create("d")).await.remove(0).remove(1),
    );
    assert_eq!(
        value(&mut c, "SELECT sum(array_sum(a)) FROM d2.t").await,
        "11"
    );
    server.stop().await;
}

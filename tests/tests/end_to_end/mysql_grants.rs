//! GRANT and REVOKE in MySQL's form, without an object type (`ON db.tbl`, `ON db.*`,
//! `ON *.*`), which StarRocks reads as tables: each opens exactly what it names, SHOW GRANTS
//! writes it in StarRocks' form, and REVOKE in the same form closes it again.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::{TestServer, rows, run, value};

async fn can_read(c: &mut Conn, table: &str) -> bool {
    c.query_drop(format!("SELECT * FROM {table}")).await.is_ok()
}

#[tokio::test]
async fn grants_without_an_object_type_name_tables() {
    let server = TestServer::start().await;
    let mut root = server.conn().await;
    run(
        &mut root,
        &[
            "CREATE DATABASE d",
            "CREATE DATABASE e",
            "CREATE TABLE d.t (k INT)",
            "CREATE TABLE d.t2 (k INT)",
            "CREATE TABLE e.t (k INT)",
            "INSERT INTO d.t VALUES (1)",
            "CREATE USER u1 IDENTIFIED BY 'pw'",
            "GRANT SELECT ON d.t TO u1",
        ],
    )
    .await;
    let mut u = Conn::new(server.opts("u1", Some("pw"), None))
        .await
        .unwrap();
    assert_eq!(value(&mut u, "SELECT k FROM d.t").await, "1");
    assert!(!can_read(&mut u, "d.t2").await);
    assert!(!can_read(&mut u, "e.t").await);

    run(&mut root, &["GRANT SELECT ON d.* TO u1"]).await;
    assert!(can_read(&mut u, "d.t2").await);
    assert!(!can_read(&mut u, "e.t").await);
    run(&mut root, &["GRANT SELECT ON *.* TO 'u1'@'%'"]).await;
    assert!(can_read(&mut u, "e.t").await);

    let grants: Vec<String> = rows(&mut root, "SHOW GRANTS FOR u1")
        .await
        .into_iter()
        .map(|r| r.join(" | "))
        .collect();
    for expected in [
        "GRANT SELECT ON TABLE d.t TO USER 'u1'@'%'",
        "GRANT SELECT ON ALL TABLES IN DATABASE d TO USER 'u1'@'%'",
        "GRANT SELECT ON ALL TABLES IN ALL DATABASES TO USER 'u1'@'%'",
    ] {
        assert!(
            grants.iter().any(|g| g.contains(expected)),
            "{expected} in {grants:?}"
        );
    }

    run(
        &mut root,
        &[
            "REVOKE SELECT ON *.* FROM u1",
            "REVOKE SELECT ON d.* FROM u1",
        ],
    )
    .await;
    assert!(!can_read(&mut u, "e.t").await);
    assert!(!can_read(&mut u, "d.t2").await);
    assert!(can_read(&mut u, "d.t").await);
    run(&mut root, &["REVOKE SELECT ON d.t FROM u1"]).await;
    assert!(!can_read(&mut u, "d.t").await);

    // A malformed object is a syntax error, and grants nothing.
    for sql in ["GRANT SELECT ON d. TO u1", "GRANT SELECT ON *.t TO u1"] {
        let err = root.query_drop(sql).await.unwrap_err();
        let mysql_async::Error::Server(e) = err else {
            panic!("{sql}: {err:?}")
        };
        assert_eq!(e.code, 1064, "{sql}: {}", e.message);
        assert!(
            e.message.starts_with("Getting syntax error"),
            "{sql}: {}",
            e.message
        );
    }
    assert!(!can_read(&mut u, "d.t").await);
}

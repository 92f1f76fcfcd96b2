//! MySQL protocol behaviour with real clients: pipelining, COM_FIELD_LIST, COM_STATISTICS,
//! prepared statements, multi-statements, authentication, and errors that leave the connection
//! usable.

use mysql_async::prelude::*;
use snaprock_tests::{TestServer, error_code, rows, run, server_error, value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A minimal hand-written client, to send what client libraries never do (pipelining).
struct RawClient {
    stream: TcpStream,
}

const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x20000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
const CLIENT_SESSION_TRACK: u32 = 0x800000;

impl RawClient {
    async fn connect(server: &TestServer) -> Self {
        let stream = TcpStream::connect(server.addr).await.unwrap();
        let mut c = RawClient { stream };
        let (_, greeting) = c.read_packet().await;
        assert_eq!(greeting[0], 10, "protocol version 10");
        // Like the MariaDB CLI, ask for session tracking (the server must not use it).
        let caps = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | CLIENT_SESSION_TRACK;
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(b"root\0");
        p.push(0); // empty auth response: root has no password
        p.extend_from_slice(b"mysql_native_password\0");
        c.write_packets(&[(1, p)]).await;
        let (_, ok) = c.read_packet().await;
        assert_eq!(ok[0], 0, "login OK");
        c
    }

    async fn write_packets(&mut self, packets: &[(u8, Vec<u8>)]) {
        let mut bytes = Vec::new();
        for (seq, payload) in packets {
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
            bytes.push(*seq);
            bytes.extend_from_slice(payload);
        }
        self.stream.write_all(&bytes).await.unwrap();
    }

    async fn read_packet(&mut self) -> (u8, Vec<u8>) {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await.unwrap();
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload).await.unwrap();
        (header[3], payload)
    }

    fn is_eof(p: &[u8]) -> bool {
        p.first() == Some(&0xfe) && p.len() < 9
    }

    /// Reads a text result set; returns the first column of each row.
    async fn read_result_set(&mut self) -> Vec<String> {
        let (_, count) = self.read_packet().await;
        assert_ne!(count[0], 0xff, "error: {}", String::from_utf8_lossy(&count));
        let columns = count[0] as usize;
        for _ in 0..columns {
            self.read_packet().await;
        }
        let (_, eof) = self.read_packet().await;
        assert!(Self::is_eof(&eof));
        let mut values = Vec::new();
        loop {
            let (_, p) = self.read_packet().await;
            if Self::is_eof(&p) {
                return values;
            }
            let len = p[0] as usize;
            values.push(String::from_utf8_lossy(&p[1..1 + len]).to_string());
        }
    }
}

#[tokio::test]
async fn pipelined_queries_in_one_write_are_all_answered() {
    let server = TestServer::start().await;
    let mut c = RawClient::connect(&server).await;
    let queries: Vec<(u8, Vec<u8>)> = ["SELECT 1", "SELECT 2", "SELECT 3"]
        .iter()
        .map(|q| (0, [&[3u8][..], q.as_bytes()].concat()))
        .collect();
    c.write_packets(&queries).await;
    assert_eq!(c.read_result_set().await, vec!["1"]);
    assert_eq!(c.read_result_set().await, vec!["2"]);
    assert_eq!(c.read_result_set().await, vec!["3"]);
}

#[tokio::test]
async fn field_list_and_statistics() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (a INT, b VARCHAR(10), c DATE)",
        ],
    )
    .await;
    let mut c = RawClient::connect(&server).await;
    c.write_packets(&[(0, b"\x02d".to_vec())]).await; // COM_INIT_DB
    let (_, ok) = c.read_packet().await;
    assert_eq!(ok[0], 0);
    c.write_packets(&[(0, b"\x04t\0".to_vec())]).await; // COM_FIELD_LIST
    let mut names = Vec::new();
    loop {
        let (_, p) = c.read_packet().await;
        assert_ne!(
            p[0],
            0xff,
            "COM_FIELD_LIST failed: {}",
            String::from_utf8_lossy(&p)
        );
        if RawClient::is_eof(&p) {
            // A short EOF, even though the client asked for session tracking (the CLI hang).
            assert!(p.len() < 8, "terminator of {} bytes", p.len());
            break;
        }
        // catalog "def", schema, table, org_table, name
        let mut pos = 0;
        let mut fields = Vec::new();
        for _ in 0..5 {
            let len = p[pos] as usize;
            fields.push(String::from_utf8_lossy(&p[pos + 1..pos + 1 + len]).to_string());
            pos += 1 + len;
        }
        names.push(fields[4].clone());
    }
    assert_eq!(names, vec!["a", "b", "c"]);
    c.write_packets(&[(0, vec![0x09])]).await; // COM_STATISTICS
    let (_, stats) = c.read_packet().await;
    assert!(
        String::from_utf8_lossy(&stats).starts_with("Uptime: "),
        "{}",
        String::from_utf8_lossy(&stats)
    );
    c.write_packets(&[(0, vec![0x0e])]).await; // COM_PING
    let (_, pong) = c.read_packet().await;
    assert_eq!(pong[0], 0);
    c.write_packets(&[(0, vec![0x1d])]).await; // COM_DAEMON: not a client command
    let (_, err) = c.read_packet().await;
    assert_eq!(err[0], 0xff);
    assert_eq!(u16::from_le_bytes([err[1], err[2]]), 1047);
    assert_eq!(c.read_result_set_after(b"SELECT 5").await, vec!["5"]);
}

impl RawClient {
    async fn read_result_set_after(&mut self, query: &[u8]) -> Vec<String> {
        self.write_packets(&[(0, [&[3u8][..], query].concat())])
            .await;
        self.read_result_set().await
    }
}

#[tokio::test]
async fn prepared_statements_with_parameters() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE t (id BIGINT, name VARCHAR(20), price DECIMAL(10,2), day DATE, at DATETIME, ok BOOLEAN, score DOUBLE)",
        ],
    )
    .await;
    let insert = conn
        .prep("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)")
        .await
        .unwrap();
    conn.exec_drop(
        &insert,
        (
            1i64,
            "it's",
            "10.25",
            "2024-02-29",
            "2024-02-29 13:14:15",
            true,
            1.5f64,
        ),
    )
    .await
    .unwrap();
    conn.exec_drop(
        &insert,
        (
            2i64,
            None::<String>,
            None::<String>,
            None::<String>,
            None::<String>,
            None::<bool>,
            None::<f64>,
        ),
    )
    .await
    .unwrap();
    let found: Vec<(i64, Option<String>, Option<String>)> = conn
        .exec(
            "SELECT id, name, CAST(price AS VARCHAR) FROM t WHERE id >= ? ORDER BY id",
            (1,),
        )
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![
            (1, Some("it's".into()), Some("10.25".into())),
            (2, None, None)
        ]
    );
    // Binary-protocol values of every type.
    let row: Vec<mysql_async::Row> = conn
        .exec("SELECT * FROM t WHERE id = ?", (1,))
        .await
        .unwrap();
    let row = &row[0];
    assert_eq!(row.get::<i64, _>(0), Some(1));
    assert_eq!(row.get::<String, _>(2).as_deref(), Some("10.25"));
    assert_eq!(
        row.get::<mysql_async::Value, _>(3),
        Some(mysql_async::Value::Date(2024, 2, 29, 0, 0, 0, 0))
    );
    assert_eq!(
        row.get::<mysql_async::Value, _>(4),
        Some(mysql_async::Value::Date(2024, 2, 29, 13, 14, 15, 0))
    );
    assert_eq!(row.get::<i64, _>(5), Some(1));
    assert_eq!(row.get::<f64, _>(6), Some(1.5));
    // A statement that cannot be prepared is an error, and the connection goes on.
    assert_eq!(
        error_code(conn.prep("SELECT * FROM missing WHERE a = ?").await),
        1146
    );
    assert_eq!(error_code(conn.prep("SELEKT ?").await), 1064);
    assert_eq!(value(&mut conn, "SELECT count(*) FROM t").await, "2");
}

#[tokio::test]
async fn multi_statements_return_every_result() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    let mut result = conn
        .query_iter("SELECT 1 AS a; CREATE DATABASE m; SELECT 'x' AS b, 2 AS c")
        .await
        .unwrap();
    let first: Vec<i64> = result.collect().await.unwrap();
    assert_eq!(first, vec![1]);
    let second: Vec<mysql_async::Row> = result.collect().await.unwrap();
    assert!(second.is_empty());
    let third: Vec<(String, i64)> = result.collect().await.unwrap();
    assert_eq!(third, vec![("x".into(), 2)]);
    drop(result);
    // An error stops the rest, as in MySQL; the connection stays usable.
    let err = conn
        .query_drop("SELECT 1; SELECT * FROM nope.t; CREATE DATABASE never")
        .await;
    assert_eq!(error_code(err), 1049);
    assert_eq!(
        value(
            &mut conn,
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'never'"
        )
        .await,
        "0"
    );
}

#[tokio::test]
async fn errors_carry_mysql_codes_and_leave_the_connection_usable() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    let (code, message) = server_error(conn.query_drop("SELECT * FORM t").await);
    assert_eq!(code, 1064);
    assert!(message.contains("at line 1"), "{message}");
    assert_eq!(error_code(conn.query_drop("USE nowhere").await), 1049);
    assert_eq!(error_code(conn.query_drop("SELECT * FROM t").await), 1046);
    run(&mut conn, &["CREATE DATABASE d", "USE d"]).await;
    assert_eq!(error_code(conn.query_drop("CREATE DATABASE d").await), 1007);
    assert_eq!(
        error_code(conn.query_drop("SELECT * FROM nope").await),
        1146
    );
    run(
        &mut conn,
        &["CREATE TABLE t (a INT NOT NULL, s VARCHAR(3))"],
    )
    .await;
    assert_eq!(
        error_code(conn.query_drop("CREATE TABLE t (b INT)").await),
        1050
    );
    assert_eq!(
        error_code(conn.query_drop("SELECT nope FROM t").await),
        1054
    );
    assert_eq!(
        error_code(conn.query_drop("INSERT INTO t VALUES (NULL, 'a')").await),
        1048
    );
    assert_eq!(
        error_code(conn.query_drop("INSERT INTO t VALUES (1, 'toolong')").await),
        1406
    );
    assert_eq!(
        error_code(conn.query_drop("INSERT INTO t VALUES ('abc', 'a')").await),
        1366
    );
    assert_eq!(
        error_code(conn.query_drop("SET @@no_such_variable = 1").await),
        1193
    );
    assert_eq!(
        error_code(conn.query_drop("SET autocommit = 'maybe'").await),
        1231
    );
    assert_eq!(error_code(conn.query_drop("").await), 1065);
    assert_eq!(error_code(conn.query_drop("DROP TABLE nope").await), 1146);
    run(&mut conn, &["DROP TABLE IF EXISTS nope"]).await;
    // Nothing of the failed inserts was written.
    assert_eq!(value(&mut conn, "SELECT count(*) FROM t").await, "0");
    assert_eq!(value(&mut conn, "SELECT 42").await, "42");
}

#[tokio::test]
async fn authentication() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), "s3cret").await;
    let mut ok = mysql_async::Conn::new(server.opts("root", Some("s3cret"), None))
        .await
        .unwrap();
    assert_eq!(value(&mut ok, "SELECT CURRENT_USER()").await, "'root'@'%'");
    let (code, message) =
        server_error(mysql_async::Conn::new(server.opts("root", Some("wrong"), None)).await);
    assert_eq!(code, 1045);
    assert_eq!(
        message,
        "Access denied for user 'root'@'127.0.0.1' (using password: YES)"
    );
    let (code, message) =
        server_error(mysql_async::Conn::new(server.opts("root", None, None)).await);
    assert_eq!(code, 1045);
    assert!(message.ends_with("(using password: NO)"), "{message}");
    assert_eq!(
        error_code(mysql_async::Conn::new(server.opts("nobody", Some("s3cret"), None)).await),
        1045
    );
    // After three failures from one address, each further one is answered late (and later
    // each time); the right password still gets in at once, and clears the count.
    for expected_ms in [250, 500] {
        let started = std::time::Instant::now();
        let (code, _) =
            server_error(mysql_async::Conn::new(server.opts("root", Some("guess"), None)).await);
        assert_eq!(code, 1045);
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(expected_ms),
            "failure answered after {:?}",
            started.elapsed()
        );
    }
    // A database in the handshake: unknown is 1049, known is selected.
    assert_eq!(
        error_code(mysql_async::Conn::new(server.opts("root", Some("s3cret"), Some("nodb"))).await),
        1049
    );
}

#[tokio::test]
async fn session_statements_clients_send_on_connect() {
    let server = TestServer::start().await;
    let mut conn = server.conn().await;
    run(
        &mut conn,
        &[
            "SET NAMES utf8mb4",
            "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'",
            "SET character_set_results = NULL",
            "SET @@session.autocommit = OFF",
            "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')",
            "SET sql_mode=(SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')), time_zone='+00:00'",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "SET SQL_AUTO_IS_NULL = 0",
            "SET @user_var := 7",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "/* ApplicationName=DBeaver 24.0 - Main */ SELECT 1",
        ],
    )
    .await;
    assert!(
        value(&mut conn, "SELECT @@sql_mode")
            .await
            .ends_with(",PIPES_AS_CONCAT")
    );
    assert_eq!(value(&mut conn, "SELECT @@time_zone").await, "+00:00");
    assert_eq!(value(&mut conn, "SELECT @user_var + 1").await, "8");
    assert_eq!(
        value(&mut conn, "SELECT @@character_set_client").await,
        "utf8mb4"
    );
    // Connector/J 8's connect query: every value present.
    let sql = "/* mysql-connector-j-8.4.0 */SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@character_set_connection AS character_set_connection, @@character_set_results AS character_set_results, @@character_set_server AS character_set_server, @@collation_server AS collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, @@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout";
    let r = rows(&mut conn, sql).await;
    assert_eq!(r[0].len(), 19);
    assert_eq!(r[0][11], "67108864");
    let names: Vec<String> = {
        let result = conn
            .query_iter("SELECT @@version_comment LIMIT 1")
            .await
            .unwrap();
        result
            .columns_ref()
            .iter()
            .map(|c| c.name_str().to_string())
            .collect()
    };
    assert_eq!(names, vec!["@@version_comment"]);
    // The CLI's `status`: several variables with the same value in one SELECT.
    let r = rows(&mut conn, "select @@character_set_client, @@character_set_connection, @@character_set_server, @@character_set_database limit 1").await;
    assert_eq!(r, vec![vec!["utf8mb4"; 4]]);
    let r = rows(&mut conn, "select DATABASE(), SCHEMA(), USER() limit 1").await;
    assert_eq!(r[0][0], r[0][1]);
    let r = rows(
        &mut conn,
        "SELECT DATABASE(), USER(), VERSION(), CONNECTION_ID() > 0, count(*) FROM (SELECT 1) AS x",
    )
    .await;
    assert_eq!(r[0][0], "NULL");
    assert_eq!(r[0][1], "root@127.0.0.1");
    assert_eq!(r[0][2], "8.0.33-snaprock");
    assert_eq!(r[0][3], "1");
    let names: Vec<String> = {
        let result = conn
            .query_iter("SELECT DATABASE(), count(*), 1+1, 'a' FROM (SELECT 1) x")
            .await
            .unwrap();
        result
            .columns_ref()
            .iter()
            .map(|c| c.name_str().to_string())
            .collect()
    };
    assert_eq!(names, vec!["DATABASE()", "count(*)", "1+1", "a"]);
    assert_eq!(
        value(&mut conn, "SELECT IF(1 > 0, 'yes', 'no')").await,
        "yes"
    );
    assert_eq!(value(&mut conn, "SELECT IFNULL(NULL, 3)").await, "3");
    assert_eq!(value(&mut conn, "SELECT 1 FROM DUAL").await, "1");
}

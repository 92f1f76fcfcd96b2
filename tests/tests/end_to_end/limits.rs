//! What a client, logged in or not, can take from the server: packet sizes before and after
//! login (measured in the real binary's memory), connections, a handshake that never ends, an
//! idle session; and a SIGTERM that lets the running statement finish and exits 0.

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use snaprock_tests::raw::{RawClient, error_of};
use snaprock_tests::{ServerProcess, TestServer, expect_error, run, value};

const GIB: usize = 1 << 30;
const MIB: u64 = 1 << 20;

/// Streams a 1 GiB packet at the server and returns (answer, peak RSS growth in bytes).
async fn stream_one_gib(
    server: &ServerProcess,
    client: &mut RawClient,
    first_seq: u8,
) -> (Option<(u16, String)>, u64) {
    let before = server.memory("VmHWM").max(server.memory("VmRSS"));
    let sent = client.stream_packet(first_seq, GIB).await;
    assert!(sent < GIB, "the server read the whole 1 GiB packet");
    let answer = client
        .read_packet_within(Duration::from_secs(10))
        .await
        .and_then(|(_, payload)| error_of(&payload));
    let after = server.memory("VmHWM");
    eprintln!(
        "streamed {} MiB of a 1 GiB packet; peak RSS {} -> {} MiB",
        sent >> 20,
        before >> 20,
        after >> 20
    );
    (answer, after.saturating_sub(before))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_packets_are_refused_without_buffering_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path()).await;
    let too_large = (
        1153,
        "Got a packet bigger than 'max_allowed_packet' bytes".to_string(),
    );

    // Before login: the handshake response may hold 64 KiB.
    let mut client = RawClient::connect(server.addr()).await;
    client.read_packet().await.expect("greeting");
    let (answer, growth) = stream_one_gib(&server, &mut client, 1).await;
    assert_eq!(answer, Some(too_large.clone()));
    assert!(growth < 4 * MIB, "RSS grew by {growth} bytes before login");
    assert!(
        client
            .read_packet_within(Duration::from_secs(5))
            .await
            .is_none(),
        "closed"
    );

    // After login: max_allowed_packet, 64 MiB by default.
    let mut client = RawClient::login_root(server.addr()).await;
    let (answer, growth) = stream_one_gib(&server, &mut client, 0).await;
    assert_eq!(answer, Some(too_large.clone()));
    assert!(
        growth < 64 * MIB + 8 * MIB,
        "RSS grew by {} MiB after login, over max_allowed_packet",
        growth / MIB
    );
    assert!(
        client
            .read_packet_within(Duration::from_secs(5))
            .await
            .is_none(),
        "closed"
    );

    // SET GLOBAL applies to new connections; a packet within the limit is served.
    let mut c = server.conn().await;
    run(&mut c, &["SET GLOBAL max_allowed_packet = 1048576"]).await;
    assert_eq!(
        value(&mut c, "SELECT @@session.max_allowed_packet").await,
        "67108864"
    );
    let mut small = server.conn().await;
    assert_eq!(
        value(&mut small, "SELECT @@max_allowed_packet").await,
        "1048576"
    );
    let mut raw = RawClient::login_root(server.addr()).await;
    let fits = format!("SELECT length('{}')", "y".repeat(900_000));
    let (_, columns) = raw.query(&fits).await;
    assert_eq!(columns, [1], "a result set of one column");
    let mut raw = RawClient::login_root(server.addr()).await;
    let over = format!("SELECT length('{}')", "y".repeat(1_100_000));
    let (_, refused) = raw.query_maybe_refused(&over).await;
    assert_eq!(error_of(&refused), Some(too_large));
    assert_eq!(
        value(&mut c, "SELECT 1").await,
        "1",
        "other connections go on"
    );
    expect_error(
        &mut c,
        "SET max_allowed_packet = 2048",
        1621,
        "SESSION variable 'max_allowed_packet' is read-only. Use SET GLOBAL to assign the value",
    )
    .await;
    drop(c);
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_refuses_the_one_too_many() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    run(&mut admin, &["SET GLOBAL max_connections = 3"]).await;
    let second = server.conn().await;
    let mut third = server.conn().await;
    let refused = mysql_async::Conn::new(server.opts("root", None, None)).await;
    assert_eq!(
        snaprock_tests::server_error(refused),
        (1040, "Too many connections".to_string())
    );
    assert_eq!(
        value(&mut third, "SELECT 3").await,
        "3",
        "served connections go on"
    );
    drop(second);
    let mut again = None;
    for _ in 0..100 {
        if let Ok(c) = mysql_async::Conn::new(server.opts("root", None, None)).await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut again = again.expect("a slot frees when a connection closes");
    assert_eq!(value(&mut again, "SELECT 4").await, "4");
    expect_error(
        &mut admin,
        "SET max_connections = 10",
        1229,
        "Variable 'max_connections' is a GLOBAL variable and should be set with SET GLOBAL",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_that_never_comes_is_closed() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    run(&mut admin, &["SET GLOBAL connect_timeout = 2"]).await;
    let mut silent = RawClient::connect(server.addr).await;
    silent.read_packet().await.expect("greeting");
    let started = Instant::now();
    assert!(
        silent
            .read_packet_within(Duration::from_secs(10))
            .await
            .is_none()
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "closed after {waited:?}"
    );
    assert_eq!(value(&mut admin, "SELECT @@connect_timeout").await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_is_closed_after_wait_timeout() {
    let server = TestServer::start().await;
    let mut client = RawClient::login_root(server.addr).await;
    let (_, ok) = client.query("SET wait_timeout = 1").await;
    assert_eq!(<[u8]>::first(&ok), Some(&0), "{ok:?}");
    let (seq, payload) = client
        .read_packet_within(Duration::from_secs(10))
        .await
        .expect("a goodbye");
    assert_eq!(seq, 1);
    assert_eq!(
        error_of(&payload),
        Some((
            4031,
            "The client was disconnected by the server because of inactivity. See wait_timeout \
             and interactive_timeout for configuring this behavior."
                .to_string()
        ))
    );
    assert!(
        client
            .read_packet_within(Duration::from_secs(5))
            .await
            .is_none()
    );
    // A driver sees its next statement fail; a busy session is not idle.
    let mut c = server.conn().await;
    run(&mut c, &["SET wait_timeout = 1"]).await;
    assert_eq!(value(&mut c, "SELECT sleep(1.5)").await, "0");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(c.query_drop("SELECT 1").await.is_err());
}

/// SIGTERM: new connections are refused, the running statement finishes and answers, idle
/// connections are told the server is going away, the process exits 0 and the data is intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_running_statement_finish() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT)",
            "INSERT INTO d.t VALUES (1), (2), (3)",
        ],
    )
    .await;
    let mut idle = RawClient::login_root(server.addr()).await;
    let busy = tokio::spawn(async move {
        let answer: Option<i64> = c
            .query_first("SELECT sleep(2) + count(*) FROM d.t")
            .await
            .unwrap();
        answer
    });
    // SIGTERM once the statement runs (the process list shows it).
    let mut watcher = server.conn().await;
    for _ in 0..200 {
        let running = value(
            &mut watcher,
            "SELECT count(*) FROM information_schema.processlist WHERE info LIKE '%sleep(2)%'",
        )
        .await;
        if running == "2" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(watcher);
    server.terminate();
    let (_, goodbye) = idle
        .read_packet_within(Duration::from_secs(5))
        .await
        .expect("the idle connection is told");
    assert_eq!(
        error_of(&goodbye),
        Some((1053, "Server shutdown in progress".to_string()))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(server.addr()).await.is_err(),
        "no new connections during shutdown"
    );
    assert_eq!(
        busy.await.unwrap(),
        Some(3),
        "the running statement finished"
    );
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    let server = ServerProcess::start(dir.path()).await;
    let mut c = server.conn().await;
    assert_eq!(value(&mut c, "SELECT sum(k) FROM d.t").await, "6");
    drop(c);
    server.kill9();
}

/// COM_STMT_SEND_LONG_DATA cannot pile up more than `max_allowed_packet` for one execute: the
/// data is dropped and the execute fails with MySQL's message; the statement works again after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_data_is_bounded_by_max_allowed_packet() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    run(&mut admin, &["SET GLOBAL max_allowed_packet = 1048576"]).await;
    let mut client = RawClient::login_root(server.addr).await;
    let mut prepare = vec![0x16u8];
    prepare.extend_from_slice(b"SELECT length(?)");
    client.write_packet(0, &prepare).await.unwrap();
    let (_, ok) = client.read_packet().await.expect("prepare answer");
    assert_eq!(<[u8]>::first(&ok), Some(&0), "{ok:?}");
    let statement = [ok[1], ok[2], ok[3], ok[4]];
    let columns = u16::from_le_bytes([ok[5], ok[6]]) as usize;
    let params = u16::from_le_bytes([ok[7], ok[8]]) as usize;
    assert_eq!(params, 1);
    // Parameter and column definitions, each list closed by an EOF packet.
    for _ in 0..(params + 1 + if columns > 0 { columns + 1 } else { 0 }) {
        client.read_packet().await.expect("definitions");
    }
    let send_long_data = |chunk: usize| {
        let mut packet = vec![0x18u8];
        packet.extend_from_slice(&statement);
        packet.extend_from_slice(&0u16.to_le_bytes());
        packet.extend(std::iter::repeat_n(b'z', chunk));
        packet
    };
    let mut execute = vec![0x17u8];
    execute.extend_from_slice(&statement);
    execute.push(0); // no cursor
    execute.extend_from_slice(&1u32.to_le_bytes());
    execute.extend_from_slice(&[0, 1, 0xfc, 0]); // no NULLs; types bound: one BLOB
    for _ in 0..3 {
        client
            .write_packet(0, &send_long_data(500_000))
            .await
            .unwrap();
    }
    client.write_packet(0, &execute).await.unwrap();
    let (_, answer) = client.read_packet().await.expect("execute answer");
    assert_eq!(
        error_of(&answer),
        Some((
            1105,
            "Parameter of prepared statement which is set through mysql_send_long_data() is \
             longer than 'max_allowed_packet' bytes"
                .to_string()
        ))
    );
    client.write_packet(0, &send_long_data(1000)).await.unwrap();
    client.write_packet(0, &execute).await.unwrap();
    let (_, answer) = client.read_packet().await.expect("execute answer");
    assert_eq!(answer, [1], "a result set of one column: {answer:?}");
}

/// An interactive client (CLIENT_INTERACTIVE, as the mysql CLI sends) idles up to
/// `interactive_timeout`, as in MySQL; others up to `wait_timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_session_uses_interactive_timeout() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    run(&mut admin, &["SET GLOBAL interactive_timeout = 1"]).await;
    let mut interactive = RawClient::login_root_with(server.addr, 0x400).await;
    let mut batch = RawClient::login_root(server.addr).await;
    let (_, goodbye) = interactive
        .read_packet_within(Duration::from_secs(10))
        .await
        .expect("a goodbye");
    assert_eq!(error_of(&goodbye).map(|(code, _)| code), Some(4031));
    let (_, answer) = batch.query("SELECT 1").await;
    assert_eq!(answer, [1], "the non-interactive session is still served");
}

/// `max_prepared_stmt_count` bounds the prepared statements of all connections together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_are_bounded_server_wide() {
    let server = TestServer::start().await;
    let mut admin = server.conn().await;
    run(&mut admin, &["SET GLOBAL max_prepared_stmt_count = 2"]).await;
    let mut one = server.conn().await;
    let first = one.prep("SELECT 1").await.unwrap();
    let mut two = server.conn().await;
    two.prep("SELECT 2").await.unwrap();
    let refused = admin.prep("SELECT 3").await;
    assert_eq!(
        snaprock_tests::server_error(refused),
        (
            1461,
            "Can't create more than max_prepared_stmt_count statements (current value: 2)"
                .to_string()
        )
    );
    one.close(first).await.unwrap();
    // COM_STMT_CLOSE has no answer: a round trip on the same connection orders it first.
    one.query_drop("SELECT 1").await.unwrap();
    admin.prep("SELECT 3").await.unwrap();
    drop(two);
    let mut freed = false;
    for _ in 0..100 {
        if admin.prep("SELECT 4").await.is_ok() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "a closed connection's statements are released");
}

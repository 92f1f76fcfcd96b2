//! Several servers over one storage volume (issue 15) against a real S3 server: a second
//! server that creates a volume at the writer's location shows the writer's databases on it
//! read-only, sees each of its commits within 10 seconds, refuses writes to them with a clear
//! error, keeps them across a restart, never deletes an object of the volume, and lets go of
//! them when its volume is dropped.

use std::time::{Duration, Instant};

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{TestServer, rows, run, server_error, try_rows};

/// How long a follower may take to show a commit of the writer (the bound).
const FOLLOW_BOUND: Duration = Duration::from_secs(10);

/// MySQL's ER_OPTION_PREVENTS_STATEMENT.
const READ_ONLY: u16 = 1290;

/// Every object of the volume's location.
fn volume_objects(s3: &TestS3, prefix: &str) -> Vec<String> {
    let mut objects = files_under(&s3.bucket_dir().join(prefix));
    objects.sort();
    objects
}

/// Polls `sql` on `c` until it answers `expected`, for at most [`FOLLOW_BOUND`]; returns how
/// long that took.
async fn follows_within_bound(c: &mut Conn, sql: &str, expected: &[Vec<String>]) -> Duration {
    let start = Instant::now();
    loop {
        // Before the first refresh the database is not there: an error, retried.
        let got = try_rows(c, sql).await.unwrap_or_default();
        if got == expected {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < FOLLOW_BOUND,
            "{sql}: not followed within {FOLLOW_BOUND:?}: got {got:?}, want {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn text_rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_follows_the_writer_read_only() {
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    // The writer keeps retired objects for a while: the follower may still read them.
    let mut writer_options = TestServer::options(&work.path().join("writer"), "");
    writer_options.volume_retire_grace_secs = 3600;
    let writer = TestServer::start_with(writer_options).await;
    let follower_dir = work.path().join("follower");
    let follower = TestServer::start_in(&follower_dir, "").await;
    let mut w = writer.conn().await;
    let mut f = follower.conn().await;
    run(
        &mut w,
        &[
            &s3.create_volume_sql("sv", "shared"),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
            "INSERT INTO sd.t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
            "CREATE VIEW sd.big AS SELECT k FROM sd.t WHERE k > 1",
            "CREATE DATABASE writer_only",
            "CREATE TABLE writer_only.l (k INT)",
        ],
    )
    .await;
    run(
        &mut f,
        &[
            "CREATE DATABASE mine",
            "CREATE TABLE mine.m (k INT)",
            "INSERT INTO mine.m VALUES (7)",
            // Another name for the same location: the follower's own.
            &s3.create_volume_sql("shared", "shared"),
        ],
    )
    .await;

    // The writer's database on the volume appears, with its rows and its view; its local
    // database does not.
    let all = "SELECT k, v FROM sd.t ORDER BY k";
    follows_within_bound(
        &mut f,
        all,
        &text_rows(&[&["1", "a"], &["2", "b"], &["3", "c"]]),
    )
    .await;
    assert_eq!(
        rows(&mut f, "SELECT k FROM sd.big ORDER BY k").await,
        text_rows(&[&["2"], &["3"]])
    );
    assert!(
        rows(&mut f, "SHOW DATABASES LIKE 'writer_only'")
            .await
            .is_empty()
    );
    let create = rows(&mut f, "SHOW CREATE TABLE sd.t").await;
    assert!(
        create[0][1].contains("\"storage_volume\" = \"shared\""),
        "{create:?}"
    );

    // Writes to the followed database are refused, and change nothing.
    let before = volume_objects(&s3, "shared");
    for sql in [
        "INSERT INTO sd.t VALUES (9, 'z')",
        "DELETE FROM sd.t WHERE k = 1",
        "CREATE TABLE sd.x (k INT)",
        "DROP TABLE sd.t",
        "DROP DATABASE sd",
        "TRUNCATE TABLE sd.t",
        "ALTER TABLE sd.t ADD COLUMN extra INT",
    ] {
        let (code, message) = server_error(f.query_drop(sql).await);
        assert_eq!(code, READ_ONLY, "{sql}: {message}");
        assert!(
            message.contains("Database 'sd' is read-only on this server")
                && message.contains("storage volume 'shared'"),
            "{sql}: {message}"
        );
    }
    let (code, message) = server_error(
        f.query_drop("CREATE TABLE mine.n (k INT) PROPERTIES (\"storage_volume\" = \"shared\")")
            .await,
    );
    assert_eq!(code, 5064, "{message}");
    let (_, message) = server_error(f.query_drop("BACKUP SNAPSHOT sd.s1 TO nowhere").await);
    assert!(!message.is_empty());
    assert_eq!(
        rows(&mut f, all).await,
        text_rows(&[&["1", "a"], &["2", "b"], &["3", "c"]])
    );
    // The follower's own database stays its own.
    run(&mut f, &["INSERT INTO mine.m VALUES (8)"]).await;
    assert_eq!(
        rows(&mut f, "SELECT count(*) FROM mine.m").await,
        text_rows(&[&["2"]])
    );

    // Each commit of the writer shows within the bound: rows added and removed, a new table,
    // a dropped one.
    run(
        &mut w,
        &[
            "INSERT INTO sd.t VALUES (4, 'd')",
            "DELETE FROM sd.t WHERE k = 1",
        ],
    )
    .await;
    let took = follows_within_bound(
        &mut f,
        all,
        &text_rows(&[&["2", "b"], &["3", "c"], &["4", "d"]]),
    )
    .await;
    eprintln!("follower saw the writer's DELETE after {took:?}");
    run(
        &mut w,
        &[
            "CREATE TABLE sd.t2 (id BIGINT) PROPERTIES (\"storage_volume\" = \"sv\")",
            "INSERT INTO sd.t2 VALUES (10), (20)",
        ],
    )
    .await;
    follows_within_bound(&mut f, "SELECT sum(id) FROM sd.t2", &text_rows(&[&["30"]])).await;
    run(&mut w, &["DROP TABLE sd.t2"]).await;
    follows_within_bound(
        &mut f,
        "SHOW TABLES FROM sd",
        &text_rows(&[&["big"], &["t"]]),
    )
    .await;
    // Nothing the follower did removed an object of the writer's (the objects the DELETE
    // retired stay for the writer's grace period).
    let after = volume_objects(&s3, "shared");
    assert!(
        before.iter().all(|o| after.contains(o)),
        "{before:?} {after:?}"
    );

    // A restart of the follower keeps what it follows.
    drop(f);
    follower.stop().await;
    let follower = TestServer::start_in(&follower_dir, "").await;
    let mut f = follower.conn().await;
    assert_eq!(
        rows(&mut f, all).await,
        text_rows(&[&["2", "b"], &["3", "c"], &["4", "d"]])
    );
    run(&mut w, &["INSERT INTO sd.t VALUES (5, 'e')"]).await;
    follows_within_bound(
        &mut f,
        all,
        &text_rows(&[&["2", "b"], &["3", "c"], &["4", "d"], &["5", "e"]]),
    )
    .await;

    // Dropping its volume lets the follower's copy of the catalog go; the store and the
    // writer are untouched.
    let before = volume_objects(&s3, "shared");
    run(&mut f, &["DROP STORAGE VOLUME shared"]).await;
    assert!(rows(&mut f, "SHOW DATABASES LIKE 'sd'").await.is_empty());
    assert_eq!(
        rows(&mut f, "SELECT count(*) FROM mine.m").await,
        text_rows(&[&["2"]])
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(volume_objects(&s3, "shared"), before);
    assert_eq!(
        rows(&mut w, all).await,
        text_rows(&[&["2", "b"], &["3", "c"], &["4", "d"], &["5", "e"]])
    );
}

/// A database name the follower already has is not replaced by the writer's: the follower's
/// own data wins, and the writer's other databases still show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_keeps_its_own_database_of_the_same_name() {
    let s3 = TestS3::start().await;
    let writer = TestServer::start().await;
    let follower = TestServer::start().await;
    let mut w = writer.conn().await;
    let mut f = follower.conn().await;
    run(
        &mut w,
        &[
            &s3.create_volume_sql("sv", "clash"),
            "SET sv AS DEFAULT STORAGE VOLUME",
            "CREATE DATABASE same",
            "CREATE TABLE same.t (k INT)",
            "INSERT INTO same.t VALUES (1)",
            "CREATE DATABASE other",
            "CREATE TABLE other.t (k INT)",
            "INSERT INTO other.t VALUES (2), (3)",
        ],
    )
    .await;
    run(
        &mut f,
        &[
            "CREATE DATABASE same",
            "CREATE TABLE same.t (k INT)",
            "INSERT INTO same.t VALUES (100)",
            &s3.create_volume_sql("sv", "clash"),
        ],
    )
    .await;
    follows_within_bound(&mut f, "SELECT sum(k) FROM other.t", &text_rows(&[&["5"]])).await;
    assert_eq!(
        rows(&mut f, "SELECT k FROM same.t").await,
        text_rows(&[&["100"]])
    );
    run(&mut f, &["INSERT INTO same.t VALUES (101)"]).await;
}

/// A writer that drops its volume gives the location up: its followers show nothing of it any
/// more, and the next server to create a volume there writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_volume_releases_its_location() {
    let s3 = TestS3::start().await;
    let writer = TestServer::start().await;
    let follower = TestServer::start().await;
    let mut w = writer.conn().await;
    let mut f = follower.conn().await;
    run(
        &mut w,
        &[
            &s3.create_volume_sql("sv", "released"),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT)",
            "INSERT INTO sd.t VALUES (1)",
        ],
    )
    .await;
    run(&mut f, &[&s3.create_volume_sql("sv", "released")]).await;
    follows_within_bound(&mut f, "SELECT k FROM sd.t", &text_rows(&[&["1"]])).await;
    run(
        &mut w,
        &["DROP DATABASE sd FORCE", "DROP STORAGE VOLUME sv"],
    )
    .await;
    follows_within_bound(&mut f, "SHOW DATABASES LIKE 'sd'", &[]).await;
    let owner = s3.bucket_dir().join("released/snaprock/owner.json");
    assert!(!owner.exists(), "the location is no longer claimed");

    // A third server now writes there: its tables are its own, not read-only.
    let next = TestServer::start().await;
    let mut n = next.conn().await;
    run(
        &mut n,
        &[
            &s3.create_volume_sql("sv", "released"),
            "CREATE DATABASE nd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE nd.t (k INT)",
            "INSERT INTO nd.t VALUES (5)",
        ],
    )
    .await;
    assert_eq!(
        rows(&mut n, "SELECT k FROM nd.t").await,
        text_rows(&[&["5"]])
    );
    assert!(owner.exists());
}

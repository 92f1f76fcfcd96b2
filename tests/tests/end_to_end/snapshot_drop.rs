//! DROP SNAPSHOT (StarRocks 4.2 grammar), snapshot `ttl`, and safe garbage collection: space
//! comes back, every refusal answers clearly, and a BACKUP that reuses files of a snapshot being
//! dropped never publishes a snapshot with a file missing, in either order, run many times.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use mysql_async::prelude::Queryable;
use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{
    TestServer, column, rows, run, server_error, value, wait_for_backup_state, wait_until,
};

async fn backup(c: &mut mysql_async::Conn, sql: &str, db: &str) {
    run(c, &[sql]).await;
    let row = wait_for_backup_state(c, db, &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{sql}: {row:?}");
}

fn data_files(repo_root: &Path) -> Vec<String> {
    files_under(&repo_root.join("__data"))
}

fn repo_sql(name: &str, dir: &Path, read_only: bool) -> String {
    format!(
        "CREATE {}REPOSITORY {name} WITH BROKER ON LOCATION \"file://{}\"",
        if read_only { "READ ONLY " } else { "" },
        dir.display()
    )
}

async fn check_ok(c: &mut mysql_async::Conn, snapshot: &str, repo: &str) {
    let check = rows(
        c,
        &format!("ADMIN CHECK SNAPSHOT {snapshot} ON {repo} PROPERTIES (\"level\" = \"data\")"),
    )
    .await;
    assert_eq!(check.len(), 1, "{check:?}");
    assert_eq!(check[0][1], "OK", "{snapshot}: {check:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_snapshot_returns_space_and_keeps_what_others_use() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().join("__starrocks_repository_repo");
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING) DUPLICATE KEY(k)
             PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('100'),
                                    PARTITION p2 VALUES LESS THAN ('200'))
             DISTRIBUTED BY HASH(k)",
            "INSERT INTO d.t VALUES (1, 'a'), (150, 'b')",
            &repo_sql("repo", dir.path(), false),
        ],
    )
    .await;
    backup(&mut c, "BACKUP SNAPSHOT d.s1 TO repo", "d").await;
    // Locks of a server that died long ago: ignored (the next backup goes on), then removed by
    // the next collection.
    std::fs::create_dir_all(root.join("__locks")).unwrap();
    for kind in ["shared", "exclusive"] {
        std::fs::write(
            root.join(format!("__locks/{kind}-dead-server-0")),
            format!(
                r#"{{"owner":"dead","exclusive":{},"written_ms":0}}"#,
                kind == "exclusive"
            ),
        )
        .unwrap();
    }
    // s2 shares p1's file with s1 and has its own p2 file; s1's p2 file is s1's alone.
    run(
        &mut c,
        &[
            "TRUNCATE TABLE d.t PARTITION (p2)",
            "INSERT INTO d.t VALUES (160, 'c')",
        ],
    )
    .await;
    backup(&mut c, "BACKUP SNAPSHOT d.s2 TO repo", "d").await;
    assert_eq!(data_files(&root).len(), 3);
    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo").await;
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0].len(),
        7,
        "Snapshot, Timestamp, Status, ClusterId, FinishTime, TTL, ExpireTime"
    );
    assert_eq!(listed[0][3].len(), 16, "a cluster id: {listed:?}");
    assert_eq!(listed[0][3], listed[1][3]);
    assert!(
        !listed[0][4].is_empty() && listed[0][5].is_empty(),
        "{listed:?}"
    );

    run(&mut c, &["DROP SNAPSHOT s1 ON repo"]).await;
    let names: Vec<String> = rows(&mut c, "SHOW SNAPSHOT ON repo")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names, ["s2"]);
    assert!(files_under(&root.join("__ss_s1")).is_empty());
    wait_until(|| data_files(&root).len() == 2, "s1's own file deleted").await;
    assert!(
        files_under(&root.join("__locks")).is_empty(),
        "stale locks removed by the collection"
    );
    check_ok(&mut c, "s2", "repo").await;

    // Refusals, each leaving the snapshot in place.
    run(&mut c, &["CREATE DATABASE d_s2 FROM SNAPSHOT s2 ON repo"]).await;
    for (sql, text) in [
        ("DROP SNAPSHOT nope ON repo", "Snapshot nope does not exist"),
        (
            "DROP SNAPSHOT s2 ON nowhere",
            "Repository nowhere does not exist",
        ),
        ("DROP SNAPSHOT s2 ON repo", "read by database d_s2"),
        ("DROP SNAPSHOT s2 ON repo extra", "syntax"),
    ] {
        let (_, message) = server_error(c.query_drop(sql).await);
        assert!(message.contains(text), "{sql}: {message}");
    }
    run(&mut c, &["DROP DATABASE d_s2"]).await;
    check_ok(&mut c, "s2", "repo").await;
    let (_, message) = server_error(
        c.query_drop("BACKUP SNAPSHOT d.bad TO repo PROPERTIES (\"ttl\" = \"7 WEEKS\")")
            .await,
    );
    assert!(message.contains("Invalid ttl: 7 WEEKS"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_servers_snapshot_needs_force_and_ttl_expires() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("__starrocks_repository_repo");
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let (mut ca, mut cb) = (a.conn().await, b.conn().await);
    for c in [&mut ca, &mut cb] {
        run(
            c,
            &[
                "CREATE DATABASE d",
                "CREATE TABLE d.t (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
                &repo_sql("repo", dir.path(), false),
            ],
        )
        .await;
    }
    run(&mut ca, &["INSERT INTO d.t VALUES (1, 'from a')"]).await;
    backup(&mut ca, "BACKUP SNAPSHOT d.of_a TO repo", "d").await;
    let (_, message) = server_error(cb.query_drop("DROP SNAPSHOT of_a ON repo").await);
    assert!(
        message.contains("created by another cluster") && message.contains("FORCE"),
        "{message}"
    );
    // Read-only on B: refused even with FORCE.
    run(
        &mut cb,
        &["DROP REPOSITORY repo", &repo_sql("repo", dir.path(), true)],
    )
    .await;
    let (_, message) = server_error(cb.query_drop("DROP SNAPSHOT of_a ON repo FORCE").await);
    assert!(message.contains("read only"), "{message}");
    // A restore from a READ ONLY repository writes nothing there, not even a lock.
    std::fs::remove_dir_all(root.join("__locks")).unwrap();
    let ts = snaprock_tests::snapshot_timestamp(&mut cb, "repo", "of_a").await;
    run(
        &mut cb,
        &[&format!(
            "RESTORE SNAPSHOT of_a FROM repo DATABASE d AS d_copy \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row =
        snaprock_tests::wait_for_restore_state(&mut cb, "d_copy", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(value(&mut cb, "SELECT v FROM d_copy.t").await, "from a");
    assert!(
        !root.join("__locks").exists(),
        "nothing written to a READ ONLY repository"
    );
    run(
        &mut cb,
        &["DROP REPOSITORY repo", &repo_sql("repo", dir.path(), false)],
    )
    .await;
    run(&mut cb, &["DROP SNAPSHOT of_a ON repo FORCE"]).await;
    wait_until(|| data_files(&root).is_empty(), "of_a's file deleted").await;

    // A snapshot with a ttl lists it, and A's sweeper drops it once it expires.
    run(&mut ca, &["INSERT INTO d.t VALUES (2, 'short-lived')"]).await;
    backup(
        &mut ca,
        "BACKUP SNAPSHOT d.brief TO repo PROPERTIES (\"ttl\" = \"2 SECOND\")",
        "d",
    )
    .await;
    let listed = rows(&mut ca, "SHOW SNAPSHOT ON repo").await;
    assert_eq!(listed[0][0], "brief");
    assert_eq!(listed[0][5], "2 SECOND");
    assert!(
        listed[0][6] > listed[0][4],
        "expires after it finished: {listed:?}"
    );
    for _ in 0..60 {
        if rows(&mut ca, "SHOW SNAPSHOT ON repo").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(rows(&mut ca, "SHOW SNAPSHOT ON repo").await.is_empty());
    wait_until(|| data_files(&root).is_empty(), "brief's files deleted").await;
    assert_eq!(value(&mut ca, "SELECT count(*) FROM d.t").await, "2");
}

/// The race the locks exist for: snapshot `base` holds a file the table still has (shared) and
/// one it no longer has (its own). Dropping `base` while a BACKUP of the table decides to reuse
/// the shared file must never delete it under the backup: in both orders, on S3, many times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_snapshot_never_deletes_a_file_a_running_backup_reuses() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let d = server.conn().await;
    race_backups_against_drops(&s3, &server, d, "").await;
}

/// The same race with the drops sent by a second server sharing the repository (FORCE: the
/// snapshots are the first server's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_on_another_server_never_deletes_a_file_a_running_backup_reuses() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let mut d = other.conn().await;
    run(&mut d, &[&s3.create_repository_sql("repo", "race", false)]).await;
    race_backups_against_drops(&s3, &server, d, " FORCE").await;
}

async fn race_backups_against_drops(
    s3: &TestS3,
    server: &TestServer,
    mut d: mysql_async::Conn,
    force: &str,
) {
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE r",
            &s3.create_repository_sql("repo", "race", false),
        ],
    )
    .await;
    let root = s3.bucket_dir().join("race/__starrocks_repository_repo");
    for i in 0..12 {
        run(
            &mut c,
            &[
                &format!(
                    "CREATE TABLE r.t{i} (k INT, v STRING) DUPLICATE KEY(k)
                     PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('100'),
                                            PARTITION p2 VALUES LESS THAN ('200'))
                     DISTRIBUTED BY HASH(k)"
                ),
                &format!("INSERT INTO r.t{i} VALUES (1, 'shared {i}'), (150, 'own {i}')"),
            ],
        )
        .await;
        let before: HashSet<String> = data_files(&root).into_iter().collect();
        backup(
            &mut c,
            &format!("BACKUP SNAPSHOT r.base{i} TO repo ON (t{i})"),
            "r",
        )
        .await;
        let base_files: Vec<String> = data_files(&root)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        assert_eq!(base_files.len(), 2, "p1's shared file and p2's own");
        // p2 goes (its file is base's alone); p1 gets a new file, which next must upload
        // (slowly) while it reuses p1's shared one: the window a collection must not use.
        run(
            &mut c,
            &[
                &format!("ALTER TABLE r.t{i} DROP PARTITION p2"),
                &format!("INSERT INTO r.t{i} VALUES (2, 'new {i}')"),
            ],
        )
        .await;
        s3.faults.delay_ms.store(400, Ordering::SeqCst);
        let drop = format!("DROP SNAPSHOT base{i} ON repo{force}");
        let next = format!("BACKUP SNAPSHOT r.next{i} TO repo ON (t{i})");
        if i % 2 == 0 {
            run(&mut d, &[&drop]).await;
            run(&mut c, &[&next]).await;
        } else {
            run(&mut c, &[&next]).await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            run(&mut d, &[&drop]).await;
        }
        let row = wait_for_backup_state(&mut c, "r", &["FINISHED", "CANCELLED"]).await;
        s3.faults.delay_ms.store(0, Ordering::SeqCst);
        assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
        // The collection has run once one of base's files is gone; it must be p2's alone.
        let data = root.join("__data");
        wait_until(
            || base_files.iter().any(|f| !data.join(f).exists()),
            "base's own file deleted",
        )
        .await;
        check_ok(&mut c, &format!("next{i}"), "repo").await;
    }
    assert!(
        files_under(&root.join("__locks")).is_empty(),
        "every lock released"
    );
}

/// A snapshot a job of this server is writing cannot be dropped; once published it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_being_written_is_not_dropped() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE w",
            "CREATE TABLE w.t (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k)",
            "INSERT INTO w.t VALUES (1, 'a'), (2, 'b')",
            &s3.create_repository_sql("repo", "busy", false),
        ],
    )
    .await;
    s3.faults.delay_ms.store(1500, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT w.busy TO repo"]).await;
    let (code, message) = server_error(c.query_drop("DROP SNAPSHOT busy ON repo").await);
    assert_eq!(code, 5064, "{message}");
    assert!(
        message.contains("used by a running backup or restore job"),
        "{message}"
    );
    let row = wait_for_backup_state(&mut c, "w", &["FINISHED", "CANCELLED"]).await;
    s3.faults.clear();
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    run(&mut c, &["DROP SNAPSHOT busy ON repo"]).await;
    assert!(rows(&mut c, "SHOW SNAPSHOT ON repo").await.is_empty());
}

//! Upserts and deletes without rewriting files (delete vectors): a PRIMARY KEY upsert writes
//! only its new rows and a DELETE writes nothing, the rows they replace or remove being marked
//! in their files' delete vectors; queries (across row groups), counts and the files' own
//! bytes say so. The vectors travel in snapshots (a restore answers as the source did) and
//! compaction folds a mostly-deleted file away.

use std::path::Path;
use std::time::Duration;

use snaprock_tests::{TestServer, column, joined_rows, run, value};

/// The data files of table `d.table` as the catalog lists them: (path, rows, whether some
/// are deleted).
fn files_of(data_dir: &Path, table: &str) -> Vec<(String, u64, bool)> {
    let text = std::fs::read_to_string(data_dir.join("catalog.json")).unwrap();
    let catalog: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    if let Some(t) = catalog["databases"]["d"]["tables"].get(table) {
        for p in t["partitions"].as_array().unwrap() {
            for f in p["files"].as_array().unwrap() {
                out.push((
                    f["path"].as_str().unwrap().to_string(),
                    f["rows"].as_u64().unwrap(),
                    f.get("deleted").is_some(),
                ));
            }
        }
    }
    out
}

fn file_bytes(data_dir: &Path, path: &str) -> Vec<u8> {
    std::fs::read(data_dir.join("data").join(path)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserts_and_deletes_leave_files_as_written() {
    let server = TestServer::start().await;
    let dir = server.data_dir.clone();
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            // Two row groups of 512 Ki rows and some: deletions land in both.
            "CREATE TABLE big (k BIGINT, v BIGINT) PRIMARY KEY (k)",
            "INSERT INTO big SELECT generate_series, generate_series * 2
             FROM TABLE(generate_series(1, 600000))",
        ],
    )
    .await;
    let before = files_of(&dir, "big");
    assert_eq!(before.len(), 1, "{before:?}");
    let (first, rows, _) = before[0].clone();
    assert_eq!(rows, 600_000);
    let first_bytes = file_bytes(&dir, &first);

    run(
        &mut c,
        &[
            "INSERT INTO big VALUES (5, -1), (524300, -1), (599999, -1), (600001, 1)",
            "DELETE FROM big WHERE k BETWEEN 524280 AND 524299 OR k = 1",
        ],
    )
    .await;
    let after = files_of(&dir, "big");
    // The first file stays as written, with a delete vector; the upsert wrote its 4 rows.
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], (first.clone(), 600_000, true));
    assert_eq!(after[1].1, 4);
    assert_eq!(file_bytes(&dir, &first), first_bytes);

    // 600000 + 1 new key - 21 deleted; sum: the replaced values become -1.
    let expected_sum: i64 =
        (1..=600_000i64).map(|k| 2 * k).sum::<i64>() - 2 * 5 - 2 * 524_300 - 2 * 599_999 - 3 + 1
            - (524_280..=524_299i64).map(|k| 2 * k).sum::<i64>()
            - 2;
    assert_eq!(
        joined_rows(&mut c, "SELECT count(*), sum(v) FROM big").await,
        [format!("599980,{expected_sum}")]
    );
    assert_eq!(
        joined_rows(
            &mut c,
            "SELECT k, v FROM big WHERE k IN (1, 2, 5, 524279, 524280, 524299, 524300, 599999,
             600000, 600001) ORDER BY k"
        )
        .await,
        [
            "2,4",
            "5,-1",
            "524279,1048558",
            "524300,-1",
            "599999,-1",
            "600000,1200000",
            "600001,1"
        ]
    );
    assert_eq!(
        value(
            &mut c,
            "SELECT ROW_COUNT FROM information_schema.partitions_meta WHERE TABLE_NAME = 'big'"
        )
        .await,
        "599980"
    );

    // A key upserted twice replaces its row each time; a DELETE of no row changes nothing.
    run(
        &mut c,
        &[
            "INSERT INTO big VALUES (5, -2)",
            "INSERT INTO big VALUES (5, -3)",
            "DELETE FROM big WHERE k = 1",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT v FROM big WHERE k = 5").await,
        ["-3"]
    );
    assert_eq!(value(&mut c, "SELECT count(*) FROM big").await, "599980");
    // A DELETE that cannot run (unknown column) marks nothing.
    let before = files_of(&dir, "big");
    let err = mysql_async::prelude::Queryable::query_drop(&mut c, "DELETE FROM big WHERE nope = 1")
        .await
        .unwrap_err();
    let mysql_async::Error::Server(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.code, 1054, "{}", e.message);
    assert_eq!(files_of(&dir, "big"), before);
    assert_eq!(value(&mut c, "SELECT count(*) FROM big").await, "599980");

    // DUPLICATE KEY tables delete in place too.
    run(
        &mut c,
        &[
            "CREATE TABLE dup (k INT, v INT)",
            "INSERT INTO dup VALUES (1, 1), (2, 2), (2, 3), (3, 4)",
            "DELETE FROM dup WHERE k = 2",
        ],
    )
    .await;
    assert_eq!(
        joined_rows(&mut c, "SELECT k, v FROM dup ORDER BY k").await,
        ["1,1", "3,4"]
    );
    assert_eq!(files_of(&dir, "dup")[0].1, 4);
    // Every row deleted: the file goes.
    run(&mut c, &["DELETE FROM dup WHERE v > 0"]).await;
    assert!(files_of(&dir, "dup").is_empty());
    assert_eq!(value(&mut c, "SELECT count(*) FROM dup").await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_vectors_travel_in_snapshots_and_compaction_folds_them() {
    let dir = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let mut options = TestServer::options(dir.path(), "");
    options.compaction_interval_secs = 1;
    let server = TestServer::start_with(options).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            "CREATE DATABASE d",
            "USE d",
            "CREATE TABLE u (k INT, v VARCHAR(10)) UNIQUE KEY (k)",
            "INSERT INTO u SELECT generate_series, 'old' FROM TABLE(generate_series(1, 1000))",
            "INSERT INTO u VALUES (10, 'new'), (20, 'new')",
            "DELETE FROM u WHERE k > 990",
            &format!(
                "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
                repo.path().display()
            ),
            "BACKUP SNAPSHOT d.s TO r ON (u)",
        ],
    )
    .await;
    let job = snaprock_tests::wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&job, "State"), "FINISHED", "{job:?}");
    let summary = "SELECT count(*), sum(k), min(v), max(v) FROM u";
    let source = joined_rows(&mut c, summary).await;
    assert_eq!(source, [format!("990,{},new,old", (1..=990).sum::<i64>())]);

    // The snapshot restores with the same rows, here and on another server.
    snaprock_tests::restore_snapshot_into(&mut c, "r", "s", "d2").await;
    assert_eq!(
        joined_rows(&mut c, &summary.replace("FROM u", "FROM d2.u")).await,
        source
    );
    let other = TestServer::start().await;
    let mut o = other.conn().await;
    run(
        &mut o,
        &[&format!(
            "CREATE REPOSITORY r WITH BROKER ON LOCATION \"file://{}\"",
            repo.path().display()
        )],
    )
    .await;
    snaprock_tests::restore_snapshot_into(&mut o, "r", "s", "d").await;
    assert_eq!(
        joined_rows(&mut o, &summary.replace("FROM u", "FROM d.u")).await,
        source
    );
    assert_eq!(value(&mut o, "SELECT v FROM d.u WHERE k = 10").await, "new");

    // Deleting most rows of the big file makes compaction rewrite it without them.
    run(&mut c, &["DELETE FROM u WHERE k > 100"]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while files_of(dir.path(), "u")
        .iter()
        .any(|(_, _, deleted)| *deleted)
    {
        assert!(std::time::Instant::now() < deadline, "no compaction");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        joined_rows(&mut c, "SELECT count(*), sum(k) FROM u").await,
        [format!("100,{}", (1..=100).sum::<i64>())]
    );
    assert_eq!(
        files_of(dir.path(), "u").iter().map(|f| f.1).sum::<u64>(),
        100
    );
}

//! Tables on a storage volume (issue 15) against a real S3 server: every committed data file
//! is in the volume before the commit answers, a file that stops being read leaves the volume,
//! the table is read from the volume when the data directory has no copy, a failed upload
//! changes nothing, and a volume that tables are on cannot be dropped.

use std::path::Path;
use std::sync::atomic::Ordering;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use snaprock_tests::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3, files_under};
use snaprock_tests::{TestServer, expect_error, rows, run, server_error, wait_until};

/// The Parquet files under the server's data directory.
fn local_files(data: &Path) -> Vec<String> {
    let mut files: Vec<String> = files_under(&data.join("data"))
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    files.sort();
    files
}

async fn contents(c: &mut Conn) -> Vec<Vec<String>> {
    rows(c, "SELECT k, v FROM sd.t ORDER BY k").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_on_a_volume_keeps_its_files_in_the_store() {
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let server = TestServer::start_in(&data, "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "tv"),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT, v STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
            "CREATE TABLE sd.local_too (k INT) PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE DATABASE plain",
            "CREATE TABLE plain.l (k INT)",
            "INSERT INTO plain.l VALUES (1)",
        ],
    )
    .await;
    let create = rows(&mut c, "SHOW CREATE TABLE sd.t").await;
    assert!(
        create[0][1].contains("\"storage_volume\" = \"sv\""),
        "{create:?}"
    );
    let plain_create = rows(&mut c, "SHOW CREATE TABLE plain.l").await;
    assert!(
        !plain_create[0][1].contains("storage_volume"),
        "{plain_create:?}"
    );

    // Each committed file is in the volume when the INSERT answers.
    run(
        &mut c,
        &["INSERT INTO sd.t VALUES (1, 'a'), (2, 'b'), (3, 'c')"],
    )
    .await;
    run(&mut c, &["INSERT INTO sd.t VALUES (4, 'd')"]).await;
    let objects = s3.volume_data_objects("tv");
    assert_eq!(objects.len(), 2, "{objects:?}");
    let expected = vec![
        vec!["1".to_string(), "a".to_string()],
        vec!["2".into(), "b".into()],
        vec!["3".into(), "c".into()],
        vec!["4".into(), "d".into()],
    ];
    assert_eq!(contents(&mut c).await, expected);

    // DELETE writes no file: the row is marked in its file's delete vector, the objects stay.
    run(&mut c, &["DELETE FROM sd.t WHERE k = 2"]).await;
    assert_eq!(s3.volume_data_objects("tv"), objects);
    let expected: Vec<Vec<String>> = expected.into_iter().filter(|r| r[0] != "2").collect();
    assert_eq!(contents(&mut c).await, expected);
    // A file left without rows leaves the volume; the other stays.
    run(&mut c, &["DELETE FROM sd.t WHERE k IN (1, 3)"]).await;
    wait_until(
        || s3.volume_data_objects("tv").len() == 1,
        "retired objects deleted",
    )
    .await;
    assert!(objects.contains(&s3.volume_data_objects("tv")[0]));
    let expected: Vec<Vec<String>> = expected.into_iter().filter(|r| r[0] == "4").collect();
    assert_eq!(contents(&mut c).await, expected);

    // An upload that fails: the INSERT fails, the table and the volume are unchanged, and no
    // file of the failed write is left in the data directory.
    let before_local = local_files(&data);
    let before_objects = s3.volume_data_objects("tv");
    s3.faults.fail_next.store(1000, Ordering::SeqCst);
    let (code, message) = server_error(c.query_drop("INSERT INTO sd.t VALUES (9, 'z')").await);
    s3.faults.clear();
    assert_eq!(code, 1105, "{message}");
    assert!(
        message.starts_with("Storage volume 'sv' cannot be used"),
        "{message}"
    );
    assert_eq!(contents(&mut c).await, expected);
    assert_eq!(local_files(&data), before_local);
    assert_eq!(s3.volume_data_objects("tv"), before_objects);

    // The volume cannot go while tables are on it.
    let (code, message) = server_error(c.query_drop("DROP STORAGE VOLUME sv").await);
    assert_eq!(code, 5064);
    assert_eq!(
        message,
        "Storage volume 'sv' is referenced by dbs or tables, dbs: [sd], tables: [sd.local_too, sd.t]"
    );
    drop(c);
    server.stop().await;

    // An empty cache: the local copies are gone, the table is read from the volume.
    std::fs::remove_dir_all(data.join("data")).unwrap();
    std::fs::create_dir_all(data.join("data")).unwrap();
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    let server = TestServer::start_in(&data, "").await;
    let mut c = server.conn().await;
    assert_eq!(contents(&mut c).await, expected);
    assert!(s3.faults.data_reads.load(Ordering::SeqCst) > 0);
    run(&mut c, &["INSERT INTO sd.t VALUES (5, 'e')"]).await;
    assert_eq!(contents(&mut c).await.len(), expected.len() + 1);
    assert_eq!(s3.volume_data_objects("tv").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_tables_go_to_the_default_volume() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "dv"),
            "CREATE DATABASE d",
            "CREATE TABLE d.before (k INT)",
            "SET sv AS DEFAULT STORAGE VOLUME",
            "CREATE TABLE d.after (k INT)",
            "INSERT INTO d.before VALUES (1)",
            "INSERT INTO d.after VALUES (1), (2)",
        ],
    )
    .await;
    let before = rows(&mut c, "SHOW CREATE TABLE d.before").await;
    assert!(!before[0][1].contains("storage_volume"), "{before:?}");
    let after = rows(&mut c, "SHOW CREATE TABLE d.after").await;
    assert!(
        after[0][1].contains("\"storage_volume\" = \"sv\""),
        "{after:?}"
    );
    assert_eq!(s3.volume_data_objects("dv").len(), 1);
    // A disabled volume takes no new table.
    run(
        &mut c,
        &[
            &s3.create_volume_sql("off", "ov"),
            "ALTER STORAGE VOLUME off SET (\"enabled\" = \"false\")",
        ],
    )
    .await;
    expect_error(
        &mut c,
        "CREATE TABLE d.x (k INT) PROPERTIES (\"storage_volume\" = \"off\")",
        5064,
        "Storage volume 'off' is disabled",
    )
    .await;
    // Dropping the table (FORCE: past the recycle bin) frees the volume of it.
    run(&mut c, &["DROP TABLE d.after FORCE"]).await;
    wait_until(
        || s3.volume_data_objects("dv").is_empty(),
        "dropped table's objects deleted",
    )
    .await;
}

/// The SHA-256 (hex) of a file.
fn sha256_of(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// BACKUP of a table on a volume whose S3 service is the repository's: the data files are
/// copied by the store (no data byte passes through the server, counted at the store), each
/// lands under its SHA-256, and RESTORE copies them back the same way, to the same rows. A
/// local table's backup to the same repository streams its bytes, for comparison.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_table_is_backed_up_by_copies_inside_the_store() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let values: Vec<String> = (1..=150).map(|k| format!("({k}, 'row-{k}')")).collect();
    let values = values.join(", ");
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "cv"),
            &s3.create_repository_sql("repo", "copies", false),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT, v STRING) DUPLICATE KEY(k) PARTITION BY RANGE(k) \
             (PARTITION p1 VALUES LESS THAN (\"100\"), PARTITION p2 VALUES LESS THAN (\"200\"))",
            &format!("INSERT INTO sd.t VALUES {values}"),
            "INSERT INTO sd.t VALUES (7, 'again')",
            "CREATE DATABASE ld",
            "CREATE TABLE ld.t (k INT, v STRING)",
            &format!("INSERT INTO ld.t VALUES {values}"),
        ],
    )
    .await;
    let source = rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd.t").await;

    s3.faults.data_write_bytes.store(0, Ordering::SeqCst);
    s3.faults.data_writes.store(0, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT sd.snap TO repo"]).await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "sd", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(
        s3.faults.data_write_bytes.load(Ordering::SeqCst),
        0,
        "no data byte was sent"
    );
    assert_eq!(
        s3.faults.data_writes.load(Ordering::SeqCst),
        3,
        "one copy per file"
    );
    let data_dir = s3
        .bucket_dir()
        .join("copies/__starrocks_repository_repo/__data");
    let copied: Vec<String> = files_under(&data_dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    assert_eq!(copied.len(), 3, "{copied:?}");
    for file in &copied {
        let stem = file
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".parquet");
        assert_eq!(
            sha256_of(&data_dir.join(file)),
            stem,
            "{file} is stored under its digest"
        );
    }

    // The local table's backup streams its bytes.
    run(&mut c, &["BACKUP SNAPSHOT ld.lsnap TO repo"]).await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "ld", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    assert!(s3.faults.data_write_bytes.load(Ordering::SeqCst) > 0);

    // RESTORE copies the files back into the volume the same way: no data byte is read from
    // the repository nor sent to the volume by the server.
    let on_volume = s3.volume_data_objects("cv").len();
    s3.faults.data_write_bytes.store(0, Ordering::SeqCst);
    s3.faults.data_writes.store(0, Ordering::SeqCst);
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    snaprock_tests::restore_snapshot_into(&mut c, "repo", "snap", "sd2").await;
    assert_eq!(
        s3.faults.data_write_bytes.load(Ordering::SeqCst),
        0,
        "no data byte was sent"
    );
    assert_eq!(
        s3.faults.data_writes.load(Ordering::SeqCst),
        3,
        "one copy per file"
    );
    assert_eq!(
        s3.faults.data_reads.load(Ordering::SeqCst),
        0,
        "no data byte was read"
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd2.t").await,
        source
    );
    assert!(
        s3.faults.data_reads.load(Ordering::SeqCst) > 0,
        "the restored table is read from the volume"
    );
    assert_eq!(
        rows(&mut c, "SELECT count(*), sum(k), max(v) FROM sd2.t").await,
        source
    );
    // The restored table is on the volume: its restored files are there, its new ones too.
    let create = rows(&mut c, "SHOW CREATE TABLE sd2.t").await;
    assert!(
        create[0][1].contains("\"storage_volume\" = \"sv\""),
        "{create:?}"
    );
    let before = s3.volume_data_objects("cv").len();
    assert_eq!(
        before,
        on_volume + 3,
        "the three restored files were published"
    );
    run(&mut c, &["INSERT INTO sd2.t VALUES (8, 'new')"]).await;
    assert_eq!(s3.volume_data_objects("cv").len(), before + 1);
}

/// README's storage volume section runs as written, pointed at the test's S3 server instead of
/// docker-compose's MinIO.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_storage_volume_section_runs_as_written() {
    let statements = snaprock_tests::readme_statements("## Tables on a storage volume");
    assert!(statements.len() >= 7, "{statements:?}");
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let mut answers = Vec::new();
    for statement in &statements {
        let mut sql = statement.clone();
        for (from, to) in [
            ("s3://snaprock-backups/", format!("s3://{BUCKET}/")),
            ("\"snaprock-secret\"", format!("\"{SECRET_KEY}\"")),
            ("= \"snaprock\"", format!("= \"{ACCESS_KEY}\"")),
            ("http://minio:9000", s3.endpoint()),
        ] {
            if sql.starts_with("CREATE STORAGE VOLUME") {
                assert!(
                    sql.contains(from),
                    "README's CREATE STORAGE VOLUME has no {from}"
                );
            }
            sql = sql.replace(from, &to);
        }
        if sql.starts_with("SHOW") || sql.starts_with("DESC") || sql.starts_with("SELECT") {
            answers.push(rows(&mut c, &sql).await);
        } else {
            run(&mut c, &[&sql]).await;
        }
    }
    assert_eq!(answers[0], vec![vec!["minio_volume".to_string()]]);
    assert_eq!(
        answers.last().unwrap(),
        &vec![
            vec!["login".to_string(), "2".into()],
            vec!["signup".into(), "1".into()]
        ]
    );
    assert!(!format!("{answers:?}").contains(SECRET_KEY));
    assert_eq!(s3.volume_data_objects("tables").len(), 1);
}

/// kill -9 of the real server while a load of a volume table uploads: after a restart the
/// table is as it was before the load, and the objects of writes that never committed are gone
/// from the volume (a stray one put there, and the killed load's if it landed), while the
/// committed ones stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_load_leaves_the_old_state_and_no_orphan() {
    assert!(
        snaprock_tests::snaprock_binary().exists(),
        "build the server first: cargo build -p snaprock"
    );
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let server = snaprock_tests::ServerProcess::start(&data).await;
    let mut c = server.conn().await;
    let values: Vec<String> = (1..=200).map(|k| format!("({k}, 'row-{k}')")).collect();
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "kv"),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT, v STRING)",
            &format!("INSERT INTO sd.t VALUES {}", values[..100].join(", ")),
        ],
    )
    .await;
    let committed = s3.volume_data_objects("kv");
    assert_eq!(committed.len(), 1);

    // The load's upload is held at the store; the server dies while it waits.
    s3.faults.delay_ms.store(1500, Ordering::SeqCst);
    let mut loader = server.conn().await;
    let load = format!("INSERT INTO sd.t VALUES {}", values[100..].join(", "));
    let load = tokio::spawn(async move { loader.query_drop(load).await });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    drop(c);
    server.kill9();
    assert!(load.await.unwrap().is_err(), "the load was cut off");
    // Whether the held upload still lands after the server died depends on whether its body
    // had arrived; either way a stray object of a write that never committed is put there.
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    s3.faults.clear();
    let stray = s3
        .bucket_dir()
        .join("kv/snaprock/data/t999/p999/stray.parquet");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"not committed").unwrap();
    assert!(s3.volume_data_objects("kv").len() >= 2);

    let server = snaprock_tests::ServerProcess::start(&data).await;
    let mut c = server.conn().await;
    assert_eq!(
        rows(&mut c, "SELECT count(*), max(k) FROM sd.t").await,
        vec![vec!["100".to_string(), "100".to_string()]]
    );
    assert_eq!(
        s3.volume_data_objects("kv"),
        committed,
        "only committed objects stay"
    );
    run(
        &mut c,
        &[&format!(
            "INSERT INTO sd.t VALUES {}",
            values[100..].join(", ")
        )],
    )
    .await;
    assert_eq!(
        rows(&mut c, "SELECT count(*), max(k) FROM sd.t").await,
        vec![vec!["200".to_string(), "200".to_string()]]
    );
    drop(c);
    server.kill9();
}

/// `--datacache-size 0`: no local copy of a volume file is kept, and every statement still
/// works from the volume: queries, DELETE, BACKUP to a repository on another store (the files
/// are fetched back and verified for the upload) and RESTORE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_data_cache_everything_reads_the_volume() {
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut options = TestServer::options(&data, "");
    options.datacache_size = 0;
    let server = TestServer::start_with(options).await;
    let mut c = server.conn().await;
    let repo_dir = work.path().join("repo");
    run(
        &mut c,
        &[
            &s3.create_volume_sql("sv", "nc"),
            &format!(
                "CREATE REPOSITORY local_repo WITH BROKER ON LOCATION \"file://{}\"",
                repo_dir.display()
            ),
            "CREATE DATABASE sd PROPERTIES (\"storage_volume\" = \"sv\")",
            "CREATE TABLE sd.t (k INT, v STRING)",
            "INSERT INTO sd.t VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO sd.t VALUES (3, 'c')",
        ],
    )
    .await;
    assert_eq!(s3.volume_data_objects("nc").len(), 2);
    assert!(local_files(&data).is_empty(), "{:?}", local_files(&data));
    s3.faults.data_reads.store(0, Ordering::SeqCst);
    let all = vec![
        vec!["1".to_string(), "a".to_string()],
        vec!["2".into(), "b".into()],
        vec!["3".into(), "c".into()],
    ];
    assert_eq!(contents(&mut c).await, all);
    assert!(
        s3.faults.data_reads.load(Ordering::SeqCst) > 0,
        "read from the volume"
    );
    run(&mut c, &["DELETE FROM sd.t WHERE k = 1"]).await;
    assert_eq!(contents(&mut c).await, all[1..].to_vec());

    run(&mut c, &["BACKUP SNAPSHOT sd.snap TO local_repo"]).await;
    let row = snaprock_tests::wait_for_backup_state(&mut c, "sd", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    snaprock_tests::restore_snapshot_into(&mut c, "local_repo", "snap", "sd2").await;
    assert_eq!(
        rows(&mut c, "SELECT k, v FROM sd2.t ORDER BY k").await,
        all[1..].to_vec()
    );
}

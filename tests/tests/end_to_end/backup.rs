//! BACKUP end to end: repositories on `file://` and on a real S3-protocol server (s3s-fs in
//! this process), the snapshot layout and its Parquet files, SHOW BACKUP / SNAPSHOT /
//! REPOSITORIES, every refusal with its exact error, S3 faults, CANCEL, and kill -9.

use std::path::Path;
use std::sync::atomic::Ordering;

use mysql_async::prelude::*;
use sha2::{Digest, Sha256};
use snaprock_tests::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3, files_under};
use snaprock_tests::{
    ServerProcess, TestServer, column, expect_error, readme_statements, rows, run, server_error,
    show_backup, value, wait_for_backup_state, wait_for_restore_state, wait_until,
    write_random_csv,
};

const MEMBER_TABLE: &str = "CREATE TABLE sr_hub.sr_member (
    sr_id INT, name STRING, city_code INT, reg_date DATE, verified BOOLEAN
)
PARTITION BY RANGE(reg_date) (
    PARTITION p1 VALUES LESS THAN ('2022-03-13'),
    PARTITION p2 VALUES LESS THAN ('2022-03-14'),
    PARTITION p3 VALUES LESS THAN ('2022-03-15'),
    PARTITION p4 VALUES LESS THAN ('2022-03-16')
)
DISTRIBUTED BY HASH(sr_id)";

const MEMBER_ROWS: &str = "INSERT INTO sr_hub.sr_member VALUES
    (1, 'tom', 100000, '2022-03-13', true),
    (2, 'johndoe', 210000, '2022-03-14', false),
    (3, 'maruko', 200000, '2022-03-14', true),
    (4, 'ronaldo', 100000, '2022-03-15', false),
    (5, 'pavlov', 210000, '2022-03-12', false),
    (6, 'mohammed', 300000, '2022-03-12', true)";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks every data file of a repository: named by its SHA-256, plain Parquet; returns the
/// total number of rows in them.
fn check_data_files(repo_root: &Path) -> (usize, i64) {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let data = repo_root.join("__data");
    let mut files = 0;
    let mut rows = 0;
    for rel in files_under(&data) {
        let path = data.join(&rel);
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name,
            format!("{}.parquet", hex(&Sha256::digest(&bytes))),
            "data files are named by their content"
        );
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .expect("a data file is plain Parquet");
        rows += reader.metadata().file_metadata().num_rows();
        files += 1;
    }
    (files, rows)
}

fn is_md5_suffixed(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(_, sum)| sum.len() == 32 && sum.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn assert_timestamp_format(ts: &str) {
    let parts: Vec<&str> = ts.split('-').collect();
    assert_eq!(parts.len(), 7, "yyyy-MM-dd-HH-mm-ss-SSS: {ts}");
    assert!(
        parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())),
        "{ts}"
    );
    assert_eq!(parts[6].len(), 3, "{ts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_repository_snapshots_are_complete_content_addressed_and_listed() {
    let server = TestServer::start().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let location = format!("file://{}", repo_dir.path().display());
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &format!("CREATE REPOSITORY repo1 WITH BROKER ON LOCATION \"{location}\""),
            "CREATE DATABASE sr_hub",
            MEMBER_TABLE,
            MEMBER_ROWS,
        ],
    )
    .await;
    let repos = rows(&mut c, "SHOW REPOSITORIES").await;
    assert_eq!(repos.len(), 1);
    assert_eq!(
        repos[0][1..],
        [
            "repo1".to_string(),
            repos[0][2].clone(),
            "false".into(),
            location.clone(),
            "NULL".into(),
            "NULL".into()
        ]
    );

    run(
        &mut c,
        &["BACKUP SNAPSHOT sr_hub.sr_member_backup TO repo1 ON (sr_member)"],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(row.len(), 14, "the 14 columns of SHOW BACKUP");
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    assert_eq!(column(&row, "Status"), "[OK]");
    assert_eq!(column(&row, "SnapshotName"), "sr_member_backup");
    assert_eq!(column(&row, "DbName"), "sr_hub");
    assert_eq!(column(&row, "BackupObjs"), "[sr_hub.sr_member]");
    assert_eq!(column(&row, "Timeout"), "86400");
    assert_ne!(column(&row, "JobId"), "-1");
    for time in [
        "CreateTime",
        "SnapshotFinishedTime",
        "UploadFinishedTime",
        "FinishedTime",
    ] {
        assert_eq!(column(&row, time).len(), 19, "{time}: {row:?}");
    }
    let repo_root = repo_dir.path().join("__starrocks_repository_repo1");
    let (files, data_rows) = check_data_files(&repo_root);
    assert_eq!(data_rows, 6);
    let bytes: u64 = files_under(&repo_root.join("__data"))
        .iter()
        .map(|f| {
            std::fs::metadata(repo_root.join("__data").join(f))
                .unwrap()
                .len()
        })
        .sum();
    // A finished job shows the average rate of its upload, and no ETA.
    let progress = column(&row, "Progress");
    assert!(
        progress.starts_with(&format!(
            "[files: {files}/{files}], [bytes: {bytes}/{bytes}], [rate: "
        )) && progress.ends_with("B/s]"),
        "{progress}"
    );

    // Layout: repo info, then per snapshot one meta and one info file with md5 suffixes.
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo_root.join("__repo_info")).unwrap()).unwrap();
    assert_eq!(info["name"], "repo1");
    let snap_files = files_under(&repo_root.join("__ss_sr_member_backup"));
    assert_eq!(snap_files.len(), 2, "{snap_files:?}");
    assert!(
        snap_files.iter().any(|f| is_md5_suffixed(f, "__meta")),
        "{snap_files:?}"
    );
    assert!(
        snap_files.iter().any(|f| is_md5_suffixed(f, "__info_")),
        "{snap_files:?}"
    );

    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo1").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0][0], "sr_member_backup");
    assert_eq!(listed[0][2], "OK");
    let timestamp = listed[0][1].clone();
    assert_timestamp_format(&timestamp);

    let detail: Vec<mysql_async::Row> = c
        .query(format!(
            "SHOW SNAPSHOT ON repo1 WHERE SNAPSHOT = 'sr_member_backup' AND TIMESTAMP = '{timestamp}'"
        ))
        .await
        .unwrap();
    let names: Vec<String> = detail[0]
        .columns()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    assert_eq!(
        names,
        ["Snapshot", "Timestamp", "Database", "Details", "Status"]
    );
    let detail: Vec<(String, String, String, String, String)> =
        detail.into_iter().map(mysql_async::from_row).collect();
    assert_eq!(detail[0].2, "sr_hub");
    assert_eq!(detail[0].4, "OK");
    let details: serde_json::Value = serde_json::from_str(&detail[0].3).unwrap();
    let partitions = details["backup_objects"]["sr_member"]["partitions"]
        .as_object()
        .unwrap();
    assert_eq!(partitions.len(), 4);
    assert_eq!(details["backup_result"], "succeed");
    assert_eq!(details["database"], "sr_hub");

    // Unchanged data: the second snapshot uploads no data file at all.
    let before = files_under(&repo_root.join("__data"));
    run(
        &mut c,
        &["BACKUP SNAPSHOT sr_hub.unchanged TO repo1 ON (sr_member)"],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]");
    assert_eq!(column(&row, "Progress"), "[files: 0/0], [bytes: 0/0]");
    assert_eq!(files_under(&repo_root.join("__data")), before);

    // One new row: only its new file is uploaded.
    run(
        &mut c,
        &["INSERT INTO sr_hub.sr_member VALUES (7, 'ana', 100000, '2022-03-15', true)"],
    )
    .await;
    run(
        &mut c,
        &["BACKUP SNAPSHOT sr_hub.one_more TO repo1 ON (sr_member)"],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert!(
        column(&row, "Progress").starts_with("[files: 1/1]"),
        "{row:?}"
    );
    assert_eq!(check_data_files(&repo_root).1, 7);

    // A partition subset, and the whole database (tables and views) with the 3.4 syntax.
    run(
        &mut c,
        &["BACKUP SNAPSHOT sr_hub.subset TO repo1 ON (TABLE sr_member PARTITION (p1, p2))"],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(
        column(&row, "BackupObjs"),
        "[sr_hub.sr_memberPARTITIONS (p1, p2)]"
    );
    run(
        &mut c,
        &[
            "CREATE VIEW sr_hub.verified_members AS SELECT sr_id, name FROM sr_hub.sr_member WHERE verified",
            "BACKUP DATABASE sr_hub SNAPSHOT whole_db TO repo1",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(
        column(&row, "BackupObjs"),
        "[sr_hub.sr_member], [sr_hub.verified_members]"
    );
    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo1").await;
    let names: Vec<&str> = listed.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "one_more",
            "sr_member_backup",
            "subset",
            "unchanged",
            "whole_db"
        ]
    );
    let some = rows(
        &mut c,
        "SHOW SNAPSHOT ON repo1 WHERE SNAPSHOT IN ('subset', 'whole_db', 'nope')",
    )
    .await;
    assert_eq!(
        some.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["subset", "whole_db"]
    );

    // DROP REPOSITORY keeps the data; re-creating it adopts the snapshots and creation time.
    let created = rows(&mut c, "SHOW REPOSITORIES").await[0][2].clone();
    run(&mut c, &["DROP REPOSITORY repo1"]).await;
    assert!(rows(&mut c, "SHOW REPOSITORIES").await.is_empty());
    assert!(repo_root.join("__repo_info").exists());
    run(
        &mut c,
        &[&format!(
            "CREATE REPOSITORY repo1 WITH BROKER ON LOCATION \"{location}\""
        )],
    )
    .await;
    assert_eq!(rows(&mut c, "SHOW REPOSITORIES").await[0][2], created);
    assert_eq!(rows(&mut c, "SHOW SNAPSHOT ON repo1").await.len(), 5);

    // Repositories and jobs survive a restart.
    let data_dir = server.data_dir.clone();
    drop(c);
    let keep = tempfile::Builder::new().tempdir().unwrap();
    let copy = keep.path().join("data");
    copy_dir(&data_dir, &copy);
    server.stop().await;
    let again = TestServer::start_in(&copy, "").await;
    let mut c = again.conn().await;
    assert_eq!(rows(&mut c, "SHOW REPOSITORIES").await[0][1], "repo1");
    let row = show_backup(&mut c, "sr_hub").await;
    assert_eq!(column(&row, "SnapshotName"), "whole_db");
    assert_eq!(column(&row, "State"), "FINISHED");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_starrocks_error_and_changes_nothing() {
    let server = TestServer::start().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let ro_dir = tempfile::tempdir().unwrap();
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &format!(
                "CREATE REPOSITORY repo1 WITH BROKER ON LOCATION 'file://{}'",
                repo_dir.path().display()
            ),
            &format!(
                "CREATE READ ONLY REPOSITORY ro WITH BROKER ON LOCATION 'file://{}'",
                ro_dir.path().display()
            ),
            "CREATE DATABASE d",
            "CREATE DATABASE empty_db",
            "CREATE TABLE d.t (k INT, v STRING) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN (MAXVALUE))",
            "INSERT INTO d.t VALUES (1, 'a'), (20, 'b')",
        ],
    )
    .await;
    let any = format!("file://{}", repo_dir.path().display());
    expect_error(
        &mut c,
        &format!("CREATE REPOSITORY repo1 WITH BROKER ON LOCATION '{any}'"),
        5064,
        "Failed to create repository: repository with same name already exist: repo1",
    )
    .await;
    expect_error(
        &mut c,
        &format!("CREATE REPOSITORY `1repo` WITH BROKER ON LOCATION '{any}'"),
        5064,
        "Getting analyzing error. Detail message: Incorrect repository name '1repo'.",
    )
    .await;
    let (code, message) = server_error(
        c.query_drop("CREATE REPOSITORY r2 WITH BROKER ON LOCATION 's3://bucket/path'")
            .await,
    );
    assert_eq!(code, 5064);
    assert!(message.contains("'s3a://bucket/path'"), "{message}");
    assert_eq!(
        server_error(
            c.query_drop(format!(
                "CREATE REPOSITORY r2 WITH BROKER ON LOCATION '{any}' PROPERTIES ()"
            ))
            .await
        )
        .0,
        1064
    );
    expect_error(
        &mut c,
        "DROP REPOSITORY nope",
        5064,
        "Getting analyzing error. Detail message: Repository does not exist.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO nope",
        5064,
        "Getting analyzing error. Detail message: Repository [nope] does not exist.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT nodb.s1 TO repo1",
        1049,
        "Unknown database 'nodb'",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT s1 TO repo1",
        1046,
        "No database selected",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 ON (nope)",
        1104,
        "Getting analyzing error. Detail message: Incorrect table name 'nope'.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 ON (t PARTITION (px))",
        5064,
        "Getting analyzing error. Detail message: partition[px] does not exist  in tablet.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 ON (t, t)",
        1064,
        "Getting analyzing error. Detail message: Duplicated table: t.",
    )
    .await;
    expect_error(&mut c, "BACKUP SNAPSHOT d.s1 TO repo1 ON (t AS x)", 1064, "Getting syntax error. Detail message: Specifying alias for backup object is forbidden in BACKUP stmt.").await;
    expect_error(&mut c, "BACKUP DATABASE d SNAPSHOT d.s1 TO repo1", 1064, "Getting syntax error. Detail message: Specifying dbName before snapshot name is forbidden if the DbName is specified explicitly in BACKUP/RESTORE.").await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 PROPERTIES (\"timeout\" = \"60\")",
        5064,
        "Getting analyzing error. Detail message: timeout must be at least 10 min.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 PROPERTIES (\"timeout\" = \"soon\")",
        5064,
        "Getting analyzing error. Detail message: Invalid timeout format: soon.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 PROPERTIES (\"bogus\" = \"1\")",
        5064,
        "Getting analyzing error. Detail message: Unknown backup job properties: [bogus].",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 PROPERTIES (\"type\" = \"differential\")",
        5064,
        "Getting analyzing error. Detail message: Invalid backup job type: differential.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.`bad/name` TO repo1",
        5082,
        "Getting analyzing error. Detail message: Incorrect label name 'bad/name'.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP DATABASE empty_db SNAPSHOT s TO repo1",
        1064,
        "Getting analyzing error. Detail message: Database: empty_db is empty.",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO ro",
        5064,
        "Repository ro is read only",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL BACKUP FROM d",
        5064,
        "No backup job is currently running",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL RESTORE FROM d",
        5064,
        "No restore is currently running",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL BACKUP FROM nodb",
        1049,
        "Unknown database 'nodb'",
    )
    .await;
    let (code, message) = server_error(c.query_drop("CANCEL BACKUP").await);
    assert_eq!(code, 1064);
    assert!(
        message.contains("No selected database for cancel BACKUP/RESTORE"),
        "{message}"
    );
    expect_error(
        &mut c,
        "SHOW SNAPSHOT ON nope",
        5064,
        "Getting analyzing error. Detail message: Repository [nope] does not exist.",
    )
    .await;
    expect_error(&mut c, "SHOW SNAPSHOT ON repo1 WHERE SNAPSHOT = 'a' OR SNAPSHOT = 'b'", 1064, "Getting analyzing error. Detail message: Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = '2018-04-18-19-19-10'].").await;
    expect_error(
        &mut c,
        "SHOW BACKUP FROM nodb",
        1049,
        "Unknown database 'nodb'",
    )
    .await;
    // Nothing was started by any of the refused statements.
    assert!(rows(&mut c, "SHOW BACKUP").await.is_empty());
    assert!(rows(&mut c, "SHOW SNAPSHOT ON repo1").await.is_empty());
    assert_eq!(
        rows(&mut c, "SHOW SNAPSHOT ON repo1 WHERE SNAPSHOT = 'missing'").await,
        vec![vec![
            "missing".to_string(),
            String::new(),
            "ERROR: no snapshot".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]]
    );

    run(&mut c, &["USE d", "BACKUP SNAPSHOT s1 TO repo1"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]");
    assert_eq!(column(&row, "BackupObjs"), "[d.t]");
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1",
        5064,
        "Snapshot with name 's1' already exist in repository",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.s1 TO repo1 PROPERTIES (\"type\" = \"incremental\")",
        5064,
        "Currently does not support incremental backup",
    )
    .await;
    expect_error(
        &mut c,
        "CANCEL BACKUP FROM d",
        5064,
        "Failed to cancel job: Job with label s1 can not be cancelled. state: FINISHED",
    )
    .await;
    let detail = rows(
        &mut c,
        "SHOW SNAPSHOT ON repo1 WHERE SNAPSHOT = 's1' AND TIMESTAMP = '2000-01-01-00-00-00-000'",
    )
    .await;
    assert_eq!(detail[0][2], "NULL");
    assert!(
        detail[0][4].starts_with("Failed to get info: "),
        "{detail:?}"
    );
    // The connection is still fine and the data untouched.
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.t").await, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backup_is_seen_by_a_second_server_and_no_secret_is_shown() {
    let s3 = TestS3::start().await;
    let a = TestServer::start().await;
    let mut c = a.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("test_repo", "backup/cluster1", false),
            "CREATE DATABASE sr_hub",
            MEMBER_TABLE,
            MEMBER_ROWS,
            "BACKUP SNAPSHOT sr_hub.sr_member_backup TO test_repo ON (sr_member)",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let repo_root = s3
        .bucket_dir()
        .join("backup/cluster1/__starrocks_repository_test_repo");
    assert_eq!(check_data_files(&repo_root).1, 6);
    assert_eq!(s3.open_multipart_uploads(), 0);
    let listed = rows(&mut c, "SHOW SNAPSHOT ON test_repo").await;
    assert_eq!(listed.len(), 1);

    // Migration: another server, same repository name and location, read only.
    let b = TestServer::start().await;
    let mut cb = b.conn().await;
    run(
        &mut cb,
        &[&s3.create_repository_sql("test_repo", "backup/cluster1", true)],
    )
    .await;
    assert_eq!(rows(&mut cb, "SHOW SNAPSHOT ON test_repo").await, listed);
    let repo_a = rows(&mut c, "SHOW REPOSITORIES").await;
    let repo_b = rows(&mut cb, "SHOW REPOSITORIES").await;
    assert_eq!(
        repo_b[0][2], repo_a[0][2],
        "CreateTime comes from __repo_info"
    );
    assert_eq!(repo_b[0][3], "true");
    run(&mut cb, &["CREATE DATABASE sr_hub", MEMBER_TABLE]).await;
    expect_error(
        &mut cb,
        "BACKUP SNAPSHOT sr_hub.x TO test_repo",
        5064,
        "Repository test_repo is read only",
    )
    .await;

    // Storage errors are clear and bounded, and never carry the secret.
    let bad_key = s3
        .create_repository_sql("bad_key", "x", false)
        .replace(SECRET_KEY, "wrong-secret-123");
    let (code, message) = server_error(c.query_drop(bad_key).await);
    assert_eq!(code, 5064);
    assert!(
        message.starts_with("Failed to create repository: access denied"),
        "{message}"
    );
    assert!(!message.contains("wrong-secret-123"), "{message}");
    let no_bucket = s3
        .create_repository_sql("no_bucket", "x", false)
        .replace("s3a://backups/", "s3a://missing-bucket/");
    let (_, message) = server_error(c.query_drop(no_bucket).await);
    assert_eq!(
        message,
        "Failed to create repository: bucket 'missing-bucket' does not exist"
    );
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = s3
        .create_repository_sql("unreachable", "x", false)
        .replace(&s3.endpoint(), &format!("http://127.0.0.1:{closed_port}"));
    let (_, message) = server_error(c.query_drop(unreachable).await);
    assert!(
        message.starts_with("Failed to create repository: cannot reach the storage endpoint"),
        "{message}"
    );
    assert_eq!(rows(&mut c, "SHOW REPOSITORIES").await.len(), 1);

    // The secret appears in no SHOW output; the state file holding it is owner-only.
    for sql in [
        "SHOW REPOSITORIES",
        "SHOW BACKUP",
        "SHOW PROCESSLIST",
        "SHOW SNAPSHOT ON test_repo",
    ] {
        let text = format!("{:?}", rows(&mut c, sql).await);
        assert!(!text.contains(SECRET_KEY), "{sql}: {text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.data_dir.join("backup.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_faults_cancel_and_concurrent_writes() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let csv_dir = tempfile::tempdir().unwrap();
    let csv = csv_dir.path().join("big.csv");
    write_random_csv(&csv, 400_000);
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "faults", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.big (id BIGINT, payload STRING)",
            &format!("INSERT INTO d.big SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")", csv.display()),
            "CREATE TABLE d.t (k INT, v STRING) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN (MAXVALUE))",
        ],
    )
    .await;
    for i in 0..6 {
        run(
            &mut c,
            &[&format!(
                "INSERT INTO d.t VALUES ({i}, 'a'), ({}, 'b')",
                i + 20
            )],
        )
        .await;
    }
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.big").await, "400000");

    // Transient 503s on every third data write: the SDK's retries absorb them.
    s3.faults.fail_every.store(3, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.transient TO repo ON (t)"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    s3.faults.clear();

    // S3 failing for good part-way through: the job is cancelled with the storage's error,
    // the multipart upload is aborted and nothing of the snapshot is visible.
    s3.faults.fail_next.store(1_000_000, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.failing TO repo ON (big)"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "CANCELLED");
    let status = column(&row, "Status");
    assert!(
        status.starts_with("[COMMON_ERROR, msg: failed to upload __data/"),
        "{status}"
    );
    assert!(status.contains("InternalError"), "{status}");
    assert!(!column(&row, "TaskErrMsg").is_empty());
    s3.faults.clear();
    wait_until(
        || s3.open_multipart_uploads() == 0,
        "multipart uploads aborted",
    )
    .await;
    let repo_root = s3.bucket_dir().join("faults/__starrocks_repository_repo");
    assert!(!repo_root.join("__ss_failing").exists());
    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo").await;
    assert_eq!(
        listed.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["transient"]
    );

    // CANCEL during UPLOADING, with slow data writes; the table keeps taking writes meanwhile.
    s3.faults.delay_ms.store(400, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.cancelled TO repo"]).await;
    wait_for_backup_state(&mut c, "d", &["UPLOADING"]).await;
    wait_until(
        || s3.open_multipart_uploads() > 0,
        "a multipart upload in flight",
    )
    .await;
    expect_error(
        &mut c,
        "BACKUP SNAPSHOT d.second TO repo",
        5064,
        "Can only run one backup or restore job of a database at same time",
    )
    .await;
    expect_error(
        &mut c,
        "DROP REPOSITORY repo",
        5064,
        "Backup or restore job is running on this repository. Can not drop it",
    )
    .await;
    run(&mut c, &["INSERT INTO d.t VALUES (3, 'during')"]).await;
    run(&mut c, &["CANCEL BACKUP FROM d"]).await;
    let row = show_backup(&mut c, "d").await;
    assert_eq!(column(&row, "State"), "CANCELLED");
    assert_eq!(
        column(&row, "Status"),
        "[COMMON_ERROR, msg: user cancelled]"
    );
    assert_ne!(column(&row, "FinishedTime"), "NULL");
    expect_error(
        &mut c,
        "CANCEL BACKUP FROM d",
        5064,
        "Failed to cancel job: Job with label cancelled can not be cancelled. state: CANCELLED",
    )
    .await;
    wait_until(
        || s3.open_multipart_uploads() == 0,
        "the cancelled multipart upload aborted",
    )
    .await;
    assert!(!repo_root.join("__ss_cancelled").exists());

    // A snapshot is the data as of its start: rows written during the upload are not in it.
    let before: u64 = value(&mut c, "SELECT count(*) FROM d.t")
        .await
        .parse()
        .unwrap();
    s3.faults.delay_ms.store(300, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.consistent TO repo ON (t)"]).await;
    wait_for_backup_state(&mut c, "d", &["UPLOADING"]).await;
    run(
        &mut c,
        &[
            "INSERT INTO d.t VALUES (4, 'late'), (40, 'late')",
            "TRUNCATE TABLE d.t PARTITION (p1)",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    s3.faults.clear();
    let snap_dir = repo_root.join("__ss_consistent");
    let info_file = files_under(&snap_dir)
        .into_iter()
        .find(|f| f.starts_with("__info_"))
        .expect("info file");
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snap_dir.join(info_file)).unwrap()).unwrap();
    assert_eq!(info["snaprock"]["rows"].as_u64(), Some(before));

    // The failed name is free again once the store works.
    run(&mut c, &["BACKUP SNAPSHOT d.failing TO repo ON (big)"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert!(check_data_files(&repo_root).1 >= 400_000);
    assert_eq!(s3.open_multipart_uploads(), 0);
}

/// Points README text at the test's S3 server instead of docker-compose's MinIO.
fn against_test_s3(statement: &str, s3: &TestS3) -> String {
    let mut out = statement.to_string();
    for (from, to) in [
        ("s3a://snaprock-backups/", format!("s3a://{BUCKET}/")),
        ("\"snaprock-secret\"", format!("\"{SECRET_KEY}\"")),
        (
            "\"aws.s3.access_key\" = \"snaprock\"",
            format!("\"aws.s3.access_key\" = \"{ACCESS_KEY}\""),
        ),
        ("http://minio:9000", s3.endpoint()),
    ] {
        if statement.starts_with("CREATE REPOSITORY") {
            assert!(
                out.contains(from),
                "README's CREATE REPOSITORY has no {from}"
            );
        }
        out = out.replace(from, &to);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_backup_section_runs_as_written() {
    let statements = readme_statements("## Backup to S3");
    assert!(statements.len() >= 8, "{statements:?}");
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    let mut shown = Vec::new();
    for statement in &statements {
        let sql = against_test_s3(statement, &s3);
        if sql.starts_with("SHOW SNAPSHOT") {
            let row = wait_for_backup_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
            assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
        }
        if sql.starts_with("SHOW") {
            shown.push((sql.clone(), rows(&mut c, &sql).await));
        } else {
            run(&mut c, &[&sql]).await;
        }
    }
    let result = |prefix: &str| {
        shown
            .iter()
            .find(|(sql, _)| sql.starts_with(prefix))
            .map(|(_, rows)| rows.clone())
            .unwrap_or_else(|| panic!("README runs no {prefix}"))
    };
    let list = result("SHOW SNAPSHOT ON test_repo");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0][0], "sr_member_backup");
    assert_eq!(list[0][2], "OK");
    let one = result("SHOW SNAPSHOT ON test_repo WHERE");
    assert_eq!(one, list);
    let detail = rows(
        &mut c,
        &format!(
            "SHOW SNAPSHOT ON test_repo WHERE SNAPSHOT = 'sr_member_backup' AND TIMESTAMP = '{}'",
            list[0][1]
        ),
    )
    .await;
    assert!(detail[0][3].contains("\"sr_member\""), "{detail:?}");
    let repositories = result("SHOW REPOSITORIES");
    assert_eq!(repositories[0][1], "test_repo");
    assert!(!format!("{shown:?}").contains(SECRET_KEY));

    // The restore section, with the real timestamp in place of the guide's.
    let timestamp = &list[0][1];
    let source_rows = value(&mut c, "SELECT count(*) FROM sr_hub.sr_member").await;
    for statement in readme_statements("## Restore and migration") {
        let sql = statement.replace("2023-02-07-14-45-53-143", timestamp);
        if sql.starts_with("SELECT") {
            let row = wait_for_restore_state(&mut c, "sr_hub", &["FINISHED", "CANCELLED"]).await;
            assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
            assert_eq!(value(&mut c, &sql).await, source_rows);
        } else if sql.starts_with("SHOW") {
            assert_eq!(rows(&mut c, &sql).await.len(), 1, "{sql}");
        } else {
            run(&mut c, &[&sql]).await;
        }
    }

    // The snapshot attached and checked in place: the same rows, no row missing, OK.
    for sql in readme_statements("## Query and check a snapshot in place") {
        if sql.starts_with("SELECT count") {
            assert_eq!(value(&mut c, &sql).await, source_rows, "{sql}");
        } else if sql.starts_with("SELECT") {
            assert!(rows(&mut c, &sql).await.is_empty(), "{sql}");
        } else if sql.starts_with("ADMIN") {
            let check = rows(&mut c, &sql).await;
            assert_eq!(check.len(), 1, "{check:?}");
            assert_eq!(check[0][1], "OK", "{check:?}");
        } else {
            run(&mut c, &[&sql]).await;
        }
    }
}

/// Neither the log (at trace level, the most an operator can turn on) nor any answer of the
/// server contains a secret key or a password: not after CREATE REPOSITORY, a failing CREATE
/// with wrong keys, a backup, a restore, account statements with passwords, a failed login, or
/// SHOW REPOSITORIES / PROCESSLIST / USERS / GRANTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_keys_never_reach_the_log_or_any_answer() {
    let s3 = TestS3::start().await;
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("server.log");
    let server =
        ServerProcess::start_with_log(&work.path().join("data"), Some((&log, "trace"))).await;
    let mut c = server.conn().await;
    let mut answers = Vec::new();
    let wrong_secret = "Wr0ng-secret-never-shown-0815";
    let wrong = s3
        .create_repository_sql("bad", "secrets", false)
        .replace(SECRET_KEY, wrong_secret);
    let (code, message) = server_error(c.query_drop(&wrong).await);
    assert_eq!(code, 5064);
    answers.push(message);
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "secrets", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v STRING)",
            "INSERT INTO d.t VALUES (1, 'a'), (2, 'b')",
            "BACKUP SNAPSHOT d.snap TO repo",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    answers.push(format!("{row:?}"));
    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT d2.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{}\")",
            listed[0][1]
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "d2", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    answers.push(format!("{row:?}"));
    let passwords = [
        "User-pw-never-logged-42",
        "User-pw-never-logged-43",
        "User-pw-never-logged-44",
    ];
    run(
        &mut c,
        &[
            &format!("CREATE USER u1 IDENTIFIED BY '{}'", passwords[0]),
            &format!("SET PASSWORD FOR u1 = PASSWORD('{}')", passwords[1]),
            &format!("ALTER USER u1 IDENTIFIED BY '{}'", passwords[2]),
        ],
    )
    .await;
    let (code, message) =
        server_error(mysql_async::Conn::new(server.opts("u1", Some(passwords[0]))).await);
    assert_eq!(code, 1045);
    answers.push(message);
    for sql in [
        "SHOW REPOSITORIES",
        "SHOW PROCESSLIST",
        "SHOW BACKUP",
        "SHOW RESTORE",
        "SHOW USERS",
        "SHOW GRANTS FOR u1",
    ] {
        answers.push(format!("{:?}", rows(&mut c, sql).await));
    }
    drop(c);
    server.kill9();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("backup job finished"),
        "the log was written: {text}"
    );
    for secret in [SECRET_KEY, wrong_secret].into_iter().chain(passwords) {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "the log holds a secret: {leaks:#?}");
        for answer in &answers {
            assert!(!answer.contains(secret), "{answer}");
        }
    }
}

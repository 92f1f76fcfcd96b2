//! Jobs survive a restart: a BACKUP or RESTORE interrupted by kill -9 continues at the next
//! start from where it was. Files the repository already holds are not uploaded again, files
//! already downloaded and verified are not downloaded again (the S3 server counts the requests
//! that reach it), and the result is what an uninterrupted job gives, even when the table
//! changed meanwhile.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use snaprock_tests::s3::{TestS3, files_under};
use snaprock_tests::{
    ServerProcess, TestServer, column, rows, run, show_backup, show_restore, snapshot_timestamp,
    value, wait_for_backup_state, wait_for_restore_state, wait_until, write_random_csv,
};

/// More files than a job moves at once (4), so a kill lands with some moved and some not.
const FILES: usize = 8;

fn parquet_files(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect()
}

/// Polls SHOW `kind` until its Progress counts at least one file done; returns that row.
async fn wait_for_first_file(c: &mut mysql_async::Conn, kind: &str, db: &str) {
    for _ in 0..600 {
        let row = match kind {
            "BACKUP" => show_backup(c, db).await,
            _ => show_restore(c, db).await,
        };
        let progress = column(&row, "Progress");
        if !progress.is_empty() && !progress.starts_with("[files: 0/") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no file of the {kind} job in {db} was ever done");
}

async fn load_eight_files(c: &mut mysql_async::Conn) {
    run(
        c,
        &["CREATE DATABASE d", "CREATE TABLE d.t (k INT, v STRING)"],
    )
    .await;
    for i in 0..FILES {
        run(c, &[&format!("INSERT INTO d.t VALUES ({i}, 'row {i}')")]).await;
    }
}

/// The in-process S3 server delays each request by the injected 1 s: a request the killed
/// server had fully sent still lands after the kill. Wait for those before looking at the
/// bucket, or a late write races what the test counts (seen under a loaded machine).
async fn requests_in_flight_settle() {
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_killed_while_uploading_continues_and_uploads_each_file_once() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[&s3.create_repository_sql("repo", "resume", false)],
    )
    .await;
    load_eight_files(&mut c).await;
    let snapshot_rows = rows(&mut c, "SELECT * FROM d.t ORDER BY k").await;

    s3.faults.delay_ms.store(1000, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.snap TO repo"]).await;
    wait_for_backup_state(&mut c, "d", &["UPLOADING"]).await;
    // The snapshot was taken: emptying the table now retires the files it is made of.
    run(&mut c, &["TRUNCATE TABLE d.t"]).await;
    wait_for_first_file(&mut c, "BACKUP", "d").await;
    let job_id = column(&show_backup(&mut c, "d").await, "JobId").to_string();
    drop(c);
    server.kill9();
    s3.faults.clear();
    requests_in_flight_settle().await;
    let repo_data = s3
        .bucket_dir()
        .join("resume/__starrocks_repository_repo/__data");
    let uploaded_before = parquet_files(&repo_data).len();
    assert!(
        (1..FILES).contains(&uploaded_before),
        "{uploaded_before} of {FILES} files were uploaded before the kill"
    );
    let writes_before = s3.faults.data_writes.load(Ordering::SeqCst);

    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(column(&row, "JobId"), job_id, "the same job continued");
    let left = FILES - uploaded_before;
    assert_eq!(
        s3.faults.data_writes.load(Ordering::SeqCst) - writes_before,
        left as u64,
        "only the files the repository did not hold were uploaded"
    );
    assert!(
        column(&row, "Progress").starts_with(&format!("[files: {left}/{left}]")),
        "{row:?}"
    );
    assert_eq!(parquet_files(&repo_data).len(), FILES);
    // The job held the retired files until it ended; now they are gone from the data dir.
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.t").await, "0");
    let (data, jobs) = (data_dir.path().join("data"), data_dir.path().join("jobs"));
    wait_until(
        || parquet_files(&data).is_empty() && files_under(&jobs).is_empty(),
        "the job's held files and plan are gone",
    )
    .await;

    // The snapshot is the table as of the BACKUP, row for row.
    let ts = snapshot_timestamp(&mut c, "repo", "snap").await;
    run(
        &mut c,
        &[&format!(
            "RESTORE SNAPSHOT d.snap FROM repo ON (t AS t_back) \
             PROPERTIES (\"backup_timestamp\" = \"{ts}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(
        rows(&mut c, "SELECT * FROM d.t_back ORDER BY k").await,
        snapshot_rows
    );
    drop(c);
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_while_downloading_continues_and_downloads_each_file_once() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[&s3.create_repository_sql("repo", "resume", false)],
    )
    .await;
    load_eight_files(&mut c).await;
    let snapshot_rows = rows(&mut c, "SELECT * FROM d.t ORDER BY k").await;
    run(&mut c, &["BACKUP SNAPSHOT d.snap TO repo"]).await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let ts = snapshot_timestamp(&mut c, "repo", "snap").await;
    run(
        &mut c,
        &[
            "DELETE FROM d.t WHERE k < 4",
            "INSERT INTO d.t VALUES (100, 'after')",
        ],
    )
    .await;
    let data = data_dir.path().join("data");
    let files_before_restore = parquet_files(&data);

    s3.faults.read_delay_ms.store(1000, Ordering::SeqCst);
    let restore =
        format!("RESTORE SNAPSHOT d.snap FROM repo PROPERTIES (\"backup_timestamp\" = \"{ts}\")");
    run(&mut c, &[&restore]).await;
    wait_for_first_file(&mut c, "RESTORE", "d").await;
    let job_id = column(&show_restore(&mut c, "d").await, "JobId").to_string();
    drop(c);
    server.kill9();
    s3.faults.clear();
    let downloaded_before = parquet_files(&data)
        .into_iter()
        .filter(|f| !files_before_restore.contains(f))
        .count();
    assert!(
        (1..FILES).contains(&downloaded_before),
        "{downloaded_before} of {FILES} files were downloaded before the kill"
    );
    let reads_before = s3.faults.data_reads.load(Ordering::SeqCst);

    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    let row = wait_for_restore_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(column(&row, "JobId"), job_id, "the same job continued");
    assert_eq!(
        s3.faults.data_reads.load(Ordering::SeqCst) - reads_before,
        (FILES - downloaded_before) as u64,
        "only the files not downloaded before the kill were downloaded"
    );
    assert_eq!(
        rows(&mut c, "SELECT * FROM d.t ORDER BY k").await,
        snapshot_rows
    );
    // Nothing left over: no partial download, no plan, the replaced files deleted.
    let restored: Vec<String> = parquet_files(&data)
        .into_iter()
        .filter(|f| !files_before_restore.contains(f))
        .collect();
    assert_eq!(restored.len(), FILES, "{restored:?}");
    assert!(files_under(&data).iter().all(|f| !f.contains("download")));
    let jobs = data_dir.path().join("jobs");
    wait_until(|| files_under(&jobs).is_empty(), "the job's plan is gone").await;
    drop(c);
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_a_kill_left_open_is_aborted_at_the_next_start() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let csv_dir = tempfile::tempdir().unwrap();
    let csv = csv_dir.path().join("big.csv");
    // About 26 MB of Parquet: a multipart upload of several 8 MiB parts.
    write_random_csv(&csv, 400_000);
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "multipart", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.big (id BIGINT, payload STRING)",
            &format!(
                "INSERT INTO d.big SELECT * FROM FILES(\"path\" = \"file://{}\", \"format\" = \"csv\")",
                csv.display()
            ),
        ],
    )
    .await;
    s3.faults.delay_ms.store(1000, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.snap TO repo"]).await;
    // Killed once the upload is open and noted (between CreateMultipartUpload's answer and the
    // note there is a window a crash leaves to the store's lifecycle rules; see journal.rs).
    let notes = data_dir.path().join("uploads");
    wait_until(
        || {
            s3.open_multipart_uploads() == 1
                && files_under(&notes).iter().any(|n| n.ends_with(".json"))
        },
        "the multipart upload started and was noted",
    )
    .await;
    drop(c);
    server.kill9();
    s3.faults.clear();
    requests_in_flight_settle().await;
    assert_eq!(
        s3.open_multipart_uploads(),
        1,
        "the kill left the upload open"
    );

    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    let uploads = data_dir.path().join("uploads");
    // The abort runs in the background after the start; on a loaded machine (CI, 2 cores, other
    // test binaries) it can take longer than `wait_until`'s 20 s.
    let mut settled = false;
    for _ in 0..600 {
        if s3.open_multipart_uploads() == 0 && files_under(&uploads).is_empty() {
            settled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        settled,
        "the upload the kill left open is aborted and no note is left: {} open, notes {:?}",
        s3.open_multipart_uploads(),
        files_under(&uploads)
    );
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.big").await, "400000");
    drop(c);
    server.kill9();
}

/// A graceful stop (what SIGTERM does) cuts a running backup short and waits for it: once the
/// stop returned, nothing of the stopped server reaches the repository. Meanwhile a second
/// server on the same data directory is refused with a clear error, and after the stop the
/// next start continues the same job to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_a_stop_cut_short_continues_and_a_second_server_is_refused_meanwhile() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[&s3.create_repository_sql("repo", "stopped", false)],
    )
    .await;
    load_eight_files(&mut c).await;
    s3.faults.delay_ms.store(300, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT d.snap TO repo"]).await;
    wait_for_first_file(&mut c, "BACKUP", "d").await;
    let job_id = column(&show_backup(&mut c, "d").await, "JobId").to_string();

    let second = snaprock::start(TestServer::options(data_dir.path(), ""), async {}).await;
    let Err(refusal) = second else {
        panic!("a second server on the same data directory started")
    };
    let message = refusal.to_string();
    assert!(
        message.contains("is in use by another snaprock server"),
        "{message}"
    );
    assert_eq!(value(&mut c, "SELECT count(*) FROM d.t").await, "8");

    drop(c);
    server.stop().await;
    // A request sent just before the stop returned may still be on its way to the store.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let requests_at_stop = s3.faults.requests.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        s3.faults.requests.load(Ordering::SeqCst),
        requests_at_stop,
        "the stopped server still sent requests"
    );
    s3.faults.clear();

    let server = TestServer::start_in(data_dir.path(), "").await;
    let mut c = server.conn().await;
    let row = wait_for_backup_state(&mut c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "Status"), "[OK]", "{row:?}");
    assert_eq!(column(&row, "JobId"), job_id, "the same job continued");
    drop(c);
    server.stop().await;
}

/// The real binary started on a data directory another server uses exits at once with an
/// error that says so, and the running server is untouched; a kill -9 releases the directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_a_data_directory_in_use_and_a_kill_releases_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(&mut c, &["CREATE DATABASE d", "CREATE TABLE d.t (k INT)"]).await;
    run(&mut c, &["INSERT INTO d.t VALUES (1), (2)"]).await;

    let second = tokio::task::spawn_blocking({
        let dir = data_dir.path().to_path_buf();
        move || {
            std::process::Command::new(snaprock_tests::snaprock_binary())
                .arg("--data-dir")
                .arg(&dir)
                .args(["--port", &snaprock_tests::free_port().to_string()])
                .args(["--http-port", "0"])
                .output()
                .expect("run snaprock")
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains("is in use by another snaprock server"),
        "{stderr}"
    );
    assert_eq!(value(&mut c, "SELECT sum(k) FROM d.t").await, "3");

    drop(c);
    server.kill9();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    assert_eq!(value(&mut c, "SELECT sum(k) FROM d.t").await, "3");
    drop(c);
    server.kill9();
}

//! The backup console in a real headless Chromium (`tests/clients/console_check.py`, Selenium
//! with the distribution's chromedriver): it logs in, shows a finished job and its snapshot, and
//! a running job's progress bar moves while a slowed-down S3 server takes the upload. CI installs
//! chromium, chromium-driver and selenium; elsewhere the test says so and passes only if CI is
//! not set. `SNAPROCK_CONSOLE_SCREENSHOT=path` saves a screenshot (docs/console.png is one).

use std::process::Command;
use std::sync::atomic::Ordering;

use snaprock_tests::s3::TestS3;
use snaprock_tests::{
    TestServer, column, free_port, run, run_client_checks, wait_for_backup_state,
};

fn browser_installed() -> bool {
    let driver = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let selenium = Command::new("python3")
        .args(["-c", "import selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !(driver && selenium) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium, chromium-driver and the selenium package"
        );
        eprintln!("chromium/chromedriver or selenium not installed: test not run");
    }
    driver && selenium
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    if !browser_installed() {
        return;
    }
    let s3 = TestS3::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestServer::options(dir.path(), "console-pw");
    options.http_port = free_port();
    let server = TestServer::start_with(options).await;
    let http = server.http.expect("HTTP listens");
    let mut c = mysql_async::Conn::new(server.opts("root", Some("console-pw"), None))
        .await
        .unwrap();
    run(
        &mut c,
        &[
            "CREATE DATABASE shop",
            "CREATE TABLE shop.orders (id INT, amount DOUBLE) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
            "INSERT INTO shop.orders VALUES (1, 2.5), (2, 3.5)",
            &s3.create_repository_sql("repo", "console", false),
            "BACKUP SNAPSHOT shop.nightly TO repo",
            "CREATE DATABASE big",
            "CREATE TABLE big.events (id INT, payload VARCHAR(200)) DUPLICATE KEY(id) \
             DISTRIBUTED BY HASH(id) BUCKETS 1",
        ],
    )
    .await;
    let row = wait_for_backup_state(&mut c, "shop", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    // A history for the charts: each database backed up a few times as it grows.
    let load = |database: &str, from: usize, loads: usize| -> Vec<String> {
        (from..from + loads)
            .map(|i| {
                let values: Vec<String> = (0..50)
                    .map(|n| format!("({}, '{database}-{}')", i * 1000 + n, "x".repeat(150)))
                    .collect();
                format!("INSERT INTO {database}.events VALUES {}", values.join(", "))
            })
            .collect()
    };
    run(
        &mut c,
        &[
            "CREATE TABLE shop.events (id INT, payload VARCHAR(200)) DUPLICATE KEY(id) \
           DISTRIBUTED BY HASH(id) BUCKETS 1",
        ],
    )
    .await;
    for round in 0..3 {
        for (database, snapshot) in [
            ("shop", format!("daily_{round}")),
            ("big", format!("early_{round}")),
        ] {
            let loads = load(database, round * 10, 4 + 4 * round);
            let loads: Vec<&str> = loads.iter().map(String::as_str).collect();
            run(&mut c, &loads).await;
            run(
                &mut c,
                &[&format!("BACKUP SNAPSHOT {database}.{snapshot} TO repo")],
            )
            .await;
            let row = wait_for_backup_state(&mut c, database, &["FINISHED", "CANCELLED"]).await;
            assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
        }
    }
    // 40 more loads, 40 new data files; each upload takes four seconds at the S3 server, four
    // at a time: the backup outlasts a browser that starts slowly on a loaded machine (at one
    // second it once finished first), and the delay is lifted as soon as the checks are done.
    let loads = load("big", 100, 40);
    let loads: Vec<&str> = loads.iter().map(String::as_str).collect();
    run(&mut c, &loads).await;
    s3.faults.delay_ms.store(4000, Ordering::SeqCst);
    run(&mut c, &["BACKUP SNAPSHOT big.slow TO repo"]).await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/console_check.py");
    let mut python = Command::new("python3");
    python.args([
        script,
        &format!("http://{http}/"),
        "root",
        "console-pw",
        "nightly",
        "big",
    ]);
    if let Some(path) = std::env::var_os("SNAPROCK_CONSOLE_SCREENSHOT") {
        python.arg(path);
    }
    run_client_checks(python, "9 passed, 0 failed").await;

    s3.faults.delay_ms.store(0, Ordering::SeqCst);
    let row = wait_for_backup_state(&mut c, "big", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(column(&row, "State"), "FINISHED", "{row:?}");
    server.stop().await;
}

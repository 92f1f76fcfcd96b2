//! Scheduled backups (StarRocks' SUBMIT TASK): each run writes a snapshot named after its time,
//! information_schema.tasks and task_runs show the task and every run with its state and
//! error, DROP TASK stops it, a run is checked against its creator's privileges when it runs,
//! and after a kill -9 the schedule goes on without running the missed times one by one.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use snaprock_tests::s3::TestS3;
use snaprock_tests::{
    ServerProcess, TestServer, expect_error, rows, run, value, wait_for_restore_state,
};

/// The runs of `task` as (state, error code, error message, snapshot, create time), oldest
/// first.
async fn task_runs(c: &mut mysql_async::Conn, task: &str) -> Vec<Run> {
    rows(
        c,
        &format!(
            "SELECT STATE, ERROR_CODE, ERROR_MESSAGE, EXTRA_MESSAGE, CREATE_TIME, FINISH_TIME, \
             PROGRESS, DEFINITION FROM information_schema.task_runs WHERE TASK_NAME = '{task}' \
             ORDER BY CREATE_TIME, FINISH_TIME"
        ),
    )
    .await
    .into_iter()
    .map(|r| Run {
        state: r[0].clone(),
        error_code: r[1].clone(),
        error: r[2].clone(),
        snapshot: serde_json::from_str::<serde_json::Value>(&r[3])
            .ok()
            .and_then(|v| v["snapshot"].as_str().map(str::to_string)),
        create_time: r[4].clone(),
        finish_time: r[5].clone(),
        progress: r[6].clone(),
        definition: r[7].clone(),
    })
    .collect()
}

#[derive(Debug, Clone)]
struct Run {
    state: String,
    error_code: String,
    error: String,
    snapshot: Option<String>,
    create_time: String,
    finish_time: String,
    progress: String,
    definition: String,
}

/// Waits until `task` has at least `n` runs that ended; returns all its runs.
async fn wait_for_ended_runs(c: &mut mysql_async::Conn, task: &str, n: usize) -> Vec<Run> {
    let start = Instant::now();
    loop {
        let runs = task_runs(c, task).await;
        if runs.iter().filter(|r| r.state != "RUNNING").count() >= n {
            return runs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{task} never had {n} ended runs: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Restores snapshot `snapshot` of `d.t` as `target` and returns its rows.
async fn restore_rows(c: &mut mysql_async::Conn, snapshot: &str, target: &str) -> Vec<Vec<String>> {
    let listed = rows(
        c,
        &format!("SHOW SNAPSHOT ON repo WHERE SNAPSHOT = '{snapshot}'"),
    )
    .await;
    assert_eq!(listed.len(), 1, "{snapshot}: {listed:?}");
    let timestamp = listed[0][1].clone();
    run(
        c,
        &[&format!(
            "RESTORE SNAPSHOT d.{snapshot} FROM repo ON (TABLE t AS {target}) \
             PROPERTIES (\"backup_timestamp\" = \"{timestamp}\")"
        )],
    )
    .await;
    let row = wait_for_restore_state(c, "d", &["FINISHED", "CANCELLED"]).await;
    assert_eq!(snaprock_tests::column(&row, "State"), "FINISHED", "{row:?}");
    rows(c, &format!("SELECT * FROM d.{target} ORDER BY 1")).await
}

const NIGHTLY: &str = "BACKUP SNAPSHOT d.snap TO repo ON (t) PROPERTIES (\"ttl\" = \"7 DAY\")";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_run_on_time_are_listed_and_stop_when_dropped() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "tasks", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT, v VARCHAR(10)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO d.t VALUES (1, 'one'), (2, 'two')",
        ],
    )
    .await;

    // The answer StarRocks gives: the task's name and SUBMITTED.
    let answer = rows(
        &mut c,
        &format!("SUBMIT TASK every2 SCHEDULE EVERY(INTERVAL 2 SECOND) AS {NIGHTLY}"),
    )
    .await;
    assert_eq!(
        answer,
        vec![vec!["every2".to_string(), "SUBMITTED".to_string()]]
    );
    let task = rows(
        &mut c,
        "SELECT TASK_NAME, SCHEDULE, CATALOG, `DATABASE`, DEFINITION, EXPIRE_TIME, CREATOR \
         FROM information_schema.tasks",
    )
    .await;
    assert_eq!(task.len(), 1, "{task:?}");
    assert_eq!(task[0][0], "every2");
    assert!(
        task[0][1].starts_with("PERIODICAL (START ") && task[0][1].ends_with(" EVERY(2 SECONDS))"),
        "{task:?}"
    );
    assert_eq!(
        task[0][2..],
        ["default_catalog", "d", NIGHTLY, "NULL", "'root'@'%'"]
    );

    // Each run is a snapshot named after its time, published and restorable.
    let runs = wait_for_ended_runs(&mut c, "every2", 1).await;
    let first = runs.iter().find(|r| r.state != "RUNNING").unwrap().clone();
    assert_eq!(
        (
            first.state.as_str(),
            first.error_code.as_str(),
            first.error.as_str(),
            first.progress.as_str()
        ),
        ("SUCCESS", "0", "NULL", "100%"),
        "{first:?}"
    );
    assert_eq!(first.definition, NIGHTLY);
    assert_ne!(first.finish_time, "NULL");
    let name = first.snapshot.clone().expect("the run names its snapshot");
    let suffix = name.strip_prefix("snap_").expect("snap_<time>");
    assert!(
        suffix.len() == 14 && suffix.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(
        suffix,
        first.create_time.replace(['-', ' ', ':'], ""),
        "the snapshot is named after the run's time"
    );

    // A row written now is in the first snapshot a later run takes.
    run(&mut c, &["INSERT INTO d.t VALUES (3, 'three')"]).await;
    let written = value(&mut c, "SELECT NOW()").await;
    let later = loop {
        let runs = wait_for_ended_runs(&mut c, "every2", 1).await;
        if let Some(r) = runs
            .iter()
            .find(|r| r.state == "SUCCESS" && r.create_time > written)
        {
            break r.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let later_name = later.snapshot.clone().unwrap();
    assert_ne!(later_name, name);
    assert_eq!(restore_rows(&mut c, &name, "t_first").await.len(), 2);
    assert_eq!(
        restore_rows(&mut c, &later_name, "t_later").await,
        rows(&mut c, "SELECT * FROM d.t ORDER BY 1").await
    );

    // DROP TASK: no run after it.
    run(&mut c, &["DROP TASK every2"]).await;
    assert!(
        rows(&mut c, "SELECT * FROM information_schema.tasks")
            .await
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = task_runs(&mut c, "every2").await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = task_runs(&mut c, "every2").await;
    assert_eq!(after.len(), before, "a run after DROP TASK: {after:?}");
    assert!(after.iter().all(|r| r.state == "SUCCESS"), "{after:?}");
    expect_error(&mut c, "DROP TASK every2", 5064, "Task every2 is not exist").await;
    run(&mut c, &["DROP TASK IF EXISTS every2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_cannot_run_is_refused_and_a_failed_run_shows_why() {
    let s3 = TestS3::start().await;
    let server = TestServer::start().await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "tasks", false),
            "CREATE DATABASE d",
            "CREATE DATABASE other",
            "CREATE TABLE d.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO d.t VALUES (1)",
        ],
    )
    .await;
    let refused = [
        (
            "SUBMIT TASK x AS SELECT 1",
            1064,
            "BACKUP, INSERT or CREATE TABLE",
        ),
        (
            "SUBMIT TASK x SCHEDULE EVERY(INTERVAL 1 MONTH) AS BACKUP SNAPSHOT d.s TO repo",
            1064,
            "SECOND, MINUTE, HOUR or DAY",
        ),
        (
            "SUBMIT TASK x SCHEDULE EVERY(INTERVAL 0 SECOND) AS BACKUP SNAPSHOT d.s TO repo",
            5064,
            "Getting analyzing error. Detail message: schedule interval must be at least 1 SECOND.",
        ),
        (
            "SUBMIT TASK x SCHEDULE START('soon') EVERY(INTERVAL 1 DAY) AS BACKUP SNAPSHOT d.s TO repo",
            5064,
            "Incorrect START time 'soon'",
        ),
        (
            "SUBMIT TASK x AS BACKUP SNAPSHOT d.s TO nope",
            5064,
            "Repository [nope] does not exist",
        ),
        (
            "SUBMIT TASK x AS BACKUP SNAPSHOT d.s TO repo ON (missing)",
            1104,
            "Incorrect table name 'missing'",
        ),
        (
            "SUBMIT TASK x AS BACKUP SNAPSHOT d.s TO repo PROPERTIES (\"continuous\" = \"true\")",
            5064,
            "a continuous backup runs until it is cancelled",
        ),
        (
            "SUBMIT TASK x PROPERTIES (\"warehouse\" = \"w\") AS BACKUP SNAPSHOT d.s TO repo",
            5064,
            "Unknown property 'warehouse'",
        ),
        (
            "SUBMIT TASK x PROPERTIES (\"session.no_such_var\" = \"1\") AS BACKUP SNAPSHOT d.s TO repo",
            1193,
            "no_such_var",
        ),
    ];
    for (sql, code, text) in refused {
        let (got_code, message) = snaprock_tests::server_error(c.query_drop(sql).await);
        assert_eq!(got_code, code, "{sql}: {message}");
        assert!(message.contains(text), "{sql}: {message}");
    }
    // Nothing was registered, and the connection still works.
    assert!(
        rows(&mut c, "SELECT * FROM information_schema.tasks")
            .await
            .is_empty()
    );
    assert_eq!(value(&mut c, "SELECT 1").await, "1");

    // Without SCHEDULE a task runs once, now: here an INSERT with a session property.
    run(
        &mut c,
        &[
            "CREATE TABLE d.copy (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "USE d",
            "SUBMIT TASK copy_once PROPERTIES (\"session.query_timeout\" = \"60\") AS \
             INSERT INTO copy SELECT k * 10 FROM t",
        ],
    )
    .await;
    let runs = wait_for_ended_runs(&mut c, "copy_once", 1).await;
    assert_eq!(runs[0].state, "SUCCESS", "{runs:?}");
    assert_eq!(
        rows(&mut c, "SELECT k FROM d.copy").await,
        vec![vec!["10".to_string()]]
    );
    let listed = rows(
        &mut c,
        "SELECT SCHEDULE, EXPIRE_TIME, PROPERTIES FROM information_schema.tasks \
         WHERE TASK_NAME = 'copy_once'",
    )
    .await;
    assert_eq!(listed[0][0], "MANUAL");
    assert_ne!(listed[0][1], "NULL", "a one-off task expires");
    assert_eq!(listed[0][2], r#"{"session.query_timeout":"60"}"#);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(task_runs(&mut c, "copy_once").await.len(), 1, "it ran once");
    run(&mut c, &["DROP TASK copy_once"]).await;

    // A run checks its creator's privileges when it runs: alice loses EXPORT before her
    // task's first time comes, so the run fails and says why.
    run(
        &mut c,
        &[
            "CREATE USER alice IDENTIFIED BY 'pw'",
            "GRANT REPOSITORY ON SYSTEM TO USER alice",
            "GRANT EXPORT ON ALL TABLES IN DATABASE d TO USER alice",
        ],
    )
    .await;
    let mut alice = mysql_async::Conn::new(server.opts("alice", Some("pw"), Some("d")))
        .await
        .unwrap();
    let start = chrono::Local::now() + chrono::Duration::seconds(3);
    run(
        &mut alice,
        &[&format!(
            "SUBMIT TASK later SCHEDULE START('{}') EVERY(INTERVAL 1 HOUR) AS \
             BACKUP SNAPSHOT s TO repo ON (t)",
            start.format("%Y-%m-%d %H:%M:%S")
        )],
    )
    .await;
    expect_error(
        &mut alice,
        "SUBMIT TASK later AS BACKUP SNAPSHOT s TO repo",
        5064,
        "Task later already exist.",
    )
    .await;
    run(
        &mut c,
        &["REVOKE EXPORT ON ALL TABLES IN DATABASE d FROM USER alice"],
    )
    .await;
    let runs = wait_for_ended_runs(&mut c, "later", 1).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].state.as_str(), runs[0].error_code.as_str()),
        ("FAILED", "-1")
    );
    assert!(runs[0].error.contains("Access denied"), "{runs:?}");
    let listed = rows(&mut c, "SHOW SNAPSHOT ON repo").await;
    assert!(listed.is_empty(), "a failed run published {listed:?}");

    // Someone with no privilege in d sees neither the task nor its runs, nor may drop it.
    run(
        &mut c,
        &[
            "CREATE USER bob IDENTIFIED BY 'pw'",
            "GRANT SELECT ON ALL TABLES IN DATABASE other TO USER bob",
        ],
    )
    .await;
    let mut bob = mysql_async::Conn::new(server.opts("bob", Some("pw"), None))
        .await
        .unwrap();
    assert!(
        rows(&mut bob, "SELECT * FROM information_schema.tasks")
            .await
            .is_empty()
    );
    assert!(
        rows(&mut bob, "SELECT * FROM information_schema.task_runs")
            .await
            .is_empty()
    );
    let (code, _) = snaprock_tests::server_error(bob.query_drop("DROP TASK later").await);
    assert_eq!(code, 5203, "bob may not drop alice's task");
    assert_eq!(
        rows(
            &mut c,
            "SELECT TASK_NAME, CREATOR FROM information_schema.tasks"
        )
        .await,
        vec![vec!["later".to_string(), "'alice'@'%'".to_string()]]
    );
    run(&mut alice, &["DROP TASK later"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_survives_kill_9_and_missed_times_run_once() {
    let s3 = TestS3::start().await;
    let data_dir = tempfile::Builder::new()
        .prefix("snaprock-tasks-")
        .tempdir()
        .unwrap();
    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    run(
        &mut c,
        &[
            &s3.create_repository_sql("repo", "tasks", false),
            "CREATE DATABASE d",
            "CREATE TABLE d.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "INSERT INTO d.t VALUES (1), (2)",
            "SUBMIT TASK every2 SCHEDULE EVERY(INTERVAL 2 SECOND) AS BACKUP SNAPSHOT d.snap TO repo",
        ],
    )
    .await;
    let created = value(&mut c, "SELECT CREATE_TIME FROM information_schema.tasks").await;
    wait_for_ended_runs(&mut c, "every2", 1).await;
    drop(c);
    server.kill9();
    let down_at = chrono::Local::now().naive_local();
    // Four scheduled times pass while the server is down.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let before_restart = chrono::Local::now().naive_local();

    let server = ServerProcess::start(data_dir.path()).await;
    let mut c = server.conn().await;
    assert_eq!(
        value(&mut c, "SELECT CREATE_TIME FROM information_schema.tasks").await,
        created,
        "the task survives the restart as it was"
    );
    // Watch a little more than one period after the restart.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let runs = wait_for_ended_runs(&mut c, "every2", 2).await;
    let time = |r: &Run| {
        chrono::NaiveDateTime::parse_from_str(&r.create_time, "%Y-%m-%d %H:%M:%S").unwrap()
    };
    let second = chrono::Duration::seconds(1);
    let while_down = runs
        .iter()
        .filter(|r| time(r) > down_at + second && time(r) < before_restart - second)
        .count();
    assert_eq!(while_down, 0, "{runs:?}");
    // Catch-up for the missed times (one run), then the schedule: at most one more run per
    // period, not one per missed time.
    // (Times are shown to the second.)
    let after: Vec<&Run> = runs
        .iter()
        .filter(|r| time(r) >= before_restart - second)
        .collect();
    assert!(
        (1..=3).contains(&after.len()),
        "missed times must run once, then on schedule: {runs:?}"
    );
    assert!(after.iter().any(|r| r.state == "SUCCESS"), "{runs:?}");
    let mut names: Vec<&str> = runs.iter().filter_map(|r| r.snapshot.as_deref()).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "each run writes its own snapshot: {runs:?}"
    );
    run(&mut c, &["DROP TASK every2"]).await;
    server.kill9();
}

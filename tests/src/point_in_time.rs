//! Waiting on continuous backups: the SHOW BACKUP row of one snapshot and the end of its
//! restorable range, for the point-in-time restore tests.

use mysql_async::Conn;

use crate::{column, show_job_rows};

/// The SHOW BACKUP row of snapshot `snapshot` in `db`.
pub async fn job_row(c: &mut Conn, db: &str, snapshot: &str) -> Vec<(String, String)> {
    show_job_rows(c, "BACKUP", db)
        .await
        .into_iter()
        .find(|r| column(r, "SnapshotName") == snapshot)
        .unwrap_or_else(|| panic!("no backup job {snapshot} in {db}"))
}

/// The end of the continuous job's range, read from its Progress
/// (`[restorable until: <ts>], ...`), as epoch ms.
pub async fn restorable_until(c: &mut Conn, db: &str, snapshot: &str) -> Option<i64> {
    let row = job_row(c, db, snapshot).await;
    let progress = column(&row, "Progress");
    let ts = progress
        .strip_prefix("[restorable until: ")?
        .split(']')
        .next()?;
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%d-%H-%M-%S-%3f").ok()?;
    Some(
        chrono::Local
            .from_local_datetime(&naive)
            .earliest()?
            .timestamp_millis(),
    )
}

/// Waits until the job's range reaches `ms`; returns how long that took.
pub async fn wait_restorable(
    c: &mut Conn,
    db: &str,
    snapshot: &str,
    ms: i64,
) -> std::time::Duration {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(60) {
        if restorable_until(c, db, snapshot)
            .await
            .is_some_and(|u| u >= ms)
        {
            return start.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{snapshot} never became restorable up to {}: {:?}",
        crate::backup_timestamp(ms),
        job_row(c, db, snapshot).await
    );
}

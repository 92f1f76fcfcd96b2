//! One run of a task: a session of the task's creator (its privileges and default roles as
//! they are now) runs the statement. A BACKUP run names its snapshot after the run's time and
//! then waits for the job it submitted, so the run ends when the snapshot is published or
//! the job fails.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone};
use snaprock_backup::JobProgress;
use snaprock_sql::ast::Statement;
use snaprock_sql::parse_statement;
use tracing::{info, warn};

use super::{BackupTarget, RunState, TaskRecord, TaskScheduler};
use crate::Result;
use crate::engine::Engine;

/// How often a run looks at its backup job.
const POLL: Duration = Duration::from_millis(250);

/// Runs `task` as run `query_id` (already recorded RUNNING) and records how it ended.
pub(super) async fn run_task(
    scheduler: Arc<TaskScheduler>,
    engine: Arc<Engine>,
    task: TaskRecord,
    query_id: String,
) {
    match start_statement(&scheduler, &engine, &task, &query_id).await {
        Ok(Some(target)) => wait_for_backup(scheduler, engine, query_id, target).await,
        Ok(None) => {
            info!("task run succeeded");
            scheduler.update_run(&query_id, |r| r.end(RunState::Success, None));
        }
        Err(e) => {
            warn!(error = %e, "task run failed");
            scheduler.update_run(&query_id, |r| r.end(RunState::Failed, Some(e.to_string())));
        }
    }
}

/// Runs the task's statement in a session of its creator; for a BACKUP, the snapshot it
/// submitted (recorded in the run before the job starts).
async fn start_statement(
    scheduler: &TaskScheduler,
    engine: &Arc<Engine>,
    task: &TaskRecord,
    query_id: &str,
) -> Result<Option<BackupTarget>> {
    let mut session = engine.internal_session(task.creator.clone());
    session.use_database(&task.database)?;
    for (key, value) in &task.properties {
        if let Some(variable) = key.strip_prefix("session.") {
            let set = format!("SET {variable} = '{}'", value.replace('\'', "''"));
            session.execute_one(&set).await?;
        }
    }
    let mut statement = parse_statement(&task.definition)?;
    let mut target = None;
    if let Statement::Backup(backup) = &mut statement {
        let started = scheduler
            .runs()
            .iter()
            .find(|r| r.query_id == query_id)
            .map(|r| r.create_time_ms)
            .unwrap_or_else(super::now_ms);
        backup.snapshot = format!("{}_{}", backup.snapshot, run_time_suffix(started));
        let run_target = BackupTarget {
            database: backup
                .database
                .clone()
                .or_else(|| backup.label_database.clone())
                .unwrap_or_else(|| task.database.clone()),
            snapshot: backup.snapshot.clone(),
            repository: backup.repository.clone(),
        };
        scheduler.update_run(query_id, |r| r.backup = Some(run_target.clone()));
        target = Some(run_target);
    }
    session
        .run_tracked(&task.definition, Ok(statement), None)
        .await?;
    Ok(target)
}

/// Follows the backup job of `target` until it ends; the run ends with it.
pub(super) async fn wait_for_backup(
    scheduler: Arc<TaskScheduler>,
    engine: Arc<Engine>,
    query_id: String,
    target: BackupTarget,
) {
    let mut shown = None;
    loop {
        let ended = match engine
            .backup
            .backup_progress(&target.database, &target.snapshot)
        {
            Some(JobProgress::Running { percent }) => {
                if shown != Some(percent) {
                    shown = Some(percent);
                    scheduler.update_run(&query_id, |r| r.progress = percent);
                }
                None
            }
            Some(JobProgress::Finished) => Some((RunState::Success, None)),
            Some(JobProgress::Cancelled { status }) => Some((RunState::Failed, Some(status))),
            None => Some((
                RunState::Failed,
                Some(format!(
                    "the backup job of snapshot {} is no longer known",
                    target.snapshot
                )),
            )),
        };
        if let Some((state, error)) = ended {
            info!(snapshot = %target.snapshot, state = state.name(), "task run ended");
            scheduler.update_run(&query_id, |r| r.end(state, error));
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `yyyyMMddHHmmss` of a run's start, server time zone: the suffix of its snapshot's name.
fn run_time_suffix(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

//! Scheduled tasks (StarRocks' `SUBMIT TASK`): statements the server runs once or on a schedule,
//! as the account that submitted them, with every run recorded.
//!
//! * `schedule.rs`: the period and the next run time;
//! * `run.rs`: one run: a session of the task's creator, the statement, and for a BACKUP the
//!   wait for its job; each run's snapshot is named `<snapshot>_<yyyyMMddHHmmss>`;
//!
//! `information_schema.tasks` and `task_runs` show them (`df/info_schema/task_tables.rs`).
//!
//! Tasks and their runs are kept in `<data dir>/tasks.json`, written before a run starts: the
//! next run time is saved first, so a crash never runs one scheduled time twice, and runs the
//! server missed while it was down collapse into one run when it starts again. A run that was
//! waiting on its backup job when the server stopped waits on the resumed job.

mod refresh;
mod run;
mod schedule;

pub(crate) use refresh::task_name as refresh_task_name;

pub(crate) use schedule::Schedule;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::UserIdentity;
use tracing::{Instrument, info, info_span, warn};

use crate::engine::Engine;
use crate::{ExecError, Result};

/// How often the scheduler looks for tasks due.
const TICK: Duration = Duration::from_millis(200);
/// How long a run is listed in task_runs (StarRocks' `task_runs_ttl_second`).
const RUN_TTL_MS: i64 = 7 * 86_400_000;
/// At most this many runs are kept; the oldest finished ones go first.
const MAX_RUNS: usize = 1000;
/// How long a task that ran once stays listed (StarRocks' `task_ttl_second`).
const ONE_OFF_TTL_MS: i64 = 86_400_000;

/// A submitted task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    pub name: String,
    pub database: String,
    /// The statement as the user wrote it after `AS`.
    pub definition: String,
    pub creator: UserIdentity,
    pub create_time_ms: i64,
    pub schedule: Option<Schedule>,
    /// `session.<variable>` properties: set in the run's session before the statement.
    pub properties: Vec<(String, String)>,
    /// When the task runs next; `None` once a one-off task has run.
    pub next_run_ms: Option<i64>,
}

impl TaskRecord {
    /// When a one-off task leaves the list; periodic tasks stay until dropped.
    pub fn expire_time_ms(&self) -> Option<i64> {
        self.schedule
            .is_none()
            .then_some(self.create_time_ms + ONE_OFF_TTL_MS)
    }
}

/// StarRocks' task run states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RunState {
    Running,
    Success,
    Failed,
    /// The time came while the task's previous run was still running.
    Skipped,
}

impl RunState {
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "RUNNING",
            RunState::Success => "SUCCESS",
            RunState::Failed => "FAILED",
            RunState::Skipped => "SKIPPED",
        }
    }
}

/// The snapshot a BACKUP run writes: the job it waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BackupTarget {
    pub database: String,
    pub snapshot: String,
    pub repository: String,
}

/// One run of a task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskRunRecord {
    pub query_id: String,
    pub task_name: String,
    pub database: String,
    pub definition: String,
    pub create_time_ms: i64,
    pub finish_time_ms: Option<i64>,
    pub state: RunState,
    pub error_code: i64,
    pub error_message: Option<String>,
    pub progress: u8,
    pub backup: Option<BackupTarget>,
}

impl TaskRunRecord {
    /// When the run leaves task_runs.
    pub fn expire_time_ms(&self) -> i64 {
        self.create_time_ms + RUN_TTL_MS
    }

    fn end(&mut self, state: RunState, error: Option<String>) {
        self.state = state;
        self.finish_time_ms = Some(now_ms());
        if state == RunState::Success {
            self.progress = 100;
        }
        if state == RunState::Failed {
            self.error_code = -1;
        }
        self.error_message = error;
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TaskState {
    tasks: Vec<TaskRecord>,
    runs: Vec<TaskRunRecord>,
}

/// The tasks of one server and the history of their runs.
pub struct TaskScheduler {
    path: PathBuf,
    state: Mutex<TaskState>,
    /// Serializes writes of `tasks.json`.
    save_lock: Mutex<()>,
    /// Materialized view refreshes in progress, by view id.
    refreshing: Mutex<std::collections::HashMap<u64, refresh::Refreshing>>,
}

impl TaskScheduler {
    /// Loads `<data dir>/tasks.json` (none yet: no tasks).
    pub(crate) fn open(data_dir: &Path) -> Result<Arc<Self>> {
        let path = data_dir.join("tasks.json");
        let state = match std::fs::read(&path) {
            Ok(body) => serde_json::from_slice(&body).map_err(|e| {
                ExecError::Execution(format!("cannot read {}: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TaskState::default(),
            Err(e) => {
                return Err(ExecError::Execution(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        Ok(Arc::new(TaskScheduler {
            path,
            state: Mutex::new(state),
            save_lock: Mutex::new(()),
            refreshing: Mutex::new(std::collections::HashMap::new()),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self) -> Result<()> {
        let _guard = self.save_lock.lock().unwrap_or_else(|p| p.into_inner());
        let body = serde_json::to_vec_pretty(&*self.lock())
            .map_err(|e| ExecError::Execution(e.to_string()))?;
        snaprock_storage::write_private_file_atomic(&self.path, &body)
            .map_err(|e| ExecError::Execution(format!("cannot save tasks: {e}")))
    }

    /// Adds a task; it runs first at `next_run_ms`.
    pub(crate) fn add(&self, task: TaskRecord) -> Result<()> {
        {
            let mut s = self.lock();
            if s.tasks.iter().any(|t| t.name == task.name) {
                return Err(ExecError::Ddl(format!("Task {} already exist.", task.name)));
            }
            info!(task = %task.name, "task submitted");
            s.tasks.push(task);
        }
        self.save()
    }

    /// DROP TASK: no run starts after this; a run already running finishes.
    pub(crate) fn drop_task(&self, name: &str, if_exists: bool) -> Result<()> {
        {
            let mut s = self.lock();
            let before = s.tasks.len();
            s.tasks.retain(|t| t.name != name);
            if s.tasks.len() == before {
                return if if_exists {
                    Ok(())
                } else {
                    Err(ExecError::Ddl(format!("Task {name} is not exist")))
                };
            }
        }
        info!(task = %name, "task dropped");
        self.save()
    }

    /// The task named `name`, if there is one.
    pub(crate) fn task(&self, name: &str) -> Option<TaskRecord> {
        self.lock().tasks.iter().find(|t| t.name == name).cloned()
    }

    pub(crate) fn tasks(&self) -> Vec<TaskRecord> {
        self.lock().tasks.clone()
    }

    pub(crate) fn runs(&self) -> Vec<TaskRunRecord> {
        self.lock().runs.clone()
    }

    /// Changes the run `query_id` and saves.
    fn update_run(&self, query_id: &str, change: impl FnOnce(&mut TaskRunRecord)) {
        {
            let mut s = self.lock();
            if let Some(run) = s.runs.iter_mut().find(|r| r.query_id == query_id) {
                change(run);
            }
        }
        if let Err(e) = self.save() {
            warn!(error = %e, "cannot save a task run");
        }
    }

    /// Starts the loop that runs tasks when they are due, and first picks up the runs the
    /// last stop interrupted. Stops when the engine is dropped.
    pub(crate) fn start(self: &Arc<Self>, engine: &Arc<Engine>) {
        self.resume_runs(engine);
        self.end_interrupted_refreshes(engine);
        let weak = Arc::downgrade(engine);
        let scheduler = self.clone();
        engine.catalog.background().spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            loop {
                tick.tick().await;
                let Some(engine) = Weak::upgrade(&weak) else {
                    break;
                };
                scheduler.start_due_runs(&engine);
                scheduler.start_due_refreshes(&engine);
            }
        });
    }

    /// Runs RUNNING when the server stopped: a BACKUP run waits on its resumed job; any other
    /// statement was cut short and failed.
    fn resume_runs(self: &Arc<Self>, engine: &Arc<Engine>) {
        let interrupted: Vec<TaskRunRecord> = self
            .lock()
            .runs
            .iter()
            .filter(|r| r.state == RunState::Running)
            .cloned()
            .collect();
        for run in interrupted {
            match run.backup.clone() {
                Some(target) => {
                    let span =
                        info_span!("task_run", task = %run.task_name, query_id = %run.query_id);
                    engine.catalog.background().spawn(
                        run::wait_for_backup(self.clone(), engine.clone(), run.query_id, target)
                            .instrument(span),
                    );
                }
                None => self.update_run(&run.query_id, |r| {
                    r.end(
                        RunState::Failed,
                        Some("the server stopped while the task was running".to_string()),
                    )
                }),
            }
        }
    }

    /// Starts every task whose time has come; saves their next times before any starts.
    fn start_due_runs(self: &Arc<Self>, engine: &Arc<Engine>) {
        let now = now_ms();
        let mut starts = Vec::new();
        let mut changed = false;
        {
            let mut guard = self.lock();
            let s = &mut *guard;
            forget_old(s, now);
            for task in s.tasks.iter_mut() {
                let Some(due) = task.next_run_ms.filter(|due| *due <= now) else {
                    continue;
                };
                // Runs are named after their second: a second run in the same second (a
                // catch-up run just before a scheduled time) waits for the next one.
                let same_second = s
                    .runs
                    .iter()
                    .any(|r| r.task_name == task.name && r.create_time_ms / 1000 == now / 1000);
                if same_second {
                    continue;
                }
                changed = true;
                task.next_run_ms = task.schedule.map(|sch| sch.next_after(now));
                let busy = s
                    .runs
                    .iter()
                    .any(|r| r.task_name == task.name && r.state == RunState::Running);
                let mut run = new_run(task, now);
                if busy {
                    run.end(
                        RunState::Skipped,
                        Some(format!(
                            "the previous run of task {} was still running",
                            task.name
                        )),
                    );
                } else {
                    starts.push((task.clone(), run.query_id.clone()));
                }
                info!(task = %task.name, due, skipped = busy, "task due");
                s.runs.push(run);
            }
        }
        if !changed {
            return;
        }
        if let Err(e) = self.save() {
            // Not started: unsaved, a crash could run this time again. The time is missed.
            warn!(error = %e, "cannot save tasks; their due runs fail");
            for (_, query_id) in &starts {
                let mut s = self.lock();
                if let Some(run) = s.runs.iter_mut().find(|r| &r.query_id == query_id) {
                    run.end(
                        RunState::Failed,
                        Some(format!("cannot save the task state: {e}")),
                    );
                }
            }
            return;
        }
        for (task, query_id) in starts {
            let span = info_span!("task_run", task = %task.name, query_id = %query_id);
            engine.catalog.background().spawn(
                run::run_task(self.clone(), engine.clone(), task, query_id).instrument(span),
            );
        }
    }
}

/// A RUNNING run of `task`, created now.
fn new_run(task: &TaskRecord, now: i64) -> TaskRunRecord {
    TaskRunRecord {
        query_id: new_query_id(),
        task_name: task.name.clone(),
        database: task.database.clone(),
        definition: task.definition.clone(),
        create_time_ms: now,
        finish_time_ms: None,
        state: RunState::Running,
        error_code: 0,
        error_message: None,
        progress: 0,
        backup: None,
    }
}

/// Drops finished runs past their TTL or beyond the cap, and one-off tasks past theirs.
fn forget_old(s: &mut TaskState, now: i64) {
    s.runs
        .retain(|r| r.state == RunState::Running || r.create_time_ms + RUN_TTL_MS > now);
    while s.runs.len() > MAX_RUNS {
        match s.runs.iter().position(|r| r.state != RunState::Running) {
            Some(oldest) => {
                s.runs.remove(oldest);
            }
            None => break,
        }
    }
    s.tasks
        .retain(|t| t.next_run_ms.is_some() || t.expire_time_ms().is_none_or(|e| e > now));
}

/// A random id in UUID form, as StarRocks names a task run.
pub(crate) fn new_query_id() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time as information_schema shows it: `yyyy-MM-dd HH:mm:ss`, server time zone.
pub(crate) fn show_time(ms: i64) -> String {
    snaprock_backup::format::show_time(ms)
}

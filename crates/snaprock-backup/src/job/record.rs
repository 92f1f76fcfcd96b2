//! The one durable record of a job, backup or restore: the fields every job has (what SHOW
//! shows of any job, the transfer counters, the timeout) and the kind's own `detail`; and the
//! one SHOW builder, which walks the kind's column list so a column name cannot drift from its
//! value.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::format::{now_ms, show_time};

/// The states of a kind of job; FINISHED and CANCELLED are final.
pub trait JobState:
    Copy + PartialEq + std::fmt::Debug + Send + Serialize + DeserializeOwned + 'static
{
    const PENDING: Self;
    const FINISHED: Self;
    const CANCELLED: Self;
    /// The name SHOW shows.
    fn name(self) -> &'static str;
    /// While the job moves files (UPLOADING, DOWNLOADING): UnfinishedTasks counts them down.
    fn is_transferring(self) -> bool;

    fn is_done(self) -> bool {
        self == Self::FINISHED || self == Self::CANCELLED
    }
}

/// What a kind of job (backup, restore) keeps beside the common fields, and how SHOW shows it.
pub trait JobKind: Clone + std::fmt::Debug + Send + Serialize + DeserializeOwned + 'static {
    type State: JobState;
    /// The columns of this kind's SHOW statement, in order.
    const SHOW_COLUMNS: &'static [ShowColumn<Self>];
    /// The Status of a job that timed out.
    fn timeout_status(record: &JobRecord<Self>) -> String;
    /// Whether the Progress column shows the transfer counters yet.
    fn shows_progress(record: &JobRecord<Self>) -> bool;
    /// The Progress column once it shows: files and bytes moved of the total, the rate, and
    /// while the files move the time left.
    fn progress_text(r: &JobRecord<Self>) -> String {
        r.transfer_progress_text()
    }
    /// Whether CANCEL (or the timeout) may still end the job: not once it has committed
    /// something a client can see.
    fn cancellable(_record: &JobRecord<Self>) -> bool {
        true
    }
}

/// Everything SHOW shows of a job, persisted at every state change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "K: Serialize", deserialize = "K: DeserializeOwned"))]
pub struct JobRecord<K: JobKind> {
    /// -1 until the job starts running.
    pub job_id: i64,
    pub snapshot: String,
    /// The database backed up, or restored into.
    pub database: String,
    pub repository: String,
    pub state: K::State,
    pub create_time: i64,
    pub finished_time: Option<i64>,
    pub timeout_secs: u64,
    pub status: String,
    pub task_err_msg: String,
    /// Files and bytes this job moves (for a backup, files already in the repository are not
    /// counted).
    pub files_total: u64,
    pub files_done: u64,
    pub bytes_total: u64,
    pub bytes_done: u64,
    /// When the job (last) started moving files, and when it stopped (epoch ms): its rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_started: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_ended: Option<i64>,
    /// What only this kind of job has.
    #[serde(flatten)]
    pub detail: K,
}

impl<K: JobKind> JobRecord<K> {
    /// A new PENDING job, created now, with an OK status and nothing moved.
    pub fn pending(
        snapshot: String,
        database: String,
        repository: String,
        timeout_secs: u64,
        detail: K,
    ) -> Self {
        JobRecord {
            job_id: -1,
            snapshot,
            database,
            repository,
            state: K::State::PENDING,
            create_time: now_ms(),
            finished_time: None,
            timeout_secs,
            status: super::status_ok(),
            task_err_msg: String::new(),
            files_total: 0,
            files_done: 0,
            bytes_total: 0,
            bytes_done: 0,
            transfer_started: None,
            transfer_ended: None,
            detail,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state.is_done()
    }

    /// Ends the job in `state` (FINISHED or CANCELLED) with `status`, setting its FinishedTime.
    pub fn end(&mut self, state: K::State, status: String) {
        self.move_to(state);
        self.status = status;
        self.finished_time = Some(now_ms());
    }

    /// Moves to `state`, noting when the files start and stop moving.
    pub fn move_to(&mut self, state: K::State) {
        if state.is_transferring() && !self.state.is_transferring() {
            self.transfer_started = Some(now_ms());
            self.transfer_ended = None;
        } else if !state.is_transferring() && self.transfer_started.is_some() {
            self.transfer_ended.get_or_insert_with(now_ms);
        }
        self.state = state;
    }

    /// `[files: d/t], [bytes: d/t]`, then the rate and the time left (below).
    pub fn transfer_progress_text(&self) -> String {
        let mut text = super::transfer_progress(
            self.files_done,
            self.files_total,
            self.bytes_done,
            self.bytes_total,
        );
        text.push_str(&self.transfer_rate_text());
        text
    }

    /// `, [rate: 240.0 MB/s]` once files moved (the average while they moved), and while
    /// they still move `, [eta: 13 s]`; empty before.
    pub fn transfer_rate_text(&self) -> String {
        let Some(started) = self.transfer_started else {
            return String::new();
        };
        let moving = self.transfer_ended.is_none();
        // At least a millisecond: a small local copy can take less.
        let seconds = (self.transfer_ended.unwrap_or_else(now_ms) - started).max(1) as f64 / 1000.0;
        if self.bytes_done == 0 {
            return String::new();
        }
        let rate = self.bytes_done as f64 / seconds;
        let mut text = format!(", [rate: {}/s]", human_bytes(rate));
        if moving {
            let left = self.bytes_total.saturating_sub(self.bytes_done) as f64 / rate;
            text.push_str(&format!(", [eta: {} s]", left.ceil() as u64));
        }
        text
    }

    /// Epoch milliseconds at which the job times out.
    pub fn deadline_ms(&self) -> i64 {
        self.create_time + self.timeout_secs as i64 * 1000
    }

    /// The SHOW row: one cell per column of `K::SHOW_COLUMNS`.
    pub fn show_row(&self) -> Vec<Option<String>> {
        K::SHOW_COLUMNS.iter().map(|c| c.value(self)).collect()
    }

    pub fn show_column_names() -> Vec<&'static str> {
        K::SHOW_COLUMNS.iter().map(|c| c.name).collect()
    }
}

/// One column of SHOW BACKUP / SHOW RESTORE: its name and where its value comes from.
pub struct ShowColumn<K: JobKind> {
    pub name: &'static str,
    pub cell: Cell<K>,
}

/// Where a SHOW cell's value comes from.
pub enum Cell<K: JobKind> {
    JobId,
    Snapshot,
    Database,
    State,
    CreateTime,
    FinishedTime,
    /// `files_remaining=N` while the files move, else empty.
    UnfinishedTasks,
    /// `[files: d/t], [bytes: d/t]` once the kind says so, else empty.
    Progress,
    TaskErrMsg,
    Status,
    Timeout,
    /// A value of the kind's own.
    Detail(fn(&K) -> Option<String>),
}

impl<K: JobKind> ShowColumn<K> {
    pub const fn new(name: &'static str, cell: Cell<K>) -> Self {
        ShowColumn { name, cell }
    }

    fn value(&self, r: &JobRecord<K>) -> Option<String> {
        let text = match &self.cell {
            Cell::JobId => r.job_id.to_string(),
            Cell::Snapshot => r.snapshot.clone(),
            Cell::Database => r.database.clone(),
            Cell::State => r.state.name().to_string(),
            Cell::CreateTime => show_time(r.create_time),
            Cell::FinishedTime => return r.finished_time.map(show_time),
            Cell::UnfinishedTasks if r.state.is_transferring() => format!(
                "files_remaining={}",
                r.files_total.saturating_sub(r.files_done)
            ),
            Cell::UnfinishedTasks => String::new(),
            Cell::Progress if K::shows_progress(r) => K::progress_text(r),
            Cell::Progress => String::new(),
            Cell::TaskErrMsg => r.task_err_msg.clone(),
            Cell::Status => r.status.clone(),
            Cell::Timeout => r.timeout_secs.to_string(),
            Cell::Detail(value) => return value(&r.detail),
        };
        Some(text)
    }
}

/// `1.2 GB`: bytes in decimal units, one decimal.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A time cell of a kind's own (NULL until the time is known).
pub fn time_cell(t: Option<i64>) -> Option<String> {
    t.map(show_time)
}

//! The core backup and restore jobs share: the one record type (`record.rs`), the tracked job
//! (record behind a lock, live counters, cancel signal), the Status texts, the timeout, moving
//! a job from state to state, the one transfer loop that moves a job's files, and what a job
//! keeps to continue after a restart (`plan_file.rs`).

pub(crate) mod plan_file;
mod record;
pub use record::{Cell, JobKind, JobRecord, JobState, ShowColumn, time_cell};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use tracing::warn;

use crate::error::StoreError;
use crate::format::now_ms;
use crate::service::BackupService;
use crate::store::{CancelSignal, TransferProgress};

/// The Progress column of SHOW BACKUP and SHOW RESTORE: files and bytes moved of the total.
pub fn transfer_progress(
    files_done: u64,
    files_total: u64,
    bytes_done: u64,
    bytes_total: u64,
) -> String {
    format!("[files: {files_done}/{files_total}], [bytes: {bytes_done}/{bytes_total}]")
}

/// Status texts of §2.2.
pub fn status_ok() -> String {
    "[OK]".to_string()
}

pub fn status_error(code: &str, msg: &str) -> String {
    format!("[{code}, msg: {msg}]")
}

/// The status of a job that failed on storage.
pub fn status_for_store_error(context: &str, e: &StoreError) -> String {
    let code = match e {
        StoreError::Unreachable(_) => "BAD_CONNECTION",
        StoreError::Checksum { .. } => "BAD_FILE",
        StoreError::NotFound(_) => "NOT_FOUND",
        _ => "COMMON_ERROR",
    };
    status_error(code, &format!("{context}: {e}"))
}

/// A running or finished job: its record behind a lock, and the live parts its transfers share.
#[derive(Debug)]
pub struct TrackedJob<K: JobKind> {
    record: Mutex<JobRecord<K>>,
    pub cancel: Arc<CancelSignal>,
    pub progress: TransferProgress,
    pub files_done: AtomicU64,
}

impl<K: JobKind> TrackedJob<K> {
    pub fn new(record: JobRecord<K>) -> Arc<Self> {
        let (files_done, bytes_done) = (record.files_done, record.bytes_done);
        let progress = TransferProgress::default();
        progress.add(bytes_done);
        Arc::new(TrackedJob {
            record: Mutex::new(record),
            cancel: CancelSignal::new(),
            progress,
            files_done: AtomicU64::new(files_done),
        })
    }

    /// Counts from zero again: a job resumed after a restart recounts what it moves.
    pub fn reset_progress(&self) {
        self.files_done.store(0, Ordering::Relaxed);
        self.progress.bytes_done.store(0, Ordering::Relaxed);
    }

    pub fn lock(&self) -> MutexGuard<'_, JobRecord<K>> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the record with the live counters folded in.
    pub fn record(&self) -> JobRecord<K> {
        let mut r = self.lock().clone();
        r.files_done = self.files_done.load(Ordering::Relaxed);
        r.bytes_done = self.progress.bytes_done.load(Ordering::Relaxed);
        r
    }

    /// The job's SHOW row, live counters included.
    pub fn show_row(&self) -> Vec<Option<String>> {
        self.record().show_row()
    }

    pub fn is_done(&self) -> bool {
        self.lock().is_done()
    }

    /// Moves to `state` unless the job already ended (cancelled); returns whether it moved.
    pub fn advance(&self, state: K::State, update: impl FnOnce(&mut JobRecord<K>)) -> bool {
        let mut r = self.lock();
        if r.is_done() {
            return false;
        }
        r.move_to(state);
        update(&mut r);
        // Inside the job's span: which job, and now which state.
        tracing::info!(state = ?state, "job state");
        true
    }

    /// For a resumed job whose repository is not loaded: says so in TaskErrMsg; true once the
    /// job ended (CANCEL) or timed out (then it ends CANCELLED).
    pub fn wait_for_repository(&self, repository: &str) -> bool {
        if self.is_done() {
            return true;
        }
        // Past its deadline a job ends timed out, unless it can no longer be cancelled (an
        // instant restore past its commit): that one waits on.
        if now_ms() >= self.lock().deadline_ms() && self.cancel_with(|r| K::timeout_status(r)) {
            return true;
        }
        self.lock().task_err_msg = format!("[repository {repository} is not available]; retrying");
        false
    }

    /// Ends the job as CANCELLED with the status `status` builds from the record, unless it
    /// already ended or can no longer be cancelled; signals its transfers.
    pub fn cancel_with(&self, status: impl FnOnce(&JobRecord<K>) -> String) -> bool {
        let ended = {
            let mut r = self.lock();
            if r.is_done() || !K::cancellable(&r) {
                false
            } else {
                let status = status(&r);
                r.end(K::State::CANCELLED, status);
                true
            }
        };
        if ended {
            self.cancel.cancel();
        }
        ended
    }
}

/// Data files uploaded at the same time (each with its own parts in flight).
pub(crate) const FILES_IN_FLIGHT: usize = 4;

/// A job step failed: the Status to show.
pub(crate) struct Failed(pub(crate) String);

impl Failed {
    /// The job was cancelled meanwhile: its Status says why.
    pub(crate) fn ended<K: JobKind>(job: &TrackedJob<K>) -> Self {
        Failed(job.lock().status.clone())
    }
}

/// Cancels the job with its timeout Status when its timeout passes.
pub(crate) fn spawn_timeout<K: JobKind>(job: &Arc<TrackedJob<K>>) -> tokio::task::JoinHandle<()> {
    let remaining_ms = (job.lock().deadline_ms() - now_ms()).max(0) as u64;
    let job = job.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(remaining_ms)).await;
        if job.cancel_with(|r| K::timeout_status(r)) {
            warn!("job timed out");
        }
    })
}

/// Moves the job on, persisting the change; fails if the job was cancelled meanwhile.
pub(crate) fn advance<K: JobKind>(
    service: &BackupService,
    job: &TrackedJob<K>,
    state: K::State,
    update: impl FnOnce(&mut JobRecord<K>),
) -> Result<(), Failed> {
    if !job.advance(state, update) {
        return Err(Failed::ended(job));
    }
    if let Err(e) = service.save() {
        return Err(Failed(status_error("COMMON_ERROR", &e.message)));
    }
    Ok(())
}

/// The one transfer loop of backup and restore: runs `transfers` (each yields its item and the
/// store's answer) a few at a time, counting every file done. On the first failure the job is
/// cancelled with the Status `status_of` gives, which makes every other transfer stop and clean
/// up (abort its multipart upload, delete its partial file); all of them are awaited. Returns the
/// items of the transfers that succeeded, in completion order.
pub(crate) async fn transfer_all<K, T, F>(
    job: &TrackedJob<K>,
    transfers: Vec<F>,
    status_of: impl Fn(&T, &StoreError) -> (String, String),
) -> Result<Vec<T>, Failed>
where
    K: JobKind,
    F: std::future::Future<Output = (T, Result<(), StoreError>)>,
{
    let mut stream = futures::stream::iter(transfers).buffer_unordered(FILES_IN_FLIGHT);
    let mut done = Vec::new();
    let mut failure = None;
    while let Some((item, result)) = stream.next().await {
        match result {
            Ok(()) => {
                job.files_done.fetch_add(1, Ordering::Relaxed);
                done.push(item);
            }
            Err(StoreError::Cancelled) => {}
            Err(e) => {
                let (key, status) = status_of(&item, &e);
                job.lock().task_err_msg = format!("[{key}: {e}]");
                if failure.is_none() {
                    job.cancel_with(|_| status.clone());
                    failure = Some(Failed(status));
                }
            }
        }
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if job.cancel.is_cancelled() {
        return Err(Failed::ended(job));
    }
    Ok(done)
}

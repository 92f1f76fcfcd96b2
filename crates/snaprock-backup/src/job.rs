//! The core backup and restore jobs share: the tracked job (record behind a lock, live
//! counters, cancel signal), the Status texts, the timeout, moving a job from state to state,
//! and the one transfer loop that moves a job's files.

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

/// What [`TrackedJob`] needs of a job's durable record.
pub trait JobRecord: Clone + Send + 'static {
    type State: Copy + PartialEq + std::fmt::Debug;
    fn set_state(&mut self, state: Self::State);
    fn is_done(&self) -> bool;
    /// Ends the job as CANCELLED with `status`, setting its FinishedTime.
    fn end_cancelled(&mut self, status: String);
    /// Folds the live transfer counters into the record.
    fn set_counters(&mut self, files_done: u64, bytes_done: u64);
    fn counters(&self) -> (u64, u64);
    fn status(&self) -> &str;
    /// Epoch milliseconds at which the job times out.
    fn deadline_ms(&self) -> i64;
    /// The Status of a job that timed out.
    fn timeout_status(&self) -> String;
    /// SHOW's TaskErrMsg: which file failed and why.
    fn set_task_err_msg(&mut self, message: String);
}

/// A running or finished job: its record behind a lock, and the live parts its transfers share.
#[derive(Debug)]
pub struct TrackedJob<R> {
    record: Mutex<R>,
    pub cancel: Arc<CancelSignal>,
    pub progress: TransferProgress,
    pub files_done: AtomicU64,
}

impl<R: JobRecord> TrackedJob<R> {
    pub fn new(record: R) -> Arc<Self> {
        let (files_done, bytes_done) = record.counters();
        let progress = TransferProgress::default();
        progress.add(bytes_done);
        Arc::new(TrackedJob {
            record: Mutex::new(record),
            cancel: CancelSignal::new(),
            progress,
            files_done: AtomicU64::new(files_done),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, R> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the record with the live counters folded in.
    pub fn record(&self) -> R {
        let mut r = self.lock().clone();
        r.set_counters(
            self.files_done.load(Ordering::Relaxed),
            self.progress.bytes_done.load(Ordering::Relaxed),
        );
        r
    }

    pub fn is_done(&self) -> bool {
        self.lock().is_done()
    }

    /// Moves to `state` unless the job already ended (cancelled); returns whether it moved.
    pub fn advance(&self, state: R::State, update: impl FnOnce(&mut R)) -> bool {
        let mut r = self.lock();
        if r.is_done() {
            return false;
        }
        r.set_state(state);
        update(&mut r);
        // Inside the job's span: which job, and now which state.
        tracing::info!(state = ?state, "job state");
        true
    }

    /// Ends the job as CANCELLED with the status `status` builds from the record, unless it
    /// already ended; signals its transfers.
    pub fn cancel_with(&self, status: impl FnOnce(&R) -> String) -> bool {
        let ended = {
            let mut r = self.lock();
            if r.is_done() {
                false
            } else {
                let status = status(&r);
                r.end_cancelled(status);
                true
            }
        };
        if ended {
            self.cancel.cancel();
        }
        ended
    }
}

/// The [`JobRecord`] methods that backup and restore records share field for field (both have
/// `state`, `status`, `create_time`, `finished_time`, `timeout_secs`, `files_done`,
/// `bytes_done`); each record adds its own `timeout_status`.
macro_rules! job_record_fields {
    ($state:ident) => {
        type State = $state;

        fn set_state(&mut self, state: $state) {
            self.state = state;
        }

        fn is_done(&self) -> bool {
            self.state.is_done()
        }

        fn end_cancelled(&mut self, status: String) {
            self.state = $state::Cancelled;
            self.status = status;
            self.finished_time = Some($crate::format::now_ms());
        }

        fn set_task_err_msg(&mut self, message: String) {
            self.task_err_msg = message;
        }

        fn set_counters(&mut self, files_done: u64, bytes_done: u64) {
            self.files_done = files_done;
            self.bytes_done = bytes_done;
        }

        fn counters(&self) -> (u64, u64) {
            (self.files_done, self.bytes_done)
        }

        fn status(&self) -> &str {
            &self.status
        }

        fn deadline_ms(&self) -> i64 {
            self.create_time + self.timeout_secs as i64 * 1000
        }
    };
}
pub(crate) use job_record_fields;

/// Data files uploaded at the same time (each with its own parts in flight).
const FILES_IN_FLIGHT: usize = 4;

/// A job step failed: the Status to show.
pub(crate) struct Failed(pub(crate) String);

impl Failed {
    /// The job was cancelled meanwhile: its Status says why.
    pub(crate) fn ended<R: JobRecord>(job: &TrackedJob<R>) -> Self {
        Failed(job.lock().status().to_string())
    }
}

/// Cancels the job with its timeout Status when its timeout passes.
pub(crate) fn spawn_timeout<R: JobRecord>(job: &Arc<TrackedJob<R>>) -> tokio::task::JoinHandle<()> {
    let remaining_ms = (job.lock().deadline_ms() - now_ms()).max(0) as u64;
    let job = job.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(remaining_ms)).await;
        if job.cancel_with(|r| r.timeout_status()) {
            warn!("job timed out");
        }
    })
}

/// Moves the job on, persisting the change; fails if the job was cancelled meanwhile.
pub(crate) fn advance<R: JobRecord>(
    service: &BackupService,
    job: &TrackedJob<R>,
    state: R::State,
    update: impl FnOnce(&mut R),
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
pub(crate) async fn transfer_all<R, T, F>(
    job: &TrackedJob<R>,
    transfers: Vec<F>,
    status_of: impl Fn(&T, &StoreError) -> (String, String),
) -> Result<Vec<T>, Failed>
where
    R: JobRecord,
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
                job.lock().set_task_err_msg(format!("[{key}: {e}]"));
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

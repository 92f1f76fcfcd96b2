//! The backup service: repositories, the latest job of each database, their durable record
//! (`<data dir>/backup.json`, owner-only: it holds S3 keys), and the statements that use them.
//!
//! * `persist.rs`: loading and saving `backup.json`, closing jobs a restart interrupted;
//! * `repositories.rs`: CREATE / DROP / SHOW REPOSITORY, SHOW SNAPSHOT;
//! * `attach.rs`: snapshots attached as read-only databases (CREATE DATABASE ... FROM SNAPSHOT);
//! * `verify.rs`: ADMIN CHECK SNAPSHOT;
//! * `drop.rs`: DROP SNAPSHOT, snapshot expiry, garbage collection requests;
//! * `history.rs`, `observe.rs`: the history of ended jobs, and what the service reports to
//!   `/metrics` (jobs that end, repository checks);
//! * `jobs.rs`: BACKUP and RESTORE submission (one job per database), SHOW BACKUP / RESTORE,
//!   CANCEL. The jobs themselves run in `runner.rs` and `restore_runner.rs`.

mod attach;
mod drop;
mod history;
mod jobs;
mod observe;
mod persist;
mod repositories;
mod verify;
mod volumes;
pub use volumes::{OWNER_KEY, VolumeOwner, volume_location};

pub use attach::SnapshotDatabase;
pub use history::{EndedJob, JobHistory};
pub use observe::JobView;
use persist::{ExpiringSnapshot, RepositoryRecord};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{BackupStatement, CreateRepository, RestoreStatement, SnapshotFilter};
use snaprock_storage::Catalog;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::backup::analyze::analyze_backup;
use crate::backup::job::{BackupDetail, BackupJob, BackupJobRecord, BackupState};
use crate::error::{BackupError, Result, StoreError};
use crate::format::{now_ms, show_time};
use crate::job::{JobKind, JobRecord, JobState, status_error, status_ok};
use crate::location::Location;
use crate::metrics::BackupMetrics;
use crate::repository::{Repository, init_remote, open_store};
use crate::restore::analyze::{check_restore_statement, plan_restore, target_database};
use crate::restore::job::{RestoreDetail, RestoreJob, RestoreJobRecord};
use crate::store::{OpenUpload, StoreContext, TransferTuning, UploadJournal};

/// How long CREATE REPOSITORY may spend talking to storage.
const CREATE_REPOSITORY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a submission waits for another one (StarRocks: 10 s).
const SUBMIT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows for a SHOW statement: column names and text cells (`None` is NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Where a job stands, for callers outside the service (a scheduled task's run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobProgress {
    /// Running; `percent` of its bytes moved (never 100 before it finishes).
    Running {
        percent: u8,
    },
    Finished,
    /// Ended without finishing: its Status (`[COMMON_ERROR, msg: ...]`).
    Cancelled {
        status: String,
    },
}

/// The job a database's slot holds (one running job per database).
#[derive(Debug, Clone)]
pub(crate) enum Job {
    Backup(Arc<BackupJob>),
    Restore(Arc<RestoreJob>),
}

impl Job {
    fn is_done(&self) -> bool {
        match self {
            Job::Backup(j) => j.is_done(),
            Job::Restore(j) => j.is_done(),
        }
    }

    fn snapshot(&self) -> String {
        match self {
            Job::Backup(j) => j.lock().snapshot.clone(),
            Job::Restore(j) => j.lock().snapshot.clone(),
        }
    }

    fn repository(&self) -> String {
        match self {
            Job::Backup(j) => j.lock().repository.clone(),
            Job::Restore(j) => j.lock().repository.clone(),
        }
    }

    fn database(&self) -> String {
        match self {
            Job::Backup(j) => j.lock().database.clone(),
            Job::Restore(j) => j.lock().database.clone(),
        }
    }

    /// The name of the job's plan file and catalog hold.
    fn holder(&self) -> String {
        match self {
            Job::Backup(j) => crate::job::plan_file::holder("backup", &j.lock()),
            Job::Restore(j) => crate::job::plan_file::holder("restore", &j.lock()),
        }
    }

    /// A resumed job whose repository is not loaded: says so in TaskErrMsg; true once the job
    /// ended meanwhile (CANCEL) or timed out (then it ends CANCELLED).
    fn gives_up_waiting_for(&self, repository: &str) -> bool {
        match self {
            Job::Backup(j) => j.wait_for_repository(repository),
            Job::Restore(j) => j.wait_for_repository(repository),
        }
    }
}

struct State {
    next_id: u64,
    repositories: BTreeMap<String, (Arc<Repository>, RepositoryRecord)>,
    jobs: BTreeMap<String, Job>,
    /// The latest continuous backup of each database: it runs beside the database's one
    /// ordinary job, in a slot of its own.
    continuous: BTreeMap<String, Arc<BackupJob>>,
    /// Snapshots this server published with a `ttl`.
    expiring: Vec<ExpiringSnapshot>,
    /// Repositories whose garbage collection waits for running jobs to end.
    gc_pending: std::collections::BTreeSet<String>,
    /// Multipart uploads the last stop left open, found at start, aborted by `resume_jobs`.
    open_uploads: Vec<OpenUpload>,
    /// The stores of the storage volumes mounted at start (their open uploads are aborted
    /// with the repositories').
    volume_stores: Vec<Arc<dyn crate::store::ObjectStore>>,
}

/// Repositories and backup jobs of one server.
pub struct BackupService {
    /// Persisted on first start; names this server in the snapshots it publishes.
    pub(crate) cluster_id: String,
    pub(crate) catalog: Arc<Catalog>,
    state_path: PathBuf,
    state: Mutex<State>,
    /// Serializes writes of `backup.json`.
    save_lock: Mutex<()>,
    /// Serializes submissions, so the one-job-per-database check cannot race.
    submit_lock: tokio::sync::Mutex<()>,
    pub(crate) tuning: TransferTuning,
    /// Where S3 stores note their open multipart uploads (`<data dir>/uploads/`).
    pub(crate) upload_journal: UploadJournal,
    /// What `/metrics` counts of backups, restores and repositories.
    pub metrics: BackupMetrics,
    /// Jobs that ended, newest last (`job_history.jsonl`).
    history: JobHistory,
}

impl std::fmt::Debug for BackupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupService")
            .field("state_path", &self.state_path)
            .finish()
    }
}

impl State {
    /// Every job kept: each database's ordinary job and its continuous backup.
    fn all_jobs(&self) -> impl Iterator<Item = Job> + '_ {
        self.jobs
            .values()
            .cloned()
            .chain(self.continuous.values().cloned().map(Job::Backup))
    }
}

impl BackupService {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn allocate_id(&self) -> u64 {
        let mut s = self.lock();
        s.next_id += 1;
        s.next_id
    }

    pub(crate) fn repository(&self, name: &str) -> Option<Arc<Repository>> {
        self.lock().repositories.get(name).map(|(r, _)| r.clone())
    }

    /// The names of the repositories, in order.
    pub fn repository_names(&self) -> Vec<String> {
        self.lock().repositories.keys().cloned().collect()
    }

    /// How many backup and restore jobs have not ended (a stop cuts them short).
    pub fn running_jobs(&self) -> usize {
        self.lock().all_jobs().filter(|j| !j.is_done()).count()
    }

    /// The identity of this server's data (kept in its data directory across restarts).
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// What a store opened for this server shares (tuning, upload journal, retry counter).
    pub fn store_context(&self) -> StoreContext {
        StoreContext {
            tuning: self.tuning,
            journal: Some(self.upload_journal.clone()),
            retries: self.metrics.s3_retries.clone(),
        }
    }

    /// Jobs that ended, oldest first.
    pub fn history(&self) -> &JobHistory {
        &self.history
    }

    /// The kind (`backup`, `restore`) and state of every job kept (each database's latest and
    /// its continuous backup).
    pub fn job_states(&self) -> Vec<(&'static str, &'static str)> {
        self.lock()
            .all_jobs()
            .map(|job| match job {
                Job::Backup(j) => ("backup", j.lock().state.name()),
                Job::Restore(j) => ("restore", j.lock().state.name()),
            })
            .collect()
    }
}

//! What the service reports about itself: each job that ends goes into the history and the
//! metrics, and every repository is checked now and then (does it answer, how many snapshots
//! does it hold) so `/metrics` can say so without a request to storage per scrape.

use super::*;
use crate::metrics::RepositoryHealth;

/// How often every repository is listed for `/metrics`.
pub const REPOSITORY_CHECK_EVERY: Duration = Duration::from_secs(30);
/// How long one check may take before the repository counts as unreachable.
const REPOSITORY_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

impl BackupService {
    /// Records a backup job that ended (a job still running is ignored).
    pub(crate) fn backup_ended(self: &Arc<Self>, job: &BackupJob) {
        let r = job.record();
        if !r.is_done() {
            return;
        }
        self.metrics.job_ended("backup", &r);
        let files = &self.metrics.files;
        files.with_label_values(&["uploaded"]).inc_by(r.files_done);
        if r.state == BackupState::FINISHED {
            files
                .with_label_values(&["reused"])
                .inc_by(r.detail.files_reused);
            self.metrics.reused_bytes.inc_by(r.detail.bytes_reused);
            self.check_repository_soon(&r.repository);
        }
        self.history.record(EndedJob {
            kind: "BACKUP".into(),
            files_reused: r.detail.files_reused,
            bytes_reused: r.detail.bytes_reused,
            ..ended_job(&r)
        });
    }

    /// Records a restore job that ended (one still downloading is ignored).
    pub(crate) fn restore_ended(&self, job: &RestoreJob) {
        let r = job.record();
        if !r.is_done() {
            return;
        }
        self.metrics.job_ended("restore", &r);
        self.metrics
            .files
            .with_label_values(&["downloaded"])
            .inc_by(r.files_done);
        self.history.record(EndedJob {
            kind: "RESTORE".into(),
            ..ended_job(&r)
        });
    }

    /// Lists `repository` in the background and records what it found.
    pub(crate) fn check_repository_soon(self: &Arc<Self>, repository: &str) {
        let service = self.clone();
        let repository = repository.to_string();
        self.catalog
            .background()
            .spawn(async move { service.check_repository(&repository).await });
    }

    /// Lists every repository and records what each answered.
    pub(crate) async fn check_repositories(&self) {
        for name in self.repository_names() {
            self.check_repository(&name).await;
        }
    }

    async fn check_repository(&self, name: &str) {
        let Some(repo) = self.repository(name) else {
            return;
        };
        let listed = tokio::time::timeout(REPOSITORY_CHECK_TIMEOUT, repo.snapshot_names()).await;
        let health = match listed {
            Ok(Ok(names)) => RepositoryHealth {
                reachable: true,
                snapshots: Some(names.len() as u64),
            },
            Ok(Err(e)) => {
                debug!(repository = name, error = %e, "repository check failed");
                RepositoryHealth {
                    reachable: false,
                    snapshots: None,
                }
            }
            Err(_) => {
                debug!(repository = name, "repository check timed out");
                RepositoryHealth {
                    reachable: false,
                    snapshots: None,
                }
            }
        };
        self.metrics.set_repository_health(name, health);
    }
}

/// The history entry of a job, without what only one kind has.
fn ended_job<K: JobKind>(r: &JobRecord<K>) -> EndedJob {
    EndedJob {
        kind: String::new(),
        job_id: r.job_id,
        database: r.database.clone(),
        repository: r.repository.clone(),
        snapshot: r.snapshot.clone(),
        state: r.state.name().to_string(),
        status: r.status.clone(),
        create_time: r.create_time,
        finished_time: r.finished_time.unwrap_or_else(now_ms),
        files: r.files_done,
        bytes: r.bytes_done,
        files_reused: 0,
        bytes_reused: 0,
    }
}

/// A job as the console shows it: SHOW's figures as numbers, with the transfer rate.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// `BACKUP` or `RESTORE`.
    pub kind: &'static str,
    pub job_id: i64,
    pub database: String,
    pub snapshot: String,
    pub repository: String,
    pub state: &'static str,
    /// Epoch milliseconds.
    pub create_time: i64,
    pub finished_time: Option<i64>,
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Bytes per second while the files moved (none before).
    pub rate: Option<f64>,
    pub status: String,
    pub task_err_msg: String,
}

fn job_view<K: JobKind>(kind: &'static str, r: &JobRecord<K>) -> JobView {
    let rate = r.transfer_started.and_then(|started| {
        let end = r.transfer_ended.unwrap_or_else(now_ms);
        let seconds = (end - started).max(1) as f64 / 1000.0;
        (r.bytes_done > 0).then(|| r.bytes_done as f64 / seconds)
    });
    JobView {
        kind,
        job_id: r.job_id,
        database: r.database.clone(),
        snapshot: r.snapshot.clone(),
        repository: r.repository.clone(),
        state: r.state.name(),
        create_time: r.create_time,
        finished_time: r.finished_time,
        files_done: r.files_done,
        files_total: r.files_total,
        bytes_done: r.bytes_done,
        bytes_total: r.bytes_total,
        rate,
        status: r.status.clone(),
        task_err_msg: r.task_err_msg.clone(),
    }
}

impl BackupService {
    /// Every job kept (each database's latest, and its continuous backup), live counters
    /// included.
    pub fn job_views(&self) -> Vec<JobView> {
        self.lock()
            .all_jobs()
            .map(|job| match job {
                Job::Backup(j) => job_view("BACKUP", &j.record()),
                Job::Restore(j) => job_view("RESTORE", &j.record()),
            })
            .collect()
    }
}

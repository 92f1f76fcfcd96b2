//! What the backup service tells `/metrics`. Events are counted as they happen (bytes and files
//! moved, jobs ended and their durations, S3 retries); what is a state rather than an event
//! (jobs by state, the last successful backup of each database, snapshots per repository,
//! whether each repository answers) is read from the service when Prometheus scrapes, by
//! [`BackupStateCollector`], so it cannot drift from what SHOW shows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
};

use crate::job::{JobKind, JobRecord, JobState};
use crate::service::BackupService;

/// Job durations: from seconds (an empty incremental backup) to hours.
const DURATION_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0,
];

/// The event counters of one server's backup service.
#[derive(Clone)]
pub struct BackupMetrics {
    /// `snaprock_backup_transferred_bytes_total{direction}`: bytes sent to (`upload`) or read
    /// from (`download`) repositories by jobs, retries included.
    pub transferred_bytes: IntCounterVec,
    /// `snaprock_backup_files_total{outcome}`: data files a finished job `uploaded`,
    /// `downloaded`, or found already in the repository (`reused`).
    pub files: IntCounterVec,
    /// `snaprock_backup_reused_bytes_total`: bytes a backup did not upload because the
    /// repository held them.
    pub reused_bytes: IntCounter,
    /// `snaprock_backup_jobs_ended_total{kind,state}`.
    pub jobs_ended: IntCounterVec,
    /// `snaprock_backup_job_duration_seconds{kind,state}`: creation to end.
    pub job_duration: HistogramVec,
    /// `snaprock_s3_request_retries_total`: S3 requests sent again after a failed attempt
    /// (the SDK's retries and snaprock's own download retries).
    pub s3_retries: IntCounter,
    /// Whether each repository answered its last check, and how many snapshots it held.
    pub(crate) repository_health: Arc<Mutex<BTreeMap<String, RepositoryHealth>>>,
}

/// What the last check of a repository found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RepositoryHealth {
    pub(crate) reachable: bool,
    /// Snapshots listed by the last check that answered.
    pub(crate) snapshots: Option<u64>,
}

impl BackupMetrics {
    pub fn new() -> Self {
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        BackupMetrics {
            transferred_bytes: counter_vec(
                "snaprock_backup_transferred_bytes_total",
                "Bytes backup and restore jobs sent to or read from repositories",
                &["direction"],
            ),
            files: counter_vec(
                "snaprock_backup_files_total",
                "Data files of finished jobs: uploaded, downloaded, or reused from the repository",
                &["outcome"],
            ),
            reused_bytes: IntCounter::new(
                "snaprock_backup_reused_bytes_total",
                "Bytes backups did not upload because the repository already held them",
            )
            .expect("valid metric"),
            jobs_ended: counter_vec(
                "snaprock_backup_jobs_ended_total",
                "Backup and restore jobs that ended, by kind and final state",
                &["kind", "state"],
            ),
            job_duration: HistogramVec::new(
                HistogramOpts::new(
                    "snaprock_backup_job_duration_seconds",
                    "Time from a job's creation to its end",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
                &["kind", "state"],
            )
            .expect("valid metric"),
            s3_retries: IntCounter::new(
                "snaprock_s3_request_retries_total",
                "S3 requests sent again after a failed attempt",
            )
            .expect("valid metric"),
            repository_health: Arc::default(),
        }
    }

    /// The event series, for a registry.
    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.transferred_bytes.clone()),
            Box::new(self.files.clone()),
            Box::new(self.reused_bytes.clone()),
            Box::new(self.jobs_ended.clone()),
            Box::new(self.job_duration.clone()),
            Box::new(self.s3_retries.clone()),
        ]
    }

    /// Counts a job that just ended.
    pub(crate) fn job_ended<K: JobKind>(&self, kind: &str, record: &JobRecord<K>) {
        let state = record.state.name();
        self.jobs_ended.with_label_values(&[kind, state]).inc();
        let end = record.finished_time.unwrap_or_else(crate::format::now_ms);
        let seconds = (end - record.create_time).max(0) as f64 / 1000.0;
        self.job_duration
            .with_label_values(&[kind, state])
            .observe(seconds);
    }

    pub(crate) fn set_repository_health(&self, repository: &str, health: RepositoryHealth) {
        let mut all = self
            .repository_health
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let snapshots = health
            .snapshots
            .or_else(|| all.get(repository).and_then(|h| h.snapshots));
        all.insert(
            repository.to_string(),
            RepositoryHealth {
                reachable: health.reachable,
                snapshots,
            },
        );
    }
}

impl Default for BackupMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The state series, read from the service at every scrape.
pub struct BackupStateCollector {
    service: Weak<BackupService>,
    jobs: IntGaugeVec,
    last_success: GaugeVec,
    snapshots: IntGaugeVec,
    reachable: IntGaugeVec,
    /// One scrape at a time: each resets and refills the vectors above.
    scrape: Mutex<()>,
}

impl BackupStateCollector {
    pub fn new(service: &Arc<BackupService>) -> Self {
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        BackupStateCollector {
            service: Arc::downgrade(service),
            jobs: gauge_vec(
                "snaprock_backup_jobs",
                "The latest backup and restore job of each database, by kind and state",
                &["kind", "state"],
            ),
            last_success: GaugeVec::new(
                Opts::new(
                    "snaprock_backup_last_success_timestamp_seconds",
                    "When the last successful backup of a database to a repository finished",
                ),
                &["database", "repository"],
            )
            .expect("valid metric"),
            snapshots: gauge_vec(
                "snaprock_repository_snapshots",
                "Snapshots a repository held at its last check",
                &["repository"],
            ),
            reachable: gauge_vec(
                "snaprock_repository_up",
                "1 if the repository answered its last check, else 0",
                &["repository"],
            ),
            scrape: Mutex::new(()),
        }
    }

    fn refresh(&self, service: &BackupService) {
        self.jobs.reset();
        for (kind, state) in service.job_states() {
            self.jobs.with_label_values(&[kind, state]).inc();
        }
        self.last_success.reset();
        for ((database, repository), finished_ms) in service.history().last_successful_backups() {
            self.last_success
                .with_label_values(&[database.as_str(), repository.as_str()])
                .set(finished_ms as f64 / 1000.0);
        }
        self.snapshots.reset();
        self.reachable.reset();
        let health = service
            .metrics
            .repository_health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for name in service.repository_names() {
            let Some(h) = health.get(&name) else { continue };
            self.reachable
                .with_label_values(&[name.as_str()])
                .set(h.reachable as i64);
            if let Some(n) = h.snapshots {
                self.snapshots
                    .with_label_values(&[name.as_str()])
                    .set(n as i64);
            }
        }
    }
}

impl Collector for BackupStateCollector {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.jobs.desc(),
            self.last_success.desc(),
            self.snapshots.desc(),
            self.reachable.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Some(service) = self.service.upgrade() else {
            return Vec::new();
        };
        let _one_scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh(&service);
        [
            self.jobs.collect(),
            self.last_success.collect(),
            self.snapshots.collect(),
            self.reachable.collect(),
        ]
        .concat()
    }
}

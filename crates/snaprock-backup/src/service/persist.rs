//! `backup.json`: what the service persists (repositories with their properties, the latest
//! job of each database), and what a start does with jobs a stop interrupted.

use super::*;
use crate::backup::job::BackupState;
use crate::job::plan_file;
use crate::restore::job::RestoreState;

/// A repository as persisted (with its properties, which may hold secrets).
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct RepositoryRecord {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) read_only: bool,
    pub(super) location: String,
    pub(super) broker: Option<String>,
    pub(super) create_time: String,
    pub(super) properties: Vec<(String, String)>,
}

#[derive(Default, Serialize, Deserialize)]
struct PersistedState {
    next_id: u64,
    repositories: Vec<RepositoryRecord>,
    backup_jobs: Vec<BackupJobRecord>,
    #[serde(default)]
    restore_jobs: Vec<RestoreJobRecord>,
    /// This server's cluster id, written into the info file of every snapshot it publishes.
    #[serde(default)]
    cluster_id: String,
    /// Snapshots this server published with a `ttl`, until its sweeper drops them.
    #[serde(default)]
    expiring: Vec<ExpiringSnapshot>,
    /// Repositories a drop left to collect (the sweeper collects them after a restart too).
    #[serde(default)]
    gc_pending: Vec<String>,
}

/// A snapshot to drop once its time is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExpiringSnapshot {
    pub(crate) repository: String,
    pub(crate) snapshot: String,
    pub(crate) expire_ms: i64,
}

impl BackupService {
    /// Loads repositories and jobs. A job that was running when the server stopped ends
    /// FINISHED if its commit point (a backup's info file, a restore's catalog commit) was
    /// already passed; any other stays in its state and [`BackupService::resume_jobs`]
    /// continues it (an instant restore past its commit goes on DOWNLOADING). `tuning`: part
    /// size and transfers in flight of every repository.
    pub async fn open(
        data_dir: &Path,
        catalog: Arc<Catalog>,
        tuning: TransferTuning,
    ) -> Result<Arc<Self>> {
        let state_path = data_dir.join("backup.json");
        let persisted: PersistedState = match std::fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                BackupError::internal(format!("{} is corrupt: {e}", state_path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PersistedState::default(),
            Err(e) => {
                return Err(BackupError::internal(format!(
                    "cannot read {}: {e}",
                    state_path.display()
                )));
            }
        };
        let upload_journal = UploadJournal::new(data_dir.join("uploads"));
        let metrics = BackupMetrics::new();
        let store_context = StoreContext {
            tuning,
            journal: Some(upload_journal.clone()),
            retries: metrics.s3_retries.clone(),
        };
        // Read before any job runs: every upload noted now was left open by the last stop.
        let open_uploads = upload_journal.open_uploads();
        let mut repositories = BTreeMap::new();
        for record in persisted.repositories {
            match Location::parse(&record.location, &record.properties) {
                Ok(location) => {
                    let repo = Repository {
                        id: record.id,
                        name: record.name.clone(),
                        read_only: record.read_only,
                        location: record.location.clone(),
                        broker: record.broker.clone(),
                        create_time: record.create_time.clone(),
                        store: open_store(&location, &store_context).await,
                    };
                    let files = crate::store::RepositoryFiles::new(repo.store.clone(), &repo.name);
                    catalog
                        .files()
                        .mount_repository(&repo.name, Arc::new(files));
                    repositories.insert(record.name.clone(), (Arc::new(repo), record));
                }
                Err(e) => warn!(repository = %record.name, error = %e, "repository not loaded"),
            }
        }
        let mut jobs = BTreeMap::new();
        let mut continuous = BTreeMap::new();
        let mut changed = false;
        for mut record in persisted.backup_jobs {
            if !record.is_done() && record.state != BackupState::Running {
                let published = match (
                    &record.detail.info_key,
                    repositories.get(&record.repository),
                ) {
                    (Some(key), Some((repo, _))) => repo.store.exists(key).await.unwrap_or(false),
                    _ => false,
                };
                if published && record.detail.continuous {
                    changed = true;
                    record.state = BackupState::Running;
                } else if published {
                    changed = true;
                    record.end(BackupState::FINISHED, status_ok());
                    info!(snapshot = %record.snapshot, "backup job was published before the stop");
                }
            }
            if record.detail.continuous {
                continuous.insert(record.database.clone(), BackupJob::new(record));
            } else {
                jobs.insert(record.database.clone(), Job::Backup(BackupJob::new(record)));
            }
        }
        let committed_restores = catalog.snapshot().restore_commits.clone();
        for mut record in persisted.restore_jobs {
            if !record.is_done() {
                changed = true;
                let committed =
                    record.job_id >= 0 && committed_restores.contains(&(record.job_id as u64));
                if committed && record.detail.instant {
                    // Its tables are live and read from the repository: the download
                    // resumes (`resume_jobs`).
                    record.detail.committed_time.get_or_insert_with(now_ms);
                    record.state = RestoreState::Downloading;
                } else if committed {
                    record.end(RestoreState::FINISHED, status_ok());
                    info!(snapshot = %record.snapshot, "restore job was committed before the stop");
                }
            }
            // Backup and restore jobs share one slot per database: the newer one stays.
            let newer = match jobs.get(&record.database) {
                Some(Job::Backup(b)) => b.lock().create_time <= record.create_time,
                _ => true,
            };
            if newer {
                jobs.insert(
                    record.database.clone(),
                    Job::Restore(RestoreJob::new(record)),
                );
            }
        }
        let mut cluster_id = persisted.cluster_id;
        if cluster_id.is_empty() {
            cluster_id = format!("{:016x}", rand::random::<u64>());
            changed = true;
        }
        let volume_stores = super::volumes::mount_all(&catalog, &store_context, &cluster_id).await;
        let service = Arc::new(BackupService {
            cluster_id,
            catalog,
            state_path,
            state: Mutex::new(State {
                next_id: persisted.next_id,
                repositories,
                jobs,
                continuous,
                expiring: persisted.expiring,
                gc_pending: persisted.gc_pending.into_iter().collect(),
                open_uploads,
                volume_stores,
            }),
            save_lock: Mutex::new(()),
            submit_lock: tokio::sync::Mutex::new(()),
            tuning,
            upload_journal,
            metrics,
            history: JobHistory::open(data_dir),
        });
        if changed {
            service.save()?;
        }
        Ok(service)
    }

    /// Continues every job a stop interrupted: a backup from where it was (files the
    /// repository already holds are not uploaded again), a restore from where it was (files
    /// already downloaded and still verified are not downloaded again), an instant restore's
    /// download. Releases the files of jobs that no longer exist.
    pub fn resume_jobs(self: &Arc<Self>) {
        let unfinished: Vec<Job> = self.lock().all_jobs().filter(|j| !j.is_done()).collect();
        self.abort_open_uploads();
        let live: Vec<String> = unfinished.iter().map(Job::holder).collect();
        for holder in plan_file::stale_holders(self, live.iter().map(String::as_str)) {
            info!(holder, "releasing the files of a job that ended");
            plan_file::release(self, &holder);
            if let Err(e) = self.catalog.end_watch(&holder) {
                warn!(holder, error = %e, "could not end the watch of a job that ended");
            }
        }
        for job in unfinished {
            let span = info_span!(
                "resumed_job",
                holder = %job.holder(),
                database = %job.database(),
                snapshot = %job.snapshot()
            );
            let repository = job.repository();
            let service = self.clone();
            let task = async move {
                // The repository may fail to load (its record is kept): wait for it.
                let repo = loop {
                    if let Some(repo) = service.repository(&repository) {
                        break repo;
                    }
                    if job.gives_up_waiting_for(&repository) {
                        let _ = service.save();
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                };
                match job {
                    Job::Backup(job) => {
                        crate::backup::runner::run_backup(service, job, repo).await;
                    }
                    Job::Restore(job) if job.lock().detail.committed_time.is_some() => {
                        crate::restore::instant::resume(service, job, repo).await;
                    }
                    Job::Restore(job) => {
                        crate::restore::runner::run_restore(service, job, repo).await;
                    }
                }
            };
            self.catalog.background().spawn(task.instrument(span));
        }
    }

    /// Aborts, in the background, the multipart uploads the last stop left open, each through
    /// the repository or storage volume whose bucket and prefix it is under.
    fn abort_open_uploads(&self) {
        let open = std::mem::take(&mut self.lock().open_uploads);
        if open.is_empty() {
            return;
        }
        let stores: Vec<_> = {
            let state = self.lock();
            state
                .repositories
                .values()
                .map(|(repo, _)| repo.store.clone())
                .chain(state.volume_stores.iter().cloned())
                .collect()
        };
        self.catalog.background().spawn(async move {
            let mut aborted = 0;
            for store in stores {
                aborted += store.abort_open_uploads(&open).await;
            }
            info!(
                aborted,
                noted = open.len(),
                "aborted multipart uploads the last stop left open"
            );
        });
    }

    /// Writes `backup.json` atomically, readable by the owner only.
    pub(crate) fn save(&self) -> Result<()> {
        let _guard = self.save_lock.lock().unwrap_or_else(|p| p.into_inner());
        let persisted = {
            let s = self.lock();
            PersistedState {
                next_id: s.next_id,
                cluster_id: self.cluster_id.clone(),
                expiring: s.expiring.clone(),
                gc_pending: s.gc_pending.iter().cloned().collect(),
                repositories: s.repositories.values().map(|(_, r)| r.clone()).collect(),
                backup_jobs: s
                    .all_jobs()
                    .filter_map(|j| match j {
                        Job::Backup(b) => Some(b.record()),
                        Job::Restore(_) => None,
                    })
                    .collect(),
                restore_jobs: s
                    .all_jobs()
                    .filter_map(|j| match j {
                        Job::Restore(r) => Some(r.record()),
                        Job::Backup(_) => None,
                    })
                    .collect(),
            }
        };
        let body = serde_json::to_vec_pretty(&persisted)
            .map_err(|e| BackupError::internal(e.to_string()))?;
        snaprock_storage::write_private_file_atomic(&self.state_path, &body)
            .map_err(|e| BackupError::internal(format!("cannot save backup state: {e}")))
    }
}

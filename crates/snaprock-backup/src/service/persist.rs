//! `backup.json`: what the service persists (repositories with their properties, the latest
//! job of each database), and what a start does with jobs a stop interrupted.

use super::*;

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
    /// Loads repositories and jobs. A job that was running when the server stopped cannot
    /// resume (the files it pinned may be gone): it ends CANCELLED, or FINISHED if its commit
    /// point (a backup's info file, a restore's catalog commit) was already passed. The one
    /// exception is an instant restore past its commit: it stays DOWNLOADING and
    /// [`BackupService::resume_jobs`] carries on with it.
    pub async fn open(data_dir: &Path, catalog: Arc<Catalog>) -> Result<Arc<Self>> {
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
        let tuning = TransferTuning::default();
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
                        store: open_store(&location, tuning).await,
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
        let mut changed = false;
        for mut record in persisted.backup_jobs {
            if !record.is_done() {
                changed = true;
                let published = match (
                    &record.detail.info_key,
                    repositories.get(&record.repository),
                ) {
                    (Some(key), Some((repo, _))) => repo.store.exists(key).await.unwrap_or(false),
                    _ => false,
                };
                close_interrupted(&mut record, published, "the snapshot was not published");
            }
            jobs.insert(record.database.clone(), Job::Backup(BackupJob::new(record)));
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
                    record.state = crate::restore::job::RestoreState::Downloading;
                } else {
                    close_interrupted(&mut record, committed, "nothing was restored");
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
        let service = Arc::new(BackupService {
            cluster_id,
            catalog,
            state_path,
            state: Mutex::new(State {
                next_id: persisted.next_id,
                repositories,
                jobs,
                expiring: persisted.expiring,
                gc_pending: persisted.gc_pending.into_iter().collect(),
            }),
            save_lock: Mutex::new(()),
            submit_lock: tokio::sync::Mutex::new(()),
            tuning,
        });
        if changed {
            service.save()?;
        }
        Ok(service)
    }

    /// Restarts the download of every instant restore that had committed when the server
    /// stopped.
    pub fn resume_jobs(self: &Arc<Self>) {
        let resumable: Vec<Arc<RestoreJob>> = self
            .lock()
            .jobs
            .values()
            .filter_map(|j| match j {
                Job::Restore(r) if !r.is_done() && r.lock().detail.committed_time.is_some() => {
                    Some(r.clone())
                }
                _ => None,
            })
            .collect();
        for job in resumable {
            let (database, snapshot, repository) = {
                let r = job.lock();
                (r.database.clone(), r.snapshot.clone(), r.repository.clone())
            };
            let span = info_span!("restore_job", database = %database, snapshot = %snapshot);
            let service = self.clone();
            tokio::spawn(
                async move {
                    // The repository may fail to load (its record is kept): wait for it.
                    let repo = loop {
                        if let Some(repo) = service.repository(&repository) {
                            break repo;
                        }
                        job.lock().task_err_msg =
                            format!("[repository {repository} is not available]; retrying");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    };
                    crate::restore::instant::resume(service, job, repo).await;
                }
                .instrument(span),
            );
        }
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
                    .jobs
                    .values()
                    .filter_map(|j| match j {
                        Job::Backup(b) => Some(b.record()),
                        Job::Restore(_) => None,
                    })
                    .collect(),
                restore_jobs: s
                    .jobs
                    .values()
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

/// Ends a job the server stopped in the middle of: FINISHED if its last step took effect
/// (`completed`), else CANCELLED with a Status that says where it stopped and `consequence`.
fn close_interrupted<K: JobKind>(record: &mut JobRecord<K>, completed: bool, consequence: &str) {
    if completed {
        record.end(K::State::FINISHED, status_ok());
    } else {
        let state = record.state.name();
        let status = status_error(
            "COMMON_ERROR",
            &format!("the server stopped while the job was {state}; {consequence}"),
        );
        record.end(K::State::CANCELLED, status);
    }
    info!(snapshot = %record.snapshot, state = record.state.name(), "job closed at start");
}

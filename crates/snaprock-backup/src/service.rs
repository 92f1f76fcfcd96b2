//! The backup service: repositories, the latest job of each database, their durable record
//! (`<data dir>/backup.json`, owner-only: it holds S3 keys), and the statements that use them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snaprock_sql::ast::{BackupStatement, CreateRepository, RestoreStatement, SnapshotFilter};
use snaprock_storage::Catalog;
use tracing::{Instrument, info, info_span, warn};

use crate::analyze::analyze_backup;
use crate::error::{BackupError, Result, StoreError};
use crate::format::{now_ms, show_time};
use crate::job::{
    BackupJob, BackupJobRecord, BackupState, SHOW_BACKUP_COLUMNS, status_error, status_ok,
};
use crate::location::Location;
use crate::repository::{Repository, init_remote, open_store};
use crate::restore_analyze::{check_restore_statement, plan_restore, target_database};
use crate::restore_job::{RestoreJob, RestoreJobRecord, RestoreState, SHOW_RESTORE_COLUMNS};
use crate::store::TransferTuning;

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

/// A repository as persisted (with its properties, which may hold secrets).
#[derive(Clone, Serialize, Deserialize)]
struct RepositoryRecord {
    id: u64,
    name: String,
    read_only: bool,
    location: String,
    broker: Option<String>,
    create_time: String,
    properties: Vec<(String, String)>,
}

#[derive(Default, Serialize, Deserialize)]
struct PersistedState {
    next_id: u64,
    repositories: Vec<RepositoryRecord>,
    backup_jobs: Vec<BackupJobRecord>,
    #[serde(default)]
    restore_jobs: Vec<RestoreJobRecord>,
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

    fn repository(&self) -> String {
        match self {
            Job::Backup(j) => j.lock().repository.clone(),
            Job::Restore(j) => j.lock().repository.clone(),
        }
    }
}

struct State {
    next_id: u64,
    repositories: BTreeMap<String, (Arc<Repository>, RepositoryRecord)>,
    jobs: BTreeMap<String, Job>,
}

/// Repositories and backup jobs of one server.
pub struct BackupService {
    pub(crate) catalog: Arc<Catalog>,
    state_path: PathBuf,
    state: Mutex<State>,
    /// Serializes writes of `backup.json`.
    save_lock: Mutex<()>,
    /// Serializes submissions, so the one-job-per-database check cannot race.
    submit_lock: tokio::sync::Mutex<()>,
    pub(crate) tuning: TransferTuning,
}

impl std::fmt::Debug for BackupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupService")
            .field("state_path", &self.state_path)
            .finish()
    }
}

impl BackupService {
    /// Loads repositories and jobs. A job that was running when the server stopped cannot
    /// resume (the files it pinned may be gone): it ends CANCELLED, or FINISHED if its info
    /// file, the commit point, was already written.
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
                    repositories.insert(record.name.clone(), (Arc::new(repo), record));
                }
                Err(e) => warn!(repository = %record.name, error = %e, "repository not loaded"),
            }
        }
        let mut jobs = BTreeMap::new();
        let mut changed = false;
        for mut record in persisted.backup_jobs {
            if !record.state.is_done() {
                changed = true;
                let published = match (&record.info_key, repositories.get(&record.repository)) {
                    (Some(key), Some((repo, _))) => repo.store.exists(key).await.unwrap_or(false),
                    _ => false,
                };
                if published {
                    record.state = BackupState::Finished;
                    record.status = status_ok();
                } else {
                    let state = record.state.name();
                    record.state = BackupState::Cancelled;
                    record.status = status_error(
                        "COMMON_ERROR",
                        &format!(
                            "the server stopped while the job was {state}; the snapshot was not \
                             published"
                        ),
                    );
                }
                record.finished_time = Some(now_ms());
                info!(snapshot = %record.snapshot, state = record.state.name(), "backup job closed at start");
            }
            jobs.insert(record.database.clone(), Job::Backup(BackupJob::new(record)));
        }
        let committed_restores = catalog.snapshot().restore_commits.clone();
        for mut record in persisted.restore_jobs {
            if !record.state.is_done() {
                changed = true;
                let committed =
                    record.job_id >= 0 && committed_restores.contains(&(record.job_id as u64));
                if committed {
                    record.state = RestoreState::Finished;
                    record.status = status_ok();
                } else {
                    let state = record.state.name();
                    record.state = RestoreState::Cancelled;
                    record.status = status_error(
                        "COMMON_ERROR",
                        &format!(
                            "the server stopped while the job was {state}; nothing was restored"
                        ),
                    );
                }
                record.finished_time = Some(now_ms());
                info!(snapshot = %record.snapshot, state = record.state.name(), "restore job closed at start");
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
        let service = Arc::new(BackupService {
            catalog,
            state_path,
            state: Mutex::new(State {
                next_id: persisted.next_id,
                repositories,
                jobs,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn allocate_id(&self) -> u64 {
        let mut s = self.lock();
        s.next_id += 1;
        s.next_id
    }

    /// Writes `backup.json` atomically, readable by the owner only.
    pub(crate) fn save(&self) -> Result<()> {
        let _guard = self.save_lock.lock().unwrap_or_else(|p| p.into_inner());
        let persisted = {
            let s = self.lock();
            PersistedState {
                next_id: s.next_id,
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

    pub(crate) fn repository(&self, name: &str) -> Option<Arc<Repository>> {
        self.lock().repositories.get(name).map(|(r, _)| r.clone())
    }

    /// CREATE REPOSITORY: checks the name, the location and the properties, then reaches the
    /// storage (bounded in time), adopting a repository already there.
    pub async fn create_repository(&self, stmt: &CreateRepository) -> Result<()> {
        if !valid_repository_name(&stmt.name) {
            return Err(BackupError::analysis(format!(
                "Incorrect repository name '{}'",
                stmt.name
            )));
        }
        if stmt.location.trim().is_empty() {
            return Err(BackupError::analysis(
                "You must specify a location on the repository",
            ));
        }
        if let Some(broker) = &stmt.broker {
            return Err(BackupError::ddl(format!(
                "broker does not exist: {broker} (snaprock reaches storage directly: write WITH \
                 BROKER without a name)"
            )));
        }
        if self.repository(&stmt.name).is_some() {
            return Err(BackupError::ddl(format!(
                "Failed to create repository: repository with same name already exist: {}",
                stmt.name
            )));
        }
        let location = Location::parse(&stmt.location, &stmt.properties)
            .map_err(|e| BackupError::ddl(format!("Failed to create repository: {e}")))?;
        let store = open_store(&location, self.tuning).await;
        let now = show_time(now_ms());
        let create_time = match tokio::time::timeout(
            CREATE_REPOSITORY_TIMEOUT,
            init_remote(store.as_ref(), &stmt.name, stmt.read_only, &now),
        )
        .await
        {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: {e}"
                )));
            }
            Err(_) => {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: no answer from the storage of {} within {} \
                     seconds",
                    stmt.location,
                    CREATE_REPOSITORY_TIMEOUT.as_secs()
                )));
            }
        };
        {
            let mut s = self.lock();
            if s.repositories.contains_key(&stmt.name) {
                return Err(BackupError::ddl(format!(
                    "Failed to create repository: repository with same name already exist: {}",
                    stmt.name
                )));
            }
            s.next_id += 1;
            let record = RepositoryRecord {
                id: s.next_id,
                name: stmt.name.clone(),
                read_only: stmt.read_only,
                location: stmt.location.clone(),
                broker: None,
                create_time: create_time.clone(),
                properties: stmt.properties.clone(),
            };
            let repo = Repository {
                id: record.id,
                name: record.name.clone(),
                read_only: record.read_only,
                location: record.location.clone(),
                broker: None,
                create_time,
                store,
            };
            s.repositories
                .insert(stmt.name.clone(), (Arc::new(repo), record));
        }
        self.save()?;
        info!(repository = %stmt.name, "repository created");
        Ok(())
    }

    /// DROP REPOSITORY: forgets the repository; never deletes remote data.
    pub fn drop_repository(&self, name: &str) -> Result<()> {
        {
            let mut s = self.lock();
            if !s.repositories.contains_key(name) {
                return Err(BackupError::analysis("Repository does not exist"));
            }
            if s.jobs
                .values()
                .any(|j| !j.is_done() && j.repository() == name)
            {
                return Err(BackupError::ddl(
                    "Backup or restore job is running on this repository. Can not drop it",
                ));
            }
            s.repositories.remove(name);
        }
        self.save()?;
        info!(repository = %name, "repository dropped");
        Ok(())
    }

    /// SHOW REPOSITORIES: the 7 columns of §2.1.
    pub fn show_repositories(&self) -> Rows {
        let s = self.lock();
        let rows = s
            .repositories
            .values()
            .map(|(r, _)| {
                vec![
                    Some(r.id.to_string()),
                    Some(r.name.clone()),
                    Some(r.create_time.clone()),
                    Some(r.read_only.to_string()),
                    Some(r.location.clone()),
                    r.broker.clone(),
                    None,
                ]
            })
            .collect();
        Rows {
            columns: vec![
                "RepoId",
                "RepoName",
                "CreateTime",
                "IsReadOnly",
                "Location",
                "Broker",
                "ErrMsg",
            ],
            rows,
        }
    }

    /// BACKUP: checks everything StarRocks checks before answering OK, registers the job as the
    /// database's current one and starts it.
    pub async fn backup(
        self: &Arc<Self>,
        stmt: &BackupStatement,
        current_db: Option<&str>,
    ) -> Result<()> {
        let catalog = self.catalog.snapshot();
        let repo = self.repository(&stmt.repository);
        let analyzed = analyze_backup(stmt, &catalog, current_db, repo.is_some())?;
        let Some(repo) = repo else {
            return Err(BackupError::ddl(format!(
                "Repository {} does not exist",
                stmt.repository
            )));
        };
        let _submitting = self.submission().await?;
        self.check_slot_free(&analyzed.database)?;
        if repo.read_only {
            return Err(BackupError::ddl(format!(
                "Repository {} is read only",
                repo.name
            )));
        }
        let name_used = self.snapshot_name_in_use(&repo, &analyzed.snapshot).await?;
        if name_used {
            return Err(BackupError::ddl(if analyzed.incremental {
                "Currently does not support incremental backup".to_string()
            } else {
                format!(
                    "Snapshot with name '{}' already exist in repository",
                    analyzed.snapshot
                )
            }));
        }
        let record = BackupJobRecord {
            job_id: -1,
            snapshot: analyzed.snapshot.clone(),
            database: analyzed.database.clone(),
            repository: repo.name.clone(),
            state: BackupState::Pending,
            objects: analyzed.objects.clone(),
            plan: analyzed.plan.clone(),
            create_time: now_ms(),
            snapshot_finished_time: None,
            upload_finished_time: None,
            finished_time: None,
            timeout_secs: analyzed.timeout_secs,
            status: status_ok(),
            task_err_msg: String::new(),
            files_total: 0,
            files_done: 0,
            bytes_total: 0,
            bytes_done: 0,
            bytes_reused: 0,
            info_key: None,
        };
        let job = BackupJob::new(record);
        self.lock()
            .jobs
            .insert(analyzed.database.clone(), Job::Backup(job.clone()));
        self.save()?;
        info!(database = %analyzed.database, snapshot = %analyzed.snapshot, repository = %repo.name, "backup job submitted");
        let span =
            info_span!("backup_job", database = %analyzed.database, snapshot = %analyzed.snapshot);
        tokio::spawn(crate::runner::run_backup(self.clone(), job, repo).instrument(span));
        Ok(())
    }

    /// RESTORE: checks the statement, reads the snapshot's info file, registers the job as the
    /// target database's current one and starts it. Nothing changes in the catalog until the
    /// job commits.
    pub async fn restore(self: &Arc<Self>, stmt: &RestoreStatement) -> Result<()> {
        let properties = check_restore_statement(stmt)?;
        let Some(repo) = self.repository(&stmt.repository) else {
            return Err(BackupError::ddl(format!(
                "Repository {} does not exist",
                stmt.repository
            )));
        };
        let info = repo
            .read_info(&stmt.snapshot, &properties.backup_timestamp)
            .await
            .map_err(|e| {
                let reason = match e {
                    StoreError::NotFound(detail) => detail,
                    other => other.to_string(),
                };
                BackupError::ddl(format!(
                    "Failed to get info of snapshot '{}' because: {reason}. Maybe specified \
                     wrong backup timestamp",
                    stmt.snapshot
                ))
            })?;
        if stmt.external_catalogs {
            return Err(BackupError::ddl(format!(
                "This is not a snapshot for external catalog restore, snapshot: {}",
                stmt.snapshot
            )));
        }
        let database = target_database(stmt, &info);
        let _submitting = self.submission().await?;
        self.check_slot_free(&database)?;
        let plan = plan_restore(stmt, &info)?;
        let record = RestoreJobRecord {
            job_id: -1,
            snapshot: stmt.snapshot.clone(),
            timestamp: properties.backup_timestamp.clone(),
            database: database.clone(),
            source_database: info.database.clone(),
            repository: repo.name.clone(),
            state: RestoreState::Pending,
            allow_load: properties.allow_load,
            replication_num: properties.replication_num,
            plan,
            create_time: now_ms(),
            meta_prepared_time: None,
            snapshot_finished_time: None,
            download_finished_time: None,
            finished_time: None,
            timeout_secs: properties.timeout_secs,
            status: status_ok(),
            task_err_msg: String::new(),
            files_total: 0,
            files_done: 0,
            bytes_total: 0,
            bytes_done: 0,
        };
        let job = RestoreJob::new(record);
        self.lock()
            .jobs
            .insert(database.clone(), Job::Restore(job.clone()));
        self.save()?;
        info!(database = %database, snapshot = %stmt.snapshot, repository = %repo.name, "restore job submitted");
        let span = info_span!("restore_job", database = %database, snapshot = %stmt.snapshot);
        tokio::spawn(crate::restore_runner::run_restore(self.clone(), job, repo).instrument(span));
        Ok(())
    }

    /// The right to submit a job: one submission at a time, so the one-job-per-database check
    /// cannot race; waits at most 10 s as StarRocks does.
    async fn submission(&self) -> Result<tokio::sync::MutexGuard<'_, ()>> {
        tokio::time::timeout(SUBMIT_LOCK_TIMEOUT, self.submit_lock.lock())
            .await
            .map_err(|_| {
                BackupError::ddl(
                    "Another backup or restore job is being submitted. Please wait and try again",
                )
            })
    }

    fn check_slot_free(&self, database: &str) -> Result<()> {
        match self.lock().jobs.get(database) {
            Some(job) if !job.is_done() => Err(BackupError::ddl(
                "Can only run one backup or restore job of a database at same time",
            )),
            _ => Ok(()),
        }
    }

    /// A name is in use if the repository holds anything under it, or a running job of
    /// another database is writing it.
    async fn snapshot_name_in_use(&self, repo: &Repository, snapshot: &str) -> Result<bool> {
        let running = self.lock().jobs.values().any(|j| match j {
            Job::Backup(b) => {
                let r = b.lock();
                !r.state.is_done() && r.repository == repo.name && r.snapshot == snapshot
            }
            Job::Restore(_) => false,
        });
        if running {
            return Ok(true);
        }
        repo.snapshot_exists(snapshot)
            .await
            .map_err(|e| BackupError::ddl(e.to_string()))
    }

    /// SHOW BACKUP [FROM db]: the current job of each database, if it is a backup.
    pub fn show_backup(&self, database: Option<&str>) -> Result<Rows> {
        self.check_database_known(database)?;
        let s = self.lock();
        let rows = s
            .jobs
            .iter()
            .filter(|(db, _)| database.is_none_or(|d| d == db.as_str()))
            .filter_map(|(_, job)| match job {
                Job::Backup(b) => Some(b.show_row()),
                Job::Restore(_) => None,
            })
            .collect();
        Ok(Rows {
            columns: SHOW_BACKUP_COLUMNS.to_vec(),
            rows,
        })
    }

    /// A database named in SHOW/CANCEL must exist, or be the target of a job (a restore
    /// creates its database only when it commits).
    fn check_database_known(&self, database: Option<&str>) -> Result<()> {
        match database {
            Some(db)
                if self.catalog.snapshot().database(db).is_none()
                    && !self.lock().jobs.contains_key(db) =>
            {
                Err(BackupError::unknown_database(db))
            }
            _ => Ok(()),
        }
    }

    /// SHOW RESTORE [FROM db]: the current job of each database, if it is a restore.
    pub fn show_restore(&self, database: Option<&str>) -> Result<Rows> {
        self.check_database_known(database)?;
        let s = self.lock();
        let rows = s
            .jobs
            .iter()
            .filter(|(db, _)| database.is_none_or(|d| d == db.as_str()))
            .filter_map(|(_, job)| match job {
                Job::Restore(r) => Some(r.show_row()),
                Job::Backup(_) => None,
            })
            .collect();
        Ok(Rows {
            columns: SHOW_RESTORE_COLUMNS.to_vec(),
            rows,
        })
    }

    /// CANCEL BACKUP|RESTORE FROM db.
    pub fn cancel(&self, database: &str, restore: bool) -> Result<()> {
        self.check_database_known(Some(database))?;
        let job = self.lock().jobs.get(database).cloned();
        let cannot_cancel = |snapshot: &str, state: &str| {
            BackupError::ddl(format!(
                "Failed to cancel job: Job with label {snapshot} can not be cancelled. state: \
                 {state}"
            ))
        };
        match job {
            Some(Job::Backup(backup)) if !restore => {
                if !backup.cancel_with(|_| status_error("COMMON_ERROR", "user cancelled")) {
                    let r = backup.lock();
                    return Err(cannot_cancel(&r.snapshot, r.state.name()));
                }
                info!(database, "backup job cancelled by user");
            }
            Some(Job::Restore(job)) if restore => {
                let cancelled = job.cancel_with(|r| {
                    status_error(
                        "COMMON_ERROR",
                        &format!("user cancelled, current state: {}", r.state.name()),
                    )
                });
                if !cancelled {
                    let r = job.lock();
                    return Err(cannot_cancel(&r.snapshot, r.state.name()));
                }
                info!(database, "restore job cancelled by user");
            }
            _ if restore => return Err(BackupError::ddl("No restore is currently running")),
            _ => return Err(BackupError::ddl("No backup job is currently running")),
        }
        self.save()
    }

    /// SHOW SNAPSHOT ON repo [WHERE ...], read from storage only.
    pub async fn show_snapshot(&self, repository: &str, filter: &SnapshotFilter) -> Result<Rows> {
        let Some(repo) = self.repository(repository) else {
            return Err(BackupError::analysis(format!(
                "Repository [{repository}] does not exist"
            )));
        };
        let list_columns = vec!["Snapshot", "Timestamp", "Status"];
        let listing_row = |name: &str, result: std::result::Result<_, StoreError>| match result {
            Ok(crate::repository::SnapshotListing {
                timestamps, valid, ..
            }) => vec![
                Some(name.to_string()),
                Some(timestamps.join("\n")),
                Some(if valid { "OK" } else { "ERROR: no snapshot" }.to_string()),
            ],
            Err(e) => vec![
                Some(name.to_string()),
                None,
                Some(format!("ERROR: Failed to get info: {e}")),
            ],
        };
        match filter {
            SnapshotFilter::Invalid(message) => Err(BackupError::semantic(message)),
            SnapshotFilter::All | SnapshotFilter::In(_) => {
                let names = repo.snapshot_names().await.map_err(|e| {
                    BackupError::ddl(format!(
                        "Failed to list snapshot in repo: {repository}, err: {e}"
                    ))
                })?;
                let mut rows = Vec::new();
                for name in names {
                    if let SnapshotFilter::In(wanted) = filter
                        && !wanted.contains(&name)
                    {
                        continue;
                    }
                    rows.push(listing_row(&name, repo.snapshot_listing(&name).await));
                }
                Ok(Rows {
                    columns: list_columns,
                    rows,
                })
            }
            SnapshotFilter::Name(name) => Ok(Rows {
                columns: list_columns,
                rows: vec![listing_row(name, repo.snapshot_listing(name).await)],
            }),
            SnapshotFilter::NameAndTimestamp { name, timestamp } => {
                let row = match repo.read_info(name, timestamp).await {
                    Ok(info) => vec![
                        Some(name.clone()),
                        Some(timestamp.clone()),
                        Some(info.database.clone()),
                        Some(info.brief()),
                        Some("OK".to_string()),
                    ],
                    Err(e) => vec![
                        Some(name.clone()),
                        Some(timestamp.clone()),
                        None,
                        None,
                        Some(format!("Failed to get info: {e}")),
                    ],
                };
                Ok(Rows {
                    columns: vec!["Snapshot", "Timestamp", "Database", "Details", "Status"],
                    rows: vec![row],
                })
            }
        }
    }
}

/// StarRocks' common-name rule for repositories.
fn valid_repository_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    match bytes {
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            rest.len() <= 63 && rest.iter().all(word)
        }
        [b'_', second, rest @ ..] => {
            second.is_ascii_alphanumeric() && rest.len() <= 62 && rest.iter().all(word)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in ["test_repo", "r", "_a1", "Repo_2"] {
            assert!(valid_repository_name(ok), "{ok}");
        }
        for bad in ["", "1repo", "a:repo", "_", "__x", "a-b"] {
            assert!(!valid_repository_name(bad), "{bad}");
        }
    }
}

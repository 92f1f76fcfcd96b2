//! Jobs: BACKUP and RESTORE submission (one running job per database), SHOW BACKUP / RESTORE
//! and CANCEL. A submitted job runs in its own task (`runner.rs`, `restore_runner.rs`).

use super::*;

impl BackupService {
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
        if analyzed.continuous {
            self.check_continuous_slot_free(&analyzed.database)?;
        } else {
            self.check_slot_free(&analyzed.database)?;
        }
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
        let record = BackupJobRecord::pending(
            analyzed.snapshot.clone(),
            analyzed.database.clone(),
            repo.name.clone(),
            analyzed.timeout_secs,
            BackupDetail {
                objects: analyzed.objects.clone(),
                plan: analyzed.plan.clone(),
                snapshot_finished_time: None,
                upload_finished_time: None,
                bytes_reused: 0,
                files_reused: 0,
                info_key: None,
                ttl: analyzed.ttl.clone(),
                continuous: analyzed.continuous,
                restorable_until: None,
                commits_shipped: 0,
            },
        );
        let job = BackupJob::new(record);
        {
            let mut s = self.lock();
            if analyzed.continuous {
                s.continuous.insert(analyzed.database.clone(), job.clone());
            } else {
                s.jobs
                    .insert(analyzed.database.clone(), Job::Backup(job.clone()));
            }
        }
        self.save()?;
        info!(database = %analyzed.database, snapshot = %analyzed.snapshot, repository = %repo.name, "backup job submitted");
        let span =
            info_span!("backup_job", database = %analyzed.database, snapshot = %analyzed.snapshot);
        self.catalog
            .background()
            .spawn(crate::backup::runner::run_backup(self.clone(), job, repo).instrument(span));
        Ok(())
    }

    /// What BACKUP checks before it answers, without starting anything: for a scheduled
    /// task, refused when it is submitted rather than at its first run. A continuous backup
    /// never ends, so it cannot be a task's run.
    pub fn check_backup(&self, stmt: &BackupStatement, current_db: Option<&str>) -> Result<()> {
        let repo = self.repository(&stmt.repository);
        let analyzed = analyze_backup(stmt, &self.catalog.snapshot(), current_db, repo.is_some())?;
        let Some(repo) = repo else {
            return Err(BackupError::ddl(format!(
                "Repository {} does not exist",
                stmt.repository
            )));
        };
        if repo.read_only {
            return Err(BackupError::ddl(format!(
                "Repository {} is read only",
                repo.name
            )));
        }
        if analyzed.continuous {
            return Err(BackupError::analysis(
                "a continuous backup runs until it is cancelled: start it with BACKUP, not as a task",
            ));
        }
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
        if let Some(db) = self.catalog.snapshot().database(&database) {
            db.check_writable()
                .map_err(|e| BackupError::ddl(format!("Cannot restore into {database}: {e}")))?;
        }
        let _submitting = self.submission().await?;
        self.check_slot_free(&database)?;
        let plan = plan_restore(stmt, &info)?;
        let record = RestoreJobRecord::pending(
            stmt.snapshot.clone(),
            database.clone(),
            repo.name.clone(),
            properties.timeout_secs,
            RestoreDetail {
                timestamp: properties.backup_timestamp.clone(),
                source_database: info.database.clone(),
                allow_load: properties.allow_load,
                replication_num: properties.replication_num,
                plan,
                meta_prepared_time: None,
                snapshot_finished_time: None,
                download_finished_time: None,
                instant: properties.instant,
                committed_time: None,
            },
        );
        let job = RestoreJob::new(record);
        self.lock()
            .jobs
            .insert(database.clone(), Job::Restore(job.clone()));
        self.save()?;
        info!(database = %database, snapshot = %stmt.snapshot, repository = %repo.name, "restore job submitted");
        let span = info_span!("restore_job", database = %database, snapshot = %stmt.snapshot);
        self.catalog
            .background()
            .spawn(crate::restore::runner::run_restore(self.clone(), job, repo).instrument(span));
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

    fn check_continuous_slot_free(&self, database: &str) -> Result<()> {
        match self.lock().continuous.get(database) {
            Some(job) if !job.is_done() => Err(BackupError::ddl(format!(
                "A continuous backup of database {database} is already running: snapshot {}",
                job.lock().snapshot
            ))),
            _ => Ok(()),
        }
    }

    /// A name is in use if the repository holds anything under it, or a running job of
    /// another database is writing it.
    async fn snapshot_name_in_use(&self, repo: &Repository, snapshot: &str) -> Result<bool> {
        let running = self.lock().all_jobs().any(|j| match j {
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

    /// SHOW BACKUP [FROM db]: the current job of each database, if it is a backup, and the
    /// database's latest continuous backup (running beside it, or how it ended).
    pub fn show_backup(&self, database: Option<&str>) -> Result<Rows> {
        let mut rows = self.show_jobs::<BackupDetail>(database, |job| match job {
            Job::Backup(b) => Some(b.show_row()),
            Job::Restore(_) => None,
        })?;
        let s = self.lock();
        let continuous = s
            .continuous
            .iter()
            .filter(|(db, _)| database.is_none_or(|d| d == db.as_str()));
        rows.rows.extend(continuous.map(|(_, job)| job.show_row()));
        Ok(rows)
    }

    /// Where the BACKUP job writing `snapshot` of `database` stands, while the service still
    /// holds it (a database keeps its latest job until another one starts): for a scheduled
    /// task's run, which waits on the job it submitted.
    pub fn backup_progress(&self, database: &str, snapshot: &str) -> Option<JobProgress> {
        let job = match self.lock().jobs.get(database) {
            Some(Job::Backup(b)) => b.clone(),
            _ => return None,
        };
        let r = job.record();
        if r.snapshot != snapshot {
            return None;
        }
        Some(if r.state == BackupState::Finished {
            JobProgress::Finished
        } else if r.is_done() {
            JobProgress::Cancelled { status: r.status }
        } else {
            let percent = (r.bytes_done * 100)
                .checked_div(r.bytes_total)
                .unwrap_or(0)
                .min(99);
            JobProgress::Running {
                percent: percent as u8,
            }
        })
    }

    /// SHOW RESTORE [FROM db]: the current job of each database, if it is a restore.
    pub fn show_restore(&self, database: Option<&str>) -> Result<Rows> {
        self.show_jobs::<RestoreDetail>(database, |job| match job {
            Job::Restore(r) => Some(r.show_row()),
            Job::Backup(_) => None,
        })
    }

    /// The one SHOW builder of jobs: the rows `row_of` gives for the current job of each
    /// database (or of `database`), under the columns of kind `K`.
    fn show_jobs<K: JobKind>(
        &self,
        database: Option<&str>,
        row_of: impl Fn(&Job) -> Option<Vec<Option<String>>>,
    ) -> Result<Rows> {
        self.check_database_known(database)?;
        let s = self.lock();
        let rows = s
            .jobs
            .iter()
            .filter(|(db, _)| database.is_none_or(|d| d == db.as_str()))
            .filter_map(|(_, job)| row_of(job))
            .collect();
        Ok(Rows {
            columns: JobRecord::<K>::show_column_names(),
            rows,
        })
    }

    /// A database named in SHOW/CANCEL must exist, or be the target of a job (a restore
    /// creates its database only when it commits).
    fn check_database_known(&self, database: Option<&str>) -> Result<()> {
        match database {
            Some(db)
                if self.catalog.snapshot().database(db).is_none()
                    && !self.lock().jobs.contains_key(db)
                    && !self.lock().continuous.contains_key(db) =>
            {
                Err(BackupError::unknown_database(db))
            }
            _ => Ok(()),
        }
    }

    /// CANCEL BACKUP|RESTORE FROM db.
    pub fn cancel(&self, database: &str, restore: bool) -> Result<()> {
        self.check_database_known(Some(database))?;
        let job = {
            let s = self.lock();
            match (s.jobs.get(database), s.continuous.get(database)) {
                // CANCEL BACKUP stops the ordinary job first, the continuous one after.
                (Some(Job::Backup(b)), _) if !restore && !b.is_done() => {
                    Some(Job::Backup(b.clone()))
                }
                (_, Some(c)) if !restore && !c.is_done() => Some(Job::Backup(c.clone())),
                (job, _) => job.cloned(),
            }
        };
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
}

//! DROP SNAPSHOT (StarRocks 4.2) and snapshot expiry (`ttl`): a drop unpublishes the snapshot
//! (its info files first, then the rest of its directory), then asks for a garbage collection
//! of the repository, which deletes the data files no remaining snapshot uses as soon as no job
//! holds the repository (`gc.rs`, `locks.rs`). The sweeper retries pending collections and
//! drops this server's expired snapshots.

use std::time::Duration;

use snaprock_sql::ast::DropSnapshot;

use super::*;
use crate::format;
use crate::gc::collect_garbage;

/// How often the sweeper looks for expired snapshots and pending collections.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

impl BackupService {
    /// DROP SNAPSHOT snap ON repo [FORCE].
    pub async fn drop_snapshot(self: &Arc<Self>, stmt: &DropSnapshot) -> Result<()> {
        let repo = self.existing_repository(&stmt.repository)?;
        if repo.read_only {
            return Err(BackupError::ddl(format!(
                "Repository {} is read only: snapshots cannot be dropped from it",
                repo.name
            )));
        }
        self.check_snapshot_unused(&repo.name, &stmt.snapshot)?;
        let listing = repo
            .snapshot_listing(&stmt.snapshot)
            .await
            .map_err(|e| BackupError::ddl(format!("Failed to list snapshot: {e}")))?;
        if listing.timestamps.is_empty() {
            return Err(BackupError::ddl(format!(
                "Snapshot {} does not exist in repository {}",
                stmt.snapshot, repo.name
            )));
        }
        if !stmt.force {
            self.check_own_snapshot(&repo, &listing).await?;
        }
        self.unpublish(&repo, &stmt.snapshot).await?;
        info!(repository = %repo.name, snapshot = %stmt.snapshot, "snapshot dropped");
        self.request_collection(&repo.name);
        Ok(())
    }

    /// Refused while a job of this server writes or reads the snapshot, or a database reads it.
    fn check_snapshot_unused(&self, repository: &str, snapshot: &str) -> Result<()> {
        let busy = self
            .lock()
            .all_jobs()
            .any(|j| !j.is_done() && j.repository() == repository && j.snapshot() == snapshot);
        if busy {
            return Err(BackupError::ddl(format!(
                "Snapshot {snapshot} is used by a running backup or restore job"
            )));
        }
        let attached: Vec<String> = self
            .catalog
            .snapshot()
            .databases
            .values()
            .filter(|d| {
                d.attached
                    .as_ref()
                    .is_some_and(|a| a.repository == repository && a.snapshot == snapshot)
            })
            .map(|d| d.name.clone())
            .collect();
        if !attached.is_empty() {
            return Err(BackupError::ddl(format!(
                "Snapshot {snapshot} is read by database {} (attached): drop that database first",
                attached.join(", ")
            )));
        }
        Ok(())
    }

    /// Without FORCE: every timestamp must have readable metadata naming this cluster.
    async fn check_own_snapshot(
        &self,
        repo: &Repository,
        listing: &crate::repository::SnapshotListing,
    ) -> Result<()> {
        let name = &listing.name;
        for timestamp in &listing.timestamps {
            let info = match repo.read_info_file(name, timestamp).await {
                Ok(info) => info,
                Err(e) => {
                    return Err(BackupError::ddl(format!(
                        "Snapshot {name} has no readable metadata ({e}); use FORCE to drop it"
                    )));
                }
            };
            match &info.cluster_id {
                Some(id) if *id == self.cluster_id => {}
                Some(id) => {
                    return Err(BackupError::ddl(format!(
                        "Snapshot {name} was created by another cluster ({id}); use FORCE to \
                         drop it"
                    )));
                }
                None => {
                    return Err(BackupError::ddl(format!(
                        "Snapshot {name} does not name the cluster that created it; use FORCE \
                         to drop it"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Deletes the snapshot's info files (it disappears), then everything else in its directory.
    async fn unpublish(&self, repo: &Repository, snapshot: &str) -> Result<()> {
        let failed = |e: StoreError| BackupError::ddl(format!("Failed to drop snapshot: {e}"));
        let dir = format::snapshot_dir(&repo.name, snapshot);
        let entries = repo.store.list(&dir).await.map_err(failed)?;
        let (infos, rest): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|e| e.key[dir.len()..].starts_with("__info_"));
        for entry in infos.into_iter().chain(rest) {
            repo.store.delete(&entry.key).await.map_err(failed)?;
        }
        Ok(())
    }

    /// Collects `repository` now in the background, or as soon as no job holds it.
    pub(crate) fn request_collection(self: &Arc<Self>, repository: &str) {
        self.lock().gc_pending.insert(repository.to_string());
        if let Err(e) = self.save() {
            warn!(error = %e, "could not save the pending collection");
        }
        let service = self.clone();
        self.catalog
            .background()
            .spawn(async move { service.collect_pending().await });
    }

    /// One collection attempt per pending repository.
    async fn collect_pending(&self) {
        let pending: Vec<String> = self.lock().gc_pending.iter().cloned().collect();
        for name in pending {
            let Some(repo) = self.repository(&name) else {
                self.lock().gc_pending.remove(&name);
                continue;
            };
            match collect_garbage(&repo, &self.cluster_id).await {
                Ok(Some(_)) => {
                    self.lock().gc_pending.remove(&name);
                    if let Err(e) = self.save() {
                        warn!(error = %e, "could not save the end of a collection");
                    }
                }
                Ok(None) => debug!(repository = %name, "collection waits for running jobs"),
                Err(e) => warn!(repository = %name, error = %e, "garbage collection failed"),
            }
        }
    }

    /// Drops this server's snapshots whose ttl has passed, and retries pending collections,
    /// every [`SWEEP_EVERY`] until the service is dropped; checks every repository for
    /// `/metrics` at the first pass and then every `REPOSITORY_CHECK_EVERY`.
    pub fn start_sweeper(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        self.catalog.background().spawn(async move {
            let mut last_check: Option<std::time::Instant> = None;
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                let Some(service) = weak.upgrade() else {
                    return;
                };
                service.drop_expired().await;
                service.collect_pending().await;
                if last_check.is_none_or(|t| t.elapsed() >= super::observe::REPOSITORY_CHECK_EVERY)
                {
                    last_check = Some(std::time::Instant::now());
                    service.check_repositories().await;
                }
            }
        });
    }

    async fn drop_expired(self: &Arc<Self>) {
        let now = now_ms();
        let due: Vec<ExpiringSnapshot> = {
            let s = self.lock();
            s.expiring
                .iter()
                .filter(|e| e.expire_ms <= now)
                .cloned()
                .collect()
        };
        for expired in due {
            let gone = match self.repository(&expired.repository) {
                None => true,
                Some(repo) => repo
                    .snapshot_listing(&expired.snapshot)
                    .await
                    .is_ok_and(|l| l.timestamps.is_empty()),
            };
            if gone {
                self.forget_expiring(&expired);
                continue;
            }
            let stmt = DropSnapshot {
                snapshot: expired.snapshot.clone(),
                repository: expired.repository.clone(),
                force: false,
            };
            // Refused (a job uses it, a database reads it): tried again at the next sweep.
            match self.drop_snapshot(&stmt).await {
                Ok(()) => {
                    info!(snapshot = %expired.snapshot, "expired snapshot dropped");
                    self.forget_expiring(&expired);
                }
                Err(e) => {
                    warn!(snapshot = %expired.snapshot, error = %e, "expired snapshot not dropped yet")
                }
            }
        }
    }

    fn forget_expiring(&self, expired: &ExpiringSnapshot) {
        self.lock().expiring.retain(|e| e != expired);
        if let Err(e) = self.save() {
            warn!(error = %e, "could not save the list of expiring snapshots");
        }
    }

    /// Remembers a published snapshot with a ttl, for the sweeper.
    pub(crate) fn expires(&self, repository: &str, snapshot: &str, expire_ms: i64) {
        self.lock().expiring.push(ExpiringSnapshot {
            repository: repository.to_string(),
            snapshot: snapshot.to_string(),
            expire_ms,
        });
    }
}

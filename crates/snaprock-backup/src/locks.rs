//! Repository locks, so garbage collection never deletes a data file a job relies on, even when
//! the job runs on another server sharing the repository (`docs/snapshot-format.md`, "Dropping
//! snapshots safely").
//!
//! A lock is a small object under `__locks/`: **shared** for a BACKUP (from before it lists
//! `__data/` to decide which files to reuse until its info file is written) and for a RESTORE
//! (while it reads), **exclusive** for garbage collection. Taking a lock writes it, then lists
//! the others: a shared taker that sees an exclusive lock withdraws and waits; an exclusive
//! taker that sees any other lock withdraws and tries later. With read-after-write listing (S3,
//! a file system), of two takers at least the later one sees the earlier, so a collection and a
//! job never both proceed. A holder rewrites its lock every [`REFRESH_EVERY`]; a lock not
//! rewritten for [`STALE_AFTER`] belongs to a dead server and is ignored, and a job whose own
//! lock could not be refreshed in time fails before it publishes anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::error::StoreError;
use crate::format::{self, now_ms};
use crate::repository::Repository;
use crate::store::CancelSignal;

/// How often a holder rewrites its lock.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// A lock older than this is a dead holder's.
pub const STALE_AFTER: Duration = Duration::from_secs(600);
/// A holder whose last refresh is older than this stops trusting its lock (half the staleness,
/// so a slow clock or a slow store cannot make it publish after others gave up on it).
const TRUSTED_FOR: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LockBody {
    owner: String,
    exclusive: bool,
    written_ms: i64,
}

/// A lock held on a repository until released (or until its holder dies and it goes stale).
#[derive(Debug)]
pub struct RepoLock {
    repo: Arc<Repository>,
    key: String,
    last_refresh_ms: Arc<AtomicI64>,
    /// Set once two successful writes were too far apart: others may have seen it stale.
    lapsed: Arc<AtomicBool>,
    refresher: tokio::task::JoinHandle<()>,
}

fn locks_prefix(repo: &Repository) -> String {
    format!("{}__locks/", format::repo_root(&repo.name))
}

async fn write_lock(repo: &Repository, key: &str, body: &LockBody) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(body).map_err(|e| StoreError::Other(e.to_string()))?;
    repo.store.put(key, Bytes::from(bytes)).await
}

/// The locks other than `own`: the live ones as `(key, exclusive)`, and the keys of stale ones.
async fn other_locks(
    repo: &Repository,
    own: &str,
) -> Result<(Vec<(String, bool)>, Vec<String>), StoreError> {
    let mut live = Vec::new();
    let mut stale = Vec::new();
    for entry in repo.store.list(&locks_prefix(repo)).await? {
        if entry.key == own {
            continue;
        }
        let body = match repo.store.get(&entry.key).await {
            Ok(bytes) => serde_json::from_slice::<LockBody>(&bytes).ok(),
            // Released between the listing and the read.
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        match body {
            Some(b) if now_ms() - b.written_ms < STALE_AFTER.as_millis() as i64 => {
                live.push((entry.key, b.exclusive))
            }
            Some(_) => {
                debug!(key = %entry.key, "ignoring a stale repository lock");
                stale.push(entry.key);
            }
            // Unreadable: treat as a live exclusive lock rather than guess.
            None => live.push((entry.key, true)),
        }
    }
    Ok((live, stale))
}

impl RepoLock {
    async fn write(
        repo: &Arc<Repository>,
        owner: &str,
        exclusive: bool,
    ) -> Result<Self, StoreError> {
        let kind = if exclusive { "exclusive" } else { "shared" };
        let key = format!(
            "{}{kind}-{owner}-{:016x}",
            locks_prefix(repo),
            rand::random::<u64>()
        );
        let body = LockBody {
            owner: owner.to_string(),
            exclusive,
            written_ms: now_ms(),
        };
        write_lock(repo, &key, &body).await?;
        let last_refresh_ms = Arc::new(AtomicI64::new(body.written_ms));
        let lapsed = Arc::new(AtomicBool::new(false));
        let refresher = {
            let (repo, key, last) = (repo.clone(), key.clone(), last_refresh_ms.clone());
            let lapsed = lapsed.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(REFRESH_EVERY).await;
                    let body = LockBody {
                        written_ms: now_ms(),
                        ..body.clone()
                    };
                    match write_lock(&repo, &key, &body).await {
                        Ok(()) => {
                            let previous = last.swap(body.written_ms, Ordering::SeqCst);
                            if body.written_ms - previous >= TRUSTED_FOR.as_millis() as i64 {
                                lapsed.store(true, Ordering::SeqCst);
                            }
                        }
                        Err(e) => warn!(error = %e, "could not refresh a repository lock"),
                    }
                }
            })
        };
        Ok(RepoLock {
            repo: repo.clone(),
            key,
            last_refresh_ms,
            lapsed,
            refresher,
        })
    }

    /// A shared lock, waiting while garbage collection holds the repository.
    pub async fn shared(
        repo: &Arc<Repository>,
        owner: &str,
        cancel: &CancelSignal,
    ) -> Result<Self, StoreError> {
        let mut delay = Duration::from_millis(200);
        loop {
            cancel.check()?;
            let lock = Self::write(repo, owner, false).await?;
            let others = other_locks(repo, &lock.key).await;
            match others {
                Ok((others, _)) if !others.iter().any(|(_, exclusive)| *exclusive) => {
                    return Ok(lock);
                }
                Ok(_) => lock.release().await,
                Err(e) => {
                    lock.release().await;
                    return Err(e);
                }
            }
            debug!("repository is being collected; waiting");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => {}
            }
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// The exclusive lock, or `None` when any job (here or elsewhere) holds the repository.
    pub async fn try_exclusive(
        repo: &Arc<Repository>,
        owner: &str,
    ) -> Result<Option<Self>, StoreError> {
        let lock = Self::write(repo, owner, true).await?;
        match other_locks(repo, &lock.key).await {
            Ok((others, stale)) if others.is_empty() => {
                // Dead servers' locks: removed by the one holder that may remove anything.
                for key in stale {
                    if let Err(e) = repo.store.delete(&key).await {
                        warn!(key, error = %e, "could not remove a stale repository lock");
                    }
                }
                Ok(Some(lock))
            }
            Ok(_) => {
                lock.release().await;
                Ok(None)
            }
            Err(e) => {
                lock.release().await;
                Err(e)
            }
        }
    }

    /// Whether others have seen this lock live all along: no gap between its writes, nor since
    /// the last one, reached [`TRUSTED_FOR`].
    pub fn is_trusted(&self) -> bool {
        !self.lapsed.load(Ordering::SeqCst)
            && now_ms() - self.last_refresh_ms.load(Ordering::SeqCst)
                < TRUSTED_FOR.as_millis() as i64
    }

    pub async fn release(self) {
        self.refresher.abort();
        if let Err(e) = self.repo.store.delete(&self.key).await {
            warn!(error = %e, "could not remove a repository lock (it goes stale)");
        }
    }
}

impl Drop for RepoLock {
    /// A lock dropped unreleased (its job was stopped with the server) stops being refreshed:
    /// it goes stale, and the job, resumed, takes it again.
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

//! Garbage collection of a repository: under the exclusive lock (`locks.rs`), so no job of any
//! server is deciding to reuse a file meanwhile, every `__data/` file that no published
//! snapshot's meta names is deleted, and so is every snapshot directory without an info file
//! (a dropped snapshot's leftovers, an interrupted backup's meta). A published snapshot whose
//! info or meta cannot be read stops the collection: what it references is unknown.

use std::collections::HashSet;
use std::sync::Arc;

use tracing::info;

use crate::error::StoreError;
use crate::format;
use crate::locks::RepoLock;
use crate::repository::Repository;

/// What one collection deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub files: u64,
    pub bytes: u64,
}

/// Collects `repo`'s garbage; `None` when a job holds the repository (try again later).
pub async fn collect_garbage(
    repo: &Arc<Repository>,
    owner: &str,
) -> Result<Option<Collected>, StoreError> {
    let Some(lock) = RepoLock::try_exclusive(repo, owner).await? else {
        return Ok(None);
    };
    let result = collect_locked(repo).await;
    lock.release().await;
    result.map(Some)
}

async fn collect_locked(repo: &Repository) -> Result<Collected, StoreError> {
    let root = format::repo_root(&repo.name);
    let mut referenced = HashSet::new();
    let mut unpublished = Vec::new();
    for snapshot in repo.snapshot_names().await? {
        let listing = repo.snapshot_listing(&snapshot).await?;
        if !listing.valid {
            unpublished.push(snapshot);
            continue;
        }
        for timestamp in listing
            .timestamps
            .iter()
            .filter(|t| !t.starts_with("Invalid"))
        {
            let info = repo.read_info_file(&snapshot, timestamp).await?;
            if info.snaprock.as_ref().is_some_and(|e| e.continuous) {
                // Every point of a continuous snapshot stays restorable.
                referenced.extend(repo.continuous_files(&snapshot, &info).await?);
                continue;
            }
            let meta = repo.read_meta(&snapshot, &info).await?;
            referenced.extend(meta.files().into_iter().map(|f| f.key.clone()));
        }
    }
    let mut collected = Collected::default();
    for entry in repo.store.list(&format::data_prefix(&repo.name)).await? {
        let relative = entry.key.strip_prefix(&root).unwrap_or(&entry.key);
        if !referenced.contains(relative) {
            repo.store.delete(&entry.key).await?;
            collected.files += 1;
            collected.bytes += entry.size;
        }
    }
    for snapshot in unpublished {
        for entry in repo
            .store
            .list(&format::snapshot_dir(&repo.name, &snapshot))
            .await?
        {
            repo.store.delete(&entry.key).await?;
        }
    }
    if collected.files > 0 {
        info!(
            repository = %repo.name,
            files = collected.files,
            bytes = collected.bytes,
            "deleted data files no snapshot uses"
        );
    }
    Ok(collected)
}

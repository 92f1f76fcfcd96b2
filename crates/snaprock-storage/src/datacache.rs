//! The data cache: local copies of storage volume files, bounded in bytes (`--datacache-size`),
//! least recently used first out.
//!
//! A volume file's local copy (at its data-directory path) is never needed for correctness: a
//! read that finds none reads the volume. Copies enter the cache when a write publishes them
//! and when a read of the whole file fetched them; reads through the file router mark them
//! used. When the cache holds more than its bound, the least recently used copies are deleted,
//! except those a job holds (a backup uploading them). The index is rebuilt at start from the
//! copies on disk, oldest first by modification time, so the cache survives restarts.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;

/// The default bound: 10 GiB.
pub const DEFAULT_DATACACHE_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// Which local copies the cache holds, in use order, and their sizes.
#[derive(Debug)]
pub struct DataCache {
    limit: AtomicU64,
    index: Mutex<Index>,
    /// Paths of copies reads looked for and did not find, for the filler to fetch.
    missed: Mutex<std::collections::BTreeSet<String>>,
    miss_noted: tokio::sync::Notify,
    /// Held by an eviction while it decides and deletes, and by a check that a copy is there
    /// for a job: a copy found is then not one an eviction that began before the job's hold
    /// is about to delete.
    eviction: Mutex<()>,
}

#[derive(Debug)]
struct Index {
    /// Data-directory path → bytes; most recently used last out.
    copies: LruCache<String, u64>,
    bytes: u64,
}

impl Default for DataCache {
    fn default() -> Self {
        DataCache {
            limit: AtomicU64::new(DEFAULT_DATACACHE_BYTES),
            index: Mutex::new(Index {
                copies: LruCache::unbounded(),
                bytes: 0,
            }),
            missed: Mutex::new(Default::default()),
            miss_noted: tokio::sync::Notify::new(),
            eviction: Mutex::new(()),
        }
    }
}

impl DataCache {
    /// See the `eviction` field.
    pub(crate) fn eviction_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.eviction.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    pub(crate) fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// Bytes of the copies the cache holds.
    pub fn bytes(&self) -> u64 {
        self.index().bytes
    }

    /// Notes a copy of `bytes` at `path` as the most recently used.
    pub(crate) fn admit(&self, path: &str, bytes: u64) {
        let mut index = self.index();
        if let Some(old) = index.copies.put(path.to_string(), bytes) {
            index.bytes -= old;
        }
        index.bytes += bytes;
    }

    /// Marks the copy at `path` used (no effect for a path the cache does not hold).
    pub(crate) fn touch(&self, path: &str) {
        self.index().copies.promote(path);
    }

    /// Notes that a read found no copy at `path` (the filler fetches it).
    pub(crate) fn note_miss(&self, path: &str) {
        let mut missed = self.missed.lock().unwrap_or_else(|p| p.into_inner());
        if missed.len() < 10_000 && missed.insert(path.to_string()) {
            self.miss_noted.notify_one();
        }
    }

    /// Waits for misses and takes them.
    pub(crate) async fn next_misses(&self) -> Vec<String> {
        loop {
            let taken: Vec<String> = {
                let mut missed = self.missed.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::take(&mut *missed).into_iter().collect()
            };
            if !taken.is_empty() {
                return taken;
            }
            self.miss_noted.notified().await;
        }
    }

    /// Forgets `path` (its copy was deleted).
    pub(crate) fn forget(&self, path: &str) {
        let mut index = self.index();
        if let Some(bytes) = index.copies.pop(path) {
            index.bytes -= bytes;
        }
    }

    /// Takes the least recently used copies out of the index until it is within its bound;
    /// `keep` says which must stay (they go back as most recently used). Returns the paths
    /// taken out, whose files the caller deletes.
    pub(crate) fn over_limit(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let limit = self.limit();
        let mut index = self.index();
        let mut out = Vec::new();
        let mut kept = Vec::new();
        let mut kept_bytes = 0;
        while index.bytes + kept_bytes > limit {
            let Some((path, bytes)) = index.copies.pop_lru() else {
                break;
            };
            index.bytes -= bytes;
            if keep(&path) {
                kept_bytes += bytes;
                kept.push((path, bytes));
            } else {
                out.push(path);
            }
        }
        for (path, bytes) in kept {
            index.copies.put(path, bytes);
            index.bytes += bytes;
        }
        out
    }
}

/// The modification time of a file, for ordering copies found at start.
pub(crate) fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first_and_kept_ones_stay() {
        let cache = DataCache::default();
        cache.set_limit(250);
        cache.admit("a", 100);
        cache.admit("b", 100);
        cache.admit("c", 100);
        cache.touch("a");
        assert_eq!(cache.over_limit(|_| false), vec!["b".to_string()]);
        assert_eq!(cache.bytes(), 200);
        cache.admit("d", 100);
        // "c" is the least recently used but held: "a" goes instead.
        assert_eq!(cache.over_limit(|p| p == "c"), vec!["a".to_string()]);
        assert_eq!(cache.bytes(), 200);
        cache.forget("c");
        assert_eq!(cache.bytes(), 100);
    }
}

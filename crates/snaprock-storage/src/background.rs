//! The server's hold on its data directory and the background work it runs there.
//!
//! Two servers on one data directory would overwrite each other's catalog and job records, so
//! the first one to open it holds an exclusive lock on `<data dir>/LOCK` (released by the
//! kernel if the process dies, so a `kill -9` never leaves a stale lock). Background work
//! (resumed jobs, sweepers, scheduled tasks, cache fills) is spawned through [`Background`]:
//! a stop cancels it at its next await point and waits for it, and only then lets the lock
//! go. Nothing of a stopped server writes into the directory after its stop returned, so a
//! server started next on it (a restart in the same process, as the tests do) starts alone.
//! Work cut short is picked up by the next start, as after a crash.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::{Result, StorageError};

/// The name of the lock file in the data directory.
pub const DATA_DIR_LOCK_FILE: &str = "LOCK";

/// The data directory's lock and the tasks that run until the server stops.
pub struct Background {
    stopping: CancellationToken,
    tasks: TaskTracker,
    /// The open, locked `LOCK` file; `None` once the stop let it go.
    dir_lock: Mutex<Option<std::fs::File>>,
}

impl Background {
    /// Locks `data_dir` for this server; fails if another server holds it.
    pub(crate) fn lock(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(DATA_DIR_LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StorageError::DataDirInUse {
                    path: PathBuf::from(data_dir),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StorageError::io(&path, e)),
        }
        Ok(Background {
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
            dir_lock: Mutex::new(Some(file)),
        })
    }

    /// Runs `work` until it ends (its output) or the server stops (`None`), whichever comes
    /// first.
    pub fn spawn<F>(&self, work: F) -> JoinHandle<Option<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let stopping = self.stopping.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                biased;
                _ = stopping.cancelled() => None,
                output = work => Some(output),
            }
        })
    }

    /// True once the stop began: work about to start should not.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Cancels every background task, waits until all have ended, then unlocks the data
    /// directory. Work spawned afterwards ends at once.
    pub async fn stop(&self) {
        self.stopping.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        let released = self
            .dir_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(file) = released {
            // Unlocked, not only closed: a child process being spawned (between its fork and
            // its exec) holds a copy of the descriptor, which would keep the lock.
            let _ = file.unlock();
            info!("background work ended; data directory unlocked");
        }
    }
}

impl crate::Catalog {
    /// The data directory's lock and the background work of the server that opened it.
    pub fn background(&self) -> &Background {
        &self.background
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let first = Background::lock(dir.path()).unwrap();
        assert!(matches!(
            Background::lock(dir.path()),
            Err(StorageError::DataDirInUse { .. })
        ));
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<()>();
        first.spawn(async move {
            let _ended = ended_tx;
            std::future::pending::<()>().await;
        });
        first.stop().await;
        // The task was cancelled (its sender dropped) before stop returned.
        assert!(ended_rx.await.is_err());
        assert!(first.is_stopping());
        Background::lock(dir.path()).unwrap();
    }
}

//! What a job decided before it moved any file, kept so that a restart continues the job
//! instead of starting it over: a backup's captured meta, a restore's reserved ids and the
//! local paths of its downloads. One file per job, `<data dir>/jobs/<holder>.json`, beside the
//! catalog's hold on the job's local files (`Catalog::hold_files`, same holder name).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::job::{Failed, JobKind, JobRecord, status_error};
use crate::service::BackupService;

/// The name a job's plan file and its catalog hold go by: `backup-7`, `restore-12`.
pub(crate) fn holder<K: JobKind>(kind: &str, record: &JobRecord<K>) -> String {
    format!("{kind}-{}", record.job_id)
}

fn path(root: &Path, holder: &str) -> PathBuf {
    root.join("jobs").join(format!("{holder}.json"))
}

/// Writes the plan durably (owner-only: a plan names no secret, but lives beside files that do).
pub(crate) fn write<T: Serialize>(
    service: &BackupService,
    holder: &str,
    plan: &T,
) -> Result<(), Failed> {
    let failed = |e: String| Failed(status_error("COMMON_ERROR", &e));
    let path = path(service.catalog.root(), holder);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    }
    let body = serde_json::to_vec(plan).map_err(|e| failed(e.to_string()))?;
    snaprock_storage::write_private_file_atomic(&path, &body)
        .map_err(|e| failed(format!("cannot save the job's plan: {e}")))
}

/// The plan a job saved before a restart, if it is there and readable.
pub(crate) fn read<T: DeserializeOwned>(service: &BackupService, holder: &str) -> Option<T> {
    let path = path(service.catalog.root(), holder);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(plan) => Some(plan),
        Err(e) => {
            warn!(path = %path.display(), error = %e, "a job's plan file is unreadable");
            None
        }
    }
}

/// Ends what a job kept for a restart: its catalog hold (files no table lists are deleted) and
/// its plan file.
pub(crate) fn release(service: &BackupService, holder: &str) {
    if let Err(e) = service.catalog.release_files(holder) {
        warn!(holder, error = %e, "could not release a job's files");
    }
    let path = path(service.catalog.root(), holder);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => warn!(path = %path.display(), error = %e, "could not remove a job's plan file"),
    }
}

/// Holders (catalog holds) no job of `live` owns any more: left by a job a crash ended.
pub(crate) fn stale_holders<'a>(
    service: &BackupService,
    live: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let live: std::collections::HashSet<&str> = live.into_iter().collect();
    let state = service.catalog.snapshot();
    let holders: std::collections::BTreeSet<&String> = state
        .held_files
        .keys()
        .chain(state.commit_watches.keys())
        .collect();
    holders
        .into_iter()
        .filter(|h| !live.contains(h.as_str()))
        .cloned()
        .collect()
}

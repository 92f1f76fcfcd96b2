//! ADMIN CHECK SNAPSHOT: verifies a snapshot where it is, without restoring it. Level `files`
//! (the default) lists the repository's `__data/` once and checks every file the meta names is
//! there with its size; level `data` also reads every byte (ranged GETs, a few files at a
//! time, constant memory), recomputes the SHA-256 and reads the Parquet footer's row count.
//! One row per problem, or one row saying OK.

use std::collections::HashMap;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use snaprock_sql::ast::CheckSnapshot;

use super::*;
use crate::format::{self, SnapshotFile};
use crate::store::hex;

/// Bytes read per GET when level `data` hashes a file.
const CHUNK: u64 = 8 * 1024 * 1024;
/// Files hashed at the same time.
const FILES_IN_FLIGHT: usize = 4;

const COLUMNS: [&str; 4] = ["Object", "Status", "Expected", "Found"];

/// How deep ADMIN CHECK SNAPSHOT looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Files,
    Data,
}

fn problem(key: &str, status: &str, expected: String, found: String) -> Vec<Option<String>> {
    vec![
        Some(key.to_string()),
        Some(status.to_string()),
        Some(expected),
        Some(found),
    ]
}

impl BackupService {
    pub async fn check_snapshot(&self, stmt: &CheckSnapshot) -> Result<Rows> {
        let mut timestamp = None;
        let mut level = Level::Files;
        for (key, value) in &stmt.properties {
            match (
                key.to_ascii_lowercase().as_str(),
                value.to_ascii_lowercase().as_str(),
            ) {
                ("backup_timestamp", _) => timestamp = Some(value.clone()),
                ("level", "files") => level = Level::Files,
                ("level", "data") => level = Level::Data,
                ("level", _) => {
                    return Err(BackupError::analysis(format!(
                        "Invalid level: {value} (files or data)"
                    )));
                }
                _ => {
                    return Err(BackupError::analysis(format!(
                        "Unknown property: {key} (ADMIN CHECK SNAPSHOT takes backup_timestamp and \
                         level)"
                    )));
                }
            }
        }
        let repo = self.existing_repository(&stmt.repository)?;
        let timestamp = super::attach::snapshot_timestamp(&repo, &stmt.snapshot, timestamp).await?;
        let unreadable = |what: &str, e: StoreError| {
            Ok(Rows {
                columns: COLUMNS.to_vec(),
                rows: vec![problem(
                    what,
                    "UNREADABLE",
                    "a valid file".into(),
                    e.to_string(),
                )],
            })
        };
        let info = match repo.read_info(&stmt.snapshot, &timestamp).await {
            Ok(info) => info,
            Err(StoreError::NotFound(detail)) => {
                return Err(BackupError::ddl(format!(
                    "Snapshot '{}' at {timestamp} not found: {detail}",
                    stmt.snapshot
                )));
            }
            Err(e) => return unreadable("info file", e),
        };
        let meta = match repo.read_meta(&stmt.snapshot, &info).await {
            Ok(meta) => meta,
            Err(e) => return unreadable("meta file", e),
        };
        let stored: HashMap<String, u64> = repo
            .store
            .list(&format::data_prefix(&repo.name))
            .await
            .map_err(|e| BackupError::ddl(format!("Failed to list repository: {e}")))?
            .into_iter()
            .map(|e| (e.key, e.size))
            .collect();
        let files = meta.files();
        let mut problems = Vec::new();
        let mut present = Vec::new();
        for file in &files {
            match stored.get(&repo.key(&file.key)) {
                None => problems.push(problem(
                    &file.key,
                    "MISSING",
                    format!("{} bytes", file.bytes),
                    "absent".into(),
                )),
                Some(size) if *size != file.bytes => problems.push(problem(
                    &file.key,
                    "WRONG_SIZE",
                    format!("{} bytes", file.bytes),
                    format!("{size} bytes"),
                )),
                Some(_) => present.push(SnapshotFile::clone(file)),
            }
        }
        if level == Level::Data {
            // Owned futures: the statement's future must stay Send for any lifetime.
            let checks: Vec<_> = present
                .into_iter()
                .map(|f| check_data(repo.clone(), f))
                .collect();
            let mut results = futures::stream::iter(checks).buffer_unordered(FILES_IN_FLIGHT);
            while let Some(found) = results.next().await {
                problems.extend(found);
            }
        }
        problems.sort();
        if problems.is_empty() {
            let bytes: u64 = files.iter().map(|f| f.bytes).sum();
            let checked = match level {
                Level::Files => "files and sizes",
                Level::Data => "files, sizes, SHA-256 and row counts",
            };
            problems.push(problem(
                &format!("snapshot {} at {timestamp}", stmt.snapshot),
                "OK",
                format!("{} files, {bytes} bytes", files.len()),
                format!("{checked} match"),
            ));
        }
        Ok(Rows {
            columns: COLUMNS.to_vec(),
            rows: problems,
        })
    }
}

/// Reads a data file whole and checks its SHA-256 and its rows; the problems found.
async fn check_data(repo: Arc<Repository>, file: SnapshotFile) -> Vec<Vec<Option<String>>> {
    let key = repo.key(&file.key);
    let unreadable = |e: String| vec![problem(&file.key, "UNREADABLE", "readable".into(), e)];
    let mut hasher = Sha256::new();
    let mut offset = 0;
    while offset < file.bytes {
        let end = (offset + CHUNK).min(file.bytes);
        match repo.store.get_range(&key, offset..end).await {
            Ok(bytes) if bytes.len() as u64 == end - offset => hasher.update(&bytes),
            Ok(bytes) => return unreadable(format!("{} bytes at offset {offset}", bytes.len())),
            Err(e) => return unreadable(e.to_string()),
        }
        offset = end;
    }
    let sha256 = hex(&hasher.finalize());
    if sha256 != file.sha256 {
        return vec![problem(
            &file.key,
            "WRONG_CHECKSUM",
            format!("sha256 {}", file.sha256),
            format!("sha256 {sha256}"),
        )];
    }
    match footer_rows(&repo, &key, file.bytes).await {
        Ok(rows) if rows == file.rows => Vec::new(),
        Ok(rows) => vec![problem(
            &file.key,
            "WRONG_ROWS",
            format!("{} rows", file.rows),
            format!("{rows} rows"),
        )],
        Err(e) => unreadable(e),
    }
}

/// The row count a Parquet file's footer records.
async fn footer_rows(repo: &Repository, key: &str, size: u64) -> Result<u64, String> {
    if size < 8 {
        return Err("too short for a Parquet file".into());
    }
    let last8 = repo
        .store
        .get_range(key, size - 8..size)
        .await
        .map_err(|e| e.to_string())?;
    let len = snaprock_storage::parquet_metadata_len(&last8).map_err(|e| e.to_string())?;
    let start = (size - 8)
        .checked_sub(len)
        .ok_or("footer longer than the file")?;
    let metadata = repo
        .store
        .get_range(key, start..size - 8)
        .await
        .map_err(|e| e.to_string())?;
    snaprock_storage::parquet_rows(&metadata).map_err(|e| e.to_string())
}

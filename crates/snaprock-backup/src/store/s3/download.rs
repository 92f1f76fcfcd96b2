//! Downloads of large objects in parallel ranged GETs.
//!
//! One GET per object leaves a restore of a table with one big file on one stream. Here an
//! object larger than one part is read as ranges of `download_part_size` bytes, up to
//! `download_parts_in_flight` at a time across all the files of the store (a semaphore), and
//! the parts are hashed and written in order as they come: memory stays under
//! `parts in flight × part size`, the SHA-256 of the whole file is still computed in the same
//! pass, and the file is still fsynced and renamed into place only when it matches. A part
//! whose connection breaks is fetched again alone.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tracing::warn;

use super::{DOWNLOAD_ATTEMPTS, S3Store};
use crate::error::StoreError;
use crate::store::{CancelSignal, ExpectedContent, TransferProgress, hex, verify_digest};

impl S3Store {
    /// Downloads `key` (of `expected.size` bytes, more than one part) into `tmp` in ranged
    /// parts, verified and fsynced.
    pub(super) async fn download_parts(
        &self,
        key: &str,
        tmp: &Path,
        expected: &ExpectedContent,
        attempt_progress: &TransferProgress,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let part = self.tuning.download_part_size.max(1) as u64;
        let ranges: Vec<Range<u64>> = (0..expected.size)
            .step_by(part as usize)
            .map(|start| start..(start + part).min(expected.size))
            .collect();
        let mut out = HashingFile::create(tmp, [attempt_progress, progress]).await?;
        let mut parts = futures::stream::iter(ranges)
            .map(|range| self.fetch_part(key, range, expected.size, cancel))
            .buffered(self.tuning.download_parts_in_flight.max(1));
        loop {
            let next = tokio::select! {
                next = parts.next() => next,
                _ = cancel.cancelled() => return Err(StoreError::Cancelled),
            };
            let Some(fetched) = next else { break };
            let (bytes, _slot) = fetched?;
            out.write(&bytes).await?;
        }
        out.finish(key, expected).await
    }

    /// One streaming GET of a whole object into `tmp`, hashed on the way.
    pub(super) async fn download_whole(
        &self,
        key: &str,
        tmp: &Path,
        expected: &ExpectedContent,
        attempt_progress: &TransferProgress,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let full = self.full_key(key);
        let out = tokio::select! {
            out = self.client.get_object().bucket(&self.bucket).key(&full).send() => {
                out.map_err(|e| self.error(&full, e))?
            }
            _ = cancel.cancelled() => return Err(StoreError::Cancelled),
        };
        let mut file = HashingFile::create(tmp, [attempt_progress, progress]).await?;
        let mut body = out.body;
        loop {
            let next = tokio::select! {
                next = body.next() => next,
                _ = cancel.cancelled() => return Err(StoreError::Cancelled),
            };
            let Some(chunk) = next else { break };
            let chunk =
                chunk.map_err(|e| StoreError::Unreachable(format!("reading {full}: {e}")))?;
            file.write(&chunk).await?;
        }
        file.finish(key, expected).await
    }

    /// One part, once a download slot is free (held until the part is written); a broken
    /// connection is retried for this part alone. An object whose total size is not the
    /// expected one fails as a checksum mismatch.
    async fn fetch_part(
        &self,
        key: &str,
        range: Range<u64>,
        total: u64,
        cancel: &CancelSignal,
    ) -> Result<(Bytes, tokio::sync::OwnedSemaphorePermit), StoreError> {
        let slot = tokio::select! {
            slot = self.download_slots.clone().acquire_owned() => {
                slot.map_err(|e| StoreError::Other(e.to_string()))?
            }
            _ = cancel.cancelled() => return Err(StoreError::Cancelled),
        };
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            let result = tokio::select! {
                r = self.read_part(key, range.clone(), total) => r,
                _ = cancel.cancelled() => return Err(StoreError::Cancelled),
            };
            match result {
                Err(StoreError::Unreachable(reason)) if attempt < DOWNLOAD_ATTEMPTS => {
                    warn!(key, attempt, start = range.start, %reason, "part download interrupted; retrying");
                    self.retries.inc();
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other.map(|bytes| (bytes, slot)),
            }
        }
    }

    /// One ranged GET, checked to be the range asked for of an object of `total` bytes.
    async fn read_part(
        &self,
        key: &str,
        range: Range<u64>,
        total: u64,
    ) -> Result<Bytes, StoreError> {
        let full = self.full_key(key);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .range(format!("bytes={}-{}", range.start, range.end - 1))
            .send()
            .await
            .map_err(|e| self.error(&full, e))?;
        let object_size = out
            .content_range()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|n| n.parse::<u64>().ok());
        if object_size.is_some_and(|n| n != total) {
            return Err(StoreError::Checksum {
                key: key.to_string(),
                expected: format!("{total} bytes"),
                actual: format!("{} bytes", object_size.unwrap_or_default()),
            });
        }
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unreachable(format!("reading {full}: {e}")))?
            .into_bytes();
        if bytes.len() as u64 != range.end - range.start {
            return Err(StoreError::Checksum {
                key: key.to_string(),
                expected: format!("{total} bytes"),
                actual: format!("{} bytes at offset {}", bytes.len(), range.start),
            });
        }
        Ok(bytes)
    }
}

/// A download's temporary file: what is written is hashed and counted on the way; `finish`
/// checks size and SHA-256 against the manifest and fsyncs.
struct HashingFile<'a> {
    file: tokio::fs::File,
    path: &'a Path,
    hasher: Sha256,
    size: u64,
    progress: [&'a TransferProgress; 2],
}

impl<'a> HashingFile<'a> {
    async fn create(
        path: &'a Path,
        progress: [&'a TransferProgress; 2],
    ) -> Result<Self, StoreError> {
        let file = tokio::fs::File::create(path)
            .await
            .map_err(|e| StoreError::io(path.display(), e))?;
        Ok(HashingFile {
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
            progress,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| StoreError::io(self.path.display(), e))?;
        for p in self.progress {
            p.add(bytes.len() as u64);
        }
        Ok(())
    }

    async fn finish(self, key: &str, expected: &ExpectedContent) -> Result<(), StoreError> {
        verify_digest(key, expected, self.size, &hex(&self.hasher.finalize()))?;
        self.file
            .sync_all()
            .await
            .map_err(|e| StoreError::io(self.path.display(), e))
    }
}

//! Downloads of large objects in parallel ranged GETs.
//!
//! One GET per object leaves a restore of a table with one big file on one stream. Here an
//! object larger than one part is read as ranges of `download_part_size` bytes, up to
//! `download_parts_in_flight` at a time across all the files of the store (a semaphore). Each
//! part arrives in a buffer aligned for direct I/O and is written at its offset as soon as it
//! is complete (parts of one file are written in parallel), then hashed in order on a thread
//! of its own: memory stays under `parts in flight × part size`, the SHA-256 of the whole file
//! is still computed in the same pass, and the file is still fsynced and renamed into place
//! only when it matches. A part whose connection breaks is fetched again alone.
//!
//! The parts are written with `O_DIRECT` where the file system allows it: through the page
//! cache, copying the bytes into new cache pages and writing them back cost this machine more
//! CPU than everything else a restore does (docs/performance.md). The tail of a part that is
//! not a whole number of blocks, and every write on a file system without direct I/O, goes
//! through the page cache; `fsync` at the end covers both.

use std::ops::Range;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
        let direct_io = self.tuning.download_direct_io;
        let file = Arc::new(PartFile::create(tmp, expected.size, direct_io).await?);
        let mut hasher = OrderedHasher::start();
        let mut parts = futures::stream::iter(ranges)
            .map(|range| self.fetch_and_write_part(key, range, expected.size, &file, cancel))
            .buffered(self.tuning.download_parts_in_flight.max(1));
        loop {
            let next = tokio::select! {
                next = parts.next() => next,
                _ = cancel.cancelled() => return Err(StoreError::Cancelled),
            };
            let Some(fetched) = next else { break };
            let part = fetched?;
            let bytes = part.bytes().len() as u64;
            hasher.push(part);
            attempt_progress.add(bytes);
            progress.add(bytes);
        }
        drop(parts);
        let (digest, size) = hasher.finish().await?;
        verify_digest(key, expected, size, &digest)?;
        file.sync().await
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

    /// One part written at its offset in `file` (parts of one file are written in parallel);
    /// returns it, to be hashed in order. It holds its download slot until it is dropped.
    async fn fetch_and_write_part(
        &self,
        key: &str,
        range: Range<u64>,
        total: u64,
        file: &Arc<PartFile>,
        cancel: &CancelSignal,
    ) -> Result<PartBuffer, StoreError> {
        let part = self.fetch_part(key, range.clone(), total, cancel).await?;
        let file = file.clone();
        tokio::task::spawn_blocking(move || file.write_part(range.start, &part).map(|()| part))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
    }

    /// One part, once a download slot is free; a broken connection is retried for this part
    /// alone. An object whose total size is not the expected one fails as a checksum mismatch.
    async fn fetch_part(
        &self,
        key: &str,
        range: Range<u64>,
        total: u64,
        cancel: &CancelSignal,
    ) -> Result<PartBuffer, StoreError> {
        let slot = tokio::select! {
            slot = self.download_slots.clone().acquire_owned() => {
                slot.map_err(|e| StoreError::Other(e.to_string()))?
            }
            _ = cancel.cancelled() => return Err(StoreError::Cancelled),
        };
        let mut part = PartBuffer::new((range.end - range.start) as usize, slot);
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            part.clear();
            let result = tokio::select! {
                r = self.read_part(key, range.clone(), total, &mut part) => r,
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
                other => return other.map(|()| part),
            }
        }
    }

    /// One ranged GET into `part`, checked to be the range asked for of an object of `total`
    /// bytes.
    async fn read_part(
        &self,
        key: &str,
        range: Range<u64>,
        total: u64,
        part: &mut PartBuffer,
    ) -> Result<(), StoreError> {
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
        let wrong_size = |actual: String| StoreError::Checksum {
            key: key.to_string(),
            expected: format!("{total} bytes"),
            actual,
        };
        if let Some(size) = object_size.filter(|n| *n != total) {
            return Err(wrong_size(format!("{size} bytes")));
        }
        let mut body = out.body;
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| StoreError::Unreachable(format!("reading {full}: {e}")))?;
            if !part.append(&chunk) {
                return Err(wrong_size(format!("more bytes at offset {}", range.start)));
            }
        }
        if !part.is_full() {
            let received = part.bytes().len();
            return Err(wrong_size(format!(
                "{received} bytes at offset {}",
                range.start
            )));
        }
        Ok(())
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

/// The alignment of direct I/O: of the buffer, the file offset and the length written.
const DIRECT_IO_ALIGN: usize = 4096;

/// One part's bytes, in a buffer that starts at a [`DIRECT_IO_ALIGN`] boundary, and the
/// download slot it holds until it is dropped (after it was written and hashed).
struct PartBuffer {
    /// Zeros up to the aligned start, then the part's bytes.
    buf: Vec<u8>,
    start: usize,
    len: usize,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl PartBuffer {
    fn new(len: usize, slot: tokio::sync::OwnedSemaphorePermit) -> Self {
        let mut buf: Vec<u8> = Vec::with_capacity(len + DIRECT_IO_ALIGN);
        let start = buf.as_ptr().align_offset(DIRECT_IO_ALIGN);
        buf.resize(start, 0);
        PartBuffer {
            buf,
            start,
            len,
            _slot: slot,
        }
    }

    fn clear(&mut self) {
        self.buf.truncate(self.start);
    }

    /// Appends `chunk`; false if the part would grow past its length.
    fn append(&mut self, chunk: &[u8]) -> bool {
        if self.bytes().len() + chunk.len() > self.len {
            return false;
        }
        // Within the capacity reserved in `new`: the buffer never moves.
        self.buf.extend_from_slice(chunk);
        true
    }

    fn is_full(&self) -> bool {
        self.bytes().len() == self.len
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// The temporary file of a download in parts, open twice: for direct writes (when the file
/// system allows them) and for writes through the page cache.
struct PartFile {
    direct: Option<std::fs::File>,
    cached: std::fs::File,
    path: PathBuf,
}

impl PartFile {
    /// Creates the file with `size` bytes allocated, so that parts written in parallel
    /// overwrite allocated blocks rather than extend the file one at a time (direct writes
    /// that extend a file take its lock alone); opened for direct writes if `direct_io`.
    async fn create(path: &Path, size: u64, direct_io: bool) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || {
            let cached = std::fs::File::create(&path)?;
            // Not every file system allocates ahead; the writes extend the file there.
            let _ = rustix::fs::fallocate(&cached, rustix::fs::FallocateFlags::empty(), 0, size);
            // EINVAL: no direct I/O on this file system (tmpfs); the page cache then.
            let direct = direct_io
                .then(|| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32)
                        .open(&path)
                        .ok()
                })
                .flatten();
            Ok::<_, std::io::Error>((direct, cached, path))
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?;
        let (direct, cached, path) = opened.map_err(|e| StoreError::io("a download", e))?;
        Ok(PartFile {
            direct,
            cached,
            path,
        })
    }

    /// Writes `part` at `offset`: its whole blocks directly, the rest through the cache.
    fn write_part(&self, offset: u64, part: &PartBuffer) -> Result<(), StoreError> {
        let bytes = part.bytes();
        let mut direct_len = 0;
        if let Some(direct) = &self.direct
            && offset.is_multiple_of(DIRECT_IO_ALIGN as u64)
        {
            direct_len = bytes.len() / DIRECT_IO_ALIGN * DIRECT_IO_ALIGN;
            if let Err(e) = direct.write_all_at(&bytes[..direct_len], offset) {
                if e.raw_os_error() != Some(rustix::io::Errno::INVAL.raw_os_error()) {
                    return Err(StoreError::io(self.path.display(), e));
                }
                // A device with larger blocks than the alignment: the cache instead.
                direct_len = 0;
            }
        }
        self.cached
            .write_all_at(&bytes[direct_len..], offset + direct_len as u64)
            .map_err(|e| StoreError::io(self.path.display(), e))
    }

    async fn sync(self: Arc<Self>) -> Result<(), StoreError> {
        let file = self.clone();
        tokio::task::spawn_blocking(move || file.cached.sync_all())
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
            .map_err(|e| StoreError::io(self.path.display(), e))
    }
}

/// SHA-256 of a file's parts in order, on a blocking thread of its own so that hashing one
/// part does not hold up the reception of the next. A part's buffer and download slot are
/// released once it is hashed, which bounds the memory the parts take.
struct OrderedHasher {
    parts: std::sync::mpsc::Sender<PartBuffer>,
    hashed: tokio::task::JoinHandle<(String, u64)>,
}

impl OrderedHasher {
    fn start() -> Self {
        let (parts, received) = std::sync::mpsc::channel::<PartBuffer>();
        let hashed = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            for part in received {
                hasher.update(part.bytes());
                size += part.bytes().len() as u64;
            }
            (hex(&hasher.finalize()), size)
        });
        OrderedHasher { parts, hashed }
    }

    fn push(&mut self, part: PartBuffer) {
        // The receiver lives until `finish`; a send fails only if its thread panicked, which
        // `finish` reports.
        let _ = self.parts.send(part);
    }

    /// The hex digest and the size of everything pushed.
    async fn finish(self) -> Result<(String, u64), StoreError> {
        drop(self.parts);
        self.hashed
            .await
            .map_err(|e| StoreError::Other(format!("hashing a download: {e}")))
    }
}

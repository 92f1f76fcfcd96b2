//! The file a download writes: every byte hashed (SHA-256) and counted on the way, written
//! with `O_DIRECT` where the filesystem allows it, checked against the manifest and fsynced.
//!
//! Why `O_DIRECT`: a restore writes each byte once and nothing reads it back soon. Through
//! the page cache, the kernel's copy into freshly allocated cache pages was the largest CPU
//! cost of a restore on the benchmark machine (a third of its samples; `dd` of 800 MB there:
//! 1.28 s of system time buffered, 0.14 s direct). Direct writes need aligned memory, offsets
//! and lengths, so bytes are gathered in an aligned buffer and written when it is full; the
//! last, partial block is padded with zeros and the file then truncated to its size. Where the
//! filesystem refuses `O_DIRECT` (tmpfs, some overlay and network filesystems, systems other
//! than Linux) the file is written through the page cache. Hashing and writing both run on a
//! blocking thread, off the runtime's workers.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::{ExpectedContent, TransferProgress, hex, verify_digest};

/// The alignment `O_DIRECT` needs (the logical block size of any common device, or more).
const BLOCK: usize = 4096;

/// Bytes gathered before one write.
const BUFFER_BYTES: usize = 4 << 20;

/// A download's temporary file (see the module comment).
pub(crate) struct DownloadFile<'a> {
    /// Taken while a blocking write runs.
    inner: Option<Inner>,
    path: &'a Path,
    size: u64,
    progress: [&'a TransferProgress; 2],
}

/// What a blocking write needs.
struct Inner {
    file: File,
    path: PathBuf,
    direct: bool,
    /// Bytes written to the file so far (a multiple of [`BLOCK`] while `direct`).
    written: u64,
    hasher: Sha256,
    buffer: AlignedBuffer,
}

impl<'a> DownloadFile<'a> {
    pub(crate) async fn create(
        path: &'a Path,
        progress: [&'a TransferProgress; 2],
    ) -> Result<Self, StoreError> {
        let owned = path.to_path_buf();
        let inner = tokio::task::spawn_blocking(move || Inner::create(owned))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
            .map_err(|e| StoreError::io(path.display(), e))?;
        Ok(DownloadFile {
            inner: Some(inner),
            path,
            size: 0,
            progress,
        })
    }

    /// Appends `bytes` (hashed and written once the buffer is full).
    pub(crate) async fn write(&mut self, mut bytes: &[u8]) -> Result<(), StoreError> {
        let len = bytes.len() as u64;
        while !bytes.is_empty() {
            let inner = self.inner()?;
            let taken = inner.buffer.extend(bytes);
            bytes = &bytes[taken..];
            if inner.buffer.is_full() {
                self.blocking(|inner| inner.write_buffer(false)).await?;
            }
        }
        self.size += len;
        for p in self.progress {
            p.add(len);
        }
        Ok(())
    }

    /// Writes what is left, checks size and SHA-256 against `expected`, and fsyncs.
    pub(crate) async fn finish(
        mut self,
        key: &str,
        expected: &ExpectedContent,
    ) -> Result<(), StoreError> {
        let size = self.size;
        let sha256 = self
            .blocking(move |inner| {
                inner.write_buffer(true)?;
                if inner.direct {
                    inner.file.set_len(size)?;
                }
                Ok(hex(&std::mem::take(&mut inner.hasher).finalize()))
            })
            .await?;
        verify_digest(key, expected, size, &sha256)?;
        self.blocking(|inner| inner.file.sync_all()).await
    }

    fn inner(&mut self) -> Result<&mut Inner, StoreError> {
        self.inner.as_mut().ok_or_else(|| {
            StoreError::Other(format!("{}: an earlier write failed", self.path.display()))
        })
    }

    /// Runs `work` on the file in a blocking thread.
    async fn blocking<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut Inner) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let mut inner = self.inner.take().ok_or_else(|| {
            StoreError::Other(format!("{}: an earlier write failed", self.path.display()))
        })?;
        let (inner, result) = tokio::task::spawn_blocking(move || {
            let result = work(&mut inner);
            (inner, result)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?;
        self.inner = Some(inner);
        result.map_err(|e| StoreError::io(self.path.display(), e))
    }
}

impl Inner {
    fn create(path: PathBuf) -> std::io::Result<Inner> {
        let buffer = AlignedBuffer::new();
        let direct = buffer.is_aligned();
        let (file, direct) = match open(&path, direct) {
            Ok(file) => (file, direct),
            // The filesystem refuses O_DIRECT: through the page cache.
            Err(e) if direct && e.raw_os_error() == Some(EINVAL) => (open(&path, false)?, false),
            Err(e) => return Err(e),
        };
        Ok(Inner {
            file,
            path,
            direct,
            written: 0,
            hasher: Sha256::new(),
            buffer,
        })
    }

    /// Hashes and writes the buffer: a whole number of blocks, or, at the `last` write, all
    /// of it (padded to a block when direct).
    fn write_buffer(&mut self, last: bool) -> std::io::Result<()> {
        let filled = self.buffer.filled();
        self.hasher.update(filled);
        let data_len = filled.len();
        let write_len = if self.direct && last {
            data_len.div_ceil(BLOCK) * BLOCK
        } else {
            data_len
        };
        if write_len > data_len {
            self.buffer.zero_after_filled(write_len);
        }
        match self.file.write_all(self.buffer.slice(write_len)) {
            Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => {
                // Opened direct, but the filesystem refuses the write: on through the cache.
                self.file = open_at(&self.path, self.written)?;
                self.direct = false;
                self.file.write_all(self.buffer.slice(data_len))?;
            }
            other => other?,
        }
        self.written += data_len as u64;
        self.buffer.clear();
        Ok(())
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

/// Creates (truncates) `path` for writing, direct if asked and possible.
fn open(path: &Path, direct: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(target_os = "linux")]
    if direct {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_DIRECT);
    }
    #[cfg(not(target_os = "linux"))]
    if direct {
        return Err(std::io::Error::from_raw_os_error(EINVAL));
    }
    options.open(path)
}

/// Opens `path` again, through the page cache, positioned at `offset`.
fn open_at(path: &Path, offset: u64) -> std::io::Result<File> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(offset)?;
    file.seek(SeekFrom::Start(offset))?;
    Ok(file)
}

/// A buffer whose start is aligned to [`BLOCK`] (found inside a larger allocation, so no
/// unsafe code is needed) and whose capacity is a multiple of it.
struct AlignedBuffer {
    storage: Vec<u8>,
    /// Where the aligned part starts in `storage` (0 if none was found).
    start: usize,
    aligned: bool,
    len: usize,
}

impl AlignedBuffer {
    fn new() -> Self {
        let storage = vec![0u8; BUFFER_BYTES + BLOCK];
        let offset = storage.as_ptr().align_offset(BLOCK);
        // An aligned start is always found for a byte buffer in practice.
        let aligned = offset < BLOCK;
        AlignedBuffer {
            storage,
            start: if aligned { offset } else { 0 },
            aligned,
            len: 0,
        }
    }

    fn is_aligned(&self) -> bool {
        self.aligned
    }

    /// Copies as much of `bytes` as fits; returns how much.
    fn extend(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(BUFFER_BYTES - self.len);
        let at = self.start + self.len;
        self.storage[at..at + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    fn is_full(&self) -> bool {
        self.len == BUFFER_BYTES
    }

    fn filled(&self) -> &[u8] {
        self.slice(self.len)
    }

    fn slice(&self, len: usize) -> &[u8] {
        &self.storage[self.start..self.start + len]
    }

    /// Zeroes the bytes after the filled ones, up to `len` (the padding of the last block).
    fn zero_after_filled(&mut self, len: usize) {
        let from = self.start + self.len;
        self.storage[from..self.start + len].fill(0);
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn write_in_pieces(path: &Path, data: &[u8], piece: usize) -> Result<(), StoreError> {
        let progress = TransferProgress::default();
        let mut file = DownloadFile::create(path, [&progress, &progress]).await?;
        for chunk in data.chunks(piece) {
            file.write(chunk).await?;
        }
        let expected = ExpectedContent {
            size: data.len() as u64,
            sha256: hex(&Sha256::digest(data)),
        };
        file.finish("k", &expected).await
    }

    #[tokio::test]
    async fn any_size_lands_whole_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        // Sizes around the block and the buffer, written in uneven pieces.
        for size in [
            0,
            1,
            4095,
            4096,
            4097,
            BUFFER_BYTES - 1,
            BUFFER_BYTES + 4097,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("f{size}"));
            write_in_pieces(&path, &data, 1_000_003).await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "size {size}");
        }
    }

    #[tokio::test]
    async fn a_wrong_digest_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let progress = TransferProgress::default();
        let mut file = DownloadFile::create(&path, [&progress, &progress])
            .await
            .unwrap();
        file.write(b"some bytes").await.unwrap();
        let expected = ExpectedContent {
            size: 10,
            sha256: "0".repeat(64),
        };
        let failed = file.finish("k", &expected).await.unwrap_err();
        assert!(matches!(failed, StoreError::Checksum { .. }), "{failed:?}");
    }
}

//! Remote object storage as the repository sees it: a flat key space under the repository's
//! location, with streaming, checksum-verified uploads of local files.
//!
//! Two implementations: `file://` locations (a local or mounted directory; the embedded default)
//! and S3 (AWS or any S3-compatible store).

mod local;
mod s3;
mod table_reads;
mod volume;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::Notify;

use crate::error::StoreError;

pub use local::LocalStore;
pub use s3::{OpenUpload, S3Credentials, S3Settings, S3Store, UploadJournal};
pub use table_reads::RepositoryFiles;
pub use volume::VolumeFiles;

/// One object in a listing; `key` is relative to the store's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
}

/// The expected identity of a local file being uploaded: its size and hex SHA-256.
#[derive(Debug, Clone)]
pub struct ExpectedContent {
    pub size: u64,
    pub sha256: String,
}

/// A cancel request shared by a job and its transfers.
#[derive(Debug, Default)]
pub struct CancelSignal {
    cancelled: AtomicBool,
    notify: Notify,
}

impl CancelSignal {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once `cancel` was called.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    pub fn check(&self) -> Result<(), StoreError> {
        if self.is_cancelled() {
            Err(StoreError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Bytes moved so far, shared between transfers and SHOW's Progress.
#[derive(Debug, Default)]
pub struct TransferProgress {
    pub bytes_done: AtomicU64,
    /// Where every byte moved is counted too (`snaprock_backup_transferred_bytes_total`),
    /// bytes of retried transfers included.
    moved: std::sync::OnceLock<prometheus::IntCounter>,
}

impl TransferProgress {
    pub fn add(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
        if let Some(moved) = self.moved.get() {
            moved.inc_by(n);
        }
    }

    /// Counts every byte added from now on into `moved` as well.
    pub fn count_into(&self, moved: prometheus::IntCounter) {
        let _ = self.moved.set(moved);
    }

    /// Takes back bytes of a transfer that is started again.
    pub fn sub(&self, n: u64) {
        self.bytes_done.fetch_sub(n, Ordering::Relaxed);
    }
}

/// How uploads are cut and how many parts are in flight.
#[derive(Debug, Clone, Copy)]
pub struct TransferTuning {
    /// Size of one multipart part (and the largest single PUT).
    pub part_size: usize,
    /// Parts of one file uploaded at the same time.
    pub parts_in_flight: usize,
    /// Size of one ranged GET of a download: larger objects are read in such parts.
    pub download_part_size: usize,
    /// Ranged GETs in flight at once across all downloads from one repository: with the part
    /// size, the bound on the memory downloads take.
    pub download_parts_in_flight: usize,
    /// Parts written with `O_DIRECT` where the file system allows it.
    pub download_direct_io: bool,
}

impl Default for TransferTuning {
    fn default() -> Self {
        TransferTuning {
            part_size: 8 * 1024 * 1024,
            parts_in_flight: 4,
            download_part_size: 8 * 1024 * 1024,
            download_parts_in_flight: 16,
            download_direct_io: true,
        }
    }
}

/// What every repository store of one server shares: how transfers are cut, where open
/// multipart uploads are noted, and the counter of S3 requests sent again.
#[derive(Debug, Clone)]
pub struct StoreContext {
    pub tuning: TransferTuning,
    /// `None` for a store used only to read.
    pub journal: Option<UploadJournal>,
    /// `snaprock_s3_request_retries_total`.
    pub retries: prometheus::IntCounter,
}

/// Object storage under one repository location.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Writes a small object in one request.
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError>;
    /// Reads a small object whole.
    async fn get(&self, key: &str) -> Result<Bytes, StoreError>;
    /// Reads bytes `range` of an object (one ranged GET); the range ends at most at the
    /// object's end.
    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, StoreError>;
    /// Whether an object exists.
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;
    /// Every object whose key starts with `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectEntry>, StoreError>;
    /// The names of the "directories" right under `prefix` (which ends with `/`), in order.
    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Uploads a local file in one streaming pass, computing its SHA-256 on the way; the object
    /// becomes visible only if the digest and size equal `expected` (else nothing is left).
    async fn upload_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError>;
    /// Downloads an object into a local file in one streaming pass, verifying its size and
    /// SHA-256; the file is left only if both match.
    async fn download_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError>;
    /// Where and how this store reaches S3; `None` for a file store.
    fn s3_settings(&self) -> Option<&S3Settings> {
        None
    }
    /// Copies `source_key` of `source` (another location) to `key` here without the bytes
    /// passing through this server, checking the copy has `size` bytes; `Ok(false)` when this
    /// store cannot (another service or other credentials, a file store).
    async fn copy_within_service(
        &self,
        _source: &S3Settings,
        _source_key: &str,
        _key: &str,
        _size: u64,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// Aborts the multipart uploads of `open` (noted by a server that then crashed) that are
    /// this store's; returns how many. Only S3 has multipart uploads.
    async fn abort_open_uploads(&self, _open: &[OpenUpload]) -> usize {
        0
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Checks a finished digest against what the manifest or catalog says.
pub(crate) fn verify_digest(
    key: &str,
    expected: &ExpectedContent,
    size: u64,
    sha256: &str,
) -> Result<(), StoreError> {
    if size != expected.size {
        return Err(StoreError::Checksum {
            key: key.to_string(),
            expected: format!("{} bytes", expected.size),
            actual: format!("{size} bytes"),
        });
    }
    if sha256 != expected.sha256 {
        return Err(StoreError::Checksum {
            key: key.to_string(),
            expected: format!("sha256 {}", expected.sha256),
            actual: format!("sha256 {sha256}"),
        });
    }
    Ok(())
}

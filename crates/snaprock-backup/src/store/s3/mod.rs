//! S3 repositories (`s3a://bucket/prefix`): AWS or any S3-compatible store.
//!
//! Files are uploaded in one streaming pass: parts are read, hashed and sent with a bounded
//! number in flight, and the multipart upload is completed only when the whole file's SHA-256
//! matches what the catalog recorded; on any failure or cancel it is aborted, so no partial
//! object is ever visible. The SDK retries 5xx, throttling and timeouts with backoff.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RequestChecksumCalculation,
    ResponseChecksumValidation, RuntimeComponents, SharedCredentialsProvider,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use tracing::warn;

use super::{
    CancelSignal, ExpectedContent, ObjectEntry, ObjectStore, StoreContext, TransferProgress,
    TransferTuning, hex, verify_digest,
};
use crate::error::StoreError;

mod client;
mod copy;
mod download;
mod journal;

use client::classify;
pub use client::{S3Credentials, S3Settings};
pub use journal::{OpenUpload, UploadJournal};

/// Tries of one download when the connection breaks while the body streams.
const DOWNLOAD_ATTEMPTS: u32 = 4;

/// An S3 bucket and prefix.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    /// Where and how it was reached (to tell whether another location is on the same service).
    settings: S3Settings,
    bucket: String,
    prefix: String,
    tuning: TransferTuning,
    /// Ranged GETs in flight across all downloads of this store (`download_parts_in_flight`).
    download_slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Where open multipart uploads are noted (none for a store used only to read).
    journal: Option<UploadJournal>,
    /// `snaprock_s3_request_retries_total`.
    retries: prometheus::IntCounter,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Store(s3a://{}/{})", self.bucket, self.prefix)
    }
}

impl S3Store {
    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn relative_key<'a>(&self, full: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            full
        } else {
            full.strip_prefix(&self.prefix)
                .map(|k| k.trim_start_matches('/'))
                .unwrap_or(full)
        }
    }

    /// One GET of an object, whole or the HTTP `range` given, read into memory.
    async fn read_object(&self, key: &str, range: Option<String>) -> Result<Bytes, StoreError> {
        let full = self.full_key(key);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .set_range(range)
            .send()
            .await
            .map_err(|e| self.error(&full, e))?;
        let data = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unreachable(format!("reading {full}: {e}")))?;
        Ok(data.into_bytes())
    }

    fn error<E>(&self, what: &str, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        classify(&self.bucket, what, err)
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        file: &Arc<std::fs::File>,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<Vec<CompletedPart>, StoreError> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut in_flight: JoinSet<Result<(CompletedPart, u64), StoreError>> = JoinSet::new();
        let mut parts = Vec::new();
        let mut part_number = 0i32;
        loop {
            // Bounded memory: read the next part only when a slot is free.
            while in_flight.len() >= self.tuning.parts_in_flight.max(1) {
                let joined = tokio::select! {
                    joined = in_flight.join_next() => joined,
                    _ = cancel.cancelled() => return Err(StoreError::Cancelled),
                };
                if let Some(joined) = joined {
                    let (part, bytes) = joined.map_err(|e| StoreError::Other(e.to_string()))??;
                    progress.add(bytes);
                    parts.push(part);
                }
            }
            cancel.check()?;
            let chunk = read_chunk(file, self.tuning.part_size, key).await?;
            if chunk.is_empty() {
                break;
            }
            hasher.update(&chunk);
            size += chunk.len() as u64;
            part_number += 1;
            let request = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(part_number)
                .body(ByteStream::from(chunk.clone()));
            let bucket = self.bucket.clone();
            let what = format!("upload part {part_number} of {key}");
            in_flight.spawn(async move {
                let out = request
                    .send()
                    .await
                    .map_err(|e| classify(&bucket, &what, e))?;
                let part = CompletedPart::builder()
                    .part_number(part_number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build();
                Ok((part, chunk.len() as u64))
            });
        }
        verify_digest(key, expected, size, &hex(&hasher.finalize()))?;
        while let Some(joined) = tokio::select! {
            joined = in_flight.join_next() => joined,
            _ = cancel.cancelled() => return Err(StoreError::Cancelled),
        } {
            let (part, bytes) = joined.map_err(|e| StoreError::Other(e.to_string()))??;
            progress.add(bytes);
            parts.push(part);
        }
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }

    async fn abort(&self, key: &str, upload_id: &str) {
        if let Err(e) = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            warn!(key, error = %DisplayErrorContext(&e), "could not abort a multipart upload");
        }
    }
}

/// Reads the next `size` bytes of `file` (fewer only at its end) on a blocking thread, straight
/// into a buffer of their own (no copy through an intermediate buffer).
async fn read_chunk(
    file: &Arc<std::fs::File>,
    size: usize,
    key: &str,
) -> Result<Bytes, StoreError> {
    let file = file.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::with_capacity(size);
        (&*file)
            .take(size as u64)
            .read_to_end(&mut buf)
            .map(|_| buf)
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?;
    read.map(Bytes::from).map_err(|e| StoreError::io(key, e))
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let full = self.full_key(key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.error(&format!("put {full}"), e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        self.read_object(key, None).await
    }

    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, StoreError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let header = format!("bytes={}-{}", range.start, range.end - 1);
        self.read_object(key, Some(header)).await
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let full = self.full_key(key);
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match self.error(&full, e) {
                StoreError::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectEntry>, StoreError> {
        let full_prefix = self.full_key(prefix);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.error(&format!("list {full_prefix}"), e))?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    out.push(ObjectEntry {
                        key: self.relative_key(key).to_string(),
                        size: object.size().unwrap_or(0).max(0) as u64,
                    });
                }
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated().unwrap_or(false) => token = Some(next.into()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let full_prefix = self.full_key(prefix);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .delimiter("/")
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.error(&format!("list {full_prefix}"), e))?;
            for common in page.common_prefixes() {
                if let Some(p) = common.prefix()
                    && let Some(name) = p.strip_prefix(&full_prefix)
                {
                    out.push(name.trim_end_matches('/').to_string());
                }
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated().unwrap_or(false) => token = Some(next.into()),
                _ => break,
            }
        }
        Ok(out)
    }

    fn s3_settings(&self) -> Option<&S3Settings> {
        Some(&self.settings)
    }

    async fn copy_within_service(
        &self,
        source: &S3Settings,
        source_key: &str,
        key: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        S3Store::copy_within_service(self, source, source_key, key, size).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let full = self.full_key(key);
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.error(&format!("delete {full}"), e))?;
        Ok(())
    }

    async fn upload_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let full = self.full_key(key);
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| StoreError::io(path.display(), e))?;
        let file = Arc::new(file.into_std().await);
        if expected.size <= self.tuning.part_size as u64 {
            // Small file: one PUT, sent only after its digest was checked.
            let body = read_chunk(&file, self.tuning.part_size + 1, &full).await?;
            verify_digest(
                key,
                expected,
                body.len() as u64,
                &hex(&Sha256::digest(&body)),
            )?;
            cancel.check()?;
            let len = body.len() as u64;
            self.put(key, body).await?;
            progress.add(len);
            return Ok(());
        }
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.error(&format!("start upload of {full}"), e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| StoreError::Other(format!("no upload id for {full}")))?
            .to_string();
        let noted = self
            .journal
            .as_ref()
            .and_then(|j| j.record(&self.bucket, &full, &upload_id));
        let result = self
            .upload_and_complete(&full, &upload_id, &file, expected, progress, cancel)
            .await;
        journal::forget(noted.as_deref());
        result
    }
    async fn abort_open_uploads(&self, open: &[OpenUpload]) -> usize {
        self.abort_noted_uploads(open).await
    }

    async fn download_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::io(parent.display(), e))?;
        }
        // The SDK retries the request itself; a connection lost while the body streams is
        // retried here, from the start of the object.
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            let attempt_progress = TransferProgress::default();
            let result = self
                .download_once(key, path, expected, &attempt_progress, progress, cancel)
                .await;
            match result {
                Err(StoreError::Unreachable(reason)) if attempt < DOWNLOAD_ATTEMPTS => {
                    progress.sub(attempt_progress.bytes_done.load(Ordering::Relaxed));
                    warn!(key, attempt, %reason, "download interrupted; retrying");
                    self.retries.inc();
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.cancelled() => return Err(StoreError::Cancelled),
                    }
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

impl S3Store {
    /// Sends the parts of a started multipart upload and completes it; aborts it on failure.
    async fn upload_and_complete(
        &self,
        full: &str,
        upload_id: &str,
        file: &Arc<std::fs::File>,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let parts = match self
            .upload_parts(full, upload_id, file, expected, progress, cancel)
            .await
        {
            Ok(parts) => parts,
            Err(e) => {
                self.abort(full, upload_id).await;
                return Err(e);
            }
        };
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        if let Err(e) = completed {
            self.abort(full, upload_id).await;
            return Err(self.error(&format!("complete upload of {full}"), e));
        }
        Ok(())
    }

    /// Aborts the uploads of `open` that are this store's (its bucket, under its prefix);
    /// returns how many. An upload the store no longer knows counts as aborted.
    async fn abort_noted_uploads(&self, open: &[OpenUpload]) -> usize {
        let mut aborted = 0;
        for upload in open {
            let ours = upload.bucket == self.bucket
                && (self.prefix.is_empty() || upload.key.starts_with(&format!("{}/", self.prefix)));
            if !ours {
                continue;
            }
            let result = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if e.code() == Some("NoSuchUpload") => {}
                Err(e) => {
                    warn!(key = %upload.key, error = %DisplayErrorContext(&e), "could not abort an upload a crash left open");
                    continue;
                }
            }
            journal::forget(Some(&upload.entry));
            aborted += 1;
        }
        aborted
    }

    /// One GET of `key` streamed into `path` (via a temporary file), verified on the way.
    /// One try of a download: ranged parts in parallel for an object larger than one part,
    /// one streaming GET otherwise; the file appears at `path` only if it matches.
    async fn download_once(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        attempt_progress: &TransferProgress,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let tmp = path.with_extension(format!("download-{:016x}", rand::random::<u64>()));
        let written = if expected.size > self.tuning.download_part_size as u64 {
            self.download_parts(key, &tmp, expected, attempt_progress, progress, cancel)
                .await
        } else {
            self.download_whole(key, &tmp, expected, attempt_progress, progress, cancel)
                .await
        };
        let result = match written {
            Ok(()) => tokio::fs::rename(&tmp, path)
                .await
                .map_err(|e| StoreError::io(path.display(), e)),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

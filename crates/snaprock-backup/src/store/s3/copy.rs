//! Server-side copies: an object of another location on the same S3 service (the same
//! endpoint, region and credentials) copied into this store with CopyObject, so the bytes never
//! pass through this server. BACKUP of a table on a storage volume uses it when the repository
//! is on the volume's service.

use super::{S3Settings, S3Store, StoreError};

/// CopyObject copies objects up to 5 GiB in one request; larger ones are streamed instead.
const MAX_COPY_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

impl S3Store {
    /// Whether objects at `source` can be copied into this store by the S3 service itself.
    fn same_service(&self, source: &S3Settings) -> bool {
        self.settings.endpoint == source.endpoint
            && self.settings.region == source.region
            && self.settings.credentials == source.credentials
            && self.settings.path_style == source.path_style
    }

    /// Copies `source_key` (relative to `source`'s prefix) to `key` of this store; the copy is
    /// checked to have `size` bytes (the source was verified against its SHA-256 when it was
    /// written). `Ok(false)`: not possible here, stream instead.
    pub(super) async fn copy_within_service(
        &self,
        source: &S3Settings,
        source_key: &str,
        key: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        if !self.same_service(source) || size > MAX_COPY_OBJECT_BYTES {
            return Ok(false);
        }
        let source_full = if source.prefix.is_empty() {
            source_key.to_string()
        } else {
            format!("{}/{source_key}", source.prefix)
        };
        let target = self.full_key(key);
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(&target)
            .copy_source(format!("{}/{source_full}", source.bucket))
            .send()
            .await
            .map_err(|e| self.error(&format!("copy {source_full} to {target}"), e))?;
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&target)
            .send()
            .await
            .map_err(|e| self.error(&format!("head {target}"), e))?;
        let copied = head.content_length().unwrap_or(-1);
        if copied != size as i64 {
            let _ = self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(&target)
                .send()
                .await;
            return Err(StoreError::Other(format!(
                "the copy of {source_full} has {copied} bytes, expected {size}"
            )));
        }
        Ok(true)
    }
}

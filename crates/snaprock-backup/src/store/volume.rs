//! A storage volume's store as the catalog uses it: this crate's S3 client (retries, verified
//! streaming uploads, aborted multipart uploads cleaned up) behind `snaprock_storage`'s
//! [`VolumeStore`], so volumes and repositories reach object storage the same way.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use snaprock_storage::{DataFile, VOLUME_DATA_DIR, VolumeStore};

use super::{CancelSignal, ExpectedContent, ObjectStore, RepositoryFiles, TransferProgress};
use crate::error::StoreError;

/// One volume's store.
#[derive(Debug)]
pub struct VolumeFiles {
    store: Arc<dyn ObjectStore>,
    reader: Arc<RepositoryFiles>,
}

impl VolumeFiles {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        VolumeFiles {
            reader: Arc::new(RepositoryFiles::rooted(store.clone(), VOLUME_DATA_DIR)),
            store,
        }
    }
}

#[async_trait]
impl VolumeStore for VolumeFiles {
    async fn upload(&self, key: &str, local: &Path, file: &DataFile) -> Result<(), String> {
        let expected = ExpectedContent {
            size: file.bytes,
            sha256: file.sha256.clone(),
        };
        let progress = TransferProgress::default();
        self.store
            .upload_file(key, local, &expected, &progress, &CancelSignal::new())
            .await
            .map_err(|e| e.to_string())
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        match self.store.delete(key).await {
            Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn reader(&self) -> Arc<dyn object_store::ObjectStore> {
        self.reader.clone()
    }

    async fn put_object(&self, key: &str, body: bytes::Bytes) -> Result<(), String> {
        self.store.put(key, body).await.map_err(|e| e.to_string())
    }

    async fn get_object(&self, key: &str) -> Result<Option<bytes::Bytes>, String> {
        match self.store.get(key).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

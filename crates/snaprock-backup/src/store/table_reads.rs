//! A repository's files as an `object_store::ObjectStore`, read-only, for table scans: a
//! snapshot attached as a database is read in place with ranged GETs (Parquet footers first,
//! then only the column chunks a query needs), through the storage crate's file router.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::ObjectStore;
use crate::error::StoreError;
use crate::format;

/// Reads the data files of one repository (keys relative to its root, `__data/…`).
#[derive(Debug)]
pub struct RepositoryFiles {
    store: Arc<dyn ObjectStore>,
    root: String,
}

impl RepositoryFiles {
    pub fn new(store: Arc<dyn ObjectStore>, repository: &str) -> Self {
        Self::rooted(store, &format::repo_root(repository))
    }

    /// Files under `root` (a key prefix ending with `/`) of `store`.
    pub fn rooted(store: Arc<dyn ObjectStore>, root: &str) -> Self {
        RepositoryFiles {
            store,
            root: root.to_string(),
        }
    }

    fn key(&self, location: &Path) -> String {
        format!("{}{}", self.root, location.as_ref())
    }

    /// The size of an object, from a listing of its exact key.
    async fn size(&self, location: &Path) -> object_store::Result<u64> {
        let key = self.key(location);
        let entries = self.store.list(&key).await.map_err(|e| to_error(&key, e))?;
        entries
            .into_iter()
            .find(|e| e.key == key)
            .map(|e| e.size)
            .ok_or_else(|| to_error(&key, StoreError::NotFound(key.clone())))
    }
}

impl std::fmt::Display for RepositoryFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RepositoryFiles({})", self.root)
    }
}

fn to_error(key: &str, e: StoreError) -> object_store::Error {
    match e {
        StoreError::NotFound(_) => object_store::Error::NotFound {
            path: key.to_string(),
            source: Box::new(e),
        },
        other => object_store::Error::Generic {
            store: "repository",
            source: Box::new(other),
        },
    }
}

fn read_only() -> object_store::Error {
    object_store::Error::NotSupported {
        source: "a repository's files are read-only to table scans".into(),
    }
}

#[async_trait]
impl object_store::ObjectStore for RepositoryFiles {
    async fn put_opts(
        &self,
        _: &Path,
        _: PutPayload,
        _: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only())
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only())
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let range = match options.range {
            Some(GetRange::Bounded(r)) => r,
            Some(GetRange::Offset(start)) => start..self.size(location).await?,
            Some(GetRange::Suffix(n)) => {
                let size = self.size(location).await?;
                size.saturating_sub(n)..size
            }
            None => 0..self.size(location).await?,
        };
        let meta = ObjectMeta {
            location: location.clone(),
            last_modified: chrono::DateTime::UNIX_EPOCH,
            size: range.end,
            e_tag: None,
            version: None,
        };
        let bytes = if options.head {
            Bytes::new()
        } else {
            self.get_range_bytes(location, range.clone()).await?
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(futures::stream::once(async { Ok(bytes) }).boxed()),
            meta,
            range,
            attributes: Default::default(),
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        locations.map(|_| Err(read_only())).boxed()
    }

    fn list(&self, _: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        futures::stream::once(async { Err(read_only()) }).boxed()
    }

    async fn list_with_delimiter(&self, _: Option<&Path>) -> object_store::Result<ListResult> {
        Err(read_only())
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
        Err(read_only())
    }
}

impl RepositoryFiles {
    async fn get_range_bytes(
        &self,
        location: &Path,
        range: Range<u64>,
    ) -> object_store::Result<Bytes> {
        let key = self.key(location);
        self.store
            .get_range(&key, range)
            .await
            .map_err(|e| to_error(&key, e))
    }
}

//! Where data files live: the one seam between the catalog and the bytes of a table.
//!
//! A [`DataFile`] has a [`FileHome`]: the server's data directory, or a repository (a snapshot
//! attached as a database reads its files there; an instant restore reads some there until they
//! are local). Every reader of table data (DataFusion's scans) goes through one object store,
//! [`FileRouter`], registered under [`FILES_URL`]; a file's path in it is
//! `local/<path>`, `repositories/<name>/<key>` or `volumes/<name>/<path>`, and the router hands
//! each request to the store mounted for that home. Backup, restore and the snapshot databases
//! mount and unmount repositories here, the storage volumes mount their stores (a volume file
//! is read from its local copy when the data directory has one).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::{Path, PathPart};
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use serde::{Deserialize, Serialize};

use crate::meta::DataFile;
use crate::{Result, StorageError};

/// The URL DataFusion's scans read table data under.
pub const FILES_URL: &str = "snaprock://files";

const LOCAL: &str = "local";
const REPOSITORIES: &str = "repositories";
const VOLUMES: &str = "volumes";

/// Where a data file's bytes are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileHome {
    /// The server's data directory; `DataFile::path` is relative to its `data/` folder.
    #[default]
    Local,
    /// A repository; `DataFile::path` is the key relative to the repository's root
    /// (`__data/ab/ab….parquet`).
    Repository(String),
    /// A storage volume; `DataFile::path` is the path of the file's local copy under the data
    /// directory's `data/` folder, and its key under the volume's `snaprock/data/`.
    Volume(String),
}

impl FileHome {
    pub fn is_local(&self) -> bool {
        *self == FileHome::Local
    }
}

/// The object store every table read goes through: routes a path to the store of its home.
#[derive(Debug)]
pub struct FileRouter {
    local: Arc<LocalFileSystem>,
    repositories: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
    volumes: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
    /// Local copies of volume files: marked used on a hit, fetched after a miss.
    cache: Arc<crate::datacache::DataCache>,
}

impl std::fmt::Display for FileRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileRouter({FILES_URL})")
    }
}

impl FileRouter {
    pub(crate) fn new(data_root: &std::path::Path) -> Result<Self> {
        let local = LocalFileSystem::new_with_prefix(data_root).map_err(|e| StorageError::Io {
            path: data_root.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(FileRouter {
            local: Arc::new(local),
            repositories: RwLock::new(HashMap::new()),
            volumes: RwLock::new(HashMap::new()),
            cache: Arc::default(),
        })
    }

    /// Makes the files of repository `name` readable (its store is rooted at the repository's
    /// root directory).
    pub fn mount_repository(&self, name: &str, store: Arc<dyn ObjectStore>) {
        let mut mounts = self.repositories.write().unwrap_or_else(|p| p.into_inner());
        mounts.insert(name.to_string(), store);
    }

    pub fn unmount_repository(&self, name: &str) {
        let mut mounts = self.repositories.write().unwrap_or_else(|p| p.into_inner());
        mounts.remove(name);
    }

    /// The data cache of volume files' local copies.
    pub fn datacache(&self) -> &Arc<crate::datacache::DataCache> {
        &self.cache
    }

    /// Makes the data files of storage volume `name` readable (its store is rooted at the
    /// volume's `snaprock/data/`).
    pub fn mount_volume(&self, name: &str, store: Arc<dyn ObjectStore>) {
        let mut mounts = self.volumes.write().unwrap_or_else(|p| p.into_inner());
        mounts.insert(name.to_string(), store);
    }

    pub fn unmount_volume(&self, name: &str) {
        let mut mounts = self.volumes.write().unwrap_or_else(|p| p.into_inner());
        mounts.remove(name);
    }

    /// The path of `file` in this store.
    pub fn path_of(file: &DataFile) -> Path {
        let (home, key): (Vec<&str>, &str) = match &file.home {
            FileHome::Local => (vec![LOCAL], &file.path),
            FileHome::Repository(name) => (vec![REPOSITORIES, name], &file.path),
            FileHome::Volume(name) => (vec![VOLUMES, name], &file.path),
        };
        home.into_iter()
            .map(PathPart::from)
            .chain(key.split('/').map(PathPart::from))
            .collect()
    }

    /// The store and inner path a router path names, and whether the inner path may have a
    /// local copy to read first (a volume file).
    fn route(&self, location: &Path) -> object_store::Result<(Arc<dyn ObjectStore>, Path, bool)> {
        let mut parts = location.parts();
        let (mounts, what) = match parts.next().as_ref().map(|p| p.as_ref()) {
            Some(LOCAL) => return Ok((self.local.clone(), parts.collect(), false)),
            Some(REPOSITORIES) => (&self.repositories, "repository"),
            Some(VOLUMES) => (&self.volumes, "storage volume"),
            _ => return Err(not_found(location)),
        };
        let name = parts.next().ok_or_else(|| not_found(location))?;
        let mounts = mounts.read().unwrap_or_else(|p| p.into_inner());
        let Some(store) = mounts.get(name.as_ref()) else {
            return Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: format!("{what} {} is not available", name.as_ref()).into(),
            });
        };
        Ok((store.clone(), parts.collect(), what == "storage volume"))
    }
}

fn not_found(location: &Path) -> object_store::Error {
    object_store::Error::NotFound {
        path: location.to_string(),
        source: "no such file home".into(),
    }
}

fn read_only() -> object_store::Error {
    object_store::Error::NotSupported {
        source: "table files are written by the catalog, not through the router".into(),
    }
}

#[async_trait]
impl ObjectStore for FileRouter {
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
        let (store, inner, cached) = self.route(location)?;
        if cached {
            match self.local.get_opts(&inner, options.clone()).await {
                Err(object_store::Error::NotFound { .. }) => self.cache.note_miss(inner.as_ref()),
                Ok(mut result) => {
                    self.cache.touch(inner.as_ref());
                    result.meta.location = location.clone();
                    return Ok(result);
                }
                Err(e) => return Err(e),
            }
        }
        let mut result = store.get_opts(&inner, options).await?;
        result.meta.location = location.clone();
        Ok(result)
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let (store, inner, cached) = self.route(location)?;
        if cached {
            match self.local.get_ranges(&inner, ranges).await {
                Err(object_store::Error::NotFound { .. }) => self.cache.note_miss(inner.as_ref()),
                other => {
                    self.cache.touch(inner.as_ref());
                    return other;
                }
            }
        }
        store.get_ranges(&inner, ranges).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    #[test]
    fn paths_name_the_home() {
        let mut file = DataFile {
            path: "t1/p2/x.parquet".into(),
            rows: 1,
            bytes: 1,
            sha256: String::new(),
            home: FileHome::Local,
            deleted: None,
        };
        assert_eq!(FileRouter::path_of(&file).as_ref(), "local/t1/p2/x.parquet");
        file.home = FileHome::Repository("repo".into());
        file.path = "__data/ab/abc.parquet".into();
        assert_eq!(
            FileRouter::path_of(&file).as_ref(),
            "repositories/repo/__data/ab/abc.parquet"
        );
    }

    #[tokio::test]
    async fn reads_route_to_the_home() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data/t1")).unwrap();
        std::fs::write(dir.path().join("data/t1/a.parquet"), b"local bytes").unwrap();
        std::fs::create_dir_all(dir.path().join("repo/__data")).unwrap();
        std::fs::write(dir.path().join("repo/__data/b.parquet"), b"remote bytes").unwrap();
        let router = FileRouter::new(&dir.path().join("data")).unwrap();
        let repo = LocalFileSystem::new_with_prefix(dir.path().join("repo")).unwrap();
        router.mount_repository("r", Arc::new(repo));
        let local = router
            .get_range(&Path::from("local/t1/a.parquet"), 0..5)
            .await;
        assert_eq!(local.unwrap(), Bytes::from_static(b"local"));
        let remote = router
            .get_range(&Path::from("repositories/r/__data/b.parquet"), 7..12)
            .await;
        assert_eq!(remote.unwrap(), Bytes::from_static(b"bytes"));
        router.unmount_repository("r");
        let gone = router
            .get_range(&Path::from("repositories/r/__data/b.parquet"), 0..1)
            .await;
        assert!(matches!(gone, Err(object_store::Error::NotFound { .. })));
    }
}

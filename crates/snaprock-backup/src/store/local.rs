//! `file://` repositories: objects are files under a directory; a new object is written to a
//! temporary name, fsynced and renamed, so readers never see a partial file.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{
    CancelSignal, ExpectedContent, ObjectEntry, ObjectStore, TransferProgress, hex, verify_digest,
};
use crate::error::StoreError;

const COPY_BUFFER: usize = 1024 * 1024;

/// A repository location on the local file system.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        LocalStore { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn temp_path(path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        path.with_file_name(format!(".{name}.tmp-{:016x}", rand::random::<u64>()))
    }

    /// Writes `body` to `key` atomically (temp file, fsync, rename, fsync of the directory).
    async fn write_atomic(&self, key: &str, body: &[u8]) -> Result<(), StoreError> {
        let path = self.path(key);
        create_parent(&path).await?;
        let tmp = Self::temp_path(&path);
        let result = async {
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| StoreError::io(tmp.display(), e))?;
            f.write_all(body)
                .await
                .map_err(|e| StoreError::io(tmp.display(), e))?;
            f.sync_all()
                .await
                .map_err(|e| StoreError::io(tmp.display(), e))?;
            publish(&tmp, &path).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

async fn create_parent(path: &Path) -> Result<(), StoreError> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| StoreError::io(parent.display(), e))?;
    }
    Ok(())
}

/// Renames a finished temporary file into place and makes the rename durable.
async fn publish(tmp: &Path, path: &Path) -> Result<(), StoreError> {
    tokio::fs::rename(tmp, path)
        .await
        .map_err(|e| StoreError::io(path.display(), e))?;
    if let Some(parent) = path.parent()
        && let Ok(dir) = tokio::fs::File::open(parent).await
    {
        let _ = dir.sync_all().await;
    }
    Ok(())
}

/// Whether a directory holds anything but hidden (temporary) entries.
async fn has_entries(dir: &Path) -> bool {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return false;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if !entry.file_name().to_string_lossy().starts_with('.') {
            return true;
        }
    }
    false
}

fn not_found_or(key: &str, path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StoreError::NotFound(key.to_string())
    } else {
        StoreError::io(path.display(), e)
    }
}

/// Copies `from` to `to` in one pass, hashing the bytes; checks them against `expected`.
async fn copy_verified(
    key: &str,
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut tokio::fs::File,
    expected: &ExpectedContent,
    progress: &TransferProgress,
    cancel: &CancelSignal,
) -> Result<(), StoreError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut size = 0u64;
    loop {
        cancel.check()?;
        let n = from
            .read(&mut buf)
            .await
            .map_err(|e| StoreError::io(key, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])
            .await
            .map_err(|e| StoreError::io(key, e))?;
        size += n as u64;
        progress.add(n as u64);
    }
    verify_digest(key, expected, size, &hex(&hasher.finalize()))?;
    to.sync_all().await.map_err(|e| StoreError::io(key, e))
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        self.write_atomic(key, &body).await
    }

    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.path(key);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(e) => Err(not_found_or(key, &path, e)),
        }
    }

    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, StoreError> {
        let path = self.path(key);
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| not_found_or(key, &path, e))?;
        file.seek(std::io::SeekFrom::Start(range.start))
            .await
            .map_err(|e| StoreError::io(path.display(), e))?;
        let mut buf = Vec::with_capacity(range.end.saturating_sub(range.start) as usize);
        file.take(range.end.saturating_sub(range.start))
            .read_to_end(&mut buf)
            .await
            .map_err(|e| StoreError::io(path.display(), e))?;
        Ok(Bytes::from(buf))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.path(key);
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io(path.display(), e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectEntry>, StoreError> {
        // Walk from the deepest directory the prefix names, then filter by the full prefix.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..=i],
            None => "",
        };
        let mut out = Vec::new();
        let mut stack = vec![dir_part.to_string()];
        while let Some(rel) = stack.pop() {
            let dir = self.path(&rel);
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io(dir.display(), e)),
            };
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| StoreError::io(dir.display(), e))?
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue; // temporary files of writes in progress
                }
                let key = format!("{rel}{name}");
                let meta = entry
                    .metadata()
                    .await
                    .map_err(|e| StoreError::io(dir.display(), e))?;
                if meta.is_dir() {
                    let sub = format!("{key}/");
                    if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                        stack.push(sub);
                    }
                } else if key.starts_with(prefix) {
                    out.push(ObjectEntry {
                        key,
                        size: meta.len(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = self.path(prefix);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(dir.display(), e)),
        };
        let mut out = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| StoreError::io(dir.display(), e))?
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().await.map(|t| t.is_dir()).unwrap_or(false);
            // An emptied directory (a dropped snapshot's) is no prefix, as in S3.
            if is_dir && !name.starts_with('.') && has_entries(&entry.path()).await {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(path.display(), e)),
        }
    }

    async fn upload_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let mut source = tokio::fs::File::open(path)
            .await
            .map_err(|e| StoreError::io(path.display(), e))?;
        let target = self.path(key);
        create_parent(&target).await?;
        let tmp = Self::temp_path(&target);
        let result = async {
            let mut out = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| StoreError::io(tmp.display(), e))?;
            copy_verified(key, &mut source, &mut out, expected, progress, cancel).await?;
            publish(&tmp, &target).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn download_file(
        &self,
        key: &str,
        path: &Path,
        expected: &ExpectedContent,
        progress: &TransferProgress,
        cancel: &CancelSignal,
    ) -> Result<(), StoreError> {
        let source_path = self.path(key);
        let mut source = tokio::fs::File::open(&source_path)
            .await
            .map_err(|e| not_found_or(key, &source_path, e))?;
        create_parent(path).await?;
        let tmp = Self::temp_path(path);
        let result = async {
            let mut out = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| StoreError::io(tmp.display(), e))?;
            copy_verified(key, &mut source, &mut out, expected, progress, cancel).await?;
            publish(&tmp, path).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

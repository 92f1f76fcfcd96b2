//! Multipart uploads in flight, one small file each under `<data dir>/uploads/`, written when
//! an upload starts and removed when it is completed or aborted. An upload a crash left open is
//! still listed at the next start, and is aborted then, so the store does not keep its parts.
//! (S3's ListMultipartUploads would find it too, but not every S3-compatible store has it, and
//! it cannot tell this server's uploads from another's sharing the bucket.)

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::warn;

/// Where a server notes its open multipart uploads.
#[derive(Debug, Clone)]
pub struct UploadJournal {
    dir: PathBuf,
}

/// One open multipart upload: enough to abort it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenUpload {
    pub bucket: String,
    /// The object's full key in the bucket.
    pub key: String,
    pub upload_id: String,
    /// The journal file that lists it.
    #[serde(skip)]
    pub entry: PathBuf,
}

impl UploadJournal {
    pub fn new(dir: PathBuf) -> Self {
        UploadJournal { dir }
    }

    /// Notes an upload that just started; returns its entry (None if it could not be written:
    /// the upload goes on, a crash would then leave it to the store's own lifecycle rules).
    pub(super) fn record(&self, bucket: &str, key: &str, upload_id: &str) -> Option<PathBuf> {
        let entry = self
            .dir
            .join(format!("{:016x}.json", rand::random::<u64>()));
        let upload = OpenUpload {
            bucket: bucket.to_string(),
            key: key.to_string(),
            upload_id: upload_id.to_string(),
            entry: PathBuf::new(),
        };
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let body = serde_json::to_vec(&upload).map_err(std::io::Error::other)?;
            snaprock_storage::write_private_file_atomic(&entry, &body)
        });
        match written {
            Ok(()) => Some(entry),
            Err(e) => {
                warn!(dir = %self.dir.display(), error = %e, "could not note a multipart upload");
                None
            }
        }
    }

    /// The uploads noted and not yet forgotten: at start, before any job runs, those a crash
    /// left open. A note a crash caught between writing and renaming (`.json.tmp`) counts when
    /// it was written whole, and is removed when it was not.
    pub fn open_uploads(&self) -> Vec<OpenUpload> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".json") || name.ends_with(".json.tmp")
            })
            .filter_map(|path| {
                let bytes = std::fs::read(&path).ok()?;
                match serde_json::from_slice::<OpenUpload>(&bytes) {
                    Ok(mut upload) => {
                        upload.entry = path;
                        Some(upload)
                    }
                    Err(_) => {
                        forget(Some(&path));
                        None
                    }
                }
            })
            .collect()
    }
}

/// Removes an upload's entry once it is completed or aborted.
pub(super) fn forget(entry: Option<&Path>) {
    if let Some(entry) = entry
        && let Err(e) = std::fs::remove_file(entry)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(entry = %entry.display(), error = %e, "could not remove a multipart upload's note");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_caught_before_its_rename_still_counts_and_a_torn_one_goes() {
        let dir = tempfile::tempdir().unwrap();
        let journal = UploadJournal::new(dir.path().to_path_buf());
        let whole = journal.record("b", "k1", "u1").unwrap();
        let caught = dir.path().join("00000000000000aa.json.tmp");
        std::fs::rename(&whole, &caught).unwrap();
        let torn = dir.path().join("00000000000000bb.json.tmp");
        std::fs::write(&torn, b"{\"bucket\": \"b\", \"ke").unwrap();
        let open = journal.open_uploads();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].key.as_str(), open[0].upload_id.as_str()),
            ("k1", "u1")
        );
        assert_eq!(open[0].entry, caught);
        assert!(!torn.exists(), "the torn note is removed");
    }
}

//! Snapshots attached as read-only databases (`CREATE DATABASE d FROM SNAPSHOT s ON repo`):
//! one info and one meta read, then a database whose tables list the snapshot's files in the
//! repository (`FileHome::Repository`), read in place through the catalog's file router. The
//! catalog commit that adds the database is the caller's; nothing is downloaded.

use snaprock_sql::ast::AttachSnapshot;
use snaprock_storage::{
    AttachedSnapshot, CatalogState, DataFile, DatabaseMeta, FileHome, PartitionMeta, TableMeta,
    ViewMeta,
};

use super::*;
use crate::format::SnapshotMeta;

/// A snapshot read for attaching: what the new database will hold.
#[derive(Debug)]
pub struct SnapshotDatabase {
    meta: SnapshotMeta,
    attached: AttachedSnapshot,
}

impl BackupService {
    /// Checks the statement and reads the snapshot's info and meta files (two small GETs and
    /// one listing when no `backup_timestamp` is given).
    pub async fn read_snapshot_database(&self, stmt: &AttachSnapshot) -> Result<SnapshotDatabase> {
        let mut timestamp = None;
        for (key, value) in &stmt.properties {
            match key.to_ascii_lowercase().as_str() {
                "backup_timestamp" => timestamp = Some(value.clone()),
                _ => {
                    return Err(BackupError::analysis(format!(
                        "Unknown property: {key} (CREATE DATABASE ... FROM SNAPSHOT takes only \
                         backup_timestamp)"
                    )));
                }
            }
        }
        let repo = self.existing_repository(&stmt.repository)?;
        let timestamp = snapshot_timestamp(&repo, &stmt.snapshot, timestamp).await?;
        let cannot_read = |e: StoreError| {
            BackupError::ddl(format!(
                "Failed to read snapshot '{}' at {timestamp}: {e}",
                stmt.snapshot
            ))
        };
        let info = repo
            .read_info(&stmt.snapshot, &timestamp)
            .await
            .map_err(cannot_read)?;
        let meta = repo
            .read_meta(&stmt.snapshot, &info)
            .await
            .map_err(cannot_read)?;
        Ok(SnapshotDatabase {
            meta,
            attached: AttachedSnapshot {
                repository: repo.name.clone(),
                snapshot: stmt.snapshot.clone(),
                timestamp,
            },
        })
    }

    /// The databases attached from snapshots of `repository`.
    pub(crate) fn attached_databases(&self, repository: &str) -> Vec<String> {
        self.catalog
            .snapshot()
            .databases
            .values()
            .filter(|d| {
                d.attached
                    .as_ref()
                    .is_some_and(|a| a.repository == repository)
            })
            .map(|d| d.name.clone())
            .collect()
    }

    /// The repository `name`, or StarRocks' error for one that does not exist.
    pub(crate) fn existing_repository(&self, name: &str) -> Result<Arc<Repository>> {
        self.repository(name)
            .ok_or_else(|| BackupError::ddl(format!("Repository {name} does not exist")))
    }

    /// Makes a repository's data files readable by table scans.
    pub(crate) fn mount(&self, repo: &Repository) {
        let files = crate::store::RepositoryFiles::new(repo.store.clone(), &repo.name);
        self.catalog
            .files()
            .mount_repository(&repo.name, Arc::new(files));
    }
}

/// The `backup_timestamp` given, or else the snapshot's only one.
pub(super) async fn snapshot_timestamp(
    repo: &Repository,
    snapshot: &str,
    given: Option<String>,
) -> Result<String> {
    match given {
        Some(t) => Ok(t),
        None => only_timestamp(repo, snapshot).await,
    }
}

/// The one timestamp of `snapshot`; an error naming them when there are several.
async fn only_timestamp(repo: &Repository, snapshot: &str) -> Result<String> {
    let listing = repo
        .snapshot_listing(snapshot)
        .await
        .map_err(|e| BackupError::ddl(format!("Failed to list snapshot '{snapshot}': {e}")))?;
    let valid: Vec<&String> = listing
        .timestamps
        .iter()
        .filter(|t| !t.starts_with("Invalid"))
        .collect();
    match valid.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(BackupError::ddl(format!(
            "Snapshot '{snapshot}' does not exist in repository {}",
            repo.name
        ))),
        many => Err(BackupError::ddl(format!(
            "Snapshot '{snapshot}' has {} backups ({}): choose one with PROPERTIES \
             (\"backup_timestamp\" = \"...\")",
            many.len(),
            many.iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

impl SnapshotDatabase {
    /// The read-only database `name` over the snapshot, with ids allocated in `state`.
    pub fn database(&self, state: &mut CatalogState, name: &str, now: &str) -> DatabaseMeta {
        let home = FileHome::Repository(self.attached.repository.clone());
        let mut tables = BTreeMap::new();
        for snap in &self.meta.tables {
            let partitions = snap
                .partitions
                .iter()
                .map(|p| PartitionMeta {
                    id: state.allocate_id(),
                    name: p.name.clone(),
                    bounds: p.bounds.clone(),
                    version: p.version.max(1),
                    version_time: now.to_string(),
                    files: p
                        .files
                        .iter()
                        .map(|f| {
                            Arc::new(DataFile {
                                path: f.key.clone(),
                                rows: f.rows,
                                bytes: f.bytes,
                                sha256: f.sha256.clone(),
                                home: home.clone(),
                                deleted: f.deleted.clone(),
                            })
                        })
                        .collect(),
                })
                .collect();
            let mut table = TableMeta {
                id: state.allocate_id(),
                name: snap.name.clone(),
                columns: snap.columns.clone(),
                keys_model: snap.keys_model,
                key_columns: snap.key_columns.clone(),
                partitioning: snap.partitioning.clone(),
                partitions,
                distribution: snap.distribution.clone(),
                properties: snap.properties.clone(),
                comment: snap.comment.clone(),
                created_at: now.to_string(),
                updated_at: now.to_string(),
                // A view's rows as the snapshot holds them: listed as a view, never refreshed
                // (the database is read-only).
                materialized_view: snap.materialized_view.clone().map(|mut view| {
                    view.active = false;
                    view.inactive_reason = Some(format!(
                        "attached read-only from snapshot {}",
                        self.meta.snapshot
                    ));
                    Arc::new(view)
                }),
                indexes: snap.indexes.clone(),
            };
            table.sort_partitions();
            tables.insert(snap.name.clone(), Arc::new(table));
        }
        let views = self
            .meta
            .views
            .iter()
            .map(|v| {
                let view = ViewMeta {
                    name: v.name.clone(),
                    columns: v.columns.clone(),
                    query_sql: v.query_sql.clone(),
                    comment: v.comment.clone(),
                    created_at: now.to_string(),
                };
                (v.name.clone(), Arc::new(view))
            })
            .collect();
        DatabaseMeta {
            id: state.allocate_id(),
            name: name.to_string(),
            created_at: now.to_string(),
            tables,
            views,
            attached: Some(self.attached.clone()),
            storage_volume: None,
            followed_volume: None,
        }
    }
}

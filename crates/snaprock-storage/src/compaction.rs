//! Background compaction: merges a partition's small files, and files whose rows are mostly
//! deleted (delete vectors), into one.
//!
//! The merged file is written while readers keep using the old files; the commit swaps the
//! file list only if the partition did not change meanwhile (same version), and the old files
//! are deleted once no reader's state lists them.

use std::sync::Arc;

use tracing::{info, warn};

use crate::catalog::Catalog;
use crate::files::{DataFileWriter, read_data_file};
use crate::meta::{DataFile, TableMeta};
use crate::{Result, StorageError};

/// When a partition is worth compacting.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    /// Compact when a partition has at least this many files smaller than `small_file_bytes`.
    pub min_small_files: usize,
    pub small_file_bytes: u64,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy {
            min_small_files: 8,
            small_file_bytes: 64 << 20,
        }
    }
}

impl CompactionPolicy {
    /// Whether `file` is merged when its partition is compacted: a small file, or one whose
    /// delete vector holds at least half its rows.
    fn merges(&self, file: &DataFile) -> bool {
        file.bytes < self.small_file_bytes || mostly_deleted(file)
    }

    /// Whether a partition with `files` is compacted: enough small files, or a file mostly
    /// deleted.
    fn wants(&self, files: &[Arc<DataFile>]) -> bool {
        files.iter().any(|f| mostly_deleted(f))
            || files.iter().filter(|f| self.merges(f)).count() >= self.min_small_files
    }
}

fn mostly_deleted(file: &DataFile) -> bool {
    file.deleted
        .as_ref()
        .is_some_and(|d| d.len().saturating_mul(2) >= file.rows)
}

/// Merges `files` of a partition into one new file (not yet committed), without their
/// deleted rows.
pub fn compact_partition_files(
    catalog: &Catalog,
    table: &TableMeta,
    partition_id: u64,
    files: &[Arc<DataFile>],
) -> Result<Option<DataFile>> {
    let mut writer = DataFileWriter::create(
        catalog.data_root(),
        table.id,
        partition_id,
        table.arrow_schema(),
    )?;
    for f in files {
        for batch in read_data_file(catalog.data_root(), f)? {
            writer.write(&batch)?;
        }
    }
    if writer.rows() == 0 {
        writer.abort();
        return Ok(None);
    }
    writer.finish().map(Some)
}

impl Catalog {
    /// Compacts every partition that needs it; returns how many were compacted.
    pub async fn compact_once(self: &Arc<Self>, policy: CompactionPolicy) -> Result<usize> {
        let state = self.snapshot();
        let mut candidates = Vec::new();
        // Attached snapshots and followed databases are read-only (their files are not ours).
        for db in state.databases.values().filter(|d| !d.is_read_only()) {
            for table in db.tables.values() {
                // A partition with files still in a repository (an instant restore is
                // downloading them) waits until they are local.
                // The same for a volume file without its local copy (it is read from the store
                // by queries; compaction reads local files).
                let local = table.partitions.iter().filter(|p| {
                    p.files.iter().all(|f| match f.home {
                        crate::FileHome::Local => true,
                        crate::FileHome::Volume(_) => self.data_root().join(&f.path).exists(),
                        crate::FileHome::Repository(_) => false,
                    })
                });
                for p in local.filter(|p| policy.wants(&p.files)) {
                    candidates.push((db.name.clone(), table.id, p.id));
                }
            }
        }
        drop(state);
        let mut done = 0;
        for (db, table_id, partition_id) in candidates {
            match self
                .compact_partition(&db, table_id, partition_id, policy)
                .await
            {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(e) => warn!(table_id, partition_id, error = %e, "compaction failed"),
            }
        }
        self.sweep_retired_files();
        Ok(done)
    }

    async fn compact_partition(
        self: &Arc<Self>,
        db: &str,
        table_id: u64,
        partition_id: u64,
        policy: CompactionPolicy,
    ) -> Result<bool> {
        let _guard = self.lock_table(table_id).await;
        let state = self.snapshot();
        let Some(table) = state
            .database(db)
            .and_then(|d| d.tables.values().find(|t| t.id == table_id))
            .cloned()
        else {
            return Ok(false);
        };
        let Some(partition) = table.partitions.iter().find(|p| p.id == partition_id) else {
            return Ok(false);
        };
        if !policy.wants(&partition.files) {
            return Ok(false);
        }
        let small: Vec<Arc<DataFile>> = partition
            .files
            .iter()
            .filter(|f| policy.merges(f))
            .cloned()
            .collect();
        let version = partition.version;
        let catalog = self.clone();
        let table_for_write = table.clone();
        let to_merge = small.clone();
        let merged = tokio::task::spawn_blocking(move || {
            compact_partition_files(&catalog, &table_for_write, partition_id, &to_merge)
        })
        .await
        .map_err(|e| StorageError::InvalidDefinition(format!("compaction task failed: {e}")))??;
        let mut merged = merged;
        if let Some(file) = merged.as_mut()
            && let Err(e) = self.publish(&table, std::slice::from_mut(file)).await
        {
            self.discard_new_files(std::slice::from_ref(file));
            return Err(e);
        }
        let merged_paths: std::collections::HashSet<String> =
            small.iter().map(|f| f.path.clone()).collect();
        let table_name = table.name.clone();
        let committed = self.commit(|s| {
            let db_meta = s.databases.get_mut(db).ok_or(StorageError::Conflict)?;
            let db_meta = Arc::make_mut(db_meta);
            let t = db_meta
                .tables
                .get_mut(&table_name)
                .ok_or(StorageError::Conflict)?;
            if t.id != table_id {
                return Err(StorageError::Conflict);
            }
            let t = Arc::make_mut(t);
            let p = t
                .partitions
                .iter_mut()
                .find(|p| p.id == partition_id)
                .ok_or(StorageError::Conflict)?;
            if p.version != version {
                return Err(StorageError::Conflict);
            }
            // Same version, same data: only the file layout changes, so the version stays.
            p.files.retain(|f| !merged_paths.contains(&f.path));
            if let Some(m) = merged.clone() {
                p.files.push(Arc::new(m));
            }
            Ok(())
        });
        if let Err(e) = committed {
            self.discard_new_files(merged.as_slice());
            return Err(e);
        }
        info!(table = %table.name, partition_id, merged = small.len(), "compacted partition");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::write_batches;
    use crate::meta::*;
    use crate::types::ColumnType;
    use datafusion::arrow::array::{Int32Array, RecordBatch};
    use std::collections::BTreeMap;

    fn table() -> TableMeta {
        TableMeta {
            id: 7,
            name: "t".into(),
            columns: vec![ColumnMeta {
                name: "a".into(),
                column_type: ColumnType::Int,
                nullable: true,
                default: None,
                comment: None,
                is_key: true,
                aggregation: None,
                auto_increment: false,
            }],
            keys_model: KeysModel::Duplicate,
            key_columns: vec!["a".into()],
            partitioning: Partitioning::Unpartitioned,
            partitions: vec![PartitionMeta {
                id: 8,
                name: "t".into(),
                bounds: PartitionBounds::All,
                version: 1,
                version_time: String::new(),
                files: Vec::new(),
            }],
            distribution: DistributionMeta::Random { buckets: None },
            properties: vec![],
            comment: None,
            created_at: String::new(),
            updated_at: String::new(),
            materialized_view: None,
            indexes: Vec::new(),
        }
    }

    #[tokio::test]
    async fn small_files_are_merged_and_readers_keep_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(dir.path()).unwrap();
        let mut meta = table();
        let schema = meta.arrow_schema();
        for i in 0..8 {
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int32Array::from(vec![i, i + 100]))],
            )
            .unwrap();
            let file = write_batches(catalog.data_root(), 7, 8, schema.clone(), &[batch])
                .unwrap()
                .unwrap();
            meta.partitions[0].files.push(Arc::new(file));
        }
        catalog
            .commit(|s| {
                let mut tables = BTreeMap::new();
                tables.insert("t".to_string(), Arc::new(meta.clone()));
                s.databases.insert(
                    "d".into(),
                    Arc::new(DatabaseMeta {
                        id: 1,
                        name: "d".into(),
                        created_at: String::new(),
                        tables,
                        views: BTreeMap::new(),
                        attached: None,
                        storage_volume: None,
                        followed_volume: None,
                    }),
                );
                Ok(())
            })
            .unwrap();
        let reader = catalog.snapshot();
        let old_files: Vec<_> = reader.table("d", "t").unwrap().partitions[0].files.clone();

        let done = catalog
            .compact_once(CompactionPolicy::default())
            .await
            .unwrap();
        assert_eq!(done, 1);
        let now = catalog.snapshot();
        let partition = &now.table("d", "t").unwrap().partitions[0];
        assert_eq!(partition.files.len(), 1);
        assert_eq!(partition.rows(), 16);
        assert_eq!(partition.version, 1, "same data, same version");
        // The reader's state still lists the old files, so they are still on disk.
        for f in &old_files {
            assert!(catalog.data_root().join(&f.path).exists());
        }
        let mut values: Vec<i32> = read_data_file(catalog.data_root(), &partition.files[0])
            .unwrap()
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int32Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        values.sort();
        assert_eq!(values.len(), 16);
        assert_eq!(values[0], 0);
        // Once the reader lets go, the next sweep deletes them.
        drop(reader);
        drop(old_files);
        drop(meta);
        catalog.sweep_retired_files();
        let on_disk = std::fs::read_dir(catalog.data_root().join("t7/p8"))
            .unwrap()
            .count();
        assert_eq!(on_disk, 1);
    }
}

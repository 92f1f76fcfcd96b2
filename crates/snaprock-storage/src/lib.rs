//! Catalog and storage: databases, tables, partitions and their versioned Parquet files.
//!
//! A partition's data is a set of immutable Parquet files; every committed write produces a new
//! catalog state (copy on write) in which the touched partitions have a new version and file
//! list. The catalog is one JSON document replaced atomically (write, fsync, rename, fsync dir),
//! so a crash leaves either the old or the new state. Readers take an `Arc` of the current
//! state: reading a partition "as of" a version costs nothing and never blocks writers, and a
//! file is deleted only after no state that lists it is still held.

mod auto_partition;
mod background;
mod catalog;
mod compaction;
mod datacache;
mod datacache_fill;
mod delete_vector;
mod error;
mod files;
mod loads;
mod locations;
mod materialized_view;
mod meta;
mod partition;
mod recycle;
mod storage_volume;
mod types;
mod volume_catalog;
mod volume_files;
mod watch;

pub use auto_partition::{MAX_PARTITIONS_PER_LOAD, NewPartition, add_partitions, partitions_for};
pub use background::{Background, DATA_DIR_LOCK_FILE};
pub use catalog::{Catalog, TableWriteGuard};
pub use compaction::{CompactionPolicy, compact_partition_files};
pub use datacache::{DEFAULT_DATACACHE_BYTES, DataCache};
pub use delete_vector::DeleteVector;
pub use error::StorageError;
pub use files::{
    DataFileWriter, new_data_file_path, parquet_metadata_len, parquet_rows, read_data_file,
    write_batches, write_private_file_atomic,
};
pub use loads::{
    LABEL_KEEP_MS, LoadHistory, LoadRecord, MAX_LOADS_PER_DATABASE, NewLoad, record_failed_load,
    record_load,
};
pub use locations::{FILES_URL, FileHome, FileRouter};
pub use materialized_view::{
    BaseTable, BaseVersions, LastRefresh, MaterializedViewMeta, MvRefresh, MvSchedule,
};
pub use meta::*;
pub use partition::{PartitionRouter, bounds_to_scalars, normalize_bound};
pub use recycle::{RecycleBin, RecycledDatabase, RecycledPartition, RecycledTable};
pub use storage_volume::{
    StorageVolumeMeta, StorageVolumes, does_not_exist as storage_volume_does_not_exist,
    volume_error,
};
pub use types::{ColumnType, LIST_ITEM_FIELD, SQL_TYPE_METADATA_KEY, StructField};
pub use volume_catalog::{FOLLOW_EVERY, PublishedCatalog, VOLUME_CATALOG_KEY};
pub use volume_files::{STORAGE_VOLUME_PROPERTY, VOLUME_DATA_DIR, VolumeStore, volume_key};
pub use watch::{CommitWatch, TableChange, WatchedCommit};

/// Result type of this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

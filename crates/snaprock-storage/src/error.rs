//! Errors of the catalog and storage layer.

use std::path::PathBuf;

/// What can go wrong in the catalog and storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    #[error("Can't create database '{0}'; database exists")]
    DatabaseExists(String),
    #[error("Table '{database}.{table}' doesn't exist")]
    UnknownTable { database: String, table: String },
    #[error("Table '{0}' already exists")]
    TableExists(String),
    #[error("Unknown partition '{partition}' in table '{table}'")]
    UnknownPartition { table: String, partition: String },
    /// RECOVER TABLE of a table the recycle bin does not hold (StarRocks' ERR_BAD_TABLE_ERROR).
    #[error("Unknown table '{0}'")]
    NotInRecycleBin(String),
    /// StarRocks' text for a load label a database already committed.
    #[error("Label [{0}] has already been used.")]
    LabelAlreadyUsed(String),
    /// RECOVER refused with StarRocks' DDL text (the name is taken, nothing to recover).
    #[error("{0}")]
    Recycle(String),
    /// A storage volume statement refused (StarRocks' texts: does not exist, is disabled,
    /// can not be removed, ...).
    #[error("{0}")]
    StorageVolume(String),
    #[error("Duplicate partition name {0}")]
    PartitionExists(String),
    #[error("{0}")]
    PartitionOverlap(String),
    #[error("Table has no partition for value {0}")]
    NoPartitionForValue(String),
    #[error("Column '{0}' cannot be null")]
    NullInNotNullColumn(String),
    #[error("Invalid partition value '{value}' for column '{column}': {reason}")]
    InvalidPartitionValue {
        column: String,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("Database '{0}' is not empty")]
    DatabaseNotEmpty(String),
    #[error(
        "Database '{database}' is snapshot '{snapshot}' of repository '{repository}', attached \
         read-only: it cannot be changed (DROP DATABASE detaches it)"
    )]
    ReadOnlySnapshotDatabase {
        database: String,
        snapshot: String,
        repository: String,
    },
    #[error(
        "Database '{database}' is read-only on this server: it is written by the server that \
         owns storage volume '{volume}' (run writes there)"
    )]
    ReadOnlyFollowedDatabase { database: String, volume: String },
    #[error("The table changed while this statement ran; retry it")]
    Conflict,
    /// A data file whose bytes are still in a repository (an instant restore is downloading
    /// it) could not be read there.
    #[error("Data file {file} cannot be read from repository {repository}: {reason}")]
    RemoteFileUnavailable {
        file: String,
        repository: String,
        reason: String,
    },
    /// A storage volume that could not be written or read.
    #[error("Storage volume '{volume}' cannot be used: {reason}")]
    VolumeUnavailable { volume: String, reason: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "data directory {path} is in use by another snaprock server (it holds {path}/LOCK); \
         stop it, or give this server a --data-dir of its own"
    )]
    DataDirInUse { path: PathBuf },
    #[error("catalog file {path} is unreadable: {reason}")]
    CorruptCatalog { path: PathBuf, reason: String },
    #[error("{0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("{0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
}

impl StorageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.into(),
            source,
        }
    }
}

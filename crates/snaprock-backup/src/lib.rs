//! Repositories, the snapshot format, and backup and restore jobs.
//!
//! A repository is a named location (`s3a://bucket/prefix` or `file:///path`) reached through
//! an [`store::ObjectStore`]. BACKUP checks the statement (`backup::analyze`), registers a job as
//! the database's current one ([`service`]) and runs it in the background (`backup::runner`,
//! over the job core in `job`): it pins one
//! catalog snapshot, uploads the Parquet data files the repository does not hold yet (they are
//! content-addressed, see [`format`]), then writes the meta file and, last, the info file that
//! makes the snapshot visible. RESTORE (`restore/`) reads the info and meta files, checks the
//! job against a copy of the catalog, downloads and verifies the data files into new local
//! files, and switches everything in one catalog commit.

mod backup;
mod continuous;
pub mod error;
pub mod format;
mod gc;
mod job;
pub mod location;
mod locks;
pub mod metrics;
pub mod repository;
mod restore;
pub mod service;
pub mod store;

pub use error::{BackupError, BackupErrorKind, StoreError};
pub use metrics::{BackupMetrics, BackupStateCollector};
pub use service::{
    BackupService, EndedJob, JobHistory, JobProgress, JobView, Rows, SnapshotDatabase,
};

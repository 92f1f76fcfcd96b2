//! RESTORE: the statement's checks and plan (`analyze`), the one catalog change that applies a
//! snapshot (`apply`), the job's record and SHOW RESTORE row (`job`), its run (`runner`), and
//! the background download of an instant restore after its commit (`instant`).

pub(crate) mod analyze;
pub(crate) mod apply;
pub(crate) mod instant;
pub(crate) mod job;
pub(crate) mod materialized_views;
pub(crate) mod runner;
pub(crate) mod volumes;

//! RESTORE: the statement's checks and plan (`analyze`), the one catalog change that applies a
//! snapshot (`apply`), the job's record and SHOW RESTORE row (`job`), and its run (`runner`).

pub(crate) mod analyze;
pub(crate) mod apply;
pub(crate) mod job;
pub(crate) mod runner;

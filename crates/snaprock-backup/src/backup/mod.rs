//! BACKUP: the statement's checks (`analyze`), the job's record and SHOW BACKUP row (`job`),
//! and its run through the states (`runner`).

pub(crate) mod analyze;
pub(crate) mod job;
pub(crate) mod runner;

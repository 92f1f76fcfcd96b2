//! Finished schema-change jobs, as `SHOW ALTER TABLE COLUMN` lists them. An ALTER TABLE that
//! changes columns runs to its end within the statement (`statements/ddl/alter.rs`); it is
//! recorded here as a FINISHED job so that scripts written for StarRocks, which poll SHOW
//! ALTER TABLE until the job is FINISHED, see it done. The history lives in memory (the last
//! `KEEP` jobs) and starts empty at each start.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many finished jobs are kept.
const KEEP: usize = 1000;

/// One finished schema change.
#[derive(Debug, Clone)]
pub(crate) struct AlterJob {
    pub job_id: u64,
    pub database: String,
    pub table: String,
    pub table_id: u64,
    pub create_time: String,
    pub finish_time: String,
    /// How many schema changes of this table the history holds, this one included.
    pub schema_version: u64,
}

/// The history of one server.
pub(crate) struct AlterJobs {
    jobs: Mutex<VecDeque<AlterJob>>,
    next_id: AtomicU64,
}

impl AlterJobs {
    pub(crate) fn new() -> Self {
        // Job ids grow across restarts: they start at the start time in milliseconds.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        AlterJobs {
            jobs: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(start),
        }
    }

    /// Records a finished schema change of `database.table`.
    pub(crate) fn record(&self, database: &str, table: &str, table_id: u64, started: String) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let schema_version = 1 + jobs.iter().filter(|j| j.table_id == table_id).count() as u64;
        jobs.push_back(AlterJob {
            job_id: self.next_id.fetch_add(1, Ordering::Relaxed),
            database: database.to_string(),
            table: table.to_string(),
            table_id,
            create_time: started,
            finish_time: crate::now_text(),
            schema_version,
        });
        while jobs.len() > KEEP {
            jobs.pop_front();
        }
    }

    /// The jobs of `database`, oldest first.
    pub(crate) fn of_database(&self, database: &str) -> Vec<AlterJob> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter()
            .filter(|j| j.database == database)
            .cloned()
            .collect()
    }
}

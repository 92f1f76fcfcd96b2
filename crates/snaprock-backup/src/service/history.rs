//! The history of ended jobs. SHOW BACKUP and SHOW RESTORE keep StarRocks' one job per
//! database; operators also want last night's job after this morning's, so every job that ends
//! appends one JSON line to `<data dir>/job_history.jsonl`. The console's history and chart and
//! the last-successful-backup metric read it, and it survives restarts. A torn last line (a
//! crash mid-append) is skipped on load; the file is cut back to the newest [`HISTORY_LIMIT`]
//! jobs once it holds twice as many.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tracing::warn;

/// Ended jobs kept.
pub const HISTORY_LIMIT: usize = 1000;

/// One ended job, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedJob {
    /// `BACKUP` or `RESTORE`.
    pub kind: String,
    pub job_id: i64,
    pub database: String,
    pub repository: String,
    pub snapshot: String,
    /// `FINISHED` or `CANCELLED`.
    pub state: String,
    pub status: String,
    /// Epoch milliseconds.
    pub create_time: i64,
    pub finished_time: i64,
    /// Files and bytes the job moved.
    pub files: u64,
    pub bytes: u64,
    /// A backup: files and bytes the repository already held.
    pub files_reused: u64,
    pub bytes_reused: u64,
}

impl EndedJob {
    pub fn finished(&self) -> bool {
        self.state == "FINISHED"
    }
}

struct Entries {
    jobs: VecDeque<EndedJob>,
    /// Lines in the file (valid or not): when to cut it back.
    lines: usize,
    /// The file ends in a torn line (a crash mid-append): the next append starts a new line.
    torn: bool,
}

/// The ended jobs of one server, newest last.
pub struct JobHistory {
    path: PathBuf,
    entries: Mutex<Entries>,
}

impl JobHistory {
    /// Loads `<data dir>/job_history.jsonl` (missing: empty).
    pub fn open(data_dir: &Path) -> Self {
        let path = data_dir.join("job_history.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                warn!(path = %path.display(), error = %e, "job history not readable; starting a new one");
                String::new()
            }
        };
        let mut jobs = VecDeque::new();
        let mut lines = 0;
        for line in text.lines().filter(|l| !l.is_empty()) {
            lines += 1;
            if let Ok(job) = serde_json::from_str::<EndedJob>(line) {
                jobs.push_back(job);
            }
        }
        while jobs.len() > HISTORY_LIMIT {
            jobs.pop_front();
        }
        JobHistory {
            path,
            entries: Mutex::new(Entries {
                jobs,
                lines,
                torn: !text.is_empty() && !text.ends_with('\n'),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a job that ended. The history is a convenience: a failed write is logged, never
    /// fails the job.
    pub fn record(&self, job: EndedJob) {
        let mut entries = self.lock();
        entries.jobs.push_back(job.clone());
        while entries.jobs.len() > HISTORY_LIMIT {
            entries.jobs.pop_front();
        }
        let written = if entries.lines + 1 >= 2 * HISTORY_LIMIT {
            self.rewrite(&entries.jobs).map(|()| entries.jobs.len())
        } else {
            self.append(&job, entries.torn).map(|()| entries.lines + 1)
        };
        match written {
            Ok(lines) => {
                entries.lines = lines;
                entries.torn = false;
            }
            Err(e) => warn!(path = %self.path.display(), error = %e, "job history not written"),
        }
    }

    fn append(&self, job: &EndedJob, torn: bool) -> std::io::Result<()> {
        let mut line = Vec::new();
        if torn {
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, job).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&line)?;
        file.sync_data()
    }

    fn rewrite(&self, jobs: &VecDeque<EndedJob>) -> std::io::Result<()> {
        let mut body = Vec::new();
        for job in jobs {
            serde_json::to_writer(&mut body, job).map_err(std::io::Error::other)?;
            body.push(b'\n');
        }
        snaprock_storage::write_private_file_atomic(&self.path, &body)
    }

    /// Every job kept, oldest first.
    pub fn jobs(&self) -> Vec<EndedJob> {
        self.lock().jobs.iter().cloned().collect()
    }

    /// For each (database, repository), when its last successful backup finished (epoch ms).
    pub fn last_successful_backups(&self) -> BTreeMap<(String, String), i64> {
        let mut last = BTreeMap::new();
        for job in self.lock().jobs.iter() {
            if job.kind == "BACKUP" && job.finished() {
                let key = (job.database.clone(), job.repository.clone());
                let time = last.entry(key).or_insert(job.finished_time);
                *time = (*time).max(job.finished_time);
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i64, db: &str, state: &str, finished: i64) -> EndedJob {
        EndedJob {
            kind: "BACKUP".into(),
            job_id: id,
            database: db.into(),
            repository: "r".into(),
            snapshot: format!("s{id}"),
            state: state.into(),
            status: "[OK]".into(),
            create_time: finished - 10,
            finished_time: finished,
            files: 1,
            bytes: 2,
            files_reused: 0,
            bytes_reused: 0,
        }
    }

    #[test]
    fn survives_a_restart_and_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let history = JobHistory::open(dir.path());
        history.record(job(1, "a", "FINISHED", 1_000));
        history.record(job(2, "a", "CANCELLED", 2_000));
        // A crash in the middle of an append leaves half a line.
        let path = dir.path().join("job_history.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"kind\":\"BACK").unwrap();
        drop(file);
        let history = JobHistory::open(dir.path());
        history.record(job(3, "b", "FINISHED", 3_000));
        let reopened = JobHistory::open(dir.path());
        let ids: Vec<i64> = reopened.jobs().iter().map(|j| j.job_id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        let last = reopened.last_successful_backups();
        assert_eq!(last.get(&("a".into(), "r".into())), Some(&1_000));
        assert_eq!(last.get(&("b".into(), "r".into())), Some(&3_000));
    }

    #[test]
    fn keeps_the_newest_jobs_and_cuts_the_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let history = JobHistory::open(dir.path());
        let total = 2 * HISTORY_LIMIT as i64 + 5;
        for id in 1..=total {
            history.record(job(id, "a", "FINISHED", id));
        }
        let jobs = JobHistory::open(dir.path()).jobs();
        assert_eq!(jobs.len(), HISTORY_LIMIT);
        assert_eq!(jobs.last().map(|j| j.job_id), Some(total));
        let lines = std::fs::read_to_string(dir.path().join("job_history.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .count();
        assert!(lines < 2 * HISTORY_LIMIT, "{lines} lines");
    }
}

//! Column statistics as StarRocks collects them by hand: `ANALYZE [FULL | SAMPLE] TABLE t
//! [(c, ...)]` scans the table and records, per column, its distinct values, NULLs, minimum
//! and maximum; `SHOW ANALYZE STATUS` lists the collections run, `SHOW STATS META` the tables
//! with statistics (healthy while the table is unchanged since), `DROP STATS t` forgets them.
//!
//! snaprock's planner prunes with the Parquet files' own statistics, so nothing waits on these:
//! they are for the operator and for scripts written for StarRocks. A collection always scans
//! every row (SAMPLE too, reported as asked). The history and the statistics live in memory
//! (the last `KEEP` collections) and start empty at each start.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// How many collections SHOW ANALYZE STATUS keeps.
const KEEP: usize = 1000;

/// One ANALYZE.
#[derive(Debug, Clone)]
pub(crate) struct AnalyzeJob {
    pub id: u64,
    pub database: String,
    pub table: String,
    /// `ALL` or the columns named.
    pub columns: String,
    pub full: bool,
    /// `FINISHED` or `FAILED`.
    pub status: &'static str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub reason: String,
}

/// One column's statistics.
#[derive(Debug, Clone)]
pub(crate) struct ColumnStats {
    pub name: String,
    pub distinct: i64,
    pub nulls: i64,
    pub min: String,
    pub max: String,
}

/// A table's latest statistics.
#[derive(Debug, Clone)]
pub(crate) struct TableStats {
    pub database: String,
    pub table: String,
    pub columns: String,
    pub full: bool,
    pub update_ms: i64,
    pub rows: u64,
    /// The table's partitions and their versions when collected: the same since means fully
    /// healthy.
    pub data_versions: Vec<(u64, u64)>,
    pub column_stats: Vec<ColumnStats>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<AnalyzeJob>,
    /// By table id.
    tables: BTreeMap<u64, TableStats>,
    next_id: u64,
}

/// The statistics of one server.
#[derive(Default)]
pub(crate) struct Statistics {
    state: Mutex<State>,
}

impl Statistics {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a collection; with statistics, they replace the table's.
    pub(crate) fn record(&self, mut job: AnalyzeJob, table_id: u64, stats: Option<TableStats>) {
        let mut state = self.state();
        state.next_id += 1;
        job.id = state.next_id;
        state.jobs.push_back(job);
        while state.jobs.len() > KEEP {
            state.jobs.pop_front();
        }
        if let Some(stats) = stats {
            state.tables.insert(table_id, stats);
        }
    }

    pub(crate) fn jobs(&self) -> Vec<AnalyzeJob> {
        self.state().jobs.iter().cloned().collect()
    }

    /// Every table's statistics, by table id.
    pub(crate) fn tables(&self) -> Vec<(u64, TableStats)> {
        let state = self.state();
        state
            .tables
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect()
    }

    /// DROP STATS: whether the table had statistics.
    pub(crate) fn drop_table(&self, table_id: u64) -> bool {
        self.state().tables.remove(&table_id).is_some()
    }
}

/// How much of the statistics still describes the table, in percent: 100 while the table is
/// unchanged since they were collected, else the share of rows common to both counts.
pub(crate) fn healthy_percent(stats: &TableStats, table: &snaprock_storage::TableMeta) -> u64 {
    if stats.data_versions == data_versions(table) {
        return 100;
    }
    let rows_now = table.rows();
    let (small, large) = if stats.rows < rows_now {
        (stats.rows, rows_now)
    } else {
        (rows_now, stats.rows)
    };
    if large == 0 {
        return 100;
    }
    // Some rows changed: never fully healthy again.
    (small * 100 / large).min(99)
}

/// Each partition's id and version: what changes with every write.
pub(crate) fn data_versions(table: &snaprock_storage::TableMeta) -> Vec<(u64, u64)> {
    table.partitions.iter().map(|p| (p.id, p.version)).collect()
}

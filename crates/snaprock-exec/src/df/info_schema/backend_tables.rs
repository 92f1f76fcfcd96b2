//! StarRocks' `be_*` tables, answered for the one backend a snaprock server is (BE_ID 10001):
//! `be_configs` (the server's start-up options, read-only), `be_metrics` (the series of
//! `/metrics`), `be_threads` (the process's threads), `be_compactions` (what the next
//! compaction pass would pick), and `be_txns`, `be_logs`, `be_bvars` with no rows (a write
//! commits within its statement, logs go to stderr, and there are no brpc variables).

use prometheus::proto::MetricType;
use snaprock_storage::{CatalogState, CompactionPolicy};

use super::{SystemTable, no_rows, t};
use crate::df::catalog_provider::StatementContext;
use crate::result::{Cell, RowsBuilder};
use crate::server_info::BACKEND_ID;

fn int(v: i64) -> Cell {
    Cell::Int(Some(v))
}

fn backend() -> Cell {
    int(BACKEND_ID as i64)
}

/// One start-up option as `be_configs` shows it (never a secret: the root password is not
/// one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetting {
    pub name: String,
    pub value: String,
    /// `string`, `int64`, `bool` (StarRocks' config type names).
    pub kind: &'static str,
    pub default: String,
}

pub(super) const BE_CONFIGS: SystemTable = SystemTable {
    name: "BE_CONFIGS",
    columns: &["BE_ID#", "NAME", "VALUE", "TYPE", "DEFAULT", "MUTABLE"],
    rows: be_configs,
};

fn be_configs(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    for setting in ctx.engine.server_settings() {
        rows.push(vec![
            backend(),
            t(&setting.name),
            t(&setting.value),
            t(setting.kind),
            t(&setting.default),
            // Start-up options: a restart with other options changes them.
            t("false"),
        ]);
    }
}

pub(super) const BE_METRICS: SystemTable = SystemTable {
    name: "BE_METRICS",
    columns: &["BE_ID#", "NAME", "LABELS", "VALUE#"],
    rows: be_metrics,
};

/// Every sample of `/metrics` (a histogram as its `_count` and `_sum`), values truncated to
/// integers as StarRocks' BIGINT column holds them.
fn be_metrics(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    for family in ctx.engine.metrics.gather() {
        let name = family.name();
        for metric in family.get_metric() {
            let labels = metric
                .get_label()
                .iter()
                .map(|l| format!("{}=\"{}\"", l.name(), l.value()))
                .collect::<Vec<_>>()
                .join(",");
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            };
            let samples: Vec<(String, f64)> = match family.get_field_type() {
                MetricType::COUNTER => vec![(name.to_string(), metric.get_counter().get_value())],
                MetricType::GAUGE => vec![(name.to_string(), metric.get_gauge().get_value())],
                MetricType::HISTOGRAM => {
                    let h = metric.get_histogram();
                    vec![
                        (format!("{name}_count"), h.get_sample_count() as f64),
                        (format!("{name}_sum"), h.get_sample_sum()),
                    ]
                }
                MetricType::SUMMARY => {
                    let s = metric.get_summary();
                    vec![
                        (format!("{name}_count"), s.sample_count() as f64),
                        (format!("{name}_sum"), s.sample_sum()),
                    ]
                }
                // The registry makes none (a collector of ours never reports one).
                MetricType::UNTYPED => Vec::new(),
            };
            for (sample, value) in samples {
                rows.push(vec![backend(), t(&sample), t(&labels), int(value as i64)]);
            }
        }
    }
}

pub(super) const BE_THREADS: SystemTable = SystemTable {
    name: "BE_THREADS",
    columns: &[
        "BE_ID#",
        "GROUP",
        "NAME",
        "PTHREAD_ID#",
        "TID#",
        "IDLE",
        "FINISHED_TASKS#",
        "BOUND_CPUS#",
    ],
    rows: be_threads,
};

/// The threads of the process, from `/proc/self/task` (none where there is no /proc): a
/// thread is idle when it sleeps.
fn be_threads(_: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    let mut threads: Vec<(i64, String, bool)> = tasks
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let tid: i64 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `tid (name) state ...`: the name may hold spaces and parentheses.
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1.to_string();
            let idle = matches!(rest.trim_start().chars().next(), Some('S' | 'I'));
            Some((tid, name, idle))
        })
        .collect();
    threads.sort();
    for (tid, name, idle) in threads {
        rows.push(vec![
            backend(),
            t(thread_group(&name)),
            t(&name),
            int(0),
            int(tid),
            t(if idle { "true" } else { "false" }),
            int(0),
            int(cpus),
        ]);
    }
}

/// What a thread works for, from the name its pool gives it.
fn thread_group(name: &str) -> &'static str {
    if name.starts_with("tokio") {
        // Workers and the blocking pool (the kernel keeps 15 bytes of a name).
        "runtime"
    } else if name.starts_with("snaprock") {
        "main"
    } else {
        "other"
    }
}

pub(super) const BE_COMPACTIONS: SystemTable = SystemTable {
    name: "BE_COMPACTIONS",
    columns: &[
        "BE_ID#",
        "CANDIDATES_NUM#",
        "BASE_COMPACTION_CONCURRENCY#",
        "CUMULATIVE_COMPACTION_CONCURRENCY#",
        "LATEST_COMPACTION_SCORE",
        "CANDIDATE_MAX_SCORE",
        "MANUAL_COMPACTION_CONCURRENCY#",
        "MANUAL_COMPACTION_CANDIDATES_NUM#",
    ],
    rows: be_compactions,
};

/// One pass compacts, one partition at a time: a candidate is a writable partition with as
/// many small files as the policy waits for; its score is that number of small files.
fn be_compactions(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    let policy = CompactionPolicy::default();
    let scores: Vec<usize> = state
        .databases
        .values()
        .filter(|db| !db.is_read_only())
        .flat_map(|db| db.tables.values())
        .flat_map(|table| table.partitions.iter())
        .map(|p| {
            p.files
                .iter()
                .filter(|f| f.bytes < policy.small_file_bytes)
                .count()
        })
        .collect();
    let candidates = scores
        .iter()
        .filter(|s| **s >= policy.min_small_files)
        .count();
    let max_score = scores.iter().copied().max().unwrap_or(0);
    rows.push(vec![
        backend(),
        int(candidates as i64),
        int(0),
        int(1),
        t("0"),
        t(&max_score.to_string()),
        int(0),
        int(0),
    ]);
}

pub(super) const BE_TXNS: SystemTable = SystemTable {
    name: "BE_TXNS",
    columns: &[
        "BE_ID#",
        "LOAD_ID",
        "TXN_ID#",
        "PARTITION_ID#",
        "TABLET_ID#",
        "CREATE_TIME#",
        "COMMIT_TIME#",
        "PUBLISH_TIME#",
        "ROWSET_ID",
        "NUM_SEGMENT#",
        "NUM_DELFILE#",
        "NUM_ROW#",
        "DATA_SIZE#",
        "VERSION#",
    ],
    rows: no_rows,
};

pub(super) const BE_LOGS: SystemTable = SystemTable {
    name: "BE_LOGS",
    columns: &["BE_ID#", "LEVEL", "TIMESTAMP#", "TID#", "LOG"],
    rows: no_rows,
};

pub(super) const BE_BVARS: SystemTable = SystemTable {
    name: "BE_BVARS",
    columns: &["BE_ID#", "NAME", "VALUE"],
    rows: no_rows,
};

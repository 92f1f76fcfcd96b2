//! SHOW BACKENDS, SHOW FRONTENDS and SHOW PROC '/backends' | '/frontends' in StarRocks'
//! columns, for the one server that is both: the node a health check or an operator's script
//! looks for, alive, with its disk (the data directory's file system), memory, CPU, tablets
//! (one per partition, as in information_schema.be_tablets) and running queries.

use std::path::Path;

use crate::engine::Engine;
use crate::result::{Output, RowsBuilder};
use crate::server_info::{BACKEND_ID, t};
use crate::session::Session;
use crate::{ExecError, Result};

use super::storage::size_text;

const BACKEND_COLUMNS: &[&str] = &[
    "BackendId",
    "IP",
    "HeartbeatPort",
    "BePort",
    "HttpPort",
    "BrpcPort",
    "LastStartTime",
    "LastHeartbeat",
    "Alive",
    "SystemDecommissioned",
    "ClusterDecommissioned",
    "TabletNum",
    "DataUsedCapacity",
    "AvailCapacity",
    "TotalCapacity",
    "UsedPct",
    "MaxDiskUsedPct",
    "ErrMsg",
    "Version",
    "Status",
    "DataTotalCapacity",
    "DataUsedPct",
    "CpuCores",
    "MemLimit",
    "NumRunningQueries",
    "MemUsedPct",
    "CpuUsedPct",
    "DataCacheMetrics",
    "Location",
    "StatusCode",
];

const FRONTEND_COLUMNS: &[&str] = &[
    "Name",
    "IP",
    "EditLogPort",
    "HttpPort",
    "QueryPort",
    "RpcPort",
    "Role",
    "ClusterId",
    "Join",
    "Alive",
    "ReplayedJournalId",
    "LastHeartbeat",
    "IsHelper",
    "ErrMsg",
    "StartTime",
    "Version",
];

/// `SHOW PROC '<path>'`: the node lists.
pub(super) async fn proc(session: &Session, path: &str) -> Result<Output> {
    match path.trim_end_matches('/') {
        "/backends" => backends(session).await,
        "/frontends" => frontends(session).await,
        _ => Err(ExecError::Analysis(format!(
            "Proc path '{path}' doesn't exist (snaprock answers '/backends' and '/frontends')"
        ))),
    }
}

fn setting<'a>(engine: &'a Engine, name: &str) -> Option<&'a str> {
    engine
        .server_settings()
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.value.as_str())
}

fn started_text(engine: &Engine) -> String {
    let started = chrono::Local::now() - engine.started.elapsed();
    started.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn now_text() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn percent(part: u64, whole: u64) -> String {
    let share = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    format!("{share:.2} %")
}

/// (available, total) bytes of the file system holding `dir`.
fn disk_space(dir: &Path) -> (u64, u64) {
    match rustix::fs::statvfs(dir) {
        Ok(s) => (s.f_bavail * s.f_frsize, s.f_blocks * s.f_frsize),
        Err(_) => (0, 0),
    }
}

/// (total memory, this process's resident memory) in bytes, from /proc.
fn memory() -> (u64, u64) {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0);
    let resident = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096);
    (total, resident)
}

pub(super) async fn backends(session: &Session) -> Result<Output> {
    let engine = &session.engine;
    let state = engine.catalog.snapshot();
    let partitions = state
        .databases
        .values()
        .flat_map(|db| db.tables.values())
        .flat_map(|table| table.partitions.iter());
    let (tablets, used) = partitions.fold((0u64, 0u64), |(n, bytes), p| (n + 1, bytes + p.bytes()));
    let (available, total) = disk_space(engine.catalog.root());
    let (memory_total, resident) = memory();
    let running = engine
        .connections()
        .iter()
        .filter(|c| c.state.lock().is_ok_and(|s| s.command == "Query"))
        .count();
    let mut rows = RowsBuilder::text(BACKEND_COLUMNS);
    rows.push(
        [
            BACKEND_ID.to_string(),
            setting(engine, "host").unwrap_or("127.0.0.1").to_string(),
            "0".into(),
            setting(engine, "port").unwrap_or("0").to_string(),
            setting(engine, "http_port").unwrap_or("0").to_string(),
            "0".into(),
            started_text(engine),
            now_text(),
            "true".into(),
            "false".into(),
            "false".into(),
            tablets.to_string(),
            size_text(used),
            size_text(available),
            size_text(total),
            percent(total.saturating_sub(available), total),
            percent(total.saturating_sub(available), total),
            String::new(),
            crate::variables::SERVER_VERSION.to_string(),
            format!("{{\"lastSuccessReportTabletsTime\":\"{}\"}}", now_text()),
            size_text(used + available),
            percent(used, used + available),
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string(),
            size_text(memory_total),
            running.to_string(),
            percent(resident, memory_total),
            "0.0 %".into(),
            "N/A".into(),
            String::new(),
            "OK".into(),
        ]
        .iter()
        .map(|v| t(v))
        .collect(),
    );
    Ok(Output::Rows(rows.into_result()?))
}

pub(super) async fn frontends(session: &Session) -> Result<Output> {
    let engine = &session.engine;
    let host = setting(engine, "host").unwrap_or("127.0.0.1");
    let mut rows = RowsBuilder::text(FRONTEND_COLUMNS);
    rows.push(
        [
            format!("{host}_{}", setting(engine, "port").unwrap_or("0")),
            host.to_string(),
            "0".into(),
            setting(engine, "http_port").unwrap_or("0").to_string(),
            setting(engine, "port").unwrap_or("0").to_string(),
            "0".into(),
            "LEADER".into(),
            engine.backup.cluster_id().to_string(),
            "true".into(),
            "true".into(),
            engine.catalog.snapshot().version.to_string(),
            now_text(),
            "true".into(),
            String::new(),
            started_text(engine),
            crate::variables::SERVER_VERSION.to_string(),
        ]
        .iter()
        .map(|v| t(v))
        .collect(),
    );
    Ok(Output::Rows(rows.into_result()?))
}

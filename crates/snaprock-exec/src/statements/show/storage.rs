//! How tables sit in storage, in StarRocks' layouts: `SHOW DATA` (sizes and replica counts of a
//! database's tables, or of one table), `SHOW TABLET` (a snaprock partition is one tablet: its
//! files are not split by bucket), `SHOW ALTER TABLE` (the schema changes this server ran).
//!
//! Sizes are the bytes of the Parquet files snaprock keeps (one copy: the replica count is a
//! partition's buckets, each held once).

use snaprock_sql::ast::{ObjectName, ShowFilter, ShowOrder};
use snaprock_storage::{CatalogState, DistributionMeta, TableMeta};

use super::{database_or_current, filtered, filtered_ordered, table_meta};
use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result};

/// StarRocks' default data quota of a database, in bytes (1024 TB), and replica quota.
const DATA_QUOTA: u64 = 1024 * 1024 * 1024 * 1024 * 1024;
const REPLICA_QUOTA: i64 = 1_073_741_824;

/// `1.400 KB`, as StarRocks prints sizes in SHOW DATA.
pub(super) fn size_text(bytes: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.3} {}", units[unit])
}

/// Tablets of a table: one per bucket of each partition.
fn replica_count(table: &TableMeta) -> i64 {
    let buckets = match &table.distribution {
        DistributionMeta::Hash { buckets, .. } | DistributionMeta::Random { buckets } => {
            buckets.unwrap_or(1)
        }
    };
    (table.partitions.len() as u64 * buckets) as i64
}

fn table_bytes(table: &TableMeta) -> u64 {
    table.partitions.iter().map(|p| p.bytes()).sum()
}

/// `SHOW DATA [FROM [db.]t]`.
pub(super) async fn data(
    session: &Session,
    table: Option<ObjectName>,
    state: &CatalogState,
) -> Result<Output> {
    if let Some(name) = table {
        let (_, meta) = table_meta(session, &name)?;
        let mut rows = RowsBuilder::new(&[
            ("TableName", CellKind::Text),
            ("IndexName", CellKind::Text),
            ("Size", CellKind::Text),
            ("ReplicaCount", CellKind::Int),
            ("RowCount", CellKind::Text),
        ]);
        let (bytes, replicas) = (table_bytes(&meta), replica_count(&meta));
        let row_count: u64 = meta.partitions.iter().map(|p| p.rows()).sum();
        rows.push(vec![
            meta.name.as_str().into(),
            meta.name.as_str().into(),
            size_text(bytes).into(),
            Cell::Int(Some(replicas)),
            row_count.to_string().into(),
        ]);
        rows.push(vec![
            "".into(),
            "Total".into(),
            size_text(bytes).into(),
            Cell::Int(Some(replicas)),
            "".into(),
        ]);
        return filtered(rows, None).await;
    }
    let db = database_or_current(session, None)?;
    let database = state
        .database(&db)
        .ok_or_else(|| ExecError::UnknownDatabase(db.clone()))?;
    let mut rows = RowsBuilder::new(&[
        ("TableName", CellKind::Text),
        ("Size", CellKind::Text),
        ("ReplicaCount", CellKind::Int),
    ]);
    let (mut total_bytes, mut total_replicas) = (0u64, 0i64);
    for table in database.tables.values() {
        let (bytes, replicas) = (table_bytes(table), replica_count(table));
        total_bytes += bytes;
        total_replicas += replicas;
        rows.push(vec![
            table.name.as_str().into(),
            size_text(bytes).into(),
            Cell::Int(Some(replicas)),
        ]);
    }
    for (name, bytes, replicas) in [
        ("Total", total_bytes, total_replicas),
        ("Quota", DATA_QUOTA, REPLICA_QUOTA),
        (
            "Left",
            DATA_QUOTA.saturating_sub(total_bytes),
            REPLICA_QUOTA - total_replicas,
        ),
    ] {
        rows.push(vec![
            name.into(),
            size_text(bytes).into(),
            Cell::Int(Some(replicas)),
        ]);
    }
    filtered(rows, None).await
}

/// `SHOW TABLET FROM t`: a row per partition (snaprock's tablet).
pub(super) async fn tablets(session: &Session, table: ObjectName) -> Result<Output> {
    let (_, meta) = table_meta(session, &table)?;
    let int = |name| (name, CellKind::Int);
    let text = |name| (name, CellKind::Text);
    let mut rows = RowsBuilder::new(&[
        int("TabletId"),
        int("ReplicaId"),
        int("BackendId"),
        int("SchemaHash"),
        int("Version"),
        int("VersionHash"),
        int("LstSuccessVersion"),
        int("LstSuccessVersionHash"),
        int("LstFailedVersion"),
        int("LstFailedVersionHash"),
        text("LstFailedTime"),
        int("DataSize"),
        int("RowCount"),
        text("State"),
        text("LstConsistencyCheckTime"),
        int("CheckVersion"),
        int("CheckVersionHash"),
        int("VersionCount"),
        int("PathHash"),
        text("MetaUrl"),
        text("CompactionStatus"),
    ]);
    let int = |v: u64| Cell::Int(Some(v as i64));
    for p in &meta.partitions {
        rows.push(vec![
            int(p.id),
            int(p.id),
            int(crate::server_info::BACKEND_ID),
            int(0),
            int(p.version),
            int(0),
            int(p.version),
            int(0),
            Cell::Int(Some(-1)),
            int(0),
            Cell::Text(None),
            int(p.bytes()),
            int(p.rows()),
            "NORMAL".into(),
            Cell::Text(None),
            Cell::Int(Some(-1)),
            int(0),
            int(p.files.len() as u64),
            int(0),
            Cell::Text(None),
            Cell::Text(None),
        ]);
    }
    filtered(rows, None).await
}

/// `SHOW ALTER TABLE COLUMN | ROLLUP | OPTIMIZE` / `SHOW ALTER MATERIALIZED VIEW`.
pub(super) async fn alter_jobs(
    session: &Session,
    kind: &str,
    database: Option<String>,
    filter: Option<ShowFilter>,
    order: &ShowOrder,
) -> Result<Output> {
    let db = database_or_current(session, database)?;
    if kind == "MATERIALIZED VIEW" {
        return rollup_jobs(session, &db, filter, order).await;
    }
    if kind != "COLUMN" {
        // snaprock has no rollups, optimize jobs or synchronous materialized views.
        let columns: &[&str] = match kind {
            "OPTIMIZE" => &[
                "JobId",
                "TableName",
                "CreateTime",
                "FinishTime",
                "Operation",
                "TransactionId",
                "State",
                "Msg",
                "Progress",
                "Timeout",
            ],
            _ => &[
                "JobId",
                "TableName",
                "CreateTime",
                "FinishTime",
                "BaseIndexName",
                "RollupIndexName",
                "RollupId",
                "TransactionId",
                "State",
                "Msg",
                "Progress",
                "Timeout",
            ],
        };
        return filtered_ordered(RowsBuilder::text(columns), filter, order).await;
    }
    let mut rows = RowsBuilder::new(&[
        ("JobId", CellKind::Int),
        ("TableName", CellKind::Text),
        ("CreateTime", CellKind::Text),
        ("FinishTime", CellKind::Text),
        ("IndexName", CellKind::Text),
        ("IndexId", CellKind::Int),
        ("OriginIndexId", CellKind::Int),
        ("SchemaVersion", CellKind::Text),
        ("TransactionId", CellKind::Int),
        ("State", CellKind::Text),
        ("Msg", CellKind::Text),
        ("Progress", CellKind::Text),
        ("Timeout", CellKind::Int),
    ]);
    for job in session.engine.alter_jobs.of_database(&db) {
        let id = Cell::Int(Some(job.table_id as i64));
        rows.push(vec![
            Cell::Int(Some(job.job_id as i64)),
            job.table.as_str().into(),
            job.create_time.as_str().into(),
            job.finish_time.as_str().into(),
            job.table.as_str().into(),
            id.clone(),
            id,
            format!("{}:0", job.schema_version).into(),
            Cell::Int(Some(0)),
            "FINISHED".into(),
            "".into(),
            Cell::Text(None),
            Cell::Int(Some(86_400)),
        ]);
    }
    filtered_ordered(rows, filter, order).await
}

/// `SHOW ALTER MATERIALIZED VIEW`: each synchronous view's creation, FINISHED once its
/// first refresh has run (StarRocks' rollup job columns).
async fn rollup_jobs(
    session: &Session,
    db: &str,
    filter: Option<ShowFilter>,
    order: &ShowOrder,
) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("JobId", CellKind::Int),
        ("TableName", CellKind::Text),
        ("CreateTime", CellKind::Text),
        ("FinishTime", CellKind::Text),
        ("BaseIndexName", CellKind::Text),
        ("RollupIndexName", CellKind::Text),
        ("RollupId", CellKind::Int),
        ("TransactionId", CellKind::Int),
        ("State", CellKind::Text),
        ("Msg", CellKind::Text),
        ("Progress", CellKind::Text),
        ("Timeout", CellKind::Int),
    ]);
    let state = session.engine.catalog.snapshot();
    for table in state
        .database(db)
        .into_iter()
        .flat_map(|d| d.tables.values())
    {
        let Some(view) = &table.materialized_view else {
            continue;
        };
        let Some(base) = view.rollup_of() else {
            continue;
        };
        let finished = view.refreshed_from.is_some();
        let finish_time = view
            .last_refresh
            .as_ref()
            .and_then(|r| r.finish_ms)
            .filter(|_| finished)
            .map(crate::tasks::show_time);
        rows.push(vec![
            Cell::Int(Some(table.id as i64)),
            base.table.as_str().into(),
            crate::tasks::show_time(view.created_ms).into(),
            Cell::Text(finish_time),
            base.table.as_str().into(),
            table.name.as_str().into(),
            Cell::Int(Some(table.id as i64)),
            Cell::Int(Some(0)),
            if finished { "FINISHED" } else { "RUNNING" }.into(),
            "".into(),
            Cell::Text(None),
            Cell::Int(Some(86_400)),
        ]);
    }
    filtered_ordered(rows, filter, order).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_starrocks_prints_them() {
        assert_eq!(super::size_text(900), "900.000 B");
        assert_eq!(super::size_text(1434), "1.400 KB");
        assert_eq!(super::size_text(super::DATA_QUOTA), "1024.000 TB");
    }
}

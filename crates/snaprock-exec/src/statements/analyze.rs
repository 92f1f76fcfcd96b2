//! `ANALYZE TABLE`, `DROP STATS`, `SHOW ANALYZE STATUS` and `SHOW STATS META` (the statistics
//! themselves are kept by `crate::statistics`). ANALYZE scans the table with one aggregate
//! query through the session's own pipeline (so its privileges apply) and answers as StarRocks
//! does: `Table | Op | Msg_type | Msg_text` = `db.t | analyze | status | OK`.

use datafusion::arrow::util::display::array_value_to_string;
use snaprock_sql::ast::{AnalyzeTable, ObjectName, ShowFilter};
use snaprock_sql::sqlparser::ast::Statement as SqlStatement;
use snaprock_storage::{CatalogState, ColumnType};

use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::server_info::t;
use crate::session::Session;
use crate::statistics::{AnalyzeJob, ColumnStats, TableStats, healthy_percent};
use crate::tasks::show_time;
use crate::{ExecError, Result};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) async fn analyze(session: &mut Session, analyze: &AnalyzeTable) -> Result<Output> {
    let (db, name) = session.resolve(&analyze.table)?;
    let meta = session
        .engine
        .catalog
        .snapshot()
        .table(&db, &name)
        .cloned()
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?;
    let mut columns = Vec::new();
    for wanted in &analyze.columns {
        let (_, column) = meta
            .column(wanted)
            .ok_or_else(|| ExecError::UnknownColumn {
                column: wanted.clone(),
                context: "field list".into(),
            })?;
        columns.push(column.clone());
    }
    if columns.is_empty() {
        columns = meta.columns.clone();
    }
    // Complex and JSON values have no order: StarRocks collects no statistics for them.
    columns.retain(|c| !c.column_type.is_complex() && c.column_type != ColumnType::Json);
    let started = now_ms();
    let mut job = AnalyzeJob {
        id: 0,
        database: db.clone(),
        table: name.clone(),
        columns: if analyze.columns.is_empty() {
            "ALL".into()
        } else {
            columns
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>()
                .join(",")
        },
        full: analyze.full,
        status: "FINISHED",
        start_ms: started,
        end_ms: 0,
        reason: String::new(),
    };
    let collected = collect(session, &db, &name, &columns).await;
    job.end_ms = now_ms();
    let stats = match collected {
        Ok((rows, column_stats)) => TableStats {
            database: db.clone(),
            table: name.clone(),
            columns: job.columns.clone(),
            full: analyze.full,
            update_ms: job.end_ms,
            rows,
            data_versions: crate::statistics::data_versions(&meta),
            column_stats,
        },
        Err(e) => {
            job.status = "FAILED";
            job.reason = e.to_string();
            session.engine.statistics.record(job, meta.id, None);
            return Err(e);
        }
    };
    session.engine.statistics.record(job, meta.id, Some(stats));
    let mut rows = RowsBuilder::text(&["Table", "Op", "Msg_type", "Msg_text"]);
    rows.push(vec![
        t(&format!("{db}.{name}")),
        t("analyze"),
        t("status"),
        t("OK"),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

/// The table's row count and each column's statistics, from one scan.
async fn collect(
    session: &mut Session,
    db: &str,
    table: &str,
    columns: &[snaprock_storage::ColumnMeta],
) -> Result<(u64, Vec<ColumnStats>)> {
    let mut items = vec!["count(*)".to_string()];
    for c in columns {
        let q = format!("`{}`", c.name.replace('`', "``"));
        items.push(format!(
            "count(DISTINCT {q}), count(*) - count({q}), CAST(min({q}) AS VARCHAR), CAST(max({q}) AS VARCHAR)"
        ));
    }
    let sql = format!(
        "SELECT {} FROM `{}`.`{}`",
        items.join(", "),
        db.replace('`', "``"),
        table.replace('`', "``")
    );
    let query = crate::df::rewrite::parse_query_text(&sql)?;
    let batches = super::query::query_batches(session, SqlStatement::Query(query)).await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| ExecError::Execution("ANALYZE: the scan answered no row".into()))?;
    let value = |i: usize| -> Result<String> { Ok(array_value_to_string(batch.column(i), 0)?) };
    let number = |i: usize| -> Result<i64> { Ok(value(i)?.parse().unwrap_or(0)) };
    let rows = number(0)? as u64;
    let mut stats = Vec::new();
    // A DATETIME as text reads `2024-01-01T10:15:00.5`: printed as SELECT prints it.
    let shown = |text: String, column_type: &ColumnType| match column_type {
        ColumnType::DateTime => text.replacen('T', " ", 1),
        _ => text,
    };
    for (i, c) in columns.iter().enumerate() {
        let at = 1 + i * 4;
        stats.push(ColumnStats {
            name: c.name.clone(),
            distinct: number(at)?,
            nulls: number(at + 1)?,
            min: shown(value(at + 2)?, &c.column_type),
            max: shown(value(at + 3)?, &c.column_type),
        });
    }
    Ok((rows, stats))
}

/// `DROP STATS t`.
pub(crate) fn drop_stats(session: &Session, table: &ObjectName) -> Result<Output> {
    let (db, name) = session.resolve(table)?;
    let state = session.engine.catalog.snapshot();
    let meta = state
        .table(&db, &name)
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?;
    session.engine.statistics.drop_table(meta.id);
    Ok(Output::ok())
}

/// `SHOW ANALYZE STATUS`: the collections on tables the session may see.
pub(crate) async fn show_analyze_status(
    session: &Session,
    filter: Option<ShowFilter>,
    state: &CatalogState,
) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("Id", CellKind::Int),
        ("Database", CellKind::Text),
        ("Table", CellKind::Text),
        ("Columns", CellKind::Text),
        ("Type", CellKind::Text),
        ("Schedule", CellKind::Text),
        ("Status", CellKind::Text),
        ("StartTime", CellKind::Text),
        ("EndTime", CellKind::Text),
        ("Properties", CellKind::Text),
        ("Reason", CellKind::Text),
    ]);
    for job in session.engine.statistics.jobs() {
        if state.table(&job.database, &job.table).is_none() {
            continue;
        }
        rows.push(vec![
            Cell::Int(Some(job.id as i64)),
            t(&job.database),
            t(&job.table),
            t(&job.columns),
            t(kind(job.full)),
            t("ONCE"),
            t(job.status),
            t(&show_time(job.start_ms)),
            t(&show_time(job.end_ms)),
            t("{}"),
            t(&job.reason),
        ]);
    }
    super::show::filtered(rows, filter).await
}

/// `SHOW STATS META`: the tables with statistics the session may see, and how healthy.
pub(crate) async fn show_stats_meta(
    session: &Session,
    filter: Option<ShowFilter>,
    state: &CatalogState,
) -> Result<Output> {
    let mut rows = RowsBuilder::text(&[
        "Database",
        "Table",
        "Columns",
        "Type",
        "UpdateTime",
        "Properties",
        "Healthy",
        "ColumnStats",
        "TabletStatsReportTime",
        "TableHealthyMetrics",
        "TableUpdateTime",
    ]);
    for (table_id, stats) in session.engine.statistics.tables() {
        let Some(table) = state
            .table(&stats.database, &stats.table)
            .filter(|t| t.id == table_id)
        else {
            continue;
        };
        let column_stats: Vec<String> = stats
            .column_stats
            .iter()
            .map(|c| {
                format!(
                    "{}(ndv={}, nulls={}, min={}, max={})",
                    c.name, c.distinct, c.nulls, c.min, c.max
                )
            })
            .collect();
        rows.push(vec![
            t(&stats.database),
            t(&stats.table),
            t(&stats.columns),
            t(kind(stats.full)),
            t(&show_time(stats.update_ms)),
            t("{}"),
            t(&format!("{}%", healthy_percent(&stats, table))),
            t(&column_stats.join(", ")),
            t(&show_time(stats.update_ms)),
            t(&format!("rows={}", stats.rows)),
            t(&table.updated_at),
        ]);
    }
    super::show::filtered(rows, filter).await
}

fn kind(full: bool) -> &'static str {
    if full { "FULL" } else { "SAMPLE" }
}

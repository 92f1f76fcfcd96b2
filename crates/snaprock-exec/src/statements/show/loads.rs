//! `SHOW LOAD` and `SHOW ROUTINE LOAD` in StarRocks' columns. Every INSERT is a load (its
//! label given by `WITH LABEL` or generated); its record is committed with its rows (see
//! snaprock-storage's `loads`), so what is listed here is exactly what committed, FINISHED, and
//! what failed, CANCELLED with its error.
//! information_schema.loads shows the same records (`load_cells`).

use snaprock_sql::ast::{ShowFilter, ShowOrder};
use snaprock_storage::CatalogState;

use super::{database_or_current, filtered_ordered};
use crate::Result;
use crate::df::info_schema::load_tables::{WAREHOUSE, job_details, progress, visible_loads};
use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::session::Session;
use crate::tasks::show_time;

/// The loads of `database` (the current one by default) on tables the session may see.
pub(super) async fn show_load(
    session: &Session,
    database: Option<String>,
    filter: Option<ShowFilter>,
    order: &ShowOrder,
    state: &CatalogState,
) -> Result<Output> {
    let db = database_or_current(session, database)?;
    let mut rows = RowsBuilder::new(&[
        ("JobId", CellKind::Int),
        ("Label", CellKind::Text),
        ("State", CellKind::Text),
        ("Progress", CellKind::Text),
        ("Type", CellKind::Text),
        ("Priority", CellKind::Text),
        ("ScanRows", CellKind::Int),
        ("FilteredRows", CellKind::Int),
        ("UnselectedRows", CellKind::Int),
        ("SinkRows", CellKind::Int),
        ("EtlInfo", CellKind::Text),
        ("TaskInfo", CellKind::Text),
        ("ErrorMsg", CellKind::Text),
        ("CreateTime", CellKind::Text),
        ("EtlStartTime", CellKind::Text),
        ("EtlFinishTime", CellKind::Text),
        ("LoadStartTime", CellKind::Text),
        ("LoadFinishTime", CellKind::Text),
        ("TrackingSQL", CellKind::Text),
        ("JobDetails", CellKind::Text),
        ("Warehouse", CellKind::Text),
    ]);
    let timeout = session.variable("insert_timeout")?.display();
    for (label, load) in visible_loads(state, &db) {
        let created = text(show_time(load.created_ms));
        rows.push(vec![
            Cell::Int(Some(load.job_id as i64)),
            text(label.to_string()),
            text(load.state().into()),
            text(progress(load).into()),
            text("INSERT".into()),
            text("NORMAL".into()),
            Cell::Int(Some(load.rows as i64)),
            Cell::Int(Some(0)),
            Cell::Int(Some(0)),
            Cell::Int(Some(load.rows as i64)),
            Cell::Text(None),
            text(format!(
                "resource:N/A; timeout(s):{timeout}; max_filter_ratio:0.0"
            )),
            Cell::Text(load.error.clone()),
            created.clone(),
            created.clone(),
            created.clone(),
            created,
            text(show_time(load.committed_ms)),
            text(String::new()),
            text(job_details(load)),
            text(WAREHOUSE.into()),
        ]);
    }
    filtered_ordered(rows, filter, order).await
}

/// `SHOW ROUTINE LOAD`: snaprock runs no routine loads (no Kafka or Pulsar source).
pub(super) async fn show_routine_load(
    session: &Session,
    database: Option<String>,
) -> Result<Output> {
    database_or_current(session, database)?;
    let columns = [
        "Id",
        "Name",
        "CreateTime",
        "PauseTime",
        "EndTime",
        "DbName",
        "TableName",
        "State",
        "DataSourceType",
        "CurrentTaskNum",
        "JobProperties",
        "DataSourceProperties",
        "CustomProperties",
        "Statistic",
        "Progress",
        "TimestampProgress",
        "ReasonOfStateChanged",
        "ErrorLogUrls",
        "TrackingSQL",
        "OtherMsg",
        "LatestSourcePosition",
        "OffsetLag",
        "TimestampLag",
    ];
    Ok(Output::Rows(RowsBuilder::text(&columns).into_result()?))
}

fn text(s: String) -> Cell {
    Cell::Text(Some(s))
}

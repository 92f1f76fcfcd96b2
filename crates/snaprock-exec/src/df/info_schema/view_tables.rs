//! `information_schema.materialized_views` (StarRocks' columns), whose rows SHOW MATERIALIZED
//! VIEWS shows too under its own column names: one row per asynchronous materialized view,
//! with its refresh state.

use snaprock_storage::{CatalogState, MaterializedViewMeta, Partitioning, TableMeta};

use super::{NULL, StatementContext, SystemTable, t};
use crate::result::{Cell, RowsBuilder};
use crate::tasks::show_time;

pub(super) const MATERIALIZED_VIEWS: SystemTable = SystemTable {
    name: "MATERIALIZED_VIEWS",
    columns: &[
        "MATERIALIZED_VIEW_ID#",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "REFRESH_TYPE",
        "IS_ACTIVE",
        "INACTIVE_REASON",
        "PARTITION_TYPE",
        "TASK_ID#",
        "TASK_NAME",
        "LAST_REFRESH_START_TIME",
        "LAST_REFRESH_FINISHED_TIME",
        "LAST_REFRESH_DURATION",
        "LAST_REFRESH_STATE",
        "LAST_REFRESH_FORCE_REFRESH",
        "LAST_REFRESH_START_PARTITION",
        "LAST_REFRESH_END_PARTITION",
        "LAST_REFRESH_BASE_REFRESH_PARTITIONS",
        "LAST_REFRESH_MV_REFRESH_PARTITIONS",
        "LAST_REFRESH_ERROR_CODE#",
        "LAST_REFRESH_ERROR_MESSAGE",
        "TABLE_ROWS#",
        "MATERIALIZED_VIEW_DEFINITION",
        "EXTRA_MESSAGE",
        "QUERY_REWRITE_STATUS",
        "CREATOR",
    ],
    rows: materialized_views,
};

/// SHOW MATERIALIZED VIEWS' names for the same columns.
pub(crate) const SHOW_COLUMNS: &[&str] = &[
    "id#",
    "database_name",
    "name",
    "refresh_type",
    "is_active",
    "inactive_reason",
    "partition_type",
    "task_id#",
    "task_name",
    "last_refresh_start_time",
    "last_refresh_finished_time",
    "last_refresh_duration",
    "last_refresh_state",
    "last_refresh_force_refresh",
    "last_refresh_start_partition",
    "last_refresh_end_partition",
    "last_refresh_base_refresh_partitions",
    "last_refresh_mv_refresh_partitions",
    "last_refresh_error_code#",
    "last_refresh_error_message",
    "rows#",
    "text",
    "extra_message",
    "query_rewrite_status",
    "creator",
];

fn materialized_views(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    for (database, db) in &state.databases {
        for table in db.tables.values() {
            if let Some(view) = &table.materialized_view {
                rows.push(view_row(database, table, view));
            }
        }
    }
}

/// One view's row (see the module comment).
pub(crate) fn view_row(
    database: &str,
    table: &TableMeta,
    view: &MaterializedViewMeta,
) -> Vec<Cell> {
    let partition_type = match &table.partitioning {
        Partitioning::Unpartitioned => "UNPARTITIONED",
        Partitioning::Range { .. } => "RANGE",
        Partitioning::List { .. } => "LIST",
    };
    let last = view.last_refresh.as_ref();
    let time = |ms: Option<i64>| ms.map_or(NULL, |ms| t(&show_time(ms)));
    let duration = last
        .and_then(|r| Some((r.finish_ms? - r.start_ms) as f64 / 1000.0))
        .map_or(NULL, |s| t(&format!("{s:.3}")));
    let failed = last.is_some_and(|r| r.state == "FAILED");
    vec![
        Cell::Int(Some(table.id as i64)),
        t(database),
        t(&table.name),
        t(view.refresh.type_name()),
        t(if view.active { "true" } else { "false" }),
        view.inactive_reason.as_deref().map_or(NULL, t),
        t(partition_type),
        Cell::Int(Some(table.id as i64)),
        t(&crate::tasks::refresh_task_name(table.id)),
        time(last.map(|r| r.start_ms)),
        time(last.and_then(|r| r.finish_ms)),
        duration,
        last.map_or(NULL, |r| t(&r.state)),
        t(if last.is_some_and(|r| r.force) {
            "true"
        } else {
            "false"
        }),
        t(""),
        t(""),
        t("{}"),
        t(""),
        Cell::Int(Some(if failed { -1 } else { 0 })),
        t(last.and_then(|r| r.error_message.as_deref()).unwrap_or("")),
        Cell::Int(Some(table.rows() as i64)),
        t(&crate::show_create::materialized_view_ddl(table, view)),
        t(""),
        // Whether queries on its base table may be answered from it (`df/mv_rewrite.rs`).
        t(&match (&view.inactive_reason, view.active) {
            (_, true) => "VALID".to_string(),
            (Some(reason), false) => format!("INVALID: {reason}"),
            (None, false) => "INVALID".to_string(),
        }),
        t(&format!("'{}'@'{}'", view.creator_user, view.creator_host)),
    ]
}

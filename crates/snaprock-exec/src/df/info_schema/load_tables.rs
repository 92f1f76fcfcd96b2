//! `information_schema.loads` (StarRocks' columns): every INSERT's committed load, as SHOW LOAD
//! lists them, for the tables the session may see. Also what the two share.

use snaprock_storage::{CatalogState, LoadRecord};

use super::{NULL, StatementContext, SystemTable, t};
use crate::result::{Cell, RowsBuilder};
use crate::tasks::show_time;

/// StarRocks' warehouse name for the one set of compute snaprock has.
pub(crate) const WAREHOUSE: &str = "default_warehouse";
/// A load's progress: all done once it finished, nothing once it was cancelled.
pub(crate) fn progress(load: &LoadRecord) -> &'static str {
    match load.error {
        None => "ETL:100%; LOAD:100%",
        Some(_) => "ETL:0%; LOAD:0%",
    }
}

pub(super) const LOADS: SystemTable = SystemTable {
    name: "LOADS",
    columns: &[
        "ID#",
        "LABEL",
        "PROFILE_ID",
        "DB_NAME",
        "TABLE_NAME",
        "USER",
        "WAREHOUSE",
        "STATE",
        "PROGRESS",
        "TYPE",
        "PRIORITY",
        "SCAN_ROWS#",
        "SCAN_BYTES#",
        "FILTERED_ROWS#",
        "UNSELECTED_ROWS#",
        "SINK_ROWS#",
        "RUNTIME_DETAILS",
        "CREATE_TIME",
        "LOAD_START_TIME",
        "LOAD_COMMIT_TIME",
        "LOAD_FINISH_TIME",
        "PROPERTIES",
        "ERROR_MSG",
        "TRACKING_SQL",
        "REJECTED_RECORD_PATH",
        "JOB_ID#",
    ],
    rows: loads,
};

fn loads(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    for db in state.databases.keys() {
        for (label, load) in visible_loads(state, db) {
            let int = |v: u64| Cell::Int(Some(v as i64));
            let created = t(&show_time(load.created_ms));
            let committed = t(&show_time(load.committed_ms));
            rows.push(vec![
                int(load.job_id),
                t(label),
                NULL,
                t(db),
                t(&load.table),
                t(&load.user),
                t(WAREHOUSE),
                t(load.state()),
                t(progress(load)),
                t("INSERT"),
                t("NORMAL"),
                int(load.rows),
                int(0),
                int(0),
                int(0),
                int(load.rows),
                t(&job_details(load)),
                created.clone(),
                created,
                committed.clone(),
                committed,
                t("{}"),
                load.error.as_deref().map_or(NULL, t),
                NULL,
                NULL,
                int(load.job_id),
            ]);
        }
    }
}

/// `db`'s loads into tables `state` (what the session may see) holds, oldest first.
pub(crate) fn visible_loads<'a>(
    state: &'a CatalogState,
    db: &str,
) -> Vec<(&'a str, &'a LoadRecord)> {
    let Some(history) = state.loads.get(db) else {
        return Vec::new();
    };
    let mut loads: Vec<(&str, &LoadRecord)> = history
        .iter()
        .filter(|(_, load)| state.table(db, &load.table).is_some())
        .map(|(label, load)| (label.as_str(), load))
        .collect();
    loads.sort_by_key(|(_, load)| (load.job_id, load.committed_ms));
    loads
}

/// StarRocks' JobDetails of an INSERT: what it loaded.
pub(crate) fn job_details(load: &LoadRecord) -> String {
    serde_json::json!({
        "All backends": {},
        "FileNumber": 0,
        "FileSize": 0,
        "InternalTableLoadBytes": load.bytes,
        "InternalTableLoadRows": load.rows,
        "ScanBytes": 0,
        "ScanRows": load.rows,
        "TaskNumber": 1,
        "Unfinished backends": {},
    })
    .to_string()
}

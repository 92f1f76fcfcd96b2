//! `information_schema.tasks` and `task_runs` (StarRocks' columns): the scheduled tasks and
//! the history of their runs, each shown to a session that holds some privilege on or in the
//! task's database, as StarRocks filters them.

use super::{NULL, StatementContext, SystemTable, t};
use crate::result::{Cell, RowsBuilder};
use crate::tasks::show_time;
use snaprock_storage::{CatalogState, MvRefresh};

pub(super) const TASKS: SystemTable = SystemTable {
    name: "TASKS",
    columns: &[
        "TASK_NAME",
        "CREATE_TIME",
        "SCHEDULE",
        "CATALOG",
        "DATABASE",
        "DEFINITION",
        "EXPIRE_TIME",
        "PROPERTIES",
        "CREATOR",
    ],
    rows: tasks,
};

pub(super) const TASK_RUNS: SystemTable = SystemTable {
    name: "TASK_RUNS",
    columns: &[
        "QUERY_ID",
        "TASK_NAME",
        "CREATE_TIME",
        "FINISH_TIME",
        "STATE",
        "CATALOG",
        "DATABASE",
        "DEFINITION",
        "EXPIRE_TIME",
        "ERROR_CODE#",
        "ERROR_MESSAGE",
        "PROGRESS",
        "EXTRA_MESSAGE",
        "PROPERTIES",
    ],
    rows: task_runs,
};

/// Whether the session may see what belongs to `database`.
fn sees(ctx: &StatementContext, database: &str) -> bool {
    ctx.privileges
        .as_ref()
        .is_none_or(|p| p.sees_database(database))
}

fn time_cell(ms: Option<i64>) -> Cell {
    match ms {
        Some(ms) => t(&show_time(ms)),
        None => NULL,
    }
}

fn tasks(ctx: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    view_tasks(state, rows);
    for task in ctx.engine.tasks.tasks() {
        if !sees(ctx, &task.database) {
            continue;
        }
        let schedule = match &task.schedule {
            Some(s) => s.display(),
            None => "MANUAL".to_string(),
        };
        rows.push(vec![
            t(&task.name),
            time_cell(Some(task.create_time_ms)),
            t(&schedule),
            t("default_catalog"),
            t(&task.database),
            t(&task.definition),
            time_cell(task.expire_time_ms()),
            t(&properties_json(&task.properties)),
            t(&task.creator.to_string()),
        ]);
    }
}

/// The refresh task of each materialized view the session sees (StarRocks lists them as
/// tasks `mv-<id>`, scheduled MANUAL, PERIODICAL or EVENT_TRIGGERED).
fn view_tasks(state: &CatalogState, rows: &mut RowsBuilder) {
    for (database, db) in &state.databases {
        for table in db.tables.values() {
            let Some(view) = &table.materialized_view else {
                continue;
            };
            let schedule = match &view.refresh {
                MvRefresh::Manual => "MANUAL".to_string(),
                MvRefresh::Async { schedule: None } | MvRefresh::Sync => {
                    "EVENT_TRIGGERED".to_string()
                }
                MvRefresh::Async { schedule: Some(s) } => format!(
                    "PERIODICAL (START {} EVERY({} {}S))",
                    show_time(s.start_ms).replace(' ', "T"),
                    s.amount,
                    s.unit
                ),
            };
            rows.push(vec![
                t(&crate::tasks::refresh_task_name(table.id)),
                time_cell(Some(view.created_ms)),
                t(&schedule),
                t("default_catalog"),
                t(database),
                t(&format!(
                    "insert overwrite `{}` {}",
                    table.name, view.query_sql
                )),
                NULL,
                t("{}"),
                t(&format!("'{}'@'{}'", view.creator_user, view.creator_host)),
            ]);
        }
    }
}

fn task_runs(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    for run in ctx.engine.tasks.runs() {
        if !sees(ctx, &run.database) {
            continue;
        }
        let extra = run.backup.as_ref().map(|b| {
            serde_json::json!({
                "snapshot": b.snapshot,
                "repository": b.repository,
                "database": b.database,
            })
            .to_string()
        });
        rows.push(vec![
            t(&run.query_id),
            t(&run.task_name),
            time_cell(Some(run.create_time_ms)),
            time_cell(run.finish_time_ms),
            t(run.state.name()),
            t("default_catalog"),
            t(&run.database),
            t(&run.definition),
            time_cell(Some(run.expire_time_ms())),
            Cell::Int(Some(run.error_code)),
            run.error_message.as_deref().map_or(NULL, t),
            t(&format!("{}%", run.progress)),
            extra.as_deref().map_or(NULL, t),
            NULL,
        ]);
    }
}

/// A task's properties as StarRocks shows them: a JSON object.
fn properties_json(properties: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

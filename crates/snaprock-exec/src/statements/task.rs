//! SUBMIT TASK and DROP TASK: checked here, kept and run by the engine's `TaskScheduler`.

use snaprock_sql::ast::{Statement, SubmitTask};

use crate::result::{Cell, Output, RowsBuilder};
use crate::session::Session;
use crate::tasks::{Schedule, TaskRecord, now_ms};
use crate::{ExecError, Result};

/// SUBMIT TASK: checks the statement as far as it can be checked before it runs, stores the
/// task, and answers StarRocks' `TaskName | Status` row.
pub(crate) fn submit_task(session: &mut Session, stmt: &SubmitTask) -> Result<Output> {
    let database = stmt
        .name
        .as_ref()
        .and_then(|n| n.database.clone())
        .or_else(|| session.current_db.clone())
        .or_else(|| match stmt.statement.as_ref() {
            Statement::Backup(b) => b.database.clone().or_else(|| b.label_database.clone()),
            _ => None,
        })
        .ok_or(ExecError::NoDatabaseSelected)?;
    if session
        .engine
        .catalog
        .snapshot()
        .database(&database)
        .is_none()
    {
        return Err(ExecError::UnknownDatabase(database));
    }
    if let Statement::Backup(backup) = stmt.statement.as_ref() {
        session
            .engine
            .backup
            .check_backup(backup, Some(&database))?;
    }
    for (key, _) in &stmt.properties {
        let Some(variable) = key.strip_prefix("session.") else {
            return Err(ExecError::Analysis(format!(
                "Unknown property '{key}': a task takes session.<variable> properties"
            )));
        };
        session.variable(variable)?;
    }
    let now = now_ms();
    let schedule = stmt
        .schedule
        .as_ref()
        .map(|s| Schedule::from_statement(s, now))
        .transpose()?;
    let name = match &stmt.name {
        Some(n) => n.name.clone(),
        None => format!(
            "{}-{}",
            stmt.statement.kind().to_ascii_lowercase().replace(' ', "_"),
            crate::tasks::new_query_id()
        ),
    };
    session.engine.tasks.add(TaskRecord {
        name: name.clone(),
        database,
        definition: stmt.definition.clone(),
        creator: session.identity.clone(),
        create_time_ms: now,
        next_run_ms: Some(schedule.map_or(now, |s| s.first_run(now))),
        schedule,
        properties: stmt.properties.clone(),
    })?;
    let mut rows = RowsBuilder::text(&["TaskName", "Status"]);
    rows.push(vec![
        Cell::Text(Some(name)),
        Cell::Text(Some("SUBMITTED".to_string())),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

pub(crate) fn drop_task(session: &mut Session, name: &str, if_exists: bool) -> Result<Output> {
    session.engine.tasks.drop_task(name, if_exists)?;
    Ok(Output::ok())
}

//! Materialized view refreshes as task runs: the scheduler's tick starts the refreshes that
//! are due (a view's first refresh, its schedule, or for `REFRESH ASYNC` without a schedule a
//! change of its base tables' data), REFRESH starts one now, and every refresh is a run of
//! task `mv-<view id>` in `information_schema.task_runs`.
//!
//! A view one of whose base tables is gone (dropped, or dropped and created again) is made
//! inactive at the next tick, as StarRocks does when the table is dropped.
//!
//! When a view refreshes next is read from the catalog (its definition, its last refresh and
//! the base data it last read), not kept here, so a restored or renamed view needs nothing
//! else, and a refresh a crash cut short is due again when the server starts.

use std::sync::Arc;

use snaprock_sql::ast::IntervalUnit;
use snaprock_storage::{CatalogState, MaterializedViewMeta, MvRefresh};
use tokio::task::AbortHandle;
use tracing::{Instrument, info_span, warn};

use super::{RunState, Schedule, TaskRunRecord, TaskScheduler, new_query_id, now_ms};
use crate::engine::Engine;
use crate::statements::{refresh_view, update_view};
use crate::{ExecError, Result};

/// The task name StarRocks gives a view's refreshes.
pub(crate) fn task_name(view_id: u64) -> String {
    format!("mv-{view_id}")
}

/// A refresh in progress: its run and the handle that stops it.
pub(super) struct Refreshing {
    query_id: String,
    database: String,
    abort: AbortHandle,
    /// Becomes true (or closes, if the refresh is cancelled) when the refresh ends.
    done: tokio::sync::watch::Receiver<bool>,
}

impl TaskScheduler {
    /// Starts a refresh of view `view_id` now; its run's query id.
    pub(crate) fn start_refresh(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        database: &str,
        view_id: u64,
        force: bool,
    ) -> Result<String> {
        let (query_id, _) = self.spawn_refresh(engine, database, view_id, force)?;
        Ok(query_id)
    }

    /// Refreshes view `view_id` and returns when it has ended: its run's query id, or why it
    /// failed.
    pub(crate) async fn refresh_now(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        database: &str,
        view_id: u64,
        force: bool,
    ) -> Result<String> {
        let (query_id, handle) = self.spawn_refresh(engine, database, view_id, force)?;
        match handle.await {
            Ok(Some(result)) => result.map(|_| query_id),
            Ok(None) | Err(_) => Err(ExecError::Execution(format!(
                "the refresh {query_id} was cancelled"
            ))),
        }
    }

    /// CANCEL REFRESH: stops the view's refresh if one runs (its rows stay as they were).
    pub(crate) fn cancel_refresh(&self, engine: &Engine, view_id: u64) {
        let Some(running) = self.lock_refreshing().remove(&view_id) else {
            return;
        };
        running.abort.abort();
        let message = "the refresh was cancelled".to_string();
        self.update_run(&running.query_id, |r| {
            r.end(RunState::Failed, Some(message.clone()))
        });
        let _ = update_view(engine, &running.database, view_id, |v| {
            if let Some(last) = v.last_refresh.as_mut() {
                last.state = "FAILED".into();
                last.finish_ms = Some(now_ms());
                last.error_message = Some(message.clone());
            }
        });
    }

    fn lock_refreshing(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Refreshing>> {
        self.refreshing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a RUNNING run of the view's task and starts the refresh in its own task.
    fn spawn_refresh(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        database: &str,
        view_id: u64,
        force: bool,
    ) -> Result<(String, tokio::task::JoinHandle<Option<Result<u64>>>)> {
        let state = engine.catalog.snapshot();
        let (name, view) = crate::statements::view_by_id(&state, database, view_id)?;
        let run = TaskRunRecord {
            query_id: new_query_id(),
            task_name: task_name(view_id),
            database: database.to_string(),
            definition: format!("insert overwrite `{name}` {}", view.query_sql),
            create_time_ms: now_ms(),
            finish_time_ms: None,
            state: RunState::Running,
            error_code: 0,
            error_message: None,
            progress: 0,
            backup: None,
        };
        let query_id = run.query_id.clone();
        self.lock().runs.push(run);
        self.save()?;
        let span = info_span!("task_run", task = %task_name(view_id), query_id = %query_id);
        let scheduler = self.clone();
        let catalog = engine.catalog.clone();
        let engine = engine.clone();
        let db = database.to_string();
        let id = query_id.clone();
        // Registered before the refresh can end, so its end always finds and removes it.
        let mut refreshing = self.lock_refreshing();
        let (ended, done) = tokio::sync::watch::channel(false);
        let handle = catalog.background().spawn(
            async move {
                let result = refresh_view(&engine, &db, view_id, force, &id).await;
                scheduler.lock_refreshing().remove(&view_id);
                ended.send_replace(true);
                scheduler.update_run(&id, |r| match &result {
                    Ok(_) => r.end(RunState::Success, None),
                    Err(e) => r.end(RunState::Failed, Some(e.to_string())),
                });
                if let Err(e) = &result {
                    warn!(error = %e, "materialized view refresh failed");
                }
                result
            }
            .instrument(span),
        );
        refreshing.insert(
            view_id,
            Refreshing {
                query_id: query_id.clone(),
                database: database.to_string(),
                abort: handle.abort_handle(),
                done,
            },
        );
        drop(refreshing);
        Ok((query_id, handle))
    }

    /// Starts the refreshes that are due (see the module comment).
    pub(super) fn start_due_refreshes(self: &Arc<Self>, engine: &Arc<Engine>) {
        let state = engine.catalog.snapshot();
        let now = now_ms();
        let mut due = Vec::new();
        for (name, db) in &state.databases {
            if db.is_read_only() {
                continue;
            }
            for table in db.tables.values() {
                let Some(view) = &table.materialized_view else {
                    continue;
                };
                if view.active
                    && let Err(reason) = view.base_versions(&state)
                {
                    // A base table is gone: the view is inactive from now on (StarRocks).
                    let _ = update_view(engine, name, table.id, |v| {
                        v.active = false;
                        v.inactive_reason = Some(reason);
                    });
                    continue;
                }
                if refresh_due(view, &state, now) && !self.lock_refreshing().contains_key(&table.id)
                {
                    due.push((name.clone(), table.id));
                }
            }
        }
        for (database, view_id) in due {
            if let Err(e) = self.spawn_refresh(engine, &database, view_id, false) {
                warn!(error = %e, view_id, "cannot start a materialized view refresh");
            }
        }
    }

    /// After a statement that may have changed data: brings every synchronous view whose base
    /// data changed since its last refresh up to date before the statement answers (waiting
    /// for a refresh already running), so the next statement can be answered from it. Until
    /// then, and if its refresh fails, queries read the base table: a view is used only when
    /// the base data its rows were computed from is current.
    pub(crate) async fn bring_sync_views_up_to_date(self: &Arc<Self>, engine: &Arc<Engine>) {
        // A few rounds: a refresh this waits for may have started before the last change.
        for _ in 0..3 {
            let state = engine.catalog.snapshot();
            let now = now_ms();
            let stale: Vec<(String, u64)> = state
                .databases
                .iter()
                .filter(|(_, db)| !db.is_read_only())
                .flat_map(|(name, db)| db.tables.values().map(move |t| (name, t)))
                .filter(|(_, t)| {
                    t.materialized_view.as_ref().is_some_and(|v| {
                        v.refresh == MvRefresh::Sync && refresh_due(v, &state, now)
                    })
                })
                .map(|(name, t)| (name.clone(), t.id))
                .collect();
            if stale.is_empty() {
                return;
            }
            for (database, view_id) in stale {
                let running = self.lock_refreshing().get(&view_id).map(|r| r.done.clone());
                match running {
                    Some(mut done) => {
                        let _ = done.wait_for(|ended| *ended).await;
                    }
                    None => {
                        if let Err(e) = self.refresh_now(engine, &database, view_id, false).await {
                            warn!(error = %e, view_id, "synchronous view refresh failed");
                        }
                    }
                }
            }
        }
    }

    /// Views whose refresh was running when the server stopped: that refresh failed.
    pub(super) fn end_interrupted_refreshes(&self, engine: &Engine) {
        let state = engine.catalog.snapshot();
        for (name, db) in &state.databases {
            for table in db.tables.values() {
                let interrupted = table
                    .materialized_view
                    .as_ref()
                    .and_then(|v| v.last_refresh.as_ref())
                    .is_some_and(|r| r.state == "RUNNING");
                if interrupted {
                    let _ = update_view(engine, name, table.id, |v| {
                        if let Some(last) = v.last_refresh.as_mut() {
                            last.state = "FAILED".into();
                            last.error_message =
                                Some("the server stopped while the refresh was running".into());
                        }
                    });
                }
            }
        }
    }
}

/// Whether `view` should refresh now.
fn refresh_due(view: &MaterializedViewMeta, state: &CatalogState, now: i64) -> bool {
    if !view.active {
        return false;
    }
    let never_tried = view.attempted_from.is_none() && view.last_refresh.is_none();
    if never_tried {
        return true;
    }
    match &view.refresh {
        MvRefresh::Manual => false,
        MvRefresh::Async { schedule: None } | MvRefresh::Sync => view
            .base_versions(state)
            .is_ok_and(|versions| view.attempted_from.as_ref() != Some(&versions)),
        MvRefresh::Async {
            schedule: Some(schedule),
        } => {
            let Some(unit) = IntervalUnit::from_word(&schedule.unit) else {
                return false;
            };
            let schedule = Schedule {
                start_ms: schedule.start_ms,
                amount: schedule.amount,
                unit,
            };
            let last = view
                .last_refresh
                .as_ref()
                .map_or(view.created_ms, |r| r.start_ms);
            schedule.next_after(last) <= now
        }
    }
}

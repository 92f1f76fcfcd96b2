//! Materialized views end to end, one test binary: asynchronous views and query rewrite
//! (`async_views.rs`), refresh schedules, privileges and kill -9 (`refresh.rs`), synchronous
//! views (`sync_views.rs`) and their maintenance under every write, kill -9 and drops
//! (`sync_maintenance.rs`).

mod async_views;
mod refresh;
mod sync_maintenance;
mod sync_views;

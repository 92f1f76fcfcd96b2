//! Materialized views end to end, one test binary: asynchronous views and query rewrite
//! (`async_views.rs`), refresh schedules, privileges and kill -9 (`refresh.rs`), synchronous
//! views (`sync_views.rs`) and their maintenance under every write, kill -9 and drops
//! (`sync_maintenance.rs`), point-in-time restore and attach (`point_in_time.rs`).

mod async_views;
mod point_in_time;
mod refresh;
mod sync_maintenance;
mod sync_views;

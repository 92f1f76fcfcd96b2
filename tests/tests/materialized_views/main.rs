//! Materialized views end to end, one test binary: asynchronous views and query rewrite
//! (`async_views.rs`), refresh schedules, privileges and kill -9 (`refresh.rs`), synchronous
//! views (`sync_views.rs`).

mod async_views;
mod refresh;
mod sync_views;

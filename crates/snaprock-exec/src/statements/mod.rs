//! The statements, one module per family: `show/` (one function per SHOW variant), `ddl`,
//! `access` (accounts and privileges), `backup` (repositories, BACKUP, RESTORE), `query`
//! (SELECT, INSERT, DELETE, EXPLAIN through DataFusion) with `column_names`. The dispatch from
//! a parsed statement to its handler is `Session::dispatch` (`session.rs`).

mod access;
mod backup;
mod column_names;
mod ddl;
mod prepared;
mod query;
mod show;
pub use prepared::PreparedStatement;

//! Statement execution: runs parsed StarRocks statements against the catalog and storage, with
//! DataFusion as the query engine.
//!
//! A `Session` (`session.rs`) holds one client's state and dispatches each parsed statement,
//! after `authorize.rs` checked it, to its handler in `statements/` (one module per family).
//! Queries and DML run through the DataFusion layer in `df/` (catalog snapshot, tables, DML
//! sink, FILES(), information_schema, MySQL rewrites), which knows nothing of statements.

mod alter_jobs;
mod authorize;
mod df;
mod engine;
mod error;
pub mod metrics;
mod result;
mod server_info;
mod session;
mod show_create;
mod statements;
mod statistics;
mod tasks;
mod variables;

pub use df::info_schema::ServerSetting;
pub use engine::{ConnectionInfo, Engine, KillRequest};
pub use error::{ExecError, Result};
pub use metrics::{Refusal, ServerMetrics};
pub use result::{Output, OutputColumn, ResultSet};
pub use session::{Session, Warning};
pub use snaprock_storage::{ColumnType, SQL_TYPE_METADATA_KEY};
pub use statements::PreparedStatement;
pub use variables::{SERVER_VERSION, VERSION_COMMENT, VarValue};

/// Now, as catalog timestamps are written (`yyyy-MM-dd HH:mm:ss`, UTC).
pub(crate) fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

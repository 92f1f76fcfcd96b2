//! Statement execution: runs parsed StarRocks statements against the catalog and storage, with
//! DataFusion as the query engine.
//!
//! A `Session` holds one client's state. Each statement runs against one catalog snapshot
//! (`catalog_provider`): SELECT/INSERT/DELETE are rewritten (`rewrite`) and planned by DataFusion
//! over `SnaprockTable`s (`provider`, writes in `dml`); DDL, SHOW and SET are handled here
//! directly (`ddl`, `show`, `session`).

mod access_stmt;
mod authorize;
mod backup_stmt;
mod catalog_provider;
mod ddl;
mod dml;
mod engine;
mod error;
mod files_fn;
mod info_schema;
mod mysql_functions;
mod provider;
mod prune;
mod query;
mod result;
mod rewrite;
mod rewrite_functions;
mod session;
mod show;
mod show_create;
mod variables;

pub use engine::{ConnectionInfo, Engine, KillRequest};
pub use error::{ExecError, Result};
pub use result::{Output, OutputColumn, ResultSet};
pub use session::{Session, Warning};
pub use snaprock_storage::{ColumnType, SQL_TYPE_METADATA_KEY};
pub use variables::{SERVER_VERSION, VERSION_COMMENT, VarValue};

/// Now, as catalog timestamps are written (`yyyy-MM-dd HH:mm:ss`, UTC).
pub(crate) fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

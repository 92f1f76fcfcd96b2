//! RECOVER DATABASE / TABLE / PARTITION, and the expiry of the recycle bin (the catalog keeps
//! the bin, `snaprock-storage/src/recycle.rs`): what a DROP without FORCE kept comes back as it
//! was, until `catalog_trash_expire_second` (StarRocks' FE setting, 86400 by default) has passed
//! since the drop; then the bin forgets it and its files are deleted.

use snaprock_sql::ast::Recover;
use snaprock_storage::Catalog;
use tracing::{info, warn};

use crate::Result;
use crate::result::Output;
use crate::session::Session;

/// The global variable (and FE setting) that says how long dropped objects stay recoverable.
pub(crate) const TRASH_EXPIRE_SETTING: &str = "catalog_trash_expire_second";

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) async fn recover(session: &mut Session, recover: &Recover) -> Result<Output> {
    let catalog = session.engine.catalog.clone();
    match recover {
        Recover::Database(name) => {
            catalog.commit(|s| s.recover_database(name))?;
        }
        Recover::Table(name) => {
            let (db, table) = session.resolve(name)?;
            catalog.commit(|s| s.recover_table(&db, &table))?;
        }
        Recover::Partition { partition, table } => {
            let (db, table) = session.resolve(table)?;
            // Writers of the table finish first, as for ADD PARTITION.
            let table_id = catalog.snapshot().table(&db, &table).map(|t| t.id);
            let _guard = match table_id {
                Some(id) => Some(catalog.lock_table(id).await),
                None => None,
            };
            catalog.commit(|s| s.recover_partition(&db, &table, partition))?;
        }
    }
    Ok(Output::ok())
}

/// Erases from the bin what was dropped longer ago than `keep_secs`; one commit, and only when
/// something is due.
pub(crate) fn expire_recycled(catalog: &Catalog, keep_secs: u64) {
    let now = now_ms();
    let keep_ms = i64::try_from(keep_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let due = catalog
        .snapshot()
        .oldest_recycled_ms()
        .is_some_and(|oldest| now - oldest >= keep_ms);
    if !due {
        return;
    }
    match catalog.commit(|s| Ok(s.expire_recycled(now, keep_ms))) {
        Ok(erased) => info!(
            erased,
            "recycle bin: dropped objects past their time erased"
        ),
        Err(e) => warn!(error = %e, "recycle bin expiry failed"),
    }
}

//! A restored materialized view's definition: its base tables are the tables the same job
//! restored (looked up by their new ids), and its rows count as fresh only if they were
//! fresh when the snapshot was taken; an asynchronous view whose base tables did not come back
//! with it (or came back under another name) is restored inactive, with the reason, until ALTER
//! MATERIALIZED VIEW ... ACTIVE. A synchronous view follows its table's `AS` rename.

use snaprock_storage::{BaseTable, BaseVersions, CatalogState, MaterializedViewMeta};

use crate::format::{SnapshotMeta, TableSnapshot};
use crate::restore::apply::RestoreInput;

/// The definition view `snap` takes in `state` (where the job's tables are already
/// restored), if it is a view.
pub(crate) fn restored_view(
    state: &CatalogState,
    input: &RestoreInput,
    snap: &TableSnapshot,
) -> Option<MaterializedViewMeta> {
    let view = snap.materialized_view.as_ref()?;
    let mut restored = view.clone();
    restored.refreshed_from = None;
    restored.attempted_from = None;
    if restored
        .last_refresh
        .as_ref()
        .is_some_and(|r| r.state == "RUNNING")
    {
        restored.last_refresh = None;
    }
    let mut bases = Vec::new();
    for base in &view.base_tables {
        let planned = (base.database == input.meta.database)
            .then(|| input.plan.tables.iter().find(|t| t.source == base.table))
            .flatten();
        let reason = match planned {
            // A synchronous view is part of its table: it follows a rename.
            Some(t) if t.target != base.table && view.rollup_of().is_none() => Some(format!(
                "base-table renamed by restore: {} AS {}",
                base.table, t.target
            )),
            Some(t) => match state.table(input.database, &t.target) {
                Some(table) => {
                    bases.push(BaseTable {
                        database: input.database.to_string(),
                        table: t.target.clone(),
                        table_id: table.id,
                    });
                    None
                }
                None => Some(format!("base-table not restored: {}", base.table)),
            },
            None => Some(format!("base-table not restored: {}", base.table)),
        };
        if let Some(reason) = reason {
            restored.active = false;
            restored.inactive_reason = Some(reason);
            return Some(restored);
        }
    }
    restored.base_tables = bases;
    if fresh_in_snapshot(view, input.meta) {
        let now = restored.base_versions(state).ok();
        restored.refreshed_from = now.clone();
        restored.attempted_from = now;
    }
    Some(restored)
}

/// Whether the view's rows were those of its base tables as the snapshot holds them.
fn fresh_in_snapshot(view: &MaterializedViewMeta, meta: &SnapshotMeta) -> bool {
    let mut captured = BaseVersions::new();
    for base in &view.base_tables {
        let Some(table) = meta
            .tables
            .iter()
            .find(|t| t.name == base.table && t.id == base.table_id)
        else {
            return false;
        };
        captured.insert(
            table.id,
            table.partitions.iter().map(|p| (p.id, p.version)).collect(),
        );
    }
    view.refreshed_from.as_ref() == Some(&captured)
}

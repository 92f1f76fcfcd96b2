//! What a restore does to the catalog (reference §3.4), as one function over a catalog state:
//! run on a copy to check a job before it downloads anything, and inside the single catalog
//! commit that switches every table, partition and view of the job at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use snaprock_storage::{
    CatalogState, DataFile, DatabaseMeta, PartitionMeta, Partitioning, TableMeta, ViewMeta,
};

use crate::format::{SnapshotMeta, TableSnapshot};
use crate::job::status_error;
use crate::restore::job::RestorePlan;

/// A table (`partition` = None) or partition of a restore target, by target table name.
pub(crate) type ObjectKey = (String, Option<String>);

/// The data files of each restored (target table, partition), in the snapshot's order.
pub(crate) type RestoredFiles = BTreeMap<(String, String), Vec<Arc<DataFile>>>;

/// Everything a restore commit needs besides the catalog state.
pub(crate) struct RestoreInput<'a> {
    pub database: &'a str,
    pub meta: &'a SnapshotMeta,
    pub plan: &'a RestorePlan,
    /// The downloaded files of each (target table, partition).
    pub files: &'a RestoredFiles,
    /// Ids chosen before the download for tables and partitions (see [`reserve_ids`]).
    pub reserved: &'a BTreeMap<ObjectKey, u64>,
    /// `yyyy-MM-dd HH:mm:ss`.
    pub now: &'a str,
}

/// Ids for every target table and partition: the existing ones, or new ones allocated in
/// `state` (the data files are downloaded into directories named after them).
pub(crate) fn reserve_ids(
    state: &mut CatalogState,
    database: &str,
    plan: &RestorePlan,
) -> BTreeMap<ObjectKey, u64> {
    let mut ids = BTreeMap::new();
    for table in &plan.tables {
        let existing = state.table(database, &table.target).cloned();
        let table_id = match &existing {
            Some(t) => t.id,
            None => state.allocate_id(),
        };
        ids.insert((table.target.clone(), None), table_id);
        for p in &table.partitions {
            let id = match existing.as_ref().and_then(|t| t.partition(p)) {
                Some(existing) => existing.id,
                None => state.allocate_id(),
            };
            ids.insert((table.target.clone(), Some(p.clone())), id);
        }
    }
    ids
}

pub(crate) fn snapshot_table<'m>(
    meta: &'m SnapshotMeta,
    name: &str,
) -> Result<&'m TableSnapshot, String> {
    meta.tables.iter().find(|t| t.name == name).ok_or_else(|| {
        status_error(
            "COMMON_ERROR",
            &format!(
                "Table {name} does not exist in snapshot {} (its meta file lacks it)",
                meta.snapshot
            ),
        )
    })
}

/// Applies the restore to `state`; on failure returns the job's Status and `state` must be
/// thrown away (the caller works on a copy or inside a commit that then aborts).
pub(crate) fn apply_restore(state: &mut CatalogState, input: &RestoreInput) -> Result<(), String> {
    let common = |msg: String| status_error("COMMON_ERROR", &msg);
    if !state.databases.contains_key(input.database) {
        let id = state.allocate_id();
        state.databases.insert(
            input.database.to_string(),
            Arc::new(DatabaseMeta {
                id,
                name: input.database.to_string(),
                created_at: input.now.to_string(),
                tables: BTreeMap::new(),
                views: BTreeMap::new(),
                attached: None,
                storage_volume: None,
                followed_volume: None,
            }),
        );
    }
    let fresh_id = |state: &mut CatalogState, key: &ObjectKey| {
        input
            .reserved
            .get(key)
            .copied()
            .unwrap_or_else(|| state.allocate_id())
    };
    for planned in &input.plan.tables {
        let snap = snapshot_table(input.meta, &planned.source)?;
        let target = &planned.target;
        let existing = state
            .database(input.database)
            .and_then(|db| db.tables.get(target).cloned());
        if state
            .database(input.database)
            .is_some_and(|db| db.views.contains_key(target))
        {
            return Err(common(format!(
                "Table: {target} has existed and it is a View"
            )));
        }
        let created = existing.is_none();
        let mut table = match existing {
            Some(existing) => {
                check_same_schema(&existing, snap, target).map_err(common)?;
                TableMeta::clone(&existing)
            }
            None => {
                let id = fresh_id(state, &(target.clone(), None));
                let mut properties = snap.properties.clone();
                state.forget_unknown_volume(&mut properties);
                TableMeta {
                    id,
                    name: target.clone(),
                    columns: snap.columns.clone(),
                    keys_model: snap.keys_model,
                    key_columns: snap.key_columns.clone(),
                    partitioning: snap.partitioning.clone(),
                    partitions: Vec::new(),
                    distribution: snap.distribution.clone(),
                    properties,
                    comment: snap.comment.clone(),
                    created_at: input.now.to_string(),
                    updated_at: input.now.to_string(),
                    materialized_view: None,
                    indexes: snap.indexes.clone(),
                }
            }
        };
        for name in &planned.partitions {
            let Some(source) = snap.partitions.iter().find(|p| p.name == *name) else {
                return Err(common(format!(
                    "Partition {name} of table {} does not exist in snapshot {}",
                    planned.source, input.meta.snapshot
                )));
            };
            let files = input
                .files
                .get(&(target.clone(), name.clone()))
                .cloned()
                .unwrap_or_default();
            if let Some(current) = table.partitions.iter_mut().find(|p| p.name == *name) {
                if current.bounds != source.bounds {
                    return Err(common(format!(
                        "Partition {name} in table {target} has different range with partition \
                         in repository"
                    )));
                }
                current.files = files;
                current.version += 1;
                current.version_time = input.now.to_string();
                continue;
            }
            if planned.unpartitioned && !created {
                return Err(common(format!(
                    "No partition exist in single partitioned table {target}"
                )));
            }
            let overlaps = table
                .overlapping_partition(&source.bounds)
                .map_err(|e| common(e.to_string()))?
                .is_some();
            if overlaps {
                return Err(common(format!(
                    "Partition {name} in table {target} has conflict range with existing ranges"
                )));
            }
            let id = fresh_id(state, &(target.clone(), Some(name.clone())));
            table.partitions.push(PartitionMeta {
                id,
                name: name.clone(),
                bounds: source.bounds.clone(),
                version: source.version.max(1),
                version_time: input.now.to_string(),
                files,
            });
        }
        table.sort_partitions();
        table.updated_at = input.now.to_string();
        let db = state
            .databases
            .get_mut(input.database)
            .ok_or_else(|| common(format!("database {} disappeared", input.database)))?;
        Arc::make_mut(db)
            .tables
            .insert(target.clone(), Arc::new(table));
    }
    restore_view_definitions(state, input)?;
    for planned in &input.plan.views {
        let Some(view) = input.meta.views.iter().find(|v| v.name == planned.source) else {
            return Err(common(format!(
                "Table {} does not exist in snapshot {}",
                planned.source, input.meta.snapshot
            )));
        };
        let db = state
            .databases
            .get_mut(input.database)
            .ok_or_else(|| common(format!("database {} disappeared", input.database)))?;
        if db.tables.contains_key(&planned.target) {
            return Err(status_error(
                "BAD_REPLACE",
                &format!("Table: {} has existed and it is not a View", planned.target),
            ));
        }
        Arc::make_mut(db).views.insert(
            planned.target.clone(),
            Arc::new(ViewMeta {
                name: planned.target.clone(),
                columns: view.columns.clone(),
                query_sql: view.query_sql.clone(),
                comment: view.comment.clone(),
                created_at: input.now.to_string(),
            }),
        );
    }
    Ok(())
}

/// Gives each restored materialized view its definition, once its base tables are restored.
fn restore_view_definitions(state: &mut CatalogState, input: &RestoreInput) -> Result<(), String> {
    for planned in &input.plan.tables {
        let snap = snapshot_table(input.meta, &planned.source)?;
        let Some(view) = super::materialized_views::restored_view(state, input, snap) else {
            continue;
        };
        let db = state
            .databases
            .get_mut(input.database)
            .ok_or_else(|| status_error("COMMON_ERROR", "the target database disappeared"))?;
        if let Some(table) = Arc::make_mut(db).tables.get_mut(&planned.target) {
            Arc::make_mut(table).materialized_view = Some(Arc::new(view));
        }
    }
    Ok(())
}

/// An existing table must have the snapshot's schema to be restored into (StarRocks' texts).
fn check_same_schema(
    existing: &TableMeta,
    snap: &TableSnapshot,
    target: &str,
) -> Result<(), String> {
    let different = |detail: String| {
        format!("Table {target} already exist but with different schema, errMsg: {detail}")
    };
    if existing.keys_model != snap.keys_model {
        return Err(format!(
            "Table {target} already exist but with different key type"
        ));
    }
    if existing.columns.len() != snap.columns.len() {
        return Err(different(format!(
            "the existing table has {} columns, the snapshot's has {}",
            existing.columns.len(),
            snap.columns.len()
        )));
    }
    for (mine, theirs) in existing.columns.iter().zip(&snap.columns) {
        let same = mine.name.eq_ignore_ascii_case(&theirs.name)
            && mine.column_type == theirs.column_type
            && mine.nullable == theirs.nullable
            && mine.is_key == theirs.is_key
            && mine.aggregation == theirs.aggregation;
        if !same {
            return Err(format!(
                "Table {target} already exist but with different schema, column: {} {} in \
                 existed table is different from the column in backup snapshot, column: {} {}",
                mine.name,
                mine.column_type.sql(),
                theirs.name,
                theirs.column_type.sql()
            ));
        }
    }
    let lower = |names: &[String]| names.iter().map(|n| n.to_lowercase()).collect::<Vec<_>>();
    if lower(&existing.key_columns) != lower(&snap.key_columns) {
        return Err(different(format!(
            "key columns ({}) differ from the snapshot's ({})",
            existing.key_columns.join(", "),
            snap.key_columns.join(", ")
        )));
    }
    let same_partitioning = std::mem::discriminant(&existing.partitioning)
        == std::mem::discriminant(&snap.partitioning)
        && lower(existing.partitioning.columns()) == lower(snap.partitioning.columns());
    if !same_partitioning {
        return Err(different(format!(
            "partitioning {} differs from the snapshot's {}",
            describe_partitioning(&existing.partitioning),
            describe_partitioning(&snap.partitioning)
        )));
    }
    Ok(())
}

fn describe_partitioning(p: &Partitioning) -> String {
    match p {
        Partitioning::Unpartitioned => "none".to_string(),
        Partitioning::Range { columns, .. } => format!("RANGE({})", columns.join(", ")),
        Partitioning::List { columns, .. } => format!("LIST({})", columns.join(", ")),
    }
}

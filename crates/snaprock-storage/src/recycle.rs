//! The recycle bin (StarRocks' `CatalogRecycleBin`). `DROP DATABASE`, `DROP TABLE` and
//! `ALTER TABLE ... DROP PARTITION` without `FORCE` move what they drop here, metadata and data
//! files alike, for `catalog_trash_expire_second`; `RECOVER` puts it back exactly as it was
//! (same ids, versions and files, so a backup after a recover reuses every file); expiry erases
//! it, and its files are then deleted like any file no state lists. The bin is part of the
//! catalog state, so a drop, a recover and an expiry are each one atomic commit and the bin
//! survives restarts. As in StarRocks, only the latest drop of a name can be recovered: a newer
//! drop of the same name erases the older entry.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::meta::{CatalogState, DataFile, DatabaseMeta, PartitionMeta, TableMeta};
use crate::{Result, StorageError};

/// What the drops without FORCE kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecycleBin {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<RecycledDatabase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<RecycledTable>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<RecycledPartition>,
}

/// A dropped database, with the tables it had when it was dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecycledDatabase {
    pub database: Arc<DatabaseMeta>,
    /// Epoch milliseconds.
    pub dropped_ms: i64,
}

/// A dropped table of a database that still exists (by id: a database dropped and created
/// again is another database).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecycledTable {
    pub database_id: u64,
    pub table: Arc<TableMeta>,
    pub dropped_ms: i64,
}

/// A dropped partition of a table (by id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecycledPartition {
    pub table_id: u64,
    pub partition: PartitionMeta,
    pub dropped_ms: i64,
}

impl RecycleBin {
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty() && self.tables.is_empty() && self.partitions.is_empty()
    }

    /// The files of the entries this bin holds and `newer` no longer does (an entry is one
    /// drop: its object's id and drop time). Cheap when nothing left: the bin is small, and
    /// this runs at every commit.
    pub fn files_gone_from(&self, newer: &RecycleBin) -> Vec<Arc<DataFile>> {
        let kept: std::collections::HashSet<(u64, i64)> = newer.entry_keys().collect();
        let gone = |key: (u64, i64)| !kept.contains(&key);
        let databases = self
            .databases
            .iter()
            .filter(|d| gone((d.database.id, d.dropped_ms)))
            .flat_map(|d| d.database.tables.values())
            .flat_map(|t| t.partitions.iter());
        let tables = self
            .tables
            .iter()
            .filter(|t| gone((t.table.id, t.dropped_ms)))
            .flat_map(|t| t.table.partitions.iter());
        let partitions = self
            .partitions
            .iter()
            .filter(|p| gone((p.partition.id, p.dropped_ms)))
            .map(|p| &p.partition);
        databases
            .chain(tables)
            .chain(partitions)
            .flat_map(|p| p.files.iter().cloned())
            .collect()
    }

    /// (object id, drop time) of every entry; ids are unique across databases, tables and
    /// partitions.
    fn entry_keys(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.databases
            .iter()
            .map(|d| (d.database.id, d.dropped_ms))
            .chain(self.tables.iter().map(|t| (t.table.id, t.dropped_ms)))
            .chain(
                self.partitions
                    .iter()
                    .map(|p| (p.partition.id, p.dropped_ms)),
            )
    }

    /// Every data file the bin keeps.
    pub fn files(&self) -> impl Iterator<Item = &Arc<DataFile>> {
        let databases = self
            .databases
            .iter()
            .flat_map(|d| d.database.tables.values())
            .flat_map(|t| t.partitions.iter());
        let tables = self.tables.iter().flat_map(|t| t.table.partitions.iter());
        let partitions = self.partitions.iter().map(|p| &p.partition);
        databases
            .chain(tables)
            .chain(partitions)
            .flat_map(|p| p.files.iter())
    }
}

impl CatalogState {
    /// DROP DATABASE without FORCE: the database, tables and all, goes to the bin.
    pub fn recycle_database(&mut self, name: &str, now_ms: i64) -> Option<Arc<DatabaseMeta>> {
        let database = self.databases.remove(name)?;
        let bin = &mut self.recycle_bin;
        bin.databases.retain(|d| d.database.name != name);
        bin.databases.push(RecycledDatabase {
            database: database.clone(),
            dropped_ms: now_ms,
        });
        Some(database)
    }

    /// Takes table `table` of `database` out of the catalog with its synchronous materialized
    /// views (StarRocks drops them with their table); the table comes first.
    pub fn remove_table(&mut self, database: &str, table: &str) -> Result<Vec<Arc<TableMeta>>> {
        let db = self
            .databases
            .get_mut(database)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        let db = Arc::make_mut(db);
        let removed = db
            .tables
            .remove(table)
            .ok_or_else(|| StorageError::UnknownTable {
                database: database.to_string(),
                table: table.to_string(),
            })?;
        let rollups: Vec<String> = db
            .tables
            .values()
            .filter(|t| rollup_of(t) == Some(removed.id))
            .map(|t| t.name.clone())
            .collect();
        let mut tables = vec![removed];
        tables.extend(rollups.iter().filter_map(|name| db.tables.remove(name)));
        Ok(tables)
    }

    /// DROP TABLE without FORCE: the table and its synchronous views go to the bin.
    pub fn recycle_table(&mut self, database: &str, table: &str, now_ms: i64) -> Result<()> {
        let removed = self.remove_table(database, table)?;
        let database_id = self
            .databases
            .get(database)
            .map(|db| db.id)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        let bin = &mut self.recycle_bin;
        for table in removed {
            bin.tables
                .retain(|t| !(t.database_id == database_id && t.table.name == table.name));
            bin.tables.push(RecycledTable {
                database_id,
                table,
                dropped_ms: now_ms,
            });
        }
        Ok(())
    }

    /// ALTER TABLE ... DROP PARTITION without FORCE: `partition`, already taken out of table
    /// `table_id`, goes to the bin.
    pub fn recycle_partition(&mut self, table_id: u64, partition: PartitionMeta, now_ms: i64) {
        let bin = &mut self.recycle_bin;
        bin.partitions.retain(|p| {
            !(p.table_id == table_id && p.partition.name.eq_ignore_ascii_case(&partition.name))
        });
        bin.partitions.push(RecycledPartition {
            table_id,
            partition,
            dropped_ms: now_ms,
        });
    }

    /// RECOVER DATABASE: StarRocks' errors when the name is taken or nothing is in the bin.
    pub fn recover_database(&mut self, name: &str) -> Result<()> {
        if self.databases.contains_key(name) {
            return Err(StorageError::Recycle(format!(
                "Database[{name}] already exist."
            )));
        }
        let at = self
            .recycle_bin
            .databases
            .iter()
            .rposition(|d| d.database.name == name)
            .ok_or_else(|| StorageError::UnknownDatabase(name.to_string()))?;
        let recycled = self.recycle_bin.databases.remove(at);
        self.databases.insert(name.to_string(), recycled.database);
        Ok(())
    }

    /// RECOVER TABLE.
    pub fn recover_table(&mut self, database: &str, table: &str) -> Result<()> {
        let db = self
            .databases
            .get(database)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        if db.tables.contains_key(table) || db.views.contains_key(table) {
            return Err(StorageError::TableExists(table.to_string()));
        }
        let database_id = db.id;
        let at = self
            .recycle_bin
            .tables
            .iter()
            .rposition(|t| t.database_id == database_id && t.table.name == table)
            .ok_or_else(|| StorageError::NotInRecycleBin(table.to_string()))?;
        let recycled = self.recycle_bin.tables.remove(at);
        let table_id = recycled.table.id;
        let db = self
            .databases
            .get_mut(database)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        let db = Arc::make_mut(db);
        db.tables.insert(table.to_string(), recycled.table);
        // Its synchronous views come back with it (when their names are still free).
        let bin = &mut self.recycle_bin.tables;
        let (rollups, rest): (Vec<_>, Vec<_>) = std::mem::take(bin).into_iter().partition(|t| {
            t.database_id == database_id
                && rollup_of(&t.table) == Some(table_id)
                && !db.tables.contains_key(&t.table.name)
        });
        *bin = rest;
        for rollup in rollups {
            db.tables.insert(rollup.table.name.clone(), rollup.table);
        }
        Ok(())
    }

    /// RECOVER PARTITION: back into its table, unless its name or its range is taken by now.
    pub fn recover_partition(
        &mut self,
        database: &str,
        table: &str,
        partition: &str,
    ) -> Result<()> {
        let meta = self
            .table(database, table)
            .ok_or_else(|| StorageError::UnknownTable {
                database: database.to_string(),
                table: table.to_string(),
            })?;
        if meta.partition(partition).is_some() {
            return Err(StorageError::Recycle(format!(
                "partition[{partition}] already exist in table[{table}]"
            )));
        }
        let table_id = meta.id;
        let at = self
            .recycle_bin
            .partitions
            .iter()
            .rposition(|p| p.table_id == table_id && p.partition.name.eq_ignore_ascii_case(partition))
            .ok_or_else(|| {
                StorageError::Recycle(format!(
                    "No partition named '{partition}' in recycle bin that belongs to table '{table}'"
                ))
            })?;
        let recycled = self.recycle_bin.partitions[at].partition.clone();
        meta.check_no_overlap(&recycled.bounds, &recycled.name)?;
        self.recycle_bin.partitions.remove(at);
        let db = self
            .databases
            .get_mut(database)
            .ok_or_else(|| StorageError::UnknownDatabase(database.to_string()))?;
        let tm = Arc::make_mut(
            Arc::make_mut(db)
                .tables
                .get_mut(table)
                .ok_or(StorageError::Conflict)?,
        );
        tm.partitions.push(recycled);
        tm.sort_partitions();
        Ok(())
    }

    /// Erases what was dropped more than `keep_ms` ago; returns how many entries went.
    pub fn expire_recycled(&mut self, now_ms: i64, keep_ms: i64) -> usize {
        let bin = &mut self.recycle_bin;
        let before = bin.databases.len() + bin.tables.len() + bin.partitions.len();
        let live = |dropped_ms: i64| now_ms - dropped_ms < keep_ms;
        bin.databases.retain(|d| live(d.dropped_ms));
        bin.tables.retain(|t| live(t.dropped_ms));
        bin.partitions.retain(|p| live(p.dropped_ms));
        before - (bin.databases.len() + bin.tables.len() + bin.partitions.len())
    }

    /// The oldest drop time in the bin, if any: when the next expiry is due.
    pub fn oldest_recycled_ms(&self) -> Option<i64> {
        let bin = &self.recycle_bin;
        bin.databases
            .iter()
            .map(|d| d.dropped_ms)
            .chain(bin.tables.iter().map(|t| t.dropped_ms))
            .chain(bin.partitions.iter().map(|p| p.dropped_ms))
            .min()
    }
}

/// The id of the table whose synchronous materialized view `table` is.
fn rollup_of(table: &TableMeta) -> Option<u64> {
    table
        .materialized_view
        .as_ref()
        .and_then(|v| v.rollup_of())
        .map(|base| base.table_id)
}

//! Commit watches: what a continuous backup needs from the catalog. A watch names a database
//! (all its tables and views, or some tables); every commit that changes what it covers is
//! recorded in the watch, inside the same atomic catalog write, as a small delta (the tables'
//! definitions and only their changed partitions). The watch keeps its pending commits, and
//! the files they list, until the backup has shipped them and drains them: no commit is missed
//! and no file it needs is deleted, across a kill -9 too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::meta::{CatalogState, DatabaseMeta, TableMeta, ViewMeta};

/// One continuous backup's view of the catalog, persisted in `catalog.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitWatch {
    pub database: String,
    /// The covered tables; `None` covers the whole database (its views and later tables too).
    pub tables: Option<Vec<String>>,
    /// The sequence number the next recorded commit gets (the first is 1).
    pub next_seq: u64,
    /// Commit time (epoch ms) of the latest recorded commit, or when the watch began: commit
    /// times never go backwards.
    pub last_time_ms: i64,
    /// Commits recorded and not yet drained, oldest first.
    pub pending: Vec<WatchedCommit>,
}

/// One commit to covered objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchedCommit {
    pub seq: u64,
    pub time_ms: i64,
    pub tables: Vec<TableChange>,
    /// Every view of the database after the commit, when the commit changed views (whole
    /// database watches only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<Arc<ViewMeta>>>,
}

/// How one covered table changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableChange {
    pub name: String,
    /// The table after the commit with only its new or changed partitions; `None`: dropped.
    pub table: Option<TableMeta>,
    /// The names of all its partitions after the commit, in order (those not listed are gone).
    pub partition_names: Vec<String>,
    /// The table is new under this name (created, recreated or renamed to it): `table` has
    /// all its partitions.
    pub whole: bool,
}

impl CommitWatch {
    pub fn new(database: &str, tables: Option<Vec<String>>, now_ms: i64) -> Self {
        CommitWatch {
            database: database.to_string(),
            tables,
            next_seq: 1,
            last_time_ms: now_ms,
            pending: Vec::new(),
        }
    }

    /// Relative paths of the local files the pending commits list.
    pub fn pending_paths(&self) -> impl Iterator<Item = &str> {
        self.pending
            .iter()
            .flat_map(|c| &c.tables)
            .filter_map(|t| t.table.as_ref())
            .flat_map(|t| &t.partitions)
            .flat_map(|p| &p.files)
            .filter(|f| f.home.is_local())
            .map(|f| f.path.as_str())
    }

    fn covers(&self, table: &str) -> bool {
        self.tables
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == table))
    }

    /// Records the commit `old` → `new` if it changed anything covered.
    fn record(&mut self, old: &CatalogState, new: &CatalogState, now_ms: i64) {
        let old_db = old.databases.get(&self.database);
        let new_db = new.databases.get(&self.database);
        if let (Some(a), Some(b)) = (old_db, new_db)
            && Arc::ptr_eq(a, b)
        {
            return;
        }
        let mut names: BTreeSet<&String> = BTreeSet::new();
        for db in [old_db, new_db].into_iter().flatten() {
            names.extend(db.tables.keys().filter(|n| self.covers(n)));
        }
        let tables: Vec<TableChange> = names
            .into_iter()
            .filter_map(|name| table_change(name, table_in(old_db, name), table_in(new_db, name)))
            .collect();
        let views = match self.tables {
            Some(_) => None,
            None => views_change(old_db, new_db),
        };
        if tables.is_empty() && views.is_none() {
            return;
        }
        let time_ms = now_ms.max(self.last_time_ms);
        self.pending.push(WatchedCommit {
            seq: self.next_seq,
            time_ms,
            tables,
            views,
        });
        self.next_seq += 1;
        self.last_time_ms = time_ms;
    }
}

/// Records the commit `old` → `new` in every watch of `new`.
pub(crate) fn record_watched_commits(old: &CatalogState, new: &mut CatalogState, now_ms: i64) {
    if new.commit_watches.is_empty() {
        return;
    }
    let mut watches = std::mem::take(&mut new.commit_watches);
    for watch in watches.values_mut() {
        watch.record(old, new, now_ms);
    }
    new.commit_watches = watches;
}

fn table_in<'a>(db: Option<&'a Arc<DatabaseMeta>>, name: &str) -> Option<&'a Arc<TableMeta>> {
    db.and_then(|d| d.tables.get(name))
}

fn table_change(
    name: &str,
    old: Option<&Arc<TableMeta>>,
    new: Option<&Arc<TableMeta>>,
) -> Option<TableChange> {
    let new = match (old, new) {
        (None, None) => return None,
        (Some(a), Some(b)) if Arc::ptr_eq(a, b) => return None,
        (Some(_), None) => {
            return Some(TableChange {
                name: name.to_string(),
                table: None,
                partition_names: Vec::new(),
                whole: false,
            });
        }
        (_, Some(new)) => new,
    };
    let partition_names: Vec<String> = new.partitions.iter().map(|p| p.name.clone()).collect();
    let old = old.filter(|o| o.id == new.id);
    let Some(old) = old else {
        return Some(TableChange {
            name: name.to_string(),
            table: Some(TableMeta::clone(new)),
            partition_names,
            whole: true,
        });
    };
    let old_versions: BTreeMap<(&str, u64), u64> = old
        .partitions
        .iter()
        .map(|p| ((p.name.as_str(), p.id), p.version))
        .collect();
    let changed: Vec<_> = new
        .partitions
        .iter()
        .filter(|p| old_versions.get(&(p.name.as_str(), p.id)) != Some(&p.version))
        .cloned()
        .collect();
    let old_names: Vec<&str> = old.partitions.iter().map(|p| p.name.as_str()).collect();
    let same_names = old_names
        == partition_names
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>();
    if changed.is_empty() && same_names && same_definition(old, new) {
        return None;
    }
    let mut table = TableMeta::clone(new);
    table.partitions = changed;
    Some(TableChange {
        name: name.to_string(),
        table: Some(table),
        partition_names,
        whole: false,
    })
}

/// Whether two versions of a table have the same definition (everything but partitions).
fn same_definition(a: &TableMeta, b: &TableMeta) -> bool {
    let definition = |t: &TableMeta| {
        let mut t = t.clone();
        t.partitions.clear();
        t.updated_at.clear();
        serde_json::to_string(&t).unwrap_or_default()
    };
    definition(a) == definition(b)
}

fn views_change(
    old: Option<&Arc<DatabaseMeta>>,
    new: Option<&Arc<DatabaseMeta>>,
) -> Option<Vec<Arc<ViewMeta>>> {
    let empty = BTreeMap::new();
    let old_views = old.map_or(&empty, |d| &d.views);
    let new_views = new.map_or(&empty, |d| &d.views);
    let same = old_views.len() == new_views.len()
        && old_views
            .iter()
            .zip(new_views.iter())
            .all(|((a, va), (b, vb))| a == b && Arc::ptr_eq(va, vb));
    (!same).then(|| new_views.values().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{
        DataFile, DistributionMeta, KeysModel, PartitionBounds, PartitionMeta, Partitioning,
    };

    fn partition(name: &str, id: u64, version: u64) -> PartitionMeta {
        PartitionMeta {
            id,
            name: name.into(),
            bounds: PartitionBounds::All,
            version,
            version_time: String::new(),
            files: vec![Arc::new(DataFile {
                path: format!("{name}-{version}.parquet"),
                rows: 1,
                bytes: 1,
                sha256: format!("{name}{version}"),
                home: Default::default(),
                deleted: None,
            })],
        }
    }

    fn table(id: u64, partitions: Vec<PartitionMeta>) -> Arc<TableMeta> {
        Arc::new(TableMeta {
            id,
            name: "t".into(),
            columns: vec![],
            keys_model: KeysModel::Duplicate,
            key_columns: vec![],
            partitioning: Partitioning::Unpartitioned,
            partitions,
            distribution: DistributionMeta::Random { buckets: None },
            properties: vec![],
            comment: None,
            created_at: String::new(),
            updated_at: String::new(),
            materialized_view: None,
            indexes: Vec::new(),
        })
    }

    #[test]
    fn a_change_carries_only_changed_partitions_and_a_new_table_all_of_them() {
        let old = table(1, vec![partition("p1", 10, 1), partition("p2", 11, 1)]);
        assert!(table_change("t", Some(&old), Some(&old)).is_none());
        // A copy with nothing changed (a commit that rebuilt the table) records nothing.
        let same = Arc::new(TableMeta::clone(&old));
        assert!(table_change("t", Some(&old), Some(&same)).is_none());

        let new = table(1, vec![partition("p1", 10, 1), partition("p2", 11, 2)]);
        let change = table_change("t", Some(&old), Some(&new)).unwrap();
        let changed = change.table.unwrap();
        assert_eq!(changed.partitions.len(), 1);
        assert_eq!(changed.partitions[0].name, "p2");
        assert_eq!(change.partition_names, ["p1", "p2"]);
        assert!(!change.whole);

        let recreated = table(2, vec![partition("p1", 20, 1)]);
        let change = table_change("t", Some(&old), Some(&recreated)).unwrap();
        assert!(change.whole);
        assert_eq!(change.table.unwrap().partitions.len(), 1);

        let dropped = table_change("t", Some(&old), None).unwrap();
        assert!(dropped.table.is_none());
    }

    #[test]
    fn pending_commits_hold_their_local_files() {
        let new = table(1, vec![partition("p1", 10, 2)]);
        let mut watch = CommitWatch::new("d", None, 0);
        watch.pending.push(WatchedCommit {
            seq: 1,
            time_ms: 5,
            tables: vec![TableChange {
                name: "t".into(),
                table: Some(TableMeta::clone(&new)),
                partition_names: vec!["p1".into()],
                whole: false,
            }],
            views: None,
        });
        let mut state = CatalogState::default();
        state.commit_watches.insert("backup-1".into(), watch);
        let held: Vec<&str> = state.held_paths().collect();
        assert_eq!(held, ["p1-2.parquet"]);
    }
}

//! Several servers over one storage volume: the server that writes a volume publishes the
//! catalog of its tables there, and servers that follow the volume show them read-only.
//!
//! * **Publishing.** The writer (the server `snaprock/owner.json` names) puts
//!   [`VOLUME_CATALOG_KEY`] after each commit that changes its databases and tables on the
//!   volume: their schemas, partitions, versions and files. It is one whole-object PUT, so a
//!   reader gets the old or the new catalog, never part of one, and it lists only files already
//!   in the volume (every file is uploaded before the commit that lists it). The writer's local
//!   catalog stays its source of truth; after a crash the next start publishes it again.
//! * **Following.** A server that adopted the volume (its owner is another cluster) reads the
//!   object every [`FOLLOW_EVERY`] and, when the writer's version moved, replaces the databases
//!   it mirrors in one commit ([`Catalog::commit_as`]): files are re-homed under its own name
//!   for the volume and given ids of its own. Every other commit is refused if it changes a
//!   followed database ([`check_followed_unchanged`]), so no write path can forget the rule.
//! * **Lifetimes.** The writer deletes a retired object only after the retire grace
//!   (`--volume-retire-grace-secs`), so queries a follower started on the version before finish.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::catalog::Catalog;
use crate::locations::FileHome;
use crate::meta::{CatalogState, DatabaseMeta, TableMeta};
use crate::volume_files::STORAGE_VOLUME_PROPERTY;
use crate::{Result, StorageError};

/// Where in a volume's location the writer publishes its catalog.
pub const VOLUME_CATALOG_KEY: &str = "snaprock/catalog.json";

/// How often the writer looks for commits to publish.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// How often a follower reads the published catalog.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// The format of [`VOLUME_CATALOG_KEY`].
const FORMAT: u32 = 1;

/// What the writer publishes.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishedCatalog {
    pub format: u32,
    /// The writer.
    pub cluster_id: String,
    /// The writer's catalog version this was taken from.
    pub version: u64,
    /// The databases with tables on the volume (only those tables), under the writer's name
    /// for the volume.
    pub databases: Vec<DatabaseMeta>,
}

impl PublishedCatalog {
    /// A catalog without databases: what a writer leaves when it gives a volume up.
    pub fn empty(cluster_id: &str, version: u64) -> Self {
        PublishedCatalog {
            format: FORMAT,
            cluster_id: cluster_id.to_string(),
            version,
            databases: Vec::new(),
        }
    }
}

impl CatalogState {
    /// The databases this server writes that have tables on `volume` (with only those tables;
    /// a table still reading files elsewhere, as during an instant restore, waits), and the
    /// databases placed on it (with their views).
    pub fn databases_on_volume(&self, volume: &str) -> Vec<DatabaseMeta> {
        let on_volume = |t: &TableMeta| {
            t.storage_volume() == Some(volume)
                && t.partitions
                    .iter()
                    .flat_map(|p| p.files.iter())
                    .all(|f| matches!(&f.home, FileHome::Volume(v) if v == volume))
        };
        self.databases
            .values()
            .filter(|db| !db.is_read_only())
            .filter_map(|db| {
                let tables: BTreeMap<String, Arc<TableMeta>> = db
                    .tables
                    .iter()
                    .filter(|(_, t)| on_volume(t))
                    .map(|(name, t)| (name.clone(), t.clone()))
                    .collect();
                let placed_here = db.storage_volume.as_deref() == Some(volume);
                if tables.is_empty() && !placed_here {
                    return None;
                }
                Some(DatabaseMeta {
                    tables,
                    views: if placed_here {
                        db.views.clone()
                    } else {
                        BTreeMap::new()
                    },
                    ..DatabaseMeta::clone(db)
                })
            })
            .collect()
    }

    /// Replaces the databases mirrored from `volume` with `published`; returns the names
    /// skipped because a database of this server has them.
    fn follow(&mut self, volume: &str, published: Vec<DatabaseMeta>) -> Vec<String> {
        let is_mirror = |d: &DatabaseMeta| d.followed_volume.as_deref() == Some(volume);
        let before: HashMap<String, Arc<DatabaseMeta>> = self
            .databases
            .iter()
            .filter(|(_, d)| is_mirror(d))
            .map(|(name, d)| (name.clone(), d.clone()))
            .collect();
        self.databases.retain(|_, d| !is_mirror(d));
        let mut skipped = Vec::new();
        for mut db in published {
            if self.databases.contains_key(&db.name) {
                skipped.push(db.name);
                continue;
            }
            let previous = before.get(&db.name);
            db.id = match previous {
                Some(p) => p.id,
                None => self.allocate_id(),
            };
            let tables = std::mem::take(&mut db.tables);
            for (name, table) in tables {
                let previous = previous.and_then(|p| p.tables.get(&name));
                let mirrored = self.mirror_table(volume, TableMeta::clone(&table), previous);
                db.tables.insert(name, mirrored);
            }
            db.storage_volume = Some(volume.to_string());
            db.followed_volume = Some(volume.to_string());
            db.attached = None;
            let db = match previous {
                Some(p) if same_json(p.as_ref(), &db) => p.clone(),
                _ => Arc::new(db),
            };
            self.databases.insert(db.name.clone(), db);
        }
        skipped
    }

    /// `table` as this server reads it: its files on `volume` (this server's name for it), its
    /// ids this server's (kept from `previous` when it is the same table), a materialized view
    /// listed but never refreshed here. `previous` itself when nothing changed.
    fn mirror_table(
        &mut self,
        volume: &str,
        mut table: TableMeta,
        previous: Option<&Arc<TableMeta>>,
    ) -> Arc<TableMeta> {
        let same = previous.filter(|p| p.created_at == table.created_at);
        table.id = match same {
            Some(p) => p.id,
            None => self.allocate_id(),
        };
        for partition in &mut table.partitions {
            let kept = same.and_then(|p| p.partitions.iter().find(|q| q.name == partition.name));
            partition.id = match kept {
                Some(q) => q.id,
                None => self.allocate_id(),
            };
            for file in &mut partition.files {
                Arc::make_mut(file).home = FileHome::Volume(volume.to_string());
            }
        }
        table
            .properties
            .retain(|(k, _)| !k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY));
        table
            .properties
            .push((STORAGE_VOLUME_PROPERTY.to_string(), volume.to_string()));
        table.materialized_view = table.materialized_view.take().map(|view| {
            let mut view = crate::MaterializedViewMeta::clone(&view);
            view.active = false;
            view.inactive_reason = Some(format!(
                "followed read-only from storage volume {volume}: refreshed by its writer"
            ));
            Arc::new(view)
        });
        match same {
            Some(p) if same_json(p.as_ref(), &table) => p.clone(),
            _ => Arc::new(table),
        }
    }
}

/// Whether two values serialize alike (the mirror of an unchanged table or database is kept
/// as it was, so scans and caches holding it see no change).
fn same_json<T: Serialize>(a: &T, b: &T) -> bool {
    match (serde_json::to_vec(a), serde_json::to_vec(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The volumes `state` follows (their objects are the writer's to delete).
pub(crate) fn followed_volumes(state: &CatalogState) -> HashSet<String> {
    state
        .storage_volumes
        .volumes
        .values()
        .filter(|v| v.follows.is_some())
        .map(|v| v.name.clone())
        .collect()
}

/// A followed database changes only in the refresh of its volume, or leaves with its volume
/// (DROP STORAGE VOLUME); any other commit that would add, change or remove one is refused.
pub(crate) fn check_followed_unchanged(
    old: &CatalogState,
    new: &CatalogState,
    refreshing: Option<&str>,
) -> Result<()> {
    let followed = |s: &CatalogState| -> Vec<(String, String)> {
        s.databases
            .values()
            .filter_map(|d| Some((d.name.clone(), d.followed_volume.clone()?)))
            .collect()
    };
    for (name, volume) in followed(old).into_iter().chain(followed(new)) {
        let unchanged = match (old.databases.get(&name), new.databases.get(&name)) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let allowed =
            refreshing == Some(volume.as_str()) || new.storage_volumes.get(&volume).is_none();
        if !unchanged && !allowed {
            return Err(StorageError::ReadOnlyFollowedDatabase {
                database: name,
                volume,
            });
        }
    }
    Ok(())
}

impl Catalog {
    /// Replaces the databases mirrored from followed volume `volume` with the writer's
    /// `published` ones; returns the names skipped (this server has databases of those names).
    pub fn refresh_followed(
        &self,
        volume: &str,
        published: Vec<DatabaseMeta>,
    ) -> Result<Vec<String>> {
        self.commit_as(Some(volume), |state| {
            let still_followed = state
                .storage_volumes
                .get(volume)
                .is_some_and(|v| v.follows.is_some());
            if !still_followed {
                return Ok(Vec::new());
            }
            Ok(state.follow(volume, published))
        })
    }

    /// Publishes the catalog of every volume this server writes, and follows every volume it
    /// follows, until the catalog is dropped.
    pub fn start_volume_sync(self: &Arc<Self>, cluster_id: String) {
        let weak = Arc::downgrade(self);
        self.background.spawn(async move {
            let mut published: HashMap<String, Vec<u8>> = HashMap::new();
            let mut applied: HashMap<String, u64> = HashMap::new();
            let mut last_follow: Option<std::time::Instant> = None;
            // The catalog version everything was published at: an idle writer does no work.
            let mut published_version = None;
            loop {
                tokio::time::sleep(PUBLISH_EVERY).await;
                let Some(catalog) = weak.upgrade() else {
                    return;
                };
                let version = catalog.snapshot().version;
                if published_version != Some(version)
                    && catalog.publish_volumes(&cluster_id, &mut published).await
                {
                    published_version = Some(version);
                }
                if last_follow.is_none_or(|t| t.elapsed() >= FOLLOW_EVERY) {
                    last_follow = Some(std::time::Instant::now());
                    catalog.follow_volumes(&mut applied).await;
                }
            }
        });
    }

    /// Puts the catalog of each volume this server writes whose content changed since
    /// `published` (what was last put, by volume); false if one could not be put (not mounted
    /// yet, or the PUT failed): the next pass tries again.
    async fn publish_volumes(
        &self,
        cluster_id: &str,
        published: &mut HashMap<String, Vec<u8>>,
    ) -> bool {
        let state = self.snapshot();
        let mut all_put = true;
        for volume in state.storage_volumes.volumes.values() {
            if volume.follows.is_some() {
                continue;
            }
            let Some(store) = self.volume_stores().get(&volume.name) else {
                all_put = false;
                continue;
            };
            let databases = state.databases_on_volume(&volume.name);
            let Ok(content) = serde_json::to_vec(&databases) else {
                continue;
            };
            if published.get(&volume.name) == Some(&content) {
                continue;
            }
            let catalog = PublishedCatalog {
                format: FORMAT,
                cluster_id: cluster_id.to_string(),
                version: state.version,
                databases,
            };
            let Ok(body) = serde_json::to_vec(&catalog) else {
                continue;
            };
            match store.put_object(VOLUME_CATALOG_KEY, body.into()).await {
                Ok(()) => {
                    debug!(volume = %volume.name, version = state.version, "volume catalog published");
                    published.insert(volume.name.clone(), content);
                }
                Err(e) => {
                    all_put = false;
                    warn!(volume = %volume.name, error = %e, "could not publish the volume catalog");
                }
            }
        }
        all_put
    }

    /// Reads the published catalog of each followed volume and applies a new version.
    async fn follow_volumes(&self, applied: &mut HashMap<String, u64>) {
        let state = self.snapshot();
        for volume in state.storage_volumes.volumes.values() {
            let Some(writer) = &volume.follows else {
                continue;
            };
            let Some(store) = self.volume_stores().get(&volume.name) else {
                continue;
            };
            let body = match store.get_object(VOLUME_CATALOG_KEY).await {
                Ok(Some(body)) => body,
                Ok(None) => continue,
                Err(e) => {
                    warn!(volume = %volume.name, error = %e, "could not read the volume catalog");
                    continue;
                }
            };
            let published: PublishedCatalog = match serde_json::from_slice(&body) {
                Ok(p) => p,
                Err(e) => {
                    warn!(volume = %volume.name, error = %e, "the volume catalog is not valid");
                    continue;
                }
            };
            if published.format != FORMAT || &published.cluster_id != writer {
                warn!(volume = %volume.name, format = published.format, "volume catalog of another writer or format: not followed");
                continue;
            }
            if applied.get(&volume.name) == Some(&published.version) {
                continue;
            }
            let version = published.version;
            match self.refresh_followed(&volume.name, published.databases) {
                Ok(skipped) => {
                    applied.insert(volume.name.clone(), version);
                    debug!(volume = %volume.name, version, "followed the volume's writer");
                    if !skipped.is_empty() {
                        warn!(volume = %volume.name, databases = ?skipped, "followed databases not shown: this server has databases of those names");
                    }
                }
                Err(e) => warn!(volume = %volume.name, error = %e, "could not follow the volume"),
            }
        }
    }
}

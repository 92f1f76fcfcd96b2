//! Storage volumes as the catalog keeps them: a named object store location, how to reach it,
//! and whether it is the default one.
//!
//! The catalog holds the volumes so that a database or table naming one, and the volume's
//! DROP, are checked in the same commit. Reaching the store is not this crate's business: the
//! executor checks the location and credentials before it commits a volume here.

use serde::{Deserialize, Serialize};

use crate::meta::{CatalogState, TableMeta};
use crate::volume_files::STORAGE_VOLUME_PROPERTY;
use crate::{Result, StorageError};

/// The property keys whose values are secrets: never shown, logged or returned.
const SECRET_KEYS: &[&str] = &[
    "aws.s3.access_key",
    "aws.s3.secret_key",
    "fs.s3a.access.key",
    "fs.s3a.secret.key",
];

/// What `Params` shows in place of a secret.
const HIDDEN: &str = "******";

/// One storage volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageVolumeMeta {
    pub id: u64,
    pub name: String,
    /// `S3`.
    pub kind: String,
    /// As written (`s3://bucket/prefix`).
    pub locations: Vec<String>,
    /// The credential and endpoint properties, secrets included (they stay in the catalog
    /// file, as a repository's do); `enabled` is kept apart.
    pub properties: Vec<(String, String)>,
    pub enabled: bool,
    pub comment: String,
    pub created_at: String,
    /// Set when the location is another server's (`snaprock/owner.json` names that cluster):
    /// this server follows the catalog it publishes there, read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<String>,
}

impl StorageVolumeMeta {
    /// The properties as `DESC STORAGE VOLUME` shows them: a JSON object with secrets hidden.
    pub fn params_json(&self) -> String {
        let shown: serde_json::Map<String, serde_json::Value> = self
            .properties
            .iter()
            .map(|(k, v)| {
                let v = if SECRET_KEYS.contains(&k.as_str()) {
                    HIDDEN
                } else {
                    v.as_str()
                };
                (k.clone(), serde_json::Value::String(v.to_string()))
            })
            .collect();
        serde_json::Value::Object(shown).to_string()
    }

    /// The properties after `changes` (ALTER ... SET): a key given again is replaced.
    pub fn with_properties(&self, changes: &[(String, String)]) -> Vec<(String, String)> {
        let mut merged = self.properties.clone();
        for (key, value) in changes {
            match merged.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value.clone(),
                None => merged.push((key.clone(), value.clone())),
            }
        }
        merged
    }
}

/// The storage volumes of the catalog and which one is the default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StorageVolumes {
    #[serde(default)]
    pub volumes: std::collections::BTreeMap<String, StorageVolumeMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl StorageVolumes {
    pub fn is_empty(&self) -> bool {
        self.volumes.is_empty() && self.default.is_none()
    }

    pub fn get(&self, name: &str) -> Option<&StorageVolumeMeta> {
        self.volumes.get(name)
    }

    /// The volume, or StarRocks' "does not exist" error.
    pub fn get_or_err(&self, name: &str) -> Result<&StorageVolumeMeta> {
        self.get(name)
            .ok_or_else(|| volume_error(does_not_exist(name)))
    }

    pub fn is_default(&self, name: &str) -> bool {
        self.default.as_deref() == Some(name)
    }
}

impl CatalogState {
    /// Makes `name` the default volume; it must exist and be enabled.
    pub fn set_default_storage_volume(&mut self, name: &str) -> Result<()> {
        let volume = self.storage_volumes.get_or_err(name)?;
        if !volume.enabled {
            return Err(volume_error(format!("Storage volume '{name}' is disabled")));
        }
        if let Some(writer) = &volume.follows {
            return Err(followed_error(name, writer));
        }
        self.storage_volumes.default = Some(name.to_string());
        Ok(())
    }

    /// Removes volume `name`: not the default one, nor one a database or table (dropped ones
    /// in the recycle bin included) is on. The databases this server follows on it leave with
    /// it (they are the writer's).
    pub fn drop_storage_volume(&mut self, name: &str) -> Result<()> {
        if self.storage_volumes.get_or_err(name)?.follows.is_some() {
            self.databases
                .retain(|_, d| d.followed_volume.as_deref() != Some(name));
        }
        if self.storage_volumes.is_default(name) {
            return Err(volume_error("default storage volume can not be removed"));
        }
        let (dbs, tables) = self.volume_references(name);
        if !dbs.is_empty() || !tables.is_empty() {
            return Err(volume_error(format!(
                "Storage volume '{name}' is referenced by dbs or tables, dbs: [{}], tables: [{}]",
                dbs.join(", "),
                tables.join(", ")
            )));
        }
        self.storage_volumes.volumes.remove(name);
        Ok(())
    }

    /// The databases and tables (`db.table`) on volume `name`.
    fn volume_references(&self, name: &str) -> (Vec<String>, Vec<String>) {
        let on = |t: &TableMeta| t.storage_volume() == Some(name);
        let mut dbs = Vec::new();
        let mut tables = Vec::new();
        let recycled_dbs = self.recycle_bin.databases.iter().map(|r| &r.database);
        // An attached snapshot's tables keep the property they had but read the repository.
        let live_dbs = self.databases.values().filter(|d| d.attached.is_none());
        for db in live_dbs.chain(recycled_dbs) {
            if db.storage_volume.as_deref() == Some(name) {
                dbs.push(db.name.clone());
            }
            tables.extend(
                db.tables
                    .values()
                    .filter(|t| on(t))
                    .map(|t| format!("{}.{}", db.name, t.name)),
            );
        }
        for recycled in &self.recycle_bin.tables {
            if on(&recycled.table) {
                tables.push(recycled.table.name.clone());
            }
        }
        (dbs, tables)
    }

    /// Checks that volume `name` exists and is enabled.
    pub fn usable_storage_volume(&self, name: &str) -> Result<()> {
        let Some(volume) = self.storage_volumes.get(name) else {
            return Err(volume_error(format!("Unknown storage volume \"{name}\"")));
        };
        if !volume.enabled {
            return Err(volume_error(format!("Storage volume '{name}' is disabled")));
        }
        if let Some(writer) = &volume.follows {
            return Err(followed_error(name, writer));
        }
        Ok(())
    }

    /// Places a new table of `database`: on the volume its properties name (checked), else on
    /// its database's, else on the default volume, else in the data directory. The table's
    /// `storage_volume` property says where, afterwards.
    pub fn place_table(
        &self,
        database: &str,
        properties: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let named = properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY))
            .map(|(_, v)| v.clone());
        let volume = named
            .or_else(|| self.database(database)?.storage_volume.clone())
            .or_else(|| self.storage_volumes.default.clone());
        let Some(volume) = volume else {
            return Ok(());
        };
        self.usable_storage_volume(&volume)?;
        properties.retain(|(k, _)| !k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY));
        properties.push((STORAGE_VOLUME_PROPERTY.to_string(), volume));
        Ok(())
    }

    /// Drops a `storage_volume` property naming a volume this catalog does not have: a table
    /// restored from another server's snapshot is then kept in the data directory.
    pub fn forget_unknown_volume(&self, properties: &mut Vec<(String, String)>) {
        properties.retain(|(k, v)| {
            !k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY)
                || self.storage_volumes.get(v).is_some()
        });
    }
}

/// StarRocks' text for a volume that is not there.
pub fn does_not_exist(name: &str) -> String {
    format!("Storage volume '{name}' does not exist")
}

/// New tables and databases cannot go on a volume this server follows.
fn followed_error(name: &str, writer: &str) -> StorageError {
    volume_error(format!(
        "Storage volume '{name}' is read-only on this server: its location is written by \
         another snaprock server (cluster {writer}), whose databases this server follows"
    ))
}

/// A storage volume statement refused with StarRocks' text.
pub fn volume_error(message: impl Into<String>) -> StorageError {
    StorageError::StorageVolume(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str) -> StorageVolumeMeta {
        StorageVolumeMeta {
            id: 1,
            name: name.into(),
            kind: "S3".into(),
            locations: vec!["s3://b/p".into()],
            properties: vec![
                ("aws.s3.access_key".into(), "AKIA1".into()),
                ("aws.s3.secret_key".into(), "SECRET1".into()),
                ("aws.s3.region".into(), "us-east-1".into()),
            ],
            enabled: true,
            comment: String::new(),
            created_at: String::new(),
            follows: None,
        }
    }

    #[test]
    fn params_hide_the_keys() {
        let params = volume("sv").params_json();
        assert!(
            !params.contains("AKIA1") && !params.contains("SECRET1"),
            "{params}"
        );
        assert!(
            params.contains(r#""aws.s3.region":"us-east-1""#),
            "{params}"
        );
        assert!(
            params.contains(r#""aws.s3.secret_key":"******""#),
            "{params}"
        );
    }

    #[test]
    fn the_default_volume_stays() {
        let mut state = CatalogState::default();
        let mut off = volume("off");
        off.enabled = false;
        state
            .storage_volumes
            .volumes
            .insert("sv".into(), volume("sv"));
        state.storage_volumes.volumes.insert("off".into(), off);
        state.set_default_storage_volume("sv").unwrap();
        let refused = state.drop_storage_volume("sv").unwrap_err().to_string();
        assert_eq!(refused, "default storage volume can not be removed");
        let disabled = state
            .set_default_storage_volume("off")
            .unwrap_err()
            .to_string();
        assert_eq!(disabled, "Storage volume 'off' is disabled");
        let missing = state.drop_storage_volume("nope").unwrap_err().to_string();
        assert_eq!(missing, "Storage volume 'nope' does not exist");
        state.drop_storage_volume("off").unwrap();
        assert!(state.storage_volumes.get("off").is_none());
    }

    #[test]
    fn alter_replaces_a_key() {
        let merged = volume("sv").with_properties(&[
            ("aws.s3.region".into(), "eu-west-1".into()),
            ("aws.s3.endpoint".into(), "http://h:9000".into()),
        ]);
        assert_eq!(merged.len(), 4);
        assert!(merged.contains(&("aws.s3.region".into(), "eu-west-1".into())));
    }
}

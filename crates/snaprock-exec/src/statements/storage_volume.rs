//! Storage volume statements: CREATE / ALTER / DROP / DESC STORAGE VOLUME, SHOW STORAGE
//! VOLUMES and SET ... AS DEFAULT STORAGE VOLUME.
//!
//! A volume's location and credentials are checked, and the store reached (an object written,
//! read back and removed), before the volume is committed to the catalog, so a volume that
//! exists is one the server could use. Secrets never leave the catalog: `Params` hides them.

use std::time::Duration;

use snaprock_backup::location::Location;
use snaprock_backup::repository::{open_store, probe_writable};
use snaprock_backup::service::{OWNER_KEY, VolumeOwner};
use snaprock_sql::ast::{CreateStorageVolume, ShowFilter, StorageVolumeStatement};
use snaprock_storage::{
    CatalogState, STORAGE_VOLUME_PROPERTY, StorageVolumeMeta, storage_volume_does_not_exist,
    volume_error,
};
use tracing::{info, warn};

use super::show::filtered;
use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result, now_text};

/// How long CREATE / ALTER STORAGE VOLUME wait for the store to answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(30);

/// StarRocks' name for the volume of its own shared-data setup: reserved.
const BUILTIN: &str = "builtin_storage_volume";

/// Where in a volume snaprock keeps what it writes (the probe, the owner, tables' files).
const VOLUME_DIR: &str = "snaprock/";

pub(crate) async fn run(session: &mut Session, stmt: StorageVolumeStatement) -> Result<Output> {
    match stmt {
        StorageVolumeStatement::Create(create) => create_volume(session, create).await,
        StorageVolumeStatement::Alter {
            name,
            if_exists,
            comment,
            properties,
        } => alter_volume(session, &name, if_exists, comment, properties).await,
        StorageVolumeStatement::Drop { name, if_exists } => {
            drop_volume(session, &name, if_exists).await
        }
        StorageVolumeStatement::SetDefault { name } => {
            session
                .engine
                .catalog
                .commit(|s| s.set_default_storage_volume(&name))?;
            info!(volume = %name, "default storage volume set");
            Ok(Output::ok())
        }
        StorageVolumeStatement::Describe { name } => describe(session, &name),
        StorageVolumeStatement::Show { filter } => show(session, filter).await,
    }
}

/// DROP STORAGE VOLUME: out of the catalog, then, for a volume this server wrote, the location
/// is released (a follower's drop only lets its mirror go).
async fn drop_volume(session: &Session, name: &str, if_exists: bool) -> Result<Output> {
    let dropped = session.engine.catalog.commit(|s| {
        let Some(volume) = s.storage_volumes.get(name).cloned() else {
            if if_exists {
                return Ok(None);
            }
            return Err(volume_error(storage_volume_does_not_exist(name)));
        };
        s.drop_storage_volume(name)?;
        Ok(Some(volume))
    })?;
    let Some(volume) = dropped else {
        return Ok(Output::ok());
    };
    if volume.follows.is_none()
        && let Err(e) = session.engine.backup.release_volume(&volume).await
    {
        warn!(volume = %name, error = %e, "could not release the dropped volume's location");
    }
    session.engine.catalog.unmount_volume(name);
    info!(volume = %name, "storage volume dropped");
    Ok(Output::ok())
}

/// A statement's `("key" = "value")` properties.
type Properties = Vec<(String, String)>;

/// `enabled` taken out of the properties (StarRocks keeps it apart from the credentials).
fn split_enabled(properties: Properties) -> Result<(Option<bool>, Properties)> {
    let mut enabled = None;
    let mut rest = Vec::new();
    for (key, value) in properties {
        if key.eq_ignore_ascii_case("enabled") {
            enabled = Some(match value.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ExecError::Ddl(format!(
                        "Invalid value '{value}' for property 'enabled': expected true or false"
                    )));
                }
            });
        } else {
            rest.push((key, value));
        }
    }
    Ok((enabled, rest))
}

/// Checks the location and properties and reaches the store (bounded in time). A location
/// no server has is claimed for this one, and one this server has is checked writable: both
/// give `None`. A location another server writes gives that server's cluster: this server
/// will follow it, and only reads it.
async fn reach(
    session: &Session,
    locations: &[String],
    properties: &[(String, String)],
    statement: &str,
) -> Result<Option<String>> {
    let failed = |reason: String| ExecError::Ddl(format!("Failed to {statement}: {reason}"));
    let [location] = locations else {
        return Err(failed(format!(
            "a storage volume of TYPE = S3 has one location, got {}",
            locations.len()
        )));
    };
    let location = Location::parse_volume(location, properties).map_err(failed)?;
    let store = open_store(&location, &session.engine.backup.store_context()).await;
    let cluster_id = session.engine.backup.cluster_id();
    let checked = async {
        match owner(store.as_ref()).await? {
            Some(other) if other != cluster_id => Ok(Some(other)),
            Some(_) => probe_writable(store.as_ref(), VOLUME_DIR)
                .await
                .map(|_| None),
            None => {
                probe_writable(store.as_ref(), VOLUME_DIR).await?;
                claim(store.as_ref(), cluster_id).await.map(|_| None)
            }
        }
    };
    match tokio::time::timeout(REACH_TIMEOUT, checked).await {
        Ok(Ok(owner)) => Ok(owner),
        Ok(Err(e)) => Err(failed(format!("the store cannot be used: {e}"))),
        Err(_) => Err(failed(format!(
            "no answer from the store within {} seconds",
            REACH_TIMEOUT.as_secs()
        ))),
    }
}

/// The cluster of the server whose location this is (`snaprock/owner.json`), if any.
async fn owner(
    store: &dyn snaprock_backup::store::ObjectStore,
) -> std::result::Result<Option<String>, snaprock_backup::StoreError> {
    match store.get(OWNER_KEY).await {
        Ok(bytes) => {
            let owner: VolumeOwner = serde_json::from_slice(&bytes).map_err(|e| {
                snaprock_backup::StoreError::Other(format!("{OWNER_KEY} is not valid: {e}"))
            })?;
            Ok(Some(owner.cluster_id))
        }
        Err(snaprock_backup::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Marks the location as this server's (`snaprock/owner.json`).
async fn claim(
    store: &dyn snaprock_backup::store::ObjectStore,
    cluster_id: &str,
) -> std::result::Result<(), snaprock_backup::StoreError> {
    let owner = VolumeOwner {
        cluster_id: cluster_id.to_string(),
    };
    let body = serde_json::to_vec(&owner)
        .map_err(|e| snaprock_backup::StoreError::Other(e.to_string()))?;
    store.put(OWNER_KEY, body.into()).await
}

async fn create_volume(session: &mut Session, create: CreateStorageVolume) -> Result<Output> {
    super::ddl::validate_name(&create.name, "storage volume")?;
    if create.name.eq_ignore_ascii_case(BUILTIN) {
        return Err(ExecError::Ddl(format!(
            "Storage volume name '{BUILTIN}' is reserved"
        )));
    }
    let exists = |s: &CatalogState| s.storage_volumes.get(&create.name).is_some();
    if exists(&session.engine.catalog.snapshot()) {
        if create.if_not_exists {
            return Ok(Output::ok());
        }
        return Err(already_exists(&create.name));
    }
    if !create.kind.eq_ignore_ascii_case("S3") {
        return Err(ExecError::Unsupported(format!(
            "storage volumes of TYPE = {} (snaprock stores volumes on S3 or an S3-compatible \
             store: TYPE = S3)",
            create.kind
        )));
    }
    let (enabled, properties) = split_enabled(create.properties)?;
    let follows = reach(
        session,
        &create.locations,
        &properties,
        "create storage volume",
    )
    .await?;
    let now = now_text();
    let created = session.engine.catalog.commit(|s| {
        if exists(s) {
            return Ok(false);
        }
        let id = s.allocate_id();
        let volume = StorageVolumeMeta {
            id,
            name: create.name.clone(),
            kind: "S3".into(),
            locations: create.locations.clone(),
            properties: properties.clone(),
            enabled: enabled.unwrap_or(true),
            comment: create.comment.clone().unwrap_or_default(),
            created_at: now.clone(),
            follows: follows.clone(),
        };
        s.storage_volumes
            .volumes
            .insert(create.name.clone(), volume);
        Ok(true)
    })?;
    if !created && !create.if_not_exists {
        return Err(already_exists(&create.name));
    }
    if created {
        mount(session, &create.name).await?;
    }
    match &follows {
        None => info!(volume = %create.name, "storage volume created"),
        Some(writer) => info!(
            volume = %create.name,
            %writer,
            "storage volume created: its location is another server's, whose databases this \
             server follows read-only"
        ),
    }
    Ok(Output::ok())
}

/// Mounts volume `name` as the catalog now holds it (after CREATE, and ALTER of its
/// credentials).
async fn mount(session: &Session, name: &str) -> Result<()> {
    let state = session.engine.catalog.snapshot();
    let volume = state.storage_volumes.get_or_err(name)?;
    session
        .engine
        .backup
        .mount_volume(volume)
        .await
        .map_err(|e| ExecError::Ddl(format!("Failed to mount storage volume '{name}': {e}")))
}

fn already_exists(name: &str) -> ExecError {
    ExecError::Ddl(format!("Storage volume '{name}' already exists"))
}

async fn alter_volume(
    session: &mut Session,
    name: &str,
    if_exists: bool,
    comment: Option<String>,
    properties: Vec<(String, String)>,
) -> Result<Output> {
    let Some(current) = session
        .engine
        .catalog
        .snapshot()
        .storage_volumes
        .get(name)
        .cloned()
    else {
        if if_exists {
            return Ok(Output::ok());
        }
        return Err(volume_error(storage_volume_does_not_exist(name)).into());
    };
    let (enabled, changes) = split_enabled(properties)?;
    let merged = current.with_properties(&changes);
    if !changes.is_empty() {
        let owner = reach(session, &current.locations, &merged, "alter storage volume").await?;
        if owner != current.follows {
            return Err(ExecError::Ddl(format!(
                "Failed to alter storage volume: the location's owner changed since the volume \
                 was created (now {}); drop the volume and create it again",
                owner.as_deref().unwrap_or("this server")
            )));
        }
    }
    session.engine.catalog.commit(|s| {
        if enabled == Some(false) && s.storage_volumes.is_default(name) {
            return Err(volume_error("Default volume can not be disabled"));
        }
        let volume = s
            .storage_volumes
            .volumes
            .get_mut(name)
            .ok_or_else(|| volume_error(storage_volume_does_not_exist(name)))?;
        if volume.id != current.id {
            // Dropped and created again while the store was reached.
            return Err(snaprock_storage::StorageError::Conflict);
        }
        volume.properties = merged.clone();
        if let Some(enabled) = enabled {
            volume.enabled = enabled;
        }
        if let Some(comment) = &comment {
            volume.comment = comment.clone();
        }
        Ok(())
    })?;
    if !changes.is_empty() {
        mount(session, name).await?;
    }
    info!(volume = %name, "storage volume altered");
    Ok(Output::ok())
}

/// `DESC STORAGE VOLUME sv`: StarRocks' seven columns, secrets hidden.
fn describe(session: &Session, name: &str) -> Result<Output> {
    let state = session.engine.catalog.snapshot();
    let volume = state.storage_volumes.get_or_err(name)?;
    let mut rows = RowsBuilder::text(&[
        "Name",
        "Type",
        "IsDefault",
        "Location",
        "Params",
        "Enabled",
        "Comment",
    ]);
    rows.push(
        [
            volume.name.clone(),
            volume.kind.clone(),
            state.storage_volumes.is_default(name).to_string(),
            volume.locations.join(", "),
            volume.params_json(),
            volume.enabled.to_string(),
            volume.comment.clone(),
        ]
        .into_iter()
        .map(|v| Cell::Text(Some(v)))
        .collect(),
    );
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW STORAGE VOLUMES [LIKE '...']`: one column of names.
async fn show(session: &Session, filter: Option<ShowFilter>) -> Result<Output> {
    let state = session.engine.catalog.snapshot();
    let mut rows = RowsBuilder::new(&[("Storage Volume", CellKind::Text)]);
    for name in state.storage_volumes.volumes.keys() {
        rows.push(vec![Cell::Text(Some(name.clone()))]);
    }
    filtered(rows, filter).await
}

/// The volume a database or table's PROPERTIES name, if any, checked: it must exist and be
/// enabled. (The commit that creates the table or database checks again.)
pub(crate) fn volume_property(
    state: &CatalogState,
    properties: &[(String, String)],
) -> Result<Option<String>> {
    let Some((_, name)) = properties
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(STORAGE_VOLUME_PROPERTY))
    else {
        return Ok(None);
    };
    state.usable_storage_volume(name)?;
    Ok(Some(name.clone()))
}

//! Checks of a RESTORE statement, in StarRocks' order and with its texts (reference §1.5): the
//! parser rules and properties first, then, once the snapshot's info file is read, the objects
//! of its ON clause, turning it into a [`RestorePlan`].

use std::collections::BTreeSet;

use snaprock_sql::ast::{BackupObject, ObjectKind, RestoreStatement};

use crate::backup::analyze::{DEFAULT_TIMEOUT_SECS, parse_timeout, valid_label};
use crate::error::{BackupError, Result};
use crate::format::SnapshotInfo;
use crate::restore::job::{RestorePlan, RestoreTable, RestoreView};

/// The properties of a RESTORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreProperties {
    pub backup_timestamp: String,
    pub replication_num: u32,
    pub timeout_secs: u64,
    pub allow_load: bool,
    /// `"instant" = "true"`: commit first, reading the files from the repository, then
    /// download them in the background.
    pub instant: bool,
}

/// This server keeps one copy of every partition; `replication_num` is shown, not used.
const DEFAULT_REPLICATION_NUM: u32 = 1;

/// Parser rules and properties: everything that needs neither the catalog nor the repository.
pub fn check_restore_statement(stmt: &RestoreStatement) -> Result<RestoreProperties> {
    if stmt.label_database.is_some() && stmt.database.is_some() {
        return Err(BackupError::syntax(
            "Specifying dbName before snapshot name is forbidden if the DbName is specified \
             explicitly in BACKUP/RESTORE",
        ));
    }
    if stmt.external_catalogs && (stmt.label_database.is_some() || stmt.database.is_some()) {
        return Err(BackupError::syntax(
            "Can not sepcify database name for external catalog Backup/Restore",
        ));
    }
    if stmt.objects.is_some() && stmt.label_database.is_none() && stmt.database.is_none() {
        return Err(BackupError::syntax(
            "`ON` clause is forbidden if no Database explicitly specified in Restore stmt",
        ));
    }
    if !valid_label(&stmt.snapshot) {
        return Err(BackupError::wrong_label(&stmt.snapshot));
    }
    if let Some(objects) = &stmt.objects {
        check_duplicates(objects)?;
    }
    restore_properties(&stmt.properties)
}

/// `Duplicated table` / `Duplicated alias name`, as StarRocks' analyzer reports them.
fn check_duplicates(objects: &[BackupObject]) -> Result<()> {
    let mut tables = BTreeSet::new();
    let mut targets = BTreeSet::new();
    for object in objects.iter().filter(|o| !o.all) {
        let name = &object.name.name;
        if !tables.insert(name.clone()) {
            return Err(BackupError::semantic(format!("Duplicated table: {name}")));
        }
        let target = object.alias.as_ref().unwrap_or(name);
        if !targets.insert(target.clone()) {
            return Err(BackupError::semantic(format!(
                "Duplicated alias name: {target}"
            )));
        }
    }
    Ok(())
}

/// StarRocks' order: timeout, allow_load, replication_num, backup_timestamp, meta versions,
/// then whatever is left is unknown.
fn restore_properties(properties: &[(String, String)]) -> Result<RestoreProperties> {
    let get = |key: &str| {
        properties
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let timeout_secs = match get("timeout") {
        Some(v) => parse_timeout(v)?,
        None => DEFAULT_TIMEOUT_SECS,
    };
    let allow_load = parse_bool(get("allow_load"), "allow load")?;
    let replication_num = match get("replication_num") {
        None => DEFAULT_REPLICATION_NUM,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => n,
            // StarRocks shares the meta-version parser here, text included.
            _ => {
                return Err(BackupError::analysis(format!(
                    "Invalid meta version format: {v}"
                )));
            }
        },
    };
    let Some(backup_timestamp) = get("backup_timestamp") else {
        return Err(BackupError::analysis("Missing backup_timestamp property"));
    };
    let instant = parse_bool(get("instant"), "instant")?;
    for key in ["meta_version", "starrocks_meta_version"] {
        if let Some(v) = get(key)
            && v.trim().parse::<i32>().is_err()
        {
            return Err(BackupError::analysis(format!(
                "Invalid meta version format: {v}"
            )));
        }
    }
    let known = [
        "timeout",
        "allow_load",
        "replication_num",
        "backup_timestamp",
        "meta_version",
        "starrocks_meta_version",
        "instant",
    ];
    let unknown: Vec<&str> = properties
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !known.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::analysis(format!(
            "Unknown restore job properties: [{}]",
            unknown.join(", ")
        )));
    }
    Ok(RestoreProperties {
        backup_timestamp: backup_timestamp.to_string(),
        replication_num,
        timeout_secs,
        allow_load,
        instant,
    })
}

/// `true` / `false` in any case (absent: false); anything else is `Invalid <what> value`.
fn parse_bool(value: Option<&str>, what: &str) -> Result<bool> {
    match value {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(BackupError::analysis(format!("Invalid {what} value: {v}"))),
    }
}

/// The database a RESTORE writes into: the label's, the `AS` alias, `DATABASE src`, or the one
/// recorded in the snapshot.
pub fn target_database(stmt: &RestoreStatement, info: &SnapshotInfo) -> String {
    stmt.label_database
        .clone()
        .or_else(|| stmt.database_alias.clone())
        .or_else(|| stmt.database.clone())
        .unwrap_or_else(|| info.database.clone())
}

fn is_view(info: &SnapshotInfo, name: &str) -> bool {
    info.backup_objects
        .get(name)
        .is_some_and(|o| o.id.is_none() && o.partitions.is_empty())
}

/// Resolves the ON clause against the snapshot (execution-phase checks, StarRocks' texts).
pub fn plan_restore(stmt: &RestoreStatement, info: &SnapshotInfo) -> Result<RestorePlan> {
    if let Some(src) = &stmt.database
        && *src != info.database
    {
        return Err(BackupError::ddl(format!(
            "target database: {src} is not existed in snapshot"
        )));
    }
    let snapshot = &stmt.snapshot;
    let table_names = info
        .backup_objects
        .keys()
        .filter(|n| !is_view(info, n))
        .cloned();
    let view_names = info
        .backup_objects
        .keys()
        .filter(|n| is_view(info, n))
        .cloned();
    let whole_table = |name: &str, alias: Option<&String>| {
        let partitions: Vec<String> = info.backup_objects[name]
            .partitions
            .keys()
            .cloned()
            .collect();
        RestoreTable {
            source: name.to_string(),
            target: alias.cloned().unwrap_or_else(|| name.to_string()),
            unpartitioned: partitions.len() == 1 && partitions[0] == name,
            partitions,
        }
    };
    let mut plan = RestorePlan::default();
    let Some(objects) = &stmt.objects else {
        plan.tables = table_names.map(|n| whole_table(&n, None)).collect();
        plan.views = view_names
            .map(|n| RestoreView {
                source: n.clone(),
                target: n,
            })
            .collect();
        return Ok(plan);
    };
    let mut seen = BTreeSet::new();
    for object in objects {
        if object.all {
            match object.kind {
                ObjectKind::Table | ObjectKind::Any | ObjectKind::MaterializedView => {
                    // ALL TABLES: the tables; ALL MATERIALIZED VIEWS: the views' rows.
                    // (Synchronous views go with their tables.)
                    let views = object.kind == ObjectKind::MaterializedView;
                    for name in table_names.clone() {
                        let o = &info.backup_objects[&name];
                        if (o.materialized_view && o.rollup_of.is_none()) != views {
                            continue;
                        }
                        if seen.insert(name.clone()) {
                            plan.tables.push(whole_table(&name, None));
                        }
                    }
                }
                ObjectKind::View => {
                    for name in view_names.clone() {
                        if seen.insert(name.clone()) {
                            plan.views.push(RestoreView {
                                source: name.clone(),
                                target: name,
                            });
                        }
                    }
                }
                ObjectKind::Function => {}
            }
            continue;
        }
        let name = &object.name.name;
        if object.kind == ObjectKind::Function {
            return Err(BackupError::ddl(format!(
                "Can not find restore function: {name}"
            )));
        }
        let exists = info.backup_objects.contains_key(name);
        let view = is_view(info, name);
        let materialized = info
            .backup_objects
            .get(name)
            .is_some_and(|o| o.materialized_view);
        let matches_kind = match object.kind {
            ObjectKind::Any => exists,
            ObjectKind::Table => exists && !view,
            ObjectKind::View => view,
            ObjectKind::MaterializedView => materialized,
            ObjectKind::Function => false,
        };
        if !matches_kind {
            return Err(BackupError::ddl(format!(
                "Table {name} does not exist in snapshot {snapshot}"
            )));
        }
        if object.temporary_partitions {
            return Err(BackupError::ddl(
                "Do not support restoring temporary partitions",
            ));
        }
        seen.insert(name.clone());
        if view {
            if !object.partitions.is_empty() {
                return Err(BackupError::ddl(format!(
                    "Partition {} of table {name} does not exist in snapshot {snapshot}",
                    object.partitions[0]
                )));
            }
            plan.views.push(RestoreView {
                source: name.clone(),
                target: object.alias.clone().unwrap_or_else(|| name.clone()),
            });
            continue;
        }
        let mut table = whole_table(name, object.alias.as_ref());
        if !object.partitions.is_empty() {
            let available = &info.backup_objects[name].partitions;
            let mut chosen = Vec::new();
            for p in &object.partitions {
                let Some(found) = available.keys().find(|k| k.eq_ignore_ascii_case(p)) else {
                    return Err(BackupError::ddl(format!(
                        "Partition {p} of table {name} does not exist in snapshot {snapshot}"
                    )));
                };
                if !chosen.contains(found) {
                    chosen.push(found.clone());
                }
            }
            table.partitions = chosen;
        }
        plan.tables.push(table);
        // A table's synchronous views come back with it.
        for (rollup, _) in info
            .backup_objects
            .iter()
            .filter(|(_, o)| o.rollup_of.as_deref() == Some(name.as_str()))
        {
            if seen.insert(rollup.clone()) {
                plan.tables.push(whole_table(rollup, None));
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn restore_properties_follow_starrocks() {
        let ok = restore_properties(&props(&[
            ("backup_timestamp", "2023-02-07-14-45-53-143"),
            ("replication_num", "3"),
            ("allow_load", "TRUE"),
            ("timeout", "3600"),
        ]))
        .unwrap();
        assert_eq!(ok.replication_num, 3);
        assert!(ok.allow_load);
        assert_eq!(ok.timeout_secs, 3600);
        assert!(!ok.instant);
        let instant = restore_properties(&props(&[("backup_timestamp", "x"), ("instant", "True")]));
        assert!(instant.unwrap().instant);
        let err = |pairs: &[(&str, &str)]| restore_properties(&props(pairs)).unwrap_err().message;
        assert!(err(&[]).contains("Missing backup_timestamp property"));
        assert!(
            err(&[("backup_timestamp", "x"), ("color", "red"), ("size", "1")])
                .contains("Unknown restore job properties: [color, size]")
        );
        assert!(err(&[("backup_timestamp", "x"), ("timeout", "60")]).contains("at least 10 min"));
        assert!(
            err(&[("backup_timestamp", "x"), ("replication_num", "two")])
                .contains("Invalid meta version format: two")
        );
        assert!(
            err(&[("backup_timestamp", "x"), ("allow_load", "maybe")])
                .contains("Invalid allow load value: maybe")
        );
        assert!(
            err(&[("backup_timestamp", "x"), ("instant", "yes")])
                .contains("Invalid instant value: yes")
        );
    }
}

//! Checks of a BACKUP statement against the catalog, in StarRocks' order and with its texts
//! (reference §1.4), turning it into a [`BackupPlan`].

use std::collections::BTreeSet;

use snaprock_sql::ast::{BackupObject, BackupStatement, ObjectKind};
use snaprock_storage::CatalogState;

use crate::backup::job::{BackupPlan, PlannedTable};
use crate::error::{BackupError, Result};

/// Default and minimum of the `timeout` property, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 86_400;
pub const MIN_TIMEOUT_SECS: u64 = 600;

/// The `ttl` property: as written, and in seconds.
pub type Ttl = (String, u64);

/// A BACKUP that passed the parser-level and analyzer checks.
#[derive(Debug, Clone)]
pub struct AnalyzedBackup {
    pub database: String,
    pub snapshot: String,
    pub plan: BackupPlan,
    pub timeout_secs: u64,
    pub incremental: bool,
    pub ttl: Option<Ttl>,
    /// `"continuous" = "true"`: ship every later commit after the first snapshot.
    pub continuous: bool,
    /// The BackupObjs column.
    pub objects: String,
}

/// Checks that need no catalog: the parser rules of StarRocks' AstBuilder.
fn check_shape(stmt: &BackupStatement) -> Result<()> {
    if stmt.external_catalogs {
        if stmt.database.is_some() || stmt.label_database.is_some() {
            return Err(BackupError::syntax(
                "Can not sepcify database name for external catalog Backup/Restore",
            ));
        }
        if stmt.objects.is_some() {
            return Err(BackupError::syntax(
                "Can not sepcify `ON` clause for external catalog Backup/Restore",
            ));
        }
        // This server has no external catalogs.
        return Err(BackupError::analysis(
            "No external catalog can be backed up",
        ));
    }
    if stmt.database.is_some() && stmt.label_database.is_some() {
        return Err(BackupError::syntax(
            "Specifying dbName before snapshot name is forbidden if the DbName is specified \
             explicitly in BACKUP/RESTORE",
        ));
    }
    if stmt.objects.iter().flatten().any(|o| o.alias.is_some()) {
        return Err(BackupError::syntax(
            "Specifying alias for backup object is forbidden in BACKUP stmt",
        ));
    }
    Ok(())
}

/// Snapshot names become path segments: letters, digits, `_` and `-`, at most 128.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 128
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn analyze_backup(
    stmt: &BackupStatement,
    catalog: &CatalogState,
    current_db: Option<&str>,
    repository_exists: bool,
) -> Result<AnalyzedBackup> {
    check_shape(stmt)?;
    let database = stmt
        .database
        .clone()
        .or_else(|| stmt.label_database.clone())
        .or_else(|| current_db.map(str::to_string))
        .ok_or_else(BackupError::no_database_selected)?;
    let Some(db) = catalog.database(&database) else {
        return Err(BackupError::unknown_database(&database));
    };
    if let Some(attached) = &db.attached {
        return Err(BackupError::ddl(format!(
            "Database {database} is snapshot '{}' of repository {} attached read-only: its data \
             is already in that repository",
            attached.snapshot, attached.repository
        )));
    }
    if let Some(volume) = &db.followed_volume {
        return Err(BackupError::ddl(format!(
            "Database {database} is followed read-only from storage volume {volume}: back it up \
             on the server that writes it"
        )));
    }
    if !valid_label(&stmt.snapshot) {
        return Err(BackupError::wrong_label(&stmt.snapshot));
    }
    if stmt.repository.is_empty() {
        return Err(BackupError::analysis("Repository is empty"));
    }
    if !repository_exists {
        return Err(BackupError::analysis(format!(
            "Repository [{}] does not exist",
            stmt.repository
        )));
    }
    let BackupProperties {
        timeout_secs,
        incremental,
        ttl,
        continuous,
    } = backup_properties(&stmt.properties)?;

    let mut plan = BackupPlan::default();
    match &stmt.objects {
        None => {
            plan.tables = db
                .tables
                .keys()
                .map(|name| PlannedTable {
                    name: name.clone(),
                    partitions: None,
                })
                .collect();
            plan.views = db.views.keys().cloned().collect();
            plan.whole_database = true;
        }
        Some(objects) => {
            let mut seen = BTreeSet::new();
            for object in objects {
                add_object(object, &database, db, &mut plan, &mut seen)?;
            }
        }
    }
    if plan.tables.is_empty() && plan.views.is_empty() {
        return Err(BackupError::semantic(format!(
            "Database: {database} is empty"
        )));
    }
    if continuous {
        check_continuous(&plan, ttl.is_some())?;
    }
    let objects = describe(&database, &plan);
    Ok(AnalyzedBackup {
        database,
        snapshot: stmt.snapshot.clone(),
        plan,
        timeout_secs,
        incremental,
        ttl,
        continuous,
        objects,
    })
}

/// What a continuous backup cannot do: follow some partitions of a table only, or expire.
fn check_continuous(plan: &BackupPlan, ttl: bool) -> Result<()> {
    if let Some(table) = plan.tables.iter().find(|t| t.partitions.is_some()) {
        return Err(BackupError::analysis(format!(
            "A continuous backup follows whole tables: remove the PARTITION clause of {}",
            table.name
        )));
    }
    if ttl {
        return Err(BackupError::analysis(
            "A continuous backup cannot have a ttl: DROP SNAPSHOT it once it is stopped",
        ));
    }
    Ok(())
}

fn add_object(
    object: &BackupObject,
    database: &str,
    db: &snaprock_storage::DatabaseMeta,
    plan: &mut BackupPlan,
    seen: &mut BTreeSet<String>,
) -> Result<()> {
    if object.all {
        match object.kind {
            ObjectKind::Table | ObjectKind::Any | ObjectKind::MaterializedView => {
                // ALL TABLES: the tables; ALL MATERIALIZED VIEWS: the views' rows.
                // (Synchronous views go with their tables.)
                let views = object.kind == ObjectKind::MaterializedView;
                for (name, table) in &db.tables {
                    let asynchronous = table.materialized_view.is_some() && !table.is_rollup();
                    if asynchronous != views {
                        continue;
                    }
                    if seen.insert(name.clone()) {
                        plan.tables.push(PlannedTable {
                            name: name.clone(),
                            partitions: None,
                        });
                    }
                }
            }
            ObjectKind::View => {
                for name in db.views.keys() {
                    if seen.insert(name.clone()) {
                        plan.views.push(name.clone());
                    }
                }
            }
            // No functions exist on this server.
            ObjectKind::Function => {}
        }
        return Ok(());
    }
    let name = &object.name.name;
    if let Some(other) = &object.name.database
        && other != database
    {
        return Err(BackupError::wrong_table_name(&object.name.to_string()));
    }
    if object.kind == ObjectKind::Function {
        return Err(BackupError::analysis(format!(
            "Can not find backup function: {name}"
        )));
    }
    if !seen.insert(name.clone()) {
        return Err(BackupError::semantic(format!("Duplicated table: {name}")));
    }
    let is_table = db.tables.contains_key(name);
    let is_view = db.views.contains_key(name);
    let is_materialized = db
        .tables
        .get(name)
        .is_some_and(|t| t.materialized_view.is_some());
    match object.kind {
        ObjectKind::Any | ObjectKind::Table if is_table => {
            let table = &db.tables[name];
            if object.temporary_partitions {
                return Err(BackupError::ddl(
                    "Do not support backing up temp partitions",
                ));
            }
            let partitions = if object.partitions.is_empty() {
                None
            } else {
                let mut names = Vec::new();
                for p in &object.partitions {
                    let Some(partition) = table.partition(p) else {
                        return Err(BackupError::analysis(format!(
                            "partition[{p}] does not exist  in table{name}"
                        )));
                    };
                    if !names.contains(&partition.name) {
                        names.push(partition.name.clone());
                    }
                }
                Some(names)
            };
            plan.tables.push(PlannedTable {
                name: name.clone(),
                partitions,
            });
            // A table's synchronous views travel with it.
            for rollup in db.tables.values().filter(|t| {
                t.materialized_view
                    .as_ref()
                    .and_then(|v| v.rollup_of())
                    .is_some_and(|b| b.database == database && b.table == *name)
            }) {
                if seen.insert(rollup.name.clone()) {
                    plan.tables.push(PlannedTable {
                        name: rollup.name.clone(),
                        partitions: None,
                    });
                }
            }
        }
        ObjectKind::Any | ObjectKind::View if is_view => {
            if !object.partitions.is_empty() {
                return Err(BackupError::wrong_table_name(name));
            }
            plan.views.push(name.clone());
        }
        ObjectKind::MaterializedView if is_materialized => {
            plan.tables.push(PlannedTable {
                name: name.clone(),
                partitions: None,
            });
        }
        _ => return Err(BackupError::wrong_table_name(name)),
    }
    Ok(())
}

struct BackupProperties {
    timeout_secs: u64,
    incremental: bool,
    ttl: Option<Ttl>,
    continuous: bool,
}

/// `type`, `timeout` and `ttl` (StarRocks 4.2), and snaprock's `continuous`: the only BACKUP
/// properties.
fn backup_properties(properties: &[(String, String)]) -> Result<BackupProperties> {
    let unknown: Vec<&str> = properties
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !matches!(*k, "type" | "timeout" | "ttl" | "continuous"))
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::analysis(format!(
            "Unknown backup job properties: [{}]",
            unknown.join(", ")
        )));
    }
    let mut timeout = DEFAULT_TIMEOUT_SECS;
    let mut incremental = false;
    let mut ttl = None;
    let mut continuous = false;
    for (key, value) in properties {
        match key.as_str() {
            "timeout" => timeout = parse_timeout(value)?,
            "continuous" => {
                continuous = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(BackupError::analysis(format!(
                            "Invalid continuous: {value} (true or false)"
                        )));
                    }
                }
            }
            "ttl" => ttl = Some((value.trim().to_string(), parse_ttl(value)?)),
            _ => {
                if value.eq_ignore_ascii_case("incremental") {
                    incremental = true;
                } else if !value.eq_ignore_ascii_case("full") {
                    return Err(BackupError::analysis(format!(
                        "Invalid backup job type: {value}"
                    )));
                }
            }
        }
    }
    Ok(BackupProperties {
        timeout_secs: timeout,
        incremental,
        ttl,
        continuous,
    })
}

/// The `ttl` property: `<n> SECOND | MINUTE | HOUR | DAY` (plural accepted), n ≥ 1.
pub fn parse_ttl(value: &str) -> Result<u64> {
    let invalid = || {
        BackupError::analysis(format!(
            "Invalid ttl: {value} (write a number and a unit: SECOND, MINUTE, HOUR or DAY, e.g. \
             \"7 DAY\")"
        ))
    };
    let mut words = value.split_whitespace();
    let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err(invalid());
    };
    let n: u64 = n.parse().map_err(|_| invalid())?;
    let unit = unit.to_ascii_uppercase();
    let seconds = match unit.trim_end_matches('S') {
        "SECOND" => 1,
        "MINUTE" => 60,
        "HOUR" => 3600,
        "DAY" => 86400,
        _ => return Err(invalid()),
    };
    match n.checked_mul(seconds) {
        Some(total) if n > 0 => Ok(total),
        _ => Err(invalid()),
    }
}

/// The `timeout` property: seconds, at least 600.
pub fn parse_timeout(value: &str) -> Result<u64> {
    let secs: i64 = value
        .trim()
        .parse()
        .map_err(|_| BackupError::analysis(format!("Invalid timeout format: {value}")))?;
    if secs < MIN_TIMEOUT_SECS as i64 {
        return Err(BackupError::analysis("timeout must be at least 10 min"));
    }
    Ok(secs as u64)
}

/// The BackupObjs column: `[db.t]`, `[db.tPARTITIONS (p1, p2)]` (StarRocks writes no space
/// before PARTITIONS; scripts parse it that way), joined by ", ".
fn describe(database: &str, plan: &BackupPlan) -> String {
    let tables = plan.tables.iter().map(|t| match &t.partitions {
        None => format!("[{database}.{}]", t.name),
        Some(p) => format!("[{database}.{}PARTITIONS ({})]", t.name, p.join(", ")),
    });
    let views = plan.views.iter().map(|v| format!("[{database}.{v}]"));
    tables.chain(views).collect::<Vec<_>>().join(", ")
}

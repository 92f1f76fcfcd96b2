//! StarRocks' own information_schema tables, answered for one server: `partitions_meta` and
//! `be_tablets` (a snaprock partition is one tablet), `tables_config` (each table's model,
//! keys, partitioning, distribution and properties), `applicable_roles` (the session's
//! roles), and the rows of
//! the MySQL privilege tables (`user_privileges`, `schema_privileges`, `table_privileges`)
//! from the grants the session holds.

use snaprock_sql::ast::GrantObject;
use snaprock_storage::{CatalogState, DistributionMeta, KeysModel, PartitionBounds, TableMeta};

use super::{NULL, SystemTable, t};
use crate::df::catalog_provider::StatementContext;
use crate::result::{Cell, RowsBuilder};

/// A list partition's value tuple as text (NULL for a NULL value).
fn list_texts(values: &[Option<String>]) -> Vec<&str> {
    values
        .iter()
        .map(PartitionBounds::list_value_text)
        .collect()
}

fn int(v: u64) -> Cell {
    Cell::Int(Some(v as i64))
}

fn buckets(table: &TableMeta) -> u64 {
    match &table.distribution {
        DistributionMeta::Hash { buckets, .. } | DistributionMeta::Random { buckets } => {
            buckets.unwrap_or(1)
        }
    }
}

fn distribution_key(table: &TableMeta) -> String {
    match &table.distribution {
        DistributionMeta::Hash { columns, .. } => columns.join(", "),
        DistributionMeta::Random { .. } => String::new(),
    }
}

fn replication(table: &TableMeta) -> u64 {
    table
        .properties
        .iter()
        .find(|(k, _)| k == "replication_num")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1)
}

fn tables(state: &CatalogState) -> impl Iterator<Item = (&str, &TableMeta)> {
    state.databases.values().flat_map(|db| {
        db.tables
            .values()
            .map(move |t| (db.name.as_str(), t.as_ref()))
    })
}

pub(super) const PARTITIONS_META: SystemTable = SystemTable {
    name: "PARTITIONS_META",
    columns: &[
        "DB_NAME",
        "TABLE_NAME",
        "PARTITION_NAME",
        "PARTITION_ID#",
        "COMPACT_VERSION#",
        "VISIBLE_VERSION#",
        "VISIBLE_VERSION_TIME",
        "NEXT_VERSION#",
        "PARTITION_KEY",
        "PARTITION_VALUE",
        "DISTRIBUTION_KEY",
        "BUCKETS#",
        "REPLICATION_NUM#",
        "STORAGE_MEDIUM",
        "COOLDOWN_TIME",
        "LAST_CONSISTENCY_CHECK_TIME",
        "IS_IN_MEMORY#",
        "IS_TEMP#",
        "DATA_SIZE#",
        "ROW_COUNT#",
        "ENABLE_DATACACHE#",
        "AVG_CS#",
        "P50_CS#",
        "MAX_CS#",
        "STORAGE_PATH",
    ],
    rows: partitions_meta,
};

fn partitions_meta(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    for (db, table) in tables(state) {
        for p in &table.partitions {
            let value = match &p.bounds {
                PartitionBounds::All => String::new(),
                PartitionBounds::Range { lower, upper } => format!(
                    "[{}, {})",
                    if lower.is_empty() {
                        "MINVALUE".into()
                    } else {
                        lower.join(", ")
                    },
                    upper.as_ref().map_or("MAXVALUE".into(), |u| u.join(", "))
                ),
                PartitionBounds::List { values } => format!(
                    "({})",
                    values
                        .iter()
                        .map(|v| format!("({})", list_texts(v).join(", ")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            rows.push(vec![
                t(db),
                t(&table.name),
                t(&p.name),
                int(p.id),
                int(p.version),
                int(p.version),
                t(&p.version_time),
                int(p.version + 1),
                t(&table.partitioning.columns().join(", ")),
                t(&value),
                t(&distribution_key(table)),
                int(buckets(table)),
                int(replication(table)),
                t("HDD"),
                t("9999-12-31 23:59:59"),
                NULL,
                int(0),
                int(0),
                int(p.bytes()),
                int(p.rows()),
                int(0),
                int(0),
                int(0),
                int(0),
                NULL,
            ]);
        }
    }
}

pub(super) const BE_TABLETS: SystemTable = SystemTable {
    name: "BE_TABLETS",
    columns: &[
        "BE_ID#",
        "TABLE_ID#",
        "PARTITION_ID#",
        "TABLET_ID#",
        "NUM_VERSION#",
        "MAX_VERSION#",
        "MIN_VERSION#",
        "NUM_ROWSET#",
        "NUM_ROW#",
        "DATA_SIZE#",
        "CREATE_TIME",
        "STATE",
        "TYPE",
    ],
    rows: be_tablets,
};

fn be_tablets(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    for (_, table) in tables(state) {
        for p in &table.partitions {
            rows.push(vec![
                int(crate::server_info::BACKEND_ID),
                int(table.id),
                int(p.id),
                int(p.id),
                int(p.files.len() as u64),
                int(p.version),
                int(1),
                int(p.files.len() as u64),
                int(p.rows()),
                int(p.bytes()),
                t(&table.created_at),
                t("RUNNING"),
                t(match table.keys_model {
                    KeysModel::Primary => "PRIMARY",
                    KeysModel::Unique => "UNIQUE",
                    KeysModel::Aggregate => "AGGREGATE",
                    KeysModel::Duplicate => "DUPLICATE",
                }),
            ]);
        }
    }
}

pub(super) const TABLES_CONFIG: SystemTable = SystemTable {
    name: "TABLES_CONFIG",
    columns: &[
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "TABLE_ENGINE",
        "TABLE_MODEL",
        "PRIMARY_KEY",
        "PARTITION_KEY",
        "DISTRIBUTE_KEY",
        "DISTRIBUTE_TYPE",
        "DISTRIBUTE_BUCKET#",
        "SORT_KEY",
        "PROPERTIES",
        "TABLE_ID#",
    ],
    rows: tables_config,
};

fn tables_config(_: &StatementContext, state: &CatalogState, rows: &mut RowsBuilder) {
    for (db, table) in tables(state) {
        let model = match table.keys_model {
            KeysModel::Duplicate => "DUP_KEYS",
            KeysModel::Primary => "PRIMARY_KEYS",
            KeysModel::Unique => "UNIQUE_KEYS",
            KeysModel::Aggregate => "AGG_KEYS",
        };
        let distribute_type = match table.distribution {
            DistributionMeta::Hash { .. } => "HASH",
            DistributionMeta::Random { .. } => "RANDOM",
        };
        let properties: serde_json::Map<String, serde_json::Value> = table
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let keys = table.key_columns.join(", ");
        rows.push(vec![
            t(db),
            t(&table.name),
            t("OLAP"),
            t(model),
            t(&keys),
            t(&table.partitioning.columns().join(", ")),
            t(&distribution_key(table)),
            t(distribute_type),
            int(buckets(table)),
            t(&keys),
            t(&serde_json::Value::Object(properties).to_string()),
            int(table.id),
        ]);
    }
}

pub(super) const APPLICABLE_ROLES: SystemTable = SystemTable {
    name: "APPLICABLE_ROLES",
    columns: &[
        "USER",
        "HOST",
        "GRANTEE",
        "GRANTEE_HOST",
        "ROLE_NAME",
        "ROLE_HOST",
        "IS_GRANTABLE",
        "IS_DEFAULT",
        "IS_MANDATORY",
    ],
    rows: applicable_roles,
};

fn applicable_roles(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    let Some(privileges) = &ctx.privileges else {
        return;
    };
    let user = &privileges.user;
    for (role, default) in privileges.granted_roles() {
        rows.push(vec![
            t(&user.user),
            t(&user.host),
            t(&user.user),
            t(&user.host),
            t(&role),
            t("%"),
            t("NO"),
            t(if default { "YES" } else { "NO" }),
            t("NO"),
        ]);
    }
}

/// The session's grants as (grantee, object, privilege name) for the privilege tables.
fn held(ctx: &StatementContext) -> Vec<(String, GrantObject, &'static str)> {
    let Some(privileges) = &ctx.privileges else {
        return Vec::new();
    };
    let grantee = privileges.user.to_string();
    privileges
        .held_grants()
        .into_iter()
        .map(|g| (grantee.clone(), g.object, g.privilege.name()))
        .collect()
}

pub(super) fn user_privileges(ctx: &StatementContext, _: &CatalogState, rows: &mut RowsBuilder) {
    for (grantee, object, privilege) in held(ctx) {
        if matches!(object, GrantObject::System | GrantObject::Catalog(_)) {
            rows.push(vec![t(&grantee), t("def"), t(privilege), t("NO")]);
        }
    }
}

pub(super) fn schema_privileges(
    ctx: &StatementContext,
    state: &CatalogState,
    rows: &mut RowsBuilder,
) {
    for (grantee, object, privilege) in held(ctx) {
        let databases: Vec<&str> = match &object {
            GrantObject::Database(d) => vec![d.as_str()],
            GrantObject::AllDatabases => state.databases.keys().map(String::as_str).collect(),
            _ => continue,
        };
        for db in databases {
            rows.push(vec![t(&grantee), t("def"), t(db), t(privilege), t("NO")]);
        }
    }
}

pub(super) fn table_privileges(
    ctx: &StatementContext,
    state: &CatalogState,
    rows: &mut RowsBuilder,
) {
    for (grantee, object, privilege) in held(ctx) {
        let targets: Vec<(&str, &str)> = match &object {
            GrantObject::Table {
                database: Some(d),
                table,
            } => vec![(d.as_str(), table.as_str())],
            GrantObject::AllTablesIn(d) => tables(state)
                .filter(|(db, _)| db == d)
                .map(|(db, t)| (db, t.name.as_str()))
                .collect(),
            GrantObject::AllTablesInAllDatabases => {
                tables(state).map(|(db, t)| (db, t.name.as_str())).collect()
            }
            _ => continue,
        };
        for (db, table) in targets {
            rows.push(vec![
                t(&grantee),
                t("def"),
                t(db),
                t(table),
                t(privilege),
                t("NO"),
            ]);
        }
    }
}

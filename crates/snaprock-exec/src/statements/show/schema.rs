//! SHOW of databases and what they hold: DATABASES, TABLES, COLUMNS, CREATE TABLE / VIEW /
//! DATABASE, TABLE STATUS, INDEX, PARTITIONS.

use snaprock_sql::ast::{ObjectName, ShowFilter};
use snaprock_storage::{CatalogState, KeysModel, PartitionBounds, Partitioning};

use super::{database_or_current, filtered, table_meta};
use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::server_info::t;
use crate::session::Session;
use crate::show_create;
use crate::{ExecError, Result};

/// `SHOW DATABASES`.
pub(super) async fn databases(filter: Option<ShowFilter>, state: &CatalogState) -> Result<Output> {
    let mut rows = RowsBuilder::text(&["Database"]);
    rows.push(vec![t(crate::df::catalog_provider::INFORMATION_SCHEMA)]);
    for db in state.databases.keys() {
        rows.push(vec![t(db)]);
    }
    filtered(rows, filter).await
}

/// `SHOW TABLES`.
pub(super) async fn tables(
    session: &mut Session,
    full: bool,
    database: Option<String>,
    filter: Option<ShowFilter>,
    state: &CatalogState,
) -> Result<Output> {
    let db = database_or_current(session, database)?;
    let header = format!("Tables_in_{db}");
    let mut rows = if full {
        RowsBuilder::text(&[&header, "Table_type"])
    } else {
        RowsBuilder::text(&[&header])
    };
    let mut names: Vec<(String, &str)> = Vec::new();
    if db == crate::df::catalog_provider::INFORMATION_SCHEMA {
        for (name, _) in crate::df::info_schema::table_list() {
            names.push((name.to_string(), "SYSTEM VIEW"));
        }
    } else if let Some(d) = state.database(&db) {
        names.extend(
            d.tables
                .values()
                .filter(|t| !t.is_rollup())
                .map(|t| (t.name.clone(), "BASE TABLE")),
        );
        names.extend(d.views.keys().map(|n| (n.clone(), "VIEW")));
    }
    names.sort();
    for (name, kind) in names {
        if full {
            rows.push(vec![t(&name), t(kind)])
        } else {
            rows.push(vec![t(&name)])
        }
    }
    filtered(rows, filter).await
}

/// `SHOW COLUMNS`.
/// SHOW [FULL] COLUMNS and DESC in StarRocks' layouts: types by their StarRocks names
/// (`int`, `varchar(64)`, `array<int>`), Key `YES`/`NO` (DESC: `true`/`false`), Extra the
/// aggregation of an AGGREGATE KEY value column.
pub(super) async fn columns(
    session: &mut Session,
    full: bool,
    describe: bool,
    table: ObjectName,
    filter: Option<ShowFilter>,
) -> Result<Output> {
    let (_, meta) = table_meta(session, &table)?;
    let mut rows = if full {
        RowsBuilder::text(&[
            "Field",
            "Type",
            "Collation",
            "Null",
            "Key",
            "Default",
            "Extra",
            "Privileges",
            "Comment",
        ])
    } else {
        RowsBuilder::text(&["Field", "Type", "Null", "Key", "Default", "Extra"])
    };
    for c in &meta.columns {
        let null = t(if c.nullable { "YES" } else { "NO" });
        let k = t(match (describe, c.is_key) {
            (true, key) => {
                if key {
                    "true"
                } else {
                    "false"
                }
            }
            (false, key) => {
                if key {
                    "YES"
                } else {
                    "NO"
                }
            }
        });
        let extra = t(if c.auto_increment {
            "auto_increment"
        } else {
            c.aggregation.as_deref().unwrap_or("")
        });
        let ty = t(&c.column_type.canonical_name());
        if full {
            rows.push(vec![
                t(&c.name),
                ty,
                t(""),
                null,
                k,
                Cell::Text(c.default.clone()),
                extra,
                t(""),
                t(c.comment.as_deref().unwrap_or("")),
            ]);
        } else {
            rows.push(vec![
                t(&c.name),
                ty,
                null,
                k,
                Cell::Text(c.default.clone()),
                extra,
            ]);
        }
    }
    filtered(rows, filter).await
}

/// `SHOW CREATE TABLE`.
pub(super) async fn create_table(
    session: &mut Session,
    table: ObjectName,
    state: &CatalogState,
) -> Result<Output> {
    let (db, name) = session.resolve(&table)?;
    if state.database(&db).is_none() {
        return Err(ExecError::UnknownDatabase(db));
    }
    if let Some(view) = state.database(&db).and_then(|d| d.views.get(&name)) {
        let mut rows = RowsBuilder::text(&[
            "View",
            "Create View",
            "character_set_client",
            "collation_connection",
        ]);
        rows.push(vec![
            t(&view.name),
            t(&show_create::view_ddl(view)),
            t("utf8mb4"),
            t("utf8mb4_general_ci"),
        ]);
        return Ok(Output::Rows(rows.into_result()?));
    }
    let (_, meta) = table_meta(session, &table)?;
    if meta.materialized_view.is_some() {
        return create_materialized_view(&meta);
    }
    let mut rows = RowsBuilder::text(&["Table", "Create Table"]);
    rows.push(vec![t(&meta.name), t(&show_create::table_ddl(&meta))]);
    Ok(Output::Rows(rows.into_result()?))
}

/// SHOW CREATE MATERIALIZED VIEW (and SHOW CREATE TABLE of one), as StarRocks answers.
fn create_materialized_view(meta: &snaprock_storage::TableMeta) -> Result<Output> {
    let Some(view) = &meta.materialized_view else {
        return Err(ExecError::UnknownTable(meta.name.clone()));
    };
    let mut rows = RowsBuilder::text(&["Materialized View", "Create Materialized View"]);
    rows.push(vec![
        t(&meta.name),
        t(&show_create::materialized_view_ddl(meta, view)),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW CREATE VIEW`.
pub(super) async fn create_view(
    session: &mut Session,
    view: ObjectName,
    state: &CatalogState,
) -> Result<Output> {
    let (db, name) = session.resolve(&view)?;
    if let Some(meta) = state
        .table(&db, &name)
        .filter(|t| t.materialized_view.is_some())
    {
        return create_materialized_view(meta);
    }
    let v = state
        .database(&db)
        .and_then(|d| d.views.get(&name))
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?;
    let mut rows = RowsBuilder::text(&[
        "View",
        "Create View",
        "character_set_client",
        "collation_connection",
    ]);
    rows.push(vec![
        t(&v.name),
        t(&show_create::view_ddl(v)),
        t("utf8mb4"),
        t("utf8mb4_general_ci"),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW CREATE DATABASE`.
pub(super) async fn create_database(database: String, state: &CatalogState) -> Result<Output> {
    let Some(db) = state.database(&database) else {
        return Err(ExecError::UnknownDatabase(database));
    };
    // An attached snapshot shows the statement that attaches it again.
    let text = match &db.attached {
        None => format!("CREATE DATABASE `{database}`"),
        Some(a) => format!(
            "CREATE DATABASE `{database}` FROM SNAPSHOT `{}` ON `{}`\nPROPERTIES (\"backup_timestamp\" = \"{}\")",
            a.snapshot, a.repository, a.timestamp
        ),
    };
    let mut rows = RowsBuilder::text(&["Database", "Create Database"]);
    rows.push(vec![t(&database), t(&text)]);
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW TABLE STATUS`.
pub(super) async fn table_status(
    session: &mut Session,
    database: Option<String>,
    filter: Option<ShowFilter>,
    state: &CatalogState,
) -> Result<Output> {
    let db = database_or_current(session, database)?;
    let mut rows = RowsBuilder::new(&[
        ("Name", CellKind::Text),
        ("Engine", CellKind::Text),
        ("Version", CellKind::Int),
        ("Row_format", CellKind::Text),
        ("Rows", CellKind::Int),
        ("Avg_row_length", CellKind::Int),
        ("Data_length", CellKind::Int),
        ("Max_data_length", CellKind::Int),
        ("Index_length", CellKind::Int),
        ("Data_free", CellKind::Int),
        ("Auto_increment", CellKind::Int),
        ("Create_time", CellKind::Text),
        ("Update_time", CellKind::Text),
        ("Check_time", CellKind::Text),
        ("Collation", CellKind::Text),
        ("Checksum", CellKind::Int),
        ("Create_options", CellKind::Text),
        ("Comment", CellKind::Text),
    ]);
    if let Some(d) = state.database(&db) {
        for table in d.tables.values() {
            let n = table.rows();
            rows.push(vec![
                t(&table.name),
                t("StarRocks"),
                Cell::Int(Some(10)),
                t("Dynamic"),
                n.into(),
                Cell::Int(Some(table.bytes().checked_div(n).unwrap_or(0) as i64)),
                table.bytes().into(),
                Cell::Int(Some(0)),
                Cell::Int(Some(0)),
                Cell::Int(Some(0)),
                Cell::Int(None),
                t(&table.created_at),
                t(&table.updated_at),
                Cell::Text(None),
                t("utf8mb4_general_ci"),
                Cell::Int(None),
                t(""),
                t(table.comment.as_deref().unwrap_or("")),
            ]);
        }
        for view in d.views.values() {
            let mut row = vec![t(&view.name)];
            row.extend((0..16).map(|i| {
                if matches!(i, 1 | 3..=9 | 14) {
                    Cell::Int(None)
                } else {
                    Cell::Text(None)
                }
            }));
            row.push(t("VIEW"));
            rows.push(row);
        }
    }
    rows.rows
        .sort_by(|a, b| format!("{:?}", a[0]).cmp(&format!("{:?}", b[0])));
    filtered(rows, filter).await
}

/// `SHOW INDEX`.
pub(super) async fn index(session: &mut Session, table: ObjectName) -> Result<Output> {
    let (_, meta) = table_meta(session, &table)?;
    let mut rows = RowsBuilder::new(&[
        ("Table", CellKind::Text),
        ("Non_unique", CellKind::Int),
        ("Key_name", CellKind::Text),
        ("Seq_in_index", CellKind::Int),
        ("Column_name", CellKind::Text),
        ("Collation", CellKind::Text),
        ("Cardinality", CellKind::Int),
        ("Sub_part", CellKind::Int),
        ("Packed", CellKind::Text),
        ("Null", CellKind::Text),
        ("Index_type", CellKind::Text),
        ("Comment", CellKind::Text),
        ("Index_comment", CellKind::Text),
        ("Visible", CellKind::Text),
        ("Expression", CellKind::Text),
    ]);
    if meta.keys_model.replaces_on_key() {
        let name = if meta.keys_model == KeysModel::Primary {
            "PRIMARY"
        } else {
            "UNIQUE"
        };
        for (i, k) in meta.key_columns.iter().enumerate() {
            rows.push(vec![
                t(&meta.name),
                Cell::Int(Some(0)),
                t(name),
                Cell::Int(Some(i as i64 + 1)),
                t(k),
                t("A"),
                meta.rows().into(),
                Cell::Int(None),
                Cell::Text(None),
                t(""),
                t("BTREE"),
                t(""),
                t(""),
                t("YES"),
                Cell::Text(None),
            ]);
        }
    }
    // Secondary indexes: not unique, their kind as Index_type, their comment.
    for index in &meta.indexes {
        for (i, column) in index.columns.iter().enumerate() {
            let nullable = meta
                .column(column)
                .is_some_and(|(_, c)| c.nullable && !c.is_key);
            rows.push(vec![
                t(&meta.name),
                Cell::Int(Some(1)),
                t(&index.name),
                Cell::Int(Some(i as i64 + 1)),
                t(column),
                Cell::Text(None),
                Cell::Int(None),
                Cell::Int(None),
                Cell::Text(None),
                t(if nullable { "YES" } else { "" }),
                t(&index.kind),
                t(""),
                t(&index.comment),
                t("YES"),
                Cell::Text(None),
            ]);
        }
    }
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW PARTITIONS`.
pub(super) async fn partitions(
    session: &mut Session,
    table: ObjectName,
    filter: Option<ShowFilter>,
) -> Result<Output> {
    let (_, meta) = table_meta(session, &table)?;
    // StarRocks names the bounds column after the partitioning: `Range` or `List`.
    let bounds_header = match meta.partitioning {
        Partitioning::List { .. } => "List",
        _ => "Range",
    };
    let mut rows = RowsBuilder::new(&[
        ("PartitionId", CellKind::Int),
        ("PartitionName", CellKind::Text),
        ("VisibleVersion", CellKind::Int),
        ("VisibleVersionTime", CellKind::Text),
        ("VisibleVersionHash", CellKind::Int),
        ("State", CellKind::Text),
        ("PartitionKey", CellKind::Text),
        (bounds_header, CellKind::Text),
        ("DistributionKey", CellKind::Text),
        ("Buckets", CellKind::Int),
        ("ReplicationNum", CellKind::Int),
        ("StorageMedium", CellKind::Text),
        ("CooldownTime", CellKind::Text),
        ("LastConsistencyCheckTime", CellKind::Text),
        ("DataSize", CellKind::Text),
        ("IsInMemory", CellKind::Text),
        ("RowCount", CellKind::Int),
    ]);
    let types: Vec<String> = meta
        .partitioning
        .columns()
        .iter()
        .filter_map(|c| meta.partition_key_type(c).map(|t| t.sql()))
        .collect();
    let types = types.join(", ");
    let (dist_key, buckets) = match &meta.distribution {
        snaprock_storage::DistributionMeta::Hash { columns, buckets } => {
            (columns.join(", "), *buckets)
        }
        snaprock_storage::DistributionMeta::Random { buckets } => ("ALL KEY".to_string(), *buckets),
    };
    let replication = meta
        .properties
        .iter()
        .find(|(k, _)| k == "replication_num")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .unwrap_or(1);
    for p in &meta.partitions {
        let range = match &p.bounds {
            PartitionBounds::All => String::new(),
            PartitionBounds::Range { lower, upper } => range_text(&types, lower, upper.as_ref()),
            PartitionBounds::List { values } => format!(
                "({})",
                values
                    .iter()
                    .map(|v| format!(
                        "({})",
                        v.iter()
                            .map(|x| match x {
                                Some(x) => format!("'{x}'"),
                                None => "NULL".into(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        rows.push(vec![
            p.id.into(),
            t(&p.name),
            p.version.into(),
            t(&p.version_time),
            Cell::Int(Some(0)),
            t("NORMAL"),
            t(&meta.partitioning.columns().join(", ")),
            t(&range),
            t(&dist_key),
            Cell::Int(Some(buckets.map(|b| b as i64).unwrap_or(1))),
            Cell::Int(Some(replication)),
            t("HDD"),
            t("9999-12-31 23:59:59"),
            Cell::Text(None),
            t(&human_size(p.bytes())),
            t("false"),
            p.rows().into(),
        ]);
    }
    let _ = Partitioning::Unpartitioned;
    filtered(rows, filter).await
}

fn range_text(types: &str, lower: &[String], upper: Option<&Vec<String>>) -> String {
    let keys = |v: &[String]| v.join(", ");
    let lower_keys = if lower.is_empty() {
        "MINVALUE".to_string()
    } else {
        keys(lower)
    };
    let upper_keys = upper
        .map(|u| keys(u))
        .unwrap_or_else(|| "MAXVALUE".to_string());
    format!("[types: [{types}]; keys: [{lower_keys}]; ..types: [{types}]; keys: [{upper_keys}]; )")
}

fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.3}KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.3}MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.3}GB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

/// `SHOW MATERIALIZED VIEWS [FROM db] [LIKE '..' | WHERE ..]`: LIKE matches the name.
pub(super) async fn materialized_views(
    session: &Session,
    database: Option<String>,
    filter: Option<ShowFilter>,
    state: &CatalogState,
) -> Result<Output> {
    use crate::df::info_schema::{SHOW_MATERIALIZED_VIEWS_COLUMNS, builder, view_row};
    let db = database_or_current(session, database)?;
    let (pattern, filter) = match filter {
        Some(ShowFilter::Like(pattern)) => (Some(pattern), None),
        other => (None, other),
    };
    let mut rows = builder(SHOW_MATERIALIZED_VIEWS_COLUMNS);
    for table in state
        .database(&db)
        .into_iter()
        .flat_map(|d| d.tables.values())
    {
        let Some(view) = &table.materialized_view else {
            continue;
        };
        if pattern
            .as_ref()
            .is_none_or(|p| super::like_matches(p, &table.name))
        {
            rows.push(view_row(&db, table, view));
        }
    }
    filtered(rows, filter).await
}

//! DDL: CREATE/DROP DATABASE, CREATE/DROP/TRUNCATE TABLE, ADD/DROP PARTITION, CREATE/DROP
//! VIEW. Each handler checks, builds the new catalog state and commits it in one step; how a
//! CREATE TABLE becomes a table definition is `table_def.rs`; DROP without FORCE keeps what it
//! drops in the recycle bin, and RECOVER (`recycle.rs`) brings it back.

mod alter;
mod batch_partitions;
mod column_types;
mod drop_where;
pub(crate) mod indexes;
pub(crate) mod recycle;
mod table_def;

pub(crate) use alter::alter_table;
pub(crate) use drop_where::drop_partitions_where;
pub(crate) use table_def::{build_table, column_type_of_arrow as arrow_column_type};
use table_def::{column_type_of_arrow, partition_bounds, partition_column_types};

use std::collections::BTreeMap;
use std::sync::Arc;

use snaprock_sql::ast::{
    ColumnDef, CreateTable, CreateView, ObjectName, PartitionBy, PartitionDef,
};
use snaprock_sql::sqlparser::ast::DataType;
use snaprock_storage::{
    DatabaseMeta, PartitionBounds, PartitionMeta, Partitioning, StorageError, TableMeta, ViewMeta,
};

use crate::df::dml::{PartitionChange, commit_partition_changes};
use crate::result::Output;
use crate::session::Session;
use crate::{ExecError, Result, now_text};

pub(crate) fn create_database(
    session: &mut Session,
    name: &str,
    if_not_exists: bool,
    properties: &[(String, String)],
) -> Result<Output> {
    validate_name(name, "database")?;
    let volume =
        super::storage_volume::volume_property(&session.engine.catalog.snapshot(), properties)?;
    let now = now_text();
    let created = session.engine.catalog.commit(|s| {
        if s.databases.contains_key(name) {
            if if_not_exists {
                return Ok(false);
            }
            return Err(StorageError::DatabaseExists(name.to_string()));
        }
        if let Some(volume) = &volume {
            s.usable_storage_volume(volume)?;
        }
        let id = s.allocate_id();
        s.databases.insert(
            name.to_string(),
            Arc::new(DatabaseMeta {
                id,
                name: name.to_string(),
                created_at: now.clone(),
                tables: BTreeMap::new(),
                views: BTreeMap::new(),
                attached: None,
                storage_volume: volume.clone(),
                followed_volume: None,
            }),
        );
        Ok(true)
    })?;
    Ok(Output::affected(u64::from(created)))
}

/// DROP DATABASE: into the recycle bin, or for good with FORCE (an attached snapshot is
/// only detached: its files are the repository's).
pub(crate) fn drop_database(
    session: &mut Session,
    name: &str,
    if_exists: bool,
    force: bool,
) -> Result<Output> {
    let now = recycle::now_ms();
    let dropped = session.engine.catalog.commit(|s| {
        let attached = match s.databases.get(name) {
            Some(db) => db.attached.is_some(),
            None if if_exists => return Ok(false),
            None => return Err(StorageError::UnknownDatabase(name.to_string())),
        };
        if force || attached {
            s.databases.remove(name);
        } else {
            s.recycle_database(name, now);
        }
        Ok(true)
    })?;
    if dropped && session.current_db.as_deref() == Some(name) {
        session.current_db = None;
        session.conn.set_database(None);
    }
    Ok(Output::ok())
}

pub(crate) async fn create_table(
    session: &mut Session,
    create: CreateTable,
    sql: &str,
) -> Result<Output> {
    let (db, name) = session.resolve(&create.name)?;
    validate_name(&name, "table")?;
    super::storage_volume::volume_property(&session.engine.catalog.snapshot(), &create.properties)?;
    let mut create = create;
    let query = create.as_query.take();
    if let Some(query) = &query {
        // CREATE TABLE AS SELECT: the columns are the query's.
        let columns = super::query::query_columns(session, query, sql).await?;
        if create.columns.is_empty() {
            create.columns = column_defs_of_query(columns)?;
        }
    }
    let generated = match &create.partitioning {
        Some(PartitionBy::Range { generated, .. } | PartitionBy::List { generated, .. })
            if !generated.is_empty() =>
        {
            let columns = table_def::build_columns(&create)?;
            crate::df::generated_keys::resolve(session, &columns, generated)?
        }
        _ => Vec::new(),
    };
    let now = now_text();
    let meta = build_table(&create, &generated, &now)?;
    let created = session
        .engine
        .catalog
        .commit(|s| add_new_table(s, &db, &meta, create.if_not_exists))?
        .is_some();
    if let (true, Some(query)) = (created, query) {
        let target = ObjectName {
            database: Some(db.clone()),
            name: name.clone(),
        };
        match Box::pin(super::query::run_insert(
            session,
            &target,
            query,
            super::query::WriteAs::default(),
        ))
        .await
        {
            Ok(out) => return Ok(out),
            Err(e) => {
                // CREATE TABLE AS SELECT is all or nothing: nothing for the recycle bin.
                let _ = drop_table(
                    session,
                    &ObjectName {
                        database: Some(db),
                        name,
                    },
                    true,
                    true,
                );
                return Err(e);
            }
        }
    }
    Ok(Output::ok())
}

pub(crate) fn create_table_like(
    session: &mut Session,
    name: &ObjectName,
    like: &ObjectName,
    if_not_exists: bool,
) -> Result<Output> {
    let (db, table) = session.resolve(name)?;
    let (src_db, src) = session.resolve(like)?;
    let now = now_text();
    session.engine.catalog.commit(|s| {
        let source = s.table_or_err(&src_db, &src)?;
        let dbm = s
            .databases
            .get(&db)
            .ok_or_else(|| StorageError::UnknownDatabase(db.clone()))?;
        if dbm.tables.contains_key(&table) || dbm.views.contains_key(&table) {
            if if_not_exists {
                return Ok(());
            }
            return Err(StorageError::TableExists(table.clone()));
        }
        let mut meta = TableMeta::clone(&source);
        meta.id = s.allocate_id();
        meta.name = table.clone();
        meta.created_at = now.clone();
        meta.updated_at = now.clone();
        let unpartitioned = meta.partitioning == Partitioning::Unpartitioned;
        for p in &mut meta.partitions {
            if unpartitioned {
                // An unpartitioned table's one partition is named after the table.
                p.name = table.clone();
            }
            p.id = s.allocate_id();
            p.files.clear();
            p.version = 1;
            p.version_time = now.clone();
        }
        let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
        dbm.tables.insert(table.clone(), Arc::new(meta));
        Ok(())
    })?;
    Ok(Output::ok())
}

/// DROP TABLE: into the recycle bin, or for good with FORCE.
pub(crate) fn drop_table(
    session: &mut Session,
    name: &ObjectName,
    if_exists: bool,
    force: bool,
) -> Result<Output> {
    let now = recycle::now_ms();
    let (db, table) = session.resolve(name)?;
    session.engine.catalog.commit(|s| {
        let Some(dbm) = s.databases.get_mut(&db) else {
            return if if_exists {
                Ok(())
            } else {
                Err(StorageError::UnknownDatabase(db.clone()))
            };
        };
        if !dbm.tables.contains_key(&table) {
            return if if_exists {
                Ok(())
            } else {
                Err(StorageError::UnknownTable {
                    database: db.clone(),
                    table: table.clone(),
                })
            };
        }
        if force {
            return s.remove_table(&db, &table).map(|_| ());
        }
        s.recycle_table(&db, &table, now)
    })?;
    Ok(Output::ok())
}

pub(crate) async fn truncate_table(
    session: &mut Session,
    name: &ObjectName,
    partitions: &[String],
) -> Result<Output> {
    let (db, table_name) = session.resolve(name)?;
    let state = session.engine.catalog.snapshot();
    let planned = state
        .table(&db, &table_name)
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table_name}")))?
        .clone();
    let _guard = session.engine.catalog.lock_table(planned.id).await;
    let state = session.engine.catalog.snapshot();
    let table = state
        .table(&db, &table_name)
        .filter(|t| t.id == planned.id)
        .ok_or(StorageError::Conflict)?
        .clone();
    let mut changes = Vec::new();
    for p in &table.partitions {
        if partitions.is_empty() || partitions.iter().any(|n| n.eq_ignore_ascii_case(&p.name)) {
            changes.push(PartitionChange {
                partition_id: p.id,
                files: Vec::new(),
                kept: Vec::new(),
                replace: true,
            });
        }
    }
    for n in partitions {
        if table.partition(n).is_none() {
            return Err(StorageError::UnknownPartition {
                table: table.name.clone(),
                partition: n.clone(),
            }
            .into());
        }
    }
    commit_partition_changes(&session.engine.catalog, &db, &table, changes).await?;
    Ok(Output::ok())
}

pub(crate) fn add_partition(
    session: &mut Session,
    name: &ObjectName,
    def: &PartitionDef,
    if_not_exists: bool,
) -> Result<Output> {
    let (db, table) = session.resolve(name)?;
    let now = now_text();
    // A batch (ADD PARTITIONS START .. END .. EVERY ..) becomes its partitions first: the
    // partition columns of a table never change.
    let defs = batch_partitions::expand(
        std::slice::from_ref(def),
        batch_column(session, &db, &table)?,
    )?;
    session.engine.catalog.commit(|s| {
        for def in &defs {
            add_one_partition(s, &db, &table, def, if_not_exists, &now)?;
        }
        Ok(())
    })?;
    Ok(Output::ok())
}

/// The type of the column a batch of partitions of `db.table` is cut on: the first partition
/// column of a RANGE table (`None` for other tables, which refuse batches). The partition
/// columns of a table never change, so the current state is as good as any.
fn batch_column(
    session: &Session,
    db: &str,
    table: &str,
) -> Result<Option<snaprock_storage::ColumnType>> {
    let state = session.engine.catalog.snapshot();
    let t = state.table_or_err(db, table)?;
    let range = matches!(t.partitioning, Partitioning::Range { .. });
    Ok(partition_column_types(&t)?
        .first()
        .map(|(_, c)| c.clone())
        .filter(|_| range))
}

/// Adds one partition to `db.table` in `s` (all of a batch go in one commit).
fn add_one_partition(
    s: &mut snaprock_storage::CatalogState,
    db: &str,
    table: &str,
    def: &PartitionDef,
    if_not_exists: bool,
    now: &str,
) -> Result<(), StorageError> {
    let t = s.table_or_err(db, table)?;
    if t.partition(&def.name).is_some() {
        if if_not_exists {
            return Ok(());
        }
        return Err(StorageError::PartitionExists(def.name.clone()));
    }
    let column_types = partition_column_types(&t)?;
    let previous: Vec<PartitionBounds> = t.partitions.iter().map(|p| p.bounds.clone()).collect();
    let bounds = partition_bounds(&t.partitioning, &column_types, def, &previous)
        .map_err(|e| StorageError::InvalidDefinition(e.to_string()))?;
    t.check_no_overlap(&bounds, &def.name)?;
    let id = s.allocate_id();
    let dbm = Arc::make_mut(s.databases.get_mut(db).ok_or(StorageError::Conflict)?);
    let tm = Arc::make_mut(dbm.tables.get_mut(table).ok_or(StorageError::Conflict)?);
    tm.partitions.push(PartitionMeta {
        id,
        name: def.name.clone(),
        bounds,
        version: 1,
        version_time: now.to_string(),
        files: Vec::new(),
    });
    tm.sort_partitions();
    tm.updated_at = now.to_string();
    Ok(())
}

/// ALTER TABLE ... DROP PARTITION: into the recycle bin, or for good with FORCE.
pub(crate) async fn drop_partition(
    session: &mut Session,
    name: &ObjectName,
    partition: &str,
    if_exists: bool,
    force: bool,
) -> Result<Output> {
    drop_partition_names(session, name, &[partition.to_string()], if_exists, force).await
}

/// ALTER TABLE ... DROP PARTITIONS (p1, p2) or START .. END .. EVERY ..: the partitions a
/// batch would create, by name; all in one commit.
pub(crate) async fn drop_partitions(
    session: &mut Session,
    name: &ObjectName,
    defs: &[PartitionDef],
    if_exists: bool,
    force: bool,
) -> Result<Output> {
    let (db, table) = session.resolve(name)?;
    let names: Vec<String> = batch_partitions::expand(defs, batch_column(session, &db, &table)?)?
        .into_iter()
        .map(|d| d.name)
        .collect();
    drop_partition_names(session, name, &names, if_exists, force).await
}

pub(super) async fn drop_partition_names(
    session: &mut Session,
    name: &ObjectName,
    partitions: &[String],
    if_exists: bool,
    force: bool,
) -> Result<Output> {
    let now = recycle::now_ms();
    let (db, table) = session.resolve(name)?;
    let planned = session
        .engine
        .catalog
        .snapshot()
        .table(&db, &table)
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table}")))?
        .clone();
    let _guard = session.engine.catalog.lock_table(planned.id).await;
    session.engine.catalog.commit(|s| {
        let t = s.table_or_err(&db, &table)?;
        if t.partitioning == Partitioning::Unpartitioned {
            return Err(StorageError::InvalidDefinition(format!(
                "Table '{table}' is not partitioned"
            )));
        }
        if let Some(missing) = partitions.iter().find(|p| t.partition(p).is_none())
            && !if_exists
        {
            return Err(StorageError::UnknownPartition {
                table: table.clone(),
                partition: missing.clone(),
            });
        }
        let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
        let tm = Arc::make_mut(dbm.tables.get_mut(&table).ok_or(StorageError::Conflict)?);
        let table_id = tm.id;
        let mut dropped = Vec::new();
        for partition in partitions {
            if let Some(at) = tm
                .partitions
                .iter()
                .position(|p| p.name.eq_ignore_ascii_case(partition))
            {
                dropped.push(tm.partitions.remove(at));
            }
        }
        tm.updated_at = now_text();
        if !force {
            for partition in dropped {
                s.recycle_partition(table_id, partition, now);
            }
        }
        Ok(())
    })?;
    Ok(Output::ok())
}

pub(crate) async fn create_view(session: &mut Session, view: CreateView) -> Result<Output> {
    let (db, name) = session.resolve(&view.name)?;
    validate_name(&name, "view")?;
    if session.engine.catalog.snapshot().database(&db).is_none() {
        return Err(ExecError::UnknownDatabase(db));
    }
    // The query must plan now (unknown tables and columns are errors at CREATE VIEW).
    let previous_db = session.current_db.clone();
    session.current_db = Some(db.clone());
    let described = super::query::describe(session, &view.query_sql).await;
    session.current_db = previous_db;
    let columns = described?;
    if !view.columns.is_empty() && view.columns.len() != columns.len() {
        return Err(ExecError::InvalidDefinition(
            "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts".into(),
        ));
    }
    let meta = ViewMeta {
        name: name.clone(),
        columns: view.columns.clone(),
        query_sql: view.query_sql.clone(),
        comment: view.comment.clone(),
        created_at: now_text(),
    };
    session.engine.catalog.commit(|s| {
        let dbm = s
            .databases
            .get(&db)
            .ok_or_else(|| StorageError::UnknownDatabase(db.clone()))?;
        if dbm.tables.contains_key(&name) {
            return Err(StorageError::TableExists(name.clone()));
        }
        if dbm.views.contains_key(&name) && !view.or_replace {
            if view.if_not_exists {
                return Ok(());
            }
            return Err(StorageError::TableExists(name.clone()));
        }
        let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
        dbm.views.insert(name.clone(), Arc::new(meta.clone()));
        Ok(())
    })?;
    Ok(Output::ok())
}

pub(crate) fn drop_view(
    session: &mut Session,
    name: &ObjectName,
    if_exists: bool,
) -> Result<Output> {
    let (db, view) = session.resolve(name)?;
    session.engine.catalog.commit(|s| {
        let exists = s.database(&db).is_some_and(|d| d.views.contains_key(&view));
        if !exists {
            return if if_exists {
                Ok(())
            } else {
                Err(StorageError::UnknownTable {
                    database: db.clone(),
                    table: view.clone(),
                })
            };
        }
        let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
        dbm.views.remove(&view);
        Ok(())
    })?;
    Ok(Output::ok())
}

/// The columns of CREATE TABLE AS SELECT (or a materialized view) from its query's: each
/// column's type as the query computes it, nullable.
pub(crate) fn column_defs_of_query(
    columns: Vec<crate::result::OutputColumn>,
) -> Result<Vec<ColumnDef>> {
    let mut defs = Vec::new();
    for c in columns {
        let column_type = column_type_of_arrow(c.field.data_type())?;
        defs.push(ColumnDef {
            name: c.name,
            data_type: DataType::Custom(
                snaprock_sql::sqlparser::ast::ObjectName::from(vec![
                    snaprock_sql::sqlparser::ast::Ident::new("SNAPROCK_TYPE"),
                ]),
                vec![
                    serde_json::to_string(&column_type)
                        .map_err(|e| ExecError::Plan(e.to_string()))?,
                ],
            ),
            nullable: Some(true),
            default: None,
            comment: None,
            aggregation: None,
            auto_increment: false,
            primary_key: false,
            key: false,
        });
    }
    Ok(defs)
}

/// Adds table `meta` (named `meta.name`) to database `db` with fresh ids for it and its
/// partitions; `None` when a table or view has the name and `if_not_exists` says so.
pub(crate) fn add_new_table(
    s: &mut snaprock_storage::CatalogState,
    db: &str,
    meta: &TableMeta,
    if_not_exists: bool,
) -> std::result::Result<Option<u64>, StorageError> {
    let name = &meta.name;
    let dbm = s
        .databases
        .get(db)
        .ok_or_else(|| StorageError::UnknownDatabase(db.to_string()))?;
    dbm.check_writable()?;
    if dbm.tables.contains_key(name) || dbm.views.contains_key(name) {
        if if_not_exists {
            return Ok(None);
        }
        return Err(StorageError::TableExists(name.clone()));
    }
    let mut meta = meta.clone();
    s.place_table(db, &mut meta.properties)?;
    meta.id = s.allocate_id();
    for p in &mut meta.partitions {
        p.id = s.allocate_id();
    }
    let id = meta.id;
    let dbm = Arc::make_mut(s.databases.get_mut(db).ok_or(StorageError::Conflict)?);
    dbm.tables.insert(name.clone(), Arc::new(meta));
    Ok(Some(id))
}

pub(crate) fn validate_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 256
        || name.contains('/')
        || name.contains('\0')
        || name.starts_with("__snaprock")
    {
        return Err(ExecError::InvalidDefinition(format!(
            "Incorrect {what} name '{name}'"
        )));
    }
    Ok(())
}

//! DDL: databases, tables (StarRocks keys, partitions, distribution), partitions, views.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit};
use snaprock_sql::ast::{
    ColumnDef, CreateTable, CreateView, Distribution, KeysKind, ObjectName, PartitionBy,
    PartitionDef, PartitionValue, PartitionValues,
};
use snaprock_sql::sqlparser::ast::{DataType, ExactNumberInfo, Expr};
use snaprock_storage::{
    ColumnMeta, ColumnType, DatabaseMeta, DistributionMeta, KeysModel, PartitionBounds,
    PartitionMeta, Partitioning, StorageError, TableMeta, ViewMeta, bounds_to_scalars,
    normalize_bound,
};

use crate::df::dml::{PartitionChange, commit_partition_changes};
use crate::df::provider::{CURRENT_TIMESTAMP, default_expr};
use crate::result::Output;
use crate::session::Session;
use crate::{ExecError, Result, now_text};

/// Maps a SQL type to a StarRocks column type.
pub(crate) fn column_type(data_type: &DataType) -> Result<ColumnType> {
    let unsupported =
        || ExecError::InvalidDefinition(format!("Unsupported column type {data_type}"));
    let length = |l: &Option<snaprock_sql::sqlparser::ast::CharacterLength>,
                  default: u32|
     -> Result<u32> {
        match l {
            None => Ok(default),
            Some(snaprock_sql::sqlparser::ast::CharacterLength::IntegerLength {
                length, ..
            }) => u32::try_from(*length).map_err(|_| unsupported()),
            Some(snaprock_sql::sqlparser::ast::CharacterLength::Max) => Ok(65533),
        }
    };
    Ok(match data_type {
        DataType::Boolean | DataType::Bool => ColumnType::Boolean,
        DataType::TinyInt(Some(1)) => ColumnType::Boolean,
        DataType::TinyInt(_) | DataType::TinyIntUnsigned(_) => ColumnType::TinyInt,
        DataType::SmallInt(_) | DataType::SmallIntUnsigned(_) => ColumnType::SmallInt,
        DataType::MediumInt(_) | DataType::MediumIntUnsigned(_) => ColumnType::Int,
        DataType::Int(_)
        | DataType::Integer(_)
        | DataType::IntUnsigned(_)
        | DataType::IntegerUnsigned(_) => ColumnType::Int,
        DataType::BigInt(_) => ColumnType::BigInt,
        DataType::BigIntUnsigned(_) => ColumnType::LargeInt,
        DataType::Float(_) | DataType::Real | DataType::Float4 => ColumnType::Float,
        DataType::Double(_) | DataType::DoublePrecision | DataType::Float8 | DataType::Float64 => {
            ColumnType::Double
        }
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            let (precision, scale) = match info {
                ExactNumberInfo::None => (10, 0),
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
            };
            if precision == 0 || precision > 38 || scale < 0 || scale as u64 > precision {
                return Err(ExecError::InvalidDefinition(format!(
                    "Invalid decimal type DECIMAL({precision}, {scale}): precision must be 1..38 and scale 0..precision"
                )));
            }
            ColumnType::Decimal {
                precision: precision as u8,
                scale: scale as i8,
            }
        }
        DataType::Char(l) | DataType::Character(l) => ColumnType::Char {
            length: length(l, 1)?,
        },
        DataType::Varchar(l)
        | DataType::CharVarying(l)
        | DataType::CharacterVarying(l)
        | DataType::Nvarchar(l) => ColumnType::Varchar {
            length: length(l, 65533)?,
        },
        DataType::String(_)
        | DataType::Text
        | DataType::TinyText
        | DataType::MediumText
        | DataType::LongText => ColumnType::String,
        DataType::Date => ColumnType::Date,
        DataType::Datetime(_) | DataType::Timestamp(_, _) => ColumnType::DateTime,
        DataType::JSON => ColumnType::Json,
        DataType::Custom(name, args) => {
            let n = name.to_string().to_uppercase();
            match (n.as_str(), args.as_slice()) {
                ("LARGEINT", _) => ColumnType::LargeInt,
                ("STRING", _) => ColumnType::String,
                ("DECIMALV2" | "DECIMAL32" | "DECIMAL64" | "DECIMAL128", [p, s]) => {
                    let p: u8 = p.parse().map_err(|_| unsupported())?;
                    let s: i8 = s.parse().map_err(|_| unsupported())?;
                    ColumnType::Decimal {
                        precision: p,
                        scale: s,
                    }
                }
                ("DATETIME", _) => ColumnType::DateTime,
                _ => return Err(unsupported()),
            }
        }
        _ => return Err(unsupported()),
    })
}

/// A StarRocks column type for a query result column (CREATE TABLE AS SELECT).
pub(crate) fn column_type_of_arrow(t: &ArrowType) -> Result<ColumnType> {
    Ok(match t {
        ArrowType::Boolean => ColumnType::Boolean,
        ArrowType::Int8 => ColumnType::TinyInt,
        ArrowType::Int16 | ArrowType::UInt8 => ColumnType::SmallInt,
        ArrowType::Int32 | ArrowType::UInt16 => ColumnType::Int,
        ArrowType::Int64 | ArrowType::UInt32 => ColumnType::BigInt,
        ArrowType::UInt64 => ColumnType::LargeInt,
        ArrowType::Float16 | ArrowType::Float32 => ColumnType::Float,
        ArrowType::Float64 => ColumnType::Double,
        ArrowType::Decimal256(_, 0) => ColumnType::LargeInt,
        ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s) if *p <= 38 => {
            ColumnType::Decimal {
                precision: *p,
                scale: (*s).max(0),
            }
        }
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => ColumnType::String,
        ArrowType::Date32 | ArrowType::Date64 => ColumnType::Date,
        ArrowType::Timestamp(
            TimeUnit::Second | TimeUnit::Millisecond | TimeUnit::Microsecond | TimeUnit::Nanosecond,
            _,
        ) => ColumnType::DateTime,
        ArrowType::Null => ColumnType::String,
        other => {
            return Err(ExecError::InvalidDefinition(format!(
                "Cannot store a column of type {other}"
            )));
        }
    })
}

/// The text of a column default (`'0'` → `0`, `CURRENT_TIMESTAMP` kept as is).
fn default_text(expr: &Expr) -> Result<String> {
    match expr {
        Expr::Function(f)
            if f.name.to_string().eq_ignore_ascii_case("current_timestamp")
                || f.name.to_string().eq_ignore_ascii_case("now") =>
        {
            Ok(CURRENT_TIMESTAMP.to_string())
        }
        Expr::Identifier(i) if i.value.eq_ignore_ascii_case("current_timestamp") => {
            Ok(CURRENT_TIMESTAMP.to_string())
        }
        other => match snaprock_sql::literal_text(other) {
            Some(t) => Ok(t),
            None => Err(ExecError::InvalidDefinition(format!(
                "Invalid default value {other}"
            ))),
        },
    }
}

impl Session {
    /// `[db.]name` → (database, name), using the current database.
    pub(crate) fn resolve(&self, name: &ObjectName) -> Result<(String, String)> {
        let db = match &name.database {
            Some(db) => db.clone(),
            None => self
                .current_db
                .clone()
                .ok_or(ExecError::NoDatabaseSelected)?,
        };
        Ok((db, name.name.clone()))
    }

    pub(crate) fn create_database(&mut self, name: &str, if_not_exists: bool) -> Result<Output> {
        validate_name(name, "database")?;
        let now = now_text();
        let created = self.engine.catalog.commit(|s| {
            if s.databases.contains_key(name) {
                if if_not_exists {
                    return Ok(false);
                }
                return Err(StorageError::DatabaseExists(name.to_string()));
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
                }),
            );
            Ok(true)
        })?;
        Ok(Output::affected(u64::from(created)))
    }

    pub(crate) fn drop_database(&mut self, name: &str, if_exists: bool) -> Result<Output> {
        let dropped = self
            .engine
            .catalog
            .commit(|s| match s.databases.remove(name) {
                Some(_) => Ok(true),
                None if if_exists => Ok(false),
                None => Err(StorageError::UnknownDatabase(name.to_string())),
            })?;
        if dropped && self.current_db.as_deref() == Some(name) {
            self.current_db = None;
            self.conn.set_database(None);
        }
        Ok(Output::ok())
    }

    pub(crate) async fn create_table(&mut self, create: CreateTable) -> Result<Output> {
        let (db, name) = self.resolve(&create.name)?;
        validate_name(&name, "table")?;
        let mut create = create;
        let query = create.as_query.take();
        if let Some(query) = &query {
            // CREATE TABLE AS SELECT: the columns are the query's.
            let sql = query.to_string();
            let columns = self.describe(&sql).await?;
            if create.columns.is_empty() {
                for c in columns {
                    let column_type = column_type_of_arrow(c.field.data_type())?;
                    create.columns.push(ColumnDef {
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
                    });
                }
            }
        }
        let now = now_text();
        let meta = build_table(&create, &now)?;
        let created = self.engine.catalog.commit(|s| {
            let dbm = s
                .databases
                .get(&db)
                .ok_or_else(|| StorageError::UnknownDatabase(db.clone()))?;
            if dbm.tables.contains_key(&name) || dbm.views.contains_key(&name) {
                if create.if_not_exists {
                    return Ok(false);
                }
                return Err(StorageError::TableExists(name.clone()));
            }
            let mut meta = meta.clone();
            meta.id = s.allocate_id();
            for p in &mut meta.partitions {
                p.id = s.allocate_id();
            }
            let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
            dbm.tables.insert(name.clone(), Arc::new(meta));
            Ok(true)
        })?;
        if let (true, Some(query)) = (created, query) {
            let insert = format!("INSERT INTO `{db}`.`{name}` {query}");
            match Box::pin(self.execute_one(&insert)).await {
                Ok(out) => return Ok(out),
                Err(e) => {
                    // CREATE TABLE AS SELECT is all or nothing.
                    let _ = self.drop_table(
                        &ObjectName {
                            database: Some(db),
                            name,
                        },
                        true,
                    );
                    return Err(e);
                }
            }
        }
        Ok(Output::ok())
    }

    pub(crate) fn create_table_like(
        &mut self,
        name: &ObjectName,
        like: &ObjectName,
        if_not_exists: bool,
    ) -> Result<Output> {
        let (db, table) = self.resolve(name)?;
        let (src_db, src) = self.resolve(like)?;
        let now = now_text();
        self.engine.catalog.commit(|s| {
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
            for p in &mut meta.partitions {
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

    pub(crate) fn drop_table(&mut self, name: &ObjectName, if_exists: bool) -> Result<Output> {
        let (db, table) = self.resolve(name)?;
        self.engine.catalog.commit(|s| {
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
            Arc::make_mut(dbm).tables.remove(&table);
            Ok(())
        })?;
        Ok(Output::ok())
    }

    pub(crate) async fn truncate_table(
        &mut self,
        name: &ObjectName,
        partitions: &[String],
    ) -> Result<Output> {
        let (db, table_name) = self.resolve(name)?;
        let state = self.engine.catalog.snapshot();
        let planned = state
            .table(&db, &table_name)
            .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table_name}")))?
            .clone();
        let _guard = self.engine.catalog.lock_table(planned.id).await;
        let state = self.engine.catalog.snapshot();
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
        commit_partition_changes(&self.engine.catalog, &db, &table, changes)?;
        Ok(Output::ok())
    }

    pub(crate) fn add_partition(
        &mut self,
        name: &ObjectName,
        def: &PartitionDef,
        if_not_exists: bool,
    ) -> Result<Output> {
        let (db, table) = self.resolve(name)?;
        let now = now_text();
        self.engine.catalog.commit(|s| {
            let t = s.table_or_err(&db, &table)?;
            if t.partition(&def.name).is_some() {
                if if_not_exists {
                    return Ok(());
                }
                return Err(StorageError::PartitionExists(def.name.clone()));
            }
            let column_types = partition_column_types(&t)?;
            let previous: Vec<PartitionBounds> =
                t.partitions.iter().map(|p| p.bounds.clone()).collect();
            let bounds = partition_bounds(&t.partitioning, &column_types, def, &previous)
                .map_err(|e| StorageError::InvalidDefinition(e.to_string()))?;
            t.check_no_overlap(&bounds, &def.name)?;
            let id = s.allocate_id();
            let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
            let tm = Arc::make_mut(dbm.tables.get_mut(&table).ok_or(StorageError::Conflict)?);
            tm.partitions.push(PartitionMeta {
                id,
                name: def.name.clone(),
                bounds,
                version: 1,
                version_time: now.clone(),
                files: Vec::new(),
            });
            tm.sort_partitions();
            tm.updated_at = now.clone();
            Ok(())
        })?;
        Ok(Output::ok())
    }

    pub(crate) async fn drop_partition(
        &mut self,
        name: &ObjectName,
        partition: &str,
        if_exists: bool,
    ) -> Result<Output> {
        let (db, table) = self.resolve(name)?;
        let planned = self
            .engine
            .catalog
            .snapshot()
            .table(&db, &table)
            .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table}")))?
            .clone();
        let _guard = self.engine.catalog.lock_table(planned.id).await;
        self.engine.catalog.commit(|s| {
            let t = s.table_or_err(&db, &table)?;
            if t.partitioning == Partitioning::Unpartitioned {
                return Err(StorageError::InvalidDefinition(format!(
                    "Table '{table}' is not partitioned"
                )));
            }
            if t.partition(partition).is_none() {
                return if if_exists {
                    Ok(())
                } else {
                    Err(StorageError::UnknownPartition {
                        table: table.clone(),
                        partition: partition.to_string(),
                    })
                };
            }
            let dbm = Arc::make_mut(s.databases.get_mut(&db).ok_or(StorageError::Conflict)?);
            let tm = Arc::make_mut(dbm.tables.get_mut(&table).ok_or(StorageError::Conflict)?);
            tm.partitions
                .retain(|p| !p.name.eq_ignore_ascii_case(partition));
            tm.updated_at = now_text();
            Ok(())
        })?;
        Ok(Output::ok())
    }

    pub(crate) async fn create_view(&mut self, view: CreateView) -> Result<Output> {
        let (db, name) = self.resolve(&view.name)?;
        validate_name(&name, "view")?;
        if self.engine.catalog.snapshot().database(&db).is_none() {
            return Err(ExecError::UnknownDatabase(db));
        }
        // The query must plan now (unknown tables and columns are errors at CREATE VIEW).
        let previous_db = self.current_db.clone();
        self.current_db = Some(db.clone());
        let described = self.describe(&view.query_sql).await;
        self.current_db = previous_db;
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
        self.engine.catalog.commit(|s| {
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

    pub(crate) fn drop_view(&mut self, name: &ObjectName, if_exists: bool) -> Result<Output> {
        let (db, view) = self.resolve(name)?;
        self.engine.catalog.commit(|s| {
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
}

fn validate_name(name: &str, what: &str) -> Result<()> {
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

fn partition_column_types(t: &TableMeta) -> Result<Vec<(String, ColumnType)>, StorageError> {
    t.partitioning
        .columns()
        .iter()
        .map(|c| {
            t.column(c)
                .map(|(_, m)| (m.name.clone(), m.column_type))
                .ok_or_else(|| {
                    StorageError::InvalidDefinition(format!("Unknown partition column '{c}'"))
                })
        })
        .collect()
}

/// Builds the table's metadata from CREATE TABLE (ids are assigned at commit).
fn build_table(create: &CreateTable, now: &str) -> Result<TableMeta> {
    if create.columns.is_empty() {
        return Err(ExecError::InvalidDefinition(
            "A table must have at least one column".into(),
        ));
    }
    let mut columns: Vec<ColumnMeta> = Vec::new();
    for c in &create.columns {
        if columns.iter().any(|x| x.name.eq_ignore_ascii_case(&c.name)) {
            return Err(ExecError::DuplicateColumn(c.name.clone()));
        }
        let column_type = match &c.data_type {
            DataType::Custom(n, args) if n.to_string() == "SNAPROCK_TYPE" => args
                .first()
                .and_then(|a| serde_json::from_str(a).ok())
                .ok_or_else(|| ExecError::Plan("bad derived column type".into()))?,
            other => column_type(other)?,
        };
        let default = c.default.as_ref().map(default_text).transpose()?;
        if let Some(d) = &default {
            default_expr(d, &column_type)?;
        }
        columns.push(ColumnMeta {
            name: c.name.clone(),
            column_type,
            nullable: c.nullable.unwrap_or(true),
            default,
            comment: c.comment.clone(),
            is_key: false,
            aggregation: c.aggregation.clone(),
            auto_increment: c.auto_increment,
        });
    }
    let column_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let find = |name: &str| -> Result<String> {
        column_names
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| ExecError::UnknownColumn {
                column: name.to_string(),
                context: "key definition".into(),
            })
    };
    let inline_pk: Vec<String> = if !create.inline_primary_key.is_empty() {
        create.inline_primary_key.clone()
    } else {
        create
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect()
    };
    let (keys_model, key_columns) = match (&create.keys, inline_pk.is_empty()) {
        (Some(k), _) => (
            match k.kind {
                KeysKind::Duplicate => KeysModel::Duplicate,
                KeysKind::Primary => KeysModel::Primary,
                KeysKind::Unique => KeysModel::Unique,
                KeysKind::Aggregate => KeysModel::Aggregate,
            },
            k.columns
                .iter()
                .map(|c| find(c))
                .collect::<Result<Vec<_>>>()?,
        ),
        (None, false) => (
            KeysModel::Primary,
            inline_pk
                .iter()
                .map(|c| find(c))
                .collect::<Result<Vec<_>>>()?,
        ),
        (None, true) => (KeysModel::Duplicate, vec![column_names[0].clone()]),
    };
    // StarRocks: key columns are the first columns, in order.
    for (i, k) in key_columns.iter().enumerate() {
        if columns.get(i).map(|c| &c.name) != Some(k) {
            return Err(ExecError::InvalidDefinition(
                "Key columns should be a ordered prefix of the schema.".into(),
            ));
        }
        columns[i].is_key = true;
        if keys_model == KeysModel::Primary {
            columns[i].nullable = false;
        }
    }
    let partitioning = match &create.partitioning {
        None => Partitioning::Unpartitioned,
        Some(PartitionBy::Range { columns, .. }) => Partitioning::Range {
            columns: columns
                .iter()
                .map(|c| find(c))
                .collect::<Result<Vec<_>>>()?,
        },
        Some(PartitionBy::List { columns, .. }) => Partitioning::List {
            columns: columns
                .iter()
                .map(|c| find(c))
                .collect::<Result<Vec<_>>>()?,
        },
    };
    if keys_model.replaces_on_key() {
        for c in partitioning.columns() {
            if !key_columns.contains(c) {
                return Err(ExecError::InvalidDefinition(format!(
                    "The partition column '{c}' must be a key column of a {} table",
                    keys_model.sql()
                )));
            }
        }
    }
    let distribution = match &create.distribution {
        Some(Distribution::Hash { columns, buckets }) => DistributionMeta::Hash {
            columns: columns
                .iter()
                .map(|c| find(c))
                .collect::<Result<Vec<_>>>()?,
            buckets: *buckets,
        },
        Some(Distribution::Random { buckets }) => DistributionMeta::Random { buckets: *buckets },
        None => DistributionMeta::Random { buckets: None },
    };
    let mut table = TableMeta {
        id: 0,
        name: create.name.name.clone(),
        columns,
        keys_model,
        key_columns,
        partitioning,
        partitions: Vec::new(),
        distribution,
        properties: create.properties.clone(),
        comment: create.comment.clone(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
    };
    let column_types = partition_column_types(&table)?;
    match &create.partitioning {
        None => table.partitions.push(PartitionMeta {
            id: 0,
            name: table.name.clone(),
            bounds: PartitionBounds::All,
            version: 1,
            version_time: now.to_string(),
            files: Vec::new(),
        }),
        Some(PartitionBy::Range { partitions, .. } | PartitionBy::List { partitions, .. }) => {
            if partitions.is_empty() {
                return Err(ExecError::InvalidDefinition(
                    "A partitioned table needs at least one partition".into(),
                ));
            }
            for def in partitions {
                if table.partition(&def.name).is_some() {
                    return Err(StorageError::PartitionExists(def.name.clone()).into());
                }
                let previous: Vec<PartitionBounds> =
                    table.partitions.iter().map(|p| p.bounds.clone()).collect();
                let bounds = partition_bounds(&table.partitioning, &column_types, def, &previous)?;
                table.check_no_overlap(&bounds, &def.name)?;
                table.partitions.push(PartitionMeta {
                    id: 0,
                    name: def.name.clone(),
                    bounds,
                    version: 1,
                    version_time: now.to_string(),
                    files: Vec::new(),
                });
                table.sort_partitions();
            }
        }
    }
    Ok(table)
}

fn normalize_values(
    column_types: &[(String, ColumnType)],
    values: &[PartitionValue],
) -> Result<Option<Vec<String>>> {
    if values.len() > column_types.len() {
        return Err(ExecError::InvalidDefinition(format!(
            "Partition values ({}) are more than partition columns ({})",
            values.len(),
            column_types.len()
        )));
    }
    let mut out = Vec::new();
    for (v, (name, t)) in values.iter().zip(column_types) {
        match v {
            PartitionValue::MaxValue => {
                if out.is_empty() {
                    return Ok(None);
                }
                break;
            }
            PartitionValue::Literal(text) => out.push(normalize_bound(name, t, text)?),
        }
    }
    Ok(Some(out))
}

/// The bounds of a partition definition; `LESS THAN` starts where the previous partition ends.
fn partition_bounds(
    partitioning: &Partitioning,
    column_types: &[(String, ColumnType)],
    def: &PartitionDef,
    previous: &[PartitionBounds],
) -> Result<PartitionBounds> {
    match (partitioning, &def.values) {
        (Partitioning::Range { .. }, PartitionValues::LessThan(values)) => {
            let upper = normalize_values(column_types, values)?;
            let types: Vec<ArrowType> = column_types.iter().map(|(_, t)| t.arrow_type()).collect();
            // Lower bound: the greatest existing upper bound below the new upper bound.
            let mut lower: Vec<String> = Vec::new();
            let upper_typed = upper
                .as_ref()
                .map(|u| bounds_to_scalars(u, &types))
                .transpose()?;
            for b in previous {
                if let PartitionBounds::Range { upper: Some(u), .. } = b {
                    let u_typed = bounds_to_scalars(u, &types)?;
                    let below_new = upper_typed.as_ref().is_none_or(|n| u_typed < *n);
                    let above_current =
                        lower.is_empty() || u_typed > bounds_to_scalars(&lower, &types)?;
                    if below_new && above_current {
                        lower = u.clone();
                    }
                }
            }
            Ok(PartitionBounds::Range { lower, upper })
        }
        (Partitioning::Range { .. }, PartitionValues::Fixed { lower, upper }) => {
            let lower = normalize_values(column_types, lower)?.ok_or_else(|| {
                ExecError::InvalidDefinition(
                    "The lower bound of a partition cannot be MAXVALUE".into(),
                )
            })?;
            let upper = normalize_values(column_types, upper)?;
            let types: Vec<ArrowType> = column_types.iter().map(|(_, t)| t.arrow_type()).collect();
            if let Some(u) = &upper
                && bounds_to_scalars(&lower, &types)? >= bounds_to_scalars(u, &types)?
            {
                return Err(ExecError::InvalidDefinition(format!(
                    "The lower bound of partition {} must be less than its upper bound",
                    def.name
                )));
            }
            Ok(PartitionBounds::Range { lower, upper })
        }
        (Partitioning::List { .. }, PartitionValues::In(tuples)) => {
            let mut values = Vec::new();
            for t in tuples {
                if t.len() != column_types.len() {
                    return Err(ExecError::InvalidDefinition(format!(
                        "Partition {} lists {} values for {} partition columns",
                        def.name,
                        t.len(),
                        column_types.len()
                    )));
                }
                values.push(normalize_values(column_types, t)?.ok_or_else(|| {
                    ExecError::InvalidDefinition(
                        "MAXVALUE is not allowed in a LIST partition".into(),
                    )
                })?);
            }
            Ok(PartitionBounds::List { values })
        }
        (Partitioning::Range { .. }, PartitionValues::In(_)) => Err(ExecError::InvalidDefinition(
            "VALUES IN is for LIST partitions; this table is RANGE partitioned".into(),
        )),
        (Partitioning::List { .. }, _) => Err(ExecError::InvalidDefinition(
            "This table is LIST partitioned; use VALUES IN (...)".into(),
        )),
        (Partitioning::Unpartitioned, _) => Err(ExecError::InvalidDefinition(
            "The table is not partitioned".into(),
        )),
    }
}

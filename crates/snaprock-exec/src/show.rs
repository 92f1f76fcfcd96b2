//! SHOW statements, shaped as MySQL and StarRocks answer them.

use std::sync::Arc;

use datafusion::datasource::MemTable;
use snaprock_access::{Effective, Target};
use snaprock_sql::ast::{ObjectName, Privilege, Show, ShowFilter};
use snaprock_sql::sqlparser::ast::{Expr, VisitMut, VisitorMut};
use snaprock_storage::{KeysModel, PartitionBounds, Partitioning, TableMeta};

use crate::engine::Engine;
use crate::result::{Cell, CellKind, Output, ResultSet, RowsBuilder};
use crate::session::Session;
use crate::show_create;
use crate::{ExecError, Result};

/// (name, default collation, description, maxlen)
pub(crate) const CHARSETS: &[(&str, &str, &str, i64)] = &[
    ("binary", "binary", "Binary pseudo charset", 1),
    ("utf8mb3", "utf8mb3_general_ci", "UTF-8 Unicode", 3),
    ("utf8mb4", "utf8mb4_general_ci", "UTF-8 Unicode", 4),
];

/// (name, charset, id, is default)
pub(crate) const COLLATIONS: &[(&str, &str, i64, bool)] = &[
    ("binary", "binary", 63, true),
    ("utf8mb3_general_ci", "utf8mb3", 33, true),
    ("utf8mb4_0900_ai_ci", "utf8mb4", 255, false),
    ("utf8mb4_bin", "utf8mb4", 46, false),
    ("utf8mb4_general_ci", "utf8mb4", 45, true),
    ("utf8mb4_unicode_ci", "utf8mb4", 224, false),
];

/// The one engine, as SHOW ENGINES and information_schema.ENGINES list it.
pub(crate) fn engine_row() -> Vec<Cell> {
    vec![
        t("StarRocks"),
        t("DEFAULT"),
        t("StarRocks-compatible columnar storage (Parquet)"),
        t("NO"),
        t("NO"),
        t("NO"),
    ]
}

/// SHOW COLLATION / information_schema.COLLATIONS rows (same columns in the same order).
pub(crate) fn collation_rows() -> Vec<Vec<Cell>> {
    COLLATIONS
        .iter()
        .map(|(name, charset, id, default)| {
            vec![
                t(name),
                t(charset),
                Cell::Int(Some(*id)),
                t(if *default { "Yes" } else { "" }),
                t("Yes"),
                Cell::Int(Some(1)),
                t("PAD SPACE"),
            ]
        })
        .collect()
}

fn t(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

/// MySQL LIKE: `%` any run, `_` one character, `\` escapes; case-insensitive.
pub(crate) fn like_matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                !t.is_empty()
                    && t[0].to_lowercase().eq(rest[0].to_lowercase())
                    && go(&rest[1..], &t[1..])
            }
            Some((c, rest)) => {
                !t.is_empty() && t[0].to_lowercase().eq(c.to_lowercase()) && go(rest, &t[1..])
            }
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// SHOW PROCESSLIST rows: every connection for a session with OPERATE on SYSTEM (or no
/// privileges to apply), else only those of its own user.
pub(crate) fn processlist_rows(engine: &Engine, privileges: Option<&Effective>) -> Vec<Vec<Cell>> {
    let only_user = privileges
        .filter(|p| !p.allows(Privilege::Operate, &Target::System))
        .map(|p| p.user.user.as_str());
    engine
        .connections()
        .iter()
        .filter(|c| only_user.is_none_or(|u| c.user == u))
        .map(|c| {
            let s = c.state.lock().unwrap_or_else(|p| p.into_inner());
            vec![
                Cell::Int(Some(i64::from(c.id))),
                t(&c.user),
                t(&c.host),
                Cell::Text(s.database.clone()),
                t(s.command),
                Cell::Int(Some(s.since.elapsed().as_secs() as i64)),
                t(if s.command == "Query" {
                    "executing"
                } else {
                    ""
                }),
                Cell::Text(s.info.clone()),
            ]
        })
        .collect()
}

fn lowercase_identifiers(expr: &mut Expr) {
    struct Lower;
    impl VisitorMut for Lower {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> std::ops::ControlFlow<()> {
            match expr {
                Expr::Identifier(i) => i.value = i.value.to_lowercase(),
                Expr::CompoundIdentifier(parts) => {
                    if let Some(last) = parts.last_mut() {
                        last.value = last.value.to_lowercase();
                    }
                }
                _ => {}
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = expr.visit(&mut Lower);
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

impl Session {
    fn database_or_current(&self, db: Option<String>) -> Result<String> {
        let db = db
            .or_else(|| self.current_db.clone())
            .ok_or(ExecError::NoDatabaseSelected)?;
        if db != crate::catalog_provider::INFORMATION_SCHEMA
            && self.engine.catalog.snapshot().database(&db).is_none()
        {
            return Err(ExecError::UnknownDatabase(db));
        }
        Ok(db)
    }

    fn table_meta(&self, name: &ObjectName) -> Result<(String, Arc<TableMeta>)> {
        let (db, table) = self.resolve(name)?;
        let state = self.engine.catalog.snapshot();
        if state.database(&db).is_none() {
            return Err(ExecError::UnknownDatabase(db));
        }
        let meta = state
            .table(&db, &table)
            .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table}")))?
            .clone();
        Ok((db, meta))
    }

    /// Applies LIKE (on the first column) or WHERE (on any column) to hand-built rows.
    async fn filtered(
        &mut self,
        mut rows: RowsBuilder,
        filter: Option<ShowFilter>,
    ) -> Result<Output> {
        match filter {
            None => Ok(Output::Rows(rows.into_result()?)),
            Some(ShowFilter::Like(pattern)) => {
                rows.rows.retain(|r| match &r[0] {
                    Cell::Text(Some(s)) => like_matches(&pattern, s),
                    _ => false,
                });
                Ok(Output::Rows(rows.into_result()?))
            }
            Some(ShowFilter::Where(mut expr)) => {
                lowercase_identifiers(&mut expr);
                let expr = *expr;
                let batch = rows.batch()?;
                let ctx = crate::query::new_datafusion_context();
                let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
                let catalog = datafusion::catalog::MemoryCatalogProvider::new();
                let schema = Arc::new(datafusion::catalog::MemorySchemaProvider::new());
                datafusion::catalog::CatalogProvider::register_schema(
                    &catalog,
                    "show",
                    schema.clone(),
                )?;
                datafusion::catalog::SchemaProvider::register_table(
                    schema.as_ref(),
                    "rows".into(),
                    Arc::new(table),
                )?;
                ctx.register_catalog("show", Arc::new(catalog));
                let frame = ctx
                    .sql(&format!("SELECT * FROM show.show.rows WHERE {expr}"))
                    .await?;
                let batches = frame.collect().await?;
                let names = rows.names.clone();
                let schema = rows.schema();
                let columns = names
                    .iter()
                    .zip(schema.fields().iter())
                    .map(|(n, f)| crate::result::OutputColumn {
                        name: n.clone(),
                        table: String::new(),
                        field: f.as_ref().clone(),
                    })
                    .collect();
                Ok(Output::Rows(ResultSet::new(columns, batches)))
            }
        }
    }

    pub(crate) async fn show(&mut self, show: Show) -> Result<Output> {
        // Only what the session may see (the statement was authorized before it got here).
        let state = crate::catalog_provider::visible_state(
            &self.engine.catalog.snapshot(),
            &self.privileges(),
        );
        match show {
            Show::Databases { filter } => {
                let mut rows = RowsBuilder::text(&["Database"]);
                rows.push(vec![t(crate::catalog_provider::INFORMATION_SCHEMA)]);
                for db in state.databases.keys() {
                    rows.push(vec![t(db)]);
                }
                self.filtered(rows, filter).await
            }
            Show::Tables {
                full,
                database,
                filter,
            } => {
                let db = self.database_or_current(database)?;
                let header = format!("Tables_in_{db}");
                let mut rows = if full {
                    RowsBuilder::text(&[&header, "Table_type"])
                } else {
                    RowsBuilder::text(&[&header])
                };
                let mut names: Vec<(String, &str)> = Vec::new();
                if db == crate::catalog_provider::INFORMATION_SCHEMA {
                    for (name, _) in crate::info_schema::table_list() {
                        names.push((name.to_string(), "SYSTEM VIEW"));
                    }
                } else if let Some(d) = state.database(&db) {
                    names.extend(d.tables.keys().map(|n| (n.clone(), "BASE TABLE")));
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
                self.filtered(rows, filter).await
            }
            Show::Columns {
                full,
                table,
                filter,
            } => {
                let (_, meta) = self.table_meta(&table)?;
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
                let key = match meta.keys_model {
                    KeysModel::Primary => "PRI",
                    KeysModel::Unique => "UNI",
                    _ => "",
                };
                for c in &meta.columns {
                    let null = t(if c.nullable { "YES" } else { "NO" });
                    let k = t(if c.is_key { key } else { "" });
                    let extra = t(if c.auto_increment {
                        "auto_increment"
                    } else {
                        c.aggregation.as_deref().unwrap_or("")
                    });
                    let ty = t(&c.column_type.mysql_column_type());
                    if full {
                        let collation = Cell::Text(
                            c.column_type
                                .is_string()
                                .then(|| "utf8mb4_general_ci".to_string()),
                        );
                        rows.push(vec![
                            t(&c.name),
                            ty,
                            collation,
                            null,
                            k,
                            Cell::Text(c.default.clone()),
                            extra,
                            t("select,insert,update,references"),
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
                self.filtered(rows, filter).await
            }
            Show::CreateTable { table } => {
                let (db, name) = self.resolve(&table)?;
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
                let (_, meta) = self.table_meta(&table)?;
                let mut rows = RowsBuilder::text(&["Table", "Create Table"]);
                rows.push(vec![t(&meta.name), t(&show_create::table_ddl(&meta))]);
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::CreateView { view } => {
                let (db, name) = self.resolve(&view)?;
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
            Show::CreateDatabase { database } => {
                if state.database(&database).is_none() {
                    return Err(ExecError::UnknownDatabase(database));
                }
                let mut rows = RowsBuilder::text(&["Database", "Create Database"]);
                rows.push(vec![
                    t(&database),
                    t(&format!("CREATE DATABASE `{database}`")),
                ]);
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::Variables { global, filter } => {
                let mut rows = RowsBuilder::text(&["Variable_name", "Value"]);
                for (name, value) in self.engine.globals.all() {
                    let value = if global {
                        value
                    } else {
                        self.variable(name).unwrap_or(value)
                    };
                    rows.push(vec![t(name), t(&value.display())]);
                }
                self.filtered(rows, filter).await
            }
            Show::Status { filter, .. } => {
                let mut rows = RowsBuilder::text(&["Variable_name", "Value"]);
                let uptime = self.engine.started.elapsed().as_secs();
                for (name, value) in [
                    ("Questions", self.engine.queries().to_string()),
                    ("Queries", self.engine.queries().to_string()),
                    (
                        "Threads_connected",
                        self.engine.connections().len().to_string(),
                    ),
                    ("Uptime", uptime.to_string()),
                ] {
                    rows.push(vec![t(name), t(&value)]);
                }
                self.filtered(rows, filter).await
            }
            Show::Warnings | Show::Errors => {
                let mut rows = RowsBuilder::new(&[
                    ("Level", CellKind::Text),
                    ("Code", CellKind::Int),
                    ("Message", CellKind::Text),
                ]);
                for w in &self.warnings {
                    rows.push(vec![
                        t(w.level),
                        Cell::Int(Some(i64::from(w.code))),
                        t(&w.message),
                    ]);
                }
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::Engines => {
                let mut rows = RowsBuilder::text(&[
                    "Engine",
                    "Support",
                    "Comment",
                    "Transactions",
                    "XA",
                    "Savepoints",
                ]);
                rows.push(engine_row());
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::Charset { filter } => {
                let mut rows = RowsBuilder::new(&[
                    ("Charset", CellKind::Text),
                    ("Description", CellKind::Text),
                    ("Default collation", CellKind::Text),
                    ("Maxlen", CellKind::Int),
                ]);
                for (name, collation, description, maxlen) in CHARSETS {
                    rows.push(vec![
                        t(name),
                        t(description),
                        t(collation),
                        Cell::Int(Some(*maxlen)),
                    ]);
                }
                self.filtered(rows, filter).await
            }
            Show::Collation { filter } => {
                let mut rows = RowsBuilder::new(&[
                    ("Collation", CellKind::Text),
                    ("Charset", CellKind::Text),
                    ("Id", CellKind::Int),
                    ("Default", CellKind::Text),
                    ("Compiled", CellKind::Text),
                    ("Sortlen", CellKind::Int),
                    ("Pad_attribute", CellKind::Text),
                ]);
                for row in collation_rows() {
                    rows.push(row);
                }
                self.filtered(rows, filter).await
            }
            Show::Processlist { .. } => {
                let mut rows = RowsBuilder::new(&[
                    ("Id", CellKind::Int),
                    ("User", CellKind::Text),
                    ("Host", CellKind::Text),
                    ("db", CellKind::Text),
                    ("Command", CellKind::Text),
                    ("Time", CellKind::Int),
                    ("State", CellKind::Text),
                    ("Info", CellKind::Text),
                ]);
                for row in processlist_rows(&self.engine, Some(&self.privileges())) {
                    rows.push(row);
                }
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::TableStatus { database, filter } => {
                let db = self.database_or_current(database)?;
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
                self.filtered(rows, filter).await
            }
            Show::Index { table } => {
                let (_, meta) = self.table_meta(&table)?;
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
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::Partitions { table, filter, .. } => {
                let (_, meta) = self.table_meta(&table)?;
                let mut rows = RowsBuilder::new(&[
                    ("PartitionId", CellKind::Int),
                    ("PartitionName", CellKind::Text),
                    ("VisibleVersion", CellKind::Int),
                    ("VisibleVersionTime", CellKind::Text),
                    ("VisibleVersionHash", CellKind::Int),
                    ("State", CellKind::Text),
                    ("PartitionKey", CellKind::Text),
                    ("Range", CellKind::Text),
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
                    .filter_map(|c| meta.column(c).map(|(_, m)| m.column_type.sql()))
                    .collect();
                let types = types.join(", ");
                let (dist_key, buckets) = match &meta.distribution {
                    snaprock_storage::DistributionMeta::Hash { columns, buckets } => {
                        (columns.join(", "), *buckets)
                    }
                    snaprock_storage::DistributionMeta::Random { buckets } => {
                        ("ALL KEY".to_string(), *buckets)
                    }
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
                        PartitionBounds::Range { lower, upper } => {
                            range_text(&types, lower, upper.as_ref())
                        }
                        PartitionBounds::List { values } => format!(
                            "({})",
                            values
                                .iter()
                                .map(|v| format!(
                                    "({})",
                                    v.iter()
                                        .map(|x| format!("'{x}'"))
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
                self.filtered(rows, filter).await
            }
            show @ (Show::Grants { .. } | Show::Users | Show::Roles) => self.show_accounts(&show),
            Show::ProcedureStatus { filter, .. } => {
                let rows = RowsBuilder::text(&[
                    "Db",
                    "Name",
                    "Type",
                    "Definer",
                    "Modified",
                    "Created",
                    "Security_type",
                    "Comment",
                    "character_set_client",
                    "collation_connection",
                    "Database Collation",
                ]);
                self.filtered(rows, filter).await
            }
            Show::Triggers { filter, .. } => {
                let rows = RowsBuilder::text(&[
                    "Trigger",
                    "Event",
                    "Table",
                    "Statement",
                    "Timing",
                    "Created",
                    "sql_mode",
                    "Definer",
                    "character_set_client",
                    "collation_connection",
                    "Database Collation",
                ]);
                self.filtered(rows, filter).await
            }
            Show::Events { .. } => Ok(Output::Rows(
                RowsBuilder::text(&[
                    "Db",
                    "Name",
                    "Definer",
                    "Time zone",
                    "Type",
                    "Execute at",
                    "Interval value",
                    "Interval field",
                    "Starts",
                    "Ends",
                    "Status",
                    "Originator",
                    "character_set_client",
                    "collation_connection",
                    "Database Collation",
                ])
                .into_result()?,
            )),
            Show::Plugins => {
                let mut rows = RowsBuilder::text(&["Name", "Status", "Type", "Library", "License"]);
                rows.push(vec![
                    t("mysql_native_password"),
                    t("ACTIVE"),
                    t("AUTHENTICATION"),
                    Cell::Text(None),
                    t("GPL"),
                ]);
                Ok(Output::Rows(rows.into_result()?))
            }
            Show::Privileges => Ok(Output::Rows(
                RowsBuilder::text(&["Privilege", "Context", "Comment"]).into_result()?,
            )),
            Show::Profiles => Ok(Output::Rows(
                RowsBuilder::text(&["Query_ID", "Duration", "Query"]).into_result()?,
            )),
            show @ (Show::Repositories
            | Show::Backup { .. }
            | Show::Restore { .. }
            | Show::Snapshot { .. }) => self.show_backup_info(show).await,
            Show::OpenTables => Ok(Output::Rows(
                RowsBuilder::text(&["Database", "Table", "In_use", "Name_locked"]).into_result()?,
            )),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::like_matches;

    #[test]
    fn like_patterns() {
        assert!(like_matches("lower_case%", "lower_case_table_names"));
        assert!(like_matches("a_c", "ABC"));
        assert!(!like_matches("a_c", "abbc"));
        assert!(like_matches("100\\%", "100%"));
        assert!(!like_matches("x", "xy"));
    }
}

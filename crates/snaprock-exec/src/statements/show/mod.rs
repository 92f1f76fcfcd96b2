//! SHOW statements, shaped as MySQL and StarRocks answer them: `Session::show` picks the
//! function of each variant (`schema.rs`: databases, tables and their parts; `server.rs`: the
//! server, its variables and sessions; accounts and backups live with their own statements).

mod functions;
mod indexes;
mod loads;
mod nodes;
mod schema;
mod server;
mod storage;

use std::sync::Arc;

use datafusion::datasource::MemTable;
use snaprock_sql::ast::{ObjectName, Show, ShowFilter, ShowOrder};
use snaprock_sql::sqlparser::ast::{Expr, VisitMut, VisitorMut};
use snaprock_storage::TableMeta;

use crate::result::{Cell, Output, ResultSet, RowsBuilder};
use crate::session::Session;
use crate::{ExecError, Result};

/// Runs a SHOW statement (already authorized) over what the session may see.
pub(crate) async fn show(session: &mut Session, show: Show) -> Result<Output> {
    let state = crate::df::catalog_provider::visible_state(
        &session.engine.catalog.snapshot(),
        &session.privileges(),
    );
    match show {
        Show::Databases { filter } => schema::databases(filter, &state).await,
        Show::Tables {
            full,
            database,
            filter,
        } => schema::tables(session, full, database, filter, &state).await,
        Show::Columns {
            full,
            describe,
            table,
            filter,
        } => schema::columns(session, full, describe, table, filter).await,
        Show::CreateTable { table } => schema::create_table(session, table, &state).await,
        Show::DescribeAll { table } => indexes::describe_all(session, table, &state).await,
        Show::CreateView { view } => schema::create_view(session, view, &state).await,
        Show::CreateDatabase { database } => schema::create_database(database, &state).await,
        Show::Variables { global, filter } => server::variables(session, global, filter).await,
        Show::Status { filter, .. } => server::status(session, filter).await,
        Show::Warnings | Show::Errors => server::warnings(session).await,
        Show::Engines => server::engines().await,
        Show::Catalogs => server::catalogs().await,
        Show::Backends => nodes::backends(session).await,
        Show::Frontends => nodes::frontends(session).await,
        Show::Proc(path) => nodes::proc(session, &path).await,
        Show::Charset { filter } => server::charset(filter).await,
        Show::Collation { filter } => server::collation(filter).await,
        Show::Processlist { .. } => server::processlist(session).await,
        Show::TableStatus { database, filter } => {
            schema::table_status(session, database, filter, &state).await
        }
        Show::Index { table } => schema::index(session, table).await,
        Show::Partitions { table, filter, .. } => schema::partitions(session, table, filter).await,
        show @ (Show::Grants { .. } | Show::Users | Show::Roles) => {
            super::access::show_accounts(session, &show)
        }
        Show::ProcedureStatus { filter, .. } => server::procedure_status(filter).await,
        Show::Triggers { filter, .. } => server::triggers(filter).await,
        Show::Events { .. } => server::events().await,
        Show::Plugins => server::plugins().await,
        Show::Privileges => Ok(Output::Rows(
            RowsBuilder::text(&["Privilege", "Context", "Comment"]).into_result()?,
        )),
        Show::Profiles => Ok(Output::Rows(
            RowsBuilder::text(&["Query_ID", "Duration", "Query"]).into_result()?,
        )),
        show @ (Show::Repositories
        | Show::Backup { .. }
        | Show::Restore { .. }
        | Show::Snapshot { .. }) => super::backup::show_backup_info(session, show).await,
        Show::Data { table } => storage::data(session, table, &state).await,
        Show::Tablet { table } => storage::tablets(session, table).await,
        Show::AlterJobs {
            kind,
            database,
            filter,
            order,
        } => storage::alter_jobs(session, &kind, database, filter, &order).await,
        Show::Load {
            database,
            filter,
            order,
        } => loads::show_load(session, database, filter, &order, &state).await,
        Show::RoutineLoad { database } => loads::show_routine_load(session, database).await,
        show @ Show::Functions { .. } => functions::show_functions(session, show).await,
        Show::AnalyzeStatus { filter } => {
            super::analyze::show_analyze_status(session, filter, &state).await
        }
        Show::StatsMeta { filter } => {
            super::analyze::show_stats_meta(session, filter, &state).await
        }
        Show::MaterializedViews { database, filter } => {
            schema::materialized_views(session, database, filter, &state).await
        }
        Show::OpenTables => Ok(Output::Rows(
            RowsBuilder::text(&["Database", "Table", "In_use", "Name_locked"]).into_result()?,
        )),
    }
}

pub(super) fn database_or_current(session: &Session, db: Option<String>) -> Result<String> {
    let db = db
        .or_else(|| session.current_db.clone())
        .ok_or(ExecError::NoDatabaseSelected)?;
    if db != crate::df::catalog_provider::INFORMATION_SCHEMA
        && session.engine.catalog.snapshot().database(&db).is_none()
    {
        return Err(ExecError::UnknownDatabase(db));
    }
    Ok(db)
}

pub(super) fn table_meta(session: &Session, name: &ObjectName) -> Result<(String, Arc<TableMeta>)> {
    let (db, table) = session.resolve(name)?;
    let state = session.engine.catalog.snapshot();
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
pub(crate) async fn filtered(rows: RowsBuilder, filter: Option<ShowFilter>) -> Result<Output> {
    filtered_ordered(rows, filter, &ShowOrder::default()).await
}

/// As `filtered`, then `ORDER BY` (column names, ascending or not) and `LIMIT`.
pub(crate) async fn filtered_ordered(
    mut rows: RowsBuilder,
    filter: Option<ShowFilter>,
    order: &ShowOrder,
) -> Result<Output> {
    if !order.order_by.is_empty() || order.limit.is_some() || order.offset > 0 {
        let everything = Expr::Value(snaprock_sql::sqlparser::ast::Value::Boolean(true).into());
        let filter = match filter {
            Some(ShowFilter::Like(pattern)) => {
                rows.rows.retain(|r| match &r[0] {
                    Cell::Text(Some(s)) => like_matches(&pattern, s),
                    _ => false,
                });
                None
            }
            other => other,
        };
        let condition = match filter {
            Some(ShowFilter::Where(expr)) => expr,
            _ => Box::new(everything),
        };
        return query_rows(rows, condition, order).await;
    }
    match filter {
        None => Ok(Output::Rows(rows.into_result()?)),
        Some(ShowFilter::Like(pattern)) => {
            rows.rows.retain(|r| match &r[0] {
                Cell::Text(Some(s)) => like_matches(&pattern, s),
                _ => false,
            });
            Ok(Output::Rows(rows.into_result()?))
        }
        Some(ShowFilter::Where(expr)) => query_rows(rows, expr, &ShowOrder::default()).await,
    }
}

/// Hand-built rows through DataFusion: `WHERE condition ORDER BY ... LIMIT n`.
async fn query_rows(
    rows: RowsBuilder,
    mut condition: Box<Expr>,
    order: &ShowOrder,
) -> Result<Output> {
    lowercase_identifiers(&mut condition);
    let batch = rows.batch()?;
    // Hand-built rows only: no table files, so a runtime of its own.
    let runtime = Arc::new(datafusion::execution::runtime_env::RuntimeEnv::default());
    let ctx = crate::df::new_datafusion_context(&runtime);
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    let catalog = datafusion::catalog::MemoryCatalogProvider::new();
    let schema = Arc::new(datafusion::catalog::MemorySchemaProvider::new());
    datafusion::catalog::CatalogProvider::register_schema(&catalog, "show", schema.clone())?;
    datafusion::catalog::SchemaProvider::register_table(
        schema.as_ref(),
        "rows".into(),
        Arc::new(table),
    )?;
    ctx.register_catalog("show", Arc::new(catalog));
    let mut sql = format!("SELECT * FROM show.show.rows WHERE {condition}");
    if !order.order_by.is_empty() {
        let keys: Vec<String> = order
            .order_by
            .iter()
            .map(|(column, ascending)| {
                let column = column.to_lowercase().replace('`', "");
                format!("`{column}` {}", if *ascending { "ASC" } else { "DESC" })
            })
            .collect();
        sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    }
    if let Some(n) = order.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    if order.offset > 0 {
        sql.push_str(&format!(" OFFSET {}", order.offset));
    }
    let batches = ctx.sql(&sql).await?.collect().await?;
    let columns = rows
        .names
        .iter()
        .zip(rows.schema().fields().iter())
        .map(|(n, f)| crate::result::OutputColumn {
            name: n.clone(),
            table: String::new(),
            field: f.as_ref().clone(),
        })
        .collect();
    Ok(Output::Rows(ResultSet::new(columns, batches)))
}

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

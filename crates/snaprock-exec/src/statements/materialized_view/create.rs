//! CREATE MATERIALIZED VIEW: the query is planned as the creating session (in the view's
//! database), its columns become the view's table, and the tables it reads are recorded so a
//! refresh can tell whether the view is fresh and whether its base tables are still there.

use std::ops::ControlFlow;
use std::sync::Arc;

use snaprock_sql::ast::{CreateMaterializedView, CreateTable, RefreshKind, RefreshScheme};
use snaprock_sql::sqlparser::ast::{Query, visit_relations};
use snaprock_storage::{BaseTable, CatalogState, MaterializedViewMeta, MvRefresh, MvSchedule};

use crate::result::Output;
use crate::session::Session;
use crate::statements::ddl;
use crate::tasks::Schedule;
use crate::{ExecError, Result, now_text};

/// How deep views inside a view's query are followed to their tables.
const MAX_VIEW_DEPTH: usize = 16;

pub(super) async fn create(
    session: &mut Session,
    create: CreateMaterializedView,
    sql: &str,
) -> Result<Output> {
    let synchronous = create.is_synchronous();
    if synchronous && !single_table_query(&create.query) {
        return Err(ExecError::Analysis(
            "The materialized view only support one table in from clause.".into(),
        ));
    }
    let refresh = create.refresh.clone().unwrap_or(RefreshScheme {
        deferred: false,
        kind: RefreshKind::Manual,
    });
    let (db, name) = session.resolve(&create.name)?;
    ddl::validate_name(&name, "materialized view")?;
    let state = session.engine.catalog.snapshot();
    if state.database(&db).is_none() {
        return Err(ExecError::UnknownDatabase(db));
    }
    // Planned in the view's database, as every refresh plans it.
    let previous_db = session.current_db.replace(db.clone());
    let planned = crate::statements::query::query_columns(session, &create.query, sql).await;
    session.current_db = previous_db;
    let mut columns = planned?;
    if !create.columns.is_empty() {
        if create.columns.len() != columns.len() {
            return Err(ExecError::Analysis(format!(
                "The number of specified column names ({}) is not equal to the number of \
                 columns of the query ({})",
                create.columns.len(),
                columns.len()
            )));
        }
        for (column, name) in columns.iter_mut().zip(&create.columns) {
            column.name = name.clone();
        }
    }
    let base_tables = base_tables(&state, &db, &create.query, 0)?;
    if synchronous && base_tables.len() != 1 {
        return Err(ExecError::Analysis(
            "The materialized view only support one table in from clause.".into(),
        ));
    }
    if base_tables.is_empty() {
        return Err(ExecError::Analysis(
            "Can not find base table in query statement".into(),
        ));
    }
    let now_ms = crate::tasks::now_ms();
    let table = CreateTable {
        name: create.name.clone(),
        if_not_exists: create.if_not_exists,
        external: false,
        columns: ddl::column_defs_of_query(columns)?,
        engine: None,
        keys: None,
        comment: create.comment.clone(),
        // `PARTITION BY c`: a partition per value of `c`; `date_trunc('unit', c)`: per period.
        partitioning: create.partition_by.clone(),
        distribution: create.distribution.clone(),
        order_by: create.order_by.clone(),
        properties: create.properties.clone(),
        as_query: None,
        inline_primary_key: Vec::new(),
        indexes: Vec::new(),
    };
    let mut meta = ddl::build_table(&table, &[], &now_text())?;
    let mut view = MaterializedViewMeta {
        query_sql: create.query_sql.clone(),
        column_names: create.columns.clone(),
        refresh: if synchronous {
            MvRefresh::Sync
        } else {
            refresh_of(&refresh.kind, now_ms)?
        },
        base_tables,
        active: true,
        inactive_reason: None,
        creator_user: session.identity.user.clone(),
        creator_host: session.identity.host.clone(),
        created_ms: now_ms,
        refreshed_from: None,
        attempted_from: None,
        last_refresh: None,
    };
    if refresh.deferred {
        // Nothing now: a view refreshed on change waits for the next change.
        view.attempted_from = view.base_versions(&state).ok();
    }
    meta.materialized_view = Some(Arc::new(view));
    session
        .engine
        .catalog
        .commit(|s| ddl::add_new_table(s, &db, &meta, create.if_not_exists))?;
    Ok(Output::ok())
}

/// A synchronous view reads one table: one SELECT, one FROM table, no join or subquery there.
fn single_table_query(query: &Query) -> bool {
    use snaprock_sql::sqlparser::ast::SetExpr;
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    query.with.is_none()
        && select.from.len() == 1
        && select.from[0].joins.is_empty()
        && matches!(
            select.from[0].relation,
            snaprock_sql::sqlparser::ast::TableFactor::Table { args: None, .. }
        )
}

/// The stored refresh scheme of `kind`.
pub(super) fn refresh_of(kind: &RefreshKind, now_ms: i64) -> Result<MvRefresh> {
    Ok(match kind {
        RefreshKind::Manual => MvRefresh::Manual,
        RefreshKind::Async(None) => MvRefresh::Async { schedule: None },
        RefreshKind::Async(Some(schedule)) => {
            let checked = Schedule::from_statement(schedule, now_ms)?;
            MvRefresh::Async {
                schedule: Some(MvSchedule {
                    start_ms: checked.start_ms,
                    amount: checked.amount,
                    unit: checked.unit.plural().trim_end_matches('S').to_string(),
                    start_text: schedule.start.clone(),
                }),
            }
        }
        RefreshKind::Incremental => {
            return Err(ExecError::Unsupported(
                "REFRESH INCREMENTAL is not supported: use REFRESH ASYNC or REFRESH MANUAL".into(),
            ));
        }
    })
}

/// The tables `query` reads (in `db` when unqualified), through the views it names; CTE
/// names and information_schema are not tables.
pub(super) fn base_tables(
    state: &CatalogState,
    db: &str,
    query: &Query,
    depth: usize,
) -> Result<Vec<BaseTable>> {
    let ctes: Vec<String> = query
        .with
        .iter()
        .flat_map(|w| &w.cte_tables)
        .map(|c| c.alias.name.value.to_lowercase())
        .collect();
    let mut names = Vec::new();
    let _ = visit_relations(query, |name| {
        let parts = snaprock_sql::name_parts(name);
        let resolved = match parts.as_slice() {
            [t] if !ctes.contains(&t.to_lowercase()) => Some((db.to_string(), t.clone())),
            [d, t] | [_, d, t] => Some((d.clone(), t.clone())),
            _ => None,
        };
        names.extend(resolved);
        ControlFlow::<()>::Continue(())
    });
    let mut tables: Vec<BaseTable> = Vec::new();
    for (database, name) in names {
        if let Some(table) = state.table(&database, &name) {
            if !tables.iter().any(|t| t.table_id == table.id) {
                tables.push(BaseTable {
                    database,
                    table: name,
                    table_id: table.id,
                });
            }
        } else if let Some(view) = state.database(&database).and_then(|d| d.views.get(&name)) {
            if depth >= MAX_VIEW_DEPTH {
                return Err(ExecError::Analysis(format!(
                    "view {database}.{name} nests views too deeply"
                )));
            }
            let Ok(snaprock_sql::ast::Statement::Standard(stmt)) =
                snaprock_sql::parse_statement(&view.query_sql)
            else {
                continue;
            };
            if let snaprock_sql::sqlparser::ast::Statement::Query(q) = *stmt {
                for t in base_tables(state, &database, &q, depth + 1)? {
                    if !tables.iter().any(|known| known.table_id == t.table_id) {
                        tables.push(t);
                    }
                }
            }
        }
    }
    Ok(tables)
}

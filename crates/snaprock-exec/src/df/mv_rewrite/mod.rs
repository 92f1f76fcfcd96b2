//! Transparent query rewrite onto asynchronous materialized views (StarRocks'
//! `enable_materialized_view_rewrite`): an aggregate query over one table is answered from a
//! view of that table whose rows hold the groups and aggregates it needs, rolled up.
//!
//! A view is used only when it is active and **fresh in the statement's catalog snapshot**
//! (its rows were computed from exactly the base data the query would read), so the answer
//! is the one the base table gives, and the session must be allowed to read the base table
//! (the view is then read through the unchecked view catalog, as a view's tables are).
//!
//! What is matched, on the AST before DataFusion plans it: the query is one SELECT over one
//! table (no joins, subqueries, DISTINCT, windows or partition selection); the view's query
//! is one SELECT over the same table with GROUP BY, whose items are its group expressions and
//! `sum` / `min` / `max` / `count` calls, and whose WHERE conjuncts are all among the query's
//! (filter subsumption). The query's GROUP BY, WHERE (its other conjuncts), HAVING, ORDER BY
//! and select list may use the view's group expressions and these aggregates: `sum(x)` becomes
//! `sum(view.sum_x)`, `count(*)` `coalesce(sum(view.count), 0)`, `min`/`max` the same function,
//! `count(DISTINCT g)` over a group expression `count(DISTINCT view.g)`, `avg(x)` of an integer
//! or floating-point `x` the sum of the sums over the sum of the counts. Anything else leaves
//! the query as it is. Sums of floating-point columns added in another order can differ in
//! their last digits, as in StarRocks.
//!
//! `shape.rs` reads a view's query into what its rows hold; `translate.rs` turns a query's
//! parts into the view's columns.

mod shape;
mod translate;

pub(crate) use shape::column_aggregates;

use snaprock_sql::sqlparser::ast::{
    Ident, ObjectName, Query, Select, SetExpr, Statement, TableFactor,
};
use snaprock_storage::TableMeta;

use crate::df::catalog_provider::{StatementContext, VIEW_CATALOG};
use shape::ViewShape;
use translate::Translator;

/// Rewrites `stmt` (a query, or EXPLAIN of one) onto a view if one answers it; the view's
/// `db.name` when it did.
pub(crate) fn rewrite_onto_views(
    stmt: &mut Statement,
    ctx: &StatementContext,
    current_db: Option<&str>,
) -> Option<String> {
    let query = match stmt {
        Statement::Query(query) => query,
        Statement::Explain { statement, .. } => match statement.as_mut() {
            Statement::Query(query) => query,
            _ => return None,
        },
        _ => return None,
    };
    rewrite_query(query, ctx, current_db)
}

fn rewrite_query(
    query: &mut Query,
    ctx: &StatementContext,
    current_db: Option<&str>,
) -> Option<String> {
    if query.with.is_some() || query.fetch.is_some() || !query.locks.is_empty() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let (db, table) = single_table(select, current_db)?;
    let base = ctx.state.table(&db, &table)?;
    ctx.check_table_use(&db, &table).ok()?;
    let mut candidates: Vec<(&String, &TableMeta)> = ctx
        .state
        .databases
        .iter()
        .filter(|(_, d)| !d.is_read_only())
        .flat_map(|(name, d)| d.tables.values().map(move |t| (name, t.as_ref())))
        .filter(|(_, t)| {
            t.materialized_view.as_ref().is_some_and(|v| {
                v.active
                    && v.base_tables.len() == 1
                    && v.base_tables[0].table_id == base.id
                    && v.is_fresh(&ctx.state)
            })
        })
        .collect();
    candidates.sort_by_key(|(_, t)| t.rows());
    for (view_db, view) in candidates {
        let Some(shape) = ViewShape::of(view) else {
            continue;
        };
        if let Some(rewritten) = Translator::new(&shape).query(query, select) {
            *query = rewritten;
            point_at_view(query, view_db, &view.name);
            return Some(format!("{view_db}.{}", view.name));
        }
    }
    None
}

/// The one table a SELECT reads, as (database, table).
fn single_table(select: &Select, current_db: Option<&str>) -> Option<(String, String)> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::Table {
        name,
        args: None,
        partitions,
        version: None,
        sample: None,
        ..
    } = &from.relation
    else {
        return None;
    };
    if !partitions.is_empty() {
        return None;
    }
    let parts = snaprock_sql::name_parts(name);
    match parts.as_slice() {
        [t] => Some((current_db?.to_string(), t.clone())),
        [d, t] => Some((d.clone(), t.clone())),
        _ => None,
    }
}

/// Makes the rewritten query read `db.view` through the view catalog.
fn point_at_view(query: &mut Query, db: &str, view: &str) {
    if let SetExpr::Select(select) = query.body.as_mut()
        && let Some(from) = select.from.first_mut()
        && let TableFactor::Table { name, alias, .. } = &mut from.relation
    {
        *name = ObjectName::from(vec![
            Ident::new(VIEW_CATALOG),
            Ident::new(db),
            Ident::new(view),
        ]);
        *alias = None;
    }
}

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

use std::collections::HashMap;
use std::ops::ControlFlow;

use snaprock_sql::sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, Ident, ObjectName, ObjectNamePart, OrderByKind, Query, Select, SelectItem,
    SetExpr, Statement, TableFactor, VisitMut, VisitorMut,
};
use snaprock_sql::sqlparser::dialect::MySqlDialect;
use snaprock_sql::sqlparser::parser::Parser;
use snaprock_storage::TableMeta;

use crate::df::catalog_provider::{StatementContext, VIEW_CATALOG};

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
        .filter(|(_, d)| d.attached.is_none())
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
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect();
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

/// What a view's rows hold, by normalized expression text: its group expressions and its
/// aggregates (`sum(x)`, `count(*)` ...), each with the view column holding it.
struct ViewShape {
    groups: HashMap<String, String>,
    aggregates: HashMap<(String, String), String>,
    /// The view's WHERE conjuncts (normalized): the query must have them all.
    conjuncts: Vec<String>,
    /// View columns of an integer or floating-point type (an average divides their sums as
    /// DataFusion's `avg` does).
    numeric: Vec<String>,
}

impl ViewShape {
    fn of(view: &TableMeta) -> Option<ViewShape> {
        let definition = view.materialized_view.as_ref()?;
        let Ok(snaprock_sql::ast::Statement::Standard(stmt)) =
            snaprock_sql::parse_statement(&definition.query_sql)
        else {
            return None;
        };
        let Statement::Query(query) = *stmt else {
            return None;
        };
        if query.with.is_some() || query.limit_clause.is_some() {
            return None;
        }
        let SetExpr::Select(select) = query.body.as_ref() else {
            return None;
        };
        let GroupByExpr::Expressions(group_by, modifiers) = &select.group_by else {
            return None;
        };
        if group_by.is_empty()
            || !modifiers.is_empty()
            || select.having.is_some()
            || select.distinct.is_some()
            || select.from.len() != 1
            || !select.from[0].joins.is_empty()
        {
            return None;
        }
        let group_keys: Vec<String> = group_by.iter().map(normalized).collect();
        let mut shape = ViewShape {
            groups: HashMap::new(),
            aggregates: HashMap::new(),
            conjuncts: select
                .selection
                .as_ref()
                .map(|w| conjuncts(w).iter().map(|c| normalized(c)).collect())
                .unwrap_or_default(),
            numeric: view
                .columns
                .iter()
                .filter(|c| {
                    use snaprock_storage::ColumnType::*;
                    matches!(
                        c.column_type,
                        TinyInt | SmallInt | Int | BigInt | Float | Double
                    )
                })
                .map(|c| c.name.clone())
                .collect(),
        };
        if select.projection.len() != view.columns.len() {
            return None;
        }
        for (item, column) in select.projection.iter().zip(&view.columns) {
            let expr = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => return None,
            };
            if let Some(key) = aggregate_key(expr) {
                shape.aggregates.insert(key, column.name.clone());
                continue;
            }
            let key = normalized(expr);
            if !group_keys.contains(&key) {
                return None;
            }
            shape.groups.insert(key, column.name.clone());
        }
        Some(shape)
    }
}

/// For each column of a view's table, the aggregate (`SUM`, `COUNT`, ...) its query computes
/// there, or `None` for a group column (DESC t ALL shows them).
pub(crate) fn column_aggregates(view: &TableMeta) -> Vec<Option<String>> {
    let shape = ViewShape::of(view);
    view.columns
        .iter()
        .map(|c| {
            shape.as_ref().and_then(|s| {
                s.aggregates
                    .iter()
                    .find(|(_, column)| **column == c.name)
                    .map(|((function, _), _)| function.to_uppercase())
            })
        })
        .collect()
}

/// `(function, normalized argument)` of a plain `sum` / `min` / `max` / `count` call.
fn aggregate_key(expr: &Expr) -> Option<(String, String)> {
    let Expr::Function(f) = expr else {
        return None;
    };
    let name = f.name.to_string().to_lowercase();
    if !matches!(name.as_str(), "sum" | "min" | "max" | "count") || !plain_call(f) {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment == Some(DuplicateTreatment::Distinct) || !list.clauses.is_empty() {
        return None;
    }
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "count" => {
            Some((name, "*".into()))
        }
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] => Some((name, normalized(arg))),
        _ => None,
    }
}

fn plain_call(f: &Function) -> bool {
    f.over.is_none()
        && f.filter.is_none()
        && f.within_group.is_empty()
        && f.null_treatment.is_none()
        && matches!(f.parameters, FunctionArguments::None)
}

/// The expression's text with column qualifiers dropped and identifiers and function names
/// lower-cased: `o.Price` and `price` are the same column.
fn normalized(expr: &Expr) -> String {
    struct Normalize;
    impl VisitorMut for Normalize {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            match expr {
                Expr::CompoundIdentifier(parts) => {
                    if let Some(last) = parts.last() {
                        *expr = Expr::Identifier(Ident::new(last.value.to_lowercase()));
                    }
                }
                Expr::Identifier(i) => *i = Ident::new(i.value.to_lowercase()),
                Expr::Function(f) => {
                    f.name = ObjectName::from(vec![Ident::new(f.name.to_string().to_lowercase())]);
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut expr = expr.clone();
    let _ = expr.visit(&mut Normalize);
    expr.to_string()
}

/// `a AND b AND c` as its conjuncts.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: snaprock_sql::sqlparser::ast::BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&MySqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

fn column(name: &str) -> Expr {
    Expr::Identifier(Ident::with_quote('`', name))
}

/// Translates the parts of a query into the view's columns (see the module comment).
struct Translator<'a> {
    shape: &'a ViewShape,
    /// Whether an aggregate was translated: a query with neither GROUP BY nor aggregates
    /// reads rows, which a view of groups does not hold.
    aggregated: std::cell::Cell<bool>,
}

impl<'a> Translator<'a> {
    fn new(shape: &'a ViewShape) -> Self {
        Translator {
            shape,
            aggregated: std::cell::Cell::new(false),
        }
    }

    fn query(&self, query: &Query, select: &Select) -> Option<Query> {
        if select.distinct.is_some()
            || select.top.is_some()
            || select.into.is_some()
            || !select.lateral_views.is_empty()
            || select.prewhere.is_some()
            || select.qualify.is_some()
            || !select.named_window.is_empty()
            || !select.connect_by.is_empty()
            || !select.sort_by.is_empty()
        {
            return None;
        }
        let mut out = select.clone();
        let mut aliases = Vec::new();
        out.projection = select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(e) => {
                    let translated = self.expr(e)?;
                    match e {
                        Expr::Identifier(i) => {
                            aliases.push(i.value.to_lowercase());
                            Some(SelectItem::ExprWithAlias {
                                expr: translated,
                                alias: i.clone(),
                            })
                        }
                        Expr::CompoundIdentifier(parts) => {
                            let last = parts.last()?.clone();
                            aliases.push(last.value.to_lowercase());
                            Some(SelectItem::ExprWithAlias {
                                expr: translated,
                                alias: last,
                            })
                        }
                        _ => Some(SelectItem::UnnamedExpr(translated)),
                    }
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    aliases.push(alias.value.to_lowercase());
                    Some(SelectItem::ExprWithAlias {
                        expr: self.expr(expr)?,
                        alias: alias.clone(),
                    })
                }
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let keep_alias = |e: &Expr| match e {
            Expr::Identifier(i) => aliases.contains(&i.value.to_lowercase()),
            Expr::Value(_) => true,
            _ => false,
        };
        let GroupByExpr::Expressions(group_by, modifiers) = &select.group_by else {
            return None;
        };
        if !modifiers.is_empty() {
            return None;
        }
        let group_by = group_by
            .iter()
            .map(|e| {
                if keep_alias(e) {
                    Some(e.clone())
                } else {
                    self.expr(e)
                }
            })
            .collect::<Option<Vec<_>>>()?;
        if group_by.is_empty() && !self.aggregated.get() {
            return None;
        }
        out.group_by = GroupByExpr::Expressions(group_by, Vec::new());
        out.selection = self.selection(select.selection.as_ref())?;
        out.having = match &select.having {
            Some(h) => Some(self.expr(h)?),
            None => None,
        };
        let mut rewritten = query.clone();
        if let Some(order_by) = rewritten.order_by.as_mut() {
            let OrderByKind::Expressions(items) = &mut order_by.kind else {
                return None;
            };
            for item in items {
                if !keep_alias(&item.expr) {
                    item.expr = self.expr(&item.expr)?;
                }
            }
        }
        rewritten.body = Box::new(SetExpr::Select(Box::new(out)));
        Some(rewritten)
    }

    /// The query's WHERE without the view's conjuncts (which it must all have), translated.
    fn selection(&self, selection: Option<&Expr>) -> Option<Option<Expr>> {
        let parts: Vec<&Expr> = selection.map(conjuncts).unwrap_or_default();
        let keys: Vec<String> = parts.iter().map(|c| normalized(c)).collect();
        if !self.shape.conjuncts.iter().all(|c| keys.contains(c)) {
            return None;
        }
        let mut remaining = Vec::new();
        for (part, key) in parts.into_iter().zip(&keys) {
            if !self.shape.conjuncts.contains(key) {
                remaining.push(self.expr(part)?);
            }
        }
        Some(remaining.into_iter().reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: snaprock_sql::sqlparser::ast::BinaryOperator::And,
            right: Box::new(b),
        }))
    }

    fn expr(&self, e: &Expr) -> Option<Expr> {
        let mut out = e.clone();
        match &mut out {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                return self.shape.groups.get(&normalized(e)).map(|c| column(c));
            }
            Expr::Value(_) | Expr::TypedString { .. } => {}
            Expr::Function(_) => return self.function(e),
            Expr::Nested(x)
            | Expr::UnaryOp { expr: x, .. }
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsFalse(x)
            | Expr::Cast { expr: x, .. } => **x = self.expr(x)?,
            Expr::BinaryOp { left, right, .. } => {
                **left = self.expr(left)?;
                **right = self.expr(right)?;
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                **expr = self.expr(expr)?;
                **low = self.expr(low)?;
                **high = self.expr(high)?;
            }
            Expr::InList { expr, list, .. } => {
                **expr = self.expr(expr)?;
                for item in list.iter_mut() {
                    *item = self.expr(item)?;
                }
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                **expr = self.expr(expr)?;
                **pattern = self.expr(pattern)?;
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(x) = operand {
                    **x = self.expr(x)?;
                }
                for when in conditions.iter_mut() {
                    when.condition = self.expr(&when.condition)?;
                    when.result = self.expr(&when.result)?;
                }
                if let Some(x) = else_result {
                    **x = self.expr(x)?;
                }
            }
            _ => return None,
        }
        Some(out)
    }

    fn function(&self, e: &Expr) -> Option<Expr> {
        let Expr::Function(f) = e else {
            return None;
        };
        if !plain_call(f) {
            return None;
        }
        let name = f.name.to_string().to_lowercase();
        let list = match &f.args {
            FunctionArguments::None => return Some(e.clone()),
            FunctionArguments::List(list) if list.clauses.is_empty() => list,
            _ => return None,
        };
        let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
        if name == "avg" && !distinct {
            // The sum of the sums over the sum of the counts, in floating point as `avg` of an
            // integer or floating-point column answers (a decimal's average is left alone).
            let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
                return None;
            };
            let key = normalized(arg);
            let sum = self
                .shape
                .aggregates
                .get(&("sum".to_string(), key.clone()))?;
            let count = self.shape.aggregates.get(&("count".to_string(), key))?;
            if !self.shape.numeric.contains(sum) {
                return None;
            }
            self.aggregated.set(true);
            return parse_expr(&format!("CAST(sum(`{sum}`) AS DOUBLE) / sum(`{count}`)"));
        }
        if matches!(name.as_str(), "sum" | "min" | "max" | "count") {
            self.aggregated.set(true);
            if distinct {
                // Distinct values of a group expression are the view's.
                let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice()
                else {
                    return None;
                };
                let group = self.shape.groups.get(&normalized(arg))?;
                return parse_expr(&format!("{name}(DISTINCT `{group}`)"));
            }
            let key = aggregate_key(e)?;
            let held = self.shape.aggregates.get(&key)?;
            return match name.as_str() {
                "count" => parse_expr(&format!("coalesce(sum(`{held}`), 0)")),
                _ => parse_expr(&format!("{name}(`{held}`)")),
            };
        }
        let mut out = f.clone();
        let FunctionArguments::List(args) = &mut out.args else {
            return None;
        };
        if distinct {
            return None;
        }
        for arg in args.args.iter_mut() {
            match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => *x = self.expr(x)?,
                _ => return None,
            }
        }
        Some(Expr::Function(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_drops_qualifiers_and_case() {
        let a = parse_expr("SUM(o.Price)").unwrap();
        let b = parse_expr("sum(price)").unwrap();
        assert_eq!(normalized(&a), normalized(&b));
        let c = parse_expr("region = 'East'").unwrap();
        assert_eq!(normalized(&c), "region = 'East'");
    }

    #[test]
    fn conjuncts_split_and() {
        let e = parse_expr("a = 1 AND (b > 2 AND c < 3)").unwrap();
        let parts: Vec<String> = conjuncts(&e).iter().map(|c| normalized(c)).collect();
        assert_eq!(parts, ["a = 1", "b > 2", "c < 3"]);
    }
}

//! StarRocks' lateral `unnest`: `FROM t, unnest(t.a) AS u(x)` (or `CROSS JOIN unnest(...)`)
//! gives one row per element of `t.a`, next to the columns of its `t` row.
//!
//! DataFusion cannot run a table function that reads the row beside it (an outer reference in
//! a lateral join), but it unnests in a select list. So the pair becomes one derived table
//! under the left table's name, `(SELECT t.*, unnest(t.a) AS x FROM t) AS t`, and references
//! to the unnest's alias (`u.x`) are re-pointed to it. Rows whose array is empty or NULL give
//! no rows, as in StarRocks.

use std::ops::ControlFlow;

use snaprock_sql::StarRocksDialect;
use snaprock_sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, JoinConstraint, JoinOperator, Query, Select,
    SetExpr, Statement, TableFactor, VisitMut, VisitorMut,
};
use snaprock_sql::sqlparser::parser::Parser;

/// Rewrites every lateral unnest of `stmt` (in every query and subquery).
pub(crate) fn rewrite_lateral_unnest(stmt: &mut Statement) {
    let _ = stmt.visit(&mut QueryVisitor);
}

struct QueryVisitor;

impl VisitorMut for QueryVisitor {
    type Break = ();
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let mut renames = Vec::new();
        rewrite_set_expr(&mut query.body, &mut renames);
        if !renames.is_empty() {
            let _ = query.visit(&mut Requalify(renames));
        }
        ControlFlow::Continue(())
    }
}

/// `u.x` → `t.x` for each (unnest alias, left table name).
struct Requalify(Vec<(String, String)>);

impl VisitorMut for Requalify {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() == 2
            && let Some((_, to)) = self
                .0
                .iter()
                .find(|(from, _)| parts[0].value.eq_ignore_ascii_case(from))
        {
            parts[0] = Ident::new(to.clone());
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_set_expr(body: &mut SetExpr, renames: &mut Vec<(String, String)>) {
    match body {
        SetExpr::Select(select) => rewrite_select(select, renames),
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left, renames);
            rewrite_set_expr(right, renames);
        }
        _ => {}
    }
}

fn rewrite_select(select: &mut Select, renames: &mut Vec<(String, String)>) {
    // `FROM t, unnest(...)`: the unnest folds into the relation before it.
    let mut i = 1;
    while i < select.from.len() {
        if select.from[i].joins.is_empty()
            && let Some(call) = UnnestCall::of(&select.from[i].relation)
        {
            select.from.remove(i);
            let left = &mut select.from[i - 1];
            let target = match left.joins.last_mut() {
                Some(join) => &mut join.relation,
                None => &mut left.relation,
            };
            call.fold_into(target, renames);
            continue;
        }
        i += 1;
    }
    // `FROM t CROSS JOIN unnest(...)` / `JOIN unnest(...)` without a condition.
    for from in &mut select.from {
        let mut j = 0;
        while j < from.joins.len() {
            let unconditional = matches!(
                &from.joins[j].join_operator,
                JoinOperator::CrossJoin(JoinConstraint::None)
                    | JoinOperator::Join(JoinConstraint::None)
                    | JoinOperator::Inner(JoinConstraint::None)
            );
            if unconditional && let Some(call) = UnnestCall::of(&from.joins[j].relation) {
                from.joins.remove(j);
                let target = if j == 0 {
                    &mut from.relation
                } else {
                    &mut from.joins[j - 1].relation
                };
                call.fold_into(target, renames);
                continue;
            }
            j += 1;
        }
    }
}

/// One `unnest(e1, ...) [AS u(c1, ...)]` table factor.
struct UnnestCall {
    arrays: Vec<Expr>,
    alias: Option<String>,
    columns: Vec<String>,
}

impl UnnestCall {
    fn of(factor: &TableFactor) -> Option<UnnestCall> {
        let (arrays, alias) = match factor {
            TableFactor::Table {
                name,
                args: Some(args),
                alias,
                ..
            } if name.to_string().eq_ignore_ascii_case("unnest") => {
                let arrays = args
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                (arrays, alias.as_ref())
            }
            TableFactor::UNNEST {
                array_exprs, alias, ..
            } => (array_exprs.clone(), alias.as_ref()),
            _ => return None,
        };
        if arrays.is_empty() {
            return None;
        }
        let mut columns: Vec<String> = alias
            .map(|a| a.columns.iter().map(|c| c.name.value.clone()).collect())
            .unwrap_or_default();
        // StarRocks names an unaliased unnest column `unnest` (`unnest_1`, ... for several).
        for i in columns.len()..arrays.len() {
            columns.push(if arrays.len() == 1 {
                "unnest".to_string()
            } else {
                format!("unnest_{}", i + 1)
            });
        }
        Some(UnnestCall {
            arrays,
            alias: alias.map(|a| a.name.value.clone()),
            columns,
        })
    }

    /// Replaces `target` by `(SELECT target.*, unnest(...) AS c, ... FROM target) AS target`.
    fn fold_into(self, target: &mut TableFactor, renames: &mut Vec<(String, String)>) {
        let qualifier = match target {
            TableFactor::Table { alias: Some(a), .. }
            | TableFactor::Derived { alias: Some(a), .. } => a.name.value.clone(),
            TableFactor::Table { name, .. } => match name.0.last() {
                Some(part) => part.to_string().trim_matches('`').to_string(),
                None => return,
            },
            _ => return,
        };
        let unnests: Vec<String> = self
            .arrays
            .iter()
            .zip(&self.columns)
            .map(|(e, c)| format!("unnest({e}) AS `{c}`"))
            .collect();
        let sql = format!(
            "SELECT * FROM (SELECT `{qualifier}`.*, {} FROM {target}) AS `{qualifier}`",
            unnests.join(", ")
        );
        let Ok(mut parsed) = Parser::parse_sql(&StarRocksDialect::new(), &sql) else {
            return;
        };
        let Some(Statement::Query(query)) = parsed.pop() else {
            return;
        };
        let SetExpr::Select(select) = *query.body else {
            return;
        };
        let Some(from) = select.from.into_iter().next() else {
            return;
        };
        *target = from.relation;
        if let Some(alias) = self.alias {
            renames.push((alias, qualifier));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut stmt = Parser::parse_sql(&StarRocksDialect::new(), sql)
            .unwrap()
            .remove(0);
        rewrite_lateral_unnest(&mut stmt);
        stmt.to_string()
    }

    #[test]
    fn comma_and_cross_join_forms_become_a_derived_table() {
        assert_eq!(
            rewritten("SELECT id, u.x FROM t, unnest(t.a) AS u(x) WHERE u.x > 1"),
            "SELECT id, t.x FROM (SELECT `t`.*, unnest(t.a) AS `x` FROM t) AS `t` WHERE t.x > 1"
        );
        assert_eq!(
            rewritten("SELECT * FROM d.t AS s CROSS JOIN unnest(s.a, s.b)"),
            "SELECT * FROM (SELECT `s`.*, unnest(s.a) AS `unnest_1`, unnest(s.b) AS `unnest_2` \
             FROM d.t AS s) AS `s`"
        );
        assert_eq!(
            rewritten("SELECT * FROM t, unnest(a)"),
            "SELECT * FROM (SELECT `t`.*, unnest(a) AS `unnest` FROM t) AS `t`"
        );
    }
}

//! What a materialized view's rows hold, read from its query: its group expressions, its
//! aggregates and its WHERE conjuncts, by normalized expression text; and the expression
//! helpers the translation shares.

use std::collections::HashMap;
use std::ops::ControlFlow;

use snaprock_sql::sqlparser::ast::{
    DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, Ident, ObjectName, SelectItem, SetExpr, Statement, VisitMut, VisitorMut,
};
use snaprock_sql::sqlparser::dialect::MySqlDialect;
use snaprock_sql::sqlparser::parser::Parser;
use snaprock_storage::TableMeta;

/// What a view's rows hold, by normalized expression text: its group expressions and its
/// aggregates (`sum(x)`, `count(*)` ...), each with the view column holding it.
pub(super) struct ViewShape {
    pub(super) groups: HashMap<String, String>,
    pub(super) aggregates: HashMap<(String, String), String>,
    /// The view's WHERE conjuncts (normalized): the query must have them all.
    pub(super) conjuncts: Vec<String>,
    /// View columns of an integer or floating-point type (an average divides their sums as
    /// DataFusion's `avg` does).
    pub(super) numeric: Vec<String>,
}

impl ViewShape {
    pub(super) fn of(view: &TableMeta) -> Option<ViewShape> {
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
pub(super) fn aggregate_key(expr: &Expr) -> Option<(String, String)> {
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

pub(super) fn plain_call(f: &Function) -> bool {
    f.over.is_none()
        && f.filter.is_none()
        && f.within_group.is_empty()
        && f.null_treatment.is_none()
        && matches!(f.parameters, FunctionArguments::None)
}

/// The expression's text with column qualifiers dropped and identifiers and function names
/// lower-cased: `o.Price` and `price` are the same column.
pub(super) fn normalized(expr: &Expr) -> String {
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
pub(super) fn conjuncts(expr: &Expr) -> Vec<&Expr> {
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

pub(super) fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&MySqlDialect {})
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

pub(super) fn column(name: &str) -> Expr {
    Expr::Identifier(Ident::with_quote('`', name))
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

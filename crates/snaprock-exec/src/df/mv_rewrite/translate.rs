//! Translates the parts of a query (select list, GROUP BY, WHERE, HAVING, ORDER BY) into a
//! view's columns, or says it cannot (see `mv_rewrite`'s module comment for what it takes).

use snaprock_sql::sqlparser::ast::{
    DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
    OrderByKind, Query, Select, SelectItem, SetExpr,
};

use super::shape::{
    ViewShape, aggregate_key, column, conjuncts, normalized, parse_expr, plain_call,
};

/// Translates the parts of a query into the view's columns (see the module comment).
pub(super) struct Translator<'a> {
    shape: &'a ViewShape,
    /// Whether an aggregate was translated: a query with neither GROUP BY nor aggregates
    /// reads rows, which a view of groups does not hold.
    aggregated: std::cell::Cell<bool>,
}

impl<'a> Translator<'a> {
    pub(super) fn new(shape: &'a ViewShape) -> Self {
        Translator {
            shape,
            aggregated: std::cell::Cell::new(false),
        }
    }

    pub(super) fn query(&self, query: &Query, select: &Select) -> Option<Query> {
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

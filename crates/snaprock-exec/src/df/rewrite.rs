//! Rewrites a MySQL/StarRocks query AST into one DataFusion plans the MySQL way.
//!
//! * column names, aliases and function names are matched case-insensitively (they are
//!   lower-cased here; table and database names keep their case, as in StarRocks);
//! * `@@var`, `@var`, `DATABASE()`, `USER()`, `VERSION()`, `CONNECTION_ID()` become literals;
//!   `IF()` becomes CASE and `IFNULL()` COALESCE;
//! * views are expanded into derived tables; `FROM DUAL` is dropped;
//! * `HAVING` without GROUP BY (a filter on select aliases, as Connector/J sends) becomes a
//!   WHERE on an outer query.

use std::ops::ControlFlow;

use snaprock_sql::StarRocksDialect;
use snaprock_sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr,
    TableAlias, TableAliasColumnDef, TableFactor, Value, VisitMut, VisitorMut,
};
use snaprock_sql::sqlparser::parser::Parser;
use snaprock_storage::CatalogState;

use crate::df::catalog_provider::VIEW_CATALOG;
use crate::df::rewrite_functions;
use crate::variables::VarValue;
use crate::{ExecError, Result};

/// What the rewrite needs to know about the session.
pub(crate) trait SessionValues {
    fn system_variable(&self, name: &str, global: bool) -> Result<VarValue>;
    fn user_variable(&self, name: &str) -> VarValue;
    fn current_database(&self) -> Option<String>;
    fn user_at_host(&self) -> String;
    fn current_user(&self) -> String;
    /// `CURRENT_ROLE()`: the active roles, comma separated, or `NONE`.
    fn current_role(&self) -> String;
    /// Whether `role` is active in the session, itself or through a role granted to an active one.
    fn role_in_session(&self, role: &str) -> bool;
    /// Whether the session may read view `db.view` (checked where the statement names it; views
    /// named inside a view's query are not checked again).
    fn check_view_read(&self, db: &str, view: &str) -> Result<()>;
    fn connection_id(&self) -> u32;
}

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "group_concat",
    "bit_and",
    "bit_or",
    "bit_xor",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "var_pop",
    "var_samp",
    "variance",
    "any_value",
    "approx_count_distinct",
    "array_agg",
    "string_agg",
];
const MAX_VIEW_EXPANSIONS: usize = 64;

/// Rewrites `query` in place.
pub(crate) fn rewrite_statement(
    stmt: &mut snaprock_sql::sqlparser::ast::Statement,
    state: &CatalogState,
    session: &dyn SessionValues,
) -> Result<RewriteInfo> {
    let mut rewriter = Rewriter {
        state,
        session,
        error: None,
        info: RewriteInfo::default(),
        expansions: 0,
    };
    let _ = stmt.visit(&mut rewriter);
    match rewriter.error {
        Some(e) => Err(e),
        None => Ok(rewriter.info),
    }
}

/// Facts gathered while rewriting.
#[derive(Debug, Default)]
pub(crate) struct RewriteInfo {
    /// Tables referenced (`[db.]name` as written).
    pub tables: Vec<Vec<String>>,
    /// What the statement's SLEEP() calls add up to: waited for before it runs.
    pub sleep: std::time::Duration,
}

struct Rewriter<'a> {
    state: &'a CatalogState,
    session: &'a dyn SessionValues,
    error: Option<ExecError>,
    info: RewriteInfo,
    expansions: usize,
}

fn lower(ident: &mut Ident) {
    ident.value = ident.value.to_lowercase();
}

pub(crate) fn string_literal(s: String) -> Expr {
    Expr::value(Value::SingleQuotedString(s))
}

pub(crate) fn var_literal(v: &VarValue) -> Expr {
    match v {
        VarValue::Int(i) => Expr::value(Value::Number(i.to_string(), false)),
        VarValue::UInt(u) => Expr::value(Value::Number(u.to_string(), false)),
        VarValue::Str(s) => string_literal(s.clone()),
        VarValue::Null => Expr::value(Value::Null),
    }
}

fn object_name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

pub(crate) fn parse_query_text(sql: &str) -> Result<Box<Query>> {
    let dialect = StarRocksDialect::new();
    let mut parser = Parser::new(&dialect)
        .try_with_sql(sql)
        .map_err(|e| ExecError::Plan(format!("cannot parse rewritten query: {e}")))?;
    parser
        .parse_query()
        .map_err(|e| ExecError::Plan(format!("cannot parse rewritten query: {e}")))
}

impl Rewriter<'_> {
    fn fail(&mut self, e: ExecError) -> ControlFlow<()> {
        self.error = Some(e);
        ControlFlow::Break(())
    }

    fn rewrite_select(&mut self, select: &mut Select) {
        for item in &mut select.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                lower(alias);
            }
        }
        // MySQL allows `SELECT 1, 1`; DataFusion needs unique names: give repeated unnamed
        // expressions internal aliases (clients see names computed from the original text).
        let texts: Vec<Option<String>> = select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(e) if becomes_literal(e) => Some(String::new()),
                SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => None,
                SelectItem::UnnamedExpr(e) => Some(e.to_string().to_lowercase()),
                _ => None,
            })
            .collect();
        for (i, item) in select.projection.iter_mut().enumerate() {
            let Some(text) = &texts[i] else { continue };
            // Values that become literals (`@@x`, DATABASE()) can collide whatever their text.
            let collides =
                text.is_empty() || texts.iter().filter(|t| t.as_ref() == Some(text)).count() > 1;
            if collides && let SelectItem::UnnamedExpr(e) = item {
                *item = SelectItem::ExprWithAlias {
                    expr: e.clone(),
                    alias: Ident::new(format!("__snaprock_col{i}")),
                };
            }
        }
        // FROM DUAL: no table.
        if select.from.len() == 1
            && select.from[0].joins.is_empty()
            && let TableFactor::Table {
                name, args: None, ..
            } = &select.from[0].relation
            && name.0.len() == 1
            && object_name_parts(name)[0].eq_ignore_ascii_case("dual")
        {
            select.from.clear();
        }
    }

    fn expand_view(&mut self, factor: &mut TableFactor) -> Result<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return Ok(());
        };
        let parts = object_name_parts(name);
        let (db, view_name) = match parts.as_slice() {
            [v] => match self.session.current_database() {
                Some(db) => (db, v.clone()),
                None => return Ok(()),
            },
            [d, v] => (d.clone(), v.clone()),
            [c, d, v] if c == VIEW_CATALOG => (d.clone(), v.clone()),
            _ => return Ok(()),
        };
        let Some(view) = self
            .state
            .database(&db)
            .and_then(|d| d.views.get(&view_name))
        else {
            return Ok(());
        };
        if !matches!(parts.as_slice(), [c, _, _] if c == VIEW_CATALOG) {
            self.session.check_view_read(&db, &view_name)?;
        }
        self.expansions += 1;
        if self.expansions > MAX_VIEW_EXPANSIONS {
            return Err(ExecError::Plan(format!(
                "view {db}.{view_name} nests too deeply"
            )));
        }
        let mut subquery = parse_query_text(&view.query_sql)?;
        qualify_tables(&mut subquery, &db);
        let mut table_alias = alias.clone().unwrap_or(TableAlias {
            explicit: true,
            name: Ident::new(view_name.clone()),
            columns: Vec::new(),
            at: None,
        });
        if table_alias.columns.is_empty() && !view.columns.is_empty() {
            table_alias.columns = view
                .columns
                .iter()
                .map(|c| TableAliasColumnDef {
                    name: Ident::new(c.to_lowercase()),
                    data_type: None,
                })
                .collect();
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(table_alias),
            sample: None,
        };
        Ok(())
    }

    /// HAVING without GROUP BY or aggregates filters rows on select-list aliases (Connector/J's
    /// getTables): the aliases are replaced by their expressions and the filter joins WHERE.
    fn rewrite_having(&mut self, query: &mut Query) -> Result<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return Ok(());
        };
        let Some(mut having) = select.having.clone() else {
            return Ok(());
        };
        let grouped = match &select.group_by {
            GroupByExpr::All(_) => true,
            GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
        };
        if grouped || has_aggregate(&select.projection) {
            return Ok(());
        }
        let aliases: std::collections::HashMap<String, Expr> = select
            .projection
            .iter()
            .filter_map(|item| match item {
                SelectItem::ExprWithAlias { expr, alias } => {
                    Some((alias.value.clone(), expr.clone()))
                }
                _ => None,
            })
            .collect();
        struct Substitute<'a>(&'a std::collections::HashMap<String, Expr>);
        impl VisitorMut for Substitute<'_> {
            type Break = ();
            fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
                if let Expr::Identifier(i) = expr
                    && let Some(e) = self.0.get(&i.value)
                {
                    *expr = Expr::Nested(Box::new(e.clone()));
                }
                ControlFlow::Continue(())
            }
        }
        let _ = having.visit(&mut Substitute(&aliases));
        select.selection = Some(match select.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(w))),
                op: snaprock_sql::sqlparser::ast::BinaryOperator::And,
                right: Box::new(Expr::Nested(Box::new(having))),
            },
            None => having,
        });
        select.having = None;
        Ok(())
    }
}

/// Points the tables of a view's query into the view catalog: unqualified names refer to the
/// view's database, and reading through a view needs SELECT on the view only (the catalog
/// `VIEW_CATALOG` does not check privileges; the view's own name was checked where it was used).
fn qualify_tables(query: &mut Query, db: &str) {
    struct Qualify<'a>(&'a str);
    impl VisitorMut for Qualify<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name, args: None, ..
            } = factor
            {
                if name.0.len() == 1 {
                    name.0
                        .insert(0, ObjectNamePart::Identifier(Ident::new(self.0)));
                }
                if name.0.len() == 2 {
                    name.0
                        .insert(0, ObjectNamePart::Identifier(Ident::new(VIEW_CATALOG)));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Qualify(db));
}

/// `TABLE(generate_series(start, end[, step]))`, StarRocks' table function call: DataFusion's
/// `generate_series`, its column named as StarRocks names it. Other functions are refused by
/// name (never with the parse tree DataFusion would print).
fn rewrite_table_function(factor: &mut TableFactor) -> Result<()> {
    let TableFactor::TableFunction { expr, alias } = factor else {
        return Ok(());
    };
    let Expr::Function(function) = expr else {
        return Err(ExecError::Unsupported(
            "TABLE(...) takes a table function call".into(),
        ));
    };
    let name = function.name.to_string().to_ascii_lowercase();
    if name != "generate_series" {
        return Err(ExecError::Unsupported(format!(
            "Unknown table function '{name}'"
        )));
    }
    let subquery = parse_query_text(&format!(
        "SELECT value AS generate_series FROM generate_series{}",
        function.args
    ))?;
    let alias = alias.clone().unwrap_or(TableAlias {
        explicit: true,
        name: Ident::new(name),
        columns: Vec::new(),
        at: None,
    });
    *factor = TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        sample: None,
    };
    Ok(())
}

/// Whether the rewrite replaces this select item by a literal (variables, session functions).
fn becomes_literal(expr: &Expr) -> bool {
    const SESSION_FUNCTIONS: &[&str] = &[
        "database",
        "schema",
        "user",
        "session_user",
        "system_user",
        "current_user",
        "version",
        "connection_id",
        "last_insert_id",
        "found_rows",
        "row_count",
        "current_role",
        "is_role_in_session",
    ];
    match expr {
        Expr::Identifier(i) => i.value.starts_with('@'),
        Expr::CompoundIdentifier(parts) => parts.first().is_some_and(|p| p.value.starts_with('@')),
        Expr::Function(f) => {
            SESSION_FUNCTIONS.contains(&f.name.to_string().to_lowercase().as_str())
        }
        _ => false,
    }
}

fn has_aggregate(projection: &[SelectItem]) -> bool {
    struct Finder(bool);
    impl VisitorMut for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr {
                let name = f.name.to_string().to_lowercase();
                if AGGREGATES.contains(&name.as_str()) {
                    self.0 = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(false);
    let mut items = projection.to_vec();
    for item in &mut items {
        let _ = item.visit(&mut finder);
    }
    finder.0
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.rewrite_select(select);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        match self.rewrite_having(query) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => self.fail(e),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let Err(e) = self.expand_view(factor) {
            return self.fail(e);
        }
        if let Err(e) = rewrite_table_function(factor) {
            return self.fail(e);
        }
        match factor {
            // `FROM t PARTITION (p1, p2)`: the table's provider reads only those partitions.
            TableFactor::Table {
                name,
                partitions,
                args: None,
                ..
            } if !partitions.is_empty() => {
                let selected: Vec<String> = partitions.drain(..).map(|p| p.value).collect();
                if let Some(ObjectNamePart::Identifier(last)) = name.0.last_mut() {
                    last.value =
                        crate::df::catalog_provider::with_partitions(&last.value, &selected);
                }
            }
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => {
                // Table functions: names are case-insensitive.
                for part in &mut name.0 {
                    if let ObjectNamePart::Identifier(i) = part {
                        lower(i);
                    }
                }
            }
            TableFactor::Derived {
                alias: Some(alias), ..
            } => {
                for c in &mut alias.columns {
                    lower(&mut c.name);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        if relation.0.len() == 2
            && let ObjectNamePart::Identifier(schema) = &mut relation.0[0]
            && schema.value.eq_ignore_ascii_case("information_schema")
        {
            lower(schema);
        }
        let mut parts = object_name_parts(relation);
        if let Some(last) = parts.last_mut() {
            *last = crate::df::catalog_provider::split_partitions(last)
                .0
                .to_string();
        }
        self.info.tables.push(parts);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let replacement = match expr {
            Expr::Identifier(ident) => {
                if let Some(name) = ident.value.strip_prefix("@@") {
                    match self.session.system_variable(name, false) {
                        Ok(v) => Some(var_literal(&v)),
                        Err(e) => return self.fail(e),
                    }
                } else if let Some(name) = ident.value.strip_prefix('@') {
                    Some(var_literal(&self.session.user_variable(name)))
                } else {
                    lower(ident);
                    None
                }
            }
            Expr::CompoundIdentifier(parts) => {
                let scope = parts
                    .first()
                    .and_then(|p| p.value.strip_prefix("@@"))
                    .map(str::to_ascii_lowercase);
                match (scope.as_deref(), parts.len()) {
                    (Some(scope @ ("global" | "session" | "local")), 2) => {
                        match self
                            .session
                            .system_variable(&parts[1].value, scope == "global")
                        {
                            Ok(v) => Some(var_literal(&v)),
                            Err(e) => return self.fail(e),
                        }
                    }
                    _ => {
                        if let Some(last) = parts.last_mut() {
                            lower(last);
                        }
                        None
                    }
                }
            }
            Expr::BinaryOp {
                left,
                op: snaprock_sql::sqlparser::ast::BinaryOperator::Arrow,
                right,
            } => Some(rewrite_functions::json_arrow(left, right)),
            Expr::BinaryOp { left, op, right } => {
                match crate::df::date_arith::rewrite_interval_arithmetic(left, op, right) {
                    Ok(replacement) => replacement,
                    Err(e) => return self.fail(e),
                }
            }
            Expr::Function(f) => {
                match rewrite_functions::rewrite_call(f, self.session, &mut self.info) {
                    Ok(replacement) => replacement,
                    Err(e) => return self.fail(e),
                }
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                crate::df::complex_types::struct_fields_by_name(root, access_chain);
                None
            }
            // `STRUCT(a, b)`: fields col1, col2, ... as StarRocks names them.
            Expr::Struct { values, fields } if fields.is_empty() => {
                Some(crate::df::complex_types::named_struct(values.clone(), None))
            }
            // CONVERT(x, type) is CAST(x AS type); CONVERT(x USING charset) is x (all utf8mb4).
            Expr::Convert {
                expr: inner,
                data_type,
                ..
            } => match data_type {
                Some(t) => {
                    let mut cast = Expr::Cast {
                        kind: snaprock_sql::sqlparser::ast::CastKind::Cast,
                        expr: inner.clone(),
                        data_type: t.clone(),
                        array: false,
                        format: None,
                    };
                    let _ = self.post_visit_expr(&mut cast);
                    Some(cast)
                }
                None => Some(Expr::Nested(inner.clone())),
            },
            Expr::Cast { data_type, .. } => {
                super::cast_types::to_datafusion(data_type);
                None
            }
            Expr::TypedString(typed) => {
                super::cast_types::to_datafusion(&mut typed.data_type);
                None
            }
            _ => None,
        };
        if let Some(r) = replacement {
            *expr = r;
        }
        ControlFlow::Continue(())
    }
}

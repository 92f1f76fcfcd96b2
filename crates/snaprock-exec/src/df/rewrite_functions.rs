//! MySQL function calls that DataFusion plans differently, rewritten in the query's AST
//! (`rewrite_call`): session functions (`DATABASE()`, `USER()`, `IF()`) become values,
//! `GROUP_CONCAT(... [ORDER BY ...] [SEPARATOR s])` is `string_agg`, `SLEEP(n)` is waited for
//! before the statement runs, and string functions read a number argument as its text, as
//! MySQL does (`UPPER(42)`, which Connector/J's `getColumns()` sends).

use std::time::Duration;

use snaprock_sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use snaprock_sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, OrderByExpr, OrderByOptions, UnaryOperator, Value,
};

use crate::df::rewrite::{RewriteInfo, SessionValues, string_literal};
use crate::{ExecError, Result};

/// Functions whose first argument is a string: a number there is read as its text.
const TEXT_FUNCTIONS: &[&str] = &[
    "upper",
    "lower",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "ltrim",
    "rtrim",
    "btrim",
    "left",
    "right",
    "lpad",
    "rpad",
    "repeat",
    "substring",
    "strpos",
    "replace",
    "starts_with",
];

/// The longest SLEEP() a statement may ask for (KILL QUERY ends it earlier).
const MAX_SLEEP: Duration = Duration::from_secs(365 * 24 * 3600);

fn text_cast(expr: Expr) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type: DataType::Varchar(None),
        array: false,
        format: None,
    }
}

fn function_name(name: &str) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))])
}

/// A function call rewritten the MySQL way: session functions become literals, MySQL spellings
/// DataFusion's names, GROUP_CONCAT string_agg, SLEEP(n) a wait (added to `info.sleep`) and
/// its answer 0. `Some` replaces the whole call.
pub(crate) fn rewrite_call(
    f: &mut Function,
    session: &dyn SessionValues,
    info: &mut RewriteInfo,
) -> Result<Option<Expr>> {
    for part in &mut f.name.0 {
        if let ObjectNamePart::Identifier(i) = part {
            i.value = i.value.to_lowercase();
        }
    }
    let name = f.name.to_string();
    if let Some(replacement) = session_function(session, &name, f) {
        return Ok(Some(replacement));
    }
    if let Some(replacement) = crate::df::date_parts::rewrite_date_part_call(&name, f) {
        return Ok(Some(replacement));
    }
    if let Some(replacement) = crate::df::time_slice::rewrite(&name, f)? {
        return Ok(Some(replacement));
    }
    if let Some(replacement) = crate::df::date_arith::rewrite_date_call(&name, f)? {
        return Ok(Some(replacement));
    }
    // MySQL's DATE(x): the date part of a date, datetime or its text.
    if name == "date"
        && let [value] = function_args(f).as_slice()
    {
        let cast = |expr: Expr, data_type: DataType| Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(expr),
            data_type,
            array: false,
            format: None,
        };
        return Ok(Some(cast(
            cast(
                value.clone(),
                DataType::Timestamp(None, snaprock_sql::sqlparser::ast::TimezoneInfo::None),
            ),
            DataType::Date,
        )));
    }
    // StarRocks' str2date(s, format): str_to_date's DATE.
    if name == "str2date"
        && let [value, format] = function_args(f).as_slice()
    {
        return Ok(Some(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(call(
                "str_to_date",
                vec![text_cast(value.clone()), format.clone()],
            )),
            data_type: DataType::Date,
            array: false,
            format: None,
        }));
    }
    // StarRocks' parse_json(s): the JSON value of text (NULL when it is not JSON).
    if name == "parse_json"
        && let [value] = function_args(f).as_slice()
    {
        return Ok(Some(call(
            "json_query",
            vec![
                value.clone(),
                Expr::value(Value::SingleQuotedString("$".into())),
            ],
        )));
    }
    // MySQL's MOD(a, b): a % b.
    if name == "mod"
        && let [a, b] = function_args(f).as_slice()
    {
        return Ok(Some(Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(a.clone()),
            op: snaprock_sql::sqlparser::ast::BinaryOperator::Modulo,
            right: Box::new(b.clone()),
        }))));
    }
    // StarRocks' date_parse(s, format): str_to_date's DATETIME.
    if name == "date_parse"
        && let [value, format] = function_args(f).as_slice()
    {
        return Ok(Some(call(
            "str_to_date",
            vec![text_cast(value.clone()), format.clone()],
        )));
    }
    // StarRocks' array_slice(a, offset, length); DataFusion's takes the last position.
    if name == "array_slice"
        && let [array, offset, length] = function_args(f).as_slice()
    {
        let last = Expr::BinaryOp {
            left: Box::new(Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(offset.clone()))),
                op: BinaryOperator::Plus,
                right: Box::new(Expr::Nested(Box::new(length.clone()))),
            }),
            op: BinaryOperator::Minus,
            right: Box::new(Expr::value(Value::Number("1".into(), false))),
        };
        return Ok(Some(call(
            "array_slice",
            vec![array.clone(), offset.clone(), last],
        )));
    }
    if let Some(replacement) = higher_order_call(&name, f) {
        return Ok(Some(replacement));
    }
    if name == "row" || name == "struct" {
        return Ok(Some(crate::df::complex_types::named_struct(
            function_args(f),
            None,
        )));
    }
    if let Some(replacement) = starrocks_aggregate(&name, f)? {
        return Ok(Some(replacement));
    }
    if let Some(replacement) = crate::df::starrocks_rewrites::rewrite(&name, f)? {
        return Ok(Some(replacement));
    }
    // MySQL spellings of functions DataFusion has under another name.
    let renamed = match name.as_str() {
        "ifnull" => Some("coalesce"),
        "curdate" => Some("current_date"),
        "curtime" => Some("current_time"),
        "utc_timestamp" | "localtime" | "localtimestamp" | "sysdate" => Some("now"),
        "ucase" => Some("upper"),
        "lcase" => Some("lower"),
        "substr" | "mid" => Some("substring"),
        "collect_list" => Some("array_agg"),
        // MySQL's and StarRocks' STDDEV and VARIANCE are the population's.
        "stddev" | "std" => Some("stddev_pop"),
        "variance" | "variance_pop" => Some("var_pop"),
        "variance_samp" => Some("var_samp"),
        "map_size" => Some("cardinality"),
        // StarRocks' array_remove drops every element equal to the value.
        "array_remove" => Some("array_remove_all"),
        _ => None,
    };
    if let Some(new_name) = renamed {
        f.name = function_name(new_name);
    }
    match renamed.unwrap_or(name.as_str()) {
        "group_concat" => group_concat(f)?,
        "sleep" => {
            info.sleep += sleep_duration(f)?;
            return Ok(Some(Expr::value(Value::Number("0".into(), false))));
        }
        other => text_first_argument(other, f),
    }
    // LOCATE(substr, str) / INSTR(str, substr) are strpos(str, substr).
    if (name == "instr" || name == "locate")
        && let FunctionArguments::List(list) = &mut f.args
        && list.args.len() == 2
    {
        if name == "locate" {
            list.args.swap(0, 1);
        }
        f.name = function_name("strpos");
    }
    Ok(None)
}

/// StarRocks' lambda functions on DataFusion's, the array first: `array_map(x -> e, a)` is
/// `array_transform(a, x -> e)`, `array_filter(x -> p, a)` / `any_match` / `all_match` take
/// the array first too.
fn higher_order_call(name: &str, f: &Function) -> Option<Expr> {
    let target = match name {
        "array_map" | "transform" => "array_transform",
        "array_filter" => "array_filter",
        "any_match" => "array_any_match",
        "all_match" => "__snaprock_all_match",
        _ => return None,
    };
    let args = function_args(f);
    let (lambda, array) = match args.as_slice() {
        [l @ Expr::Lambda(_), a] | [a, l @ Expr::Lambda(_)] => (l.clone(), a.clone()),
        _ => return None,
    };
    if target == "__snaprock_all_match" {
        // all_match(p, a): no element fails p (NULL when p is NULL for one and true for the rest).
        let Expr::Lambda(mut negated) = lambda else {
            return None;
        };
        negated.body = Box::new(Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(Expr::Nested(negated.body)),
        });
        return Some(Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(call("array_any_match", vec![array, Expr::Lambda(negated)])),
        });
    }
    Some(call(target, vec![array, lambda]))
}

/// StarRocks' aggregate functions under DataFusion's names or as DataFusion expressions:
/// `approx_count_distinct`, `percentile_approx`, `max_by` / `min_by` (the value at the
/// largest / smallest key, rows with a NULL key skipped), `percentile_disc` (the smallest value
/// whose cumulative share reaches the fraction).
fn starrocks_aggregate(name: &str, f: &mut Function) -> Result<Option<Expr>> {
    let args = function_args(f);
    match (name, args.as_slice()) {
        ("approx_count_distinct", _) => f.name = function_name("approx_distinct"),
        ("percentile_approx", _) => f.name = function_name("approx_percentile_cont"),
        ("max_by" | "min_by", [value, key]) => {
            let order = OrderByExpr {
                expr: key.clone(),
                options: OrderByOptions {
                    asc: Some(name == "min_by"),
                    nulls_first: Some(false),
                },
                with_fill: None,
            };
            f.name = function_name("first_value");
            f.args = FunctionArguments::List(FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(value.clone()))],
                clauses: vec![FunctionArgumentClause::OrderBy(vec![order])],
            });
            f.filter = Some(Box::new(Expr::IsNotNull(Box::new(key.clone()))));
        }
        ("percentile_disc", [value, fraction]) => {
            let sql = format!(
                "array_element(array_sort(array_agg({value}), 'ASC', 'NULLS LAST'), \
                 greatest(1, CAST(ceil(({fraction}) * count({value})) AS BIGINT)))"
            );
            let dialect = snaprock_sql::StarRocksDialect::new();
            let expr = snaprock_sql::sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_expr())
                .map_err(|e| ExecError::Plan(e.to_string()))?;
            return Ok(Some(expr));
        }
        _ => {}
    }
    Ok(None)
}

/// `json -> 'path'`: StarRocks' shorthand for `json_query(json, 'path')`.
pub(crate) fn json_arrow(left: &Expr, right: &Expr) -> Expr {
    call("json_query", vec![left.clone(), right.clone()])
}

/// The plain call `name(args)`.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: function_name(name),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// The replacement of a MySQL session function, if `name` is one.
fn session_function(s: &dyn SessionValues, name: &str, f: &Function) -> Option<Expr> {
    Some(match name {
        "database" | "schema" => match s.current_database() {
            Some(db) => string_literal(db),
            None => Expr::value(Value::Null),
        },
        "user" | "session_user" | "system_user" => string_literal(s.user_at_host()),
        "current_user" => string_literal(s.current_user()),
        "version" => string_literal(crate::variables::SERVER_VERSION.to_string()),
        "connection_id" => Expr::value(Value::Number(s.connection_id().to_string(), false)),
        "last_insert_id" | "found_rows" => Expr::value(Value::Number("0".into(), false)),
        "row_count" => Expr::value(Value::Number("-1".into(), false)),
        "current_role" => string_literal(s.current_role()),
        "current_catalog" | "catalog" => {
            string_literal(crate::df::catalog_provider::DEFAULT_CATALOG.to_string())
        }
        // IS_ROLE_IN_SESSION('r'): whether role r is active in this session.
        "is_role_in_session" => {
            let role = function_args(f)
                .first()
                .and_then(snaprock_sql::literal_text)?;
            Expr::value(Value::Boolean(s.role_in_session(&role)))
        }
        "if" => {
            let args = function_args(f);
            if args.len() != 3 {
                return None;
            }
            let mut it = args.into_iter();
            let (cond, then, otherwise) = (it.next()?, it.next()?, it.next()?);
            Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![snaprock_sql::sqlparser::ast::CaseWhen {
                    condition: cond,
                    result: then,
                }],
                else_result: Some(Box::new(otherwise)),
            }
        }
        _ => return None,
    })
}

/// The plain arguments of a call.
pub(crate) fn function_args(f: &Function) -> Vec<Expr> {
    match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads the first argument of a string function as text (a no-op cast for strings).
pub(crate) fn text_first_argument(name: &str, f: &mut Function) {
    if !TEXT_FUNCTIONS.contains(&name) {
        return;
    }
    if let FunctionArguments::List(list) = &mut f.args
        && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) = list.args.first_mut()
        && !is_text_literal(first)
    {
        *first = text_cast(first.clone());
    }
}

fn is_text_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v)
        if matches!(v.value, Value::SingleQuotedString(_) | Value::DoubleQuotedString(_)))
}

/// GROUP_CONCAT([DISTINCT] e1[, e2 ...] [ORDER BY ...] [SEPARATOR 'sep']) as
/// `string_agg(CAST(e1 AS VARCHAR) || CAST(e2 AS VARCHAR) ..., 'sep' [ORDER BY ...])`; the separator is
/// `,` by default, as in MySQL.
pub(crate) fn group_concat(f: &mut Function) -> Result<()> {
    let FunctionArguments::List(list) = &mut f.args else {
        return Err(ExecError::Plan("GROUP_CONCAT needs an argument".into()));
    };
    let mut values = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => values.push(e.clone()),
            _ => return Err(ExecError::Plan("GROUP_CONCAT(*) is not valid".into())),
        }
    }
    // Several values are concatenated; MySQL skips a row where any of them is NULL, as `||` does.
    let value = values
        .into_iter()
        .map(text_cast)
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: BinaryOperator::StringConcat,
            right: Box::new(right),
        })
        .ok_or_else(|| ExecError::Plan("GROUP_CONCAT needs an argument".into()))?;
    let mut separator = Expr::value(Value::SingleQuotedString(",".into()));
    list.clauses.retain(|clause| match clause {
        FunctionArgumentClause::Separator(sep) => {
            separator = Expr::Value(sep.clone());
            false
        }
        _ => true,
    });
    list.args = vec![
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value)),
        FunctionArg::Unnamed(FunctionArgExpr::Expr(separator)),
    ];
    f.name = function_name("string_agg");
    Ok(())
}

/// SLEEP(n): the seconds to wait, which must be a constant (MySQL's answer, 0, takes its place).
pub(crate) fn sleep_duration(f: &Function) -> Result<Duration> {
    let wrong = || ExecError::WrongArguments("sleep");
    let FunctionArguments::List(list) = &f.args else {
        return Err(wrong());
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
        return Err(wrong());
    };
    let (negative, arg) = match arg {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => (true, expr.as_ref()),
        other => (false, other),
    };
    let seconds: f64 = match arg {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().map_err(|_| wrong())?,
            Value::SingleQuotedString(s) => s.trim().parse().map_err(|_| wrong())?,
            Value::Null => 0.0,
            _ => return Err(wrong()),
        },
        _ => {
            return Err(ExecError::Unsupported(
                "SLEEP() of anything but a constant number of seconds".into(),
            ));
        }
    };
    if negative || !seconds.is_finite() || seconds < 0.0 {
        return Err(wrong());
    }
    Ok(Duration::from_secs_f64(seconds).min(MAX_SLEEP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use snaprock_sql::StarRocksDialect;
    use snaprock_sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
    use snaprock_sql::sqlparser::parser::Parser;

    fn first_function(sql: &str) -> Function {
        let stmt = Parser::parse_sql(&StarRocksDialect::new(), sql)
            .unwrap()
            .remove(0);
        let Statement::Query(q) = stmt else { panic!() };
        let SetExpr::Select(s) = *q.body else {
            panic!()
        };
        match &s.projection[0] {
            SelectItem::UnnamedExpr(Expr::Function(f)) => f.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn group_concat_becomes_string_agg() {
        let mut f =
            first_function("SELECT GROUP_CONCAT(id ORDER BY qty DESC SEPARATOR ' ') FROM t");
        group_concat(&mut f).unwrap();
        assert_eq!(
            f.to_string(),
            "string_agg(CAST(id AS VARCHAR), ' ' ORDER BY qty DESC)"
        );
        let mut f = first_function("SELECT group_concat(DISTINCT a, b) FROM t");
        group_concat(&mut f).unwrap();
        assert_eq!(
            f.to_string(),
            "string_agg(DISTINCT CAST(a AS VARCHAR) || CAST(b AS VARCHAR), ',')"
        );
    }

    #[test]
    fn sleep_takes_constant_seconds() {
        let f = first_function("SELECT sleep(1.5)");
        assert_eq!(sleep_duration(&f).unwrap(), Duration::from_millis(1500));
        assert!(sleep_duration(&first_function("SELECT sleep(-1)")).is_err());
        assert!(sleep_duration(&first_function("SELECT sleep(a) FROM t")).is_err());
    }
}

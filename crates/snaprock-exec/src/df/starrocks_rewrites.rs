//! StarRocks and MySQL functions that are an expression of DataFusion's own, written as that
//! expression in the query's text form (`pmod(a, b)` is `((a % b) + b) % b`), and
//! `regexp_replace`, which replaces every match in MySQL and StarRocks but only the first in
//! DataFusion unless told `'g'`; and `host_name()`, the machine's name.

use snaprock_sql::sqlparser::ast::{Expr, Function, Value, ValueWithSpan};

use crate::df::rewrite_functions::function_args;
use crate::{ExecError, Result};

/// (name, number of arguments, the expression; `{0}`, `{1}` ... are the arguments).
const TEMPLATES: &[(&str, usize, &str)] = &[
    ("pmod", 2, "((({0}) % ({1})) + ({1})) % ({1})"),
    ("positive", 1, "({0})"),
    ("negative", 1, "(-({0}))"),
    ("null_or_empty", 1, "(({0}) IS NULL OR ({0}) = '')"),
    ("count_if", 1, "count(CASE WHEN {0} THEN 1 END)"),
    ("multi_distinct_count", 1, "count(DISTINCT {0})"),
    ("multi_distinct_sum", 1, "sum(DISTINCT {0})"),
    ("bitand", 2, "(({0}) & ({1}))"),
    ("bitor", 2, "(({0}) | ({1}))"),
    ("bitxor", 2, "(({0}) ^ ({1}))"),
    // Two's complement: ~x is -x - 1.
    ("bitnot", 1, "(-({0}) - 1)"),
    ("bit_shift_left", 2, "(({0}) << ({1}))"),
    ("bit_shift_right", 2, "(({0}) >> ({1}))"),
    ("e", 0, "exp(1)"),
    ("char", 1, "chr({0})"),
    ("space", 1, "repeat(' ', {0})"),
    ("strleft", 2, "left({0}, {1})"),
    ("strright", 2, "right({0}, {1})"),
    ("split", 2, "string_to_array({0}, {1})"),
    (
        "dayofweek_iso",
        1,
        "CAST(date_part('isodow', CAST({0} AS TIMESTAMP)) AS BIGINT)",
    ),
    (
        "week_iso",
        1,
        "CAST(date_part('week', CAST({0} AS TIMESTAMP)) AS BIGINT)",
    ),
    (
        "append_trailing_char_if_absent",
        2,
        "CASE WHEN ({0}) IS NULL THEN NULL WHEN right({0}, 1) = ({1}) THEN ({0}) \
         ELSE concat({0}, {1}) END",
    ),
    ("regexp_replace", 3, "regexp_replace({0}, {1}, {2}, 'g')"),
];

/// The names of the functions written as expressions of others (SHOW BUILTIN FUNCTIONS).
pub(crate) fn rewritten_names() -> impl Iterator<Item = &'static str> {
    TEMPLATES
        .iter()
        .map(|(name, _, _)| *name)
        .chain(["field", "sha2", "host_name"])
}

/// The replacement of a call to `name`, if it is one of these functions.
pub(crate) fn rewrite(name: &str, f: &Function) -> Result<Option<Expr>> {
    let args = function_args(f);
    let texts: Vec<String> = args.iter().map(ToString::to_string).collect();
    if let Some((_, _, template)) = TEMPLATES
        .iter()
        .find(|(n, arity, _)| *n == name && *arity == args.len())
    {
        return parse(&fill(template, &texts)).map(Some);
    }
    match (name, texts.as_slice()) {
        // MySQL's FIELD(x, a, b, ...): the position of x among the rest, 0 if absent.
        ("field", [x, rest @ ..]) if !rest.is_empty() => {
            let whens: String = rest
                .iter()
                .enumerate()
                .map(|(i, v)| format!(" WHEN ({x}) = ({v}) THEN {}", i + 1))
                .collect();
            parse(&format!("CASE{whens} ELSE 0 END")).map(Some)
        }
        // SHA2(s, bits): the hex digest; bits 0 means 256, an unknown size NULL.
        ("sha2", [value, _]) => {
            let algorithm = match &args[1] {
                Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                }) => match n.as_str() {
                    "0" | "256" => Some("sha256"),
                    "224" => Some("sha224"),
                    "384" => Some("sha384"),
                    "512" => Some("sha512"),
                    _ => None,
                },
                _ => {
                    return Err(ExecError::Unsupported(
                        "SHA2 with a bit length that is not a number literal".into(),
                    ));
                }
            };
            match algorithm {
                Some(a) => parse(&format!("encode(digest({value}, '{a}'), 'hex')")).map(Some),
                None => parse("CAST(NULL AS VARCHAR)").map(Some),
            }
        }
        // The name of the machine the server runs on (StarRocks: the backend's host).
        ("host_name", []) => Ok(Some(crate::df::rewrite::string_literal(host_name()))),
        _ => Ok(None),
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `template` with `{i}` replaced by `args[i]`, in one pass (an argument's own text is never
/// read as a placeholder).
fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let index: usize = after[..close].parse().ok()?;
            Some((args.get(index)?, close))
        }) {
            Some((arg, close)) => {
                out.push_str(arg);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse(sql: &str) -> Result<Expr> {
    let dialect = snaprock_sql::StarRocksDialect::new();
    snaprock_sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| ExecError::Plan(e.to_string()))
}

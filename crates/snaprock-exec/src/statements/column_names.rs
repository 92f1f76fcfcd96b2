//! How result columns are named: by the select list as written (`sum(amount)`, an alias, a
//! column in its declared case), as MySQL and StarRocks name them.

use std::collections::HashMap;

use snaprock_sql::sqlparser::ast::{
    self as sql_ast, Expr, SelectItem, SetExpr, Spanned, Statement,
};
use snaprock_storage::CatalogState;

use crate::df::catalog_provider::INFORMATION_SCHEMA;
use crate::df::rewrite::RewriteInfo;

/// The client-visible names of the top-level select list: the alias, the column as written,
/// or the expression's text (None for `*`, named from the schema instead).
pub(crate) fn output_names(stmt: &Statement, sql: &str) -> Option<Vec<Option<String>>> {
    let Statement::Query(query) = stmt else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let mut names = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { alias, .. } => names.push(Some(alias.value.clone())),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) if !i.value.starts_with('@') => {
                names.push(Some(i.value.clone()))
            }
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts))
                if !parts.first().is_some_and(|p| p.value.starts_with("@@")) =>
            {
                names.push(parts.last().map(|p| p.value.clone()))
            }
            SelectItem::UnnamedExpr(expr) => names.push(Some(source_text(expr, sql))),
            // A wildcard expands to several columns: name everything from the schema.
            _ => return None,
        }
    }
    Some(names)
}

/// MySQL allows the same expression twice in a select list (`SELECT id, id`); DataFusion wants
/// unique names. A repeat gets a hidden alias (clients see the names `output_names` took from
/// the text). An INSERT's SELECT (`INSERT INTO t SELECT x, x % 7, x ...`) likewise.
pub(crate) fn alias_repeated_items(stmt: &mut Statement) {
    let query = match stmt {
        Statement::Query(query) => query,
        Statement::Insert(insert) => match insert.source.as_mut() {
            Some(query) => query,
            None => return,
        },
        _ => return,
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let mut seen = std::collections::HashSet::new();
    for (i, item) in select.projection.iter_mut().enumerate() {
        if let SelectItem::UnnamedExpr(expr) = item
            && !seen.insert(datafusion_name(expr))
        {
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: sql_ast::Ident::new(format!("__snaprock_repeat_{i}")),
            };
        }
    }
}

/// What DataFusion names an expression, near enough to tell repeats: its text without casts
/// (DataFusion names `CAST(1 AS CHAR)` and `CAST(1 AS SIGNED)` both `Int64(1)`) and
/// parentheses.
fn datafusion_name(expr: &Expr) -> String {
    let mut bare = expr.clone();
    let _ = sql_ast::visit_expressions_mut(&mut bare, |e| {
        while let Expr::Cast { expr: inner, .. } | Expr::Nested(inner) = e {
            *e = std::mem::replace(inner.as_mut(), Expr::value(sql_ast::Value::Null));
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    bare.to_string()
}

/// The expression's text as written in `sql` (a string literal is named by its value).
fn source_text(expr: &Expr, sql: &str) -> String {
    if let Expr::Value(v) = expr
        && let sql_ast::Value::SingleQuotedString(s) | sql_ast::Value::DoubleQuotedString(s) =
            &v.value
    {
        return s.clone();
    }
    let span = expr.span();
    let start = byte_offset(sql, span.start.line, span.start.column);
    let end = byte_offset(sql, span.end.line, span.end.column);
    match (start, end) {
        (Some(s), Some(e)) if s < e && e <= sql.len() => {
            let s = match expr {
                Expr::Array(_) | Expr::Map(_) => extend_to_opening_bracket(sql, s),
                Expr::CompoundFieldAccess { root, .. }
                    if matches!(root.as_ref(), Expr::Array(_) | Expr::Map(_)) =>
                {
                    extend_to_opening_bracket(sql, s)
                }
                Expr::Cast { expr: inner, .. } if matches!(inner.as_ref(), Expr::Array(_)) => {
                    extend_to_opening_bracket(sql, s)
                }
                _ => extend_to_unclosed_call(sql, s, e),
            };
            let e = extend_to_closing_paren(sql, close_open_parens(sql, s, e));
            let e = extend_over_interval_unit(expr, sql, e);
            sql[s..e].trim().to_string()
        }
        _ => expr.to_string(),
    }
}

/// sqlparser's span of `CAST(x AS t) + 1` starts inside the CAST: when the text closes more
/// parentheses than it opens, extend it back to the call that opened them.
fn extend_to_unclosed_call(sql: &str, start: usize, end: usize) -> usize {
    let mut depth = 0i64;
    let mut quote: Option<char> = None;
    for c in sql[start..end].chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            _ => {}
        }
    }
    let mut open = start;
    while depth < 0 {
        let before = sql[..open].trim_end();
        let Some(rest) = before.strip_suffix('(') else {
            return start;
        };
        let name_len = rest
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum::<usize>();
        open = rest.len() - name_len;
        depth += 1;
    }
    open
}

/// sqlparser's span of an expression ending in `INTERVAL n unit` stops before the unit.
fn extend_over_interval_unit(expr: &Expr, sql: &str, end: usize) -> usize {
    let text = expr.to_string();
    let Some(unit) = text.rsplit(' ').next() else {
        return end;
    };
    if !text.contains("INTERVAL") || !unit.chars().all(|c| c.is_ascii_uppercase()) {
        return end;
    }
    let rest = &sql[end..];
    let trimmed = rest.trim_start();
    match trimmed.get(..unit.len()) {
        Some(word) if word.eq_ignore_ascii_case(unit) => {
            end + (rest.len() - trimmed.len()) + unit.len()
        }
        _ => end,
    }
}

/// sqlparser's span of an array or map literal starts at its first element: extend it back
/// over the `[` / `{` (and an `ARRAY` / `MAP` keyword before it).
fn extend_to_opening_bracket(sql: &str, start: usize) -> usize {
    let before = sql[..start].trim_end();
    let Some(bracket) = before.strip_suffix(['[', '{']) else {
        return start;
    };
    let mut keyword = bracket.trim_end();
    // `ARRAY<INT>[...]`: over the element type too.
    if let Some(inside) = keyword.strip_suffix('>')
        && let Some(open) = inside.rfind("<")
    {
        keyword = inside[..open].trim_end();
    }
    for word in ["array", "map"] {
        if keyword.len() >= word.len()
            && keyword.is_char_boundary(keyword.len() - word.len())
            && keyword[keyword.len() - word.len()..].eq_ignore_ascii_case(word)
        {
            return keyword.len() - word.len();
        }
    }
    bracket.len()
}

/// sqlparser's span of a function call can stop at its last argument (`sum(amount`), of a
/// subscript or array at its last element (`a[1`): extend `sql[start..end]` past the closing
/// bracket of every `(`, `[` and `{` it opens and does not close.
fn close_open_parens(sql: &str, start: usize, end: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in sql[start..].char_indices() {
        let at = start + i;
        if at >= end && depth == 0 {
            return at;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if depth == 0 {
        sql.len()
    } else {
        end.min(sql.len())
    }
}

/// sqlparser's span of some expressions (function calls) stops before their argument list:
/// when the text goes on with `(`, extend to the matching `)`.
fn extend_to_closing_paren(sql: &str, end: usize) -> usize {
    let rest = &sql[end..];
    let trimmed = rest.trim_start();
    if !trimmed.starts_with('(') {
        return end;
    }
    let open = end + (rest.len() - trimmed.len());
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in sql[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return open + i + 1;
                }
            }
            _ => {}
        }
    }
    end
}

fn byte_offset(sql: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut offset = 0;
    for (i, text) in sql.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let cols: usize = text
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            return Some(offset + cols);
        }
        offset += text.len();
    }
    None
}

/// Display names of schema fields (lower-cased internally) and the table a result comes from.
pub(crate) struct DisplayNames {
    names: HashMap<String, String>,
    pub(crate) table: String,
}

impl DisplayNames {
    pub(crate) fn new(state: &CatalogState, current_db: Option<&str>, info: &RewriteInfo) -> Self {
        let mut names = HashMap::new();
        let mut table_name = String::new();
        for parts in &info.tables {
            let (db, table) = match parts.as_slice() {
                [t] => (current_db.map(str::to_string), t.clone()),
                [d, t] => (Some(d.clone()), t.clone()),
                _ => continue,
            };
            if db
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(INFORMATION_SCHEMA))
            {
                for (lower, upper) in crate::df::info_schema::column_names(&table) {
                    names.entry(lower).or_insert(upper);
                }
            } else if let Some(t) = db.as_deref().and_then(|d| state.table(d, &table)) {
                for c in &t.columns {
                    names
                        .entry(c.field_name())
                        .or_insert_with(|| c.name.clone());
                }
            }
            if info.tables.len() == 1 {
                table_name = table;
            }
        }
        DisplayNames {
            names,
            table: table_name,
        }
    }

    pub(crate) fn name(&self, field: &str) -> String {
        self.names
            .get(field)
            .cloned()
            .unwrap_or_else(|| field.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<Option<String>> {
        let stmt = snaprock_sql::sqlparser::parser::Parser::parse_sql(
            &snaprock_sql::StarRocksDialect::new(),
            sql,
        )
        .unwrap()
        .remove(0);
        output_names(&stmt, sql).unwrap()
    }

    #[test]
    fn expressions_are_named_as_written() {
        let sql = "SELECT city, sum(amount), count(*), max(dt), concat('a','b') AS c2, \
                   concat('a', 'b'), time_format(timediff(now(), convert_tz(now(), \
                   @@session.time_zone, '+00:00')), '%H:%i') FROM sales GROUP BY city";
        let expected = [
            "city",
            "sum(amount)",
            "count(*)",
            "max(dt)",
            "c2",
            "concat('a', 'b')",
            "time_format(timediff(now(), convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')",
        ];
        let got = names(sql);
        for (got, want) in got.iter().zip(expected) {
            assert_eq!(got.as_deref(), Some(want));
        }
        let probe = "SELECT @@GLOBAL.time_zone, @@system_time_zone, time_format(timediff(now(), \
                     convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')";
        assert_eq!(
            names(probe)[2].as_deref(),
            Some(
                "time_format(timediff(now(), convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')"
            )
        );
    }
}

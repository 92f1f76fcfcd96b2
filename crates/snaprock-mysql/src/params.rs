//! Server-side prepared statements: counting `?` placeholders and binding values into the text.
//!
//! Values are spliced into the statement at the placeholders' positions as SQL literals, so an
//! executed prepared statement runs exactly like the equivalent COM_QUERY.

use opensrv_mysql::{ColumnType, ParamValue, ValueInner};
use snaprock_sql::sqlparser::dialect::MySqlDialect;
use snaprock_sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Byte ranges of the `?` placeholders of `sql`.
pub fn placeholders(sql: &str) -> Result<Vec<(usize, usize)>, String> {
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |line: u64, column: u64| -> usize {
        let start = line_starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(sql.len());
        start
            + sql[start..]
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum::<usize>()
    };
    Ok(tokens
        .iter()
        .filter(|t| matches!(&t.token, Token::Placeholder(p) if p == "?"))
        .map(|t| {
            let start = offset(t.span.start.line, t.span.start.column);
            (start, start + 1)
        })
        .collect())
}

fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// A parameter as a SQL literal.
pub fn literal(param: &ParamValue<'_>) -> String {
    match param.value.into_inner() {
        ValueInner::NULL => "NULL".to_string(),
        ValueInner::Int(i) => i.to_string(),
        ValueInner::UInt(u) => u.to_string(),
        ValueInner::Double(f) => {
            if f.is_finite() {
                format!("{f:?}")
            } else {
                "NULL".to_string()
            }
        }
        ValueInner::Bytes(b) => {
            let text = String::from_utf8_lossy(b);
            let numeric = matches!(
                param.coltype,
                ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL
            ) && !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
            if numeric {
                text.to_string()
            } else {
                quote(&text)
            }
        }
        ValueInner::Date(_) | ValueInner::Datetime(_) => {
            match opensrv_mysql::to_naive_datetime(param.value) {
                Ok(dt) if param.coltype == ColumnType::MYSQL_TYPE_DATE => {
                    quote(&dt.format("%Y-%m-%d").to_string())
                }
                Ok(dt) => quote(&dt.format("%Y-%m-%d %H:%M:%S%.f").to_string()),
                Err(_) => "NULL".to_string(),
            }
        }
        ValueInner::Time(b) => quote(&format!("{b:?}")),
    }
}

/// `sql` with each placeholder replaced by the matching literal.
pub fn bind(sql: &str, positions: &[(usize, usize)], literals: &[String]) -> String {
    let mut out =
        String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut last = 0;
    for ((start, end), lit) in positions.iter().zip(literals) {
        out.push_str(&sql[last..*start]);
        out.push_str(lit);
        last = *end;
    }
    out.push_str(&sql[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_strings_only() {
        let sql = "SELECT '?', a FROM t WHERE b = ? AND c = `?` AND d IN (?, ?)";
        let p = placeholders(sql).unwrap();
        assert_eq!(p.len(), 3);
        let bound = bind(sql, &p, &["1".into(), "'x'".into(), "NULL".into()]);
        assert_eq!(
            bound,
            "SELECT '?', a FROM t WHERE b = 1 AND c = `?` AND d IN ('x', NULL)"
        );
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote("it's a \\ test"), "'it\\'s a \\\\ test'");
    }
}

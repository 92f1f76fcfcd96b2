//! Splits a COM_QUERY string into statements at top-level semicolons.
//!
//! Uses sqlparser's tokenizer so semicolons inside strings, quoted names and comments do not
//! split. Empty statements (`;;`, a trailing `;`, only a comment) are dropped.

use crate::StarRocksDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::ParseError;

/// The statements of `sql`, each as its own text (without the `;`).
pub fn split_statements(sql: &str) -> Result<Vec<&str>, ParseError> {
    let dialect = StarRocksDialect::new();
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| ParseError::with_detail(&e.to_string(), sql))?;
    let line_starts = line_starts(sql);
    let offset = |line: u64, column: u64| -> usize {
        let start = line_starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(sql.len());
        let line_text = &sql[start..];
        let col_bytes: usize = line_text
            .chars()
            .take(column.saturating_sub(1) as usize)
            .map(char::len_utf8)
            .sum();
        start + col_bytes
    };
    let mut statements = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    for t in &tokens {
        match &t.token {
            Token::SemiColon => {
                let end = offset(t.span.start.line, t.span.start.column);
                if has_content {
                    statements.push(sql[start..end].trim());
                }
                start = end + 1;
                has_content = false;
            }
            Token::Whitespace(
                Whitespace::Space
                | Whitespace::Newline
                | Whitespace::Tab
                | Whitespace::SingleLineComment { .. }
                | Whitespace::MultiLineComment(_),
            ) => {}
            _ => has_content = true,
        }
    }
    if has_content {
        statements.push(sql[start.min(sql.len())..].trim());
    }
    Ok(statements)
}

fn line_starts(sql: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "SELECT 'a;b'; /* ; */ SELECT `x;y` FROM t;\n-- c;\nSELECT 3;;";
        assert_eq!(
            split_statements(sql).unwrap(),
            vec![
                "SELECT 'a;b'",
                "/* ; */ SELECT `x;y` FROM t",
                "-- c;\nSELECT 3"
            ]
        );
    }

    #[test]
    fn comment_only_is_no_statement() {
        assert!(split_statements("  -- nothing\n").unwrap().is_empty());
        assert_eq!(split_statements("SELECT 1").unwrap(), vec!["SELECT 1"]);
    }

    #[test]
    fn multibyte_text_keeps_offsets() {
        let sql = "SELECT 'ü€'; SELECT 2";
        assert_eq!(
            split_statements(sql).unwrap(),
            vec!["SELECT 'ü€'", "SELECT 2"]
        );
    }
}

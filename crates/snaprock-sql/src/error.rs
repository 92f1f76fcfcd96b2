//! Syntax errors (ERROR 1064) in StarRocks' wording, with the position and the text near it.

use sqlparser::parser::ParserError;

/// A statement that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Full text for the client, MySQL style: what was expected, and the text near the error.
    pub message: String,
}

impl ParseError {
    /// Builds the client-facing message from sqlparser's error and the statement text.
    pub fn from_parser(err: &ParserError, sql: &str) -> Self {
        let detail = match err {
            ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
            ParserError::RecursionLimitExceeded => "statement nested too deeply".to_string(),
        };
        Self::with_detail(&detail, sql)
    }

    /// Builds a message from a detail that may end in "at Line: L, Column: C".
    pub fn with_detail(detail: &str, sql: &str) -> Self {
        let (detail, position) = match detail.rfind(" at Line: ") {
            Some(idx) => (&detail[..idx], parse_position(&detail[idx + 10..])),
            None => (detail, None),
        };
        let detail = detail.trim_start_matches("sql parser error: ");
        // StarRocks' wording (`Getting syntax error ... Detail message: ...`), with the text
        // at the error quoted as MySQL quotes it.
        let message = match position {
            Some((line, column)) => {
                let near = near_text(sql, line, column);
                format!(
                    "Getting syntax error at line {line}, column {column}. Detail message: \
                     {detail}, near '{near}'."
                )
            }
            None => format!("Getting syntax error. Detail message: {detail}."),
        };
        ParseError { message }
    }
}

fn parse_position(s: &str) -> Option<(u64, u64)> {
    let (line, column) = s.split_once(", Column: ")?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// The statement text from (line, column) on, at most 80 characters, as MySQL quotes it.
fn near_text(sql: &str, line: u64, column: u64) -> String {
    let Some(text) = sql.lines().nth(line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let mut rest: String = text
        .chars()
        .skip(column.saturating_sub(1) as usize)
        .collect();
    for later in sql.lines().skip(line as usize) {
        rest.push('\n');
        rest.push_str(later);
    }
    rest.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_quotes_the_text_at_the_error() {
        let e = ParseError::with_detail(
            "sql parser error: Expected: ), found: garbage at Line: 1, Column: 13",
            "SELECT (1 + garbage",
        );
        assert!(
            e.message
                .starts_with("Getting syntax error at line 1, column 13. Detail message: "),
            "{}",
            e.message
        );
        assert!(e.message.ends_with(", near 'garbage'."), "{}", e.message);
        assert!(
            e.message.contains("Expected: ), found: garbage"),
            "{}",
            e.message
        );
    }
}

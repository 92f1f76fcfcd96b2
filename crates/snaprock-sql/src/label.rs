//! StarRocks' `INSERT {INTO | OVERWRITE} t [PARTITION (...)] WITH LABEL l ...`: the label is
//! taken out of the text and the rest parses as the INSERT it is.

use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::StarRocksDialect;
use crate::words::byte_offset;

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// `(label, the statement's text without WITH LABEL l)` of a labelled INSERT; `None` for any
/// other statement (including an INSERT whose query has a CTE named `label`).
pub(crate) fn split_label(sql: &str) -> Option<(String, String)> {
    let dialect = StarRocksDialect::new();
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let words: Vec<&TokenWithSpan> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    if !is_word(&words.first()?.token, "INSERT") {
        return None;
    }
    let mut depth = 0i32;
    for (k, t) in words.iter().enumerate() {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            token if depth == 0 && (is_word(token, "SELECT") || is_word(token, "VALUES")) => {
                return None;
            }
            token if depth == 0 && is_word(token, "WITH") => {
                let (Some(keyword), Some(name)) = (words.get(k + 1), words.get(k + 2)) else {
                    return None;
                };
                let Token::Word(label) = &name.token else {
                    return None;
                };
                // `WITH label AS (...)` is a CTE named label.
                let cte = is_word(&name.token, "AS");
                if !is_word(&keyword.token, "LABEL") || cte {
                    return None;
                }
                let start = byte_offset(sql, t.span.start);
                let end = byte_offset(sql, name.span.end);
                return Some((
                    label.value.clone(),
                    format!("{} {}", &sql[..start], &sql[end..]),
                ));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::split_label;

    #[test]
    fn the_label_comes_out_of_the_insert() {
        let (label, rest) =
            split_label("INSERT INTO d.t WITH LABEL my_label_1 (k, v) VALUES (1, 'it''s')")
                .unwrap();
        assert_eq!(label, "my_label_1");
        assert_eq!(rest, "INSERT INTO d.t   (k, v) VALUES (1, 'it''s')");
        let (label, rest) =
            split_label("insert overwrite t partition (p1) with label `l-2` select * from s")
                .unwrap();
        assert_eq!(label, "l-2");
        assert_eq!(rest, "insert overwrite t partition (p1)   select * from s");
        assert!(
            split_label("INSERT INTO t WITH label AS (SELECT 1) SELECT * FROM label").is_none()
        );
        assert!(split_label("INSERT INTO t SELECT * FROM s WITH LABEL x").is_none());
        assert!(split_label("SELECT 1").is_none());
    }
}

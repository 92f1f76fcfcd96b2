//! Small parsing helpers on top of sqlparser's `Parser`, matching words by text.
//!
//! StarRocks words (REPOSITORY, DISTRIBUTED, PROPERTIES, ...) are not sqlparser keywords, and
//! keyword lists change between releases, so words are compared by their text.

use sqlparser::ast::{Expr, UnaryOperator, Value};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

use crate::ast::{ObjectName, PartitionValue};

pub(crate) type PResult<T> = Result<T, ParserError>;

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

pub(crate) fn peek_word(p: &Parser, word: &str) -> bool {
    is_word(&p.peek_token().token, word)
}

pub(crate) fn peek_nth_word(p: &Parser, n: usize, word: &str) -> bool {
    is_word(&p.peek_nth_token(n).token, word)
}

pub(crate) fn parse_word(p: &mut Parser, word: &str) -> bool {
    if peek_word(p, word) {
        p.next_token();
        true
    } else {
        false
    }
}

/// Consumes the words in order if all of them are next.
pub(crate) fn parse_words(p: &mut Parser, words: &[&str]) -> bool {
    if words
        .iter()
        .enumerate()
        .all(|(i, w)| peek_nth_word(p, i, w))
    {
        for _ in words {
            p.next_token();
        }
        true
    } else {
        false
    }
}

pub(crate) fn expect_word(p: &mut Parser, word: &str) -> PResult<()> {
    if parse_word(p, word) {
        Ok(())
    } else {
        p.expected(word, p.peek_token())
    }
}

pub(crate) fn expect_words(p: &mut Parser, words: &[&str]) -> PResult<()> {
    for w in words {
        expect_word(p, w)?;
    }
    Ok(())
}

/// `'text'` or `"text"`.
pub(crate) fn parse_string(p: &mut Parser) -> PResult<String> {
    let t = p.next_token();
    match t.token {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
        _ => p.expected("a string literal", t),
    }
}

/// An identifier, quoted or not, keeping its case.
pub(crate) fn parse_name(p: &mut Parser) -> PResult<String> {
    let t = p.next_token();
    match t.token {
        Token::Word(w) => Ok(w.value),
        _ => p.expected("an identifier", t),
    }
}

/// A name or a string literal (`LIKE`-free places where MySQL accepts both).
pub(crate) fn parse_name_or_string(p: &mut Parser) -> PResult<String> {
    match &p.peek_token().token {
        Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => parse_string(p),
        _ => parse_name(p),
    }
}

/// `name` or `db.name`.
pub(crate) fn parse_object_name(p: &mut Parser) -> PResult<ObjectName> {
    let first = parse_name(p)?;
    if p.consume_token(&Token::Period) {
        let second = parse_name(p)?;
        Ok(ObjectName {
            database: Some(first),
            name: second,
        })
    } else {
        Ok(ObjectName {
            database: None,
            name: first,
        })
    }
}

/// `( name, ... )`.
pub(crate) fn parse_name_list(p: &mut Parser) -> PResult<Vec<String>> {
    p.expect_token(&Token::LParen)?;
    let names = p.parse_comma_separated(parse_name)?;
    p.expect_token(&Token::RParen)?;
    Ok(names)
}

/// `PROPERTIES ("k" = "v", ...)` after the word PROPERTIES was consumed.
pub(crate) fn parse_properties_body(p: &mut Parser) -> PResult<Vec<(String, String)>> {
    p.expect_token(&Token::LParen)?;
    if p.consume_token(&Token::RParen) {
        return Ok(Vec::new());
    }
    let props = p.parse_comma_separated(|p| {
        let key = parse_string(p)?;
        p.expect_token(&Token::Eq)?;
        let value = parse_string(p)?;
        Ok((key, value))
    })?;
    p.expect_token(&Token::RParen)?;
    Ok(props)
}

/// A literal used as a partition bound, or MAXVALUE.
pub(crate) fn parse_partition_value(p: &mut Parser) -> PResult<PartitionValue> {
    if parse_word(p, "MAXVALUE") {
        return Ok(PartitionValue::MaxValue);
    }
    let start = p.peek_token();
    let expr = p.parse_expr()?;
    match literal_text(&expr) {
        Some(text) => Ok(PartitionValue::Literal(text)),
        None => p.expected("a literal partition value", start),
    }
}

/// The text of a literal expression (string, number, boolean, negative number), as a partition
/// bound or column default stores it.
pub fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => literal_text(expr).map(|t| format!("-{t}")),
        Expr::Nested(e) => literal_text(e),
        _ => None,
    }
}

/// The parts of a (possibly qualified) name, unquoted: `db.t` is `["db", "t"]`.
pub fn name_parts(name: &sqlparser::ast::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Byte offset of a token location in `sql`.
pub(crate) fn byte_offset(sql: &str, at: Location) -> usize {
    let mut offset = 0;
    for (i, line) in sql.split_inclusive('\n').enumerate() {
        if i + 1 == at.line as usize {
            let cols: usize = line
                .chars()
                .take(at.column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum();
            return offset + cols;
        }
        offset += line.len();
    }
    sql.len()
}

/// Expects the end of the statement (trailing semicolons allowed).
pub(crate) fn expect_end(p: &mut Parser) -> PResult<()> {
    while p.consume_token(&Token::SemiColon) {}
    if p.peek_token().token == Token::EOF {
        Ok(())
    } else {
        p.expected("end of statement", p.peek_token())
    }
}

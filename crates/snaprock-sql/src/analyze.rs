//! StarRocks' statistics statements: `ANALYZE [FULL | SAMPLE] TABLE t [(c, ...)] [WITH SYNC |
//! ASYNC MODE] [PROPERTIES (...)]` and `DROP STATS t` (SHOW ANALYZE STATUS and SHOW STATS META
//! are SHOWs).

use sqlparser::parser::{Parser, ParserError};

use crate::ast::{ObjectName, Statement};
use crate::words::*;

/// `ANALYZE ... TABLE t ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeTable {
    pub table: ObjectName,
    /// The columns named (empty: every column).
    pub columns: Vec<String>,
    /// `FULL` (every row) rather than `SAMPLE`.
    pub full: bool,
    pub properties: Vec<(String, String)>,
}

/// After the word ANALYZE.
pub(crate) fn parse_analyze(p: &mut Parser) -> PResult<Statement> {
    let full = if parse_word(p, "SAMPLE") {
        false
    } else {
        // StarRocks' manual collection is FULL unless SAMPLE is said.
        parse_word(p, "FULL");
        true
    };
    expect_word(p, "TABLE")?;
    let table = parse_object_name(p)?;
    if parse_words(p, &["UPDATE", "HISTOGRAM"]) || parse_words(p, &["DROP", "HISTOGRAM"]) {
        return Err(ParserError::ParserError(
            "histograms are not collected: snaprock keeps no column histograms".into(),
        ));
    }
    let columns = if p.peek_token().token == sqlparser::tokenizer::Token::LParen {
        parse_name_list(p)?
    } else {
        Vec::new()
    };
    if parse_word(p, "WITH") {
        if !parse_word(p, "SYNC") {
            expect_word(p, "ASYNC")?;
        }
        expect_word(p, "MODE")?;
    }
    let properties = if parse_word(p, "PROPERTIES") {
        parse_properties_body(p)?
    } else {
        Vec::new()
    };
    Ok(Statement::Analyze(Box::new(AnalyzeTable {
        table,
        columns,
        full,
        properties,
    })))
}

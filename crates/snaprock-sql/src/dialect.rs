//! The StarRocks dialect for sqlparser: MySQL's, plus StarRocks' complex types and literals.
//!
//! sqlparser's MySQL dialect parses `ARRAY<T>` but not `MAP<K, V>`, `STRUCT<a T, ...>` or the
//! `map{k: v}` literal StarRocks accepts. This dialect answers as MySQL's in everything else:
//! it reports MySQL's type id, so every `dialect_of!(MySqlDialect)` branch in the parser and
//! tokenizer still applies, and forwards every MySQL-specific hook to it.

use std::any::TypeId;

use sqlparser::ast::{CastKind, Expr, Statement};
use sqlparser::dialect::{Dialect, MySqlDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// MySQL's dialect with StarRocks' `MAP<K, V>`, `STRUCT<...>` and `map{...}`.
#[derive(Debug, Default)]
pub struct StarRocksDialect {
    mysql: MySqlDialect,
    /// Lambdas (`x -> x * 2`) parse: only in statements that call a function taking one, since
    /// `c -> '$.a'` is otherwise MySQL's JSON operator.
    lambdas: bool,
}

/// StarRocks' functions that take a lambda.
const HIGHER_ORDER_FUNCTIONS: &[&str] = &[
    "array_map",
    "array_filter",
    "any_match",
    "all_match",
    "array_sortby",
    "transform",
];

impl StarRocksDialect {
    pub fn new() -> Self {
        Self::default()
    }

    /// The dialect for `sql`: lambdas parse when it calls one of StarRocks' higher-order
    /// functions.
    pub fn for_statement(sql: &str) -> Self {
        let lower = sql.to_ascii_lowercase();
        StarRocksDialect {
            mysql: MySqlDialect {},
            lambdas: HIGHER_ORDER_FUNCTIONS
                .iter()
                .any(|f| lower.contains(&format!("{f}("))),
        }
    }
}

impl Dialect for StarRocksDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<MySqlDialect>()
    }

    // StarRocks additions.
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }
    fn support_map_literal_syntax(&self) -> bool {
        true
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        self.lambdas
    }
    /// `ARRAY<T>[e, ...]`: the array literal cast to `ARRAY<T>` (`ARRAY<INT>[]` is typed empty).
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let is_typed_array = matches!(&parser.peek_token().token,
            Token::Word(w) if w.keyword == Keyword::ARRAY)
            && parser.peek_nth_token(1).token == Token::Lt;
        if !is_typed_array {
            return None;
        }
        Some((|| {
            let data_type = parser.parse_data_type()?;
            parser.expect_token(&Token::LBracket)?;
            let array = parser.parse_array_expr(false)?;
            Ok(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(array),
                data_type,
                array: false,
                format: None,
            })
        })())
    }

    // Everything else as MySQL.
    fn is_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.mysql.is_identifier_part(ch)
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.mysql.identifier_quote_style(identifier)
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.mysql.supports_string_literal_backslash_escape()
    }
    fn supports_string_literal_concatenation(&self) -> bool {
        self.mysql.supports_string_literal_concatenation()
    }
    fn ignores_wildcard_escapes(&self) -> bool {
        self.mysql.ignores_wildcard_escapes()
    }
    fn supports_numeric_prefix(&self) -> bool {
        self.mysql.supports_numeric_prefix()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        self.mysql.supports_bitwise_shift_operators()
    }
    fn supports_multiline_comment_hints(&self) -> bool {
        self.mysql.supports_multiline_comment_hints()
    }
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        self.mysql.parse_infix(parser, expr, precedence)
    }
    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        self.mysql.parse_statement(parser)
    }
    fn require_interval_qualifier(&self) -> bool {
        self.mysql.require_interval_qualifier()
    }
    fn supports_limit_comma(&self) -> bool {
        self.mysql.supports_limit_comma()
    }
    fn supports_create_table_select(&self) -> bool {
        self.mysql.supports_create_table_select()
    }
    fn supports_insert_set(&self) -> bool {
        self.mysql.supports_insert_set()
    }
    fn supports_user_host_grantee(&self) -> bool {
        self.mysql.supports_user_host_grantee()
    }
    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.mysql.is_table_factor_alias(explicit, kw, parser)
    }
    fn supports_table_hints(&self) -> bool {
        self.mysql.supports_table_hints()
    }
    fn requires_single_line_comment_whitespace(&self) -> bool {
        self.mysql.requires_single_line_comment_whitespace()
    }
    fn supports_match_against(&self) -> bool {
        self.mysql.supports_match_against()
    }
    fn supports_select_modifiers(&self) -> bool {
        self.mysql.supports_select_modifiers()
    }
    fn supports_set_names(&self) -> bool {
        self.mysql.supports_set_names()
    }
    fn supports_comma_separated_set_assignments(&self) -> bool {
        self.mysql.supports_comma_separated_set_assignments()
    }
    fn supports_update_order_by(&self) -> bool {
        self.mysql.supports_update_order_by()
    }
    fn supports_data_type_signed_suffix(&self) -> bool {
        self.mysql.supports_data_type_signed_suffix()
    }
    fn supports_cross_join_constraint(&self) -> bool {
        self.mysql.supports_cross_join_constraint()
    }
    fn supports_double_ampersand_operator(&self) -> bool {
        self.mysql.supports_double_ampersand_operator()
    }
    fn supports_binary_kw_as_cast(&self) -> bool {
        self.mysql.supports_binary_kw_as_cast()
    }
    fn supports_comment_optimizer_hint(&self) -> bool {
        self.mysql.supports_comment_optimizer_hint()
    }
    fn supports_constraint_keyword_without_name(&self) -> bool {
        self.mysql.supports_constraint_keyword_without_name()
    }
    fn supports_key_column_option(&self) -> bool {
        self.mysql.supports_key_column_option()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&StarRocksDialect::new(), sql)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn complex_types_and_literals_parse() {
        let s = parse(
            "CREATE TABLE t (a ARRAY<ARRAY<INT>>, m MAP<INT, VARCHAR(10)>, s STRUCT<x INT, y STRING>)",
        );
        assert!(s.to_string().contains("Map(INT, VARCHAR(10))"), "{s}");
        assert!(s.to_string().contains("STRUCT<x INT, y STRING>"), "{s}");
        parse("SELECT [1, 2], map{1: 'a'}, 5 DIV 2 FROM t LIMIT 1, 2");
        let typed = parse("SELECT ARRAY<FLOAT>[1, 2], ARRAY<INT>[], ARRAY[3]");
        assert!(
            typed.to_string().contains("CAST([1, 2] AS ARRAY<FLOAT>)"),
            "{typed}"
        );
    }
}

//! SET in every form clients send on connect.
//!
//! `SET NAMES x [COLLATE y]`, `SET CHARACTER SET x`, `SET [GLOBAL|SESSION|LOCAL] v = e`,
//! `SET @@[global.|session.|local.]v = e`, `SET @user = e`, `SET [GLOBAL|SESSION] TRANSACTION ...`,
//! several of them separated by commas, with `=` or `:=` and any expression (including
//! `concat(@@sql_mode, ',X')` and `(SELECT ...)`).

use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::ast::*;
use crate::words::*;

pub(crate) fn parse_set(p: &mut Parser) -> PResult<Vec<SetItem>> {
    p.parse_comma_separated(parse_set_item)
}

fn parse_set_item(p: &mut Parser) -> PResult<SetItem> {
    if parse_word(p, "NAMES") {
        let charset = if parse_word(p, "DEFAULT") {
            "utf8mb4".to_string()
        } else {
            parse_name_or_string(p)?
        };
        let collation = if parse_word(p, "COLLATE") {
            Some(parse_name_or_string(p)?)
        } else {
            None
        };
        return Ok(SetItem::Names { charset, collation });
    }
    if parse_words(p, &["CHARACTER", "SET"]) || parse_word(p, "CHARSET") {
        let charset = if parse_word(p, "DEFAULT") {
            "utf8mb4".to_string()
        } else {
            parse_name_or_string(p)?
        };
        return Ok(SetItem::Names {
            charset,
            collation: None,
        });
    }
    let mut scope = if parse_word(p, "GLOBAL") {
        Some(VariableScope::Global)
    } else if parse_word(p, "SESSION") || parse_word(p, "LOCAL") {
        Some(VariableScope::Session)
    } else {
        None
    };
    if parse_word(p, "TRANSACTION") {
        let mut words = Vec::new();
        while !matches!(
            p.peek_token().token,
            Token::EOF | Token::SemiColon | Token::Comma
        ) {
            words.push(p.next_token().to_string());
        }
        return Ok(SetItem::Transaction {
            global: scope == Some(VariableScope::Global),
            characteristics: words.join(" "),
        });
    }
    let start = p.peek_token();
    let first = match &start.token {
        Token::Word(w) => w.value.clone(),
        _ => return p.expected("a variable name", start),
    };
    p.next_token();
    let name = if let Some(rest) = first.strip_prefix("@@") {
        // @@var or @@global.var / @@session.var / @@local.var
        let prefix = rest.to_ascii_lowercase();
        if matches!(prefix.as_str(), "global" | "session" | "local")
            && p.consume_token(&Token::Period)
        {
            scope = Some(if prefix == "global" {
                VariableScope::Global
            } else {
                VariableScope::Session
            });
            parse_name(p)?
        } else {
            rest.to_string()
        }
    } else if let Some(user_var) = first.strip_prefix('@') {
        scope = Some(VariableScope::User);
        if user_var.is_empty() {
            // `@'quoted name'` / "@`x`": the name follows as its own token.
            parse_name_or_string(p)?
        } else {
            user_var.to_string()
        }
    } else {
        first
    };
    if !(p.consume_token(&Token::Eq) || p.consume_token(&Token::Assignment)) {
        return p.expected("= or :=", p.peek_token());
    }
    let value = if peek_word(p, "DEFAULT")
        && matches!(
            p.peek_nth_token(1).token,
            Token::EOF | Token::Comma | Token::SemiColon
        ) {
        p.next_token();
        SetValue::Default
    } else {
        SetValue::Expr(Box::new(p.parse_expr()?))
    };
    let name = if scope == Some(VariableScope::User) {
        name
    } else {
        name.to_ascii_lowercase()
    };
    Ok(SetItem::Variable {
        scope: scope.unwrap_or(VariableScope::Session),
        name,
        value,
    })
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parse_statement;

    fn set(sql: &str) -> Vec<SetItem> {
        match parse_statement(sql) {
            Ok(Statement::Set(items)) => items,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn var(item: &SetItem) -> (VariableScope, &str) {
        match item {
            SetItem::Variable { scope, name, .. } => (*scope, name.as_str()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_forms() {
        assert_eq!(
            set("SET NAMES utf8mb4"),
            vec![SetItem::Names {
                charset: "utf8mb4".into(),
                collation: None
            }]
        );
        assert_eq!(
            set("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'"),
            vec![SetItem::Names {
                charset: "utf8mb4".into(),
                collation: Some("utf8mb4_general_ci".into())
            }]
        );
    }

    #[test]
    fn variable_forms() {
        assert_eq!(
            var(&set("SET autocommit=1")[0]),
            (VariableScope::Session, "autocommit")
        );
        assert_eq!(
            var(&set("SET @@session.autocommit = OFF")[0]),
            (VariableScope::Session, "autocommit")
        );
        assert_eq!(
            var(&set("SET @@GLOBAL.time_zone = '+00:00'")[0]),
            (VariableScope::Global, "time_zone")
        );
        assert_eq!(
            var(&set("SET GLOBAL max_connections = 10")[0]),
            (VariableScope::Global, "max_connections")
        );
        assert_eq!(var(&set("SET @x := 5")[0]), (VariableScope::User, "x"));
        assert_eq!(
            var(&set("SET SQL_AUTO_IS_NULL = 0")[0]),
            (VariableScope::Session, "sql_auto_is_null")
        );
        let items = set("set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')");
        assert_eq!(items.len(), 2);
        assert_eq!(var(&items[1]).1, "sql_mode");
        let items = set(
            "SET sql_mode=(SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION')), time_zone='+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
        );
        assert_eq!(items.len(), 3);
        assert!(matches!(
            &set("SET sql_select_limit=DEFAULT")[0],
            SetItem::Variable {
                value: SetValue::Default,
                ..
            }
        ));
        assert!(matches!(
            &set("SET character_set_results = NULL")[0],
            SetItem::Variable {
                value: SetValue::Expr(_),
                ..
            }
        ));
    }

    #[test]
    fn transaction_forms() {
        assert!(matches!(
            &set("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")[0],
            SetItem::Transaction { global: false, .. }
        ));
        assert!(matches!(
            &set("SET TRANSACTION READ WRITE")[0],
            SetItem::Transaction { .. }
        ));
    }
}

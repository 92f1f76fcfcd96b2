//! Statement hints in StarRocks' comment form, for one statement only:
//! `SELECT /*+ SET_VAR(query_timeout = 10, ...) */ ...` sets session variables and
//! `SELECT /*+ SET_USER_VARIABLE(@a = (SELECT max(x) FROM t), @b = 2) */ ...` user variables
//! (each value evaluated once, before the statement) while the statement is planned and run;
//! the session's own values come back afterwards. Other hints (join hints) are accepted and
//! have no effect, as an optimizer may ignore a hint.

use snaprock_sql::ParseError;
use snaprock_sql::StarRocksDialect;
use snaprock_sql::sqlparser::ast::{Expr, Insert, SetExpr, Statement};
use snaprock_sql::sqlparser::parser::{Parser, ParserError};
use snaprock_sql::sqlparser::tokenizer::Token;

use crate::Result;
use crate::session::Session;
use crate::variables::VarValue;

/// The assignments the hints of a statement ask for.
#[derive(Default)]
pub(crate) struct Hints {
    session_vars: Vec<(String, Expr)>,
    user_vars: Vec<(String, Expr)>,
}

/// The values hints replaced (`None`: was not set), to put back.
pub(crate) struct Replaced {
    session_vars: Vec<(&'static str, Option<VarValue>)>,
    user_vars: Vec<(String, Option<VarValue>)>,
}

impl Hints {
    pub(crate) fn is_empty(&self) -> bool {
        self.session_vars.is_empty() && self.user_vars.is_empty()
    }
}

/// The SET_VAR and SET_USER_VARIABLE hints of the statement's top SELECT (a query's, or the
/// SELECT of an INSERT).
pub(crate) fn statement_hints(stmt: &Statement) -> Result<Hints> {
    let query = match stmt {
        Statement::Query(q) => q,
        Statement::Insert(Insert {
            source: Some(q), ..
        }) => q,
        _ => return Ok(Hints::default()),
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(Hints::default());
    };
    let mut hints = Hints::default();
    for hint in &select.optimizer_hints {
        parse_hint_text(&hint.text, &mut hints)
            .map_err(|e| ParseError::from_parser(&e, &hint.text))?;
    }
    Ok(hints)
}

/// `NAME(assignment, ...) NAME(...)`: the assignments of SET_VAR and SET_USER_VARIABLE.
fn parse_hint_text(text: &str, hints: &mut Hints) -> std::result::Result<(), ParserError> {
    let dialect = StarRocksDialect::new();
    let mut p = Parser::new(&dialect).try_with_sql(text)?;
    loop {
        let token = p.next_token();
        let name = match &token.token {
            Token::EOF => return Ok(()),
            Token::Word(w) => w.value.to_ascii_uppercase(),
            _ => return p.expected("a hint name", token),
        };
        if !p.consume_token(&Token::LParen) {
            continue;
        }
        if name != "SET_VAR" && name != "SET_USER_VARIABLE" {
            skip_to_closing_paren(&mut p);
            continue;
        }
        loop {
            let variable = p.parse_identifier()?.value;
            p.expect_token(&Token::Eq)?;
            let value = p.parse_expr()?;
            match variable.strip_prefix('@') {
                Some(user) if name == "SET_USER_VARIABLE" => {
                    hints.user_vars.push((user.to_lowercase(), value))
                }
                None if name == "SET_VAR" => hints.session_vars.push((variable, value)),
                _ => {
                    return Err(ParserError::ParserError(format!(
                        "{name} does not set {variable}"
                    )));
                }
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
}

fn skip_to_closing_paren(p: &mut Parser) {
    let mut depth = 1usize;
    while depth > 0 {
        match p.next_token().token {
            Token::EOF => return,
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
    }
}

/// Sets what `hints` ask for; on an error nothing stays changed.
pub(crate) async fn apply(session: &mut Session, hints: Hints) -> Result<Replaced> {
    let mut replaced = Replaced {
        session_vars: Vec::new(),
        user_vars: Vec::new(),
    };
    if let Err(e) = apply_into(session, hints, &mut replaced).await {
        restore(session, replaced);
        return Err(e);
    }
    Ok(replaced)
}

async fn apply_into(session: &mut Session, hints: Hints, replaced: &mut Replaced) -> Result<()> {
    for (name, expr) in hints.session_vars {
        let value = super::set::evaluate(session, expr).await?;
        let (key, value) = session.engine.globals.check_session(&name, value)?;
        let old = session.session_vars.insert(key, value);
        replaced.session_vars.push((key, old));
    }
    for (name, expr) in hints.user_vars {
        let value = super::set::evaluate(session, expr).await?;
        let old = session.user_vars.insert(name.clone(), value);
        replaced.user_vars.push((name, old));
    }
    Ok(())
}

/// Puts back the values `apply` replaced (the last replaced first).
pub(crate) fn restore(session: &mut Session, replaced: Replaced) {
    for (key, old) in replaced.session_vars.into_iter().rev() {
        match old {
            Some(v) => session.session_vars.insert(key, v),
            None => session.session_vars.remove(key),
        };
    }
    for (name, old) in replaced.user_vars.into_iter().rev() {
        match old {
            Some(v) => session.user_vars.insert(name, v),
            None => session.user_vars.remove(&name),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_texts_parse() {
        let mut hints = Hints::default();
        parse_hint_text(
            " SET_VAR(query_timeout = 10) LEADING(t1) SET_USER_VARIABLE(@a = (SELECT 1), @B = 'x') ",
            &mut hints,
        )
        .unwrap();
        assert_eq!(hints.session_vars.len(), 1);
        let users: Vec<&str> = hints.user_vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(users, ["a", "b"]);
        assert!(parse_hint_text("SET_VAR(@a = 1)", &mut Hints::default()).is_err());
    }
}

//! Scheduled statements in StarRocks' grammar: `SUBMIT TASK` and `DROP TASK`.
//!
//! A task's statement is kept as the text the user wrote after `AS` (it is what
//! `information_schema.tasks` shows and what every run parses again) and parsed here once, so a
//! task that could never run is refused when it is submitted.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::ast::{IntervalUnit, Statement, SubmitTask, TaskSchedule};
use crate::words::*;

/// `SUBMIT TASK [name] [SCHEDULE [START('...')] EVERY(INTERVAL n unit)] [PROPERTIES (...)]
/// AS <statement>`, after `SUBMIT TASK`. `parse_inner` parses the statement after `AS`.
pub(crate) fn parse_submit_task(
    p: &mut Parser,
    sql: &str,
    parse_inner: impl FnOnce(&mut Parser, &str) -> PResult<Statement>,
) -> PResult<Statement> {
    let name = if peek_word(p, "SCHEDULE") || peek_word(p, "PROPERTIES") || peek_word(p, "AS") {
        None
    } else {
        Some(parse_object_name(p)?)
    };
    let schedule = if parse_word(p, "SCHEDULE") {
        Some(parse_schedule(p)?)
    } else {
        None
    };
    let properties = if parse_word(p, "PROPERTIES") {
        parse_properties_body(p)?
    } else {
        Vec::new()
    };
    expect_word(p, "AS")?;
    let at = p.peek_token();
    let start = byte_offset(sql, at.span.start);
    let statement = parse_inner(p, sql)?;
    let runnable = match &statement {
        Statement::Backup(_)
        | Statement::InsertOverwrite { .. }
        | Statement::InsertByName { .. } => true,
        Statement::CreateTable(create) => create.as_query.is_some(),
        Statement::Standard(stmt) => matches!(stmt.as_ref(), sqlparser::ast::Statement::Insert(_)),
        _ => false,
    };
    if !runnable {
        return p.expected(
            "BACKUP, INSERT or CREATE TABLE ... AS SELECT after SUBMIT TASK ... AS",
            at,
        );
    }
    let definition = sql[start..]
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    Ok(Statement::SubmitTask(Box::new(SubmitTask {
        name,
        schedule,
        properties,
        definition,
        statement: Box::new(statement),
    })))
}

/// `[START('yyyy-MM-dd HH:mm:ss')] EVERY(INTERVAL n unit)`.
pub(crate) fn parse_schedule(p: &mut Parser) -> PResult<TaskSchedule> {
    let start = if parse_word(p, "START") {
        p.expect_token(&Token::LParen)?;
        let start = parse_string(p)?;
        p.expect_token(&Token::RParen)?;
        Some(start)
    } else {
        None
    };
    expect_word(p, "EVERY")?;
    p.expect_token(&Token::LParen)?;
    expect_word(p, "INTERVAL")?;
    let amount_token = p.peek_token();
    let amount = match &amount_token.token {
        Token::Number(n, _) => n.parse::<u64>().ok(),
        Token::SingleQuotedString(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    let Some(amount) = amount else {
        return p.expected("a whole number of time units after INTERVAL", amount_token);
    };
    p.next_token();
    let unit_token = p.next_token();
    let unit = match &unit_token.token {
        Token::Word(w) => IntervalUnit::from_word(&w.value),
        _ => None,
    };
    let Some(unit) = unit else {
        return p.expected("SECOND, MINUTE, HOUR or DAY", unit_token);
    };
    p.expect_token(&Token::RParen)?;
    Ok(TaskSchedule {
        start,
        amount,
        unit,
    })
}

/// `DROP TASK [IF EXISTS] [db.]name [FORCE]`, after `DROP TASK`.
pub(crate) fn parse_drop_task(p: &mut Parser) -> PResult<Statement> {
    let if_exists = parse_words(p, &["IF", "EXISTS"]);
    let name = parse_object_name(p)?;
    parse_word(p, "FORCE");
    Ok(Statement::DropTask {
        name: name.name,
        if_exists,
    })
}

#[cfg(test)]
mod tests {
    use crate::ast::{IntervalUnit, Statement};
    use crate::parse_statement;

    fn submit(sql: &str) -> crate::ast::SubmitTask {
        match parse_statement(sql).unwrap() {
            Statement::SubmitTask(t) => *t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn submit_task_keeps_schedule_and_statement_text() {
        let t = submit(
            "SUBMIT TASK nightly SCHEDULE START('2026-12-01 00:00:00') EVERY(INTERVAL 1 DAY) AS \
             BACKUP SNAPSHOT sr_hub.nightly TO test_repo ON (sr_member) PROPERTIES (\"ttl\" = \"7 DAY\");",
        );
        assert_eq!(t.name.unwrap().name, "nightly");
        let s = t.schedule.unwrap();
        assert_eq!(s.start.as_deref(), Some("2026-12-01 00:00:00"));
        assert_eq!((s.amount, s.unit), (1, IntervalUnit::Day));
        assert_eq!(
            t.definition,
            "BACKUP SNAPSHOT sr_hub.nightly TO test_repo ON (sr_member) PROPERTIES (\"ttl\" = \"7 DAY\")"
        );
        assert!(matches!(*t.statement, Statement::Backup(_)));
    }

    #[test]
    fn submit_task_without_name_or_schedule_takes_an_insert() {
        let t = submit(
            "SUBMIT TASK PROPERTIES (\"session.query_timeout\" = \"10\") AS INSERT INTO t SELECT 1",
        );
        assert!(t.name.is_none() && t.schedule.is_none());
        assert_eq!(t.properties.len(), 1);
        assert_eq!(t.definition, "INSERT INTO t SELECT 1");
        let t = submit(
            "submit task x schedule every(interval 30 seconds) as insert into d.t values (1)",
        );
        assert_eq!(t.schedule.unwrap().unit, IntervalUnit::Second);
    }

    #[test]
    fn submit_task_refuses_what_it_cannot_run() {
        for bad in [
            "SUBMIT TASK t AS SELECT 1",
            "SUBMIT TASK t AS DROP TABLE x",
            "SUBMIT TASK t SCHEDULE EVERY(INTERVAL 1 MONTH) AS INSERT INTO t SELECT 1",
            "SUBMIT TASK t SCHEDULE EVERY(INTERVAL -1 DAY) AS INSERT INTO t SELECT 1",
            "SUBMIT TASK t SCHEDULE EVERY(1 DAY) AS INSERT INTO t SELECT 1",
            "SUBMIT TASK t AS BACKUP SNAPSHOT s TO",
        ] {
            let e = parse_statement(bad).unwrap_err();
            assert!(e.message.starts_with("Getting syntax error"), "{bad}: {e}");
        }
    }

    #[test]
    fn drop_task() {
        assert_eq!(
            parse_statement("DROP TASK IF EXISTS d.nightly FORCE").unwrap(),
            Statement::DropTask {
                name: "nightly".into(),
                if_exists: true
            }
        );
    }
}

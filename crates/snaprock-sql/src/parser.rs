//! Dispatches one statement's text to the right parser.

use sqlparser::ast::{self as sql_ast};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::StarRocksDialect;
use crate::ast::*;
use crate::words::*;
use crate::{ParseError, access, alter, backup, create_table, materialized_view, set, show, task};

/// Parses one statement (use [`crate::split_statements`] first for multi-statement strings).
pub fn parse_statement(sql: &str) -> Result<Statement, ParseError> {
    if let Some((label, rest)) = crate::label::split_label(sql) {
        return Ok(Statement::Labeled {
            label,
            statement: Box::new(parse_statement(&rest)?),
        });
    }
    let dialect = StarRocksDialect::for_statement(sql);
    let result = Parser::new(&dialect)
        .try_with_sql(sql)
        .and_then(|mut p| parse_with(&mut p, sql));
    result.map_err(|e| ParseError::from_parser(&e, sql))
}

fn parse_with(p: &mut Parser, sql: &str) -> PResult<Statement> {
    let stmt = if parse_words(p, &["CANCEL", "REFRESH", "MATERIALIZED", "VIEW"]) {
        materialized_view::parse_cancel_refresh(p)?
    } else if parse_words(p, &["REFRESH", "MATERIALIZED", "VIEW"]) {
        materialized_view::parse_refresh(p)?
    } else if let Some(stmt) = crate::storage_volume::parse_storage_volume_statement(p)? {
        stmt
    } else if let Some(stmt) = backup::parse_backup_statement(p)? {
        stmt
    } else if let Some(stmt) = access::parse_access_statement(p)? {
        stmt
    } else if peek_word(p, "SHOW") {
        p.next_token();
        Statement::Show(show::parse_show(p)?)
    } else if peek_word(p, "DESC") || peek_word(p, "DESCRIBE") || is_explain_table(p) {
        p.next_token();
        let table = parse_object_name(p)?;
        if parse_word(p, "ALL") {
            expect_end(p)?;
            return Ok(Statement::Show(Show::DescribeAll { table }));
        }
        // `DESC t col` / `DESC t 'pattern'`: a column filter.
        let filter = match &p.peek_token().token {
            Token::Word(_) => Some(ShowFilter::Like(parse_name(p)?)),
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => {
                Some(ShowFilter::Like(parse_string(p)?))
            }
            _ => None,
        };
        Statement::Show(Show::Columns {
            full: false,
            describe: true,
            table,
            filter,
        })
    } else if parse_words(p, &["SUBMIT", "TASK"]) {
        task::parse_submit_task(p, sql, parse_with)?
    } else if parse_words(p, &["SET", "CATALOG"]) {
        Statement::SetCatalog(parse_name(p)?)
    } else if peek_word(p, "SET") {
        p.next_token();
        Statement::Set(set::parse_set(p)?)
    } else if peek_word(p, "USE") {
        p.next_token();
        let name = parse_object_name(p)?;
        Statement::Use {
            catalog: name.database,
            database: name.name,
        }
    } else if peek_word(p, "CREATE") {
        parse_create(p, sql)?
    } else if peek_word(p, "DROP") {
        parse_drop(p)?
    } else if parse_word(p, "TRUNCATE") {
        parse_word(p, "TABLE");
        let name = parse_object_name(p)?;
        let partitions = if parse_word(p, "PARTITION") || parse_word(p, "PARTITIONS") {
            parse_name_list(p)?
        } else {
            Vec::new()
        };
        Statement::TruncateTable { name, partitions }
    } else if parse_words(p, &["ALTER", "MATERIALIZED", "VIEW"]) {
        materialized_view::parse_alter(p)?
    } else if parse_word(p, "ALTER") {
        alter::parse_alter(p)?
    } else if parse_word(p, "ANALYZE") {
        crate::analyze::parse_analyze(p)?
    } else if parse_word(p, "RECOVER") {
        Statement::Recover(parse_recover(p)?)
    } else if parse_words(p, &["ADMIN", "SET", "FRONTEND", "CONFIG"]) {
        // `("key" = "value")`: one setting, as StarRocks takes it.
        let mut settings = parse_properties_body(p)?;
        if settings.len() != 1 {
            return p.expected("one (\"key\" = \"value\") setting", p.peek_token());
        }
        let (key, value) = settings.remove(0);
        Statement::AdminSetConfig { key, value }
    } else if parse_words(p, &["ADMIN", "SHOW", "FRONTEND", "CONFIG"]) {
        Statement::AdminShowConfig {
            filter: show::parse_filter(p)?,
        }
    } else if let Some((table, partitions, overwrite)) = p.maybe_parse(parse_by_name_target)? {
        Statement::InsertByName {
            table,
            partitions,
            overwrite,
            query: p.parse_query()?,
        }
    } else if peek_word(p, "INSERT") && peek_nth_word(p, 1, "OVERWRITE") {
        parse_insert_overwrite(p)?
    } else if parse_word(p, "BEGIN") {
        parse_word(p, "WORK");
        Statement::Transaction(TransactionOp::Begin)
    } else if parse_words(p, &["START", "TRANSACTION"]) {
        parse_transaction_characteristics(p)?;
        Statement::Transaction(TransactionOp::Begin)
    } else if parse_word(p, "COMMIT") {
        parse_word(p, "WORK");
        Statement::Transaction(TransactionOp::Commit)
    } else if parse_word(p, "ROLLBACK") {
        parse_word(p, "WORK");
        Statement::Transaction(TransactionOp::Rollback)
    } else if parse_word(p, "KILL") {
        let query_only = parse_word(p, "QUERY");
        if !query_only {
            parse_word(p, "CONNECTION");
        }
        let id = p.parse_literal_uint()?;
        Statement::Kill {
            connection_id: id,
            query_only,
        }
    } else if peek_word(p, "LOCK") || peek_word(p, "UNLOCK") || peek_word(p, "FLUSH") {
        // Whole statements that change nothing here (dump tools send them): the statement is
        // accepted or refused as one, never partly run, so its arguments need no grammar.
        let word = p.next_token().to_string().to_uppercase();
        while !matches!(p.peek_token().token, Token::EOF | Token::SemiColon) {
            p.next_token();
        }
        Statement::Ignored(word)
    } else {
        let stmt = p.parse_statement()?;
        match stmt {
            sql_ast::Statement::Query(_)
            | sql_ast::Statement::Insert(_)
            | sql_ast::Statement::Delete(_)
            | sql_ast::Statement::Update(_)
            | sql_ast::Statement::Explain { .. } => Statement::Standard(Box::new(stmt)),
            other => {
                return Err(sqlparser::parser::ParserError::ParserError(format!(
                    "statement not supported: {}",
                    statement_kind(&other)
                )));
            }
        }
    };
    expect_end(p)?;
    Ok(stmt)
}

fn statement_kind(stmt: &sql_ast::Statement) -> String {
    let text = stmt.to_string();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `EXPLAIN t` / `EXPLAIN db.t` (a table name, not a query) is DESCRIBE.
fn is_explain_table(p: &Parser) -> bool {
    if !peek_word(p, "EXPLAIN") {
        return false;
    }
    let next = p.peek_nth_token(1).token;
    let after = p.peek_nth_token(2).token;
    let is_query_word = [
        "SELECT", "WITH", "INSERT", "DELETE", "UPDATE", "VERBOSE", "ANALYZE", "FORMAT", "VALUES",
    ]
    .iter()
    .any(|w| matches!(&next, Token::Word(x) if x.value.eq_ignore_ascii_case(w)));
    matches!(next, Token::Word(_))
        && !is_query_word
        && matches!(
            after,
            Token::EOF | Token::Period | Token::SemiColon | Token::Word(_)
        )
}

/// `START TRANSACTION [WITH CONSISTENT SNAPSHOT | READ ONLY | READ WRITE] [, ...]`.
fn parse_transaction_characteristics(p: &mut Parser) -> PResult<()> {
    if matches!(p.peek_token().token, Token::EOF | Token::SemiColon) {
        return Ok(());
    }
    loop {
        if !(parse_words(p, &["WITH", "CONSISTENT", "SNAPSHOT"])
            || parse_words(p, &["READ", "ONLY"])
            || parse_words(p, &["READ", "WRITE"]))
        {
            return p.expected(
                "WITH CONSISTENT SNAPSHOT, READ ONLY or READ WRITE",
                p.peek_token(),
            );
        }
        if !p.consume_token(&Token::Comma) {
            return Ok(());
        }
    }
}

/// `[DEFAULT] CHARACTER SET | CHARSET [=] name`, `[DEFAULT] COLLATE [=] name` and
/// `PROPERTIES (...)` after CREATE DATABASE: the character set is accepted (there is one
/// here); the properties are returned.
fn parse_database_options(p: &mut Parser) -> PResult<Vec<(String, String)>> {
    let mut properties = Vec::new();
    loop {
        let default = parse_word(p, "DEFAULT");
        if parse_words(p, &["CHARACTER", "SET"])
            || parse_word(p, "CHARSET")
            || parse_word(p, "COLLATE")
        {
            let _ = p.consume_token(&Token::Eq);
            parse_name(p)?;
        } else if !default && parse_word(p, "PROPERTIES") {
            properties.extend(parse_properties_body(p)?);
        } else if default {
            return p.expected("CHARACTER SET, CHARSET or COLLATE", p.peek_token());
        } else {
            return Ok(properties);
        }
    }
}

pub(crate) fn parse_if_not_exists(p: &mut Parser) -> bool {
    parse_words(p, &["IF", "NOT", "EXISTS"])
}

pub(crate) fn parse_if_exists(p: &mut Parser) -> bool {
    parse_words(p, &["IF", "EXISTS"])
}

fn parse_create(p: &mut Parser, sql: &str) -> PResult<Statement> {
    expect_word(p, "CREATE")?;
    if parse_word(p, "DATABASE") || parse_word(p, "SCHEMA") {
        let if_not_exists = parse_if_not_exists(p);
        let name = parse_name(p)?;
        if peek_word(p, "FROM") {
            return crate::backup::parse_attach_snapshot(p, name, if_not_exists);
        }
        let properties = parse_database_options(p)?;
        return Ok(Statement::CreateDatabase {
            name,
            if_not_exists,
            properties,
        });
    }
    if parse_words(p, &["MATERIALIZED", "VIEW"]) {
        return materialized_view::parse_create(p, sql);
    }
    let or_replace = parse_words(p, &["OR", "REPLACE"]);
    if parse_word(p, "VIEW") {
        return parse_create_view(p, sql, or_replace);
    }
    if or_replace {
        return p.expected("VIEW", p.peek_token());
    }
    let external = parse_word(p, "EXTERNAL");
    if parse_word(p, "TABLE") {
        return create_table::parse_create_table(p, external);
    }
    if parse_word(p, "INDEX") {
        return crate::alter::parse_create_index(p);
    }
    p.expected(
        "DATABASE, TABLE, VIEW or INDEX after CREATE",
        p.peek_token(),
    )
}

/// A view's optional `(c [COMMENT '...'], ...)` column names (comments are not kept).
pub(crate) fn parse_view_column_names(p: &mut Parser) -> PResult<Vec<String>> {
    if p.peek_token().token != Token::LParen {
        return Ok(Vec::new());
    }
    p.expect_token(&Token::LParen)?;
    let columns = p.parse_comma_separated(|p| {
        let name = parse_name(p)?;
        if parse_word(p, "COMMENT") {
            parse_string(p)?;
        }
        Ok(name)
    })?;
    p.expect_token(&Token::RParen)?;
    Ok(columns)
}

fn parse_create_view(p: &mut Parser, sql: &str, or_replace: bool) -> PResult<Statement> {
    let if_not_exists = parse_if_not_exists(p);
    let name = parse_object_name(p)?;
    let columns = parse_view_column_names(p)?;
    let comment = if parse_word(p, "COMMENT") {
        Some(parse_string(p)?)
    } else {
        None
    };
    expect_word(p, "AS")?;
    let start = byte_offset(sql, p.peek_token().span.start);
    let query = p.parse_query()?;
    let query_sql = sql[start..].trim().trim_end_matches(';').trim().to_string();
    Ok(Statement::CreateView(Box::new(CreateView {
        name,
        or_replace,
        if_not_exists,
        columns,
        comment,
        query_sql,
        query,
    })))
}

fn parse_drop(p: &mut Parser) -> PResult<Statement> {
    expect_word(p, "DROP")?;
    if parse_word(p, "DATABASE") || parse_word(p, "SCHEMA") {
        let if_exists = parse_if_exists(p);
        let name = parse_name(p)?;
        let force = parse_word(p, "FORCE");
        return Ok(Statement::DropDatabase {
            name,
            if_exists,
            force,
        });
    }
    if parse_word(p, "TABLE") {
        let if_exists = parse_if_exists(p);
        let name = parse_object_name(p)?;
        let force = parse_word(p, "FORCE");
        return Ok(Statement::DropTable {
            name,
            if_exists,
            force,
        });
    }
    if parse_word(p, "VIEW") {
        let if_exists = parse_if_exists(p);
        let name = parse_object_name(p)?;
        return Ok(Statement::DropView { name, if_exists });
    }
    if parse_word(p, "TASK") {
        return task::parse_drop_task(p);
    }
    if parse_words(p, &["MATERIALIZED", "VIEW"]) {
        return materialized_view::parse_drop(p);
    }
    if parse_word(p, "INDEX") {
        return crate::alter::parse_drop_index(p);
    }
    if parse_word(p, "STATS") {
        return Ok(Statement::DropStats(parse_object_name(p)?));
    }
    p.expected(
        "DATABASE, TABLE, VIEW, TASK or INDEX after DROP",
        p.peek_token(),
    )
}

/// After RECOVER: `DATABASE d`, `TABLE [d.]t`, `PARTITION p FROM [d.]t`.
fn parse_recover(p: &mut Parser) -> PResult<Recover> {
    if parse_word(p, "DATABASE") || parse_word(p, "SCHEMA") {
        return Ok(Recover::Database(parse_name(p)?));
    }
    if parse_word(p, "TABLE") {
        return Ok(Recover::Table(parse_object_name(p)?));
    }
    if parse_word(p, "PARTITION") {
        let partition = parse_name(p)?;
        expect_word(p, "FROM")?;
        let table = parse_object_name(p)?;
        return Ok(Recover::Partition { partition, table });
    }
    p.expected("DATABASE, TABLE or PARTITION after RECOVER", p.peek_token())
}

/// `INSERT INTO | OVERWRITE [TABLE] t [PARTITION (p, ...)] BY NAME`: the target of an insert
/// whose query's columns are matched to the table's by name (an error here means it is not
/// one).
fn parse_by_name_target(p: &mut Parser) -> PResult<(ObjectName, Vec<String>, bool)> {
    expect_word(p, "INSERT")?;
    let overwrite = parse_word(p, "OVERWRITE");
    if !overwrite {
        expect_word(p, "INTO")?;
    }
    parse_word(p, "TABLE");
    let table = parse_object_name(p)?;
    let partitions = if parse_word(p, "PARTITION") || parse_word(p, "PARTITIONS") {
        parse_name_list(p)?
    } else {
        Vec::new()
    };
    expect_words(p, &["BY", "NAME"])?;
    Ok((table, partitions, overwrite))
}

fn parse_insert_overwrite(p: &mut Parser) -> PResult<Statement> {
    expect_words(p, &["INSERT", "OVERWRITE"])?;
    parse_word(p, "TABLE");
    let table = parse_object_name(p)?;
    let mut partitions = Vec::new();
    let mut partition_values = Vec::new();
    if parse_word(p, "PARTITION") || parse_word(p, "PARTITIONS") {
        if p.peek_token().token == Token::LParen && p.peek_nth_token(2).token == Token::Eq {
            partition_values = parse_partition_values(p)?;
        } else {
            partitions = parse_name_list(p)?;
        }
    }
    let columns = if p.peek_token().token == Token::LParen && !is_query_start(p, 1) {
        parse_name_list(p)?
    } else {
        Vec::new()
    };
    let query = p.parse_query()?;
    Ok(Statement::InsertOverwrite {
        table,
        partitions,
        partition_values,
        columns,
        query,
    })
}

/// `(c = 'v', c2 = 5)`: partition column values naming a partition (StarRocks' form for
/// expression-partitioned tables).
fn parse_partition_values(p: &mut Parser) -> PResult<Vec<(String, String)>> {
    p.expect_token(&Token::LParen)?;
    let values = p.parse_comma_separated(|p| {
        let column = parse_name(p)?;
        p.expect_token(&Token::Eq)?;
        let value = p.parse_expr()?;
        let text = crate::literal_text(&value).ok_or_else(|| {
            sqlparser::parser::ParserError::ParserError(format!(
                "partition value {value} is not a literal"
            ))
        })?;
        Ok((column, text))
    })?;
    p.expect_token(&Token::RParen)?;
    Ok(values)
}

fn is_query_start(p: &Parser, n: usize) -> bool {
    ["SELECT", "WITH", "VALUES"]
        .iter()
        .any(|w| peek_nth_word(p, n, w))
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;

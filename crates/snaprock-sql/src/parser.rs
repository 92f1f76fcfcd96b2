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
    } else if peek_word(p, "SET") {
        p.next_token();
        Statement::Set(set::parse_set(p)?)
    } else if peek_word(p, "USE") {
        p.next_token();
        Statement::Use {
            database: parse_name(p)?,
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
    p.expected("DATABASE, TABLE or VIEW after CREATE", p.peek_token())
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
    p.expected("DATABASE, TABLE, VIEW or TASK after DROP", p.peek_token())
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
mod tests {
    use super::*;

    #[test]
    fn standard_statements_go_to_sqlparser() {
        for sql in [
            "SELECT 1",
            "select a, count(*) from t where b > 1 group by a",
            "INSERT INTO t VALUES (1, 'a'), (2, NULL)",
            "INSERT INTO db.t (a, b) SELECT * FROM s",
            "DELETE FROM t WHERE a = 1",
            "/* ApplicationName=DBeaver 24.0 - Main */ SELECT @@version_comment LIMIT 1",
        ] {
            assert!(
                matches!(parse_statement(sql), Ok(Statement::Standard(_))),
                "{sql}"
            );
        }
    }

    #[test]
    fn desc_and_explain_table_are_show_columns() {
        for sql in ["DESC t", "DESCRIBE db.t", "EXPLAIN t"] {
            assert!(
                matches!(
                    parse_statement(sql),
                    Ok(Statement::Show(Show::Columns { .. }))
                ),
                "{sql}"
            );
        }
        assert!(matches!(
            parse_statement("EXPLAIN SELECT 1"),
            Ok(Statement::Standard(_))
        ));
    }

    #[test]
    fn ddl_forms() {
        assert_eq!(
            parse_statement("CREATE DATABASE IF NOT EXISTS d").unwrap(),
            Statement::CreateDatabase {
                name: "d".into(),
                if_not_exists: true,
                properties: Vec::new(),
            }
        );
        assert_eq!(
            parse_statement("drop table if exists d.t force").unwrap(),
            Statement::DropTable {
                name: ObjectName {
                    database: Some("d".into()),
                    name: "t".into()
                },
                if_exists: true,
                force: true
            }
        );
        assert_eq!(
            parse_statement("RECOVER PARTITION p1 FROM example_tbl").unwrap(),
            Statement::Recover(Recover::Partition {
                partition: "p1".into(),
                table: ObjectName {
                    database: None,
                    name: "example_tbl".into()
                }
            })
        );
        assert_eq!(
            parse_statement("recover database example_db").unwrap(),
            Statement::Recover(Recover::Database("example_db".into()))
        );
        assert!(matches!(
            parse_statement("RECOVER TABLE example_db.example_tbl"),
            Ok(Statement::Recover(Recover::Table(_)))
        ));
        assert!(parse_statement("RECOVER VIEW v").is_err());
        assert_eq!(
            parse_statement("TRUNCATE TABLE t PARTITION (p1, p2)").unwrap(),
            Statement::TruncateTable {
                name: ObjectName {
                    database: None,
                    name: "t".into()
                },
                partitions: vec!["p1".into(), "p2".into()]
            }
        );
        assert!(matches!(
            parse_statement("ALTER TABLE t ADD PARTITION p3 VALUES LESS THAN ('2025-01-01')"),
            Ok(Statement::AddPartition { .. })
        ));
        assert!(matches!(
            parse_statement("ALTER TABLE t DROP PARTITION IF EXISTS p3"),
            Ok(Statement::DropPartition {
                if_exists: true,
                ..
            })
        ));
    }

    #[test]
    fn create_view_keeps_query_text() {
        let Statement::CreateView(v) =
            parse_statement("CREATE VIEW v (a, b) AS SELECT x, y FROM t WHERE x > 1;").unwrap()
        else {
            panic!("not a view")
        };
        assert_eq!(v.query_sql, "SELECT x, y FROM t WHERE x > 1");
        assert_eq!(v.columns, vec!["a", "b"]);
    }

    #[test]
    fn insert_overwrite() {
        let s = parse_statement("INSERT OVERWRITE t PARTITION (p1) SELECT * FROM s").unwrap();
        assert!(
            matches!(s, Statement::InsertOverwrite { ref partitions, .. } if partitions == &["p1"])
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_statement("SELECT * FORM t").unwrap_err();
        assert!(e.message.contains("at line 1"), "{}", e.message);
        let e =
            parse_statement("CREATE TABLE t (a INT) DISTRIBUTED BY HASH(a) BUCKETS x").unwrap_err();
        assert!(e.message.contains("near 'x'"), "{}", e.message);
    }

    #[test]
    fn transactions_and_ignored() {
        assert_eq!(
            parse_statement("BEGIN").unwrap(),
            Statement::Transaction(TransactionOp::Begin)
        );
        assert_eq!(
            parse_statement("START TRANSACTION READ ONLY").unwrap(),
            Statement::Transaction(TransactionOp::Begin)
        );
        assert_eq!(
            parse_statement("rollback").unwrap(),
            Statement::Transaction(TransactionOp::Rollback)
        );
        assert!(matches!(
            parse_statement("UNLOCK TABLES"),
            Ok(Statement::Ignored(_))
        ));
        assert!(parse_statement("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE").is_ok());
        assert!(parse_statement("START TRANSACTION whatever").is_err());
    }

    #[test]
    fn trailing_words_are_refused_not_skipped() {
        for sql in [
            "CREATE DATABASE x FROM SNAPSHOT s ON r extra",
            "CREATE DATABASE x anything at all",
            "CREATE DATABASE x DEFAULT",
            "ALTER TABLE t ADD PARTITION p VALUES LESS THAN ('1') nonsense",
            "DROP TABLE t extra",
        ] {
            let e = parse_statement(sql).unwrap_err();
            assert!(e.message.contains("syntax"), "{sql}: {}", e.message);
        }
        for sql in [
            "CREATE DATABASE x DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
            "CREATE DATABASE IF NOT EXISTS x CHARSET = utf8 PROPERTIES (\"a\" = \"b\")",
            "CREATE DATABASE x FROM SNAPSHOT s ON r",
            "CREATE DATABASE x FROM SNAPSHOT s ON r PROPERTIES (\"backup_timestamp\" = \"t\")",
            "ALTER TABLE t ADD PARTITION p VALUES LESS THAN ('1') DISTRIBUTED BY HASH(k) BUCKETS 4",
        ] {
            assert!(parse_statement(sql).is_ok(), "{sql}");
        }
    }
}

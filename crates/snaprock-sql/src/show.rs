//! SHOW statements: the MySQL ones clients send when browsing, and StarRocks' SHOW PARTITIONS,
//! SHOW DATA, SHOW TABLET and SHOW ALTER TABLE.

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::ast::*;
use crate::words::*;

/// Parses what follows the word SHOW.
pub(crate) fn parse_show(p: &mut Parser) -> PResult<Show> {
    let full = parse_word(p, "FULL");
    let global = parse_word(p, "GLOBAL");
    let session = !global && (parse_word(p, "SESSION") || parse_word(p, "LOCAL"));
    let show = if parse_word(p, "DATABASES") || parse_word(p, "SCHEMAS") {
        // SHOW DATABASES FROM catalog (catalog-aware clients): the default catalog only.
        if parse_word(p, "FROM") || parse_word(p, "IN") {
            parse_name(p)?;
        }
        Show::Databases {
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "TABLES") {
        let database = parse_from_database(p)?;
        Show::Tables {
            full,
            database,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "COLUMNS") || parse_word(p, "FIELDS") {
        let table = parse_from_table(p)?;
        Show::Columns {
            full,
            describe: false,
            table,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "CREATE") {
        parse_show_create(p)?
    } else if parse_word(p, "VARIABLES") {
        let _ = session;
        Show::Variables {
            global,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "STATUS") {
        Show::Status {
            global,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "WARNINGS") {
        skip_limit(p)?;
        Show::Warnings
    } else if parse_word(p, "ERRORS") {
        skip_limit(p)?;
        Show::Errors
    } else if parse_word(p, "COUNT") {
        // SHOW COUNT(*) WARNINGS|ERRORS
        p.expect_token(&Token::LParen)?;
        p.expect_token(&Token::Mul)?;
        p.expect_token(&Token::RParen)?;
        if parse_word(p, "WARNINGS") {
            Show::Warnings
        } else {
            expect_word(p, "ERRORS")?;
            Show::Errors
        }
    } else if parse_word(p, "ENGINES") || parse_words(p, &["STORAGE", "ENGINES"]) {
        Show::Engines
    } else if parse_word(p, "CATALOGS") {
        Show::Catalogs
    } else if parse_word(p, "BACKENDS") {
        Show::Backends
    } else if parse_word(p, "FRONTENDS") {
        Show::Frontends
    } else if parse_word(p, "PROC") {
        Show::Proc(parse_string(p)?)
    } else if parse_word(p, "CHARSET") || parse_words(p, &["CHARACTER", "SET"]) {
        Show::Charset {
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "COLLATION") {
        Show::Collation {
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "PROCESSLIST") {
        Show::Processlist { full }
    } else if parse_words(p, &["TABLE", "STATUS"]) {
        let database = parse_from_database(p)?;
        Show::TableStatus {
            database,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "INDEX") || parse_word(p, "INDEXES") || parse_word(p, "KEYS") {
        let table = parse_from_table(p)?;
        if parse_word(p, "WHERE") {
            p.parse_expr()?;
        }
        Show::Index { table }
    } else if parse_word(p, "PARTITIONS") || parse_words(p, &["TEMPORARY", "PARTITIONS"]) {
        let temporary = false;
        expect_word(p, "FROM").or_else(|_| expect_word(p, "IN"))?;
        let table = parse_object_name(p)?;
        let filter = parse_filter(p)?;
        skip_order_limit(p)?;
        Show::Partitions {
            table,
            temporary,
            filter,
        }
    } else if parse_word(p, "DATA") {
        let table = if parse_word(p, "FROM") {
            Some(parse_object_name(p)?)
        } else {
            None
        };
        Show::Data { table }
    } else if parse_word(p, "TABLET") || parse_word(p, "TABLETS") {
        Show::Tablet {
            table: parse_from_table(p)?,
        }
    } else if parse_words(p, &["MATERIALIZED", "VIEWS"])
        || parse_words(p, &["MATERIALIZED", "VIEW"])
    {
        let database = parse_from_database(p)?;
        Show::MaterializedViews {
            database,
            filter: parse_filter(p)?,
        }
    } else if peek_word(p, "FUNCTIONS")
        || peek_word(p, "BUILTIN")
        || (global && peek_word(p, "FULL"))
    {
        let full = full || parse_word(p, "FULL");
        let builtin = parse_word(p, "BUILTIN");
        expect_word(p, "FUNCTIONS")?;
        let database = parse_from_database(p)?;
        Show::Functions {
            full,
            builtin,
            global,
            database,
            filter: parse_filter(p)?,
        }
    } else if parse_words(p, &["ANALYZE", "STATUS"]) {
        Show::AnalyzeStatus {
            filter: parse_filter(p)?,
        }
    } else if parse_words(p, &["STATS", "META"]) {
        Show::StatsMeta {
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "LOAD") {
        let database = parse_from_database(p)?;
        Show::Load {
            database,
            filter: parse_filter(p)?,
            order: parse_show_order(p)?,
        }
    } else if parse_words(p, &["ROUTINE", "LOAD"]) || parse_words(p, &["ALL", "ROUTINE", "LOAD"]) {
        if parse_word(p, "FOR") {
            parse_object_name(p)?;
        }
        let database = parse_from_database(p)?;
        parse_filter(p)?;
        parse_show_order(p)?;
        Show::RoutineLoad { database }
    } else if parse_word(p, "ALTER") {
        parse_show_alter(p)?
    } else if parse_word(p, "GRANTS") {
        parse_show_grants(p)?
    } else if parse_word(p, "USERS") {
        Show::Users
    } else if parse_word(p, "ROLES") {
        Show::Roles
    } else if parse_words(p, &["PROCEDURE", "STATUS"]) {
        Show::ProcedureStatus {
            functions: false,
            filter: parse_filter(p)?,
        }
    } else if parse_words(p, &["FUNCTION", "STATUS"]) {
        Show::ProcedureStatus {
            functions: true,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "TRIGGERS") {
        let database = parse_from_database(p)?;
        Show::Triggers {
            database,
            filter: parse_filter(p)?,
        }
    } else if parse_word(p, "EVENTS") {
        Show::Events {
            database: parse_from_database(p)?,
        }
    } else if parse_word(p, "PLUGINS") {
        Show::Plugins
    } else if parse_word(p, "PRIVILEGES") {
        Show::Privileges
    } else if parse_word(p, "PROFILES") {
        Show::Profiles
    } else if parse_words(p, &["OPEN", "TABLES"]) {
        parse_from_database(p)?;
        parse_filter(p)?;
        Show::OpenTables
    } else {
        return p.expected("a SHOW statement", p.peek_token());
    };
    Ok(show)
}

/// `SHOW CREATE TABLE | VIEW | MATERIALIZED VIEW | DATABASE name`, after CREATE.
/// After `SHOW ALTER`: `TABLE COLUMN | ROLLUP | OPTIMIZE` or `MATERIALIZED VIEW`, then
/// `[FROM db] [WHERE ...] [ORDER BY c [ASC|DESC], ...] [LIMIT n]`.
fn parse_show_alter(p: &mut Parser) -> PResult<Show> {
    let kind = if parse_words(p, &["MATERIALIZED", "VIEW"]) {
        "MATERIALIZED VIEW".to_string()
    } else {
        expect_word(p, "TABLE")?;
        let kind = ["COLUMN", "ROLLUP", "OPTIMIZE"]
            .into_iter()
            .find(|k| parse_word(p, k))
            .ok_or_else(|| {
                ParserError::ParserError("Expected: COLUMN, ROLLUP or OPTIMIZE".into())
            })?;
        kind.to_string()
    };
    let database = parse_from_database(p)?;
    let filter = parse_filter(p)?;
    Ok(Show::AlterJobs {
        kind,
        database,
        filter,
        order: parse_show_order(p)?,
    })
}

/// `[ORDER BY column [ASC | DESC], ...] [LIMIT count | LIMIT offset, count | LIMIT count
/// OFFSET offset]`.
fn parse_show_order(p: &mut Parser) -> PResult<ShowOrder> {
    let mut order = ShowOrder::default();
    if parse_words(p, &["ORDER", "BY"]) {
        order.order_by = p.parse_comma_separated(|p| {
            let column = parse_name(p)?;
            let ascending = !parse_word(p, "DESC");
            if ascending {
                let _ = parse_word(p, "ASC");
            }
            Ok((column, ascending))
        })?;
    }
    if parse_word(p, "LIMIT") {
        let first = p.parse_literal_uint()?;
        if p.consume_token(&Token::Comma) {
            order.offset = first;
            order.limit = Some(p.parse_literal_uint()?);
        } else {
            order.limit = Some(first);
            if parse_word(p, "OFFSET") {
                order.offset = p.parse_literal_uint()?;
            }
        }
    }
    Ok(order)
}

fn parse_show_create(p: &mut Parser) -> PResult<Show> {
    Ok(if parse_word(p, "TABLE") {
        Show::CreateTable {
            table: parse_object_name(p)?,
        }
    } else if parse_word(p, "VIEW") || parse_word(p, "MATERIALIZED") {
        parse_word(p, "VIEW");
        Show::CreateView {
            view: parse_object_name(p)?,
        }
    } else if parse_word(p, "DATABASE") || parse_word(p, "SCHEMA") {
        parse_words(p, &["IF", "NOT", "EXISTS"]);
        Show::CreateDatabase {
            database: parse_name(p)?,
        }
    } else {
        return p.expected("TABLE, VIEW or DATABASE", p.peek_token());
    })
}

/// `SHOW GRANTS [FOR user | FOR ROLE r | FOR CURRENT_USER[()]]`, after GRANTS.
fn parse_show_grants(p: &mut Parser) -> PResult<Show> {
    let target = if !parse_word(p, "FOR") {
        GrantsTarget::CurrentUser
    } else if parse_word(p, "ROLE") {
        GrantsTarget::Role(parse_name_or_string(p)?)
    } else if peek_word(p, "CURRENT_USER") {
        p.next_token();
        if p.consume_token(&Token::LParen) {
            p.expect_token(&Token::RParen)?;
        }
        GrantsTarget::CurrentUser
    } else {
        GrantsTarget::User(crate::access::parse_user_identity(p)?)
    };
    Ok(Show::Grants { target })
}

fn parse_from_database(p: &mut Parser) -> PResult<Option<String>> {
    if parse_word(p, "FROM") || parse_word(p, "IN") {
        Ok(Some(parse_name(p)?))
    } else {
        Ok(None)
    }
}

/// `FROM t [FROM db]` or `FROM db.t`.
fn parse_from_table(p: &mut Parser) -> PResult<ObjectName> {
    if !(parse_word(p, "FROM") || parse_word(p, "IN")) {
        return p.expected("FROM", p.peek_token());
    }
    let mut table = parse_object_name(p)?;
    if let Some(db) = parse_from_database(p)? {
        table.database = Some(db);
    }
    Ok(table)
}

pub(crate) fn parse_filter(p: &mut Parser) -> PResult<Option<ShowFilter>> {
    if parse_word(p, "LIKE") {
        Ok(Some(ShowFilter::Like(parse_string(p)?)))
    } else if parse_word(p, "WHERE") {
        Ok(Some(ShowFilter::Where(Box::new(p.parse_expr()?))))
    } else {
        Ok(None)
    }
}

fn skip_limit(p: &mut Parser) -> PResult<()> {
    if parse_word(p, "LIMIT") {
        p.parse_literal_uint()?;
        if p.consume_token(&Token::Comma) {
            p.parse_literal_uint()?;
        }
    }
    Ok(())
}

fn skip_order_limit(p: &mut Parser) -> PResult<()> {
    if parse_words(p, &["ORDER", "BY"]) {
        p.parse_comma_separated(|p| {
            parse_name(p)?;
            let _ = parse_word(p, "ASC") || parse_word(p, "DESC");
            Ok(())
        })?;
    }
    skip_limit(p)
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parse_statement;

    fn show(sql: &str) -> Show {
        match parse_statement(sql) {
            Ok(Statement::Show(s)) => s,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn browsing_statements() {
        assert_eq!(show("SHOW DATABASES"), Show::Databases { filter: None });
        assert_eq!(
            show("show schemas like 'a%'"),
            Show::Databases {
                filter: Some(ShowFilter::Like("a%".into()))
            }
        );
        assert_eq!(
            show("SHOW FULL TABLES FROM `db` LIKE 'x'"),
            Show::Tables {
                full: true,
                database: Some("db".into()),
                filter: Some(ShowFilter::Like("x".into()))
            }
        );
        assert_eq!(
            show("SHOW FULL COLUMNS FROM `t` FROM `db`"),
            Show::Columns {
                full: true,
                describe: false,
                table: ObjectName {
                    database: Some("db".into()),
                    name: "t".into()
                },
                filter: None
            }
        );
        assert!(matches!(
            show("SHOW VARIABLES WHERE Variable_name = 'x'"),
            Show::Variables {
                filter: Some(ShowFilter::Where(_)),
                ..
            }
        ));
        assert!(matches!(
            show("SHOW GLOBAL VARIABLES LIKE 'local_infile'"),
            Show::Variables { global: true, .. }
        ));
        assert_eq!(
            show("SHOW CREATE TABLE `db`.`t`"),
            Show::CreateTable {
                table: ObjectName {
                    database: Some("db".into()),
                    name: "t".into()
                }
            }
        );
        assert_eq!(
            show("SHOW KEYS FROM t FROM d"),
            Show::Index {
                table: ObjectName {
                    database: Some("d".into()),
                    name: "t".into()
                }
            }
        );
        assert!(matches!(
            show("SHOW TABLE STATUS FROM d LIKE 't'"),
            Show::TableStatus { .. }
        ));
        assert!(matches!(
            show("SHOW PARTITIONS FROM t"),
            Show::Partitions { .. }
        ));
        assert_eq!(
            show("SHOW GRANTS FOR CURRENT_USER()"),
            Show::Grants {
                target: GrantsTarget::CurrentUser
            }
        );
        assert_eq!(
            show("SHOW GRANTS FOR 'u1'@'10.%'"),
            Show::Grants {
                target: GrantsTarget::User(UserIdentity {
                    user: "u1".into(),
                    host: "10.%".into()
                })
            }
        );
        assert_eq!(
            show("SHOW GRANTS FOR ROLE backup_operator"),
            Show::Grants {
                target: GrantsTarget::Role("backup_operator".into())
            }
        );
        assert_eq!(show("SHOW USERS"), Show::Users);
        assert_eq!(show("SHOW ROLES"), Show::Roles);
        assert_eq!(show("SHOW WARNINGS LIMIT 10"), Show::Warnings);
        assert_eq!(show("SHOW COLLATION"), Show::Collation { filter: None });
        assert_eq!(show("SHOW CHARACTER SET"), Show::Charset { filter: None });
        assert_eq!(
            show("SHOW FULL PROCESSLIST"),
            Show::Processlist { full: true }
        );
    }
}

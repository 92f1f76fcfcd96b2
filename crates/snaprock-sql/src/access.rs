//! Account, role and privilege statements in StarRocks' grammar: CREATE/ALTER/DROP USER,
//! SET PASSWORD, CREATE/DROP ROLE, GRANT/REVOKE (privileges and roles), SET ROLE.
//! (SHOW USERS / ROLES / GRANTS are SHOW statements, in `show.rs`.)

use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::access_ast::*;
use crate::ast::Statement;
use crate::words::*;

type PResult<T> = Result<T, sqlparser::parser::ParserError>;

/// Parses the statements of this module when they are next; `None` if the text is not one.
pub(crate) fn parse_access_statement(p: &mut Parser) -> PResult<Option<Statement>> {
    let stmt = if peek_word(p, "CREATE") && peek_nth_word(p, 1, "USER") {
        p.next_token();
        p.next_token();
        let if_not_exists = parse_words(p, &["IF", "NOT", "EXISTS"]);
        let user = parse_user_identity(p)?;
        let password = parse_auth_option(p)?;
        let default_roles = if parse_words(p, &["DEFAULT", "ROLE"]) {
            p.parse_comma_separated(parse_name_or_string)?
        } else {
            Vec::new()
        };
        AccessStatement::CreateUser {
            user,
            if_not_exists,
            password,
            default_roles,
        }
    } else if peek_word(p, "ALTER") && peek_nth_word(p, 1, "USER") {
        p.next_token();
        p.next_token();
        let user = parse_user_identity(p)?;
        let password = parse_auth_option(p)?;
        let default_roles = if parse_words(p, &["DEFAULT", "ROLE"]) {
            Some(parse_role_selection(p)?)
        } else {
            None
        };
        AccessStatement::AlterUser {
            user,
            password,
            default_roles,
        }
    } else if peek_word(p, "DROP") && peek_nth_word(p, 1, "USER") {
        p.next_token();
        p.next_token();
        let if_exists = parse_words(p, &["IF", "EXISTS"]);
        AccessStatement::DropUser {
            user: parse_user_identity(p)?,
            if_exists,
        }
    } else if peek_word(p, "SET") && peek_nth_word(p, 1, "PASSWORD") {
        p.next_token();
        p.next_token();
        let user = if parse_word(p, "FOR") {
            Some(parse_user_identity(p)?)
        } else {
            None
        };
        p.expect_token(&Token::Eq)?;
        let password = if parse_word(p, "PASSWORD") {
            p.expect_token(&Token::LParen)?;
            let pw = parse_string(p)?;
            p.expect_token(&Token::RParen)?;
            Password::Plain(pw)
        } else {
            Password::Hash(parse_string(p)?)
        };
        AccessStatement::SetPassword { user, password }
    } else if peek_word(p, "SET") && peek_nth_word(p, 1, "ROLE") {
        p.next_token();
        p.next_token();
        let selection = if parse_word(p, "DEFAULT") {
            RoleSelection::Default
        } else {
            parse_role_selection(p)?
        };
        AccessStatement::SetRole(selection)
    } else if peek_word(p, "SET") && peek_nth_word(p, 1, "DEFAULT") && peek_nth_word(p, 2, "ROLE") {
        for _ in 0..3 {
            p.next_token();
        }
        let selection = parse_role_selection(p)?;
        expect_word(p, "TO")?;
        AccessStatement::SetDefaultRole {
            selection,
            user: parse_user_identity(p)?,
        }
    } else if peek_word(p, "CREATE") && peek_nth_word(p, 1, "ROLE") {
        p.next_token();
        p.next_token();
        let if_not_exists = parse_words(p, &["IF", "NOT", "EXISTS"]);
        AccessStatement::CreateRole {
            name: parse_name_or_string(p)?,
            if_not_exists,
        }
    } else if peek_word(p, "DROP") && peek_nth_word(p, 1, "ROLE") {
        p.next_token();
        p.next_token();
        let if_exists = parse_words(p, &["IF", "EXISTS"]);
        AccessStatement::DropRole {
            name: parse_name_or_string(p)?,
            if_exists,
        }
    } else if peek_word(p, "EXECUTE") && peek_nth_word(p, 1, "AS") {
        p.next_token();
        p.next_token();
        let user = parse_user_identity(p)?;
        let no_revert = parse_words(p, &["WITH", "NO", "REVERT"]);
        AccessStatement::ExecuteAs { user, no_revert }
    } else if peek_word(p, "GRANT") || peek_word(p, "REVOKE") {
        let grant = parse_word(p, "GRANT");
        if !grant {
            p.next_token();
        }
        parse_grant_or_revoke(p, grant)?
    } else {
        return Ok(None);
    };
    Ok(Some(Statement::Access(Box::new(stmt))))
}

/// `NONE`, `ALL` or a list of role names.
fn parse_role_selection(p: &mut Parser) -> PResult<RoleSelection> {
    Ok(if parse_word(p, "NONE") {
        RoleSelection::None
    } else if parse_word(p, "ALL") {
        RoleSelection::All
    } else {
        RoleSelection::Roles(p.parse_comma_separated(parse_name_or_string)?)
    })
}

/// `'u'`, `'u'@'h'`, `u@'h'`, `` `u`@`h` ``; the tokenizer may glue `@'h'` or `@h` to a word.
pub(crate) fn parse_user_identity(p: &mut Parser) -> PResult<UserIdentity> {
    let user = parse_name_or_string(p)?;
    let (user, mut host) = match user.split_once('@') {
        // `ops@'%'` may tokenize as the word `ops@` followed by the string.
        Some((u, "")) if !u.is_empty() => (u.to_string(), Some(parse_name_or_string(p)?)),
        Some((u, h)) if !u.is_empty() => (u.to_string(), Some(h.trim_matches('\'').to_string())),
        _ => (user, None),
    };
    if host.is_none() {
        let next = p.peek_token().token;
        match next {
            Token::AtSign => {
                p.next_token();
                host = Some(parse_name_or_string(p)?);
            }
            Token::Word(w) if w.value.starts_with('@') => {
                p.next_token();
                host = Some(w.value.trim_start_matches('@').to_string());
            }
            _ => {}
        }
    }
    Ok(UserIdentity {
        user,
        host: host.unwrap_or_else(|| "%".to_string()),
    })
}

/// `IDENTIFIED BY 'pw'`, `IDENTIFIED BY PASSWORD 'hash'`, `IDENTIFIED WITH plugin [BY|AS 'x']`.
fn parse_auth_option(p: &mut Parser) -> PResult<Option<Password>> {
    if !parse_word(p, "IDENTIFIED") {
        return Ok(None);
    }
    if parse_word(p, "WITH") {
        let plugin = parse_name_or_string(p)?;
        if !plugin.eq_ignore_ascii_case("mysql_native_password") {
            return p.expected("mysql_native_password", p.peek_token());
        }
        if parse_word(p, "BY") {
            return Ok(Some(Password::Plain(parse_string(p)?)));
        }
        if parse_word(p, "AS") {
            return Ok(Some(Password::Hash(parse_string(p)?)));
        }
        return Ok(Some(Password::Plain(String::new())));
    }
    expect_word(p, "BY")?;
    if parse_word(p, "PASSWORD") {
        return Ok(Some(Password::Hash(parse_string(p)?)));
    }
    Ok(Some(Password::Plain(parse_string(p)?)))
}

fn parse_privilege(p: &mut Parser) -> PResult<Privilege> {
    let privilege = if parse_word(p, "SELECT") {
        Privilege::Select
    } else if parse_word(p, "INSERT") {
        Privilege::Insert
    } else if parse_word(p, "DELETE") {
        Privilege::Delete
    } else if parse_word(p, "UPDATE") {
        Privilege::Update
    } else if parse_word(p, "DROP") {
        Privilege::Drop
    } else if parse_word(p, "ALTER") {
        Privilege::Alter
    } else if parse_words(p, &["CREATE", "TABLE"]) {
        Privilege::CreateTable
    } else if parse_words(p, &["CREATE", "VIEW"]) {
        Privilege::CreateView
    } else if parse_words(p, &["CREATE", "MATERIALIZED", "VIEW"]) {
        Privilege::CreateMaterializedView
    } else if parse_word(p, "REFRESH") {
        Privilege::Refresh
    } else if parse_words(p, &["CREATE", "STORAGE", "VOLUME"]) {
        Privilege::CreateStorageVolume
    } else if parse_words(p, &["CREATE", "DATABASE"]) {
        Privilege::CreateDatabase
    } else if parse_word(p, "EXPORT") {
        Privilege::Export
    } else if parse_word(p, "REPOSITORY") {
        Privilege::Repository
    } else if parse_word(p, "GRANT") {
        Privilege::Grant
    } else if parse_word(p, "NODE") {
        Privilege::Node
    } else if parse_word(p, "OPERATE") {
        Privilege::Operate
    } else if parse_word(p, "USAGE") {
        Privilege::Usage
    } else if parse_word(p, "FILE") {
        Privilege::File
    } else if parse_word(p, "IMPERSONATE") {
        Privilege::Impersonate
    } else if parse_word(p, "ALL") {
        parse_word(p, "PRIVILEGES");
        Privilege::All
    } else {
        return p.expected("a privilege", p.peek_token());
    };
    Ok(privilege)
}

/// A privilege grant says `ON <object>` before `TO`/`FROM`; a role grant does not.
fn starts_privileges(p: &Parser) -> bool {
    for n in 0..64 {
        match p.peek_nth_token(n).token {
            Token::EOF => return false,
            Token::Word(w) if w.value.eq_ignore_ascii_case("ON") => return true,
            Token::Word(w)
                if w.value.eq_ignore_ascii_case("TO") || w.value.eq_ignore_ascii_case("FROM") =>
            {
                return false;
            }
            _ => {}
        }
    }
    false
}

fn parse_grant_object(p: &mut Parser) -> PResult<GrantObject> {
    if parse_word(p, "SYSTEM") {
        return Ok(GrantObject::System);
    }
    if parse_words(p, &["ALL", "DATABASES"]) {
        return Ok(GrantObject::AllDatabases);
    }
    if parse_words(p, &["ALL", "USERS"]) {
        return Ok(GrantObject::AllUsers);
    }
    if parse_word(p, "USER") {
        return Ok(GrantObject::User(parse_user_identity(p)?));
    }
    if parse_word(p, "CATALOG") {
        return Ok(GrantObject::Catalog(parse_name(p)?));
    }
    if parse_words(p, &["ALL", "TABLES", "IN"])
        || parse_words(p, &["ALL", "VIEWS", "IN"])
        || parse_words(p, &["ALL", "MATERIALIZED", "VIEWS", "IN"])
    {
        if parse_words(p, &["ALL", "DATABASES"]) {
            return Ok(GrantObject::AllTablesInAllDatabases);
        }
        expect_word(p, "DATABASE")?;
        return Ok(GrantObject::AllTablesIn(parse_name(p)?));
    }
    if parse_word(p, "DATABASE") {
        return Ok(GrantObject::Database(parse_name(p)?));
    }
    // `TABLE`, `VIEW`, `MATERIALIZED VIEW`, or no object type at all (MySQL's form, which
    // StarRocks reads as tables): `[db.]t`, `db.*` (its tables), `*.*` (every table).
    let _ = parse_word(p, "TABLE")
        || parse_word(p, "VIEW")
        || parse_words(p, &["MATERIALIZED", "VIEW"]);
    if p.consume_token(&Token::Mul) {
        p.expect_token(&Token::Period)?;
        p.expect_token(&Token::Mul)?;
        return Ok(GrantObject::AllTablesInAllDatabases);
    }
    let first = parse_name(p)?;
    if !p.consume_token(&Token::Period) {
        return Ok(GrantObject::Table {
            database: None,
            table: first,
        });
    }
    if p.consume_token(&Token::Mul) {
        return Ok(GrantObject::AllTablesIn(first));
    }
    Ok(GrantObject::Table {
        database: Some(first),
        table: parse_name(p)?,
    })
}

fn parse_grantee(p: &mut Parser) -> PResult<Grantee> {
    if parse_word(p, "ROLE") {
        return Ok(Grantee::Role(parse_name_or_string(p)?));
    }
    parse_word(p, "USER");
    Ok(Grantee::User(parse_user_identity(p)?))
}

fn parse_grant_or_revoke(p: &mut Parser, grant: bool) -> PResult<AccessStatement> {
    let direction = if grant { "TO" } else { "FROM" };
    if starts_privileges(p) {
        let privileges = p.parse_comma_separated(parse_privilege)?;
        expect_word(p, "ON")?;
        let object = parse_grant_object(p)?;
        expect_word(p, direction)?;
        let grantee = parse_grantee(p)?;
        return Ok(if grant {
            AccessStatement::Grant {
                privileges,
                object,
                grantee,
            }
        } else {
            AccessStatement::Revoke {
                privileges,
                object,
                grantee,
            }
        });
    }
    let roles = p.parse_comma_separated(parse_name_or_string)?;
    expect_word(p, direction)?;
    let grantee = parse_grantee(p)?;
    Ok(if grant {
        AccessStatement::GrantRole { roles, grantee }
    } else {
        AccessStatement::RevokeRole { roles, grantee }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_statement;

    fn access(sql: &str) -> AccessStatement {
        match parse_statement(sql) {
            Ok(Statement::Access(a)) => *a,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn user(name: &str, host: &str) -> UserIdentity {
        UserIdentity {
            user: name.into(),
            host: host.into(),
        }
    }

    #[test]
    fn users_and_passwords() {
        assert_eq!(
            access("CREATE USER IF NOT EXISTS 'ops'@'10.%' IDENTIFIED BY 's3cret' DEFAULT ROLE r1"),
            AccessStatement::CreateUser {
                user: user("ops", "10.%"),
                if_not_exists: true,
                password: Some(Password::Plain("s3cret".into())),
                default_roles: vec!["r1".into()],
            }
        );
        assert_eq!(
            access("create user ops"),
            AccessStatement::CreateUser {
                user: user("ops", "%"),
                if_not_exists: false,
                password: None,
                default_roles: vec![],
            }
        );
        assert_eq!(
            access("ALTER USER ops@'%' IDENTIFIED BY PASSWORD '*ABC' DEFAULT ROLE ALL"),
            AccessStatement::AlterUser {
                user: user("ops", "%"),
                password: Some(Password::Hash("*ABC".into())),
                default_roles: Some(RoleSelection::All),
            }
        );
        assert_eq!(
            access("SET PASSWORD FOR 'ops' = PASSWORD('x')"),
            AccessStatement::SetPassword {
                user: Some(user("ops", "%")),
                password: Password::Plain("x".into()),
            }
        );
        assert_eq!(
            access("DROP USER IF EXISTS 'ops'@'%'"),
            AccessStatement::DropUser {
                user: user("ops", "%"),
                if_exists: true,
            }
        );
        // The password never shows in Debug output (logs).
        assert!(
            !format!("{:?}", access("CREATE USER a IDENTIFIED BY 'hunter2'")).contains("hunter2")
        );
    }

    #[test]
    fn grants_and_roles() {
        assert_eq!(
            access("GRANT IMPERSONATE ON USER 'alice'@'%' TO USER 'bob'"),
            AccessStatement::Grant {
                privileges: vec![Privilege::Impersonate],
                object: GrantObject::User(user("alice", "%")),
                grantee: Grantee::User(user("bob", "%")),
            }
        );
        assert_eq!(
            access("EXECUTE AS alice WITH NO REVERT"),
            AccessStatement::ExecuteAs {
                user: user("alice", "%"),
                no_revert: true,
            }
        );
        assert_eq!(
            access("GRANT SELECT, CREATE TABLE ON DATABASE sales TO ROLE analyst"),
            AccessStatement::Grant {
                privileges: vec![Privilege::Select, Privilege::CreateTable],
                object: GrantObject::Database("sales".into()),
                grantee: Grantee::Role("analyst".into()),
            }
        );
        assert_eq!(
            access("REVOKE EXPORT ON ALL TABLES IN DATABASE sales FROM USER 'u'@'%'"),
            AccessStatement::Revoke {
                privileges: vec![Privilege::Export],
                object: GrantObject::AllTablesIn("sales".into()),
                grantee: Grantee::User(user("u", "%")),
            }
        );
        assert_eq!(
            access("GRANT ALL PRIVILEGES ON TABLE sales.orders TO 'u'"),
            AccessStatement::Grant {
                privileges: vec![Privilege::All],
                object: GrantObject::Table {
                    database: Some("sales".into()),
                    table: "orders".into()
                },
                grantee: Grantee::User(user("u", "%")),
            }
        );
        assert_eq!(
            access("GRANT REPOSITORY ON SYSTEM TO ROLE backup_operator"),
            AccessStatement::Grant {
                privileges: vec![Privilege::Repository],
                object: GrantObject::System,
                grantee: Grantee::Role("backup_operator".into()),
            }
        );
        assert_eq!(
            access("GRANT CREATE DATABASE ON CATALOG default_catalog TO ROLE r"),
            AccessStatement::Grant {
                privileges: vec![Privilege::CreateDatabase],
                object: GrantObject::Catalog("default_catalog".into()),
                grantee: Grantee::Role("r".into()),
            }
        );
        assert_eq!(
            access("GRANT backup_operator, db_admin TO USER 'u'@'%'"),
            AccessStatement::GrantRole {
                roles: vec!["backup_operator".into(), "db_admin".into()],
                grantee: Grantee::User(user("u", "%")),
            }
        );
        assert_eq!(
            access("SET ROLE ALL"),
            AccessStatement::SetRole(RoleSelection::All)
        );
        assert_eq!(
            access("SET DEFAULT ROLE r1, r2 TO 'u'"),
            AccessStatement::SetDefaultRole {
                selection: RoleSelection::Roles(vec!["r1".into(), "r2".into()]),
                user: user("u", "%"),
            }
        );
        assert!(parse_statement("GRANT SELEC ON TABLE t TO u").is_err());
        // MySQL's form without an object type: tables.
        for (sql, object) in [
            (
                "GRANT SELECT ON d.t TO u",
                GrantObject::Table {
                    database: Some("d".into()),
                    table: "t".into(),
                },
            ),
            (
                "GRANT SELECT ON d.* TO u",
                GrantObject::AllTablesIn("d".into()),
            ),
            (
                "GRANT SELECT ON TABLE d.* TO u",
                GrantObject::AllTablesIn("d".into()),
            ),
            (
                "GRANT SELECT ON *.* TO u",
                GrantObject::AllTablesInAllDatabases,
            ),
        ] {
            match access(sql) {
                AccessStatement::Grant { object: got, .. } => assert_eq!(got, object, "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
    }
}

//! Backup and restore statements in StarRocks' grammar: CREATE/DROP/SHOW REPOSITORY, BACKUP,
//! RESTORE, SHOW BACKUP/RESTORE/SNAPSHOT and CANCEL BACKUP/RESTORE.
//!
//! The parser keeps everything the user wrote (aliases in a BACKUP, a database named twice, ...)
//! so the backup crate can answer each misuse with StarRocks' own error text.

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::ast::{ObjectName, Show, Statement};
pub use crate::snapshot_filter::SnapshotFilter;
use crate::snapshot_filter::snapshot_filter;
use crate::words::*;

/// `CREATE [READ ONLY] REPOSITORY name WITH BROKER [broker] ON LOCATION "loc" [PROPERTIES (...)]`.
#[derive(Clone, PartialEq, Eq)]
pub struct CreateRepository {
    pub name: String,
    pub read_only: bool,
    pub broker: Option<String>,
    pub location: String,
    /// Holds secret keys: never printed (the Debug impl hides the values).
    pub properties: Vec<(String, String)>,
}

impl std::fmt::Debug for CreateRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateRepository")
            .field("name", &self.name)
            .field("read_only", &self.read_only)
            .field("broker", &self.broker)
            .field("location", &self.location)
            .field(
                "properties",
                &self.properties.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What kind of object an `ON (...)` element names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A bare name (old syntax): a table or a view.
    Any,
    Table,
    View,
    MaterializedView,
    Function,
}

/// One element of `ON (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupObject {
    pub kind: ObjectKind,
    /// `ALL TABLES`, `ALL VIEWS`, ...: every object of the kind.
    pub all: bool,
    /// The object (empty name when `all`).
    pub name: ObjectName,
    pub partitions: Vec<String>,
    pub temporary_partitions: bool,
    pub alias: Option<String>,
}

/// `BACKUP [DATABASE db] SNAPSHOT [db.]snap TO repo [ON (...)] [PROPERTIES (...)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupStatement {
    /// `DATABASE db` (3.4 syntax).
    pub database: Option<String>,
    /// `db.` before the snapshot name (old syntax).
    pub label_database: Option<String>,
    pub snapshot: String,
    pub repository: String,
    /// `None`: no ON clause (the whole database).
    pub objects: Option<Vec<BackupObject>>,
    pub properties: Vec<(String, String)>,
    /// `ALL EXTERNAL CATALOGS` / `EXTERNAL CATALOG (...)` was given.
    pub external_catalogs: bool,
}

/// `RESTORE SNAPSHOT [db.]snap FROM repo [DATABASE src [AS dst]] [ON (...)] [PROPERTIES (...)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreStatement {
    pub label_database: Option<String>,
    pub snapshot: String,
    pub repository: String,
    pub database: Option<String>,
    pub database_alias: Option<String>,
    pub objects: Option<Vec<BackupObject>>,
    pub properties: Vec<(String, String)>,
    pub external_catalogs: bool,
}

/// `CREATE DATABASE [IF NOT EXISTS] db FROM SNAPSHOT snap ON repo [PROPERTIES (...)]`: the
/// snapshot attached as a read-only database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachSnapshot {
    pub database: String,
    pub if_not_exists: bool,
    pub snapshot: String,
    pub repository: String,
    pub properties: Vec<(String, String)>,
}

/// `DROP SNAPSHOT snap ON repo [FORCE]` (StarRocks 4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropSnapshot {
    pub snapshot: String,
    pub repository: String,
    pub force: bool,
}

/// `ADMIN CHECK SNAPSHOT snap ON repo [PROPERTIES ("backup_timestamp" = ..., "level" = ...)]`:
/// verifies a snapshot in its repository without restoring it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSnapshot {
    pub snapshot: String,
    pub repository: String,
    pub properties: Vec<(String, String)>,
}

/// `<snapshot> ON <repository>`.
fn parse_snapshot_on_repository(p: &mut Parser) -> PResult<(String, String)> {
    let snapshot = parse_name(p)?;
    expect_word(p, "ON")?;
    Ok((snapshot, parse_name(p)?))
}

/// The rest of `CREATE DATABASE [IF NOT EXISTS] db` once `FROM SNAPSHOT` is next.
pub(crate) fn parse_attach_snapshot(
    p: &mut Parser,
    database: String,
    if_not_exists: bool,
) -> PResult<Statement> {
    expect_word(p, "FROM")?;
    expect_word(p, "SNAPSHOT")?;
    let (snapshot, repository) = parse_snapshot_on_repository(p)?;
    let properties = parse_optional_properties(p)?;
    Ok(Statement::AttachSnapshot(Box::new(AttachSnapshot {
        database,
        if_not_exists,
        snapshot,
        repository,
        properties,
    })))
}

/// Parses the statements of this module when they are next; `None` if the text is not one.
pub(crate) fn parse_backup_statement(p: &mut Parser) -> PResult<Option<Statement>> {
    let stmt = if peek_word(p, "CREATE")
        && (peek_nth_word(p, 1, "REPOSITORY")
            || peek_nth_word(p, 1, "READ") && peek_nth_word(p, 3, "REPOSITORY"))
    {
        p.next_token();
        Statement::CreateRepository(Box::new(parse_create_repository(p)?))
    } else if peek_word(p, "DROP") && peek_nth_word(p, 1, "REPOSITORY") {
        p.next_token();
        p.next_token();
        Statement::DropRepository {
            name: parse_name(p)?,
        }
    } else if peek_word(p, "ADMIN")
        && peek_nth_word(p, 1, "CHECK")
        && peek_nth_word(p, 2, "SNAPSHOT")
    {
        for _ in 0..3 {
            p.next_token();
        }
        let (snapshot, repository) = parse_snapshot_on_repository(p)?;
        let properties = parse_optional_properties(p)?;
        Statement::CheckSnapshot(Box::new(CheckSnapshot {
            snapshot,
            repository,
            properties,
        }))
    } else if peek_word(p, "DROP") && peek_nth_word(p, 1, "SNAPSHOT") {
        p.next_token();
        p.next_token();
        let (snapshot, repository) = parse_snapshot_on_repository(p)?;
        Statement::DropSnapshot(Box::new(DropSnapshot {
            snapshot,
            repository,
            force: parse_word(p, "FORCE"),
        }))
    } else if peek_word(p, "SHOW") && peek_nth_word(p, 1, "REPOSITORIES") {
        p.next_token();
        p.next_token();
        Statement::Show(Show::Repositories)
    } else if peek_word(p, "SHOW") && (peek_nth_word(p, 1, "BACKUP")) {
        p.next_token();
        p.next_token();
        Statement::Show(Show::Backup {
            database: parse_from_database(p)?,
        })
    } else if peek_word(p, "SHOW") && peek_nth_word(p, 1, "RESTORE") {
        p.next_token();
        p.next_token();
        let database = parse_from_database(p)?;
        // StarRocks parses and ignores a WHERE here.
        if parse_word(p, "WHERE") {
            p.parse_expr()?;
        }
        Statement::Show(Show::Restore { database })
    } else if peek_word(p, "SHOW") && peek_nth_word(p, 1, "SNAPSHOT") {
        p.next_token();
        p.next_token();
        expect_word(p, "ON")?;
        let repository = parse_name(p)?;
        let filter = if parse_word(p, "WHERE") {
            snapshot_filter(&p.parse_expr()?)
        } else {
            SnapshotFilter::All
        };
        Statement::Show(Show::Snapshot { repository, filter })
    } else if parse_word(p, "BACKUP") {
        Statement::Backup(Box::new(parse_backup(p)?))
    } else if parse_word(p, "RESTORE") {
        Statement::Restore(Box::new(parse_restore(p)?))
    } else if peek_word(p, "CANCEL")
        && (peek_nth_word(p, 1, "BACKUP") || peek_nth_word(p, 1, "RESTORE"))
    {
        p.next_token();
        let restore = parse_word(p, "RESTORE");
        if !restore {
            expect_word(p, "BACKUP")?;
        }
        let database = if parse_word(p, "FROM") || parse_word(p, "IN") {
            parse_name(p)?
        } else if parse_words(p, &["FOR", "EXTERNAL", "CATALOG"]) {
            return Err(ParserError::ParserError(
                "There is no external catalog backup or restore job".into(),
            ));
        } else {
            return Err(ParserError::ParserError(
                "No selected database for cancel BACKUP/RESTORE".into(),
            ));
        };
        Statement::CancelBackup { database, restore }
    } else {
        return Ok(None);
    };
    Ok(Some(stmt))
}

fn parse_from_database(p: &mut Parser) -> PResult<Option<String>> {
    if parse_word(p, "FROM") || parse_word(p, "IN") {
        Ok(Some(parse_name(p)?))
    } else {
        Ok(None)
    }
}

fn parse_create_repository(p: &mut Parser) -> PResult<CreateRepository> {
    let read_only = parse_words(p, &["READ", "ONLY"]);
    expect_word(p, "REPOSITORY")?;
    let name = parse_name(p)?;
    expect_words(p, &["WITH", "BROKER"])?;
    let broker = if peek_word(p, "ON") && peek_nth_word(p, 1, "LOCATION") {
        None
    } else {
        Some(parse_name_or_string(p)?)
    };
    expect_words(p, &["ON", "LOCATION"])?;
    let location = parse_string(p)?;
    let properties = parse_optional_properties(p)?;
    Ok(CreateRepository {
        name,
        read_only,
        broker,
        location,
        properties,
    })
}

/// `[PROPERTIES ("k" = "v", ...)]`; an empty list is a syntax error as in StarRocks.
fn parse_optional_properties(p: &mut Parser) -> PResult<Vec<(String, String)>> {
    if !parse_word(p, "PROPERTIES") {
        return Ok(Vec::new());
    }
    if p.peek_token().token == Token::LParen && p.peek_nth_token(1).token == Token::RParen {
        p.next_token();
        return p.expected("a property", p.peek_token());
    }
    parse_properties_body(p)
}

/// `snap` or `db.snap`; more parts are an error.
fn parse_label(p: &mut Parser) -> PResult<(Option<String>, String)> {
    let first = parse_name(p)?;
    if !p.consume_token(&Token::Period) {
        return Ok((None, first));
    }
    let second = parse_name(p)?;
    if p.peek_token().token == Token::Period {
        return p.expected("TO or FROM after the snapshot name", p.peek_token());
    }
    Ok((Some(first), second))
}

fn parse_external_catalogs(p: &mut Parser) -> PResult<bool> {
    if parse_words(p, &["ALL", "EXTERNAL", "CATALOGS"]) {
        return Ok(true);
    }
    if parse_word(p, "EXTERNAL") {
        if !parse_word(p, "CATALOGS") {
            expect_word(p, "CATALOG")?;
        }
        p.expect_token(&Token::LParen)?;
        p.parse_comma_separated(|p| {
            let name = parse_name(p)?;
            if parse_word(p, "AS") {
                parse_name(p)?;
            }
            Ok(name)
        })?;
        p.expect_token(&Token::RParen)?;
        return Ok(true);
    }
    Ok(false)
}

fn parse_backup(p: &mut Parser) -> PResult<BackupStatement> {
    let external_catalogs = parse_external_catalogs(p)?;
    let database = if parse_word(p, "DATABASE") {
        Some(parse_name(p)?)
    } else {
        None
    };
    expect_word(p, "SNAPSHOT")?;
    let (label_database, snapshot) = parse_label(p)?;
    expect_word(p, "TO")?;
    let repository = parse_name(p)?;
    let objects = parse_on_clause(p)?;
    let properties = parse_optional_properties(p)?;
    Ok(BackupStatement {
        database,
        label_database,
        snapshot,
        repository,
        objects,
        properties,
        external_catalogs,
    })
}

fn parse_restore(p: &mut Parser) -> PResult<RestoreStatement> {
    expect_word(p, "SNAPSHOT")?;
    let (label_database, snapshot) = parse_label(p)?;
    expect_word(p, "FROM")?;
    let repository = parse_name(p)?;
    let external_catalogs = parse_external_catalogs(p)?;
    let (database, database_alias) = if parse_word(p, "DATABASE") {
        let db = parse_name(p)?;
        let alias = if parse_word(p, "AS") {
            Some(parse_name(p)?)
        } else {
            None
        };
        (Some(db), alias)
    } else {
        (None, None)
    };
    let objects = parse_on_clause(p)?;
    let properties = parse_optional_properties(p)?;
    Ok(RestoreStatement {
        label_database,
        snapshot,
        repository,
        database,
        database_alias,
        objects,
        properties,
        external_catalogs,
    })
}

fn parse_on_clause(p: &mut Parser) -> PResult<Option<Vec<BackupObject>>> {
    if !parse_word(p, "ON") {
        return Ok(None);
    }
    p.expect_token(&Token::LParen)?;
    let objects = p.parse_comma_separated(parse_object)?;
    p.expect_token(&Token::RParen)?;
    Ok(Some(objects))
}

fn parse_object(p: &mut Parser) -> PResult<BackupObject> {
    let all = parse_word(p, "ALL");
    let kind = if parse_word(p, "TABLE") || parse_word(p, "TABLES") {
        ObjectKind::Table
    } else if parse_word(p, "MATERIALIZED") {
        if !parse_word(p, "VIEWS") {
            expect_word(p, "VIEW")?;
        }
        ObjectKind::MaterializedView
    } else if parse_word(p, "VIEW") || parse_word(p, "VIEWS") {
        ObjectKind::View
    } else if parse_word(p, "FUNCTION") || parse_word(p, "FUNCTIONS") {
        ObjectKind::Function
    } else if all {
        return p.expected(
            "TABLES, VIEWS, MATERIALIZED VIEWS or FUNCTIONS",
            p.peek_token(),
        );
    } else {
        ObjectKind::Any
    };
    if all {
        return Ok(BackupObject {
            kind,
            all,
            name: ObjectName {
                database: None,
                name: String::new(),
            },
            partitions: Vec::new(),
            temporary_partitions: false,
            alias: None,
        });
    }
    let name = parse_object_name(p)?;
    let temporary_partitions =
        matches!(kind, ObjectKind::Any | ObjectKind::Table) && parse_word(p, "TEMPORARY");
    let partitions = if matches!(kind, ObjectKind::Any | ObjectKind::Table)
        && (parse_word(p, "PARTITION") || parse_word(p, "PARTITIONS"))
    {
        if p.consume_token(&Token::LParen) {
            let names = p.parse_comma_separated(parse_name_or_string)?;
            p.expect_token(&Token::RParen)?;
            names
        } else {
            p.parse_comma_separated(parse_name_or_string)?
        }
    } else if temporary_partitions {
        return p.expected("PARTITION", p.peek_token());
    } else {
        Vec::new()
    };
    let alias = if parse_word(p, "AS") {
        Some(parse_name(p)?)
    } else {
        None
    };
    Ok(BackupObject {
        kind,
        all,
        name,
        partitions,
        temporary_partitions,
        alias,
    })
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parse_statement;

    fn backup(sql: &str) -> BackupStatement {
        match parse_statement(sql) {
            Ok(Statement::Backup(b)) => *b,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn create_repository_forms() {
        let Statement::CreateRepository(r) = parse_statement(
            r#"CREATE READ ONLY REPOSITORY test_repo WITH BROKER ON LOCATION "s3a://b/backup" PROPERTIES ("aws.s3.access_key" = "AK", "aws.s3.secret_key" = "SK")"#,
        )
        .unwrap() else {
            panic!()
        };
        assert!(r.read_only);
        assert_eq!(r.broker, None);
        assert_eq!(r.location, "s3a://b/backup");
        assert_eq!(r.properties.len(), 2);
        assert!(!format!("{r:?}").contains("SK"), "Debug must hide secrets");
        let Statement::CreateRepository(r) = parse_statement(
            "create repository r with broker hdfs_broker on location 'file:///tmp/x'",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.broker.as_deref(), Some("hdfs_broker"));
        assert!(!r.read_only);
        assert!(
            parse_statement("CREATE REPOSITORY r WITH BROKER ON LOCATION 'x' PROPERTIES ()")
                .is_err()
        );
        assert!(parse_statement("CREATE REPOSITORY r ON LOCATION 'x'").is_err());
    }

    #[test]
    fn backup_old_and_new_syntax() {
        let b = backup("BACKUP SNAPSHOT sr_hub.sr_member_backup TO test_repo ON (sr_member)");
        assert_eq!(b.label_database.as_deref(), Some("sr_hub"));
        assert_eq!(b.snapshot, "sr_member_backup");
        let objects = b.objects.unwrap();
        assert_eq!(objects[0].kind, ObjectKind::Any);
        assert_eq!(objects[0].name.name, "sr_member");

        let b = backup(
            "BACKUP DATABASE d SNAPSHOT s TO r ON (TABLE t PARTITION (p1, p2), ALL VIEWS, VIEW v) PROPERTIES (\"type\" = \"full\", \"timeout\" = \"3600\")",
        );
        assert_eq!(b.database.as_deref(), Some("d"));
        let objects = b.objects.unwrap();
        assert_eq!(objects[0].partitions, vec!["p1", "p2"]);
        assert!(objects[1].all && objects[1].kind == ObjectKind::View);
        assert_eq!(objects[2].name.name, "v");
        assert_eq!(b.properties.len(), 2);

        let b = backup("BACKUP SNAPSHOT s TO r ON (t PARTITIONS p1, p2 AS x)");
        assert_eq!(b.objects.as_ref().unwrap()[0].partitions, vec!["p1", "p2"]);
        assert_eq!(b.objects.unwrap()[0].alias.as_deref(), Some("x"));
        assert!(backup("BACKUP ALL EXTERNAL CATALOGS SNAPSHOT s TO r").external_catalogs);
        assert!(parse_statement("BACKUP SNAPSHOT a.b.c TO r").is_err());
    }

    #[test]
    fn restore_forms() {
        let Statement::Restore(r) = parse_statement(
            "RESTORE SNAPSHOT s FROM r DATABASE src AS dst ON (TABLE t PARTITION (p1) AS t2) PROPERTIES (\"backup_timestamp\" = \"2024-01-01-00-00-00-000\")",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.database.as_deref(), Some("src"));
        assert_eq!(r.database_alias.as_deref(), Some("dst"));
        assert_eq!(r.objects.unwrap()[0].alias.as_deref(), Some("t2"));
    }

    #[test]
    fn show_and_cancel() {
        assert_eq!(
            parse_statement("SHOW REPOSITORIES").unwrap(),
            Statement::Show(Show::Repositories)
        );
        assert_eq!(
            parse_statement("show backup from d").unwrap(),
            Statement::Show(Show::Backup {
                database: Some("d".into())
            })
        );
        assert_eq!(
            parse_statement("SHOW RESTORE IN d WHERE a = 1").unwrap(),
            Statement::Show(Show::Restore {
                database: Some("d".into())
            })
        );
        let filter = |sql: &str| match parse_statement(sql).unwrap() {
            Statement::Show(Show::Snapshot { filter, .. }) => filter,
            other => panic!("{other:?}"),
        };
        assert_eq!(filter("SHOW SNAPSHOT ON r"), SnapshotFilter::All);
        assert_eq!(
            filter("SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'a'"),
            SnapshotFilter::Name("a".into())
        );
        assert_eq!(
            filter("SHOW SNAPSHOT ON r WHERE TIMESTAMP = 't' and snapshot = 'a'"),
            SnapshotFilter::NameAndTimestamp {
                name: "a".into(),
                timestamp: "t".into()
            }
        );
        assert_eq!(
            filter("SHOW SNAPSHOT ON r WHERE SNAPSHOT IN ('a', 'b')"),
            SnapshotFilter::In(vec!["a".into(), "b".into()])
        );
        assert!(matches!(
            filter("SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'a' OR SNAPSHOT = 'b'"),
            SnapshotFilter::Invalid(_)
        ));
        assert_eq!(
            parse_statement("CANCEL BACKUP FROM d").unwrap(),
            Statement::CancelBackup {
                database: "d".into(),
                restore: false
            }
        );
        let e = parse_statement("CANCEL RESTORE").unwrap_err();
        assert!(
            e.message
                .contains("No selected database for cancel BACKUP/RESTORE"),
            "{}",
            e.message
        );
    }
}

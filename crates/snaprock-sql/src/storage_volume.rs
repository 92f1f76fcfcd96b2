//! Storage volume statements in StarRocks' grammar: CREATE / ALTER / DROP / DESC STORAGE
//! VOLUME, SHOW STORAGE VOLUMES and `SET sv AS DEFAULT STORAGE VOLUME`.
//!
//! A storage volume names an object store location (and how to reach it) that databases and
//! tables can be placed on.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::ast::{ShowFilter, Statement};
use crate::parser::{parse_if_exists, parse_if_not_exists};
use crate::words::*;

type PResult<T> = Result<T, sqlparser::parser::ParserError>;

/// A storage volume statement as parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageVolumeStatement {
    Create(CreateStorageVolume),
    /// `ALTER STORAGE VOLUME [IF EXISTS] sv { COMMENT = '...' | SET (...) } [, ...]`.
    Alter {
        name: String,
        if_exists: bool,
        comment: Option<String>,
        properties: Vec<(String, String)>,
    },
    Drop {
        name: String,
        if_exists: bool,
    },
    /// `SET sv AS DEFAULT STORAGE VOLUME`.
    SetDefault {
        name: String,
    },
    /// `DESC[RIBE] STORAGE VOLUME sv`.
    Describe {
        name: String,
    },
    /// `SHOW STORAGE VOLUMES [LIKE '...']`.
    Show {
        filter: Option<ShowFilter>,
    },
}

/// `CREATE STORAGE VOLUME [IF NOT EXISTS] sv TYPE = S3 LOCATIONS = ('s3://...')
/// [COMMENT '...'] PROPERTIES (...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateStorageVolume {
    pub name: String,
    pub if_not_exists: bool,
    /// As written (`S3`, `HDFS`, ...); checked by the executor.
    pub kind: String,
    pub locations: Vec<String>,
    pub comment: Option<String>,
    pub properties: Vec<(String, String)>,
}

impl StorageVolumeStatement {
    /// The statement's kind as SHOW PROCESSLIST and the audit log name it.
    pub fn kind(&self) -> &'static str {
        match self {
            StorageVolumeStatement::Create(_) => "CREATE STORAGE VOLUME",
            StorageVolumeStatement::Alter { .. } => "ALTER STORAGE VOLUME",
            StorageVolumeStatement::Drop { .. } => "DROP STORAGE VOLUME",
            StorageVolumeStatement::SetDefault { .. } => "SET DEFAULT STORAGE VOLUME",
            StorageVolumeStatement::Describe { .. } | StorageVolumeStatement::Show { .. } => "SHOW",
        }
    }
}

/// Parses the statements of this module when they are next; `None` if the text is not one.
pub(crate) fn parse_storage_volume_statement(p: &mut Parser) -> PResult<Option<Statement>> {
    let volume_at =
        |p: &Parser, n: usize| peek_nth_word(p, n, "STORAGE") && peek_nth_word(p, n + 1, "VOLUME");
    let stmt = if peek_word(p, "CREATE") && volume_at(p, 1) {
        skip(p, 3);
        StorageVolumeStatement::Create(parse_create(p)?)
    } else if peek_word(p, "ALTER") && volume_at(p, 1) {
        skip(p, 3);
        parse_alter(p)?
    } else if peek_word(p, "DROP") && volume_at(p, 1) {
        skip(p, 3);
        let if_exists = parse_if_exists(p);
        StorageVolumeStatement::Drop {
            name: parse_name(p)?,
            if_exists,
        }
    } else if (peek_word(p, "DESC") || peek_word(p, "DESCRIBE")) && volume_at(p, 1) {
        skip(p, 3);
        StorageVolumeStatement::Describe {
            name: parse_name(p)?,
        }
    } else if peek_word(p, "SHOW") && peek_nth_word(p, 1, "STORAGE") {
        skip(p, 2);
        expect_word(p, "VOLUMES")?;
        let filter = if parse_word(p, "LIKE") {
            Some(ShowFilter::Like(parse_string(p)?))
        } else {
            None
        };
        StorageVolumeStatement::Show { filter }
    } else if peek_word(p, "SET")
        && peek_nth_word(p, 2, "AS")
        && peek_nth_word(p, 3, "DEFAULT")
        && volume_at(p, 4)
    {
        p.next_token();
        let name = parse_name(p)?;
        expect_words(p, &["AS", "DEFAULT", "STORAGE", "VOLUME"])?;
        StorageVolumeStatement::SetDefault { name }
    } else {
        return Ok(None);
    };
    Ok(Some(Statement::StorageVolume(Box::new(stmt))))
}

fn skip(p: &mut Parser, n: usize) {
    for _ in 0..n {
        p.next_token();
    }
}

fn parse_create(p: &mut Parser) -> PResult<CreateStorageVolume> {
    let if_not_exists = parse_if_not_exists(p);
    let name = parse_name(p)?;
    expect_word(p, "TYPE")?;
    p.expect_token(&Token::Eq)?;
    let kind = parse_name(p)?;
    expect_word(p, "LOCATIONS")?;
    p.expect_token(&Token::Eq)?;
    p.expect_token(&Token::LParen)?;
    let locations = p.parse_comma_separated(parse_string)?;
    p.expect_token(&Token::RParen)?;
    let comment = if parse_word(p, "COMMENT") {
        Some(parse_string(p)?)
    } else {
        None
    };
    let properties = if parse_word(p, "PROPERTIES") {
        parse_properties_body(p)?
    } else {
        Vec::new()
    };
    Ok(CreateStorageVolume {
        name,
        if_not_exists,
        kind,
        locations,
        comment,
        properties,
    })
}

fn parse_alter(p: &mut Parser) -> PResult<StorageVolumeStatement> {
    let if_exists = parse_if_exists(p);
    let name = parse_name(p)?;
    let mut comment = None;
    let mut properties = Vec::new();
    loop {
        if parse_word(p, "COMMENT") {
            p.expect_token(&Token::Eq)?;
            comment = Some(parse_string(p)?);
        } else if parse_word(p, "SET") {
            properties.extend(parse_properties_body(p)?);
        } else {
            return p.expected("COMMENT = '...' or SET (...)", p.peek_token());
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    Ok(StorageVolumeStatement::Alter {
        name,
        if_exists,
        comment,
        properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_statement;

    fn volume(sql: &str) -> StorageVolumeStatement {
        match parse_statement(sql) {
            Ok(Statement::StorageVolume(stmt)) => *stmt,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn create_as_the_starrocks_docs_write_it() {
        let stmt = volume(
            r#"CREATE STORAGE VOLUME IF NOT EXISTS my_s3_volume
               TYPE = S3
               LOCATIONS = ("s3://defaultbucket/test/")
               COMMENT 'for sales'
               PROPERTIES ("aws.s3.region" = "us-west-2", "enabled" = "false")"#,
        );
        let StorageVolumeStatement::Create(create) = stmt else {
            panic!()
        };
        assert_eq!(create.name, "my_s3_volume");
        assert!(create.if_not_exists);
        assert_eq!(create.kind, "S3");
        assert_eq!(create.locations, vec!["s3://defaultbucket/test/"]);
        assert_eq!(create.comment.as_deref(), Some("for sales"));
        assert_eq!(create.properties.len(), 2);
    }

    #[test]
    fn the_other_statements() {
        assert_eq!(
            volume("ALTER STORAGE VOLUME sv COMMENT = 'c', SET (\"enabled\" = \"false\")"),
            StorageVolumeStatement::Alter {
                name: "sv".into(),
                if_exists: false,
                comment: Some("c".into()),
                properties: vec![("enabled".into(), "false".into())],
            }
        );
        assert_eq!(
            volume("DROP STORAGE VOLUME IF EXISTS sv"),
            StorageVolumeStatement::Drop {
                name: "sv".into(),
                if_exists: true
            }
        );
        assert_eq!(
            volume("set sv as default storage volume"),
            StorageVolumeStatement::SetDefault { name: "sv".into() }
        );
        assert_eq!(
            volume("DESCRIBE STORAGE VOLUME sv"),
            StorageVolumeStatement::Describe { name: "sv".into() }
        );
        assert_eq!(
            volume("SHOW STORAGE VOLUMES LIKE 's%'"),
            StorageVolumeStatement::Show {
                filter: Some(ShowFilter::Like("s%".into()))
            }
        );
    }

    #[test]
    fn bad_forms_are_syntax_errors() {
        assert!(parse_statement("CREATE STORAGE VOLUME sv LOCATIONS = ('s3://b')").is_err());
        assert!(parse_statement("ALTER STORAGE VOLUME sv").is_err());
        assert!(parse_statement("SHOW STORAGE VOLUME").is_err());
        // A plain SET still parses as one.
        assert!(matches!(
            parse_statement("SET @v = 1"),
            Ok(Statement::Set(_))
        ));
    }
}

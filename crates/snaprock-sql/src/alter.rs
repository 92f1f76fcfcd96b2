//! `ALTER TABLE`: partition clauses (ADD/DROP/TRUNCATE PARTITION[S]) and schema-change clauses
//! (ADD, DROP, MODIFY, RENAME COLUMN, RENAME, COMMENT, SET properties, ADD/DROP INDEX), as
//! StarRocks writes them; CREATE INDEX and DROP INDEX are ALTER TABLEs too.

use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::ast::*;
use crate::create_table;
use crate::parser::{parse_if_exists, parse_if_not_exists};
use crate::words::*;

pub(crate) fn parse_alter(p: &mut Parser) -> PResult<Statement> {
    expect_word(p, "TABLE")?;
    let table = parse_object_name(p)?;
    if peek_word(p, "ADD") && !peek_nth_word(p, 1, "COLUMN") && !peek_nth_word(p, 1, "INDEX") {
        p.next_token();
        parse_word(p, "TEMPORARY");
        if parse_word(p, "PARTITIONS") {
            let partition = create_table::parse_batch_partitions(p)?;
            if parse_words(p, &["DISTRIBUTED", "BY"]) {
                create_table::parse_distribution(p)?;
            }
            return Ok(Statement::AddPartition {
                table,
                partition,
                if_not_exists: false,
            });
        }
        expect_word(p, "PARTITION")?;
        let if_not_exists = parse_if_not_exists(p);
        let partition = create_table::parse_partition_def_after_keyword(p)?;
        // `DISTRIBUTED BY HASH(k) [BUCKETS n]` after a partition: checked, the table's own is used.
        if parse_words(p, &["DISTRIBUTED", "BY"]) {
            create_table::parse_distribution(p)?;
        }
        return Ok(Statement::AddPartition {
            table,
            partition,
            if_not_exists,
        });
    }
    if parse_words(p, &["DROP", "PARTITIONS"]) {
        if parse_word(p, "WHERE") {
            return Ok(Statement::DropPartitionsWhere {
                table,
                condition: Box::new(p.parse_expr()?),
            });
        }
        let if_exists = parse_if_exists(p);
        let partitions = if peek_word(p, "START") {
            vec![create_table::parse_batch_partitions(p)?]
        } else {
            parse_name_list(p)?
                .into_iter()
                .map(|name| PartitionDef {
                    name,
                    values: PartitionValues::In(Vec::new()),
                    properties: Vec::new(),
                })
                .collect()
        };
        let force = parse_word(p, "FORCE");
        return Ok(Statement::DropPartitions {
            table,
            partitions,
            if_exists,
            force,
        });
    }
    if peek_word(p, "DROP") && !peek_nth_word(p, 1, "COLUMN") && !peek_nth_word(p, 1, "INDEX") {
        p.next_token();
        parse_word(p, "TEMPORARY");
        expect_word(p, "PARTITION")?;
        let if_exists = parse_if_exists(p);
        let partition = parse_name(p)?;
        let force = parse_word(p, "FORCE");
        return Ok(Statement::DropPartition {
            table,
            partition,
            if_exists,
            force,
        });
    }
    // `TRUNCATE PARTITION p`, `PARTITION (p1, p2)` or `PARTITIONS p1, p2`: TRUNCATE TABLE
    // t PARTITION (...).
    if parse_word(p, "TRUNCATE") {
        let partitions = if parse_word(p, "PARTITIONS") {
            p.parse_comma_separated(parse_name)?
        } else {
            expect_word(p, "PARTITION")?;
            if p.peek_token().token == Token::LParen {
                parse_name_list(p)?
            } else {
                vec![parse_name(p)?]
            }
        };
        return Ok(Statement::TruncateTable {
            name: table,
            partitions,
        });
    }
    let mut changes = vec![parse_change(p)?];
    while p.consume_token(&Token::Comma) {
        changes.push(parse_change(p)?);
    }
    Ok(Statement::AlterTable { table, changes })
}

/// One schema-change or property clause.
fn parse_change(p: &mut Parser) -> PResult<AlterTableChange> {
    if parse_words(p, &["ADD", "INDEX"]) {
        return Ok(AlterTableChange::AddIndex(parse_index_def(p)?));
    }
    if parse_words(p, &["DROP", "INDEX"]) {
        return Ok(AlterTableChange::DropIndex {
            name: parse_name(p)?,
            if_exists: false,
        });
    }
    if parse_word(p, "ADD") {
        expect_word(p, "COLUMN")?;
        if p.consume_token(&Token::LParen) {
            let mut columns = vec![create_table::parse_column_def(p)?];
            while p.consume_token(&Token::Comma) {
                columns.push(create_table::parse_column_def(p)?);
            }
            p.expect_token(&Token::RParen)?;
            return Ok(AlterTableChange::AddColumns {
                columns,
                position: None,
            });
        }
        let column = create_table::parse_column_def(p)?;
        let position = parse_position(p)?;
        parse_rollup(p, "TO")?;
        return Ok(AlterTableChange::AddColumns {
            columns: vec![column],
            position,
        });
    }
    if parse_words(p, &["DROP", "COLUMN"]) {
        let name = parse_name(p)?;
        parse_rollup(p, "FROM")?;
        return Ok(AlterTableChange::DropColumn(name));
    }
    if parse_words(p, &["MODIFY", "COLUMN"]) {
        let column = Box::new(create_table::parse_column_def(p)?);
        let position = parse_position(p)?;
        parse_rollup(p, "FROM")?;
        return Ok(AlterTableChange::ModifyColumn { column, position });
    }
    if parse_words(p, &["RENAME", "COLUMN"]) {
        let from = parse_name(p)?;
        expect_word(p, "TO")?;
        let to = parse_name(p)?;
        return Ok(AlterTableChange::RenameColumn { from, to });
    }
    if parse_word(p, "RENAME") {
        parse_word(p, "TO");
        return Ok(AlterTableChange::RenameTable(parse_name(p)?));
    }
    if parse_word(p, "COMMENT") || parse_words(p, &["MODIFY", "COMMENT"]) {
        let _ = p.consume_token(&Token::Eq);
        return Ok(AlterTableChange::Comment(parse_string(p)?));
    }
    if parse_word(p, "SET") {
        return Ok(AlterTableChange::SetProperties(parse_properties_body(p)?));
    }
    p.expected(
        "ADD, DROP, MODIFY, RENAME, COMMENT, SET or TRUNCATE after ALTER TABLE",
        p.peek_token(),
    )
}

/// `FIRST` or `AFTER c`, if given.
fn parse_position(p: &mut Parser) -> PResult<Option<ColumnPosition>> {
    if parse_word(p, "FIRST") {
        return Ok(Some(ColumnPosition::First));
    }
    if parse_word(p, "AFTER") {
        return Ok(Some(ColumnPosition::After(parse_name(p)?)));
    }
    Ok(None)
}

/// `TO rollup` / `FROM rollup`: snaprock has no rollups, so naming one is refused.
fn parse_rollup(p: &mut Parser, word: &str) -> PResult<()> {
    if parse_word(p, word) {
        let name = parse_name(p)?;
        return Err(ParserError::ParserError(format!(
            "Index[{name}] does not exist in table: snaprock tables have no rollups"
        )));
    }
    Ok(())
}

/// After the word INDEX: `name (columns) [USING kind] [("key" = "value", ...)] [COMMENT '...']`.
pub(crate) fn parse_index_def(p: &mut Parser) -> PResult<IndexDef> {
    let name = parse_name(p)?;
    let columns = parse_name_list(p)?;
    parse_index_def_tail(p, name, columns)
}

/// `[USING kind] [("key" = "value", ...)] [COMMENT '...']` of index `name` on `columns`.
fn parse_index_def_tail(p: &mut Parser, name: String, columns: Vec<String>) -> PResult<IndexDef> {
    let kind = if parse_word(p, "USING") {
        Some(parse_name(p)?.to_uppercase())
    } else {
        None
    };
    let properties = if p.peek_token().token == Token::LParen {
        parse_properties_body(p)?
    } else {
        Vec::new()
    };
    let comment = if parse_word(p, "COMMENT") {
        Some(parse_string(p)?)
    } else {
        None
    };
    Ok(IndexDef {
        name,
        columns,
        kind,
        properties,
        comment,
    })
}

/// After CREATE: `INDEX name ON [db.]t (columns) [USING kind] [(...)] [COMMENT '...']`, an
/// ALTER TABLE that adds the index.
pub(crate) fn parse_create_index(p: &mut Parser) -> PResult<Statement> {
    let name = parse_name(p)?;
    expect_word(p, "ON")?;
    let table = parse_object_name(p)?;
    let columns = parse_name_list(p)?;
    let index = parse_index_def_tail(p, name, columns)?;
    Ok(Statement::AlterTable {
        table,
        changes: vec![AlterTableChange::AddIndex(index)],
    })
}

/// After DROP: `INDEX [IF EXISTS] name ON [db.]t`.
pub(crate) fn parse_drop_index(p: &mut Parser) -> PResult<Statement> {
    let if_exists = parse_if_exists(p);
    let name = parse_name(p)?;
    expect_word(p, "ON")?;
    let table = parse_object_name(p)?;
    Ok(Statement::AlterTable {
        table,
        changes: vec![AlterTableChange::DropIndex { name, if_exists }],
    })
}

//! CREATE TABLE in StarRocks form: columns, key model, partitions, distribution, properties.
//!
//! ```text
//! CREATE [EXTERNAL] TABLE [IF NOT EXISTS] [db.]t
//!   ( col TYPE [KEY] [agg] [NULL | NOT NULL] [DEFAULT v] [AUTO_INCREMENT] [COMMENT 'c'], ...
//!     [, PRIMARY KEY (a, b)] [, INDEX i (c) USING BITMAP [COMMENT '']] )
//!   [ENGINE = olap] [DUPLICATE|PRIMARY|UNIQUE|AGGREGATE KEY (cols)] [COMMENT 'c']
//!   [PARTITION BY RANGE (cols) (partition, ...) | PARTITION BY LIST (cols) (partition, ...)]
//!   [DISTRIBUTED BY HASH (cols) [BUCKETS n] | DISTRIBUTED BY RANDOM [BUCKETS n]]
//!   [ORDER BY (cols)] [PROPERTIES ("k" = "v", ...)] [AS SELECT ...]
//! CREATE TABLE [IF NOT EXISTS] t LIKE [db.]src
//! ```

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::ast::*;
use crate::words::*;

const AGGREGATIONS: &[&str] = &[
    "SUM",
    "MAX",
    "MIN",
    "REPLACE",
    "REPLACE_IF_NOT_NULL",
    "HLL_UNION",
    "BITMAP_UNION",
    "PERCENTILE_UNION",
];

pub(crate) fn parse_create_table(p: &mut Parser, external: bool) -> PResult<Statement> {
    let if_not_exists = parse_words(p, &["IF", "NOT", "EXISTS"]);
    let name = parse_object_name(p)?;
    if parse_word(p, "LIKE") {
        let like = parse_object_name(p)?;
        return Ok(Statement::CreateTableLike {
            name,
            like,
            if_not_exists,
        });
    }
    let mut table = CreateTable {
        name,
        if_not_exists,
        external,
        columns: Vec::new(),
        engine: None,
        keys: None,
        comment: None,
        partitioning: None,
        distribution: None,
        order_by: Vec::new(),
        properties: Vec::new(),
        as_query: None,
        inline_primary_key: Vec::new(),
        indexes: Vec::new(),
    };
    if p.peek_token().token == Token::LParen {
        parse_column_list(p, &mut table)?;
    }
    loop {
        if parse_word(p, "ENGINE") {
            let _ = p.consume_token(&Token::Eq);
            table.engine = Some(parse_name(p)?);
        } else if let Some(kind) = parse_keys_kind(p) {
            let columns = parse_name_list(p)?;
            table.keys = Some(KeysDef { kind, columns });
        } else if parse_word(p, "COMMENT") {
            let _ = p.consume_token(&Token::Eq);
            table.comment = Some(parse_string(p)?);
        } else if parse_words(p, &["PARTITION", "BY"]) {
            table.partitioning = Some(parse_partition_by(p)?);
        } else if parse_words(p, &["DISTRIBUTED", "BY"]) {
            table.distribution = Some(parse_distribution(p)?);
        } else if parse_words(p, &["ORDER", "BY"]) {
            table.order_by = parse_name_list(p)?;
        } else if parse_word(p, "PROPERTIES") {
            table.properties = parse_properties_body(p)?;
        } else if parse_word(p, "AS") || peek_word(p, "SELECT") || peek_word(p, "WITH") {
            table.as_query = Some(p.parse_query()?);
        } else if parse_words(p, &["DEFAULT", "CHARSET"])
            || parse_words(p, &["DEFAULT", "CHARACTER", "SET"])
            || parse_word(p, "CHARSET")
            || parse_words(p, &["CHARACTER", "SET"])
            || parse_word(p, "COLLATE")
        {
            // MySQL table options: accepted, every string is utf8mb4.
            let _ = p.consume_token(&Token::Eq);
            parse_name(p)?;
        } else {
            break;
        }
    }
    if table.columns.is_empty() && table.as_query.is_none() {
        return p.expected("a column list or AS SELECT", p.peek_token());
    }
    Ok(Statement::CreateTable(Box::new(table)))
}

fn parse_keys_kind(p: &mut Parser) -> Option<KeysKind> {
    let kind = if peek_word(p, "DUPLICATE") {
        KeysKind::Duplicate
    } else if peek_word(p, "PRIMARY") {
        KeysKind::Primary
    } else if peek_word(p, "UNIQUE") {
        KeysKind::Unique
    } else if peek_word(p, "AGGREGATE") {
        KeysKind::Aggregate
    } else {
        return None;
    };
    if !peek_nth_word(p, 1, "KEY") {
        return None;
    }
    p.next_token();
    p.next_token();
    Some(kind)
}

fn parse_column_list(p: &mut Parser, table: &mut CreateTable) -> PResult<()> {
    p.expect_token(&Token::LParen)?;
    loop {
        if parse_words(p, &["PRIMARY", "KEY"]) {
            table.inline_primary_key = parse_name_list(p)?;
        } else if parse_word(p, "INDEX") || parse_word(p, "KEY") {
            table.indexes.push(crate::alter::parse_index_def(p)?);
        } else {
            table.columns.push(parse_column_def(p)?);
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(())
}

pub(crate) fn parse_column_def(p: &mut Parser) -> PResult<ColumnDef> {
    let name = parse_name(p)?;
    let data_type = p.parse_data_type()?;
    let mut column = ColumnDef {
        name,
        data_type,
        nullable: None,
        default: None,
        comment: None,
        aggregation: None,
        auto_increment: false,
        primary_key: false,
        key: false,
    };
    loop {
        if parse_words(p, &["NOT", "NULL"]) {
            column.nullable = Some(false);
        } else if parse_word(p, "NULL") {
            column.nullable = Some(true);
        } else if parse_word(p, "DEFAULT") {
            column.default = Some(p.parse_expr()?);
        } else if parse_word(p, "COMMENT") {
            column.comment = Some(parse_string(p)?);
        } else if parse_word(p, "AUTO_INCREMENT") {
            column.auto_increment = true;
        } else if parse_words(p, &["PRIMARY", "KEY"]) {
            column.primary_key = true;
        } else if parse_word(p, "KEY") {
            // StarRocks `col TYPE KEY`: in CREATE TABLE the key list says the same; in ALTER
            // TABLE ADD COLUMN it makes the new column a key column.
            column.key = true;
        } else if let Some(agg) = AGGREGATIONS.iter().find(|a| peek_word(p, a)) {
            p.next_token();
            column.aggregation = Some(agg.to_string());
        } else if parse_words(p, &["CHARACTER", "SET"]) || parse_word(p, "COLLATE") {
            parse_name(p)?;
        } else {
            break;
        }
    }
    Ok(column)
}

fn parse_partition_by(p: &mut Parser) -> PResult<PartitionBy> {
    let range = if parse_word(p, "RANGE") {
        true
    } else if parse_word(p, "LIST") {
        false
    } else {
        return parse_expression_partitioning(p);
    };
    p.expect_token(&Token::LParen)?;
    let (columns, generated) = partition_keys(p.parse_comma_separated(Parser::parse_expr)?)?;
    p.expect_token(&Token::RParen)?;
    let partitions = parse_partition_list(p, range)?;
    Ok(if range {
        PartitionBy::Range {
            columns,
            partitions,
            time_function: None,
            generated,
        }
    } else {
        PartitionBy::List {
            columns,
            partitions,
            automatic: false,
            generated,
        }
    })
}

/// The partition keys of `exprs`: a column names itself; any other expression becomes a
/// generated key named as StarRocks names them.
fn partition_keys(exprs: Vec<Expr>) -> PResult<(Vec<String>, Vec<GeneratedKey>)> {
    let mut columns = Vec::new();
    let mut generated = Vec::new();
    for expr in exprs {
        match expr {
            Expr::Identifier(i) => columns.push(i.value),
            Expr::CompoundIdentifier(parts) if parts.len() == 1 => {
                columns.push(parts[0].value.clone())
            }
            expr => {
                let name = format!("__generated_partition_column_{}", generated.len());
                columns.push(name.clone());
                generated.push(GeneratedKey { name, expr });
            }
        }
    }
    Ok((columns, generated))
}

/// StarRocks' expression partitioning: `date_trunc('unit', c)` or `time_slice(c, INTERVAL n
/// unit)` alone (range partitions, optionally some made in advance), or `(c1, c2)` /
/// `e1, e2` (a list partition per value tuple, where an expression such as
/// `from_unixtime(ts, '%Y%m%d')` or `date_trunc('month', dt)` among others is a generated key).
pub(crate) fn parse_expression_partitioning(p: &mut Parser) -> PResult<PartitionBy> {
    if p.peek_token().token == Token::LParen {
        return Ok(PartitionBy::List {
            columns: parse_name_list(p)?,
            partitions: Vec::new(),
            automatic: true,
            generated: Vec::new(),
        });
    }
    let exprs = p.parse_comma_separated(Parser::parse_expr)?;
    if let [expr] = exprs.as_slice()
        && is_time_function(expr)
    {
        let (time_function, column) = time_function(expr)?;
        let partitions = if p.peek_token().token == Token::LParen {
            parse_partition_list(p, true)?
        } else {
            Vec::new()
        };
        return Ok(PartitionBy::Range {
            columns: vec![column],
            partitions,
            time_function: Some(time_function),
            generated: Vec::new(),
        });
    }
    let (columns, generated) = partition_keys(exprs)?;
    Ok(PartitionBy::List {
        columns,
        partitions: Vec::new(),
        automatic: true,
        generated,
    })
}

/// `date_trunc(...)` or `time_slice(...)`.
fn is_time_function(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f)
        if ["date_trunc", "time_slice"].contains(&f.name.to_string().to_lowercase().as_str()))
}

/// The time function of `PARTITION BY date_trunc(...)` / `time_slice(...)` and its column,
/// with StarRocks' refusal of anything else.
fn time_function(expr: &Expr) -> PResult<(TimeFunction, String)> {
    let unsupported = |explain: &str| {
        ParserError::ParserError(format!(
            "Unsupported expr '{expr}' in PARTITION BY clause{explain}"
        ))
    };
    let Expr::Function(function) = expr else {
        return Err(unsupported(""));
    };
    let name = function.name.to_string().to_lowercase();
    let FunctionArguments::List(list) = &function.args else {
        return Err(unsupported(""));
    };
    let args: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let column = |e: &Expr| match e {
        Expr::Identifier(i) => Ok(i.value.clone()),
        _ => Err(unsupported("")),
    };
    match (name.as_str(), args.as_slice()) {
        ("date_trunc", [unit, c]) => {
            let unit = literal_text(unit)
                .map(|u| u.to_lowercase())
                .filter(|u| ["minute", "hour", "day", "month", "year"].contains(&u.as_str()))
                .ok_or_else(|| unsupported(""))?;
            let function = TimeFunction {
                function: name,
                unit,
                step: 1,
            };
            Ok((function, column(c)?))
        }
        ("time_slice", [c, Expr::Interval(interval), rest @ ..]) if rest.len() <= 1 => {
            if let Some(boundary) = rest.first()
                && !literal_text(boundary).is_some_and(|b| b.eq_ignore_ascii_case("floor"))
            {
                return Err(unsupported(
                    ". Automatic partitioning does not support the ceil parameter",
                ));
            }
            let unit = interval
                .leading_field
                .as_ref()
                .map(|f| f.to_string().to_lowercase())
                .filter(|u| ["minute", "hour", "day", "month", "year"].contains(&u.as_str()))
                .ok_or_else(|| unsupported(""))?;
            let step = literal_text(&interval.value)
                .and_then(|v| v.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| unsupported(""))?;
            let function = TimeFunction {
                function: name,
                unit,
                step,
            };
            Ok((function, column(c)?))
        }
        _ => Err(unsupported("")),
    }
}

/// `(PARTITION p VALUES ..., START .. END .. EVERY .., ...)`.
fn parse_partition_list(p: &mut Parser, range: bool) -> PResult<Vec<PartitionDef>> {
    p.expect_token(&Token::LParen)?;
    let mut partitions = Vec::new();
    if p.peek_token().token != Token::RParen {
        loop {
            if range && peek_word(p, "START") {
                partitions.push(parse_batch_partitions(p)?);
                if !p.consume_token(&Token::Comma) {
                    break;
                }
                continue;
            }
            expect_word(p, "PARTITION")?;
            partitions.push(parse_partition_def_after_keyword(p)?);
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(partitions)
}

/// `START ("v") END ("v") EVERY (INTERVAL n unit)` or `EVERY (n)`: a batch of range
/// partitions, expanded once the partition column's type is known.
pub(crate) fn parse_batch_partitions(p: &mut Parser) -> PResult<PartitionDef> {
    let bound = |p: &mut Parser, word: &str| -> PResult<String> {
        expect_word(p, word)?;
        p.expect_token(&Token::LParen)?;
        let value = match parse_partition_value(p)? {
            PartitionValue::Literal(text) => text,
            PartitionValue::MaxValue => return p.expected("a value", p.peek_token()),
        };
        p.expect_token(&Token::RParen)?;
        Ok(value)
    };
    let start = bound(p, "START")?;
    let end = bound(p, "END")?;
    expect_word(p, "EVERY")?;
    p.expect_token(&Token::LParen)?;
    let interval = parse_word(p, "INTERVAL");
    let every = p.parse_literal_uint()?;
    let unit = if interval {
        Some(parse_name(p)?.to_ascii_uppercase())
    } else {
        None
    };
    p.expect_token(&Token::RParen)?;
    Ok(PartitionDef {
        name: String::new(),
        values: PartitionValues::Batch(BatchRange {
            start,
            end,
            every,
            unit,
        }),
        properties: Vec::new(),
    })
}

/// `name VALUES LESS THAN (...) | VALUES [(...), (...)) | VALUES IN (...)` after PARTITION.
pub(crate) fn parse_partition_def_after_keyword(p: &mut Parser) -> PResult<PartitionDef> {
    let name = parse_name(p)?;
    expect_word(p, "VALUES")?;
    let values = if parse_words(p, &["LESS", "THAN"]) {
        if parse_word(p, "MAXVALUE") {
            PartitionValues::LessThan(vec![PartitionValue::MaxValue])
        } else {
            PartitionValues::LessThan(parse_value_tuple(p)?)
        }
    } else if p.consume_token(&Token::LBracket) {
        let lower = parse_value_tuple(p)?;
        p.expect_token(&Token::Comma)?;
        let upper = parse_value_tuple(p)?;
        p.expect_token(&Token::RParen)?;
        PartitionValues::Fixed { lower, upper }
    } else if parse_word(p, "IN") {
        p.expect_token(&Token::LParen)?;
        let tuples = p.parse_comma_separated(|p| {
            if p.peek_token().token == Token::LParen {
                parse_value_tuple(p)
            } else {
                Ok(vec![parse_partition_value(p)?])
            }
        })?;
        p.expect_token(&Token::RParen)?;
        PartitionValues::In(tuples)
    } else {
        return p.expected("LESS THAN, [ or IN after VALUES", p.peek_token());
    };
    let properties = if p.peek_token().token == Token::LParen {
        // `PARTITION p VALUES ... ("replication_num" = "1")`: per-partition properties.
        parse_properties_body(p)?
    } else {
        Vec::new()
    };
    Ok(PartitionDef {
        name,
        values,
        properties,
    })
}

fn parse_value_tuple(p: &mut Parser) -> PResult<Vec<PartitionValue>> {
    p.expect_token(&Token::LParen)?;
    let values = p.parse_comma_separated(parse_partition_value)?;
    p.expect_token(&Token::RParen)?;
    Ok(values)
}

pub(crate) fn parse_distribution(p: &mut Parser) -> PResult<Distribution> {
    let dist = if parse_word(p, "HASH") {
        let columns = parse_name_list(p)?;
        let buckets = parse_buckets(p)?;
        Distribution::Hash { columns, buckets }
    } else if parse_word(p, "RANDOM") {
        Distribution::Random {
            buckets: parse_buckets(p)?,
        }
    } else {
        return p.expected("HASH or RANDOM", p.peek_token());
    };
    Ok(dist)
}

fn parse_buckets(p: &mut Parser) -> PResult<Option<u64>> {
    if parse_word(p, "BUCKETS") {
        if parse_word(p, "AUTO") {
            return Ok(None);
        }
        Ok(Some(p.parse_literal_uint()?))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parse_statement;

    fn create(sql: &str) -> CreateTable {
        match parse_statement(sql) {
            Ok(Statement::CreateTable(t)) => *t,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn starrocks_table_with_range_partitions() {
        let t = create(
            "CREATE TABLE IF NOT EXISTS db1.sales (
                dt DATE NOT NULL COMMENT 'day',
                city VARCHAR(20) DEFAULT 'x',
                amount DECIMAL(10, 2)
             ) ENGINE=OLAP DUPLICATE KEY(dt, city) COMMENT 'sales'
             PARTITION BY RANGE(dt) (
                PARTITION p2024 VALUES LESS THAN ('2025-01-01'),
                PARTITION p2025 VALUES [('2025-01-01'), ('2026-01-01')),
                PARTITION pmax VALUES LESS THAN (MAXVALUE)
             )
             DISTRIBUTED BY HASH(city) BUCKETS 8
             PROPERTIES ('replication_num' = '1')",
        );
        assert_eq!(t.name.database.as_deref(), Some("db1"));
        assert_eq!(t.columns.len(), 3);
        assert_eq!(t.columns[0].nullable, Some(false));
        assert_eq!(t.columns[0].comment.as_deref(), Some("day"));
        assert_eq!(t.keys.as_ref().unwrap().kind, KeysKind::Duplicate);
        assert_eq!(t.comment.as_deref(), Some("sales"));
        let Some(PartitionBy::Range {
            columns,
            partitions,
            ..
        }) = &t.partitioning
        else {
            panic!("no range")
        };
        assert_eq!(columns, &["dt"]);
        assert_eq!(partitions.len(), 3);
        assert_eq!(
            partitions[1].values,
            PartitionValues::Fixed {
                lower: vec![PartitionValue::Literal("2025-01-01".into())],
                upper: vec![PartitionValue::Literal("2026-01-01".into())]
            }
        );
        assert_eq!(
            partitions[2].values,
            PartitionValues::LessThan(vec![PartitionValue::MaxValue])
        );
        assert_eq!(
            t.distribution,
            Some(Distribution::Hash {
                columns: vec!["city".into()],
                buckets: Some(8)
            })
        );
        assert_eq!(t.properties, vec![("replication_num".into(), "1".into())]);
    }

    #[test]
    fn list_partitions_and_aggregate_columns() {
        let t = create(
            "CREATE TABLE t (k INT, city STRING, pv BIGINT SUM DEFAULT '0')
             AGGREGATE KEY(k, city)
             PARTITION BY LIST (city) (PARTITION pa VALUES IN ('a', 'b'), PARTITION pc VALUES IN ('c'))
             DISTRIBUTED BY RANDOM",
        );
        assert_eq!(t.columns[2].aggregation.as_deref(), Some("SUM"));
        let Some(PartitionBy::List { partitions, .. }) = &t.partitioning else {
            panic!()
        };
        assert_eq!(
            partitions[0].values,
            PartitionValues::In(vec![
                vec![PartitionValue::Literal("a".into())],
                vec![PartitionValue::Literal("b".into())]
            ])
        );
    }

    #[test]
    fn plain_mysql_table() {
        let t = create(
            "CREATE TABLE `users` (`id` bigint NOT NULL AUTO_INCREMENT, `name` varchar(64), \
             PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        );
        assert_eq!(t.inline_primary_key, vec!["id"]);
        assert!(t.columns[0].auto_increment);
    }

    #[test]
    fn like_and_as_select() {
        assert!(matches!(
            parse_statement("CREATE TABLE t2 LIKE db.t1"),
            Ok(Statement::CreateTableLike { .. })
        ));
        let t = create("CREATE TABLE t3 PROPERTIES ('a'='b') AS SELECT * FROM t1");
        assert!(t.as_query.is_some());
    }
}

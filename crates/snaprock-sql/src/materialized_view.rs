//! Materialized views in StarRocks' grammar: CREATE, DROP, ALTER, REFRESH and CANCEL REFRESH
//! MATERIALIZED VIEW (SHOW MATERIALIZED VIEWS is in `show.rs`).
//!
//! A view's query is kept as the text the user wrote after `AS` (what SHOW CREATE shows and
//! every refresh plans again) and parsed here once, so a view that could never refresh is
//! refused when it is created.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::ast::{
    AlterMaterializedView, CreateMaterializedView, MaterializedViewStatement, RefreshKind,
    RefreshScheme, Statement,
};
use crate::words::*;

fn statement(mv: MaterializedViewStatement) -> Statement {
    Statement::MaterializedView(Box::new(mv))
}

/// After `CREATE MATERIALIZED VIEW`.
pub(crate) fn parse_create(p: &mut Parser, sql: &str) -> PResult<Statement> {
    let if_not_exists = parse_words(p, &["IF", "NOT", "EXISTS"]);
    let name = parse_object_name(p)?;
    let columns = crate::parser::parse_view_column_names(p)?;
    let mut comment = None;
    let mut partition_by = None;
    let mut distribution = None;
    let mut order_by = Vec::new();
    let mut refresh = None;
    let mut properties = Vec::new();
    loop {
        if parse_word(p, "COMMENT") {
            comment = Some(parse_string(p)?);
        } else if parse_words(p, &["PARTITION", "BY"]) {
            partition_by = Some(crate::create_table::parse_expression_partitioning(p)?);
        } else if parse_words(p, &["DISTRIBUTED", "BY"]) {
            distribution = Some(crate::create_table::parse_distribution(p)?);
        } else if parse_words(p, &["ORDER", "BY"]) {
            order_by = parse_name_list(p)?;
        } else if parse_word(p, "REFRESH") {
            refresh = Some(parse_refresh_scheme(p)?);
        } else if parse_word(p, "PROPERTIES") {
            properties = parse_properties_body(p)?;
        } else {
            break;
        }
    }
    expect_word(p, "AS")?;
    let start = byte_offset(sql, p.peek_token().span.start);
    let query = p.parse_query()?;
    let query_sql = sql[start..].trim().trim_end_matches(';').trim().to_string();
    let create = CreateMaterializedView {
        name,
        if_not_exists,
        columns,
        comment,
        partition_by,
        distribution,
        order_by,
        refresh,
        properties,
        query_sql,
        query,
    };
    Ok(statement(MaterializedViewStatement::Create(Box::new(
        create,
    ))))
}

/// After REFRESH: `[IMMEDIATE | DEFERRED] {ASYNC [START ('..')] [EVERY (INTERVAL n unit)] |
/// MANUAL | INCREMENTAL}`.
fn parse_refresh_scheme(p: &mut Parser) -> PResult<RefreshScheme> {
    let deferred = if parse_word(p, "DEFERRED") {
        true
    } else {
        parse_word(p, "IMMEDIATE");
        false
    };
    let kind = if parse_word(p, "ASYNC") {
        if peek_word(p, "START") || peek_word(p, "EVERY") {
            RefreshKind::Async(Some(crate::task::parse_schedule(p)?))
        } else {
            RefreshKind::Async(None)
        }
    } else if parse_word(p, "MANUAL") {
        RefreshKind::Manual
    } else if parse_word(p, "INCREMENTAL") {
        RefreshKind::Incremental
    } else {
        return p.expected("ASYNC, MANUAL or INCREMENTAL after REFRESH", p.peek_token());
    };
    Ok(RefreshScheme { deferred, kind })
}

/// After `DROP MATERIALIZED VIEW`.
pub(crate) fn parse_drop(p: &mut Parser) -> PResult<Statement> {
    let if_exists = parse_words(p, &["IF", "EXISTS"]);
    let name = parse_object_name(p)?;
    Ok(statement(MaterializedViewStatement::Drop {
        name,
        if_exists,
    }))
}

/// After `ALTER MATERIALIZED VIEW`.
pub(crate) fn parse_alter(p: &mut Parser) -> PResult<Statement> {
    let name = parse_object_name(p)?;
    let change = if parse_word(p, "RENAME") {
        AlterMaterializedView::Rename(parse_name(p)?)
    } else if parse_word(p, "REFRESH") {
        AlterMaterializedView::Refresh(parse_refresh_scheme(p)?)
    } else if parse_word(p, "ACTIVE") {
        AlterMaterializedView::Active
    } else if parse_word(p, "INACTIVE") {
        AlterMaterializedView::Inactive
    } else if parse_word(p, "SET") {
        AlterMaterializedView::SetProperties(parse_properties_body(p)?)
    } else {
        return p.expected(
            "RENAME, REFRESH, ACTIVE, INACTIVE or SET after ALTER MATERIALIZED VIEW",
            p.peek_token(),
        );
    };
    Ok(statement(MaterializedViewStatement::Alter { name, change }))
}

/// After `REFRESH MATERIALIZED VIEW`: `[db.]mv [PARTITION START ('..') END ('..')] [FORCE]
/// [WITH {SYNC | ASYNC} MODE]`. A partition range is accepted; the whole view is refreshed,
/// which covers it.
pub(crate) fn parse_refresh(p: &mut Parser) -> PResult<Statement> {
    let name = parse_object_name(p)?;
    if parse_word(p, "PARTITION") {
        for bound in ["START", "END"] {
            expect_word(p, bound)?;
            p.expect_token(&Token::LParen)?;
            parse_string(p)?;
            p.expect_token(&Token::RParen)?;
        }
    }
    let force = parse_word(p, "FORCE");
    let mut sync = false;
    if parse_word(p, "WITH") {
        if parse_word(p, "SYNC") {
            sync = true;
        } else {
            expect_word(p, "ASYNC")?;
        }
        expect_word(p, "MODE")?;
    }
    Ok(statement(MaterializedViewStatement::Refresh {
        name,
        force,
        sync,
    }))
}

/// After `CANCEL REFRESH MATERIALIZED VIEW`.
pub(crate) fn parse_cancel_refresh(p: &mut Parser) -> PResult<Statement> {
    let name = parse_object_name(p)?;
    parse_word(p, "FORCE");
    Ok(statement(MaterializedViewStatement::CancelRefresh { name }))
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parse_statement;

    fn mv(sql: &str) -> MaterializedViewStatement {
        match parse_statement(sql).unwrap() {
            Statement::MaterializedView(m) => *m,
            other => panic!("{other:?}"),
        }
    }

    fn create(sql: &str) -> CreateMaterializedView {
        match mv(sql) {
            MaterializedViewStatement::Create(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn async_view_with_every_clause_of_the_starrocks_docs() {
        let c = create(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS d.order_mv COMMENT 'orders' \
             DISTRIBUTED BY HASH(`order_id`) BUCKETS 12 \
             REFRESH ASYNC START('2026-01-01 00:00:00') EVERY (INTERVAL 1 DAY) \
             PROPERTIES (\"replication_num\" = \"1\") \
             AS SELECT order_id, sum(price) AS total FROM d.orders GROUP BY order_id;",
        );
        assert!(c.if_not_exists && !c.is_synchronous());
        assert_eq!(c.name.database.as_deref(), Some("d"));
        assert_eq!(c.comment.as_deref(), Some("orders"));
        let RefreshKind::Async(Some(schedule)) = c.refresh.as_ref().unwrap().kind.clone() else {
            panic!("{:?}", c.refresh);
        };
        assert_eq!((schedule.amount, schedule.unit), (1, IntervalUnit::Day));
        assert_eq!(
            c.query_sql,
            "SELECT order_id, sum(price) AS total FROM d.orders GROUP BY order_id"
        );
        assert_eq!(c.properties.len(), 1);
    }

    #[test]
    fn synchronous_view_and_other_refresh_schemes() {
        let c = create("CREATE MATERIALIZED VIEW mv AS SELECT k, sum(v) FROM t GROUP BY k");
        assert!(c.is_synchronous());
        let c = create(
            "create materialized view mv (a, b comment 'x') partition by date_trunc('day', dt) \
             refresh deferred manual as select dt as a, count(*) as b from t group by dt",
        );
        assert_eq!(c.columns, ["a", "b"]);
        assert!(c.partition_by.is_some());
        assert_eq!(
            c.refresh,
            Some(RefreshScheme {
                deferred: true,
                kind: RefreshKind::Manual
            })
        );
        let c = create("CREATE MATERIALIZED VIEW mv REFRESH ASYNC AS SELECT 1");
        assert_eq!(c.refresh.unwrap().kind, RefreshKind::Async(None));
    }

    #[test]
    fn refresh_alter_drop_cancel() {
        assert_eq!(
            mv(
                "REFRESH MATERIALIZED VIEW d.mv PARTITION START ('2024-01-01') END ('2024-02-01') \
                FORCE WITH SYNC MODE"
            ),
            MaterializedViewStatement::Refresh {
                name: ObjectName {
                    database: Some("d".into()),
                    name: "mv".into()
                },
                force: true,
                sync: true
            }
        );
        assert!(matches!(
            mv("ALTER MATERIALIZED VIEW mv REFRESH ASYNC EVERY(INTERVAL 30 MINUTE)"),
            MaterializedViewStatement::Alter {
                change: AlterMaterializedView::Refresh(_),
                ..
            }
        ));
        assert!(matches!(
            mv("ALTER MATERIALIZED VIEW mv RENAME mv2"),
            MaterializedViewStatement::Alter {
                change: AlterMaterializedView::Rename(n),
                ..
            } if n == "mv2"
        ));
        assert!(matches!(
            mv("DROP MATERIALIZED VIEW IF EXISTS mv"),
            MaterializedViewStatement::Drop {
                if_exists: true,
                ..
            }
        ));
        assert!(matches!(
            mv("CANCEL REFRESH MATERIALIZED VIEW mv FORCE"),
            MaterializedViewStatement::CancelRefresh { .. }
        ));
        for bad in [
            "CREATE MATERIALIZED VIEW mv REFRESH ASYNC EVERY(INTERVAL 1 MONTH) AS SELECT 1",
            "CREATE MATERIALIZED VIEW mv REFRESH SOMETIMES AS SELECT 1",
            "ALTER MATERIALIZED VIEW mv EXPLODE",
        ] {
            assert!(parse_statement(bad).is_err(), "{bad}");
        }
    }
}

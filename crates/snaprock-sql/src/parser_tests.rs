//! Tests of the statement parser (`parser.rs`).
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
    let e = parse_statement("CREATE TABLE t (a INT) DISTRIBUTED BY HASH(a) BUCKETS x").unwrap_err();
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

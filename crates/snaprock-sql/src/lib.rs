//! The StarRocks SQL dialect: splits a query string into statements and parses each one.
//!
//! Standard statements (SELECT, INSERT, DELETE, UPDATE, EXPLAIN) are parsed by `sqlparser` (the
//! copy DataFusion uses, so the AST can be handed to DataFusion's planner). StarRocks statements
//! and the MySQL session statements clients send (CREATE TABLE with keys, partitions and
//! buckets; SHOW ...; SET ...; USE; ...) are parsed here with sqlparser's tokenizer and `Parser`
//! helpers, so error positions are reported the same way for both.

mod access;
mod access_ast;
mod alter;
mod alter_ast;
mod analyze;
pub mod ast;
mod backup;
mod create_table;
mod dialect;
mod error;
mod label;
mod materialized_view;
mod mv_ast;
mod parser;
mod set;
mod set_ast;
mod show;
mod show_ast;
mod snapshot_filter;
mod split;
mod storage_volume;
mod task;
mod task_ast;
mod words;

pub use dialect::StarRocksDialect;
pub use error::ParseError;
pub use parser::parse_statement;
pub use split::split_statements;
pub use sqlparser;
pub use words::{literal_text, name_parts};

/// The statement text as it may be shown (SHOW PROCESSLIST) or logged: the PROPERTIES of
/// CREATE REPOSITORY and CREATE STORAGE VOLUME (S3 keys), the SET of ALTER STORAGE VOLUME and
/// the password of IDENTIFIED BY are replaced.
pub fn redact_secrets(sql: &str) -> std::borrow::Cow<'_, str> {
    let upper = sql.to_ascii_uppercase();
    let volume = upper.contains("STORAGE") && upper.contains("VOLUME");
    if (upper.contains("REPOSITORY") || volume)
        && let Some(i) = upper.find("PROPERTIES")
    {
        return format!("{} PROPERTIES (<hidden>)", sql[..i].trim_end()).into();
    }
    if volume
        && upper.trim_start().starts_with("ALTER")
        && let Some(i) = upper.find("SET")
    {
        return format!("{} SET (<hidden>)", sql[..i].trim_end()).into();
    }
    if let Some(i) = upper.find("IDENTIFIED") {
        return format!("{} IDENTIFIED BY <hidden>", sql[..i].trim_end()).into();
    }
    if upper.trim_start().starts_with("SET")
        && let Some(i) = upper.find("PASSWORD")
    {
        return format!("{} PASSWORD <hidden>", sql[..i].trim_end()).into();
    }
    sql.into()
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    #[test]
    fn keys_are_hidden() {
        for sql in [
            "CREATE REPOSITORY r WITH BROKER ON LOCATION 's3a://b' PROPERTIES ('aws.s3.secret_key' = 'SK')",
            "CREATE STORAGE VOLUME sv TYPE = S3 LOCATIONS = ('s3://b') PROPERTIES ('aws.s3.secret_key' = 'SK')",
            "alter storage volume sv set ('aws.s3.secret_key' = 'SK')",
            "CREATE USER u IDENTIFIED BY 'SK'",
        ] {
            let shown = redact_secrets(sql);
            assert!(!shown.contains("SK"), "{shown}");
            assert!(shown.contains("<hidden>"), "{shown}");
        }
        assert_eq!(redact_secrets("SELECT 1"), "SELECT 1");
    }
}

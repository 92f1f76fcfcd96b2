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
pub mod ast;
mod backup;
mod create_table;
mod dialect;
mod error;
mod materialized_view;
mod mv_ast;
mod parser;
mod set;
mod show;
mod snapshot_filter;
mod split;
mod task;
mod task_ast;
mod words;

pub use dialect::StarRocksDialect;
pub use error::ParseError;
pub use parser::parse_statement;
pub use split::split_statements;
pub use sqlparser;
pub use words::literal_text;

/// The statement text as it may be shown (SHOW PROCESSLIST) or logged: the PROPERTIES of
/// CREATE REPOSITORY (S3 keys) and the password of IDENTIFIED BY are replaced.
pub fn redact_secrets(sql: &str) -> std::borrow::Cow<'_, str> {
    let upper = sql.to_ascii_uppercase();
    if upper.contains("REPOSITORY")
        && let Some(i) = upper.find("PROPERTIES")
    {
        return format!("{} PROPERTIES (<hidden>)", sql[..i].trim_end()).into();
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

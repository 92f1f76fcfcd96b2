//! What the server reports about itself: its character sets, collations, engine and process
//! list. SHOW and information_schema list the same facts from here, so they cannot disagree.

use snaprock_access::{Effective, Target};
use snaprock_sql::ast::Privilege;

use crate::engine::Engine;
use crate::result::Cell;

/// The one backend a snaprock server is (SHOW TABLET's BackendId, information_schema's be_*).
pub(crate) const BACKEND_ID: u64 = 10001;

/// (name, default collation, description, maxlen)
pub(crate) const CHARSETS: &[(&str, &str, &str, i64)] = &[
    ("binary", "binary", "Binary pseudo charset", 1),
    ("utf8mb3", "utf8mb3_general_ci", "UTF-8 Unicode", 3),
    ("utf8mb4", "utf8mb4_general_ci", "UTF-8 Unicode", 4),
];

/// (name, charset, id, is default)
pub(crate) const COLLATIONS: &[(&str, &str, i64, bool)] = &[
    ("binary", "binary", 63, true),
    ("utf8mb3_general_ci", "utf8mb3", 33, true),
    ("utf8mb4_0900_ai_ci", "utf8mb4", 255, false),
    ("utf8mb4_bin", "utf8mb4", 46, false),
    ("utf8mb4_general_ci", "utf8mb4", 45, true),
    ("utf8mb4_unicode_ci", "utf8mb4", 224, false),
];

/// The one engine, as SHOW ENGINES and information_schema.ENGINES list it.
pub(crate) fn engine_row() -> Vec<Cell> {
    vec![
        t("StarRocks"),
        t("DEFAULT"),
        t("StarRocks-compatible columnar storage (Parquet)"),
        t("NO"),
        t("NO"),
        t("NO"),
    ]
}

/// SHOW COLLATION / information_schema.COLLATIONS rows (same columns in the same order).
pub(crate) fn collation_rows() -> Vec<Vec<Cell>> {
    COLLATIONS
        .iter()
        .map(|(name, charset, id, default)| {
            vec![
                t(name),
                t(charset),
                Cell::Int(Some(*id)),
                t(if *default { "Yes" } else { "" }),
                t("Yes"),
                Cell::Int(Some(1)),
                t("PAD SPACE"),
            ]
        })
        .collect()
}

pub(crate) fn t(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

/// SHOW PROCESSLIST rows: every connection for a session with OPERATE on SYSTEM (or no
/// privileges to apply), else only those of its own user.
pub(crate) fn processlist_rows(engine: &Engine, privileges: Option<&Effective>) -> Vec<Vec<Cell>> {
    let only_user = privileges
        .filter(|p| !p.allows(Privilege::Operate, &Target::System))
        .map(|p| p.user.user.as_str());
    engine
        .connections()
        .iter()
        .filter(|c| only_user.is_none_or(|u| c.user == u))
        .map(|c| {
            let s = c.state.lock().unwrap_or_else(|p| p.into_inner());
            vec![
                Cell::Int(Some(i64::from(c.id))),
                t(&c.user),
                t(&c.host),
                Cell::Text(s.database.clone()),
                t(s.command),
                Cell::Int(Some(s.since.elapsed().as_secs() as i64)),
                t(if s.command == "Query" {
                    "executing"
                } else {
                    ""
                }),
                Cell::Text(s.info.clone()),
            ]
        })
        .collect()
}

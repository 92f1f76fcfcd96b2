//! `SHOW [GLOBAL] [FULL] [BUILTIN] FUNCTIONS [FROM db] [LIKE 'pattern']` in StarRocks' columns.
//! snaprock has no user-defined functions (no CREATE FUNCTION), so a database's and the global
//! lists are empty; `BUILTIN` lists the functions every query may call: the session's function
//! registry (DataFusion's and snaprock's, without internal helpers) and the functions the
//! rewriter spells as others.

use std::collections::BTreeMap;

use snaprock_sql::ast::Show;

use super::{database_or_current, filtered};
use crate::Result;
use crate::result::{Output, RowsBuilder};
use crate::server_info::t;
use crate::session::Session;

/// Functions the rewriter turns into others before planning (`rewrite_functions`,
/// `date_arith`, `time_slice`), so the registry does not hold them by these names. The
/// end-to-end test calls every listed function: a name here that no rewrite takes fails it.
const REWRITTEN: &[&str] = &[
    "ifnull",
    "curdate",
    "curtime",
    "utc_timestamp",
    "localtime",
    "localtimestamp",
    "sysdate",
    "ucase",
    "lcase",
    "substr",
    "mid",
    "map_size",
    "array_remove",
    "sleep",
    "array_map",
    "transform",
    "array_filter",
    "any_match",
    "all_match",
    "database",
    "schema",
    "user",
    "session_user",
    "system_user",
    "current_user",
    "version",
    "connection_id",
    "last_insert_id",
    "found_rows",
    "row_count",
    "current_role",
    "current_catalog",
    "catalog",
    "is_role_in_session",
    "if",
    "time_slice",
    "date_slice",
    "date_add",
    "adddate",
    "date_sub",
    "subdate",
    "timestampadd",
    "timestampdiff",
    "datediff",
    "last_day",
];
/// The aggregates among them.
const REWRITTEN_AGGREGATES: &[&str] = &[
    "collect_list",
    "stddev",
    "std",
    "variance",
    "variance_pop",
    "variance_samp",
    "group_concat",
    "percentile_disc",
    "percentile_approx",
    "approx_count_distinct",
    "max_by",
    "min_by",
];
/// `days_add`, `months_sub`, `years_diff`, ...: StarRocks' unit arithmetic (`date_arith`).
const ARITHMETIC_UNITS: &[&str] = &["second", "minute", "hour", "day", "week", "month", "year"];

/// StarRocks' FULL columns.
const FULL_COLUMNS: [&str; 5] = [
    "Signature",
    "Return Type",
    "Function Type",
    "Intermediate Type",
    "Properties",
];

pub(super) async fn show_functions(session: &Session, show: Show) -> Result<Output> {
    let Show::Functions {
        full,
        builtin,
        global,
        database,
        filter,
    } = show
    else {
        return Ok(Output::ok());
    };
    if !builtin && !global {
        database_or_current(session, database)?;
    }
    let listed = if builtin {
        builtin_functions(session)
    } else {
        BTreeMap::new()
    };
    let mut rows = if full {
        RowsBuilder::text(&FULL_COLUMNS)
    } else {
        RowsBuilder::text(&["Function Name"])
    };
    for (name, kind) in listed {
        if full {
            rows.push(vec![t(&name), t(""), t(kind), t(""), t("")]);
        } else {
            rows.push(vec![t(&name)]);
        }
    }
    filtered(rows, filter).await
}

/// Every function a query may call, by name, with its kind.
fn builtin_functions(session: &Session) -> BTreeMap<String, &'static str> {
    let state = session.df.state();
    let mut functions = BTreeMap::new();
    let names = [
        (
            state.scalar_functions().keys().cloned().collect::<Vec<_>>(),
            "Scalar",
        ),
        (
            state.aggregate_functions().keys().cloned().collect(),
            "Aggregate",
        ),
        (
            REWRITTEN_AGGREGATES.iter().map(|n| n.to_string()).collect(),
            "Aggregate",
        ),
        (state.window_functions().keys().cloned().collect(), "Window"),
        (state.table_functions().keys().cloned().collect(), "Table"),
        (
            crate::df::starrocks_rewrites::rewritten_names()
                .chain(REWRITTEN.iter().copied())
                .map(str::to_string)
                .chain(
                    ARITHMETIC_UNITS
                        .iter()
                        .flat_map(|unit| ["add", "sub", "diff"].map(|op| format!("{unit}s_{op}"))),
                )
                .collect(),
            "Scalar",
        ),
    ];
    for (list, kind) in names {
        for name in list.into_iter().filter(|n| !n.starts_with("__")) {
            functions.entry(name).or_insert(kind);
        }
    }
    functions
}

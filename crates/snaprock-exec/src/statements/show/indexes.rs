//! `DESC t ALL`: the table and its synchronous materialized views as StarRocks lists its
//! indexes (the base index first, then one block per view, separated by an empty row).

use snaprock_sql::ast::ObjectName;
use snaprock_storage::{CatalogState, KeysModel, TableMeta};

use super::table_meta;
use crate::Result;
use crate::result::{Output, RowsBuilder};
use crate::server_info::t;
use crate::session::Session;

pub(super) async fn describe_all(
    session: &mut Session,
    table: ObjectName,
    state: &CatalogState,
) -> Result<Output> {
    let (db, meta) = table_meta(session, &table)?;
    let mut rows = RowsBuilder::text(&[
        "IndexName",
        "IndexKeysType",
        "Field",
        "Type",
        "Null",
        "Key",
        "Default",
        "Extra",
    ]);
    let keys_type = match meta.keys_model {
        KeysModel::Duplicate => "DUP_KEYS",
        KeysModel::Primary => "PRIMARY_KEYS",
        KeysModel::Unique => "UNIQUE_KEYS",
        KeysModel::Aggregate => "AGG_KEYS",
    };
    let base: Vec<(bool, Option<String>)> = meta
        .columns
        .iter()
        .map(|c| (c.is_key, c.aggregation.clone()))
        .collect();
    push_index(&mut rows, &meta, keys_type, &base);
    let rollups = state
        .database(&db)
        .into_iter()
        .flat_map(|d| d.tables.values())
        .filter(|t| {
            t.materialized_view
                .as_ref()
                .and_then(|v| v.rollup_of())
                .is_some_and(|b| b.table_id == meta.id)
        });
    for view in rollups {
        rows.push(vec![t(""); 8]);
        let aggregates = crate::df::mv_rewrite::column_aggregates(view);
        let columns: Vec<(bool, Option<String>)> = aggregates
            .iter()
            .map(|a| (a.is_none(), a.clone()))
            .collect();
        let keys_type = if aggregates.iter().any(Option::is_some) {
            "AGG_KEYS"
        } else {
            "DUP_KEYS"
        };
        push_index(&mut rows, view, keys_type, &columns);
    }
    Ok(Output::Rows(rows.into_result()?))
}

/// One index's rows: its name and keys type on the first; each column's key flag and
/// aggregation from `columns`.
fn push_index(
    rows: &mut RowsBuilder,
    table: &TableMeta,
    keys_type: &str,
    columns: &[(bool, Option<String>)],
) {
    for (i, (c, (key, aggregation))) in table.columns.iter().zip(columns).enumerate() {
        let (name, kind) = if i == 0 {
            (table.name.as_str(), keys_type)
        } else {
            ("", "")
        };
        rows.push(vec![
            t(name),
            t(kind),
            t(&c.name),
            t(&c.column_type.canonical_name()),
            t(if c.nullable { "Yes" } else { "No" }),
            t(if *key { "true" } else { "false" }),
            c.default.as_deref().map_or(t("NULL"), t),
            t(aggregation.as_deref().unwrap_or("")),
        ]);
    }
}

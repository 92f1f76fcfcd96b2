//! SHOW of the server: VARIABLES, STATUS, WARNINGS, ENGINES, CHARSET, COLLATION, PROCESSLIST,
//! and the MySQL statements tools send that list nothing here (PROCEDURE STATUS, TRIGGERS,
//! EVENTS, PLUGINS).

use snaprock_sql::ast::ShowFilter;

use super::filtered;
use crate::Result;
use crate::result::{Cell, CellKind, Output, RowsBuilder};
use crate::server_info::{CHARSETS, collation_rows, engine_row, processlist_rows, t};
use crate::session::Session;

/// `SHOW VARIABLES`.
pub(super) async fn variables(
    session: &mut Session,
    global: bool,
    filter: Option<ShowFilter>,
) -> Result<Output> {
    let mut rows = RowsBuilder::text(&["Variable_name", "Value"]);
    for (name, value) in session.engine.globals.all() {
        let value = if global {
            value
        } else {
            session.variable(name).unwrap_or(value)
        };
        rows.push(vec![t(name), t(&value.display())]);
    }
    filtered(rows, filter).await
}

/// `SHOW STATUS`.
pub(super) async fn status(session: &mut Session, filter: Option<ShowFilter>) -> Result<Output> {
    let mut rows = RowsBuilder::text(&["Variable_name", "Value"]);
    let uptime = session.engine.started.elapsed().as_secs();
    for (name, value) in [
        ("Questions", session.engine.queries().to_string()),
        ("Queries", session.engine.queries().to_string()),
        (
            "Threads_connected",
            session.engine.connections().len().to_string(),
        ),
        ("Uptime", uptime.to_string()),
    ] {
        rows.push(vec![t(name), t(&value)]);
    }
    filtered(rows, filter).await
}

/// `SHOW WARNINGS` and `SHOW ERRORS`.
pub(super) async fn warnings(session: &mut Session) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("Level", CellKind::Text),
        ("Code", CellKind::Int),
        ("Message", CellKind::Text),
    ]);
    for w in &session.warnings {
        rows.push(vec![
            t(w.level),
            Cell::Int(Some(i64::from(w.code))),
            t(&w.message),
        ]);
    }
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW ENGINES`.
/// SHOW CATALOGS: the internal catalog, as StarRocks lists it (there are no external ones).
pub(super) async fn catalogs() -> Result<Output> {
    let mut rows = RowsBuilder::text(&["Catalog", "Type", "Comment"]);
    rows.push(vec![
        t(crate::df::catalog_provider::DEFAULT_CATALOG),
        t("Internal"),
        t("An internal catalog contains this cluster's self-managed tables."),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

pub(super) async fn engines() -> Result<Output> {
    let mut rows = RowsBuilder::text(&[
        "Engine",
        "Support",
        "Comment",
        "Transactions",
        "XA",
        "Savepoints",
    ]);
    rows.push(engine_row());
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW CHARSET`.
pub(super) async fn charset(filter: Option<ShowFilter>) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("Charset", CellKind::Text),
        ("Description", CellKind::Text),
        ("Default collation", CellKind::Text),
        ("Maxlen", CellKind::Int),
    ]);
    for (name, collation, description, maxlen) in CHARSETS {
        rows.push(vec![
            t(name),
            t(description),
            t(collation),
            Cell::Int(Some(*maxlen)),
        ]);
    }
    filtered(rows, filter).await
}

/// `SHOW COLLATION`.
pub(super) async fn collation(filter: Option<ShowFilter>) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("Collation", CellKind::Text),
        ("Charset", CellKind::Text),
        ("Id", CellKind::Int),
        ("Default", CellKind::Text),
        ("Compiled", CellKind::Text),
        ("Sortlen", CellKind::Int),
        ("Pad_attribute", CellKind::Text),
    ]);
    for row in collation_rows() {
        rows.push(row);
    }
    filtered(rows, filter).await
}

/// `SHOW PROCESSLIST`.
pub(super) async fn processlist(session: &mut Session) -> Result<Output> {
    let mut rows = RowsBuilder::new(&[
        ("Id", CellKind::Int),
        ("User", CellKind::Text),
        ("Host", CellKind::Text),
        ("db", CellKind::Text),
        ("Command", CellKind::Text),
        ("Time", CellKind::Int),
        ("State", CellKind::Text),
        ("Info", CellKind::Text),
    ]);
    for row in processlist_rows(&session.engine, Some(&session.privileges())) {
        rows.push(row);
    }
    Ok(Output::Rows(rows.into_result()?))
}

/// `SHOW PROCEDURE STATUS`.
pub(super) async fn procedure_status(filter: Option<ShowFilter>) -> Result<Output> {
    let rows = RowsBuilder::text(&[
        "Db",
        "Name",
        "Type",
        "Definer",
        "Modified",
        "Created",
        "Security_type",
        "Comment",
        "character_set_client",
        "collation_connection",
        "Database Collation",
    ]);
    filtered(rows, filter).await
}

/// `SHOW TRIGGERS`.
pub(super) async fn triggers(filter: Option<ShowFilter>) -> Result<Output> {
    let rows = RowsBuilder::text(&[
        "Trigger",
        "Event",
        "Table",
        "Statement",
        "Timing",
        "Created",
        "sql_mode",
        "Definer",
        "character_set_client",
        "collation_connection",
        "Database Collation",
    ]);
    filtered(rows, filter).await
}

/// `SHOW EVENTS`.
pub(super) async fn events() -> Result<Output> {
    Ok(Output::Rows(
        RowsBuilder::text(&[
            "Db",
            "Name",
            "Definer",
            "Time zone",
            "Type",
            "Execute at",
            "Interval value",
            "Interval field",
            "Starts",
            "Ends",
            "Status",
            "Originator",
            "character_set_client",
            "collation_connection",
            "Database Collation",
        ])
        .into_result()?,
    ))
}

/// `SHOW PLUGINS`.
pub(super) async fn plugins() -> Result<Output> {
    let mut rows = RowsBuilder::text(&["Name", "Status", "Type", "Library", "License"]);
    rows.push(vec![
        t("mysql_native_password"),
        t("ACTIVE"),
        t("AUTHENTICATION"),
        Cell::Text(None),
        t("GPL"),
    ]);
    Ok(Output::Rows(rows.into_result()?))
}

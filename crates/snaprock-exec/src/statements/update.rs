//! UPDATE on PRIMARY KEY tables, run as StarRocks runs it: the statement becomes the query
//! that yields every matched row with its new values (`SELECT k, <expr> AS v, ... FROM t
//! [, from ...] WHERE ...`, under the statement's WITH clause), and those rows are upserted by
//! key in one commit, as a load replaces rows of a primary key table. FROM lists, joins and
//! common table expressions therefore work as they do in a query.

use snaprock_access::Target;
use snaprock_sql::ast::{ObjectName as SrObjectName, Privilege};
use snaprock_sql::sqlparser::ast::{
    self as sql_ast, AssignmentTarget, Expr, Ident, ObjectNamePart, SelectItem, SetExpr, Statement,
    TableFactor, UpdateTableFromKind,
};
use snaprock_storage::KeysModel;

use super::query::{WriteAs, insert_statement};
use crate::session::Session;
use crate::{ExecError, Result};

/// A standard statement as it runs: `[WITH ...] UPDATE ...` becomes its upsert (an INSERT of
/// the updated rows, needing the UPDATE privilege); any other statement stays as it is.
pub(crate) fn as_upsert(session: &Session, stmt: Statement) -> Result<(Statement, WriteAs)> {
    match stmt {
        Statement::Update(update) => upsert_statement(session, None, update),
        Statement::Query(query) if matches!(query.body.as_ref(), SetExpr::Update(_)) => {
            let query = *query;
            match *query.body {
                SetExpr::Update(Statement::Update(update)) => {
                    upsert_statement(session, query.with, update)
                }
                _ => Err(ExecError::Unsupported("WITH before this statement".into())),
            }
        }
        other => Ok((other, WriteAs::default())),
    }
}

/// `[WITH ...] UPDATE t SET c = e, ... [FROM ...] WHERE ...` as its upsert.
fn upsert_statement(
    session: &Session,
    with: Option<sql_ast::With>,
    update: sql_ast::Update,
) -> Result<(Statement, WriteAs)> {
    let TableFactor::Table { name, alias, .. } = &update.table.relation else {
        return Err(ExecError::Unsupported(
            "UPDATE of something other than a table".into(),
        ));
    };
    let target = object_name(name)?;
    let (db, table_name) = session.resolve(&target)?;
    super::dml_target::refuse_information_schema(session, &db)?;
    // The privilege before anything about the table is told.
    session
        .privileges()
        .check(Privilege::Update, &Target::table(&db, &table_name))?;
    let state = session.engine.catalog.snapshot();
    let table = state
        .table(&db, &table_name)
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table_name}")))?
        .clone();
    if table.keys_model != KeysModel::Primary {
        return Err(ExecError::Analysis(
            "only support updating primary key table".into(),
        ));
    }
    let Some(selection) = update.selection.clone() else {
        return Err(ExecError::Analysis(
            "must specify where clause to prevent full table update".into(),
        ));
    };
    if update.limit.is_some() || !update.order_by.is_empty() || update.returning.is_some() {
        return Err(ExecError::Unsupported(
            "UPDATE with ORDER BY, LIMIT or RETURNING is not supported".into(),
        ));
    }
    let mut assigned: Vec<(String, Expr)> = Vec::new();
    for assignment in &update.assignments {
        let AssignmentTarget::ColumnName(column) = &assignment.target else {
            return Err(ExecError::Unsupported(
                "UPDATE of a tuple of columns".into(),
            ));
        };
        let column = last_part(column);
        let Some((_, meta)) = table.column(&column) else {
            return Err(ExecError::UnknownColumn {
                column,
                context: "field list".into(),
            });
        };
        if meta.is_key {
            return Err(ExecError::Analysis(format!(
                "primary key column cannot be updated: {}",
                meta.name
            )));
        }
        assigned.push((meta.name.clone(), assignment.value.clone()));
    }
    // Columns are named through the table's alias, or its name, so that other tables of the
    // FROM list with the same column names do not make them ambiguous.
    let qualifier = match alias {
        Some(a) => a.name.clone(),
        None => Ident::new(&table_name),
    };
    let projection = table
        .columns
        .iter()
        .map(|column| {
            let quoted = Ident::with_quote('`', &column.name);
            match assigned.iter().rev().find(|(n, _)| *n == column.name) {
                Some((_, value)) => SelectItem::ExprWithAlias {
                    expr: value.clone(),
                    alias: quoted,
                },
                None => SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
                    qualifier.clone(),
                    quoted,
                ])),
            }
        })
        .collect();
    let mut from = vec![update.table.clone()];
    match update.from {
        Some(UpdateTableFromKind::BeforeSet(tables) | UpdateTableFromKind::AfterSet(tables)) => {
            from.extend(tables)
        }
        None => {}
    }
    let query = select_query(with, projection, from, selection)?;
    let write = WriteAs {
        overwrite_partitions: None,
        privilege: Some(Privilege::Update),
        refresh: false,
    };
    let target = SrObjectName {
        database: Some(db),
        name: table_name,
    };
    Ok((insert_statement(&target, &[], query, false), write))
}

/// `WITH ... SELECT projection FROM from WHERE selection`, built from a parsed `SELECT 1`.
fn select_query(
    with: Option<sql_ast::With>,
    projection: Vec<SelectItem>,
    from: Vec<sql_ast::TableWithJoins>,
    selection: Expr,
) -> Result<Box<sql_ast::Query>> {
    let dialect = snaprock_sql::StarRocksDialect::new();
    let mut query = snaprock_sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql("SELECT 1")
        .and_then(|mut p| p.parse_query())
        .map_err(|e| ExecError::Plan(e.to_string()))?;
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(ExecError::Plan("SELECT template".into()));
    };
    select.projection = projection;
    select.from = from;
    select.selection = Some(selection);
    query.with = with;
    Ok(query)
}

fn last_part(name: &sql_ast::ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn object_name(name: &sql_ast::ObjectName) -> Result<SrObjectName> {
    let parts = snaprock_sql::name_parts(name);
    match parts.as_slice() {
        [t] => Ok(SrObjectName {
            database: None,
            name: t.clone(),
        }),
        [d, t] | [_, d, t] => Ok(SrObjectName {
            database: Some(d.clone()),
            name: t.clone(),
        }),
        _ => Err(ExecError::Plan(format!("bad table name {name}"))),
    }
}

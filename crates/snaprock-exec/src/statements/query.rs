//! Standard statements (SELECT, INSERT, DELETE, UPDATE, EXPLAIN) planned and run by DataFusion
//! (an UPDATE as the upsert `update.rs` makes of it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;
use snaprock_sql::ast::{ObjectName as SrObjectName, Privilege};
use snaprock_sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use snaprock_sql::sqlparser::ast::{
    self as sql_ast, Expr, Ident, ObjectName, ObjectNamePart, Statement,
};

use super::column_names::{DisplayNames, output_names};
use crate::df::catalog_provider::{
    CATALOG_NAME, DEFAULT_CATALOG, DmlTarget, LoadStart, NO_DATABASE, SnapshotCatalog,
    StatementContext, VIEW_CATALOG,
};
use crate::df::files_fn;
use crate::df::rewrite::rewrite_statement;
use crate::result::{Output, OutputColumn, ResultSet};
use crate::session::Session;
use crate::variables::VarValue;
use crate::{ExecError, Result};

/// How a statement built from another one writes its table.
#[derive(Default)]
pub(crate) struct WriteAs {
    /// `INSERT OVERWRITE t PARTITION (...)`: the partitions to replace.
    pub(crate) overwrite_partitions: Option<Vec<String>>,
    /// The privilege the write needs, when not the statement's own (an UPDATE run as an
    /// upsert needs UPDATE, not INSERT).
    pub(crate) privilege: Option<Privilege>,
    /// A materialized view's refresh: the one write a view's rows take.
    pub(crate) refresh: bool,
}

/// A statement planned by DataFusion over one catalog snapshot (see `plan_statement`).
pub(crate) struct PlannedStatement {
    plan: LogicalPlan,
    /// The snapshot and privileges the plan reads with (kept alive while rows stream).
    ctx: Arc<StatementContext>,
    /// The result columns as the client sees them.
    pub(crate) columns: Vec<OutputColumn>,
    /// A query or EXPLAIN (rows), else DML (a count).
    is_query: bool,
    /// What SLEEP() calls ask to wait before it runs.
    sleep: std::time::Duration,
}

/// Lets go of the last statement's catalog snapshot once it has run, so the files that
/// snapshot lists (a dropped table's) can be deleted. A result still streaming keeps its own
/// snapshot (`ResultSet::snapshot`) and its plan's tables.
pub(crate) fn release_statement_context(session: &Session) {
    for name in [CATALOG_NAME, DEFAULT_CATALOG, VIEW_CATALOG] {
        if session.df.catalog(name).is_some() {
            session.df.register_catalog(
                name,
                Arc::new(datafusion::catalog::MemoryCatalogProvider::new()),
            );
        }
    }
}

/// A statement context over the current catalog snapshot, installed in the DataFusion
/// context.
pub(crate) fn statement_context(
    session: &Session,
    dml_target: Option<DmlTarget>,
) -> Arc<StatementContext> {
    let state = session.engine.catalog.snapshot();
    let privileges = session.privileges();
    let ctx = Arc::new(StatementContext {
        engine: session.engine.clone(),
        visible: std::sync::OnceLock::new(),
        state,
        privileges: Some(privileges),
        dml_target,
        overwrite_partitions: Mutex::new(None),
        scan_partition_limit: session
            .variable("scan_olap_partition_num_limit")
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
        files_tables: Mutex::new(HashMap::new()),
        committed_load: Arc::default(),
    });
    for (name, checked) in [
        (CATALOG_NAME, true),
        (DEFAULT_CATALOG, true),
        (VIEW_CATALOG, false),
    ] {
        let catalog = SnapshotCatalog {
            ctx: ctx.clone(),
            checked,
        };
        session.df.register_catalog(name, Arc::new(catalog));
    }
    let schema = session
        .current_db
        .clone()
        .unwrap_or_else(|| NO_DATABASE.to_string());
    session
        .df
        .state_ref()
        .write()
        .config_mut()
        .options_mut()
        .catalog
        .default_schema = schema;
    ctx
}

/// The one query pipeline: binds `stmt` to a catalog snapshot, resolves FILES() calls,
/// rewrites it the MySQL way and has DataFusion plan it. Every statement DataFusion runs
/// (SELECT, INSERT [OVERWRITE], DELETE, EXPLAIN, CREATE TABLE AS SELECT, SET's values, the
/// metadata of prepared statements) goes through here. `sql` is the text the statement's
/// spans point into, for result column names as written.
pub(crate) async fn plan_statement(
    session: &mut Session,
    mut stmt: Statement,
    sql: Option<&str>,
    write: WriteAs,
) -> Result<PlannedStatement> {
    let names = sql.and_then(|sql| output_names(&stmt, sql));
    let mut target = super::dml_target::dml_target(&stmt, session.current_db.as_deref());
    if let (Some(target), Some(privilege)) = (target.as_mut(), write.privilege) {
        target.privilege = privilege;
    }
    if let Some(target) = target.as_mut() {
        target.refresh = write.refresh;
        // An INSERT is a load; an UPDATE's upsert and a refresh are not.
        if write.privilege.is_none() && !write.refresh && matches!(stmt, Statement::Insert(_)) {
            target.load = Some(LoadStart {
                label: session
                    .load_label
                    .take()
                    .unwrap_or_else(crate::df::insert_sink::generated_label),
                user: session.user().to_string(),
                created_ms: chrono::Utc::now().timestamp_millis(),
            });
        }
    }
    let ctx = statement_context(session, target);
    if let Some(target) = &ctx.dml_target {
        super::dml_target::refuse_read_only(session, &ctx.state, target)?;
    }
    if let Some(partitions) = write.overwrite_partitions {
        *ctx.overwrite_partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(partitions);
    }
    crate::df::lateral_unnest::rewrite_lateral_unnest(&mut stmt);
    if matches!(session.variable("enable_materialized_view_rewrite")?, VarValue::Int(v) if v != 0) {
        crate::df::mv_rewrite::rewrite_onto_views(&mut stmt, &ctx, session.current_db.as_deref());
    }
    files_fn::resolve_files_calls(&mut stmt, &session.df, &ctx).await?;
    crate::df::complex_types::name_struct_values(&mut stmt, &ctx.state, ctx.dml_target.as_ref());
    let info = rewrite_statement(&mut stmt, &ctx.state, session)?;
    apply_select_limit(session, &mut stmt)?;
    if names.is_some() || matches!(stmt, Statement::Insert(_)) {
        super::column_names::alias_repeated_items(&mut stmt);
    }
    let is_query = matches!(stmt, Statement::Query(_) | Statement::Explain { .. });
    let state = session.df.state();
    let unknown = crate::df::unknown_function::first_unknown(&stmt, &state);
    let copy = unknown.as_ref().map(|_| stmt.clone());
    let plan = match state
        .statement_to_plan(DfStatement::Statement(Box::new(stmt)))
        .await
    {
        Ok(plan) => plan,
        Err(e) => {
            return Err(match (unknown, copy) {
                (Some(name), Some(copy)) => {
                    Box::pin(crate::df::unknown_function::no_matching_function(
                        copy, &name, &state,
                    ))
                    .await
                }
                _ => e.into(),
            });
        }
    };
    let display = DisplayNames::new(&ctx.state, session.current_db.as_deref(), &info);
    let columns = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| OutputColumn {
            name: names
                .as_ref()
                .and_then(|n| n.get(i).cloned().flatten())
                .unwrap_or_else(|| display.name(f.name())),
            table: display.table.clone(),
            field: f.as_ref().clone(),
        })
        .collect();
    Ok(PlannedStatement {
        plan,
        ctx,
        columns,
        is_query,
        sleep: info.sleep,
    })
}

/// Runs a planned statement: a query streams its rows, DML answers with its count.
pub(crate) async fn run_planned(
    session: &mut Session,
    planned: PlannedStatement,
) -> Result<Output> {
    if !planned.sleep.is_zero() {
        // SLEEP(n): the statement is killable meanwhile (KILL QUERY, shutdown).
        tokio::time::sleep(planned.sleep).await;
    }
    let frame = session.df.execute_logical_plan(planned.plan).await?;
    if !planned.is_query {
        let batches = match frame.collect().await {
            Ok(batches) => batches,
            Err(e) => {
                let e = ExecError::from(e);
                super::dml_target::record_failed_load(&planned.ctx, &e);
                return Err(e);
            }
        };
        let affected_rows = dml_count(&batches);
        return Ok(match planned.ctx.committed_load.get() {
            // StarRocks' answer to an INSERT: the load's label, state and transaction.
            Some(load) => Output::Ok {
                affected_rows,
                info: format!(
                    "{{'label':'{}', 'status':'VISIBLE', 'txnId':'{}'}}",
                    load.label, load.job_id
                ),
            },
            None => Output::affected(affected_rows),
        });
    }
    Ok(Output::Rows(ResultSet {
        columns: planned.columns,
        batches: Vec::new(),
        stream: Some(frame.execute_stream().await?),
        snapshot: Some(planned.ctx.state.clone()),
    }))
}

/// Plans and runs a standard statement; `params` bind its placeholders (`$1`, ...).
pub(crate) async fn run_standard(
    session: &mut Session,
    stmt: Statement,
    sql: &str,
    params: Option<Vec<ScalarValue>>,
) -> Result<Output> {
    let hints = super::hints::statement_hints(&stmt)?;
    if hints.is_empty() {
        return run_standard_unhinted(session, stmt, sql, params).await;
    }
    let replaced = super::hints::apply(session, hints).await?;
    let result = run_standard_unhinted(session, stmt, sql, params).await;
    super::hints::restore(session, replaced);
    result
}

async fn run_standard_unhinted(
    session: &mut Session,
    stmt: Statement,
    sql: &str,
    params: Option<Vec<ScalarValue>>,
) -> Result<Output> {
    let (stmt, write) = super::update::as_upsert(session, stmt)?;
    let mut planned = plan_statement(session, stmt, Some(sql), write).await?;
    if let Some(values) = params {
        let values = typed_parameters(&planned.plan, values)?;
        planned.plan = planned.plan.with_param_values(values)?;
        // A bare `?` in the select list takes its type from the value bound to it.
        let fields = planned.plan.schema().fields();
        for (column, field) in planned.columns.iter_mut().zip(fields.iter()) {
            column.field = field.as_ref().clone();
        }
    }
    run_planned(session, planned).await
}

/// `INSERT OVERWRITE t [PARTITION (...)] [(cols)] query`.
pub(crate) async fn run_insert_overwrite(
    session: &mut Session,
    table: SrObjectName,
    partitions: Vec<String>,
    columns: Vec<String>,
    query: Box<sql_ast::Query>,
) -> Result<Output> {
    let insert = insert_statement(&table, &columns, query, true);
    let write = WriteAs {
        overwrite_partitions: Some(partitions),
        ..WriteAs::default()
    };
    let planned = plan_statement(session, insert, None, write).await?;
    run_planned(session, planned).await
}

/// `INSERT INTO | OVERWRITE t [PARTITION (...)] BY NAME query`: the query's column names are
/// the insert's column list (each must be a column of the table).
pub(crate) async fn run_insert_by_name(
    session: &mut Session,
    table: SrObjectName,
    partitions: Vec<String>,
    overwrite: bool,
    query: Box<sql_ast::Query>,
    sql: &str,
) -> Result<Output> {
    let (db, name) = session.resolve(&table)?;
    let meta = session
        .engine
        .catalog
        .snapshot()
        .table(&db, &name)
        .cloned()
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{name}")))?;
    let mut columns = Vec::new();
    for column in query_columns(session, &query, sql).await? {
        let Some((_, c)) = meta.column(&column.name) else {
            return Err(ExecError::UnknownColumn {
                column: column.name,
                context: "field list".into(),
            });
        };
        columns.push(c.name.clone());
    }
    if overwrite {
        return run_insert_overwrite(session, table, partitions, columns, query).await;
    }
    if !partitions.is_empty() {
        return Err(ExecError::Unsupported(
            "INSERT INTO ... PARTITION (...) BY NAME: name the partitions with INSERT OVERWRITE"
                .into(),
        ));
    }
    let insert = insert_statement(&table, &columns, query, false);
    let planned = plan_statement(session, insert, None, WriteAs::default()).await?;
    run_planned(session, planned).await
}

/// `INSERT INTO table query` (CREATE TABLE AS SELECT fills its new table with it, UPDATE
/// upserts its rows with it).
pub(crate) async fn run_insert(
    session: &mut Session,
    table: &SrObjectName,
    query: Box<sql_ast::Query>,
    write: WriteAs,
) -> Result<Output> {
    let insert = insert_statement(table, &[], query, false);
    let planned = plan_statement(session, insert, None, write).await?;
    run_planned(session, planned).await
}

/// A materialized view's refresh: replaces every row of `view` by `query`'s. Returns the
/// catalog state the query read and the rows written.
pub(crate) async fn overwrite_view(
    session: &mut Session,
    view: &SrObjectName,
    query: Box<sql_ast::Query>,
) -> Result<(Arc<snaprock_storage::CatalogState>, u64)> {
    let insert = insert_statement(view, &[], query, true);
    let write = WriteAs {
        overwrite_partitions: Some(Vec::new()),
        privilege: None,
        refresh: true,
    };
    let planned = plan_statement(session, insert, None, write).await?;
    let read = planned.ctx.state.clone();
    let rows = match run_planned(session, planned).await? {
        Output::Ok { affected_rows, .. } => affected_rows,
        _ => 0,
    };
    Ok((read, rows))
}

/// Runs a query of the server's own making and returns its rows.
pub(crate) async fn query_batches(
    session: &mut Session,
    query: Statement,
) -> Result<Vec<datafusion::arrow::array::RecordBatch>> {
    let planned = plan_statement(session, query, None, WriteAs::default()).await?;
    match run_planned(session, planned).await? {
        Output::Rows(rows) => rows.collect().await,
        _ => Err(ExecError::Plan("not a query".into())),
    }
}

/// Evaluates `expr` like `SELECT expr` and returns the single value.
pub(crate) async fn evaluate_scalar(session: &mut Session, expr: Expr) -> Result<VarValue> {
    let planned = plan_statement(session, select_of(expr)?, None, WriteAs::default()).await?;
    let Output::Rows(rows) = run_planned(session, planned).await? else {
        return Err(ExecError::Plan("expression has no value".into()));
    };
    let batches = rows.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(VarValue::Null);
    };
    let value = ScalarValue::try_from_array(batch.column(0), 0)?;
    Ok(match value {
        v if v.is_null() => VarValue::Null,
        ScalarValue::Int8(Some(v)) => VarValue::Int(v.into()),
        ScalarValue::Int16(Some(v)) => VarValue::Int(v.into()),
        ScalarValue::Int32(Some(v)) => VarValue::Int(v.into()),
        ScalarValue::Int64(Some(v)) => VarValue::Int(v),
        ScalarValue::UInt64(Some(v)) => VarValue::UInt(v),
        ScalarValue::Boolean(Some(b)) => VarValue::Int(i64::from(b)),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => VarValue::Str(s),
        other => VarValue::Str(other.to_string()),
    })
}

/// Output columns of a query without running it (COM_STMT_PREPARE metadata); `sql` is the
/// statement's text.
pub(crate) async fn describe(session: &mut Session, sql: &str) -> Result<Vec<OutputColumn>> {
    let statement = snaprock_sql::parse_statement(sql)?;
    let snaprock_sql::ast::Statement::Standard(stmt) = statement else {
        return Ok(Vec::new());
    };
    if !matches!(*stmt, Statement::Query(_)) {
        return Ok(Vec::new());
    }
    Ok(
        plan_statement(session, *stmt, Some(sql), WriteAs::default())
            .await?
            .columns,
    )
}

/// The result columns of `query`, a part of the statement text `sql`, without running it.
pub(crate) async fn query_columns(
    session: &mut Session,
    query: &sql_ast::Query,
    sql: &str,
) -> Result<Vec<OutputColumn>> {
    let stmt = Statement::Query(Box::new(query.clone()));
    Ok(plan_statement(session, stmt, Some(sql), WriteAs::default())
        .await?
        .columns)
}

/// `SET sql_select_limit = N` limits SELECTs that have no LIMIT.
fn apply_select_limit(session: &Session, stmt: &mut Statement) -> Result<()> {
    let Statement::Query(query) = stmt else {
        return Ok(());
    };
    let limit = match session.variable("sql_select_limit")? {
        VarValue::Int(v) if v >= 0 => v as u64,
        _ => return Ok(()),
    };
    if query.limit_clause.is_none() {
        query.limit_clause = Some(sql_ast::LimitClause::LimitOffset {
            limit: Some(Expr::value(sql_ast::Value::Number(
                limit.to_string(),
                false,
            ))),
            offset: None,
            limit_by: Vec::new(),
        });
    }
    Ok(())
}

/// `INSERT [OVERWRITE] INTO table [(columns)] query` as DataFusion's planner takes it.
pub(super) fn insert_statement(
    table: &SrObjectName,
    columns: &[String],
    query: Box<sql_ast::Query>,
    overwrite: bool,
) -> Statement {
    let mut name = Vec::new();
    if let Some(db) = &table.database {
        name.push(ObjectNamePart::Identifier(Ident::new(db)));
    }
    name.push(ObjectNamePart::Identifier(Ident::new(&table.name)));
    Statement::Insert(sql_ast::Insert {
        insert_token: AttachedToken::empty(),
        optimizer_hints: Vec::new(),
        or: None,
        ignore: false,
        into: !overwrite,
        table: sql_ast::TableObject::TableName(ObjectName(name)),
        table_alias: None,
        columns: columns
            .iter()
            .map(|c| ObjectName(vec![ObjectNamePart::Identifier(Ident::new(c))]))
            .collect(),
        overwrite,
        source: Some(query),
        assignments: Vec::new(),
        partitioned: None,
        after_columns: Vec::new(),
        has_table_keyword: overwrite,
        on: None,
        returning: None,
        output: None,
        replace_into: false,
        priority: None,
        insert_alias: None,
        settings: None,
        format_clause: None,
        multi_table_insert_type: None,
        multi_table_into_clauses: Vec::new(),
        multi_table_when_clauses: Vec::new(),
        multi_table_else_clause: None,
    })
}

/// `SELECT expr`, built around the expression (never printed and parsed again).
fn select_of(expr: Expr) -> Result<Statement> {
    let dialect = snaprock_sql::StarRocksDialect::new();
    let mut stmt = snaprock_sql::sqlparser::parser::Parser::parse_sql(&dialect, "SELECT NULL")
        .map_err(|e| ExecError::Plan(e.to_string()))?
        .pop()
        .ok_or_else(|| ExecError::Plan("empty expression".into()))?;
    if let Statement::Query(query) = &mut stmt
        && let sql_ast::SetExpr::Select(select) = query.body.as_mut()
    {
        select.projection = vec![sql_ast::SelectItem::UnnamedExpr(expr)];
    }
    Ok(stmt)
}

/// Each parameter as the type the plan expects where it stands (an INT column takes a 64-bit
/// integer as INT, a DATE column a string as DATE), as MySQL converts it.
fn typed_parameters(plan: &LogicalPlan, values: Vec<ScalarValue>) -> Result<Vec<ScalarValue>> {
    let types = plan.get_parameter_types()?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| match types.get(&format!("${}", i + 1)) {
            Some(Some(data_type)) if !value.is_null() && &value.data_type() != data_type => {
                value.cast_to(data_type).map_err(|_| {
                    ExecError::InvalidValue(format!(
                        "parameter {} ({value}) is not a {data_type}",
                        i + 1
                    ))
                })
            }
            Some(Some(data_type)) if value.is_null() => {
                Ok(ScalarValue::try_from(data_type).unwrap_or(value))
            }
            _ => Ok(value),
        })
        .collect()
}

/// The `count` DML plans return.
fn dml_count(batches: &[datafusion::arrow::array::RecordBatch]) -> u64 {
    batches
        .iter()
        .filter(|b| b.num_columns() > 0 && b.num_rows() > 0)
        .filter_map(|b| {
            let col = b.column(0);
            match col.data_type() {
                DataType::UInt64 => Some(
                    col.as_primitive::<UInt64Type>()
                        .iter()
                        .flatten()
                        .sum::<u64>(),
                ),
                _ => None,
            }
        })
        .sum()
}

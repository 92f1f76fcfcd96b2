//! Partition keys generated from expressions: StarRocks 3.4's `PARTITION BY
//! from_unixtime(ts, '%Y%m%d'), city` (a list partition per value tuple) and
//! `PARTITION BY RANGE(str2date(dt, '%Y-%m-%d'))`.
//!
//! At CREATE TABLE an expression is rewritten the MySQL way (as a query's would be) and
//! planned over the table's columns once, for its type; the table's metadata keeps the text as
//! written (for SHOW CREATE TABLE), the rewritten text and the type. Every load compiles the
//! rewritten text again and evaluates it on the rows it writes, so the rows reach the
//! partition of their computed key. The values are never stored: the table's files and schema
//! are its own columns only.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::execution::session_state::SessionState;
use datafusion::physical_expr::PhysicalExpr;
use snaprock_sql::StarRocksDialect;
use snaprock_sql::ast::GeneratedKey;
use snaprock_sql::sqlparser::ast::{
    Expr, ExprWithAlias, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use snaprock_sql::sqlparser::parser::Parser;
use snaprock_storage::{ColumnMeta, ColumnType, GeneratedPartitionColumn, TableMeta};

use crate::df::rewrite::{parse_query_text, rewrite_statement};
use crate::session::Session;
use crate::statements::ddl::arrow_column_type as column_type_of_arrow;
use crate::{ExecError, Result};

/// One generated key, compiled for a load.
#[derive(Debug)]
pub(crate) struct CompiledKey {
    expr: Arc<dyn PhysicalExpr>,
    data_type: DataType,
}

impl CompiledKey {
    /// The key's values for the rows of `batch` (rows of the table's schema).
    pub(crate) fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef> {
        let values = self.expr.evaluate(batch)?.into_array(batch.num_rows())?;
        Ok(cast(&values, &self.data_type)?)
    }
}

/// The table's generated keys, in the partitioning's order, compiled in `state`.
pub(crate) fn compile(state: &SessionState, table: &TableMeta) -> Result<Vec<CompiledKey>> {
    let schema = table.arrow_schema();
    table
        .partitioning
        .generated()
        .iter()
        .map(|g| {
            let expr = compile_text(state, &g.planned, &schema)?;
            Ok(CompiledKey {
                expr,
                data_type: g.column_type.arrow_type(),
            })
        })
        .collect()
}

/// Plans the generated keys of a CREATE TABLE over its `columns`: their sources, rewritten
/// text and type, with StarRocks' refusals.
pub(crate) fn resolve(
    session: &Session,
    columns: &[ColumnMeta],
    keys: &[GeneratedKey],
) -> Result<Vec<GeneratedPartitionColumn>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(c.field_name(), c.column_type.arrow_type(), true))
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let state = session.df.state();
    keys.iter()
        .map(|key| {
            let mut written = key.expr.clone();
            single_quote_strings(&mut written);
            let sources = sources(&written, columns)?;
            let planned = rewritten(session, &written)?;
            let unsupported = |detail: String| {
                ExecError::Analysis(format!(
                    "Unsupported expr '{written}' in PARTITION BY clause: {detail}"
                ))
            };
            let expr =
                compile_text(&state, &planned, &schema).map_err(|e| unsupported(e.to_string()))?;
            let data_type = expr.data_type(&schema)?;
            let mut column_type = column_type_of_arrow(&data_type)?;
            if column_type == ColumnType::DateTime && truncates_a_date(&written, columns) {
                // StarRocks' date_trunc of a DATE is a DATE (DataFusion's is a timestamp).
                column_type = ColumnType::Date;
            }
            if matches!(
                column_type,
                ColumnType::Float | ColumnType::Double | ColumnType::Json
            ) || column_type.is_complex()
            {
                return Err(unsupported(format!(
                    "a partition key cannot be of type {}",
                    column_type.sql()
                )));
            }
            Ok(GeneratedPartitionColumn {
                name: key.name.clone(),
                expression: written.to_string(),
                planned,
                column_type,
                sources,
            })
        })
        .collect()
}

/// Whether `expr` is `date_trunc(unit, c)` of a DATE column `c`.
fn truncates_a_date(expr: &Expr, columns: &[ColumnMeta]) -> bool {
    let Expr::Function(f) = expr else {
        return false;
    };
    if !f.name.to_string().eq_ignore_ascii_case("date_trunc") {
        return false;
    }
    let FunctionArguments::List(list) = &f.args else {
        return false;
    };
    let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(column)))) =
        list.args.get(1)
    else {
        return false;
    };
    columns
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(&column.value) && c.column_type == ColumnType::Date)
}

/// Compiles expression text (already rewritten) over `schema`.
fn compile_text(
    state: &SessionState,
    text: &str,
    schema: &SchemaRef,
) -> Result<Arc<dyn PhysicalExpr>> {
    let dialect = StarRocksDialect::new();
    let expr = Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| ExecError::Plan(format!("cannot parse partition expression {text}: {e}")))?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let logical =
        state.create_logical_expr_from_sql_expr(ExprWithAlias { expr, alias: None }, &df_schema)?;
    Ok(state.create_physical_expr(logical, &df_schema)?)
}

/// `expr` after the rewrites a query's expressions get (functions, case of names).
fn rewritten(session: &Session, expr: &Expr) -> Result<String> {
    let query = parse_query_text(&format!("SELECT {expr}"))?;
    let mut stmt = Statement::Query(query);
    rewrite_statement(&mut stmt, &session.engine.catalog.snapshot(), session)?;
    let Statement::Query(query) = stmt else {
        return Err(ExecError::Plan("partition expression rewrite".into()));
    };
    match *query.body {
        SetExpr::Select(select) => match select.projection.into_iter().next() {
            Some(SelectItem::UnnamedExpr(e)) => Ok(e.to_string()),
            Some(SelectItem::ExprWithAlias { expr, .. }) => Ok(expr.to_string()),
            _ => Err(ExecError::Plan("partition expression rewrite".into())),
        },
        _ => Err(ExecError::Plan("partition expression rewrite".into())),
    }
}

/// The names of the columns `expr` names (`c` and the last part of `t.c`), as written.
pub(crate) fn column_names(expr: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::Identifier(i) => self.0.push(i.value.clone()),
                Expr::CompoundIdentifier(parts) => {
                    if let Some(last) = parts.last() {
                        self.0.push(last.value.clone());
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(Vec::new());
    let _ = expr.visit(&mut names);
    names.0
}

/// The table columns `expr` reads (each once, as the table names them); an unknown one is
/// refused.
fn sources(expr: &Expr, columns: &[ColumnMeta]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in column_names(expr) {
        let column = columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| ExecError::UnknownColumn {
                column: name.clone(),
                context: "partition expression".into(),
            })?;
        if !out.contains(&column.name) {
            out.push(column.name.clone());
        }
    }
    if out.is_empty() {
        return Err(ExecError::Analysis(format!(
            "Unsupported expr '{expr}' in PARTITION BY clause: it reads no column"
        )));
    }
    Ok(out)
}

/// `"month"` → `'month'`: StarRocks writes string literals single-quoted.
fn single_quote_strings(expr: &mut Expr) {
    struct Quotes;
    impl VisitorMut for Quotes {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Value(v) = expr
                && let Value::DoubleQuotedString(s) = &v.value
            {
                v.value = Value::SingleQuotedString(s.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let _ = expr.visit(&mut Quotes);
}

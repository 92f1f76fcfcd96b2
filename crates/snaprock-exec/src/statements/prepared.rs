//! Server-side prepared statements (COM_STMT_PREPARE / COM_STMT_EXECUTE).
//!
//! A statement DataFusion plans (SELECT, INSERT, DELETE, UPDATE) keeps its `?` markers as plan
//! placeholders `$1 .. $n`, numbered in the order they stand in the text; each execute plans it
//! against the current catalog snapshot and binds the values into the plan, so a value is never
//! spliced into SQL text. Other statements (SHOW, SET, DDL) take no placeholders here: the
//! front end binds theirs as SQL literals and runs the text.

use std::ops::ControlFlow;

use datafusion::common::ScalarValue;
use snaprock_sql::ast::Statement as SrStatement;
use snaprock_sql::sqlparser::ast::{Expr, Spanned, Statement, Value, VisitMut, VisitorMut};

use crate::result::OutputColumn;
use crate::session::Session;
use crate::{ExecError, Result};

/// A prepared statement of one session.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    /// The statement's text as the client sent it (result columns are named from it).
    sql: String,
    /// The statement with `$1 .. $n` for its markers; `None` when it is not one DataFusion plans.
    planned: Option<Statement>,
    /// How many parameters an execute must bind.
    pub params: usize,
    /// The result columns (empty for statements that return none).
    pub columns: Vec<OutputColumn>,
}

impl PreparedStatement {
    /// Whether executes bind values into a plan (`false`: the front end binds them as text).
    pub fn binds_values(&self) -> bool {
        self.planned.is_some()
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

impl Session {
    /// COM_STMT_PREPARE: parses and plans `sql` once (errors surface now), counting its `?`
    /// markers; `markers` is how many the front end's tokenizer counted.
    pub async fn prepare(&mut self, sql: &str, markers: usize) -> Result<PreparedStatement> {
        let statement = snaprock_sql::parse_statement(sql)?;
        let SrStatement::Standard(stmt) = statement else {
            return Ok(PreparedStatement {
                sql: sql.to_string(),
                planned: None,
                params: markers,
                columns: Vec::new(),
            });
        };
        let mut stmt = *stmt;
        let params = number_placeholders(&mut stmt);
        if params != markers {
            return Err(ExecError::Plan(format!(
                "{markers} parameter markers, {params} of them where a value can stand"
            )));
        }
        let planned = super::query::plan_statement(
            self,
            stmt.clone(),
            Some(sql),
            super::query::WriteAs::default(),
        )
        .await?;
        let columns = if matches!(stmt, Statement::Query(_)) {
            planned.columns
        } else {
            Vec::new()
        };
        Ok(PreparedStatement {
            sql: sql.to_string(),
            planned: Some(stmt),
            params,
            columns,
        })
    }

    /// COM_STMT_EXECUTE of a statement that binds values into its plan.
    pub async fn execute_prepared(
        &mut self,
        prepared: &PreparedStatement,
        values: Vec<ScalarValue>,
    ) -> Result<crate::Output> {
        let Some(stmt) = &prepared.planned else {
            return Err(ExecError::Plan(
                "this prepared statement binds its parameters as text".into(),
            ));
        };
        let statement = SrStatement::Standard(Box::new(stmt.clone()));
        self.run_tracked(&prepared.sql, Ok(statement), Some(values))
            .await
    }
}

/// Renames the `?` markers of `stmt` to `$1 .. $n` in the order they stand in the text (by
/// position, whatever order the AST visits them in); returns how many there are.
fn number_placeholders(stmt: &mut Statement) -> usize {
    struct Collect(Vec<(u64, u64)>);
    impl VisitorMut for Collect {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Value(v) = expr
                && matches!(&v.value, Value::Placeholder(p) if p == "?")
            {
                let start = v.span().start;
                self.0.push((start.line, start.column));
            }
            ControlFlow::Continue(())
        }
    }
    struct Rename(Vec<(u64, u64)>);
    impl VisitorMut for Rename {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Value(v) = expr
                && matches!(&v.value, Value::Placeholder(p) if p == "?")
            {
                let start = v.span().start;
                let position = self.0.iter().position(|p| *p == (start.line, start.column));
                if let Some(index) = position {
                    v.value = Value::Placeholder(format!("${}", index + 1));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut collect = Collect(Vec::new());
    let _ = stmt.visit(&mut collect);
    let mut positions = collect.0;
    positions.sort_unstable();
    let count = positions.len();
    let _ = stmt.visit(&mut Rename(positions));
    count
}

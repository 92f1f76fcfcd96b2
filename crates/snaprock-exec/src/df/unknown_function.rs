//! StarRocks' answer to a call of a function nobody registered: `No matching function with
//! signature: foo(int(11), varchar(65533))`, with the arguments' types, instead of DataFusion's
//! "Invalid function 'foo'. Did you mean ...".
//!
//! Before planning, the statement's function names are checked against the session's function
//! registry (`first_unknown`). Only when DataFusion then refuses the statement is the answer
//! built: the unknown call is renamed to a probe that takes anything, the statement is planned
//! again, and the probe's argument types are read off the plan (`no_matching_function`). A name
//! the registry misses but DataFusion's planner knows (`unnest`, `map`) therefore never turns a
//! good statement into an error.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionState;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Expr as DfExpr, ExprSchemable,
    LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use snaprock_sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart,
    Statement, visit_expressions, visit_expressions_mut,
};
use std::ops::ControlFlow;

use crate::ExecError;

/// The stand-ins for an unknown function while its arguments' types are worked out: as a
/// scalar function first, then (for `agg(b) ... GROUP BY a`) as an aggregate.
const PROBE: &str = "__snaprock_unknown_function";
const AGGREGATE_PROBE: &str = "__snaprock_unknown_aggregate";
/// What the statement's other unknown calls become meanwhile.
const FILLER: &str = "__snaprock_unknown_other";

/// Names DataFusion's SQL planner handles itself, without a registered function.
const PLANNER_NAMES: &[&str] = &["unnest", "unnest_outer", "map", "make_map"];

/// Registers the probes (never run: statements using them are only planned).
pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(Probe::new(PROBE)));
    ctx.register_udf(ScalarUDF::new_from_impl(Probe::new(FILLER)));
    ctx.register_udaf(AggregateUDF::new_from_impl(AggregateProbe {
        signature: probe_signature(),
    }));
}

/// The first function the statement calls that no registry of `state` knows, as written.
pub(crate) fn first_unknown(stmt: &Statement, state: &SessionState) -> Option<String> {
    let found = visit_expressions(stmt, |expr| match expr {
        Expr::Function(f) => match called_name(&f.name) {
            Some(name) if !is_known(&name, state) => ControlFlow::Break(name),
            // `rank()` without OVER: no function of that name outside a window.
            Some(name) if f.over.is_none() && is_window_only(&name, state) => {
                ControlFlow::Break(name)
            }
            _ => ControlFlow::Continue(()),
        },
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(name) => Some(name),
        ControlFlow::Continue(()) => None,
    }
}

/// StarRocks' error for the call of `name` in `stmt` (which DataFusion refused to plan).
pub(crate) async fn no_matching_function(
    stmt: Statement,
    name: &str,
    state: &SessionState,
) -> ExecError {
    let mut types = None;
    for probe in [PROBE, AGGREGATE_PROBE] {
        let (probed, star) = call_probe(stmt.clone(), name, probe, state);
        if star {
            types = Some(vec!["*".to_string()]);
            break;
        }
        types = probe_argument_types(probed, probe, state).await;
        if types.is_some() {
            break;
        }
    }
    let signature = types.map(|t| t.join(", ")).unwrap_or_default();
    ExecError::Analysis(format!(
        "No matching function with signature: {name}({signature})"
    ))
}

/// `stmt` with its first call of `name` renamed to `probe` and every other unknown call to the
/// filler (so that it plans); whether that call is `name(*)`.
fn call_probe(
    mut stmt: Statement,
    name: &str,
    probe: &str,
    state: &SessionState,
) -> (Statement, bool) {
    let mut star = None;
    let _ = visit_expressions_mut(&mut stmt, |expr| {
        if let Expr::Function(f) = expr
            && let Some(called) = called_name(&f.name)
            && (!is_known(&called, state) || (f.over.is_none() && is_window_only(&called, state)))
        {
            let stand_in = if star.is_none() && called == name {
                star = Some(is_star_call(&f.args));
                probe
            } else {
                FILLER
            };
            f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(stand_in))]);
        }
        ControlFlow::<()>::Continue(())
    });
    (stmt, star.unwrap_or(false))
}

/// The name as it is looked up: lower case; `db.f` whole (DataFusion knows no qualified names).
fn called_name(name: &ObjectName) -> Option<String> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
            _ => None,
        })
        .collect();
    parts.map(|p| p.join("."))
}

fn is_known(name: &str, state: &SessionState) -> bool {
    state.scalar_functions().contains_key(name)
        || state.aggregate_functions().contains_key(name)
        || state.window_functions().contains_key(name)
        || state.table_functions().contains_key(name)
        || PLANNER_NAMES.contains(&name)
}

fn is_window_only(name: &str, state: &SessionState) -> bool {
    state.window_functions().contains_key(name)
        && !state.scalar_functions().contains_key(name)
        && !state.aggregate_functions().contains_key(name)
}

fn is_star_call(args: &FunctionArguments) -> bool {
    match args {
        FunctionArguments::List(list) => list.args.iter().any(|a| {
            matches!(
                a,
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard)
                    | FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(_))
            )
        }),
        _ => false,
    }
}

/// The StarRocks names of the probe call's argument types, when the statement plans with it.
async fn probe_argument_types(
    stmt: Statement,
    probe: &str,
    state: &SessionState,
) -> Option<Vec<String>> {
    let plan = state
        .statement_to_plan(DfStatement::Statement(Box::new(stmt)))
        .await
        .ok()?;
    let mut types = None;
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| match e {
                DfExpr::ScalarFunction(call) if call.func.name() == probe => {
                    types = Some(argument_types(&call.args, node));
                    Ok(TreeNodeRecursion::Stop)
                }
                DfExpr::AggregateFunction(call) if call.func.name() == probe => {
                    types = Some(argument_types(&call.params.args, node));
                    Ok(TreeNodeRecursion::Stop)
                }
                _ => Ok(TreeNodeRecursion::Continue),
            })
        })
    });
    types
}

fn argument_types(args: &[DfExpr], node: &LogicalPlan) -> Vec<String> {
    args.iter().map(|arg| argument_type(arg, node)).collect()
}

/// An argument's type as StarRocks prints it, from the schema the plan node evaluates it in.
fn argument_type(arg: &DfExpr, node: &LogicalPlan) -> String {
    let schemas = node
        .inputs()
        .into_iter()
        .map(|input| input.schema().clone())
        .chain(std::iter::once(node.schema().clone()));
    for schema in schemas {
        if let Ok(data_type) = arg.get_type(&schema) {
            return starrocks_type_name(&data_type);
        }
    }
    "unknown".to_string()
}

fn starrocks_type_name(data_type: &DataType) -> String {
    match crate::statements::ddl::arrow_column_type(data_type) {
        Ok(column_type) => column_type.mysql_column_type(),
        Err(_) => data_type.to_string().to_lowercase(),
    }
}

/// Accepts any arguments; planned, never run.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Probe {
    name: &'static str,
    signature: Signature,
}

impl Probe {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            signature: probe_signature(),
        }
    }
}

fn probe_signature() -> Signature {
    Signature::one_of(
        vec![TypeSignature::VariadicAny, TypeSignature::Nullary],
        Volatility::Volatile,
    )
}

/// A probe answers its first argument's type, so that `sum(unknown(a))` still plans.
fn probe_return_type(args: &[DataType]) -> DataType {
    match args.first() {
        Some(DataType::Null) | None => DataType::Int64,
        Some(first) => first.clone(),
    }
}

impl ScalarUDFImpl for Probe {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(probe_return_type(args))
    }
    fn invoke_with_args(
        &self,
        _args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        datafusion::common::plan_err!("{} is only planned, never run", self.name)
    }
}

/// The aggregate stand-in; planned, never run.
#[derive(Debug, PartialEq, Eq, Hash)]
struct AggregateProbe {
    signature: Signature,
}

impl AggregateUDFImpl for AggregateProbe {
    fn name(&self) -> &str {
        AGGREGATE_PROBE
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(probe_return_type(args))
    }
    fn accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> datafusion::error::Result<Box<dyn Accumulator>> {
        datafusion::common::plan_err!("{AGGREGATE_PROBE} is only planned, never run")
    }
}

//! ARRAY, MAP and STRUCT the StarRocks way on DataFusion's nested types.
//!
//! * `m[k]` on a MAP reads the value of key `k`, the key converted to the map's key type
//!   (DataFusion compares an INT key with a BIGINT literal and fails);
//! * `element_at(array, i)` / `element_at(map, k)` answer the element, as StarRocks does
//!   (DataFusion's `element_at` is `map_extract`, which answers a one-element list);
//! * `row(...)` / `struct(...)` (rewritten in `rewrite_functions`) name their fields `col1`,
//!   `col2`, ...; in `INSERT ... VALUES` a struct value takes the target column's field names
//!   by position (`name_struct_values`), as StarRocks converts it;
//! * `.field` of a struct value that is not a column (`named_struct('a', 1).a`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DFSchema, Result as DfResult, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ExprSchemable, GetFieldAccess, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use snaprock_sql::sqlparser::ast::{
    Expr, Insert, SelectItem, SetExpr, Statement, Value as SqlValue,
};
use snaprock_storage::{CatalogState, ColumnType};

use crate::df::catalog_provider::DmlTarget;
use crate::df::rewrite_functions::{call, function_args};

/// Plans `map[key]` with the key converted to the map's key type.
#[derive(Debug)]
pub(crate) struct MapSubscriptPlanner;

impl ExprPlanner for MapSubscriptPlanner {
    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> DfResult<PlannerResult<RawFieldAccessExpr>> {
        let RawFieldAccessExpr { expr, field_access } = expr;
        let key_type = match (&field_access, expr.get_type(schema)) {
            (GetFieldAccess::ListIndex { .. }, Ok(DataType::Map(entries, _))) => {
                match entries.data_type() {
                    DataType::Struct(kv) if !kv.is_empty() => kv[0].data_type().clone(),
                    _ => {
                        return Ok(PlannerResult::Original(RawFieldAccessExpr {
                            expr,
                            field_access,
                        }));
                    }
                }
            }
            _ => {
                return Ok(PlannerResult::Original(RawFieldAccessExpr {
                    expr,
                    field_access,
                }));
            }
        };
        let GetFieldAccess::ListIndex { key } = field_access else {
            unreachable!("matched above")
        };
        let key = key.cast_to(&key_type, schema)?;
        Ok(PlannerResult::Planned(DfExpr::ScalarFunction(
            ScalarFunction::new_udf(datafusion::functions::core::get_field(), vec![expr, key]),
        )))
    }
}

/// Registers StarRocks' `element_at` (replacing DataFusion's map-only alias) and `reverse`
/// (of a string, a number's text or an array) into `ctx`.
pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(ElementAt {
        signature: Signature::user_defined(Volatility::Immutable),
    }));
    ctx.register_udf(ScalarUDF::new_from_impl(Reverse {
        signature: Signature::user_defined(Volatility::Immutable),
    }));
}

/// `reverse(x)`: an array's elements in reverse order, else the characters of x's text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Reverse {
    signature: Signature,
}

impl ScalarUDFImpl for Reverse {
    fn name(&self) -> &str {
        "reverse"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        match arg_types {
            [list @ (DataType::List(_) | DataType::LargeList(_))] => Ok(vec![list.clone()]),
            [text @ (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)] => {
                Ok(vec![text.clone()])
            }
            [_] => Ok(vec![DataType::Utf8]),
            _ => plan_err!("reverse expects one argument"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Utf8))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::List(_) | DataType::LargeList(_)) => {
                datafusion::functions_nested::reverse::array_reverse_udf()
                    .inner()
                    .invoke_with_args(args)
            }
            _ => datafusion::functions::unicode::reverse()
                .inner()
                .invoke_with_args(args),
        }
    }
}

/// `element_at(array, i)` (1-based, NULL out of range) and `element_at(map, k)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt {
    signature: Signature,
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        match arg_types {
            [DataType::Map(entries, sorted), _] => match entries.data_type() {
                DataType::Struct(kv) if !kv.is_empty() => Ok(vec![
                    DataType::Map(entries.clone(), *sorted),
                    kv[0].data_type().clone(),
                ]),
                _ => plan_err!("element_at: malformed map type"),
            },
            [list @ (DataType::List(_) | DataType::LargeList(_)), _] => {
                Ok(vec![list.clone(), DataType::Int64])
            }
            [DataType::Null, other] => Ok(vec![DataType::Null, other.clone()]),
            _ => plan_err!("element_at expects an ARRAY or a MAP and an index or key"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        unreachable!("return_field_from_args is implemented")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        let value_type = match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::Map(entries, _)) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => kv[1].data_type().clone(),
                _ => return plan_err!("element_at: malformed map type"),
            },
            Some(DataType::List(item) | DataType::LargeList(item)) => item.data_type().clone(),
            _ => DataType::Null,
        };
        Ok(Arc::new(Field::new(self.name(), value_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::Map(..)) => datafusion::functions::core::get_field()
                .inner()
                .invoke_with_args(args),
            _ => datafusion::functions_nested::extract::array_element_udf()
                .inner()
                .invoke_with_args(args),
        }
    }
}

/// `row(a, b)` / `struct(a, b)` / `STRUCT(a, b)`: a struct with fields `col1`, `col2`, ...
/// (`names` given: those names, by position).
pub(crate) fn named_struct(values: Vec<Expr>, names: Option<&[String]>) -> Expr {
    let mut args = Vec::with_capacity(values.len() * 2);
    for (i, value) in values.into_iter().enumerate() {
        let name = names
            .and_then(|n| n.get(i).cloned())
            .unwrap_or_else(|| format!("col{}", i + 1));
        args.push(Expr::value(SqlValue::SingleQuotedString(name)));
        args.push(value);
    }
    call("named_struct", args)
}

/// In `INSERT INTO t [(cols)] VALUES (...)` or `... SELECT ...`, a `row(...)`, `struct(...)` or `named_struct(...)`
/// value for a STRUCT column takes that column's field names by position. `target` is the
/// statement's table as the pipeline resolved it.
pub(crate) fn name_struct_values(
    stmt: &mut Statement,
    state: &CatalogState,
    target: Option<&DmlTarget>,
) {
    let Statement::Insert(Insert {
        columns,
        source: Some(source),
        ..
    }) = stmt
    else {
        return;
    };
    let Some(meta) = target.and_then(|t| state.table(&t.database, &t.table)) else {
        return;
    };
    let targets: Vec<Option<&ColumnType>> = if columns.is_empty() {
        meta.columns.iter().map(|c| Some(&c.column_type)).collect()
    } else {
        columns
            .iter()
            .map(|c| meta.column(&c.to_string()).map(|(_, m)| &m.column_type))
            .collect()
    };
    let rows: Vec<Vec<&mut Expr>> = match source.body.as_mut() {
        SetExpr::Values(values) => values
            .rows
            .iter_mut()
            .map(|row| row.iter_mut().collect())
            .collect(),
        // `INSERT INTO t SELECT 1, row(2, 'x')`: the select list is the one row.
        SetExpr::Select(select) => vec![
            select
                .projection
                .iter_mut()
                .filter_map(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(e)
                    }
                    _ => None,
                })
                .collect(),
        ],
        _ => return,
    };
    for row in rows {
        for (value, target) in row.into_iter().zip(&targets) {
            if let Some(ColumnType::Struct { fields }) = target {
                let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
                rename_struct_value(value, &names);
            }
        }
    }
}

fn rename_struct_value(value: &mut Expr, names: &[String]) {
    let values = match value {
        Expr::Function(f) => match f.name.to_string().to_ascii_lowercase().as_str() {
            "row" | "struct" => function_args(f),
            "named_struct" => function_args(f).into_iter().skip(1).step_by(2).collect(),
            _ => return,
        },
        Expr::Struct { values, fields } if fields.is_empty() => values.clone(),
        _ => return,
    };
    if values.len() == names.len() {
        *value = named_struct(values, Some(names));
    }
}

/// `named_struct('a', 1).a`, `arr[1].a`: `.name` after a value that is not a column name
/// (DataFusion takes `.name` only after a column name) becomes `.'name'`, which DataFusion plans as
/// the struct's field.
pub(crate) fn struct_fields_by_name(
    root: &Expr,
    access_chain: &mut [snaprock_sql::sqlparser::ast::AccessExpr],
) {
    use snaprock_sql::sqlparser::ast::AccessExpr;
    let mut after_value = !matches!(root, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
    for access in access_chain {
        match access {
            AccessExpr::Dot(Expr::Identifier(field)) if after_value => {
                *access = AccessExpr::Dot(Expr::value(
                    snaprock_sql::sqlparser::ast::Value::SingleQuotedString(field.value.clone()),
                ));
            }
            AccessExpr::Dot(_) => {}
            AccessExpr::Subscript(_) => after_value = true,
        }
    }
}

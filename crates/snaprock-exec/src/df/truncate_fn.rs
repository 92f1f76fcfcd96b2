//! StarRocks' `truncate(x, d)`: DataFusion's `trunc`, except that a DECIMAL truncated to a
//! literal `d` places keeps `d` decimals (`truncate(3.14, 1)` is `3.1`, not `3.10`), as
//! StarRocks answers. Other arguments answer as `trunc` does.

use std::sync::Arc;

use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::prelude::SessionContext;

pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(Truncate::new()));
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Truncate {
    trunc: Arc<ScalarUDF>,
}

impl Truncate {
    fn new() -> Self {
        Truncate {
            trunc: datafusion::functions::math::trunc(),
        }
    }
}

/// The decimals a literal second argument keeps.
fn literal_places(args: &ReturnFieldArgs) -> Option<i64> {
    match args.scalar_arguments.get(1).copied().flatten()? {
        ScalarValue::Int64(Some(n)) => Some(*n),
        ScalarValue::Int32(Some(n)) => Some(i64::from(*n)),
        ScalarValue::Int16(Some(n)) => Some(i64::from(*n)),
        ScalarValue::Int8(Some(n)) => Some(i64::from(*n)),
        _ => None,
    }
}

impl ScalarUDFImpl for Truncate {
    fn name(&self) -> &str {
        "truncate"
    }

    fn signature(&self) -> &Signature {
        self.trunc.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        self.trunc.inner().coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.trunc.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        let field = self.trunc.return_field_from_args(ReturnFieldArgs {
            arg_fields: args.arg_fields,
            scalar_arguments: args.scalar_arguments,
        })?;
        let data_type = match (field.data_type(), literal_places(&args)) {
            (DataType::Decimal128(p, s), Some(places)) => {
                DataType::Decimal128(*p, places.clamp(0, i64::from(*s)) as i8)
            }
            (other, _) => other.clone(),
        };
        Ok(Arc::new(Field::new(
            self.name(),
            data_type,
            field.is_nullable(),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        let truncated = self.trunc.invoke_with_args(ScalarFunctionArgs {
            return_field: Arc::new(Field::new(
                "trunc",
                self.trunc.return_type(
                    &args
                        .arg_fields
                        .iter()
                        .map(|f| f.data_type().clone())
                        .collect::<Vec<_>>(),
                )?,
                true,
            )),
            ..args
        })?;
        // The digits past `places` are zero by now: narrowing the scale loses nothing.
        match truncated {
            ColumnarValue::Array(array) if array.data_type() != &target => {
                Ok(ColumnarValue::Array(cast(&array, &target)?))
            }
            ColumnarValue::Scalar(scalar) if scalar.data_type() != target => {
                Ok(ColumnarValue::Scalar(scalar.cast_to(&target)?))
            }
            other => Ok(other),
        }
    }
}

//! StarRocks' time bucketing: `time_slice(dt, INTERVAL n unit [, FLOOR | CEIL])` (a DATETIME)
//! and `date_slice(d, INTERVAL n unit [, FLOOR | CEIL])` (a DATE): the start (or end) of the
//! n-unit window holding the value, windows counted from 0001-01-01 00:00:00 as StarRocks
//! counts them; and `to_iso8601(d)`.
//!
//! The calls are rewritten in the AST (`rewrite`) into `__snaprock_time_slice(dt, n, 'unit',
//! 'floor' | 'ceil')` (and the date one), registered here; DataFusion's `date_bin` cannot
//! start at year 1 (its nanosecond timestamps begin in 1677).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use snaprock_sql::sqlparser::ast::{Expr, Function};

use super::date_arith::{EPOCH_DAYS_FROM_CE, datetimes, interval_unit, shift};
use super::rewrite::string_literal;
use super::rewrite_functions::{call, function_args};
use crate::{ExecError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    TimeSlice,
    DateSlice,
    ToIso8601,
}

const FUNCTIONS: &[(Kind, &str)] = &[
    (Kind::TimeSlice, "__snaprock_time_slice"),
    (Kind::DateSlice, "__snaprock_date_slice"),
    (Kind::ToIso8601, "to_iso8601"),
];

pub(crate) fn register(ctx: &SessionContext) {
    for (kind, name) in FUNCTIONS {
        ctx.register_udf(ScalarUDF::new_from_impl(SliceUdf {
            kind: *kind,
            name,
            signature: Signature::variadic_any(Volatility::Immutable),
        }));
    }
}

/// `time_slice(dt, INTERVAL n unit [, boundary])` / `date_slice(...)` as the registered call.
pub(crate) fn rewrite(name: &str, f: &Function) -> Result<Option<Expr>> {
    let target = match name {
        "time_slice" => "__snaprock_time_slice",
        "date_slice" => "__snaprock_date_slice",
        _ => return Ok(None),
    };
    let args = function_args(f);
    let (value, interval, boundary) = match args.as_slice() {
        [value, Expr::Interval(interval)] => (value, interval, "floor".to_string()),
        [value, Expr::Interval(interval), boundary] => (value, interval, boundary_word(boundary)?),
        _ => {
            return Err(ExecError::Analysis(format!(
                "{name} requires a value, an INTERVAL and optionally FLOOR or CEIL"
            )));
        }
    };
    let unit = interval_unit(interval.leading_field.as_ref(), name)?;
    if target == "__snaprock_date_slice"
        && !matches!(unit, "day" | "week" | "month" | "quarter" | "year")
    {
        return Err(ExecError::Analysis(format!(
            "date_slice function can't support time unit {}",
            unit.to_uppercase()
        )));
    }
    Ok(Some(call(
        target,
        vec![
            value.clone(),
            (*interval.value).clone(),
            string_literal(unit.to_string()),
            string_literal(boundary),
        ],
    )))
}

fn boundary_word(expr: &Expr) -> Result<String> {
    let word = match expr {
        Expr::Identifier(i) => i.value.to_lowercase(),
        other => snaprock_sql::literal_text(other)
            .unwrap_or_default()
            .to_lowercase(),
    };
    match word.as_str() {
        "floor" | "ceil" => Ok(word),
        _ => Err(ExecError::Analysis(format!(
            "time_slice requires FLOOR or CEIL as its boundary, not {word}"
        ))),
    }
}

/// The start of the `count`-`unit` window (from 0001-01-01) holding `value`, or with `ceil`
/// its end (the value itself when it starts a window).
fn slice(value: NaiveDateTime, count: i64, unit: &str, ceil: bool) -> Option<NaiveDateTime> {
    if count <= 0 {
        return None;
    }
    let origin = NaiveDate::from_ymd_opt(1, 1, 1)?.and_time(NaiveTime::MIN);
    let floor = match unit {
        "month" | "quarter" | "year" => {
            let months_per_unit = match unit {
                "month" => 1,
                "quarter" => 3,
                _ => 12,
            };
            let step = count.checked_mul(months_per_unit)?;
            let months = i64::from(value.year() - 1) * 12 + i64::from(value.month0());
            let start = months.div_euclid(step) * step;
            shift(origin, start, "month")?
        }
        _ => {
            let seconds_per_unit = match unit {
                "second" => 1,
                "minute" => 60,
                "hour" => 3_600,
                "day" => 86_400,
                _ => 7 * 86_400,
            };
            let step = count.checked_mul(seconds_per_unit)?;
            let elapsed = (value - origin).num_seconds();
            shift(origin, elapsed.div_euclid(step) * step, "second")?
        }
    };
    if ceil && floor != value {
        return shift(floor, count, unit);
    }
    Some(floor)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SliceUdf {
    kind: Kind,
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for SliceUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(match self.kind {
            Kind::TimeSlice => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::DateSlice => DataType::Date32,
            Kind::ToIso8601 => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<DfResult<Vec<_>>>()?;
        let values = datetimes(&arrays[0])?;
        let result: ArrayRef = match self.kind {
            Kind::ToIso8601 => {
                let is_date = arrays[0].data_type() == &DataType::Date32;
                Arc::new(
                    values
                        .iter()
                        .map(|v| {
                            v.map(|v| match is_date {
                                true => v.format("%Y-%m-%d").to_string(),
                                false => v.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
                            })
                        })
                        .collect::<StringArray>(),
                )
            }
            Kind::TimeSlice | Kind::DateSlice => {
                let [_, counts, units, boundaries] = arrays.as_slice() else {
                    return datafusion::common::plan_err!("{} takes four arguments", self.name);
                };
                let counts = cast(counts, &DataType::Int64)?;
                let counts = counts.as_primitive::<Int64Type>();
                let units = cast(units, &DataType::Utf8)?;
                let units: &StringArray = units.as_string();
                let boundaries = cast(boundaries, &DataType::Utf8)?;
                let boundaries: &StringArray = boundaries.as_string();
                let sliced = (0..rows).map(|r| {
                    let value = values[r]?;
                    if counts.is_null(r) || units.is_null(r) {
                        return None;
                    }
                    let ceil = !boundaries.is_null(r) && boundaries.value(r) == "ceil";
                    slice(value, counts.value(r), units.value(r), ceil)
                });
                if self.kind == Kind::DateSlice {
                    Arc::new(
                        sliced
                            .map(|d| d.map(|d| d.date().num_days_from_ce() - EPOCH_DAYS_FROM_CE))
                            .collect::<Date32Array>(),
                    )
                } else {
                    Arc::new(
                        sliced
                            .map(|d| d.map(|d| d.and_utc().timestamp_micros()))
                            .collect::<TimestampMicrosecondArray>(),
                    )
                }
            }
        };
        super::udf_answer(&args.args, rows, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn windows_count_from_year_one() {
        // StarRocks' documentation examples.
        assert_eq!(
            slice(at("2022-04-26 00:00:00"), 5, "year", false),
            Some(at("2021-01-01 00:00:00"))
        );
        assert_eq!(
            slice(at("0001-01-07 00:00:00"), 5, "day", true),
            Some(at("0001-01-11 00:00:00"))
        );
        assert_eq!(
            slice(at("1691-12-23 04:01:09"), 5, "second", false),
            Some(at("1691-12-23 04:01:05"))
        );
        let value = at("2023-10-31 09:10:00");
        let cases = [
            (5, "minute", false, "2023-10-31 09:10:00"),
            (5, "minute", true, "2023-10-31 09:10:00"),
            (1, "week", false, "2023-10-30 00:00:00"),
            (2, "month", false, "2023-09-01 00:00:00"),
            (1, "quarter", false, "2023-10-01 00:00:00"),
            (1, "year", true, "2024-01-01 00:00:00"),
        ];
        for (count, unit, ceil, expected) in cases {
            assert_eq!(
                slice(value, count, unit, ceil),
                Some(at(expected)),
                "{count} {unit}"
            );
        }
        assert_eq!(
            slice(at("2023-10-31 09:12:00"), 5, "minute", true),
            Some(at("2023-10-31 09:15:00"))
        );
        assert_eq!(slice(value, 0, "day", false), None);
    }
}

//! Date arithmetic as MySQL and StarRocks spell it: `DATE_ADD(d, INTERVAL n unit)`,
//! `DATE_SUB`, `ADDDATE`, `SUBDATE`, `TIMESTAMPADD`, StarRocks' `days_add(d, n)` family (and
//! `_sub`), `DATEDIFF`, `TIMESTAMPDIFF` and StarRocks' `days_diff(a, b)` family, and
//! `STR_TO_DATE(s, format)`.
//!
//! The calls are rewritten in the AST (`rewrite_date_call`) into a few functions registered
//! here, one per unit (`__snaprock_add_day(d, n)`, `__snaprock_diff_month(a, b)`): DataFusion
//! cannot add an interval to a string or a non-literal count of months. A date plus whole days
//! stays a DATE; anything else is a DATETIME, as in StarRocks. Months are added the MySQL way
//! (Jan 31 + 1 month = Feb 29); a value that cannot be read gives NULL.

use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use snaprock_sql::sqlparser::ast::{BinaryOperator, DateTimeField, Expr, Function, UnaryOperator};

use crate::df::mysql_functions::parse_datetime;
use crate::df::rewrite_functions::{call, function_args};
use crate::{ExecError, Result};

/// Units of date arithmetic, smallest first.
const UNITS: &[&str] = &[
    "second", "minute", "hour", "day", "week", "month", "quarter", "year",
];

pub(crate) const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Registers the functions the rewritten calls use.
pub(crate) fn register(ctx: &SessionContext) {
    for unit in UNITS {
        for kind in [Kind::Add, Kind::Diff] {
            ctx.register_udf(ScalarUDF::new_from_impl(DateUdf::new(kind, unit)));
        }
    }
    ctx.register_udf(ScalarUDF::new_from_impl(DateUdf::new(
        Kind::DateDiff,
        "day",
    )));
}

/// The call that replaces a date-arithmetic call, if `name` is one.
/// StarRocks' `last_day(d[, 'month' | 'quarter' | 'year'])`: the last DATE of d's period
/// (the first day of the next period, less one day).
fn last_day(date: &Expr, unit: &str) -> Expr {
    let months = match unit {
        "quarter" => 3,
        "year" => 12,
        _ => 1,
    };
    let number = |n: i64| {
        Expr::value(snaprock_sql::sqlparser::ast::Value::Number(
            n.to_string(),
            false,
        ))
    };
    let start = call(
        "date_trunc",
        vec![
            Expr::value(snaprock_sql::sqlparser::ast::Value::SingleQuotedString(
                unit.to_string(),
            )),
            date.clone(),
        ],
    );
    let next = call("__snaprock_add_month", vec![start, number(months)]);
    Expr::Cast {
        kind: snaprock_sql::sqlparser::ast::CastKind::Cast,
        expr: Box::new(call("__snaprock_add_day", vec![next, number(-1)])),
        data_type: snaprock_sql::sqlparser::ast::DataType::Date,
        array: false,
        format: None,
    }
}

/// `d + INTERVAL n unit`, `INTERVAL n unit + d`, `d - INTERVAL n unit` as MySQL reads them:
/// DATE_ADD / DATE_SUB, so a date written as text (`'2025-05-30' - INTERVAL 3 MONTH`) works too.
pub(crate) fn rewrite_interval_arithmetic(
    left: &Expr,
    op: &BinaryOperator,
    right: &Expr,
) -> Result<Option<Expr>> {
    let (base, interval, name) = match (left, op, right) {
        (base, BinaryOperator::Plus, Expr::Interval(_)) => (base, right, "date_add"),
        (Expr::Interval(_), BinaryOperator::Plus, base) => (base, left, "date_add"),
        (base, BinaryOperator::Minus, Expr::Interval(_)) => (base, right, "date_sub"),
        _ => return Ok(None),
    };
    let Expr::Function(f) = call(name, vec![base.clone(), interval.clone()]) else {
        return Ok(None);
    };
    rewrite_date_call(name, &f)
}

pub(crate) fn rewrite_date_call(name: &str, f: &Function) -> Result<Option<Expr>> {
    let args = function_args(f);
    let shifted = |base: &Expr, count: Expr, unit: &str, negate: bool| {
        let count = if negate {
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: Box::new(Expr::Nested(Box::new(count))),
            }
        } else {
            count
        };
        call(&format!("__snaprock_add_{unit}"), vec![base.clone(), count])
    };
    let replacement = match (name, args.as_slice()) {
        ("date_add" | "adddate" | "date_sub" | "subdate", [base, Expr::Interval(interval)]) => {
            let unit = interval_unit(interval.leading_field.as_ref(), name)?;
            let negate = name == "date_sub" || name == "subdate";
            shifted(base, (*interval.value).clone(), unit, negate)
        }
        // ADDDATE(d, n) / SUBDATE(d, n), and StarRocks' DATE_ADD(d, n) / DATE_SUB(d, n): n days.
        ("adddate" | "subdate" | "date_add" | "date_sub", [base, count]) => shifted(
            base,
            count.clone(),
            "day",
            name == "subdate" || name == "date_sub",
        ),
        ("timestampadd", [unit, count, base]) => {
            shifted(base, count.clone(), unit_word(unit, name)?, false)
        }
        ("timestampdiff", [unit, from, to]) => call(
            &format!("__snaprock_diff_{}", unit_word(unit, name)?),
            vec![to.clone(), from.clone()],
        ),
        ("datediff", [a, b]) => call("__snaprock_datediff", vec![a.clone(), b.clone()]),
        ("last_day", [date]) => last_day(date, "month"),
        ("last_day", [date, Expr::Value(unit)]) => {
            match unit.value.to_string().trim_matches('\'') {
                u @ ("month" | "quarter" | "year") => last_day(date, u),
                other => {
                    return Err(ExecError::Plan(format!(
                        "last_day: the unit must be month, quarter or year, not {other}"
                    )));
                }
            }
        }
        (other, [base, count]) => match starrocks_unit(other) {
            Some((unit, "add")) => shifted(base, count.clone(), unit, false),
            Some((unit, "sub")) => shifted(base, count.clone(), unit, true),
            Some((unit, _)) => call(
                &format!("__snaprock_diff_{unit}"),
                vec![base.clone(), count.clone()],
            ),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(replacement))
}

/// StarRocks' `days_add` / `months_sub` / `years_diff` ...: the unit and the operation.
fn starrocks_unit(name: &str) -> Option<(&'static str, &'static str)> {
    let (plural, operation) = name.rsplit_once('_')?;
    if !matches!(operation, "add" | "sub" | "diff") {
        return None;
    }
    let unit = UNITS
        .iter()
        .find(|u| plural == format!("{u}s") && **u != "quarter")?;
    let operation = match operation {
        "add" => "add",
        "sub" => "sub",
        _ => "diff",
    };
    Some((unit, operation))
}

pub(crate) fn interval_unit(field: Option<&DateTimeField>, function: &str) -> Result<&'static str> {
    let text = field
        .map(|f| f.to_string().to_lowercase())
        .unwrap_or_default();
    UNITS
        .iter()
        .find(|u| text == **u || text == format!("{u}s"))
        .copied()
        .ok_or_else(|| {
            ExecError::Unsupported(format!(
                "{} with INTERVAL unit '{text}'",
                function.to_uppercase()
            ))
        })
}

/// A unit written as a word (`TIMESTAMPADD(DAY, ...)`) or a string.
fn unit_word(expr: &Expr, function: &str) -> Result<&'static str> {
    let text = match expr {
        Expr::Identifier(i) => i.value.to_lowercase(),
        other => snaprock_sql::literal_text(other)
            .unwrap_or_default()
            .to_lowercase(),
    };
    UNITS
        .iter()
        .find(|u| text == **u || text == format!("sql_tsi_{u}"))
        .copied()
        .ok_or_else(|| ExecError::Unsupported(format!("{} unit '{text}'", function.to_uppercase())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Add,
    Diff,
    /// MySQL's DATEDIFF: days between the dates, times ignored.
    DateDiff,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DateUdf {
    kind: Kind,
    unit: &'static str,
    name: String,
    signature: Signature,
}

impl DateUdf {
    fn new(kind: Kind, unit: &'static str) -> Self {
        let name = match kind {
            Kind::Add => format!("__snaprock_add_{unit}"),
            Kind::Diff => format!("__snaprock_diff_{unit}"),
            Kind::DateDiff => "__snaprock_datediff".to_string(),
        };
        DateUdf {
            kind,
            unit,
            name,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    /// Whether the unit is whole days or longer (a DATE stays a DATE).
    fn whole_days(&self) -> bool {
        matches!(self.unit, "day" | "week" | "month" | "quarter" | "year")
    }
}

impl ScalarUDFImpl for DateUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.kind {
            Kind::Add if arg_types.first() == Some(&DataType::Date32) && self.whole_days() => {
                DataType::Date32
            }
            Kind::Add => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Diff | Kind::DateDiff => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let first = datetimes(&args.args[0].to_array(rows)?)?;
        let result: ArrayRef = match self.kind {
            Kind::Add => {
                let counts = cast(&args.args[1].to_array(rows)?, &DataType::Int64)?;
                let counts = counts.as_primitive::<Int64Type>();
                let shifted = (0..rows).map(|r| {
                    let base = first[r]?;
                    (!counts.is_null(r)).then(|| shift(base, counts.value(r), self.unit))?
                });
                if args.args[0].data_type() == DataType::Date32 && self.whole_days() {
                    Arc::new(
                        shifted
                            .map(|d| d.map(|d| d.date().num_days_from_ce() - EPOCH_DAYS_FROM_CE))
                            .collect::<Date32Array>(),
                    )
                } else {
                    Arc::new(
                        shifted
                            .map(|d| d.map(|d| d.and_utc().timestamp_micros()))
                            .collect::<TimestampMicrosecondArray>(),
                    )
                }
            }
            Kind::Diff | Kind::DateDiff => {
                let second = datetimes(&args.args[1].to_array(rows)?)?;
                Arc::new(
                    (0..rows)
                        .map(|r| {
                            let (a, b) = (first[r]?, second[r]?);
                            if self.kind == Kind::DateDiff {
                                return Some(i64::from(
                                    a.date().num_days_from_ce() - b.date().num_days_from_ce(),
                                ));
                            }
                            Some(difference(a, b, self.unit))
                        })
                        .collect::<Int64Array>(),
                )
            }
        };
        super::udf_answer(&args.args, rows, result)
    }
}

/// The values of a DATE, DATETIME or text column as date-times (None where unreadable).
pub(crate) fn datetimes(array: &ArrayRef) -> DfResult<Vec<Option<NaiveDateTime>>> {
    Ok(match array.data_type() {
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>();
            (0..array.len())
                .map(|r| {
                    (!days.is_null(r))
                        .then(|| {
                            NaiveDate::from_num_days_from_ce_opt(days.value(r) + EPOCH_DAYS_FROM_CE)
                        })
                        .flatten()
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                })
                .collect()
        }
        DataType::Timestamp(_, _) => {
            let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = micros.as_primitive::<TimestampMicrosecondType>();
            (0..array.len())
                .map(|r| {
                    (!micros.is_null(r))
                        .then(|| chrono::DateTime::from_timestamp_micros(micros.value(r)))
                        .flatten()
                        .map(|t| t.naive_utc())
                })
                .collect()
        }
        _ => {
            let text = cast(array, &DataType::Utf8)?;
            let text: &StringArray = text.as_string();
            (0..array.len())
                .map(|r| {
                    (!text.is_null(r))
                        .then(|| parse_datetime(text.value(r)))
                        .flatten()
                })
                .collect()
        }
    })
}

/// `base` moved by `count` units (None past the calendar's end).
pub(crate) fn shift(base: NaiveDateTime, count: i64, unit: &str) -> Option<NaiveDateTime> {
    let months = |n: i64| {
        let magnitude = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
        if n >= 0 {
            base.checked_add_months(magnitude)
        } else {
            base.checked_sub_months(magnitude)
        }
    };
    let seconds = |per: i64| {
        base.checked_add_signed(chrono::TimeDelta::try_seconds(count.checked_mul(per)?)?)
    };
    match unit {
        "second" => seconds(1),
        "minute" => seconds(60),
        "hour" => seconds(3600),
        "day" => seconds(86_400),
        "week" => seconds(7 * 86_400),
        "month" => months(count),
        "quarter" => months(count.checked_mul(3)?),
        _ => months(count.checked_mul(12)?),
    }
}

/// Whole units from `b` to `a` (negative when `a` is earlier), truncated toward zero.
fn difference(a: NaiveDateTime, b: NaiveDateTime, unit: &str) -> i64 {
    let seconds = (a - b).num_seconds();
    match unit {
        "second" => seconds,
        "minute" => seconds / 60,
        "hour" => seconds / 3600,
        "day" => seconds / 86_400,
        "week" => seconds / (7 * 86_400),
        _ => {
            let mut months =
                i64::from(a.year() - b.year()) * 12 + i64::from(a.month()) - i64::from(b.month());
            // A month is whole once the day and time of `b` are reached again.
            let rest = |t: NaiveDateTime| (t.day(), t.num_seconds_from_midnight(), t.nanosecond());
            if months > 0 && rest(a) < rest(b) {
                months -= 1;
            } else if months < 0 && rest(a) > rest(b) {
                months += 1;
            }
            match unit {
                "month" => months,
                "quarter" => months / 3,
                _ => months / 12,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        parse_datetime(s).unwrap()
    }

    #[test]
    fn months_are_added_the_mysql_way() {
        assert_eq!(shift(t("2024-01-31"), 1, "month"), Some(t("2024-02-29")));
        assert_eq!(shift(t("2024-03-31"), -1, "month"), Some(t("2024-02-29")));
        assert_eq!(
            shift(t("2024-01-01 10:00:00"), -90, "minute"),
            Some(t("2024-01-01 08:30:00"))
        );
        assert_eq!(shift(t("2024-02-29"), 1, "year"), Some(t("2025-02-28")));
    }

    #[test]
    fn differences_count_whole_units() {
        assert_eq!(difference(t("2024-05-01"), t("2024-01-01"), "month"), 4);
        assert_eq!(difference(t("2024-05-01"), t("2024-01-02"), "month"), 3);
        assert_eq!(difference(t("2024-01-01"), t("2024-05-01"), "month"), -4);
        assert_eq!(difference(t("2025-01-01"), t("2024-01-02"), "year"), 0);
        assert_eq!(
            difference(t("2024-01-02 12:00:00"), t("2024-01-01"), "day"),
            1
        );
        assert_eq!(
            difference(t("2024-01-02 12:00:00"), t("2024-01-01"), "hour"),
            36
        );
    }

    #[test]
    fn starrocks_names_say_unit_and_operation() {
        assert_eq!(starrocks_unit("days_add"), Some(("day", "add")));
        assert_eq!(starrocks_unit("months_diff"), Some(("month", "diff")));
        assert_eq!(starrocks_unit("weeks_sub"), Some(("week", "sub")));
        assert_eq!(starrocks_unit("array_add"), None);
    }
}

//! MySQL's date-part and epoch functions, rewritten in the AST onto DataFusion's `date_part`:
//! `YEAR`, `MONTH`, `DAY` / `DAYOFMONTH`, `HOUR`, `MINUTE`, `SECOND`, `QUARTER`, `DAYOFYEAR`,
//! `DAYOFWEEK` (1 = Sunday), `WEEK` (MySQL's default mode 0: weeks start on Sunday, week 1 is
//! the one with the year's first Sunday), `WEEKOFYEAR` (ISO), `UNIX_TIMESTAMP([d])`,
//! `TO_DAYS`, `FROM_DAYS`, StarRocks' `FROM_UNIXTIME(n[, format])`, `DAYNAME`, `MONTHNAME`; and `NOW()` and its synonyms at MySQL's
//! precision (whole seconds unless `NOW(fsp)` asks for more). BI tools (Metabase, Grafana)
//! group and filter by these.

use snaprock_sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use snaprock_sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, ExactNumberInfo, Expr, Function, TimezoneInfo,
    Value,
};

use crate::df::rewrite_functions::{call, function_args};

/// Days from 0000-01-01 (MySQL's day 1 is 0000-01-01) to 1970-01-01.
const TO_DAYS_OF_EPOCH: i64 = 719_528;

fn number(n: i64) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

fn text(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_string()))
}

fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

fn timestamp(expr: Expr) -> Expr {
    cast(expr, DataType::Timestamp(None, TimezoneInfo::None))
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }))
}

/// `date_part(part, x)` as a BIGINT, x read as a datetime (a date or its text too).
fn part(name: &str, x: &Expr) -> Expr {
    cast(
        call("date_part", vec![text(name), timestamp(x.clone())]),
        DataType::BigInt(None),
    )
}

/// The replacement of a call to `name`, if it is one of these functions.
pub(crate) fn rewrite_date_part_call(name: &str, f: &Function) -> Option<Expr> {
    let args = function_args(f);
    Some(match (name, args.as_slice()) {
        ("year" | "month" | "hour" | "minute" | "quarter", [x]) => part(name, x),
        ("day" | "dayofmonth", [x]) => part("day", x),
        ("second", [x]) => cast(
            call("floor", vec![part("second", x)]),
            DataType::BigInt(None),
        ),
        ("dayofyear", [x]) => part("doy", x),
        ("weekofyear", [x]) => part("week", x),
        ("dayofweek", [x]) => binary(part("dow", x), BinaryOperator::Plus, number(1)),
        ("week", [x]) => week_mode0(x),
        ("unix_timestamp", []) => part("epoch", &call("now", Vec::new())),
        ("unix_timestamp", [x]) => part("epoch", x),
        ("to_days", [x]) => binary(
            cast(
                cast(timestamp(x.clone()), DataType::Date),
                DataType::BigInt(None),
            ),
            BinaryOperator::Plus,
            number(TO_DAYS_OF_EPOCH),
        ),
        ("from_days", [n]) => cast(
            cast(
                binary(n.clone(), BinaryOperator::Minus, number(TO_DAYS_OF_EPOCH)),
                DataType::Int(None),
            ),
            DataType::Date,
        ),
        ("from_unixtime", [n]) => from_unixtime(n, &text("%Y-%m-%d %H:%i:%s")),
        ("from_unixtime", [n, format]) => from_unixtime(n, format),
        ("dayname", [x]) => call("date_format", vec![x.clone(), text("%W")]),
        ("monthname", [x]) => call("date_format", vec![x.clone(), text("%M")]),
        (
            "now" | "current_timestamp" | "utc_timestamp" | "localtime" | "localtimestamp"
            | "sysdate",
            [],
        ) => call("date_trunc", vec![text("second"), call("now", Vec::new())]),
        _ => return None,
    })
}

/// StarRocks' `from_unixtime(n[, format])`: the time `n` seconds after the epoch as text
/// (`yyyy-MM-dd HH:mm:ss` unless `format` says otherwise); NULL outside
/// [0, 253402271999] (9999-12-31 23:59:59).
fn from_unixtime(n: &Expr, format: &Expr) -> Expr {
    let seconds = cast(n.clone(), DataType::BigInt(None));
    let in_range = Expr::Between {
        expr: Box::new(seconds.clone()),
        negated: false,
        low: Box::new(number(0)),
        high: Box::new(number(253_402_271_999)),
    };
    let formatted = call(
        "date_format",
        vec![call("to_timestamp_seconds", vec![seconds]), format.clone()],
    );
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: in_range,
            result: formatted,
        }],
        else_result: Some(Box::new(Expr::value(Value::Null))),
    }
}

/// MySQL's WEEK(x) in mode 0: 0 before the year's first Sunday, then 1, 2, ...
/// `floor((doy - first_sunday + 7) / 7)`, the first Sunday's day of the year being
/// `(7 - dow(Jan 1)) % 7 + 1`.
fn week_mode0(x: &Expr) -> Expr {
    let jan1 = call("date_trunc", vec![text("year"), timestamp(x.clone())]);
    let first_sunday = binary(
        binary(
            binary(number(7), BinaryOperator::Minus, part("dow", &jan1)),
            BinaryOperator::Modulo,
            number(7),
        ),
        BinaryOperator::Plus,
        number(1),
    );
    let days = binary(
        binary(part("doy", x), BinaryOperator::Minus, first_sunday),
        BinaryOperator::Plus,
        number(7),
    );
    cast(
        call(
            "floor",
            vec![binary(
                cast(days, DataType::Double(ExactNumberInfo::None)),
                BinaryOperator::Divide,
                number(7),
            )],
        ),
        DataType::BigInt(None),
    )
}

//! StarRocks' scalar functions that DataFusion lacks: `str_to_date` (MySQL format
//! specifiers), `money_format`, `url_encode` / `url_decode`, and the JSON accessors
//! `json_query` (also the `->` operator), `get_json_string`, `get_json_int`,
//! `get_json_double` over JSON text with `$.a.b[0]` paths. A value that cannot be read, or a
//! path that leads nowhere, gives NULL, as in StarRocks.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    StrToDate,
    MoneyFormat,
    UrlEncode,
    UrlDecode,
    JsonQuery,
    GetJsonString,
    GetJsonInt,
    GetJsonDouble,
}

const FUNCTIONS: &[(Function, &str, usize)] = &[
    (Function::StrToDate, "str_to_date", 2),
    (Function::MoneyFormat, "money_format", 1),
    (Function::UrlEncode, "url_encode", 1),
    (Function::UrlDecode, "url_decode", 1),
    (Function::JsonQuery, "json_query", 2),
    (Function::GetJsonString, "get_json_string", 2),
    (Function::GetJsonInt, "get_json_int", 2),
    (Function::GetJsonDouble, "get_json_double", 2),
];

/// Registers the functions into `ctx`.
pub(crate) fn register(ctx: &SessionContext) {
    for (function, name, arguments) in FUNCTIONS {
        ctx.register_udf(ScalarUDF::new_from_impl(Udf {
            function: *function,
            name,
            signature: Signature::any(*arguments, Volatility::Immutable),
        }));
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Udf {
    function: Function,
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.function {
            Function::StrToDate => DataType::Timestamp(TimeUnit::Microsecond, None),
            Function::GetJsonInt => DataType::Int64,
            Function::GetJsonDouble => DataType::Float64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let texts = args
            .args
            .iter()
            .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Utf8)?))
            .collect::<DfResult<Vec<ArrayRef>>>()?;
        let arg = |i: usize, row: usize| -> Option<&str> {
            let column: &StringArray = texts.get(i)?.as_string();
            (!column.is_null(row)).then(|| column.value(row))
        };
        let json = |row: usize| -> Option<Json> {
            let document: Json = serde_json::from_str(arg(0, row)?).ok()?;
            json_path(&document, arg(1, row)?).cloned()
        };
        let result: ArrayRef = match self.function {
            Function::StrToDate => Arc::new(
                (0..rows)
                    .map(|r| str_to_date(arg(0, r)?, arg(1, r)?))
                    .map(|t| t.map(|t| t.and_utc().timestamp_micros()))
                    .collect::<TimestampMicrosecondArray>(),
            ),
            Function::GetJsonInt => Arc::new(
                (0..rows)
                    .map(|r| match json(r)? {
                        Json::Number(n) => n.as_i64(),
                        Json::String(s) => s.parse().ok(),
                        _ => None,
                    })
                    .collect::<Int64Array>(),
            ),
            Function::GetJsonDouble => Arc::new(
                (0..rows)
                    .map(|r| match json(r)? {
                        Json::Number(n) => n.as_f64(),
                        Json::String(s) => s.parse().ok(),
                        _ => None,
                    })
                    .collect::<Float64Array>(),
            ),
            function => Arc::new(
                (0..rows)
                    .map(|r| match function {
                        Function::MoneyFormat => money_format(arg(0, r)?),
                        Function::UrlEncode => Some(url_encode(arg(0, r)?)),
                        Function::UrlDecode => url_decode(arg(0, r)?),
                        Function::JsonQuery => json(r).map(|v| json_text(&v)),
                        _ => match json(r)? {
                            Json::String(s) => Some(s),
                            Json::Null => None,
                            other => Some(other.to_string()),
                        },
                    })
                    .collect::<StringArray>(),
            ),
        };
        super::udf_answer(&args.args, rows, result)
    }
}

/// MySQL's STR_TO_DATE: the text read with MySQL's `%` specifiers.
fn str_to_date(text: &str, format: &str) -> Option<NaiveDateTime> {
    let mut chrono_format = String::new();
    let mut has_time = false;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            chrono_format.push(c);
            continue;
        }
        let spec = chars.next()?;
        let (piece, time) = match spec {
            'Y' => ("%Y", false),
            'y' => ("%y", false),
            'm' | 'c' => ("%m", false),
            'd' | 'e' => ("%d", false),
            'b' => ("%b", false),
            'M' => ("%B", false),
            'a' => ("%a", false),
            'W' => ("%A", false),
            'j' => ("%j", false),
            'H' | 'k' => ("%H", true),
            'h' | 'I' | 'l' => ("%I", true),
            'i' => ("%M", true),
            's' | 'S' => ("%S", true),
            'f' => ("%6f", true),
            'p' => ("%p", true),
            'T' => ("%H:%M:%S", true),
            'r' => ("%I:%M:%S %p", true),
            '%' => ("%%", false),
            _ => return None,
        };
        has_time |= time;
        chrono_format.push_str(piece);
    }
    let text = text.trim();
    if has_time {
        NaiveDateTime::parse_from_str(text, &chrono_format).ok()
    } else {
        NaiveDate::parse_from_str(text, &chrono_format)
            .ok()
            .map(|d| d.and_time(chrono::NaiveTime::MIN))
    }
}

/// `1234.5` → `1,234.50`: thousands separators and two decimals (half away from zero).
fn money_format(text: &str) -> Option<String> {
    let value: f64 = text.trim().parse().ok()?;
    let cents = (value.abs() * 100.0).round() as u128;
    let (units, cents) = (cents / 100, cents % 100);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if value < 0.0 && (units > 0 || cents > 0) {
        "-"
    } else {
        ""
    };
    Some(format!("{sign}{grouped}.{cents:02}"))
}

/// `application/x-www-form-urlencoded`, as Java's URLEncoder (StarRocks' url_encode) writes it.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The value at a JSON path (`$`, `$.a.b`, `$.a[0]`, `a.b`, `$."quoted key"`).
pub(crate) fn json_path<'a>(document: &'a Json, path: &str) -> Option<&'a Json> {
    let path = path.trim();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    let mut current = document;
    loop {
        rest = rest.trim_start_matches('.');
        if rest.is_empty() {
            return Some(current);
        }
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let index: usize = after[..end].trim().parse().ok()?;
            current = current.as_array()?.get(index)?;
            rest = &after[end + 1..];
            continue;
        }
        let (key, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        current = current.as_object()?.get(key)?;
        rest = after;
    }
}

/// A JSON value as StarRocks prints one: `{"a": 1, "b": [1, 2]}` (a space after each `:`
/// and `,`; keys in order, as the binary JSON StarRocks stores keeps them).
pub(crate) fn json_text(value: &Json) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, StarRocksJson);
    if value.serialize(&mut serializer).is_err() {
        return value.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| value.to_string())
}

struct StarRocksJson;

impl serde_json::ser::Formatter for StarRocksJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_printed_as_starrocks_prints_it() {
        let v: Json = serde_json::from_str(r#"{"b":[1,2,{"c":null}],"a":"x"}"#).unwrap();
        assert_eq!(json_text(&v), r#"{"a": "x", "b": [1, 2, {"c": null}]}"#);
    }

    #[test]
    fn str_to_date_reads_mysql_formats() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            str_to_date("2014-12-21 12:34:56", "%Y-%m-%d %H:%i:%s"),
            Some(t("2014-12-21 12:34:56"))
        );
        assert_eq!(
            str_to_date("21/12/2014", "%d/%m/%Y"),
            Some(t("2014-12-21 00:00:00"))
        );
        assert_eq!(str_to_date("nonsense", "%Y-%m-%d"), None);
    }

    #[test]
    fn money_and_urls() {
        assert_eq!(money_format("1234.5").as_deref(), Some("1,234.50"));
        assert_eq!(money_format("-0.001").as_deref(), Some("0.00"));
        assert_eq!(
            money_format("-1234567.891").as_deref(),
            Some("-1,234,567.89")
        );
        assert_eq!(url_encode("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(url_decode("a+b%26c%2F%C3%A9").as_deref(), Some("a b&c/é"));
    }

    #[test]
    fn json_paths() {
        let doc: Json = serde_json::from_str(r#"{"a": {"b": [1, {"c": "x"}]}, "k y": 2}"#).unwrap();
        assert_eq!(json_path(&doc, "$.a.b[1].c"), Some(&Json::from("x")));
        assert_eq!(json_path(&doc, "a.b[0]"), Some(&Json::from(1)));
        assert_eq!(json_path(&doc, "$.\"k y\""), Some(&Json::from(2)));
        assert_eq!(json_path(&doc, "$.nope"), None);
        assert_eq!(json_path(&doc, "$"), Some(&doc));
    }
}

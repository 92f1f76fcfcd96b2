//! More MySQL and StarRocks scalar functions DataFusion lacks, each a plain function over its
//! arguments' text: `hex` / `unhex`, `bin`, `conv`, `crc32`, `regexp_extract`, `parse_url`,
//! `week(d, mode)` and `yearweek` with MySQL's eight week modes, `next_day` / `previous_day`,
//! `makedate`, `sec_to_time` / `time_to_sec`, and the JSON constructors and probes
//! `json_object`, `json_array`, `json_length`, `json_keys`, `json_exists`. A value that cannot
//! be read gives NULL, as in MySQL and StarRocks.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Weekday};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int64Array, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use serde_json::Value as Json;

use super::starrocks_functions::{json_path, json_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    Hex,
    Unhex,
    Bin,
    Conv,
    Crc32,
    RegexpExtract,
    ParseUrl,
    Week,
    YearWeek,
    NextDay,
    PreviousDay,
    MakeDate,
    SecToTime,
    TimeToSec,
    JsonObject,
    JsonArray,
    JsonLength,
    JsonKeys,
    JsonExists,
}

/// (function, name, its answer's type).
const FUNCTIONS: &[(Function, &str, DataType)] = &[
    (Function::Hex, "hex", DataType::Utf8),
    (Function::Unhex, "unhex", DataType::Utf8),
    (Function::Bin, "bin", DataType::Utf8),
    (Function::Conv, "conv", DataType::Utf8),
    (Function::Crc32, "crc32", DataType::Int64),
    (Function::RegexpExtract, "regexp_extract", DataType::Utf8),
    (Function::ParseUrl, "parse_url", DataType::Utf8),
    (Function::Week, "week", DataType::Int64),
    (Function::YearWeek, "yearweek", DataType::Int64),
    (Function::NextDay, "next_day", DataType::Date32),
    (Function::PreviousDay, "previous_day", DataType::Date32),
    (Function::MakeDate, "makedate", DataType::Date32),
    (Function::SecToTime, "sec_to_time", DataType::Utf8),
    (Function::TimeToSec, "time_to_sec", DataType::Int64),
    (Function::JsonObject, "json_object", DataType::Utf8),
    (Function::JsonArray, "json_array", DataType::Utf8),
    (Function::JsonLength, "json_length", DataType::Int64),
    (Function::JsonKeys, "json_keys", DataType::Utf8),
    (Function::JsonExists, "json_exists", DataType::Boolean),
];

/// Registers the functions into `ctx`.
pub(crate) fn register(ctx: &SessionContext) {
    for (function, name, answer) in FUNCTIONS {
        ctx.register_udf(ScalarUDF::new_from_impl(Udf {
            function: *function,
            name,
            answer: answer.clone(),
            signature: Signature::variadic_any(Volatility::Immutable),
        }));
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Udf {
    function: Function,
    name: &'static str,
    answer: DataType,
    signature: Signature,
}

/// One call's arguments as text, with their types (JSON values, `hex`).
struct Arguments {
    texts: Vec<ArrayRef>,
    types: Vec<DataType>,
}

impl Arguments {
    fn get(&self, i: usize, row: usize) -> Option<&str> {
        let column: &StringArray = self.texts.get(i)?.as_string();
        (!column.is_null(row)).then(|| column.value(row))
    }

    fn int(&self, i: usize, row: usize) -> Option<i64> {
        let text = self.get(i, row)?.trim();
        text.parse()
            .ok()
            .or_else(|| text.parse::<f64>().ok().map(|f| f as i64))
    }

    fn numeric(&self, i: usize) -> bool {
        self.types.get(i).is_some_and(DataType::is_numeric)
    }

    /// Argument `i` as a JSON value: a number or boolean as one, NULL as null, anything else
    /// as a string.
    fn json(&self, i: usize, row: usize) -> Json {
        match (self.get(i, row), self.types.get(i)) {
            (None, _) => Json::Null,
            (Some(text), Some(DataType::Boolean)) => Json::Bool(text == "true"),
            (Some(text), _) if self.numeric(i) => serde_json::from_str(text).unwrap_or(Json::Null),
            (Some(text), _) => Json::String(text.to_string()),
        }
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.answer.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arguments = Arguments {
            texts: args
                .args
                .iter()
                .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Utf8)?))
                .collect::<DfResult<Vec<ArrayRef>>>()?,
            types: args.args.iter().map(ColumnarValue::data_type).collect(),
        };
        let result: ArrayRef = match &self.answer {
            DataType::Int64 => Arc::new(
                (0..rows)
                    .map(|r| int_answer(self.function, &arguments, r))
                    .collect::<Int64Array>(),
            ),
            DataType::Date32 => Arc::new(
                (0..rows)
                    .map(|r| date_answer(self.function, &arguments, r).map(days_since_epoch))
                    .collect::<Date32Array>(),
            ),
            DataType::Boolean => Arc::new(
                (0..rows)
                    .map(|r| {
                        let document: Json = serde_json::from_str(arguments.get(0, r)?).ok()?;
                        Some(json_path(&document, arguments.get(1, r)?).is_some())
                    })
                    .collect::<BooleanArray>(),
            ),
            _ => {
                let mut patterns = HashMap::new();
                Arc::new(
                    (0..rows)
                        .map(|r| text_answer(self.function, &arguments, r, &mut patterns))
                        .collect::<StringArray>(),
                )
            }
        };
        super::udf_answer(&args.args, rows, result)
    }
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

fn int_answer(function: Function, a: &Arguments, row: usize) -> Option<i64> {
    match function {
        Function::Crc32 => Some(i64::from(crc32fast::hash(a.get(0, row)?.as_bytes()))),
        Function::Week => {
            let mode = if a.texts.len() > 1 { a.int(1, row)? } else { 0 };
            Some(mysql_week(date_of(a.get(0, row)?)?, week_mode(mode)).1)
        }
        Function::YearWeek => {
            let mode = if a.texts.len() > 1 { a.int(1, row)? } else { 0 };
            let (year, week) = mysql_week(date_of(a.get(0, row)?)?, week_mode(mode) | WEEK_YEAR);
            Some(i64::from(year) * 100 + week)
        }
        Function::TimeToSec => time_to_sec(a.get(0, row)?),
        Function::JsonLength => {
            let document: Json = serde_json::from_str(a.get(0, row)?).ok()?;
            let value = match a.get(1, row) {
                Some(path) if a.texts.len() > 1 => json_path(&document, path)?,
                _ => &document,
            };
            Some(match value {
                Json::Array(items) => items.len() as i64,
                Json::Object(fields) => fields.len() as i64,
                _ => 1,
            })
        }
        _ => None,
    }
}

fn date_answer(function: Function, a: &Arguments, row: usize) -> Option<NaiveDate> {
    match function {
        Function::NextDay | Function::PreviousDay => {
            let date = date_of(a.get(0, row)?)?;
            let target = weekday_named(a.get(1, row)?)?;
            let step = if function == Function::NextDay { 1 } else { -1 };
            (1..=7)
                .map(|n| date + chrono::Duration::days(n * step))
                .find(|d| d.weekday() == target)
        }
        Function::MakeDate => {
            let (year, day) = (a.int(0, row)?, a.int(1, row)?);
            if day <= 0 || !(0..=9999).contains(&year) {
                return None;
            }
            let first = NaiveDate::from_ymd_opt(year as i32, 1, 1)?;
            first
                .checked_add_signed(chrono::Duration::days(day - 1))
                .filter(|d| d.year() <= 9999)
        }
        _ => None,
    }
}

fn text_answer(
    function: Function,
    a: &Arguments,
    row: usize,
    patterns: &mut HashMap<String, Option<regex::Regex>>,
) -> Option<String> {
    match function {
        Function::Hex if a.numeric(0) => Some(format!("{:X}", a.int(0, row)? as u64)),
        Function::Hex => Some(a.get(0, row)?.bytes().map(|b| format!("{b:02X}")).collect()),
        Function::Unhex => unhex(a.get(0, row)?),
        Function::Bin => Some(format!("{:b}", a.int(0, row)? as u64)),
        Function::Conv => conv(a.get(0, row)?, a.int(1, row)?, a.int(2, row)?),
        Function::RegexpExtract => {
            let pattern = a.get(1, row)?;
            let regex = patterns
                .entry(pattern.to_string())
                .or_insert_with(|| regex::Regex::new(pattern).ok())
                .as_ref()?;
            let index = usize::try_from(a.int(2, row)?).ok()?;
            Some(match regex.captures(a.get(0, row)?) {
                Some(found) => found.get(index)?.as_str().to_string(),
                None => String::new(),
            })
        }
        Function::ParseUrl => parse_url(a.get(0, row)?, a.get(1, row)?),
        Function::SecToTime => Some(sec_to_time(a.int(0, row)?)),
        Function::JsonObject => {
            if !a.texts.len().is_multiple_of(2) {
                return None;
            }
            let mut object = serde_json::Map::new();
            for pair in (0..a.texts.len()).step_by(2) {
                object.insert(a.get(pair, row)?.to_string(), a.json(pair + 1, row));
            }
            Some(json_text(&Json::Object(object)))
        }
        Function::JsonArray => Some(json_text(&Json::Array(
            (0..a.texts.len()).map(|i| a.json(i, row)).collect(),
        ))),
        Function::JsonKeys => {
            let document: Json = serde_json::from_str(a.get(0, row)?).ok()?;
            let value = match a.get(1, row) {
                Some(path) if a.texts.len() > 1 => json_path(&document, path)?,
                _ => &document,
            };
            let Json::Object(fields) = value else {
                return None;
            };
            Some(json_text(&Json::Array(
                fields.keys().map(|k| Json::String(k.clone())).collect(),
            )))
        }
        _ => None,
    }
}

/// A date from its text (`2024-01-02`, or a datetime's, whose time is dropped).
fn date_of(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

/// `Monday`, `Mon` or `Mo` (any case), as StarRocks' next_day reads a weekday.
fn weekday_named(name: &str) -> Option<Weekday> {
    let name = name.trim().to_ascii_lowercase();
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|day| {
        let full = match day {
            Weekday::Mon => "monday",
            Weekday::Tue => "tuesday",
            Weekday::Wed => "wednesday",
            Weekday::Thu => "thursday",
            Weekday::Fri => "friday",
            Weekday::Sat => "saturday",
            Weekday::Sun => "sunday",
        };
        name == full || name == full[..3] || name == full[..2]
    })
}

fn unhex(text: &str) -> Option<String> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// MySQL's CONV(n, from, to): the number read in base |from| (2-36), written in base |to|; a
/// negative `to` writes a signed number, otherwise it is read as unsigned 64 bits.
fn conv(text: &str, from: i64, to: i64) -> Option<String> {
    let (from, to_abs) = (from.unsigned_abs(), to.unsigned_abs());
    if !(2..=36).contains(&from) || !(2..=36).contains(&to_abs) {
        return None;
    }
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // MySQL reads the longest valid prefix.
    let valid: String = digits
        .chars()
        .take_while(|c| c.is_digit(from as u32))
        .collect();
    let magnitude = if valid.is_empty() {
        0
    } else {
        u64::from_str_radix(&valid, from as u32).unwrap_or(u64::MAX)
    };
    let (sign, value) = match (negative, to < 0) {
        (true, true) => ("-", magnitude),
        (true, false) => ("", magnitude.wrapping_neg()),
        (false, _) => ("", magnitude),
    };
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        let digit = std::char::from_digit((rest % to_abs) as u32, to_abs as u32)?;
        out.push(digit.to_ascii_uppercase());
        rest /= to_abs;
        if rest == 0 {
            break;
        }
    }
    Some(format!("{sign}{}", out.iter().rev().collect::<String>()))
}

/// StarRocks' parse_url(url, part): PROTOCOL, HOST, PATH, QUERY, REF, AUTHORITY, FILE,
/// USERINFO; NULL for a part the URL lacks.
fn parse_url(text: &str, part: &str) -> Option<String> {
    let parsed = url::Url::parse(text.trim()).ok()?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match part.trim().to_ascii_uppercase().as_str() {
        "PROTOCOL" => Some(parsed.scheme().to_string()),
        "HOST" => parsed.host_str().map(str::to_string),
        "PATH" => non_empty(parsed.path()),
        "QUERY" => parsed.query().map(str::to_string),
        "REF" => parsed.fragment().map(str::to_string),
        "AUTHORITY" => {
            let host = parsed.host_str()?;
            Some(match parsed.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            })
        }
        "FILE" => Some(match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        }),
        "USERINFO" => {
            let user = parsed.username();
            match parsed.password() {
                Some(password) => Some(format!("{user}:{password}")),
                None => non_empty(user),
            }
        }
        _ => None,
    }
}

/// MySQL's SEC_TO_TIME: `[-]HH:MM:SS`, hours past 24 kept, bounded at 838:59:59.
fn sec_to_time(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let total = seconds.unsigned_abs().min(838 * 3600 + 59 * 60 + 59);
    format!(
        "{sign}{:02}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// MySQL's TIME_TO_SEC of `[-]H:MM:SS` or of a datetime's time.
fn time_to_sec(text: &str) -> Option<i64> {
    let text = text.trim();
    let time = text.rsplit([' ', 'T']).next()?;
    let (sign, time) = match time.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, time),
    };
    let mut parts = time.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    let seconds: f64 = parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
    Some(sign * (hours * 3600 + minutes * 60 + seconds as i64))
}

const WEEK_MONDAY_FIRST: i64 = 1;
const WEEK_YEAR: i64 = 2;
const WEEK_FIRST_WEEKDAY: i64 = 4;

/// MySQL's mode number as its behaviour bits (`week_mode` in MySQL's source).
fn week_mode(mode: i64) -> i64 {
    let mut behaviour = mode & 7;
    if behaviour & WEEK_MONDAY_FIRST == 0 {
        behaviour ^= WEEK_FIRST_WEEKDAY;
    }
    behaviour
}

fn days_in_year(year: i32) -> i64 {
    if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    }
}

/// MySQL's `calc_week`: (year the week belongs to, week number) of `date` under `behaviour`.
fn mysql_week(date: NaiveDate, behaviour: i64) -> (i32, i64) {
    let monday_first = behaviour & WEEK_MONDAY_FIRST != 0;
    let mut week_year = behaviour & WEEK_YEAR != 0;
    let first_weekday = behaviour & WEEK_FIRST_WEEKDAY != 0;
    let mut year = date.year();
    let day_number = i64::from(date.num_days_from_ce());
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(date);
    let mut first_day = i64::from(jan1.num_days_from_ce());
    let mut weekday = i64::from(if monday_first {
        jan1.weekday().num_days_from_monday()
    } else {
        jan1.weekday().num_days_from_sunday()
    });
    let late_start =
        |weekday: i64| (first_weekday && weekday != 0) || (!first_weekday && weekday >= 4);
    if date.month() == 1 && i64::from(date.day()) <= 7 - weekday {
        if !week_year && late_start(weekday) {
            return (year, 0);
        }
        week_year = true;
        year -= 1;
        let days = days_in_year(year);
        first_day -= days;
        weekday = (weekday + 53 * 7 - days) % 7;
    }
    let days = if late_start(weekday) {
        day_number - (first_day + (7 - weekday))
    } else {
        day_number - (first_day - weekday)
    };
    if week_year && days >= 52 * 7 {
        let next = (weekday + days_in_year(year)) % 7;
        if (!first_weekday && next < 4) || (first_weekday && next == 0) {
            return (year + 1, 1);
        }
    }
    (year, days / 7 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        date_of(text).unwrap()
    }

    /// The examples of MySQL's reference manual for WEEK and YEARWEEK.
    #[test]
    fn weeks_follow_mysql_modes() {
        let week = |date: &str, mode: i64| mysql_week(d(date), week_mode(mode)).1;
        assert_eq!(week("2008-02-20", 0), 7);
        assert_eq!(week("2008-02-20", 1), 8);
        assert_eq!(week("2008-12-31", 1), 53);
        assert_eq!(week("2000-01-01", 0), 0);
        assert_eq!(week("2000-01-01", 2), 52);
        let yearweek = |date: &str, mode: i64| {
            let (y, w) = mysql_week(d(date), week_mode(mode) | WEEK_YEAR);
            i64::from(y) * 100 + w
        };
        assert_eq!(yearweek("1987-01-01", 0), 198652);
        assert_eq!(yearweek("2024-01-01", 0), 202353);
        assert_eq!(yearweek("2024-01-07", 0), 202401);
        // Mode 3 is ISO 8601.
        assert_eq!(yearweek("2021-01-03", 3), 202053);
    }

    #[test]
    fn conversions_read_like_mysql() {
        assert_eq!(conv("a", 16, 2).as_deref(), Some("1010"));
        assert_eq!(conv("6E", 18, 8).as_deref(), Some("172"));
        assert_eq!(conv("-17", 10, -18).as_deref(), Some("-H"));
        assert_eq!(conv("10", 10, 10).as_deref(), Some("10"));
        assert_eq!(unhex("4D7953514C").as_deref(), Some("MySQL"));
        assert_eq!(sec_to_time(2378), "00:39:38");
        assert_eq!(time_to_sec("22:23:00"), Some(80580));
        assert_eq!(time_to_sec("00:39:38"), Some(2378));
    }

    #[test]
    fn urls_and_weekdays() {
        let url = "https://user:pw@example.com:8080/a/b.html?x=1&y=2#frag";
        assert_eq!(parse_url(url, "HOST").as_deref(), Some("example.com"));
        assert_eq!(parse_url(url, "path").as_deref(), Some("/a/b.html"));
        assert_eq!(parse_url(url, "QUERY").as_deref(), Some("x=1&y=2"));
        assert_eq!(parse_url(url, "REF").as_deref(), Some("frag"));
        assert_eq!(parse_url(url, "PROTOCOL").as_deref(), Some("https"));
        assert_eq!(
            parse_url(url, "AUTHORITY").as_deref(),
            Some("example.com:8080")
        );
        assert_eq!(parse_url(url, "USERINFO").as_deref(), Some("user:pw"));
        assert_eq!(weekday_named("fr"), Some(Weekday::Fri));
        assert_eq!(weekday_named("Sunday"), Some(Weekday::Sun));
        assert_eq!(weekday_named("funday"), None);
    }
}

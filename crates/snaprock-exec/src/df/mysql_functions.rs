//! MySQL's date and time functions that BI tools and drivers send and DataFusion lacks or
//! spells differently: `DATE_FORMAT` and `TIME_FORMAT` with MySQL's `%` specifiers,
//! `TIMEDIFF`, `CONVERT_TZ`. Registered into every session's DataFusion context.
//!
//! Each takes its arguments as MySQL does, as text (a DATE, DATETIME, TIMESTAMP or TIME column
//! is cast to its text first), and answers NULL for a value it cannot read, as MySQL does.

use std::sync::Arc;

use chrono::{
    Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use datafusion::arrow::array::{Array, ArrayRef, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// Registers the functions into `ctx` (replacing DataFusion's `date_format`, which takes
/// chrono's specifiers).
pub(crate) fn register(ctx: &SessionContext) {
    for function in [
        MysqlFunction::DateFormat,
        MysqlFunction::TimeFormat,
        MysqlFunction::TimeDiff,
        MysqlFunction::ConvertTz,
    ] {
        ctx.register_udf(ScalarUDF::new_from_impl(Udf::new(function)));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MysqlFunction {
    DateFormat,
    TimeFormat,
    TimeDiff,
    ConvertTz,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Udf {
    function: MysqlFunction,
    signature: Signature,
}

impl Udf {
    fn new(function: MysqlFunction) -> Self {
        let arguments = match function {
            MysqlFunction::ConvertTz => 3,
            _ => 2,
        };
        Udf {
            function,
            signature: Signature::any(arguments, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        match self.function {
            MysqlFunction::DateFormat => "date_format",
            MysqlFunction::TimeFormat => "time_format",
            MysqlFunction::TimeDiff => "timediff",
            MysqlFunction::ConvertTz => "convert_tz",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.function {
            MysqlFunction::ConvertTz => DataType::Timestamp(TimeUnit::Microsecond, None),
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let texts = args
            .args
            .iter()
            .map(|a| {
                let array = a.to_array(rows)?;
                let text = cast(&array, &DataType::Utf8)?;
                Ok(text
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .unwrap_or_else(|| StringArray::new_null(rows)))
            })
            .collect::<DfResult<Vec<StringArray>>>()?;
        let arg = |i: usize, row: usize| -> Option<&str> {
            let column = texts.get(i)?;
            (!column.is_null(row)).then(|| column.value(row))
        };
        let result: ArrayRef = match self.function {
            MysqlFunction::ConvertTz => Arc::new(
                (0..rows)
                    .map(|r| convert_tz(arg(0, r)?, arg(1, r)?, arg(2, r)?))
                    .map(|dt| dt.map(|dt| dt.and_utc().timestamp_micros()))
                    .collect::<TimestampMicrosecondArray>(),
            ),
            function => Arc::new(
                (0..rows)
                    .map(|r| {
                        let (a, b) = (arg(0, r)?, arg(1, r)?);
                        match function {
                            MysqlFunction::DateFormat => date_format(&parse_datetime(a)?, b),
                            MysqlFunction::TimeFormat => time_format(&parse_time(a)?, b),
                            _ => timediff(a, b),
                        }
                    })
                    .collect::<StringArray>(),
            ),
        };
        super::udf_answer(&args.args, rows, result)
    }
}

/// A DATE or DATETIME as text: `2024-05-01`, `2024-05-01 13:04:05[.ffffff]`, with `T` for the
/// space and a trailing `Z` or `+00:00` (how Arrow prints timestamps) allowed.
pub(crate) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    let text = match text.len() {
        n if n > 19 && matches!(text.as_bytes()[n - 6], b'+' | b'-') => &text[..n - 6],
        _ => text,
    };
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A TIME value: signed, hours past 24 allowed, with fractional seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MysqlTime {
    negative: bool,
    micros: i64,
}

/// TIME's range: ±838:59:59.
const MAX_TIME_MICROS: i64 = (838 * 3600 + 59 * 60 + 59) * 1_000_000;

impl MysqlTime {
    fn from_micros(micros: i64) -> Self {
        let clamped = micros.clamp(-MAX_TIME_MICROS, MAX_TIME_MICROS);
        MysqlTime {
            negative: clamped < 0,
            micros: clamped.abs(),
        }
    }

    fn parts(self) -> (i64, i64, i64, i64) {
        let seconds = self.micros / 1_000_000;
        (
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            self.micros % 1_000_000,
        )
    }

    fn text(self, fraction: bool) -> String {
        let (h, m, s, f) = self.parts();
        let sign = if self.negative { "-" } else { "" };
        if fraction {
            format!("{sign}{h:02}:{m:02}:{s:02}.{f:06}")
        } else {
            format!("{sign}{h:02}:{m:02}:{s:02}")
        }
    }
}

/// A TIME as text (`[-]H+:MM:SS[.f]`), or the time of day of a DATETIME.
fn parse_time(text: &str) -> Option<MysqlTime> {
    let trimmed = text.trim();
    if trimmed.len() > 10 && trimmed.as_bytes()[4] == b'-' {
        let dt = parse_datetime(trimmed)?;
        let since_midnight = dt.time() - NaiveTime::MIN;
        return since_midnight
            .num_microseconds()
            .map(MysqlTime::from_micros);
    }
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let mut fields = whole.split(':');
    let hours: i64 = fields.next()?.parse().ok()?;
    let minutes: i64 = fields.next().map_or(Some(0), |m| m.parse().ok())?;
    let seconds: i64 = fields.next().map_or(Some(0), |s| s.parse().ok())?;
    if fields.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    let digits: String = fraction.chars().chain("000000".chars()).take(6).collect();
    let micros_part: i64 = digits.parse().ok()?;
    let micros = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros_part;
    Some(MysqlTime::from_micros(if negative {
        -micros
    } else {
        micros
    }))
}

/// TIMEDIFF(a, b): `a - b`, both DATETIMEs or both TIMEs (NULL when mixed, as in MySQL).
fn timediff(a: &str, b: &str) -> Option<String> {
    let fraction = a.contains('.') || b.contains('.');
    let is_datetime = |t: &str| t.trim().len() >= 10 && t.trim().as_bytes().get(4) == Some(&b'-');
    let micros = match (is_datetime(a), is_datetime(b)) {
        (true, true) => (parse_datetime(a)? - parse_datetime(b)?).num_microseconds()?,
        (false, false) => {
            let (a, b) = (parse_time(a)?, parse_time(b)?);
            let signed = |t: MysqlTime| if t.negative { -t.micros } else { t.micros };
            signed(a) - signed(b)
        }
        _ => return None,
    };
    Some(MysqlTime::from_micros(micros).text(fraction))
}

/// CONVERT_TZ(dt, from, to) with zones as `+HH:MM`, `SYSTEM` (the server's zone, UTC), or a
/// name from the time zone database (`Europe/Berlin`, `UTC`).
fn convert_tz(datetime: &str, from: &str, to: &str) -> Option<NaiveDateTime> {
    let local = parse_datetime(datetime)?;
    let utc = match zone(from)? {
        Zone::Fixed(offset) => offset.from_local_datetime(&local).single()?.naive_utc(),
        Zone::Named(tz) => tz.from_local_datetime(&local).earliest()?.naive_utc(),
    };
    Some(match zone(to)? {
        Zone::Fixed(offset) => offset.from_utc_datetime(&utc).naive_local(),
        Zone::Named(tz) => tz.from_utc_datetime(&utc).naive_local(),
    })
}

enum Zone {
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

fn zone(name: &str) -> Option<Zone> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("SYSTEM") {
        return Some(Zone::Fixed(Utc.fix()));
    }
    if let Some(sign) = name.chars().next().filter(|c| *c == '+' || *c == '-') {
        let (h, m) = name[1..].split_once(':')?;
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        if h > 14 || m > 59 {
            return None;
        }
        let seconds = (h * 60 + m) * 60 * if sign == '-' { -1 } else { 1 };
        return FixedOffset::east_opt(seconds).map(Zone::Fixed);
    }
    name.parse::<chrono_tz::Tz>().ok().map(Zone::Named)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// DATE_FORMAT with MySQL's specifiers (`%Y-%m-%d %H:%i:%s`, `%W %M %D`, ...).
fn date_format(dt: &NaiveDateTime, format: &str) -> Option<String> {
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else { break };
        if let Some(text) = time_specifier(time_of(dt), spec) {
            out.push_str(&text);
            continue;
        }
        let weekday = dt.weekday().num_days_from_sunday() as usize;
        let month = dt.month0() as usize;
        let text = match spec {
            'a' => WEEKDAYS[weekday][..3].to_string(),
            'b' => MONTHS[month][..3].to_string(),
            'c' => dt.month().to_string(),
            'D' => format!("{}{}", dt.day(), ordinal_suffix(dt.day())),
            'd' => format!("{:02}", dt.day()),
            'e' => dt.day().to_string(),
            'j' => format!("{:03}", dt.ordinal()),
            'M' => MONTHS[month].to_string(),
            'm' => format!("{:02}", dt.month()),
            'U' => dt.format("%U").to_string(),
            'u' => format!("{:02}", monday_week(dt.date())),
            'V' => format!("{:02}", sunday_week(dt.date()).1),
            'v' => format!("{:02}", dt.iso_week().week()),
            'W' => WEEKDAYS[weekday].to_string(),
            'w' => weekday.to_string(),
            'X' => format!("{:04}", sunday_week(dt.date()).0),
            'x' => format!("{:04}", dt.iso_week().year()),
            'Y' => format!("{:04}", dt.year()),
            'y' => format!("{:02}", dt.year().rem_euclid(100)),
            other => other.to_string(),
        };
        out.push_str(&text);
    }
    Some(out)
}

/// TIME_FORMAT: the hour, minute, second and fraction specifiers; others make the result NULL.
fn time_format(time: &MysqlTime, format: &str) -> Option<String> {
    let mut out = String::with_capacity(format.len() + 8);
    if time.negative {
        out.push('-');
    }
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next()?;
        match spec {
            '%' => out.push('%'),
            spec => out.push_str(&time_specifier(*time, spec)?),
        }
    }
    Some(out)
}

fn time_of(dt: &NaiveDateTime) -> MysqlTime {
    let micros =
        i64::from(dt.num_seconds_from_midnight()) * 1_000_000 + i64::from(dt.nanosecond() / 1000);
    MysqlTime::from_micros(micros)
}

/// The specifiers DATE_FORMAT and TIME_FORMAT share; `%H` and `%k` may pass 23 for a TIME.
fn time_specifier(time: MysqlTime, spec: char) -> Option<String> {
    let (h, m, s, f) = time.parts();
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let am_pm = if h % 24 < 12 { "AM" } else { "PM" };
    Some(match spec {
        'H' => format!("{h:02}"),
        'k' => h.to_string(),
        'h' | 'I' => format!("{h12:02}"),
        'l' => h12.to_string(),
        'i' => format!("{m:02}"),
        'S' | 's' => format!("{s:02}"),
        'f' => format!("{f:06}"),
        'p' => am_pm.to_string(),
        'r' => format!("{h12:02}:{m:02}:{s:02} {am_pm}"),
        'T' => format!("{h:02}:{m:02}:{s:02}"),
        '%' => "%".to_string(),
        _ => return None,
    })
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// WEEK(date, 2) with its year (`%V`, `%X`): weeks start on Sunday, week 1 holds the year's
/// first Sunday, days before it belong to the previous year's last week.
fn sunday_week(date: NaiveDate) -> (i32, u32) {
    let week = |d: NaiveDate| d.format("%U").to_string().parse::<u32>().unwrap_or(0);
    match week(date) {
        0 => match NaiveDate::from_ymd_opt(date.year() - 1, 12, 31) {
            Some(last) => (date.year() - 1, week(last)),
            None => (date.year(), 0),
        },
        n => (date.year(), n),
    }
}

/// WEEK(date, 1) (`%u`): weeks start on Monday, week 1 is the first with four days in the year;
/// days before it are week 0, late December days stay in this year's numbering.
fn monday_week(date: NaiveDate) -> u32 {
    let iso = date.iso_week();
    match iso.year().cmp(&date.year()) {
        std::cmp::Ordering::Equal => iso.week(),
        std::cmp::Ordering::Less => 0,
        std::cmp::Ordering::Greater => (date - Duration::days(7)).iso_week().week() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(text: &str) -> NaiveDateTime {
        parse_datetime(text).unwrap()
    }

    #[test]
    fn date_format_speaks_mysql() {
        let t = dt("2009-10-04 22:23:00");
        assert_eq!(date_format(&t, "%W %M %Y").unwrap(), "Sunday October 2009");
        assert_eq!(
            date_format(&dt("2007-10-04 22:23:00"), "%H:%i:%s").unwrap(),
            "22:23:00"
        );
        assert_eq!(
            date_format(&dt("1900-10-04 22:23:00"), "%D %y %a %d %m %b %j").unwrap(),
            "4th 00 Thu 04 10 Oct 277"
        );
        assert_eq!(
            date_format(&dt("1997-10-04 22:23:00"), "%H %k %I %r %T %S %w").unwrap(),
            "22 22 10 10:23:00 PM 22:23:00 00 6"
        );
        assert_eq!(date_format(&dt("1999-01-01"), "%X %V").unwrap(), "1998 52");
        assert_eq!(
            date_format(&dt("2006-06-01T00:00:00Z"), "%e %c %%").unwrap(),
            "1 6 %"
        );
        assert_eq!(
            date_format(&dt("2024-05-01T13:04:05.123456789+00:00"), "%Y-%m-%d %f").unwrap(),
            "2024-05-01 123456"
        );
    }

    #[test]
    fn time_functions() {
        assert_eq!(
            timediff("2000-01-01 00:00:00", "2000-01-01 00:00:00.000001").unwrap(),
            "-00:00:00.000001"
        );
        assert_eq!(
            timediff("2008-12-31 23:59:59.000001", "2008-12-30 01:01:01.000002").unwrap(),
            "46:58:57.999999"
        );
        assert_eq!(timediff("10:00:00", "2008-12-30 01:01:01"), None);
        assert_eq!(
            time_format(&parse_time("100:00:00").unwrap(), "%H %k %h %I %l").unwrap(),
            "100 100 04 04 4"
        );
        assert_eq!(
            time_format(&parse_time("00:00:00").unwrap(), "%H:%i").unwrap(),
            "00:00"
        );
        assert_eq!(time_format(&parse_time("10:00:00").unwrap(), "%Y"), None);
        assert_eq!(
            convert_tz("2004-01-01 12:00:00", "+00:00", "+10:00").unwrap(),
            dt("2004-01-01 22:00:00")
        );
        assert_eq!(
            convert_tz("2004-01-01 12:00:00", "GMT", "MET").unwrap(),
            dt("2004-01-01 13:00:00")
        );
        assert_eq!(
            convert_tz("2004-01-01 12:00:00", "SYSTEM", "+00:00").unwrap(),
            dt("2004-01-01 12:00:00")
        );
        assert_eq!(
            convert_tz("2004-01-01 12:00:00", "Nowhere/City", "+00:00"),
            None
        );
    }
}

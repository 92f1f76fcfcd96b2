//! Prepared-statement parameters as the binary protocol sends them: counted in the text (`?`
//! markers outside strings and comments), turned into values for the plan (`scalar`), or, for
//! the statements that are not planned by DataFusion (SHOW, SET, DDL), into SQL literals spliced
//! at the markers (`literal`, `bind`).

use datafusion::common::ScalarValue;
use opensrv_mysql::{ColumnType, ParamValue, ValueInner};
use snaprock_sql::StarRocksDialect;
use snaprock_sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Byte ranges of the `?` placeholders of `sql`.
pub fn placeholders(sql: &str) -> Result<Vec<(usize, usize)>, String> {
    let dialect = StarRocksDialect::new();
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| e.to_string())?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |line: u64, column: u64| -> usize {
        let start = line_starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(sql.len());
        start
            + sql[start..]
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(char::len_utf8)
                .sum::<usize>()
    };
    Ok(tokens
        .iter()
        .filter(|t| matches!(&t.token, Token::Placeholder(p) if p == "?"))
        .map(|t| {
            let start = offset(t.span.start.line, t.span.start.column);
            (start, start + 1)
        })
        .collect())
}

fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// A parameter as a SQL literal.
pub fn literal(param: &ParamValue<'_>) -> String {
    match param.value.into_inner() {
        ValueInner::NULL => "NULL".to_string(),
        ValueInner::Int(i) => i.to_string(),
        ValueInner::UInt(u) => u.to_string(),
        ValueInner::Double(f) => {
            if f.is_finite() {
                format!("{f:?}")
            } else {
                "NULL".to_string()
            }
        }
        ValueInner::Bytes(b) => {
            // Bytes that are not text (a BLOB parameter) keep every byte as a hex literal.
            let Ok(text) = std::str::from_utf8(b) else {
                let hex: String = b.iter().map(|byte| format!("{byte:02X}")).collect();
                return format!("X'{hex}'");
            };
            let numeric = matches!(
                param.coltype,
                ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL
            ) && !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
            if numeric {
                text.to_string()
            } else {
                quote(text)
            }
        }
        ValueInner::Date(b) | ValueInner::Datetime(b) => match date_time_text(b) {
            Some(text) => quote(&text),
            None => "NULL".to_string(),
        },
        ValueInner::Time(b) => match time_text(b) {
            Some(text) => quote(&text),
            None => "NULL".to_string(),
        },
    }
}

/// A binary DATE / DATETIME / TIMESTAMP value (0, 4, 7 or 11 bytes: year u16, month, day,
/// then hour, minute, second, then microseconds u32) as MySQL's text: the date alone when
/// there is no time of day, as a DATE column compares it.
fn date_time_text(bytes: &[u8]) -> Option<String> {
    let DateTimeParts {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    } = date_time_parts(bytes)?;
    let date = format!("{year:04}-{month:02}-{day:02}");
    Some(match (hour, minute, second, micros) {
        (0, 0, 0, 0) => date,
        (_, _, _, 0) => format!("{date} {hour:02}:{minute:02}:{second:02}"),
        _ => format!("{date} {hour:02}:{minute:02}:{second:02}.{micros:06}"),
    })
}

/// The fields of a binary DATE / DATETIME (all zero for the 0-byte zero date).
struct DateTimeParts {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    micros: u32,
}

fn date_time_parts(bytes: &[u8]) -> Option<DateTimeParts> {
    let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let (year, month, day) = match bytes.len() {
        0 => (0, 0, 0),
        4 | 7 | 11 => (u16::from_le_bytes([bytes[0], bytes[1]]), bytes[2], bytes[3]),
        _ => return None,
    };
    let (hour, minute, second) = match bytes.len() {
        0 | 4 => (0, 0, 0),
        _ => (bytes[4], bytes[5], bytes[6]),
    };
    let micros = if bytes.len() == 11 { u32_at(7)? } else { 0 };
    Some(DateTimeParts {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    })
}

/// A binary TIME value (0, 8 or 12 bytes: negative flag, days u32, hour, minute, second, then
/// microseconds u32) as MySQL's text `[-]HHH:MM:SS[.ffffff]`.
fn time_text(bytes: &[u8]) -> Option<String> {
    let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    if bytes.is_empty() {
        return Some("00:00:00".to_string());
    }
    if bytes.len() != 8 && bytes.len() != 12 {
        return None;
    }
    let sign = if bytes[0] == 1 { "-" } else { "" };
    let hours = u64::from(u32_at(1)?) * 24 + u64::from(bytes[5]);
    let (minute, second) = (bytes[6], bytes[7]);
    Some(match bytes.len() {
        12 => format!("{sign}{hours:02}:{minute:02}:{second:02}.{:06}", u32_at(8)?),
        _ => format!("{sign}{hours:02}:{minute:02}:{second:02}"),
    })
}

/// A parameter as the value bound into a plan: numbers as numbers, DECIMAL text as a decimal,
/// DATE as a date, DATETIME as a timestamp, TIME and strings as text, other bytes as binary.
pub fn scalar(param: &ParamValue<'_>) -> ScalarValue {
    match param.value.into_inner() {
        ValueInner::NULL => ScalarValue::Null,
        ValueInner::Int(i) => ScalarValue::Int64(Some(i)),
        ValueInner::UInt(u) => ScalarValue::UInt64(Some(u)),
        ValueInner::Double(f) => ScalarValue::Float64(Some(f)),
        ValueInner::Bytes(b) => match std::str::from_utf8(b) {
            Ok(text) => {
                let decimal = matches!(
                    param.coltype,
                    ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL
                );
                decimal
                    .then(|| decimal_scalar(text))
                    .flatten()
                    .unwrap_or_else(|| ScalarValue::Utf8(Some(text.to_string())))
            }
            Err(_) => ScalarValue::Binary(Some(b.to_vec())),
        },
        ValueInner::Date(b) | ValueInner::Datetime(b) => date_time_scalar(b),
        ValueInner::Time(b) => ScalarValue::Utf8(time_text(b)),
    }
}

/// `[-]digits[.digits]` as a DECIMAL of exactly that precision and scale.
fn decimal_scalar(text: &str) -> Option<ScalarValue> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || digits.len() > 38 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let unscaled: i128 = digits.parse().ok()?;
    let scale = i8::try_from(fraction.len()).ok()?;
    let precision = u8::try_from(digits.len().max(1)).ok()?;
    let value = if negative { -unscaled } else { unscaled };
    Some(ScalarValue::Decimal128(Some(value), precision, scale))
}

/// A binary DATE / DATETIME as a date (no time of day) or a timestamp in microseconds.
fn date_time_scalar(bytes: &[u8]) -> ScalarValue {
    let Some(p) = date_time_parts(bytes) else {
        return ScalarValue::Null;
    };
    let Some(date) =
        chrono::NaiveDate::from_ymd_opt(i32::from(p.year), u32::from(p.month), u32::from(p.day))
    else {
        // '0000-00-00' and other dates chrono has no value for stay text, as MySQL shows them.
        return ScalarValue::Utf8(date_time_text(bytes));
    };
    if (p.hour, p.minute, p.second, p.micros) == (0, 0, 0, 0) {
        let days = (date - chrono::NaiveDate::default()).num_days();
        return match i32::try_from(days) {
            Ok(days) => ScalarValue::Date32(Some(days)),
            Err(_) => ScalarValue::Utf8(date_time_text(bytes)),
        };
    }
    match date.and_hms_micro_opt(
        u32::from(p.hour),
        u32::from(p.minute),
        u32::from(p.second),
        p.micros,
    ) {
        Some(dt) => ScalarValue::TimestampMicrosecond(Some(dt.and_utc().timestamp_micros()), None),
        None => ScalarValue::Utf8(date_time_text(bytes)),
    }
}

/// `sql` with each placeholder replaced by the matching literal.
pub fn bind(sql: &str, positions: &[(usize, usize)], literals: &[String]) -> String {
    let mut out =
        String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut last = 0;
    for ((start, end), lit) in positions.iter().zip(literals) {
        out.push_str(&sql[last..*start]);
        out.push_str(lit);
        last = *end;
    }
    out.push_str(&sql[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_strings_only() {
        let sql = "SELECT '?', a FROM t WHERE b = ? AND c = `?` AND d IN (?, ?)";
        let p = placeholders(sql).unwrap();
        assert_eq!(p.len(), 3);
        let bound = bind(sql, &p, &["1".into(), "'x'".into(), "NULL".into()]);
        assert_eq!(
            bound,
            "SELECT '?', a FROM t WHERE b = 1 AND c = `?` AND d IN ('x', NULL)"
        );
    }

    #[test]
    fn binary_dates_and_times_are_mysql_text() {
        assert_eq!(date_time_text(&[0xe8, 0x07, 5, 1]).unwrap(), "2024-05-01");
        assert_eq!(
            date_time_text(&[0xe8, 0x07, 5, 1, 0, 0, 0]).unwrap(),
            "2024-05-01"
        );
        assert_eq!(
            date_time_text(&[0xe8, 0x07, 5, 1, 13, 4, 5]).unwrap(),
            "2024-05-01 13:04:05"
        );
        assert_eq!(
            date_time_text(&[0xe8, 0x07, 5, 1, 13, 4, 5, 0x40, 0xe2, 0x01, 0]).unwrap(),
            "2024-05-01 13:04:05.123456"
        );
        assert_eq!(date_time_text(&[1, 2, 3]), None);
        assert_eq!(time_text(&[0, 0, 0, 0, 0, 3, 4, 5]).unwrap(), "03:04:05");
        assert_eq!(time_text(&[1, 1, 0, 0, 0, 3, 4, 5]).unwrap(), "-27:04:05");
        assert_eq!(
            time_text(&[0, 0, 0, 0, 0, 3, 4, 5, 0x40, 0xe2, 0x01, 0]).unwrap(),
            "03:04:05.123456"
        );
        assert_eq!(time_text(&[]).unwrap(), "00:00:00");
    }

    #[test]
    fn parameters_become_typed_values() {
        assert_eq!(
            decimal_scalar("-12.340"),
            Some(ScalarValue::Decimal128(Some(-12340), 5, 3))
        );
        assert_eq!(decimal_scalar("1e5"), None);
        assert_eq!(
            date_time_scalar(&[0xb2, 0x07, 1, 2]),
            ScalarValue::Date32(Some(1))
        );
        assert_eq!(
            date_time_scalar(&[0xb2, 0x07, 1, 1, 0, 0, 1]),
            ScalarValue::TimestampMicrosecond(Some(1_000_000), None)
        );
        assert_eq!(
            date_time_scalar(&[]),
            ScalarValue::Utf8(Some("0000-00-00".into()))
        );
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(quote("it's a \\ test"), "'it\\'s a \\\\ test'");
    }
}

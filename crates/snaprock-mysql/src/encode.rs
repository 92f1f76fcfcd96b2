//! Arrow results as MySQL column definitions and row values (text and binary protocol).

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use opensrv_mysql::{BINARY_COLLATION, Column, ColumnFlags, ColumnType};
use snaprock_exec::{OutputColumn, SQL_TYPE_METADATA_KEY};

use crate::nested_text::{NestedText, is_nested};

/// The MySQL column definition of a result column.
pub fn column_definition(c: &OutputColumn) -> Column {
    let f = &c.field;
    let sql_type = f.metadata().get(SQL_TYPE_METADATA_KEY).map(String::as_str);
    let (coltype, unsigned) = match f.data_type() {
        DataType::Boolean | DataType::Int8 => (ColumnType::MYSQL_TYPE_TINY, false),
        DataType::Int16 => (ColumnType::MYSQL_TYPE_SHORT, false),
        DataType::Int32 => (ColumnType::MYSQL_TYPE_LONG, false),
        DataType::Int64 => (ColumnType::MYSQL_TYPE_LONGLONG, false),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            (ColumnType::MYSQL_TYPE_LONGLONG, true)
        }
        DataType::Float32 => (ColumnType::MYSQL_TYPE_FLOAT, false),
        DataType::Float64 => (ColumnType::MYSQL_TYPE_DOUBLE, false),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => (ColumnType::MYSQL_TYPE_NEWDECIMAL, false),
        DataType::Date32 | DataType::Date64 => (ColumnType::MYSQL_TYPE_DATE, false),
        DataType::Timestamp(..) => (ColumnType::MYSQL_TYPE_DATETIME, false),
        DataType::Null => (ColumnType::MYSQL_TYPE_NULL, false),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => (ColumnType::MYSQL_TYPE_BLOB, false),
        _ if sql_type == Some("JSON") => (ColumnType::MYSQL_TYPE_JSON, false),
        _ => (ColumnType::MYSQL_TYPE_VAR_STRING, false),
    };
    let mut column = Column::new(&c.table, &c.name, coltype);
    if unsigned {
        column.colflags |= ColumnFlags::UNSIGNED_FLAG;
    }
    if !f.is_nullable() {
        column.colflags |= ColumnFlags::NOT_NULL_FLAG;
    }
    match f.data_type() {
        DataType::Boolean => column.column_length = 1,
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            column.decimals = (*s).max(0) as u8;
            column.column_length = u32::from(*p) + 2;
        }
        DataType::Float32 | DataType::Float64 => column.decimals = 31,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            column.charset = BINARY_COLLATION;
            column.colflags |= ColumnFlags::BINARY_FLAG | ColumnFlags::BLOB_FLAG;
        }
        DataType::Timestamp(TimeUnit::Second, _) => column.column_length = 19,
        _ => {}
    }
    column
}

/// One value, typed for the binary protocol (and printable for the text protocol).
pub enum Value {
    Null,
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

/// Reads the values of one column, row by row.
pub struct ColumnReader<'a> {
    array: &'a ArrayRef,
    formatter: ArrayFormatter<'a>,
    /// ARRAY, MAP and STRUCT columns: printed as StarRocks prints them.
    nested: Option<NestedText<'a>>,
}

const FORMAT: FormatOptions<'static> = FormatOptions::new()
    .with_null("")
    .with_date_format(Some("%Y-%m-%d"))
    .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f"));

impl<'a> ColumnReader<'a> {
    pub fn new(array: &'a ArrayRef) -> datafusion::arrow::error::Result<Self> {
        let nested = if is_nested(array.data_type()) {
            Some(NestedText::new(array)?)
        } else {
            None
        };
        Ok(ColumnReader {
            array,
            formatter: ArrayFormatter::try_new(array.as_ref(), &FORMAT)?,
            nested,
        })
    }

    pub fn value(&self, row: usize) -> Value {
        let a = self.array;
        if a.is_null(row) || a.data_type() == &DataType::Null {
            return Value::Null;
        }
        if let Some(nested) = &self.nested {
            return nested.text(row).map_or(Value::Null, Value::Text);
        }
        match a.data_type() {
            DataType::Boolean => Value::I8(i8::from(a.as_boolean().value(row))),
            DataType::Int8 => Value::I8(a.as_primitive::<Int8Type>().value(row)),
            DataType::Int16 => Value::I16(a.as_primitive::<Int16Type>().value(row)),
            DataType::Int32 => Value::I32(a.as_primitive::<Int32Type>().value(row)),
            DataType::Int64 => Value::I64(a.as_primitive::<Int64Type>().value(row)),
            DataType::UInt8 => Value::U64(a.as_primitive::<UInt8Type>().value(row).into()),
            DataType::UInt16 => Value::U64(a.as_primitive::<UInt16Type>().value(row).into()),
            DataType::UInt32 => Value::U64(a.as_primitive::<UInt32Type>().value(row).into()),
            DataType::UInt64 => Value::U64(a.as_primitive::<UInt64Type>().value(row)),
            DataType::Float32 => Value::F32(a.as_primitive::<Float32Type>().value(row)),
            DataType::Float64 => Value::F64(a.as_primitive::<Float64Type>().value(row)),
            DataType::Utf8 => Value::Text(a.as_string::<i32>().value(row).to_string()),
            DataType::LargeUtf8 => Value::Text(a.as_string::<i64>().value(row).to_string()),
            DataType::Utf8View => Value::Text(a.as_string_view().value(row).to_string()),
            DataType::Binary => Value::Bytes(a.as_binary::<i32>().value(row).to_vec()),
            DataType::LargeBinary => Value::Bytes(a.as_binary::<i64>().value(row).to_vec()),
            DataType::Date32 => match a.as_primitive::<Date32Type>().value_as_date(row) {
                Some(d) => Value::Date(d),
                None => Value::Null,
            },
            DataType::Date64 => match a.as_primitive::<Date64Type>().value_as_date(row) {
                Some(d) => Value::Date(d),
                None => Value::Null,
            },
            DataType::Timestamp(unit, _) => {
                let dt = match unit {
                    TimeUnit::Second => a
                        .as_primitive::<TimestampSecondType>()
                        .value_as_datetime(row),
                    TimeUnit::Millisecond => a
                        .as_primitive::<TimestampMillisecondType>()
                        .value_as_datetime(row),
                    TimeUnit::Microsecond => a
                        .as_primitive::<TimestampMicrosecondType>()
                        .value_as_datetime(row),
                    TimeUnit::Nanosecond => a
                        .as_primitive::<TimestampNanosecondType>()
                        .value_as_datetime(row),
                };
                match dt {
                    Some(d) => Value::DateTime(d),
                    None => Value::Null,
                }
            }
            _ => Value::Text(self.formatter.value(row).to_string()),
        }
    }
}

impl Value {
    /// The text protocol's representation (MySQL's formatting).
    pub fn to_text(&self) -> Option<Vec<u8>> {
        Some(match self {
            Value::Null => return None,
            Value::I8(v) => v.to_string().into_bytes(),
            Value::I16(v) => v.to_string().into_bytes(),
            Value::I32(v) => v.to_string().into_bytes(),
            Value::I64(v) => v.to_string().into_bytes(),
            Value::U64(v) => v.to_string().into_bytes(),
            Value::F32(v) => float_text(f64::from(*v), true).into_bytes(),
            Value::F64(v) => float_text(*v, false).into_bytes(),
            Value::Text(s) => s.clone().into_bytes(),
            Value::Bytes(b) => b.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string().into_bytes(),
            Value::DateTime(d) => datetime_text(d).into_bytes(),
        })
    }
}

/// StarRocks prints a DATETIME with microseconds when it has a fraction of a second
/// (`2020-01-01 00:00:00.010000`), without one otherwise.
fn datetime_text(d: &NaiveDateTime) -> String {
    use chrono::Timelike;
    if d.nanosecond() == 0 {
        d.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        d.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// MySQL prints floats without a trailing `.0`, `inf`/`nan` as the text it stores.
fn float_text(v: f64, single: bool) -> String {
    if single {
        // FLOAT has ~7 significant digits; print the f32 value, not its f64 widening.
        let s = format!("{}", v as f32);
        return s;
    }
    format!("{v}")
}

//! Column types of CREATE TABLE / ALTER TABLE: a SQL type (sqlparser's) or a query result's
//! Arrow type (CREATE TABLE AS SELECT) as a StarRocks column type, nested types included.

use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit};
use snaprock_sql::sqlparser::ast::{ArrayElemTypeDef, DataType, ExactNumberInfo};
use snaprock_storage::{ColumnType, StructField};

use crate::{ExecError, Result};

/// Maps a SQL type to a StarRocks column type.
pub(crate) fn column_type(data_type: &DataType) -> Result<ColumnType> {
    let unsupported =
        || ExecError::InvalidDefinition(format!("Unsupported column type {data_type}"));
    let length = |l: &Option<snaprock_sql::sqlparser::ast::CharacterLength>,
                  default: u32|
     -> Result<u32> {
        match l {
            None => Ok(default),
            Some(snaprock_sql::sqlparser::ast::CharacterLength::IntegerLength {
                length, ..
            }) => u32::try_from(*length).map_err(|_| unsupported()),
            Some(snaprock_sql::sqlparser::ast::CharacterLength::Max) => Ok(65533),
        }
    };
    Ok(match data_type {
        DataType::Boolean | DataType::Bool => ColumnType::Boolean,
        DataType::TinyInt(Some(1)) => ColumnType::Boolean,
        DataType::TinyInt(_) | DataType::TinyIntUnsigned(_) => ColumnType::TinyInt,
        DataType::SmallInt(_) | DataType::SmallIntUnsigned(_) => ColumnType::SmallInt,
        DataType::MediumInt(_) | DataType::MediumIntUnsigned(_) => ColumnType::Int,
        DataType::Int(_)
        | DataType::Integer(_)
        | DataType::IntUnsigned(_)
        | DataType::IntegerUnsigned(_) => ColumnType::Int,
        DataType::BigInt(_) => ColumnType::BigInt,
        DataType::BigIntUnsigned(_) => ColumnType::LargeInt,
        DataType::Float(_) | DataType::Real | DataType::Float4 => ColumnType::Float,
        DataType::Double(_) | DataType::DoublePrecision | DataType::Float8 | DataType::Float64 => {
            ColumnType::Double
        }
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            let (precision, scale) = match info {
                ExactNumberInfo::None => (10, 0),
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
            };
            if precision == 0 || precision > 38 || scale < 0 || scale as u64 > precision {
                return Err(ExecError::InvalidDefinition(format!(
                    "Invalid decimal type DECIMAL({precision}, {scale}): precision must be 1..38 and scale 0..precision"
                )));
            }
            ColumnType::Decimal {
                precision: precision as u8,
                scale: scale as i8,
            }
        }
        DataType::Char(l) | DataType::Character(l) => ColumnType::Char {
            length: length(l, 1)?,
        },
        DataType::Varchar(l)
        | DataType::CharVarying(l)
        | DataType::CharacterVarying(l)
        | DataType::Nvarchar(l) => ColumnType::Varchar {
            length: length(l, 65533)?,
        },
        DataType::String(_)
        | DataType::Text
        | DataType::TinyText
        | DataType::MediumText
        | DataType::LongText => ColumnType::String,
        DataType::Date => ColumnType::Date,
        DataType::Datetime(_) | DataType::Timestamp(_, _) => ColumnType::DateTime,
        DataType::JSON => ColumnType::Json,
        DataType::Array(ArrayElemTypeDef::AngleBracket(element)) => ColumnType::Array {
            element: Box::new(column_type(element)?),
        },
        DataType::Map(key, value) => ColumnType::Map {
            key: Box::new(column_type(key)?),
            value: Box::new(column_type(value)?),
        },
        DataType::Struct(fields, _) => ColumnType::Struct {
            fields: fields
                .iter()
                .map(|f| {
                    let name = f.field_name.as_ref().map(|n| n.value.clone());
                    Ok(StructField {
                        name: name.ok_or_else(unsupported)?,
                        field_type: column_type(&f.field_type)?,
                    })
                })
                .collect::<Result<_>>()?,
        },
        DataType::Custom(name, args) => {
            let n = name.to_string().to_uppercase();
            match (n.as_str(), args.as_slice()) {
                ("LARGEINT", _) => ColumnType::LargeInt,
                ("STRING", _) => ColumnType::String,
                ("DECIMALV2" | "DECIMAL32" | "DECIMAL64" | "DECIMAL128", [p, s]) => {
                    let p: u8 = p.parse().map_err(|_| unsupported())?;
                    let s: i8 = s.parse().map_err(|_| unsupported())?;
                    ColumnType::Decimal {
                        precision: p,
                        scale: s,
                    }
                }
                ("DATETIME", _) => ColumnType::DateTime,
                _ => return Err(unsupported()),
            }
        }
        _ => return Err(unsupported()),
    })
}

/// A StarRocks column type for a query result column (CREATE TABLE AS SELECT).
pub(crate) fn column_type_of_arrow(t: &ArrowType) -> Result<ColumnType> {
    Ok(match t {
        ArrowType::Boolean => ColumnType::Boolean,
        ArrowType::Int8 => ColumnType::TinyInt,
        ArrowType::Int16 | ArrowType::UInt8 => ColumnType::SmallInt,
        ArrowType::Int32 | ArrowType::UInt16 => ColumnType::Int,
        ArrowType::Int64 | ArrowType::UInt32 => ColumnType::BigInt,
        ArrowType::UInt64 => ColumnType::LargeInt,
        ArrowType::Float16 | ArrowType::Float32 => ColumnType::Float,
        ArrowType::Float64 => ColumnType::Double,
        ArrowType::Decimal256(_, 0) => ColumnType::LargeInt,
        ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s) if *p <= 38 => {
            ColumnType::Decimal {
                precision: *p,
                scale: (*s).max(0),
            }
        }
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => ColumnType::String,
        ArrowType::Date32 | ArrowType::Date64 => ColumnType::Date,
        ArrowType::Timestamp(
            TimeUnit::Second | TimeUnit::Millisecond | TimeUnit::Microsecond | TimeUnit::Nanosecond,
            _,
        ) => ColumnType::DateTime,
        ArrowType::Null => ColumnType::String,
        ArrowType::List(f) | ArrowType::LargeList(f) | ArrowType::FixedSizeList(f, _) => {
            ColumnType::Array {
                element: Box::new(column_type_of_arrow(f.data_type())?),
            }
        }
        ArrowType::Map(entries, _) => match entries.data_type() {
            ArrowType::Struct(kv) if kv.len() == 2 => ColumnType::Map {
                key: Box::new(column_type_of_arrow(kv[0].data_type())?),
                value: Box::new(column_type_of_arrow(kv[1].data_type())?),
            },
            other => {
                return Err(ExecError::InvalidDefinition(format!(
                    "Cannot store a map of {other}"
                )));
            }
        },
        ArrowType::Struct(fields) => ColumnType::Struct {
            fields: fields
                .iter()
                .map(|f| {
                    Ok(StructField {
                        name: f.name().clone(),
                        field_type: column_type_of_arrow(f.data_type())?,
                    })
                })
                .collect::<Result<_>>()?,
        },
        other => {
            return Err(ExecError::InvalidDefinition(format!(
                "Cannot store a column of type {other}"
            )));
        }
    })
}

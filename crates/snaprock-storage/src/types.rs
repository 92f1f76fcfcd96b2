//! StarRocks column types and how each is stored (Arrow) and shown (SQL, MySQL metadata).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use serde::{Deserialize, Serialize};

/// A column type of the StarRocks dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    /// 128-bit integer, stored as a 39-digit decimal (2^127 has 39 digits).
    LargeInt,
    Float,
    Double,
    Decimal {
        precision: u8,
        scale: i8,
    },
    Char {
        length: u32,
    },
    Varchar {
        length: u32,
    },
    /// StarRocks STRING = VARCHAR(65533).
    String,
    Date,
    DateTime,
    Json,
    /// `ARRAY<T>`: stored as an Arrow list of nullable elements.
    Array {
        element: Box<ColumnType>,
    },
    /// `MAP<K, V>`: stored as an Arrow map (non-null keys, nullable values).
    Map {
        key: Box<ColumnType>,
        value: Box<ColumnType>,
    },
    /// `STRUCT<name T, ...>`: stored as an Arrow struct of nullable fields.
    Struct {
        fields: Vec<StructField>,
    },
}

/// One named field of a `STRUCT` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructField {
    pub name: String,
    pub field_type: ColumnType,
}

/// The Arrow field of a list element (the name Arrow and DataFusion give it).
pub const LIST_ITEM_FIELD: &str = "item";

/// Key of the Arrow field metadata entry that records the SQL type of a column.
pub const SQL_TYPE_METADATA_KEY: &str = "snaprock.sql_type";

impl ColumnType {
    /// The Arrow type a value of this column is stored as.
    pub fn arrow_type(&self) -> DataType {
        match self {
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::TinyInt => DataType::Int8,
            ColumnType::SmallInt => DataType::Int16,
            ColumnType::Int => DataType::Int32,
            ColumnType::BigInt => DataType::Int64,
            ColumnType::LargeInt => DataType::Decimal256(39, 0),
            ColumnType::Float => DataType::Float32,
            ColumnType::Double => DataType::Float64,
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            ColumnType::Char { .. }
            | ColumnType::Varchar { .. }
            | ColumnType::String
            | ColumnType::Json => DataType::Utf8,
            ColumnType::Date => DataType::Date32,
            ColumnType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::Array { element } => DataType::List(Arc::new(Field::new(
                LIST_ITEM_FIELD,
                element.arrow_type(),
                true,
            ))),
            ColumnType::Map { key, value } => {
                let entries = Fields::from(vec![
                    Field::new("key", key.arrow_type(), false),
                    Field::new("value", value.arrow_type(), true),
                ]);
                DataType::Map(
                    Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                    false,
                )
            }
            ColumnType::Struct { fields } => DataType::Struct(
                fields
                    .iter()
                    .map(|f| Field::new(&f.name, f.field_type.arrow_type(), true))
                    .collect(),
            ),
        }
    }

    /// True for ARRAY, MAP and STRUCT: types that cannot be keys, partition or
    /// distribution columns.
    pub fn is_complex(&self) -> bool {
        matches!(
            self,
            ColumnType::Array { .. } | ColumnType::Map { .. } | ColumnType::Struct { .. }
        )
    }

    /// The type as StarRocks' SHOW CREATE TABLE writes it.
    pub fn sql(&self) -> String {
        match self {
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::TinyInt => "TINYINT".into(),
            ColumnType::SmallInt => "SMALLINT".into(),
            ColumnType::Int => "INT".into(),
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::LargeInt => "LARGEINT".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            ColumnType::Char { length } => format!("CHAR({length})"),
            ColumnType::Varchar { length } => format!("VARCHAR({length})"),
            ColumnType::String => "STRING".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::DateTime => "DATETIME".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Array { element } => format!("ARRAY<{}>", element.sql()),
            ColumnType::Map { key, value } => format!("MAP<{},{}>", key.sql(), value.sql()),
            ColumnType::Struct { fields } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.field_type.sql()))
                    .collect();
                format!("STRUCT<{}>", fields.join(", "))
            }
        }
    }

    /// The name StarRocks' SHOW COLUMNS and DESC print: lower case, no display width
    /// (`int`, `varchar(64)`, `decimal(10,2)`, `array<int>`).
    pub fn canonical_name(&self) -> String {
        match self {
            ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ColumnType::String => "varchar(65533)".into(),
            ColumnType::Array { element } => format!("array<{}>", element.canonical_name()),
            ColumnType::Map { key, value } => {
                format!("map<{},{}>", key.canonical_name(), value.canonical_name())
            }
            ColumnType::Struct { fields } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.field_type.canonical_name()))
                    .collect();
                format!("struct<{}>", fields.join(", "))
            }
            other => other.sql().to_lowercase(),
        }
    }

    /// MySQL's `DATA_TYPE` (lower case, no length), as information_schema.COLUMNS shows it.
    pub fn mysql_data_type(&self) -> &'static str {
        match self {
            ColumnType::Boolean | ColumnType::TinyInt => "tinyint",
            ColumnType::SmallInt => "smallint",
            ColumnType::Int => "int",
            ColumnType::BigInt => "bigint",
            ColumnType::LargeInt => "largeint",
            ColumnType::Float => "float",
            ColumnType::Double => "double",
            ColumnType::Decimal { .. } => "decimal",
            ColumnType::Char { .. } => "char",
            ColumnType::Varchar { .. } | ColumnType::String => "varchar",
            ColumnType::Date => "date",
            ColumnType::DateTime => "datetime",
            ColumnType::Json => "json",
            ColumnType::Array { .. } => "array",
            ColumnType::Map { .. } => "map",
            ColumnType::Struct { .. } => "struct",
        }
    }

    /// MySQL's `COLUMN_TYPE` (`int(11)`, `varchar(20)`, `decimal(10,2)`), also SHOW COLUMNS' Type.
    pub fn mysql_column_type(&self) -> String {
        match self {
            ColumnType::Boolean => "tinyint(1)".into(),
            ColumnType::TinyInt => "tinyint(4)".into(),
            ColumnType::SmallInt => "smallint(6)".into(),
            ColumnType::Int => "int(11)".into(),
            ColumnType::BigInt => "bigint(20)".into(),
            ColumnType::LargeInt => "largeint(40)".into(),
            ColumnType::Float => "float".into(),
            ColumnType::Double => "double".into(),
            ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ColumnType::Char { length } => format!("char({length})"),
            ColumnType::Varchar { length } => format!("varchar({length})"),
            ColumnType::String => "varchar(65533)".into(),
            ColumnType::Date => "date".into(),
            ColumnType::DateTime => "datetime".into(),
            ColumnType::Json => "json".into(),
            ColumnType::Array { element } => format!("array<{}>", element.mysql_column_type()),
            ColumnType::Map { key, value } => format!(
                "map<{},{}>",
                key.mysql_column_type(),
                value.mysql_column_type()
            ),
            ColumnType::Struct { fields } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.field_type.mysql_column_type()))
                    .collect();
                format!("struct<{}>", fields.join(", "))
            }
        }
    }

    /// Maximum length in characters for string columns.
    pub fn char_length(&self) -> Option<u64> {
        match self {
            ColumnType::Char { length } | ColumnType::Varchar { length } => {
                Some(u64::from(*length))
            }
            ColumnType::String => Some(65533),
            ColumnType::Json => Some(1_048_576),
            _ => None,
        }
    }

    /// (precision, scale) of numeric columns, as information_schema shows them.
    pub fn numeric_precision_scale(&self) -> Option<(u64, u64)> {
        match self {
            ColumnType::Boolean => Some((3, 0)),
            ColumnType::TinyInt => Some((3, 0)),
            ColumnType::SmallInt => Some((5, 0)),
            ColumnType::Int => Some((10, 0)),
            ColumnType::BigInt => Some((19, 0)),
            ColumnType::LargeInt => Some((39, 0)),
            ColumnType::Float => Some((12, 0)),
            ColumnType::Double => Some((22, 0)),
            ColumnType::Decimal { precision, scale } => {
                Some((u64::from(*precision), (*scale).max(0) as u64))
            }
            _ => None,
        }
    }

    /// True for types whose values are text.
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            ColumnType::Char { .. }
                | ColumnType::Varchar { .. }
                | ColumnType::String
                | ColumnType::Json
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip() {
        let t = ColumnType::Decimal {
            precision: 10,
            scale: 2,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<ColumnType>(&json).unwrap(), t);
        assert_eq!(t.sql(), "DECIMAL(10, 2)");
        assert_eq!(t.mysql_column_type(), "decimal(10,2)");
    }

    #[test]
    fn complex_types_name_and_store_as_starrocks_does() {
        let t = ColumnType::Map {
            key: Box::new(ColumnType::Int),
            value: Box::new(ColumnType::Array {
                element: Box::new(ColumnType::Struct {
                    fields: vec![StructField {
                        name: "a".into(),
                        field_type: ColumnType::Varchar { length: 10 },
                    }],
                }),
            }),
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<ColumnType>(&json).unwrap(), t);
        assert_eq!(t.sql(), "MAP<INT,ARRAY<STRUCT<a VARCHAR(10)>>>");
        assert_eq!(
            t.mysql_column_type(),
            "map<int(11),array<struct<a varchar(10)>>>"
        );
        assert!(matches!(t.arrow_type(), DataType::Map(_, false)));
    }
}

//! ARRAY, MAP and STRUCT values as StarRocks prints them: `[1,null]`, `["a","b"]`,
//! `{1:"a",2:"b"}`, `{"x":1,"y":"s"}`.
//!
//! Arrow's display puts spaces after commas and leaves strings unquoted; StarRocks (and the
//! clients and tests written against it) expect its compact, JSON-like form. The reader tree is
//! built once per result column and walked per row.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, MapArray, StructArray};
use datafusion::arrow::datatypes::DataType;

use crate::encode::{ColumnReader, Value};

/// How to print one nested column, built once per batch.
pub(crate) enum NestedText<'a> {
    Scalar {
        reader: Box<ColumnReader<'a>>,
        quoted: bool,
    },
    List {
        array: &'a ArrayRef,
        items: Box<NestedText<'a>>,
    },
    Map {
        array: &'a MapArray,
        keys: Box<NestedText<'a>>,
        values: Box<NestedText<'a>>,
    },
    Struct {
        array: &'a StructArray,
        names: Vec<String>,
        fields: Vec<NestedText<'a>>,
    },
}

/// True for the types printed by [`NestedText`].
pub(crate) fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Struct(_)
    )
}

impl<'a> NestedText<'a> {
    pub(crate) fn new(array: &'a ArrayRef) -> datafusion::arrow::error::Result<Self> {
        Ok(match array.data_type() {
            DataType::List(_) => NestedText::List {
                array,
                items: Box::new(NestedText::new(array.as_list::<i32>().values())?),
            },
            DataType::LargeList(_) => NestedText::List {
                array,
                items: Box::new(NestedText::new(array.as_list::<i64>().values())?),
            },
            DataType::FixedSizeList(..) => NestedText::List {
                array,
                items: Box::new(NestedText::new(array.as_fixed_size_list().values())?),
            },
            DataType::Map(..) => {
                let map = array.as_map();
                NestedText::Map {
                    array: map,
                    keys: Box::new(NestedText::new(map.keys())?),
                    values: Box::new(NestedText::new(map.values())?),
                }
            }
            DataType::Struct(fields) => {
                let s = array.as_struct();
                NestedText::Struct {
                    array: s,
                    names: fields.iter().map(|f| f.name().clone()).collect(),
                    fields: s
                        .columns()
                        .iter()
                        .map(NestedText::new)
                        .collect::<datafusion::arrow::error::Result<_>>()?,
                }
            }
            other => NestedText::Scalar {
                quoted: quoted(other),
                reader: Box::new(ColumnReader::new(array)?),
            },
        })
    }

    /// The value at `row`, `None` for SQL NULL.
    pub(crate) fn text(&self, row: usize) -> Option<String> {
        let mut out = String::new();
        if self.is_null(row) {
            return None;
        }
        self.write(row, &mut out);
        Some(out)
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            NestedText::Scalar { reader, .. } => matches!(reader.value(row), Value::Null),
            NestedText::List { array, .. } => array.is_null(row),
            NestedText::Map { array, .. } => array.is_null(row),
            NestedText::Struct { array, .. } => array.is_null(row),
        }
    }

    fn write(&self, row: usize, out: &mut String) {
        if self.is_null(row) {
            out.push_str("null");
            return;
        }
        match self {
            NestedText::Scalar { reader, quoted } => {
                let text = reader.value(row).to_text().unwrap_or_default();
                let text = String::from_utf8_lossy(&text);
                if *quoted {
                    write_quoted(&text, out);
                } else {
                    out.push_str(&text);
                }
            }
            NestedText::List { array, items } => {
                let (start, end) = list_bounds(array, row);
                out.push('[');
                for (n, i) in (start..end).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    items.write(i, out);
                }
                out.push(']');
            }
            NestedText::Map {
                array,
                keys,
                values,
            } => {
                let offsets = array.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                out.push('{');
                for (n, i) in (start..end).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    keys.write(i, out);
                    out.push(':');
                    values.write(i, out);
                }
                out.push('}');
            }
            NestedText::Struct { names, fields, .. } => {
                out.push('{');
                for (n, (name, field)) in names.iter().zip(fields).enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write_quoted(name, out);
                    out.push(':');
                    field.write(row, out);
                }
                out.push('}');
            }
        }
    }
}

/// The element range of list `row`, whatever the list's offset width.
fn list_bounds(array: &ArrayRef, row: usize) -> (usize, usize) {
    match array.data_type() {
        DataType::LargeList(_) => {
            let o = array.as_list::<i64>().value_offsets();
            (o[row] as usize, o[row + 1] as usize)
        }
        DataType::FixedSizeList(_, size) => {
            let size = *size as usize;
            (row * size, row * size + size)
        }
        _ => {
            let o = array.as_list::<i32>().value_offsets();
            (o[row] as usize, o[row + 1] as usize)
        }
    }
}

/// Strings, dates and times are quoted inside nested values; numbers are not.
fn quoted(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(..)
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

fn write_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int32Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::{Field, Int32Type};

    use super::*;

    #[test]
    fn lists_and_structs_print_as_starrocks_does() {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            Some(vec![]),
            None,
        ]));
        let text = NestedText::new(&list).unwrap();
        assert_eq!(text.text(0).as_deref(), Some("[1,null,3]"));
        assert_eq!(text.text(1).as_deref(), Some("[]"));
        assert_eq!(text.text(2), None);

        let s: ArrayRef = Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![1])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("b", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["say \"hi\""])) as ArrayRef,
            ),
        ]));
        let text = NestedText::new(&s).unwrap();
        assert_eq!(text.text(0).as_deref(), Some(r#"{"a":1,"b":"say \"hi\""}"#));
    }
}

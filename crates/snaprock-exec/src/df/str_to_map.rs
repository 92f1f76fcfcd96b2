//! StarRocks' `str_to_map(text[, entry_delimiter[, key_value_delimiter]])`: a
//! `MAP<VARCHAR, VARCHAR>` from `'k1:v1,k2:v2'` (delimiters `,` and `:` by default). An entry
//! without the key-value delimiter maps its key to NULL; of repeated keys the last wins.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, MapBuilder, MapFieldNames, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use snaprock_storage::ColumnType;

pub(crate) fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(StrToMap {
        signature: Signature::variadic_any(Volatility::Immutable),
    }));
}

/// The map type snaprock stores (`entries` of `key`, `value`), so the answer can be inserted.
fn answer_type() -> DataType {
    ColumnType::Map {
        key: Box::new(ColumnType::String),
        value: Box::new(ColumnType::String),
    }
    .arrow_type()
}

/// The entries of `text`, in order of first appearance, the last value of a repeated key.
fn entries<'a>(text: &'a str, entry: &str, key_value: &str) -> Vec<(&'a str, Option<&'a str>)> {
    let mut out: Vec<(&str, Option<&str>)> = Vec::new();
    if text.is_empty() {
        return out;
    }
    let pieces: Vec<&str> = if entry.is_empty() {
        vec![text]
    } else {
        text.split(entry).collect()
    };
    for piece in pieces {
        let (key, value) = match piece
            .split_once(key_value)
            .filter(|_| !key_value.is_empty())
        {
            Some((k, v)) => (k, Some(v)),
            None => (piece, None),
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct StrToMap {
    signature: Signature,
}

impl ScalarUDFImpl for StrToMap {
    fn name(&self) -> &str {
        "str_to_map"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(answer_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        if args.args.is_empty() || args.args.len() > 3 {
            return datafusion::common::plan_err!("str_to_map takes one to three arguments");
        }
        let texts = args
            .args
            .iter()
            .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Utf8)?))
            .collect::<DfResult<Vec<_>>>()?;
        let column = |i: usize| -> Option<&StringArray> { texts.get(i).map(|a| a.as_string()) };
        let names = MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut builder = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
        let delimiter = |i: usize, r: usize, default: &'static str| -> Option<String> {
            match column(i) {
                None => Some(default.to_string()),
                Some(a) if a.is_null(r) => None,
                Some(a) => Some(a.value(r).to_string()),
            }
        };
        for r in 0..rows {
            let text = column(0).filter(|a| !a.is_null(r)).map(|a| a.value(r));
            let (Some(text), Some(entry), Some(key_value)) =
                (text, delimiter(1, r, ","), delimiter(2, r, ":"))
            else {
                builder.append(false)?;
                continue;
            };
            for (key, value) in entries(text, &entry, &key_value) {
                builder.keys().append_value(key);
                builder.values().append_option(value);
            }
            builder.append(true)?;
        }
        let result = Arc::new(builder.finish());
        let result = cast(result.as_ref(), &answer_type())?;
        super::udf_answer(&args.args, rows, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_as_starrocks_splits_them() {
        assert_eq!(
            entries("a:1,b:2,a:3,c", ",", ":"),
            vec![("a", Some("3")), ("b", Some("2")), ("c", None)]
        );
        assert_eq!(
            entries("k=v;x=y", ";", "="),
            vec![("k", Some("v")), ("x", Some("y"))]
        );
        assert!(entries("", ",", ":").is_empty());
    }
}

//! Secondary indexes as StarRocks declares them: `INDEX i (c) USING BITMAP | NGRAMBF [(...)]
//! [COMMENT '...']` in CREATE TABLE, `ALTER TABLE t ADD INDEX` / `DROP INDEX`, `CREATE INDEX i
//! ON t (c)` and `DROP INDEX i ON t`, checked with StarRocks' rules and texts (one column; the
//! column types each kind takes; bitmap and n-gram indexes only on key columns of UNIQUE and
//! AGGREGATE tables; n-gram properties in range, defaults filled in).
//!
//! An index is metadata: SHOW INDEX, SHOW CREATE TABLE, CREATE TABLE LIKE, backups and
//! restores carry it. snaprock's scans prune with Parquet statistics and need no index files.
//! StarRocks' GIN and vector indexes are experimental there and off unless enabled; they are
//! refused as StarRocks refuses them by default.

use snaprock_sql::ast::IndexDef;
use snaprock_storage::{ColumnType, IndexMeta, KeysModel, TableMeta};

use crate::{ExecError, Result};

/// StarRocks' limit on an index name.
const MAX_INDEX_NAME_LENGTH: usize = 64;
/// StarRocks' n-gram bloom filter defaults and the false-positive range it accepts.
const NGRAM_DEFAULTS: [(&str, &str); 3] = [
    ("bloom_filter_fpp", "0.05"),
    ("gram_num", "2"),
    ("case_sensitive", "true"),
];
const FPP_RANGE: (f64, f64) = (0.0001, 0.05);

fn analysis(message: String) -> ExecError {
    ExecError::Analysis(message)
}

/// `def` checked against `table` (its columns and keys model) as a new index of it.
pub(crate) fn index_meta(table: &TableMeta, def: &IndexDef) -> Result<IndexMeta> {
    if def.name.chars().count() > MAX_INDEX_NAME_LENGTH {
        return Err(analysis(
            "index name too long, the index name length at most is 64".into(),
        ));
    }
    if table
        .indexes
        .iter()
        .any(|i| i.name.eq_ignore_ascii_case(&def.name))
    {
        return Err(ExecError::DuplicateKeyName(def.name.clone()));
    }
    let [column_name] = def.columns.as_slice() else {
        return Err(analysis(format!(
            "{} index can only apply to a single column",
            def.name
        )));
    };
    let (_, column) = table
        .column(column_name)
        .ok_or_else(|| ExecError::KeyColumnMissing(column_name.clone()))?;
    let kind = def.kind.clone().unwrap_or_else(|| "BITMAP".to_string());
    let value_column_of_aggregating_table =
        !column.is_key && matches!(table.keys_model, KeysModel::Aggregate | KeysModel::Unique);
    let mut properties = def.properties.clone();
    match kind.as_str() {
        "BITMAP" => {
            if !bitmap_type(&column.column_type) {
                return Err(analysis(format!(
                    "{} is not supported in bitmap index. invalid column: {}",
                    primitive_name(&column.column_type),
                    column.name
                )));
            }
            if value_column_of_aggregating_table {
                return Err(analysis(format!(
                    "BITMAP index only used in columns of DUP_KEYS/PRIMARY_KEYS table or key \
                     columns of UNIQUE_KEYS/AGG_KEYS table. invalid column: {}",
                    column.name
                )));
            }
        }
        "NGRAMBF" => {
            if !column.column_type.is_string() || column.column_type == ColumnType::Json {
                return Err(analysis(format!(
                    "Invalid ngram bloom filter column '{}': unsupported type {}",
                    column.name,
                    column.column_type.mysql_column_type()
                )));
            }
            if value_column_of_aggregating_table {
                return Err(analysis(format!(
                    "Ngram Bloom filter index only used in columns of DUP_KEYS/PRIMARY table or \
                     key columns of UNIQUE_KEYS/AGG_KEYS table. invalid column: {}",
                    column.name
                )));
            }
            check_ngram_properties(&mut properties)?;
        }
        "GIN" => {
            return Err(analysis(
                "The inverted index is disabled, enable it by setting FE config \
                 `enable_experimental_gin` to true"
                    .into(),
            ));
        }
        "VECTOR" => {
            return Err(analysis(
                "The vector index is disabled, enable it by setting FE config \
                 `enable_experimental_vector` to true"
                    .into(),
            ));
        }
        other => return Err(analysis(format!("Unsupported index type: {other}"))),
    }
    Ok(IndexMeta {
        name: def.name.clone(),
        columns: vec![column.name.clone()],
        kind,
        properties,
        comment: def.comment.clone().unwrap_or_default(),
    })
}

/// `ALTER TABLE t ADD INDEX ...` / `CREATE INDEX ... ON t`.
pub(crate) fn add_index(table: &mut TableMeta, def: &IndexDef) -> Result<()> {
    let index = index_meta(table, def)?;
    table.indexes.push(index);
    Ok(())
}

/// `ALTER TABLE t DROP INDEX i` / `DROP INDEX [IF EXISTS] i ON t`.
pub(crate) fn drop_index(table: &mut TableMeta, name: &str, if_exists: bool) -> Result<()> {
    let before = table.indexes.len();
    table.indexes.retain(|i| !i.name.eq_ignore_ascii_case(name));
    if table.indexes.len() == before && !if_exists {
        return Err(ExecError::CantDropKey(name.to_string()));
    }
    Ok(())
}

/// A bitmap index takes dates, integers, decimals, strings and booleans (StarRocks'
/// `isDateType || isFixedPointType || isDecimalV3Type || isStringType || BOOLEAN`).
fn bitmap_type(column_type: &ColumnType) -> bool {
    matches!(
        column_type,
        ColumnType::Boolean
            | ColumnType::TinyInt
            | ColumnType::SmallInt
            | ColumnType::Int
            | ColumnType::BigInt
            | ColumnType::LargeInt
            | ColumnType::Decimal { .. }
            | ColumnType::Char { .. }
            | ColumnType::Varchar { .. }
            | ColumnType::String
            | ColumnType::Date
            | ColumnType::DateTime
    )
}

/// StarRocks' primitive type name in its index errors.
fn primitive_name(column_type: &ColumnType) -> String {
    column_type.mysql_data_type().to_uppercase()
}

/// StarRocks' checks of `bloom_filter_fpp`, `gram_num` and `case_sensitive`; absent ones take
/// StarRocks' defaults (so SHOW CREATE TABLE shows what the index is).
fn check_ngram_properties(properties: &mut Vec<(String, String)>) -> Result<()> {
    for (key, value) in properties.iter_mut() {
        *key = key.to_lowercase();
        match key.as_str() {
            "bloom_filter_fpp" => {
                let fpp: f64 = value
                    .parse()
                    .map_err(|_| analysis("Bloom filter fpp is not Double".into()))?;
                if !(FPP_RANGE.0..=FPP_RANGE.1).contains(&fpp) {
                    return Err(analysis(format!(
                        "Bloom filter fpp should in [{}, {}]",
                        FPP_RANGE.0, FPP_RANGE.1
                    )));
                }
            }
            "gram_num" if !value.parse::<i64>().is_ok_and(|n| n > 0) => {
                return Err(analysis(
                    "Ngram Bloom filter's gram_num should be positive number".into(),
                ));
            }
            "case_sensitive"
                if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") =>
            {
                return Err(analysis(
                    "Ngram Bloom filter's case_sensitive should be true or false".into(),
                ));
            }
            _ => {}
        }
    }
    for (key, default) in NGRAM_DEFAULTS {
        if !properties.iter().any(|(k, _)| k == key) {
            properties.push((key.to_string(), default.to_string()));
        }
    }
    Ok(())
}

/// The index as SHOW CREATE TABLE writes it.
pub(crate) fn index_sql(index: &IndexMeta) -> String {
    let columns: Vec<String> = index.columns.iter().map(|c| format!("`{c}`")).collect();
    let mut sql = format!(
        "INDEX {} ({}) USING {}",
        index.name,
        columns.join(", "),
        index.kind
    );
    if !index.properties.is_empty() {
        let properties: Vec<String> = index
            .properties
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
            .collect();
        sql.push_str(&format!("({})", properties.join(", ")));
    }
    sql.push_str(&format!(
        " COMMENT '{}'",
        index.comment.replace('\'', "\\'")
    ));
    sql
}

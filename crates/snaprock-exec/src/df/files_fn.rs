//! `FILES("path" = "file:///...", "format" = "parquet" | "csv", ...)`: StarRocks' table function
//! for loading files, resolved before planning into a DataFusion listing table.
//!
//! CSV options: `csv.column_separator` (default `,`), `csv.skip_header` (lines to skip, 0 or 1),
//! `csv.enclose` (quote character). Paths may use globs (`file:///data/*.csv`).
//!
//! Why not a DataFusion `TableFunctionImpl`: its `call` is synchronous and must return a table
//! with its schema, but a FILES() table's schema comes from listing the files and reading a
//! Parquet footer or sampling CSV, which is I/O; so the calls are resolved (async) before
//! planning, each into a listing table registered under the statement's own schema.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use snaprock_sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart,
    Statement, TableFactor, Value,
};

use crate::df::catalog_provider::StatementContext;
use crate::df::{FILES_SCHEMA, visit_table_factors};
use crate::{ExecError, Result};

fn string_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        Expr::Identifier(i) => Some(i.value.clone()),
        _ => None,
    }
}

fn parse_args(args: &[FunctionArg]) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    for arg in args {
        let (key, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            })) => (string_value(left), string_value(right)),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(value),
                ..
            } => (Some(name.value.clone()), string_value(value)),
            _ => (None, None),
        };
        match (key, value) {
            (Some(k), Some(v)) => {
                options.insert(k.to_lowercase(), v);
            }
            _ => {
                return Err(ExecError::InvalidValue(format!(
                    "FILES() arguments are \"key\" = \"value\" pairs, got {arg}"
                )));
            }
        }
    }
    Ok(options)
}

/// Replaces every FILES(...) in `stmt` by a table of the running statement.
pub(crate) async fn resolve_files_calls(
    stmt: &mut Statement,
    df: &SessionContext,
    ctx: &Arc<StatementContext>,
) -> Result<()> {
    let mut calls = Vec::new();
    visit_table_factors(stmt, |factor| {
        let TableFactor::Table {
            name,
            args: Some(args),
            alias,
            ..
        } = factor
        else {
            return Ok(());
        };
        if !name.to_string().eq_ignore_ascii_case("files") {
            return Ok(());
        }
        let options = parse_args(&args.args)?;
        let table = format!("files_{}", calls.len());
        calls.push((table.clone(), options));
        let alias = alias.clone();
        *factor = TableFactor::Table {
            name: ObjectName(vec![
                ObjectNamePart::Identifier(Ident::new(FILES_SCHEMA)),
                ObjectNamePart::Identifier(Ident::new(table)),
            ]),
            alias,
            args: None,
            with_hints: Vec::new(),
            version: None,
            with_ordinality: false,
            partitions: Vec::new(),
            json_path: None,
            sample: None,
            index_hints: Vec::new(),
        };
        Ok(())
    })?;
    // FILES() reads the server's files: it needs the FILE privilege.
    if let (false, Some(privileges)) = (calls.is_empty(), &ctx.privileges) {
        privileges.check(
            snaprock_sql::ast::Privilege::File,
            &snaprock_access::Target::System,
        )?;
    }
    for (table, options) in calls {
        let provider = listing_table(df, &options).await?;
        ctx.files_tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(table, provider);
    }
    Ok(())
}

/// The listing URL of a `file://` path. DataFusion expands globs (`*`, `?`, `[...]`) only in
/// plain paths, not in URLs, so the path part is handed over without its scheme.
fn listing_url(path: &str) -> Result<ListingTableUrl> {
    let bad =
        |reason: String| ExecError::InvalidValue(format!("bad FILES() path '{path}': {reason}"));
    let local = path.strip_prefix("file://").unwrap_or(path);
    if !local.starts_with('/') {
        return Err(bad(
            "a file:// path must be absolute (file:///dir/file)".into()
        ));
    }
    ListingTableUrl::parse(local).map_err(|e| bad(e.to_string()))
}

async fn listing_table(
    df: &SessionContext,
    options: &BTreeMap<String, String>,
) -> Result<Arc<ListingTable>> {
    let path = options
        .get("path")
        .ok_or_else(|| ExecError::InvalidValue("FILES() needs \"path\"".into()))?;
    if !path.starts_with("file://") {
        return Err(ExecError::Unsupported(format!(
            "FILES() reads local files (file:///...); '{path}' is not supported"
        )));
    }
    let format_name = options
        .get("format")
        .map(|f| f.to_lowercase())
        .unwrap_or_else(|| {
            if path.ends_with(".csv") {
                "csv".into()
            } else {
                "parquet".into()
            }
        });
    let format: Arc<dyn FileFormat> = match format_name.as_str() {
        "parquet" => Arc::new(ParquetFormat::default()),
        "csv" => {
            let separator = options
                .get("csv.column_separator")
                .map(String::as_str)
                .unwrap_or(",");
            let separator = match separator {
                "\\t" => b'\t',
                s if s.len() == 1 => s.as_bytes()[0],
                other => {
                    return Err(ExecError::InvalidValue(format!(
                        "csv.column_separator must be one byte, got '{other}'"
                    )));
                }
            };
            let skip_header = options
                .get("csv.skip_header")
                .map(String::as_str)
                .unwrap_or("0");
            let has_header = match skip_header {
                "0" => false,
                "1" => true,
                other => {
                    return Err(ExecError::InvalidValue(format!(
                        "csv.skip_header must be 0 or 1, got '{other}'"
                    )));
                }
            };
            let mut csv = CsvFormat::default()
                .with_delimiter(separator)
                .with_has_header(has_header);
            if let Some(q) = options.get("csv.enclose").filter(|q| q.len() == 1) {
                csv = csv.with_quote(q.as_bytes()[0]);
            }
            Arc::new(csv)
        }
        other => {
            return Err(ExecError::Unsupported(format!(
                "FILES() format '{other}' (use parquet or csv)"
            )));
        }
    };
    let url = listing_url(path)?;
    let listing = ListingOptions::new(format).with_file_extension("");
    let schema = listing.infer_schema(&df.state(), &url).await?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(listing)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

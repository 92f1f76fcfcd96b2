//! The DataFusion layer: how snaprock's catalog, tables and MySQL's semantics look to
//! DataFusion. Nothing here knows about statements or sessions; the statement handlers use it.
//!
//! * `catalog_provider`: one catalog snapshot per statement, with privilege checks per table;
//! * `provider`: `SnaprockTable` (scans with partition pruning, `prune`; writes in `dml`);
//! * `files_fn`: StarRocks' `FILES()` table function;
//! * `info_schema`: the `information_schema` tables;
//! * `rewrite`, `rewrite_functions`, `mysql_functions`: MySQL's SQL on DataFusion's planner.

pub(crate) mod cast_types;
pub(crate) mod catalog_provider;
pub(crate) mod complex_types;
pub(crate) mod date_arith;
pub(crate) mod date_parts;
pub(crate) mod dml;
pub(crate) mod files_fn;
pub(crate) mod generated_keys;
pub(crate) mod info_schema;
pub(crate) mod insert_sink;
pub(crate) mod key_merge;
pub(crate) mod lateral_unnest;
pub(crate) mod more_functions;
pub(crate) mod mv_rewrite;
pub(crate) mod mysql_functions;
pub(crate) mod provider;
pub(crate) mod prune;
pub(crate) mod rewrite;
pub(crate) mod rewrite_functions;
pub(crate) mod starrocks_functions;
pub(crate) mod starrocks_rewrites;
pub(crate) mod str_to_map;
pub(crate) mod time_slice;
pub(crate) mod truncate_fn;
pub(crate) mod unknown_function;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use snaprock_sql::sqlparser::ast::{Statement, TableFactor, VisitMut, VisitorMut};
use std::sync::Arc;

use crate::{ExecError, Result};
use catalog_provider::{CATALOG_NAME, NO_DATABASE};

/// A DataFusion context configured the MySQL way (see `rewrite` for the rest).
/// The runtime every session shares, with the catalog's file router registered under
/// `FILES_URL` (every table scan reads through it).
pub(crate) fn new_runtime(catalog: &snaprock_storage::Catalog) -> Result<Arc<RuntimeEnv>> {
    let runtime = RuntimeEnvBuilder::new().build_arc()?;
    let url = ObjectStoreUrl::parse(snaprock_storage::FILES_URL)?;
    runtime.register_object_store(url.as_ref(), catalog.files().clone());
    Ok(runtime)
}

pub(crate) fn new_datafusion_context(runtime: &Arc<RuntimeEnv>) -> SessionContext {
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG_NAME, NO_DATABASE)
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(false)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        .set_bool("datafusion.sql_parser.parse_float_as_decimal", true)
        // FILES("path" = "file:///dir/*/*.parquet"): globs and directories reach into subdirectories.
        .set_bool(
            "datafusion.execution.listing_table_ignore_subdirectory",
            false,
        )
        .set_str("datafusion.sql_parser.dialect", "MySQL")
        // MySQL and StarRocks sort NULL as the smallest value: first in ASC, last in DESC.
        .set_str("datafusion.sql_parser.default_null_ordering", "nulls_min");
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime.clone())
        .with_default_features();
    // Ahead of DataFusion's own planners, which would plan `map[k]` without converting `k`.
    if let Some(planners) = state.expr_planners() {
        planners.insert(0, Arc::new(complex_types::MapSubscriptPlanner));
    }
    let ctx = SessionContext::new_with_state(state.build());
    crate::df::mysql_functions::register(&ctx);
    crate::df::complex_types::register(&ctx);
    crate::df::date_arith::register(&ctx);
    crate::df::starrocks_functions::register(&ctx);
    crate::df::more_functions::register(&ctx);
    crate::df::str_to_map::register(&ctx);
    crate::df::time_slice::register(&ctx);
    crate::df::truncate_fn::register(&ctx);
    crate::df::unknown_function::register(&ctx);
    ctx
}

/// Name of the DataFusion schema holding FILES() tables of the running statement.
pub(crate) const FILES_SCHEMA: &str = "__snaprock_files";

/// Replaces table names in a statement (used by FILES()).
pub(crate) struct ReplaceTableFactor<F: FnMut(&mut TableFactor) -> Result<()>>(
    pub F,
    pub Option<ExecError>,
);

impl<F: FnMut(&mut TableFactor) -> Result<()>> VisitorMut for ReplaceTableFactor<F> {
    type Break = ();
    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> std::ops::ControlFlow<()> {
        if let Err(e) = (self.0)(factor) {
            self.1 = Some(e);
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    }
}

pub(crate) fn visit_table_factors(
    stmt: &mut Statement,
    f: impl FnMut(&mut TableFactor) -> Result<()>,
) -> Result<()> {
    let mut v = ReplaceTableFactor(f, None);
    let _ = stmt.visit(&mut v);
    match v.1 {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A scalar function's answer: one value when every argument was one (a constant folds), the
/// array otherwise.
pub(crate) fn udf_answer(
    args: &[datafusion::logical_expr::ColumnarValue],
    rows: usize,
    result: datafusion::arrow::array::ArrayRef,
) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
    use datafusion::logical_expr::ColumnarValue;
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    if all_scalar && rows == 1 {
        return Ok(ColumnarValue::Scalar(
            datafusion::common::ScalarValue::try_from_array(&result, 0)?,
        ));
    }
    Ok(ColumnarValue::Array(result))
}

//! `SnaprockTable`: a table as DataFusion sees it. Scans read the Parquet files of the
//! partitions the filters can match; INSERT and DELETE go to the write paths in `dml`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::ParquetFileReaderFactory;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::parquet::{ParquetAccessPlan, RowGroupAccess};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result as DfResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use snaprock_storage::{ColumnType, DataFile, DeleteVector, PartitionMeta, TableMeta};

use crate::df::catalog_provider::{StatementContext, external};
use crate::df::dml;
use crate::df::prune::{ColumnBounds, may_match};
use crate::{ExecError, Result};

/// Text stored as a column default meaning "the current time".
pub const CURRENT_TIMESTAMP: &str = "CURRENT_TIMESTAMP";

#[derive(Debug)]
pub struct SnaprockTable {
    pub(crate) ctx: Arc<StatementContext>,
    pub(crate) database: String,
    pub(crate) table: Arc<TableMeta>,
    schema: SchemaRef,
    defaults: HashMap<String, Expr>,
    /// `FROM t PARTITION (p, ...)`: the only partitions a scan reads (ids).
    selected: Option<Vec<u64>>,
}

impl std::fmt::Debug for StatementContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementContext")
            .field("version", &self.state.version)
            .finish()
    }
}

impl SnaprockTable {
    pub fn new(ctx: Arc<StatementContext>, database: &str, table: Arc<TableMeta>) -> Result<Self> {
        let mut defaults = HashMap::new();
        for c in &table.columns {
            if let Some(text) = &c.default {
                defaults.insert(c.field_name(), default_expr(text, &c.column_type)?);
            }
        }
        Ok(SnaprockTable {
            schema: table.arrow_schema(),
            ctx,
            database: database.to_string(),
            table,
            defaults,
            selected: None,
        })
    }

    /// Reads only the partitions named (case-insensitive); unknown names are StarRocks' 1507.
    pub(crate) fn select_partitions(&mut self, names: Vec<String>) -> Result<()> {
        let mut ids = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.table.partition(&name) {
                Some(p) => ids.push(p.id),
                None => unknown.push(name),
            }
        }
        if !unknown.is_empty() {
            return Err(ExecError::UnknownPartitions(unknown.join(", ")));
        }
        self.selected = Some(ids);
        Ok(())
    }

    /// The partitions a scan with `filters` must read.
    fn partitions_to_scan(&self, filters: &[Expr]) -> Vec<&PartitionMeta> {
        let columns = self.table.partitioning.columns();
        let first = columns.first().and_then(|c| self.table.column(c));
        self.table
            .partitions
            .iter()
            .filter(|p| self.selected.as_ref().is_none_or(|ids| ids.contains(&p.id)))
            .filter(|p| match first {
                Some((_, column)) => {
                    let bounds = ColumnBounds::from_partition(
                        &p.bounds,
                        columns.len(),
                        &column.column_type.arrow_type(),
                    );
                    may_match(filters, &column.field_name(), &bounds)
                }
                None => true,
            })
            .collect()
    }
}

/// The DataFusion expression of a stored column default.
pub(crate) fn default_expr(text: &str, column_type: &ColumnType) -> Result<Expr> {
    if text.eq_ignore_ascii_case(CURRENT_TIMESTAMP) {
        return Ok(datafusion::functions::datetime::expr_fn::now());
    }
    let value =
        ScalarValue::try_from_string(text.to_string(), &column_type.arrow_type()).map_err(|e| {
            ExecError::InvalidDefinition(format!("Invalid default value '{text}': {e}"))
        })?;
    Ok(Expr::Literal(value, None))
}

/// Where every table scan reads: the catalog's file router.
fn files_url() -> DfResult<ObjectStoreUrl> {
    ObjectStoreUrl::parse(snaprock_storage::FILES_URL)
}

impl SnaprockTable {
    /// Refuses writes to a database attached from a snapshot before any file is written.
    fn check_writable(&self) -> DfResult<()> {
        match self.ctx.state.database(&self.database) {
            Some(db) => db.check_writable().map_err(|e| external(e.into())),
            None => Ok(()),
        }
    }
}

/// A plan producing the single `count` row DML statements return.
pub(crate) fn count_plan(count: u64) -> DfResult<Arc<dyn ExecutionPlan>> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(UInt64Array::from(vec![count]))],
    )?;
    Ok(MemorySourceConfig::try_new_exec(
        &[vec![batch]],
        schema,
        None,
    )?)
}

/// A scan of `file` that skips its deleted rows: per row group, all of it, none of it, or a
/// selection of runs (row groups sized as the file's footer says).
async fn skip_deleted(
    readers: &CachedParquetFileReaderFactory,
    file: &PartitionedFile,
    deleted: &DeleteVector,
) -> DfResult<ParquetAccessPlan> {
    let mut reader =
        readers.create_reader(0, file.clone(), None, &ExecutionPlanMetricsSet::new())?;
    let metadata = reader.get_metadata(None).await?;
    let mut start = 0u64;
    let mut groups = Vec::with_capacity(metadata.num_row_groups());
    for group in metadata.row_groups() {
        let rows = group.num_rows().max(0) as u64;
        let end = start + rows;
        let mut selectors = Vec::new();
        let mut next = 0u64;
        for position in deleted.positions_in(start, end) {
            if position > next {
                selectors.push(RowSelector::select((position - next) as usize));
            }
            selectors.push(RowSelector::skip(1));
            next = position + 1;
        }
        groups.push(if selectors.is_empty() {
            RowGroupAccess::Scan
        } else if next == rows && selectors.iter().all(|s| s.skip) {
            RowGroupAccess::Skip
        } else {
            if next < rows {
                selectors.push(RowSelector::select((rows - next) as usize));
            }
            RowGroupAccess::Selection(RowSelection::from(selectors))
        });
        start = end;
    }
    Ok(ParquetAccessPlan::new(groups))
}

#[async_trait]
impl TableProvider for SnaprockTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let catalog = &self.ctx.engine.catalog;
        let partitions = self.partitions_to_scan(filters);
        let allowed = self.ctx.scan_partition_limit;
        if allowed > 0 && partitions.len() as u64 > allowed {
            return Err(external(ExecError::PartitionScanLimit {
                allowed,
                scanned: partitions.len(),
            }));
        }
        let data_files: Vec<&Arc<DataFile>> = partitions
            .into_iter()
            .flat_map(|p| p.files.iter())
            .collect();
        if data_files.is_empty() {
            let projected = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        // Parquet footers are cached in the runtime every session shares: a file's metadata is
        // read once (one ranged GET for a repository's file), not at every query.
        let url = files_url()?;
        let runtime = state.runtime_env();
        let readers = CachedParquetFileReaderFactory::new(
            runtime.object_store(&url)?,
            runtime.cache_manager.get_file_metadata_cache(),
        );
        let mut files = Vec::with_capacity(data_files.len());
        for f in data_files {
            let mut file = PartitionedFile::new(String::new(), f.bytes);
            file.object_meta.location = catalog.object_path(f);
            if let Some(deleted) = &f.deleted {
                let plan = skip_deleted(&readers, &file, deleted).await?;
                file = file.with_extension(plan);
            }
            files.push(file);
        }
        let target = state.config().target_partitions().max(1);
        let groups = files.len().min(target);
        let mut file_groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); groups];
        for (i, f) in files.into_iter().enumerate() {
            file_groups[i % groups].push(f);
        }
        let source = Arc::new(
            ParquetSource::new(self.schema.clone())
                .with_parquet_file_reader_factory(Arc::new(readers)),
        );
        let config = FileScanConfigBuilder::new(url, source)
            .with_file_groups(file_groups.into_iter().map(FileGroup::new).collect())
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.check_writable()?;
        let overwrite = match insert_op {
            InsertOp::Append => None,
            InsertOp::Overwrite | InsertOp::Replace => Some(
                self.ctx
                    .overwrite_partitions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .unwrap_or_default(),
            ),
        };
        let mut sink = super::insert_sink::InsertSink::new(
            self.ctx.engine.catalog.clone(),
            &self.database,
            self.table.clone(),
            overwrite,
        )
        .recording_load(
            self.ctx.dml_target.as_ref().and_then(|t| t.load.clone()),
            self.ctx.committed_load.clone(),
        );
        if !self.table.partitioning.generated().is_empty() {
            let state = state
                .as_any()
                .downcast_ref::<SessionState>()
                .ok_or_else(|| external(ExecError::Plan("no session state".into())))?;
            let keys = super::generated_keys::compile(state, &self.table).map_err(external)?;
            sink = sink.with_generated_keys(keys);
        }
        let refresh = self.ctx.dml_target.as_ref().is_some_and(|t| t.refresh);
        if let Some(view) = self.table.materialized_view.as_ref().filter(|_| refresh) {
            // The view's rows and the base data the statement reads commit together.
            let versions = view
                .base_versions(&self.ctx.state)
                .map_err(|reason| external(ExecError::Analysis(reason)))?;
            sink = sink.refreshing_from(versions);
        }
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }

    async fn delete_from(
        &self,
        state: &dyn Session,
        filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.check_writable()?;
        let deleted = dml::delete_rows(
            &self.ctx.engine.catalog,
            &self.database,
            &self.table,
            state,
            filters,
        )
        .await
        .map_err(external)?;
        count_plan(deleted)
    }
}

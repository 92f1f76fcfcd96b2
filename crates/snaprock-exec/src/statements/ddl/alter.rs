//! ALTER TABLE's schema-change and property clauses: ADD / DROP / MODIFY / RENAME COLUMN,
//! RENAME, COMMENT, SET properties, ADD / DROP INDEX, with StarRocks' rules and error texts.
//!
//! One ALTER is one catalog commit, taken under the table's write lock. Clauses that only touch
//! metadata (a comment, a default, the table's name, properties) commit at once. Clauses that
//! change what the data files hold (a column added, dropped, renamed, moved or retyped, a column
//! made NOT NULL) first rewrite every data file to the new schema, checking each value against
//! it, then commit the new schema together with the new files: readers see the old table or the
//! new one, never a mix, and a failure (a value that does not fit, a crash) deletes the new
//! files and leaves the table as it was.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::prelude::SessionContext;
use snaprock_sql::ast::{AlterTableChange, ColumnDef, ColumnPosition, ObjectName};
use snaprock_storage::{
    Catalog, ColumnMeta, DataFile, DataFileWriter, DistributionMeta, KeysModel, Partitioning,
    StorageError, TableMeta,
};

use super::table_def::column_meta;
use super::validate_name;
use crate::df::dml::check_constraints;
use crate::df::provider::default_expr;
use crate::result::Output;
use crate::session::Session;
use crate::{ExecError, Result, now_text};

/// Where a column of the new schema takes its values from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The column at this index of the old schema (cast to the new type if that changed).
    Old(usize),
    /// A new column: its default (NULL without one) in every existing row.
    Added,
}

/// The table as the ALTER leaves it, and where each of its columns comes from.
struct NewSchema {
    table: TableMeta,
    sources: Vec<Source>,
}

pub(crate) async fn alter_table(
    session: &mut Session,
    name: &ObjectName,
    changes: &[AlterTableChange],
) -> Result<Output> {
    let (db, table_name) = session.resolve(name)?;
    let started = now_text();
    let catalog = session.engine.catalog.clone();
    let state = catalog.snapshot();
    let database = state
        .database(&db)
        .ok_or_else(|| ExecError::UnknownDatabase(db.clone()))?;
    database.check_writable()?;
    let planned = state
        .table(&db, &table_name)
        .ok_or_else(|| ExecError::UnknownTable(format!("{db}.{table_name}")))?
        .clone();
    let _guard = catalog.lock_table(planned.id).await;
    let state = catalog.snapshot();
    let old = state
        .table(&db, &table_name)
        .filter(|t| t.id == planned.id)
        .ok_or(StorageError::Conflict)?
        .clone();
    let mut new = NewSchema {
        table: TableMeta::clone(&old),
        sources: (0..old.columns.len()).map(Source::Old).collect(),
    };
    for change in changes {
        new.apply(change)?;
    }
    new.finish_keys()?;
    if !new.table.name.eq_ignore_ascii_case(&old.name) {
        validate_name(&new.table.name, "table")?;
    }
    let rewritten = if new.needs_rewrite(&old) {
        Some(rewrite_files(&catalog, &old, &new).await?)
    } else {
        None
    };
    new.table.updated_at = now_text();
    let changes_columns = changes.iter().any(|c| {
        matches!(
            c,
            AlterTableChange::AddColumns { .. }
                | AlterTableChange::DropColumn(_)
                | AlterTableChange::ModifyColumn { .. }
                | AlterTableChange::RenameColumn { .. }
                | AlterTableChange::AddIndex(_)
                | AlterTableChange::DropIndex { .. }
        )
    });
    let (table_id, final_name) = (new.table.id, new.table.name.clone());
    commit(&catalog, &db, &old, new.table, rewritten)?;
    if changes_columns {
        session
            .engine
            .alter_jobs
            .record(&db, &final_name, table_id, started);
    }
    Ok(Output::ok())
}

/// StarRocks' word for a keys model in its DDL errors.
fn model_word(model: KeysModel) -> &'static str {
    match model {
        KeysModel::Duplicate => "Duplicate",
        KeysModel::Primary => "Primary",
        KeysModel::Unique => "Unique",
        KeysModel::Aggregate => "Aggregate",
    }
}

fn ddl(message: String) -> ExecError {
    ExecError::Ddl(message)
}

impl NewSchema {
    fn apply(&mut self, change: &AlterTableChange) -> Result<()> {
        match change {
            AlterTableChange::AddColumns { columns, position } => {
                for (i, column) in columns.iter().enumerate() {
                    self.add_column(column, if i == 0 { position.as_ref() } else { None })?;
                }
                Ok(())
            }
            AlterTableChange::DropColumn(name) => self.drop_column(name),
            AlterTableChange::ModifyColumn { column, position } => {
                self.modify_column(column, position.as_ref())
            }
            AlterTableChange::RenameColumn { from, to } => self.rename_column(from, to),
            AlterTableChange::RenameTable(name) => {
                self.table.name = name.clone();
                // An unpartitioned table's one partition is named after the table.
                if self.table.partitioning == Partitioning::Unpartitioned {
                    for p in &mut self.table.partitions {
                        p.name = name.clone();
                    }
                }
                Ok(())
            }
            AlterTableChange::Comment(comment) => {
                self.table.comment = Some(comment.clone());
                Ok(())
            }
            AlterTableChange::AddIndex(def) => super::indexes::add_index(&mut self.table, def),
            AlterTableChange::DropIndex { name, if_exists } => {
                super::indexes::drop_index(&mut self.table, name, *if_exists)
            }
            AlterTableChange::SetProperties(properties) => {
                for (key, value) in properties {
                    let props = &mut self.table.properties;
                    match props.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                        Some(existing) => existing.1 = value.clone(),
                        None => props.push((key.clone(), value.clone())),
                    }
                }
                Ok(())
            }
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.table.column(name).map(|(i, _)| i)
    }

    /// Partition and distribution columns, and the columns partition expressions read, which
    /// keep their name and type.
    fn is_layout_column(&self, name: &str) -> bool {
        let distribution: &[String] = match &self.table.distribution {
            DistributionMeta::Hash { columns, .. } => columns,
            DistributionMeta::Random { .. } => &[],
        };
        let generated = self.table.partitioning.generated().iter();
        self.table
            .partitioning
            .columns()
            .iter()
            .chain(distribution)
            .chain(generated.flat_map(|g| g.sources.iter()))
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// The index a column goes to: FIRST, AFTER c, or the default (after the last key column
    /// for a key column, at the end otherwise).
    fn position_index(&self, position: Option<&ColumnPosition>, key: bool) -> Result<usize> {
        match position {
            Some(ColumnPosition::First) => Ok(0),
            Some(ColumnPosition::After(after)) => self
                .index_of(after)
                .map(|i| i + 1)
                .ok_or_else(|| ddl(format!("Column[{after}] does not exists"))),
            None if key => Ok(self.table.columns.iter().filter(|c| c.is_key).count()),
            None => Ok(self.table.columns.len()),
        }
    }

    /// Checks an aggregation method against the keys model; returns whether the column is a
    /// key column.
    fn key_and_aggregation(&self, column: &ColumnDef, name: &str) -> Result<bool> {
        let model = self.table.keys_model;
        match (model, &column.aggregation) {
            (KeysModel::Aggregate, Some(_)) if column.key => Err(ddl(format!(
                "Can not assign aggregation method on key column: {name}"
            ))),
            (KeysModel::Aggregate, agg) => Ok(agg.is_none()),
            (_, Some(_)) => Err(ddl(format!(
                "Can not assign aggregation method on column in {} data model table: {name}",
                model_word(model)
            ))),
            (KeysModel::Primary, None) if column.key => Err(ddl(format!(
                "Can not add key column: {name} for primary key table"
            ))),
            (_, None) => Ok(column.key),
        }
    }

    fn add_column(&mut self, column: &ColumnDef, position: Option<&ColumnPosition>) -> Result<()> {
        if self.index_of(&column.name).is_some() {
            return Err(ddl(format!(
                "Can not add column which already exists in base table: {}",
                column.name
            )));
        }
        let mut meta = column_meta(column)?;
        if !meta.nullable && meta.default.is_none() && !meta.auto_increment {
            return Err(ddl(format!(
                "Column '{}' is NOT NULL and has no DEFAULT: the rows the table holds need a value",
                column.name
            )));
        }
        meta.is_key = self.key_and_aggregation(column, &column.name)?;
        let at = self.position_index(position, meta.is_key)?;
        self.table.columns.insert(at, meta);
        self.sources.insert(at, Source::Added);
        Ok(())
    }

    fn drop_column(&mut self, name: &str) -> Result<()> {
        let at = self
            .index_of(name)
            .ok_or_else(|| ddl(format!("Column does not exists: {name}")))?;
        if self.is_layout_column(name) {
            return Err(ddl(format!(
                "Can not drop partition or distribution column : {name}"
            )));
        }
        let column = &self.table.columns[at];
        if column.is_key {
            let keys = self.table.columns.iter().filter(|c| c.is_key).count();
            let has_replace = self.table.columns.iter().any(|c| {
                c.aggregation.as_deref().is_some_and(|a| {
                    a.eq_ignore_ascii_case("REPLACE")
                        || a.eq_ignore_ascii_case("REPLACE_IF_NOT_NULL")
                })
            });
            match self.table.keys_model {
                KeysModel::Primary => {
                    return Err(ddl(
                        "Can not drop key column in primary data model table".into()
                    ));
                }
                KeysModel::Unique => {
                    return Err(ddl(
                        "Can not drop key column in Unique data model table".into()
                    ));
                }
                KeysModel::Aggregate if has_replace => {
                    return Err(ddl("Can not drop key column when table has value column with REPLACE aggregation method".into()));
                }
                _ if keys == 1 => {
                    return Err(ddl(format!(
                        "Can not drop the only key column of the table: {name}"
                    )));
                }
                _ => {}
            }
        }
        // A dropped column's indexes go with it.
        let dropped = self.table.columns.remove(at).name;
        self.table
            .indexes
            .retain(|i| !i.columns.iter().any(|c| c.eq_ignore_ascii_case(&dropped)));
        self.sources.remove(at);
        Ok(())
    }

    fn modify_column(
        &mut self,
        column: &ColumnDef,
        position: Option<&ColumnPosition>,
    ) -> Result<()> {
        let at = self
            .index_of(&column.name)
            .ok_or_else(|| ddl(format!("Column[{}] does not exists", column.name)))?;
        let old = self.table.columns[at].clone();
        let model = self.table.keys_model;
        if model == KeysModel::Primary && old.is_key {
            return Err(ddl(format!(
                "Can not modify key column: {} for primary key table",
                old.name
            )));
        }
        if old.auto_increment {
            return Err(ddl("Can't not modify a AUTO_INCREMENT column".into()));
        }
        if model != KeysModel::Aggregate && column.aggregation.is_some() {
            return Err(ddl(format!(
                "Can not assign aggregation method on column in {} data model table: {}",
                model_word(model),
                old.name
            )));
        }
        if old.is_key && column.aggregation.is_some() {
            return Err(ddl(format!(
                "Can not assign aggregation method on key column: {}",
                old.name
            )));
        }
        let mut meta = column_meta(column)?;
        meta.name = old.name.clone();
        meta.is_key = old.is_key;
        if meta.aggregation.is_none() {
            meta.aggregation = old.aggregation.clone();
        }
        if meta.column_type != old.column_type && self.is_layout_column(&old.name) {
            return Err(ddl(format!(
                "Can not modify partition or distribution column : {}",
                old.name
            )));
        }
        let source = self.sources.remove(at);
        self.table.columns.remove(at);
        let to = match position {
            Some(_) => self.position_index(position, meta.is_key)?,
            None => at,
        };
        self.table.columns.insert(to, meta);
        self.sources.insert(to, source);
        Ok(())
    }

    fn rename_column(&mut self, from: &str, to: &str) -> Result<()> {
        let at = self
            .index_of(from)
            .ok_or_else(|| ddl(format!("Column[{from}] does not exists")))?;
        if self.index_of(to).is_some_and(|i| i != at) {
            return Err(ddl(format!("Column name[{to}] is already used")));
        }
        validate_name(to, "column")?;
        let generated = self.table.partitioning.generated().iter();
        if generated
            .flat_map(|g| g.sources.iter())
            .any(|c| c.eq_ignore_ascii_case(from))
        {
            return Err(ddl(format!(
                "Can not rename column {from}: a partition expression reads it"
            )));
        }
        let old_name = std::mem::replace(&mut self.table.columns[at].name, to.to_string());
        let rename = |names: &mut Vec<String>| {
            for n in names
                .iter_mut()
                .filter(|n| n.eq_ignore_ascii_case(&old_name))
            {
                *n = to.to_string();
            }
        };
        rename(&mut self.table.key_columns);
        for index in &mut self.table.indexes {
            rename(&mut index.columns);
        }
        match &mut self.table.partitioning {
            Partitioning::Unpartitioned => {}
            Partitioning::Range { columns, .. } | Partitioning::List { columns, .. } => {
                rename(columns)
            }
        }
        if let DistributionMeta::Hash { columns, .. } = &mut self.table.distribution {
            rename(columns);
        }
        Ok(())
    }

    /// Key columns stay the first columns (StarRocks' rule); the key list follows the columns.
    fn finish_keys(&mut self) -> Result<()> {
        if let Some(first_value) = self.table.columns.iter().position(|c| !c.is_key)
            && let Some(late_key) = self.table.columns[first_value..].iter().find(|c| c.is_key)
        {
            return Err(ddl(format!(
                "Invalid column order. value should be after key. index[{}]",
                late_key.name
            )));
        }
        self.table.key_columns = self
            .table
            .columns
            .iter()
            .filter(|c| c.is_key)
            .map(|c| c.name.clone())
            .collect();
        Ok(())
    }

    /// Whether the data files must be rewritten: a column added, dropped, moved, renamed or
    /// retyped, or one that must now be checked (NOT NULL, a shorter string).
    fn needs_rewrite(&self, old: &TableMeta) -> bool {
        self.sources.len() != old.columns.len()
            || self.sources.iter().enumerate().any(|(i, source)| {
                let new = &self.table.columns[i];
                match source {
                    Source::Added => true,
                    Source::Old(j) => {
                        let was = &old.columns[*j];
                        *j != i
                            || new.field_name() != was.field_name()
                            || new.column_type != was.column_type
                            || (was.nullable && !new.nullable)
                    }
                }
            })
    }
}

/// The value a new column takes in existing rows: its default, or NULL.
fn added_value(column: &ColumnMeta) -> Result<ScalarValue> {
    let data_type = column.column_type.arrow_type();
    let Some(text) = &column.default else {
        return Ok(ScalarValue::try_from(&data_type)?);
    };
    let expr = default_expr(text, &column.column_type)?;
    let ctx = SessionContext::new();
    let physical = ctx.create_physical_expr(expr, &DFSchema::empty())?;
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        Vec::new(),
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    let value = physical.evaluate(&one_row)?.into_array(1)?;
    Ok(ScalarValue::try_from_array(&value, 0)?.cast_to(&data_type)?)
}

/// One batch of an old file in the new schema.
fn convert(
    batch: &RecordBatch,
    new: &NewSchema,
    schema: &SchemaRef,
    added: &[Option<ScalarValue>],
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(new.sources.len());
    for (i, source) in new.sources.iter().enumerate() {
        let target = schema.field(i).data_type();
        let array = match (source, &added[i]) {
            (Source::Old(j), _) => {
                let array = batch.column(*j);
                if array.data_type() == target {
                    array.clone()
                } else {
                    let options = CastOptions {
                        safe: false,
                        ..Default::default()
                    };
                    cast_with_options(array, target, &options).map_err(|e| {
                        ddl(format!(
                            "Can not change column {} to {}: {e}",
                            new.table.columns[i].name,
                            new.table.columns[i].column_type.sql()
                        ))
                    })?
                }
            }
            (Source::Added, Some(value)) => value.to_array_of_size(batch.num_rows())?,
            (Source::Added, None) => {
                return Err(ExecError::Plan("added column without value".into()));
            }
        };
        columns.push(array);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Rewrites every data file of the table into the new schema: one new file per old file, in
/// the same partition. On failure the new files are deleted.
async fn rewrite_files(
    catalog: &Catalog,
    old: &TableMeta,
    new: &NewSchema,
) -> Result<HashMap<u64, Vec<DataFile>>> {
    let schema = new.table.arrow_schema();
    let mut added = Vec::with_capacity(new.sources.len());
    for (i, source) in new.sources.iter().enumerate() {
        added.push(match source {
            Source::Added => Some(added_value(&new.table.columns[i])?),
            Source::Old(_) => None,
        });
    }
    let mut written: HashMap<u64, Vec<DataFile>> = HashMap::new();
    let mut result = Ok(());
    'files: for partition in &old.partitions {
        for file in &partition.files {
            let one = async {
                let mut writer = DataFileWriter::create(
                    catalog.data_root(),
                    old.id,
                    partition.id,
                    schema.clone(),
                )?;
                for batch in catalog.read_file(file).await? {
                    let converted = convert(&batch, new, &schema, &added)?;
                    let converted = check_constraints(&new.table, converted)?;
                    writer.write(&converted)?;
                }
                Ok::<_, ExecError>(writer.finish()?)
            };
            match one.await {
                Ok(done) => written.entry(partition.id).or_default().push(done),
                Err(e) => {
                    result = Err(e);
                    break 'files;
                }
            }
        }
    }
    if result.is_ok() {
        // A table on a storage volume: its rewritten files go there before the commit.
        for files in written.values_mut() {
            result = catalog.publish(&new.table, files).await.map_err(Into::into);
            if result.is_err() {
                break;
            }
        }
    }
    if let Err(e) = result {
        remove_files(catalog, &written);
        return Err(e);
    }
    Ok(written)
}

/// Removes rewritten files that will not be committed (published ones from their volume too).
fn remove_files(catalog: &Catalog, written: &HashMap<u64, Vec<DataFile>>) {
    let files: Vec<DataFile> = written.values().flatten().cloned().collect();
    catalog.discard_new_files(&files);
}

/// Swaps the table for its new definition (and its rewritten files) in one commit.
fn commit(
    catalog: &Catalog,
    database: &str,
    old: &TableMeta,
    mut table: TableMeta,
    rewritten: Option<HashMap<u64, Vec<DataFile>>>,
) -> Result<()> {
    let now = now_text();
    if let Some(files) = &rewritten {
        for partition in &mut table.partitions {
            if let Some(new_files) = files.get(&partition.id) {
                partition.files = new_files.iter().cloned().map(Arc::new).collect();
                partition.version += 1;
                partition.version_time = now.clone();
            }
        }
    }
    let result = catalog.commit(|s| {
        let db = Arc::make_mut(
            s.databases
                .get_mut(database)
                .ok_or(StorageError::Conflict)?,
        );
        if db.tables.get(&old.name).map(|t| t.id) != Some(old.id) {
            return Err(StorageError::Conflict);
        }
        if table.name != old.name
            && (db.tables.contains_key(&table.name) || db.views.contains_key(&table.name))
        {
            return Err(StorageError::TableExists(table.name.clone()));
        }
        db.tables.remove(&old.name);
        db.tables
            .insert(table.name.clone(), Arc::new(table.clone()));
        Ok(())
    });
    if result.is_err()
        && let Some(files) = &rewritten
    {
        remove_files(catalog, files);
    }
    Ok(result?)
}

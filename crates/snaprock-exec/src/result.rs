//! What a statement returns: rows with column descriptions, or an OK with a count.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use snaprock_storage::CatalogState;

use crate::Result;

/// A result column: the name the client sees and the Arrow field the values come in.
#[derive(Debug, Clone)]
pub struct OutputColumn {
    pub name: String,
    /// Table the column comes from ("" for expressions).
    pub table: String,
    pub field: Field,
}

/// Rows of a result set: batches already computed, then (for queries) a stream.
pub struct ResultSet {
    pub columns: Vec<OutputColumn>,
    pub batches: Vec<RecordBatch>,
    pub stream: Option<SendableRecordBatchStream>,
    /// The catalog state the query reads: held (never read) so its files stay on disk while
    /// the rows stream.
    #[allow(dead_code)]
    pub(crate) snapshot: Option<Arc<CatalogState>>,
}

impl std::fmt::Debug for ResultSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultSet")
            .field("columns", &self.columns)
            .field("batches", &self.batches.len())
            .finish()
    }
}

impl ResultSet {
    pub fn new(columns: Vec<OutputColumn>, batches: Vec<RecordBatch>) -> Self {
        ResultSet {
            columns,
            batches,
            stream: None,
            snapshot: None,
        }
    }

    /// Reads the whole result (tests and small internal results).
    pub async fn collect(mut self) -> Result<Vec<RecordBatch>> {
        let mut out = std::mem::take(&mut self.batches);
        if let Some(mut stream) = self.stream.take() {
            while let Some(b) = stream.next().await {
                out.push(b?);
            }
        }
        Ok(out)
    }

    /// The column names and the whole result as text cells (`None` is NULL), for the server's
    /// own readers of SHOW results (the console).
    pub async fn text_rows(self) -> Result<(Vec<String>, Vec<Vec<Option<String>>>)> {
        use datafusion::arrow::array::Array;
        use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
        let names = self.columns.iter().map(|c| c.name.clone()).collect();
        let options = FormatOptions::default();
        let mut rows = Vec::new();
        for batch in self.collect().await? {
            let formatters = batch
                .columns()
                .iter()
                .map(|array| ArrayFormatter::try_new(array.as_ref(), &options))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| crate::ExecError::Execution(e.to_string()))?;
            for row in 0..batch.num_rows() {
                let cells = batch
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(array, f)| (!array.is_null(row)).then(|| f.value(row).to_string()))
                    .collect();
                rows.push(cells);
            }
        }
        Ok((names, rows))
    }
}

/// The outcome of one statement.
#[derive(Debug)]
pub enum Output {
    Rows(ResultSet),
    Ok { affected_rows: u64, info: String },
}

impl Output {
    pub fn ok() -> Self {
        Output::Ok {
            affected_rows: 0,
            info: String::new(),
        }
    }

    pub fn affected(rows: u64) -> Self {
        Output::Ok {
            affected_rows: rows,
            info: String::new(),
        }
    }
}

/// A typed cell for result sets built by hand (SHOW, information_schema).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(Some(s.to_string()))
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(Some(s))
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(Some(v))
    }
}

impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Int(Some(v as i64))
    }
}

impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        Cell::Int(v)
    }
}

/// Kind of a hand-built column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    Int,
}

/// A hand-built table: display names, and rows of cells. Field names are lower-cased display
/// names so that SQL over it (SHOW ... WHERE) resolves like any table.
pub struct RowsBuilder {
    pub names: Vec<String>,
    pub kinds: Vec<CellKind>,
    pub rows: Vec<Vec<Cell>>,
}

impl RowsBuilder {
    pub fn new(columns: &[(&str, CellKind)]) -> Self {
        RowsBuilder {
            names: columns.iter().map(|(n, _)| n.to_string()).collect(),
            kinds: columns.iter().map(|(_, k)| *k).collect(),
            rows: Vec::new(),
        }
    }

    /// All-text columns.
    pub fn text(columns: &[&str]) -> Self {
        let cols: Vec<(&str, CellKind)> = columns.iter().map(|c| (*c, CellKind::Text)).collect();
        Self::new(&cols)
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.names
                .iter()
                .zip(&self.kinds)
                .map(|(n, k)| {
                    let t = match k {
                        CellKind::Text => DataType::Utf8,
                        CellKind::Int => DataType::Int64,
                    };
                    Field::new(n.to_lowercase(), t, true)
                })
                .collect::<Vec<_>>(),
        ))
    }

    pub fn batch(&self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| -> ArrayRef {
                match kind {
                    CellKind::Text => Arc::new(StringArray::from_iter(self.rows.iter().map(|r| {
                        match &r[i] {
                            Cell::Text(s) => s.clone(),
                            Cell::Int(v) => v.map(|v| v.to_string()),
                        }
                    }))),
                    CellKind::Int => Arc::new(Int64Array::from_iter(self.rows.iter().map(|r| {
                        match &r[i] {
                            Cell::Int(v) => *v,
                            Cell::Text(s) => s.as_ref().and_then(|s| s.parse().ok()),
                        }
                    }))),
                }
            })
            .collect();
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }

    /// The result set as the client sees it (display names).
    pub fn into_result(self) -> Result<ResultSet> {
        let batch = self.batch()?;
        let columns = self
            .names
            .iter()
            .zip(batch.schema().fields().iter())
            .map(|(name, f)| OutputColumn {
                name: name.clone(),
                table: String::new(),
                field: f.as_ref().clone(),
            })
            .collect();
        Ok(ResultSet::new(columns, vec![batch]))
    }
}

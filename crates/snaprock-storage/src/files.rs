//! Writing and reading the Parquet data files of partitions.
//!
//! Files are written under `data/t<table>/p<partition>/` with unique names, their SHA-256 is
//! computed while the bytes are written (no second read), and they are fsynced before the
//! catalog commit that makes them visible.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::{ArrowWriter, ProjectionMask};
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use crate::locations::FileHome;
use crate::meta::DataFile;
use crate::{Result, StorageError};

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 512 * 1024;

/// A `Write` that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique file name: time, process-wide counter and randomness (no coordination needed).
fn unique_file_name() -> String {
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let n = FILE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::random();
    format!("{nanos:x}-{n:x}-{r:08x}.parquet")
}

/// A new, unused path (relative to the data root) for a file of partition `partition_id` of
/// table `table_id`.
pub fn new_data_file_path(table_id: u64, partition_id: u64) -> String {
    format!("t{table_id}/p{partition_id}/{}", unique_file_name())
}

/// Writes one Parquet data file, streaming batches into it.
pub struct DataFileWriter {
    writer: Option<ArrowWriter<HashingWriter<BufWriter<File>>>>,
    relative: String,
    absolute: PathBuf,
    rows: u64,
}

impl DataFileWriter {
    /// Creates a new file for partition `partition_id` of table `table_id` under `data_root`.
    pub fn create(
        data_root: &Path,
        table_id: u64,
        partition_id: u64,
        schema: SchemaRef,
    ) -> Result<Self> {
        let relative = new_data_file_path(table_id, partition_id);
        let absolute = data_root.join(&relative);
        if let Some(dir) = absolute.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        }
        let file = File::create(&absolute).map_err(|e| StorageError::io(&absolute, e))?;
        let sink = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(sink, schema, Some(props))?;
        Ok(DataFileWriter {
            writer: Some(writer),
            relative,
            absolute,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.write(batch)?;
            self.rows += batch.num_rows() as u64;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes written so far (buffered row groups not included).
    pub fn bytes_written(&self) -> usize {
        self.writer
            .as_ref()
            .map(|w| w.bytes_written())
            .unwrap_or_default()
    }

    /// Finishes the file and fsyncs it.
    pub fn finish(mut self) -> Result<DataFile> {
        let writer = self.writer.take().ok_or(StorageError::Conflict)?;
        let sink = writer.into_inner()?;
        let HashingWriter {
            inner,
            hasher,
            bytes,
        } = sink;
        let file = inner
            .into_inner()
            .map_err(|e| StorageError::io(&self.absolute, e.into_error()))?;
        file.sync_all()
            .map_err(|e| StorageError::io(&self.absolute, e))?;
        Ok(DataFile {
            path: self.relative.clone(),
            rows: self.rows,
            bytes,
            sha256: hex(&hasher.finalize()),
            home: FileHome::Local,
            deleted: None,
        })
    }

    /// Removes the unfinished file (a failed statement leaves nothing behind).
    pub fn abort(mut self) {
        self.writer.take();
        let _ = std::fs::remove_file(&self.absolute);
    }
}

impl Drop for DataFileWriter {
    fn drop(&mut self) {
        // Dropped without finish(): the statement failed; the file must not linger.
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.absolute);
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `batches` into one new data file (None when there are no rows).
pub fn write_batches(
    data_root: &Path,
    table_id: u64,
    partition_id: u64,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<Option<DataFile>> {
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(None);
    }
    let mut writer = DataFileWriter::create(data_root, table_id, partition_id, schema)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish().map(Some)
}

/// Reads a data file's rows, without its deleted ones.
pub fn read_data_file(data_root: &Path, file: &DataFile) -> Result<Vec<RecordBatch>> {
    let batches = read_data_file_in_full(data_root, file, None)?;
    without_deleted(file, batches)
}

/// Reads every row of a data file in the data directory, deleted ones too, in file order;
/// `columns`: only those columns (indexes into the file's columns, ascending).
pub(crate) fn read_data_file_in_full(
    data_root: &Path,
    file: &DataFile,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>> {
    let path = data_root.join(&file.path);
    let f = File::open(&path).map_err(|e| StorageError::io(&path, e))?;
    read_parquet(f, columns)
}

/// Reads every row of a data file held in memory (one fetched from a repository or volume).
pub(crate) fn read_parquet_bytes(
    bytes: bytes::Bytes,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>> {
    read_parquet(bytes, columns)
}

fn read_parquet<T: datafusion::parquet::file::reader::ChunkReader + 'static>(
    source: T,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>> {
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(source)?.with_batch_size(8192);
    if let Some(columns) = columns {
        let mask = ProjectionMask::roots(builder.parquet_schema(), columns.iter().copied());
        builder = builder.with_projection(mask);
    }
    let mut out = Vec::new();
    for batch in builder.build()? {
        out.push(batch?);
    }
    Ok(out)
}

/// `batches` (all of `file`'s rows, in order) without the rows its delete vector names.
pub(crate) fn without_deleted(
    file: &DataFile,
    batches: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    match &file.deleted {
        Some(deleted) => deleted.filter(batches),
        None => Ok(batches),
    }
}

/// Writes a small private file (mode 0600: it may hold secrets) atomically: a temporary file,
/// fsync, rename over `path`, fsync of the directory. A crash leaves the old or the new file.
pub fn write_private_file_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    write_atomic_via(&PathBuf::from(tmp_name), path, body)
}

/// [`write_private_file_atomic`] through a temporary file of its own, for a file that two
/// writers may write at once (the same bytes: a data cache copy): each renames a whole file.
pub(crate) fn write_shared_file_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    write_atomic_via(&PathBuf::from(tmp_name), path, body)
}

fn write_atomic_via(tmp: &Path, path: &Path, body: &[u8]) -> std::io::Result<()> {
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The length of a Parquet file's metadata, from its last 8 bytes (length and `PAR1`).
pub fn parquet_metadata_len(last8: &[u8]) -> Result<u64> {
    match last8 {
        [a, b, c, d, b'P', b'A', b'R', b'1'] => Ok(u64::from(u32::from_le_bytes([*a, *b, *c, *d]))),
        _ => Err(StorageError::InvalidDefinition(
            "not a Parquet file (no PAR1 footer)".into(),
        )),
    }
}

/// The rows of a Parquet file, from its metadata (the bytes [`parquet_metadata_len`] names).
pub fn parquet_rows(metadata: &[u8]) -> Result<u64> {
    let meta =
        datafusion::parquet::file::metadata::ParquetMetaDataReader::decode_metadata(metadata)?;
    Ok(meta.file_metadata().num_rows().max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn write_then_read_with_digest() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from(vec![1, 2, 3]))],
        )
        .unwrap();
        let file = write_batches(dir.path(), 1, 2, schema, std::slice::from_ref(&batch))
            .unwrap()
            .unwrap();
        assert_eq!(file.rows, 3);
        let bytes = std::fs::read(dir.path().join(&file.path)).unwrap();
        assert_eq!(bytes.len() as u64, file.bytes);
        assert_eq!(hex(&Sha256::digest(&bytes)), file.sha256);
        let back = read_data_file(dir.path(), &file).unwrap();
        assert_eq!(back, vec![batch]);
    }

    #[test]
    fn dropped_writer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let w = DataFileWriter::create(dir.path(), 1, 1, schema).unwrap();
        drop(w);
        let files: Vec<_> = std::fs::read_dir(dir.path().join("t1/p1"))
            .unwrap()
            .collect();
        assert!(files.is_empty());
    }
}

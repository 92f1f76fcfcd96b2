//! Delete vectors: the rows of a data file that an upsert or a DELETE removed without
//! rewriting the file (StarRocks' primary-key tables do the same with their delete vectors).
//!
//! A data file stays immutable and content-addressed; what changes is its entry in the
//! catalog, which gains the positions of its deleted rows. Scans skip them (a row selection
//! per row group), [`crate::Catalog::read_file`] filters them out, and compaction rewrites a
//! file whose rows are mostly deleted. In the catalog's JSON (and in snapshots) a vector is the
//! portable Roaring bitmap serialization, base64-encoded: a million scattered positions take
//! about 2 MB, runs of positions a few bytes each.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use roaring::RoaringBitmap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Result;

/// Positions (0-based, in file order) of a data file's deleted rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteVector(RoaringBitmap);

impl Eq for DeleteVector {}

impl DeleteVector {
    pub fn from_positions(positions: impl IntoIterator<Item = u32>) -> Self {
        DeleteVector(positions.into_iter().collect())
    }

    /// How many rows are deleted.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, position: u32) -> bool {
        self.0.contains(position)
    }

    /// This vector with `other`'s positions too.
    pub fn union(&self, other: &DeleteVector) -> DeleteVector {
        DeleteVector(&self.0 | &other.0)
    }

    /// Which of the rows at positions `start..start + rows` are kept (not deleted).
    pub fn keep_mask(&self, start: u64, rows: usize) -> BooleanArray {
        (0..rows as u64)
            .map(|i| {
                let position = u32::try_from(start + i).unwrap_or(u32::MAX);
                Some(!self.0.contains(position))
            })
            .collect()
    }

    /// `batches` (a file's rows in order) without the deleted rows.
    pub fn filter(&self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let mut start = 0u64;
        let mut out = Vec::with_capacity(batches.len());
        for batch in batches {
            let rows = batch.num_rows();
            let mask = self.keep_mask(start, rows);
            start += rows as u64;
            if mask.true_count() == rows {
                out.push(batch);
            } else if mask.true_count() > 0 {
                out.push(filter_record_batch(&batch, &mask)?);
            }
        }
        Ok(out)
    }

    /// The deleted positions in `start..end`, ascending, relative to `start`.
    pub fn positions_in(&self, start: u64, end: u64) -> impl Iterator<Item = u64> + '_ {
        let low = u32::try_from(start).unwrap_or(u32::MAX);
        let high = u32::try_from(end).unwrap_or(u32::MAX);
        self.0.range(low..high).map(move |p| u64::from(p) - start)
    }
}

impl Serialize for DeleteVector {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(self.0.serialized_size());
        self.0
            .serialize_into(&mut bytes)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&STANDARD.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for DeleteVector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        RoaringBitmap::deserialize_from(bytes.as_slice())
            .map(DeleteVector)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int32Array};
    use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use std::sync::Arc;

    #[test]
    fn round_trips_through_json() {
        let v = DeleteVector::from_positions([1, 5, 6, 7, 1_000_000]);
        let json = serde_json::to_string(&v).unwrap();
        let back: DeleteVector = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.len(), 5);
        assert!(serde_json::from_str::<DeleteVector>("\"not base64!\"").is_err());
    }

    #[test]
    fn filters_rows_across_batches() {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, false)]));
        let batch = |v: Vec<i32>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(v))]).unwrap()
        };
        let v = DeleteVector::from_positions([0, 3, 4]);
        let kept = v
            .filter(vec![batch(vec![10, 11, 12]), batch(vec![13, 14, 15])])
            .unwrap();
        let values: Vec<i32> = kept
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
            .collect();
        assert_eq!(values, [11, 12, 15]);
        assert_eq!(v.positions_in(3, 6).collect::<Vec<_>>(), [0, 1]);
    }
}

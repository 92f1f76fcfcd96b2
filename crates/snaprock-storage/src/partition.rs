//! Partition bounds as typed values, and routing of rows to partitions.
//!
//! Bounds are stored as canonical text; here they become `ScalarValue`s of the column's Arrow
//! type. Routing computes one boolean mask per partition with Arrow's comparison kernels
//! (vectorized, no per-row work) and fails the whole batch if any row fits no partition.

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::kernels::boolean::{and, not, or, or_kleene};
use datafusion::arrow::compute::kernels::cmp::{eq, gt, gt_eq, lt};
use datafusion::arrow::compute::{filter_record_batch, is_null, prep_null_mask_filter};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::common::ScalarValue;

use crate::meta::{PartitionBounds, PartitionMeta, Partitioning, TableMeta};
use crate::types::ColumnType;
use crate::{Result, StorageError};

/// Checks `text` is a valid value of `column_type` and returns its canonical text.
pub fn normalize_bound(column: &str, column_type: &ColumnType, text: &str) -> Result<String> {
    let invalid = |reason: String| StorageError::InvalidPartitionValue {
        column: column.to_string(),
        value: text.to_string(),
        reason,
    };
    let scalar = ScalarValue::try_from_string(text.to_string(), &column_type.arrow_type())
        .map_err(|e| invalid(e.to_string()))?;
    if scalar.is_null() {
        return Err(invalid("NULL is not a partition bound".into()));
    }
    Ok(scalar_text(&scalar))
}

/// The canonical text of a bound value (DATETIME as `yyyy-MM-dd HH:mm:ss`).
pub(crate) fn scalar_text(scalar: &ScalarValue) -> String {
    match scalar {
        ScalarValue::TimestampMicrosecond(Some(us), _) => {
            match chrono::DateTime::from_timestamp_micros(*us) {
                Some(dt) if dt.timestamp_subsec_micros() == 0 => {
                    dt.format("%Y-%m-%d %H:%M:%S").to_string()
                }
                Some(dt) => dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                None => scalar.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// Typed values of bound texts for the given column types.
pub fn bounds_to_scalars(values: &[String], types: &[DataType]) -> Result<Vec<ScalarValue>> {
    values
        .iter()
        .zip(types)
        .map(|(v, t)| ScalarValue::try_from_string(v.clone(), t).map_err(StorageError::from))
        .collect()
}

/// Typed values of a list partition's tuple; NULL is a null of the column's type.
fn list_scalars(values: &[Option<String>], types: &[DataType]) -> Result<Vec<ScalarValue>> {
    values
        .iter()
        .zip(types)
        .map(|(v, t)| match v {
            Some(v) => ScalarValue::try_from_string(v.clone(), t).map_err(StorageError::from),
            None => ScalarValue::try_from(t).map_err(StorageError::from),
        })
        .collect()
}

enum TypedBounds {
    All,
    Range {
        lower: Vec<ScalarValue>,
        upper: Option<Vec<ScalarValue>>,
    },
    List {
        values: Vec<Vec<ScalarValue>>,
    },
}

/// Splits batches of a table's rows by partition, given the rows' partition keys (see
/// [`TableMeta::partition_keys`]).
pub struct PartitionRouter {
    partitions: Vec<TypedBounds>,
}

impl PartitionRouter {
    pub fn new(table: &TableMeta) -> Result<Self> {
        let types = table.partition_column_types()?;
        let partitions = table
            .partitions
            .iter()
            .map(|p| {
                Ok(match &p.bounds {
                    PartitionBounds::All => TypedBounds::All,
                    PartitionBounds::Range { lower, upper } => TypedBounds::Range {
                        lower: bounds_to_scalars(lower, &types)?,
                        upper: upper
                            .as_ref()
                            .map(|u| bounds_to_scalars(u, &types))
                            .transpose()?,
                    },
                    PartitionBounds::List { values } => TypedBounds::List {
                        values: values
                            .iter()
                            .map(|v| list_scalars(v, &types))
                            .collect::<Result<_>>()?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PartitionRouter { partitions })
    }

    /// Which of `rows` rows with partition keys `keys` fit no partition.
    pub fn uncovered(&self, keys: &[ArrayRef], rows: usize) -> Result<BooleanArray> {
        let mut covered = BooleanArray::from(vec![false; rows]);
        for bounds in &self.partitions {
            covered = or(&covered, &partition_mask(bounds, keys, rows)?)?;
        }
        Ok(not(&covered)?)
    }

    /// The rows of `batch` (whose partition keys are `keys`) for each partition index that
    /// receives any.
    pub fn split(
        &self,
        batch: &RecordBatch,
        keys: &[ArrayRef],
    ) -> Result<Vec<(usize, RecordBatch)>> {
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        if let [TypedBounds::All] = self.partitions.as_slice() {
            return Ok(vec![(0, batch.clone())]);
        }
        let mut covered = BooleanArray::from(vec![false; batch.num_rows()]);
        let mut out = Vec::new();
        for (index, bounds) in self.partitions.iter().enumerate() {
            let mask = partition_mask(bounds, keys, batch.num_rows())?;
            if mask.true_count() > 0 {
                out.push((index, filter_record_batch(batch, &mask)?));
                covered = or(&covered, &mask)?;
            }
        }
        if covered.true_count() < batch.num_rows() {
            let row = (0..covered.len()).find(|i| !covered.value(*i)).unwrap_or(0);
            let values: Vec<String> = keys
                .iter()
                .map(|k| array_value_to_string(k, row).unwrap_or_else(|_| "?".into()))
                .collect();
            let shown = if values.len() == 1 {
                values[0].clone()
            } else {
                format!("({})", values.join(", "))
            };
            return Err(StorageError::NoPartitionForValue(shown));
        }
        Ok(out)
    }
}

fn partition_mask(bounds: &TypedBounds, keys: &[ArrayRef], rows: usize) -> Result<BooleanArray> {
    let mask = match bounds {
        TypedBounds::All => BooleanArray::from(vec![true; rows]),
        TypedBounds::Range { lower, upper } => {
            let above = tuple_ge(keys, lower, rows)?;
            let below = match upper {
                Some(u) => tuple_lt(keys, u, rows)?,
                None => BooleanArray::from(vec![true; rows]),
            };
            let mut mask = nulls_false(&and(&above, &below)?);
            if lower.first().is_none_or(is_time_minimum) {
                // NULL partition keys sort first: they belong to the partition starting at
                // MINVALUE, or at 0000-01-01 (expression partitioning's partition for NULL).
                if let Some(first) = keys.first() {
                    mask = or(&mask, &is_null(first.as_ref())?)?;
                }
            }
            mask
        }
        TypedBounds::List { values } => {
            let mut mask = BooleanArray::from(vec![false; rows]);
            for tuple in values {
                let mut m = BooleanArray::from(vec![true; rows]);
                for (k, v) in keys.iter().zip(tuple) {
                    let matches = if v.is_null() {
                        is_null(k.as_ref())?
                    } else {
                        eq(k, &v.to_scalar()?)?
                    };
                    m = and(&m, &matches)?;
                }
                mask = or_kleene(&mask, &nulls_false(&m))?;
            }
            mask
        }
    };
    Ok(mask)
}

/// Whether `value` is the least DATE or DATETIME, 0000-01-01 (StarRocks' minimum).
fn is_time_minimum(value: &ScalarValue) -> bool {
    const DAYS: i32 = -719_528; // 0000-01-01 from 1970-01-01
    match value {
        ScalarValue::Date32(Some(d)) => *d == DAYS,
        ScalarValue::TimestampMicrosecond(Some(t), _) => *t == i64::from(DAYS) * 86_400_000_000,
        _ => false,
    }
}

/// NULL mask entries become false (`prep_null_mask_filter` requires a null buffer).
fn nulls_false(mask: &BooleanArray) -> BooleanArray {
    if mask.null_count() == 0 {
        mask.clone()
    } else {
        prep_null_mask_filter(mask)
    }
}

/// Lexicographic `row >= bound` on the bound's prefix (missing trailing values are MINVALUE).
fn tuple_ge(keys: &[ArrayRef], bound: &[ScalarValue], rows: usize) -> Result<BooleanArray> {
    let Some((first, rest)) = bound.split_first() else {
        return Ok(BooleanArray::from(vec![true; rows]));
    };
    let scalar = first.to_scalar()?;
    if rest.is_empty() {
        return Ok(gt_eq(&keys[0], &scalar)?);
    }
    let greater = gt(&keys[0], &scalar)?;
    let equal = eq(&keys[0], &scalar)?;
    Ok(or(
        &greater,
        &and(&equal, &tuple_ge(&keys[1..], rest, rows)?)?,
    )?)
}

/// Lexicographic `row < bound` on the bound's prefix (missing trailing values are MINVALUE).
fn tuple_lt(keys: &[ArrayRef], bound: &[ScalarValue], rows: usize) -> Result<BooleanArray> {
    let Some((first, rest)) = bound.split_first() else {
        return Ok(BooleanArray::from(vec![false; rows]));
    };
    let scalar = first.to_scalar()?;
    let less = lt(&keys[0], &scalar)?;
    if rest.is_empty() {
        return Ok(less);
    }
    let equal = eq(&keys[0], &scalar)?;
    Ok(or(
        &less,
        &and(&equal, &tuple_lt(&keys[1..], rest, rows)?)?,
    )?)
}

impl TableMeta {
    /// The partition keys of `batch`'s rows (the table's rows), in partitioning order. Keys
    /// generated from expressions are not in `batch`: the caller, which can evaluate
    /// expressions, passes them as `generated` (in the order of the partitioning's generated
    /// columns).
    pub fn partition_keys(
        &self,
        batch: &RecordBatch,
        generated: &[ArrayRef],
    ) -> Result<Vec<ArrayRef>> {
        self.partitioning
            .columns()
            .iter()
            .map(|name| {
                if let Some((i, _)) = self.column(name) {
                    return Ok(batch.column(i).clone());
                }
                self.partitioning
                    .generated()
                    .iter()
                    .position(|g| g.name.eq_ignore_ascii_case(name))
                    .and_then(|i| generated.get(i).cloned())
                    .ok_or_else(|| {
                        StorageError::InvalidDefinition(format!(
                            "no values for partition key '{name}'"
                        ))
                    })
            })
            .collect()
    }

    /// The Arrow types of the partition columns, in partitioning order.
    pub fn partition_column_types(&self) -> Result<Vec<DataType>> {
        self.partitioning
            .columns()
            .iter()
            .map(|c| {
                self.partition_key_type(c)
                    .map(|t| t.arrow_type())
                    .ok_or_else(|| {
                        StorageError::InvalidDefinition(format!("Unknown partition column '{c}'"))
                    })
            })
            .collect()
    }

    /// The first partition sharing values with `bounds` (range and list partitions must not).
    pub fn overlapping_partition(
        &self,
        bounds: &PartitionBounds,
    ) -> Result<Option<&PartitionMeta>> {
        let types = self.partition_column_types()?;
        for p in &self.partitions {
            let overlap = match (&p.bounds, bounds) {
                (
                    PartitionBounds::Range {
                        lower: l1,
                        upper: u1,
                    },
                    PartitionBounds::Range {
                        lower: l2,
                        upper: u2,
                    },
                ) => {
                    let l1 = bounds_to_scalars(l1, &types)?;
                    let l2 = bounds_to_scalars(l2, &types)?;
                    let u1 = u1
                        .as_ref()
                        .map(|u| bounds_to_scalars(u, &types))
                        .transpose()?;
                    let u2 = u2
                        .as_ref()
                        .map(|u| bounds_to_scalars(u, &types))
                        .transpose()?;
                    // [l1, u1) and [l2, u2) intersect iff l1 < u2 and l2 < u1.
                    u2.as_ref().is_none_or(|u2| l1 < *u2) && u1.as_ref().is_none_or(|u1| l2 < *u1)
                }
                (PartitionBounds::List { values: a }, PartitionBounds::List { values: b }) => {
                    a.iter().any(|v| b.contains(v))
                }
                _ => false,
            };
            if overlap {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// Fails with StarRocks' text if partition `name` with `bounds` would overlap another.
    pub fn check_no_overlap(&self, bounds: &PartitionBounds, name: &str) -> Result<()> {
        match self.overlapping_partition(bounds)? {
            Some(p) => Err(StorageError::PartitionOverlap(format!(
                "Range of partition {name} is intersected with the range of partition {}",
                p.name
            ))),
            None => Ok(()),
        }
    }

    /// Keeps range partitions ordered by their lower bound.
    pub fn sort_partitions(&mut self) {
        if !matches!(self.partitioning, Partitioning::Range { .. }) {
            return;
        }
        let types = self.partition_column_types().unwrap_or_default();
        let key = |p: &PartitionMeta| match &p.bounds {
            PartitionBounds::Range { lower, .. } => {
                bounds_to_scalars(lower, &types).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        self.partitions.sort_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::*;
    use datafusion::arrow::array::{Date32Array, Int32Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn table(partitions: Vec<(&str, PartitionBounds)>) -> TableMeta {
        TableMeta {
            id: 1,
            name: "t".into(),
            columns: vec![ColumnMeta {
                name: "dt".into(),
                column_type: ColumnType::Date,
                nullable: true,
                default: None,
                comment: None,
                is_key: true,
                aggregation: None,
                auto_increment: false,
            }],
            keys_model: KeysModel::Duplicate,
            key_columns: vec!["dt".into()],
            partitioning: Partitioning::Range {
                columns: vec!["dt".into()],
                auto: None,
                generated: vec![],
            },
            partitions: partitions
                .into_iter()
                .enumerate()
                .map(|(i, (name, bounds))| PartitionMeta {
                    id: i as u64,
                    name: name.into(),
                    bounds,
                    version: 1,
                    version_time: String::new(),
                    files: vec![],
                })
                .collect(),
            distribution: DistributionMeta::Random { buckets: None },
            properties: vec![],
            comment: None,
            created_at: String::new(),
            updated_at: String::new(),
            materialized_view: None,
            indexes: Vec::new(),
        }
    }

    fn dates(days: Vec<Option<i32>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("dt", DataType::Date32, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Date32Array::from(days))]).unwrap()
    }

    #[test]
    fn rows_go_to_their_range() {
        let t = table(vec![
            (
                "p1",
                PartitionBounds::Range {
                    lower: vec![],
                    upper: Some(vec!["2024-01-01".into()]),
                },
            ),
            (
                "p2",
                PartitionBounds::Range {
                    lower: vec!["2024-01-01".into()],
                    upper: None,
                },
            ),
        ]);
        let router = PartitionRouter::new(&t).unwrap();
        // 2023-12-31 = 19722, 2024-01-01 = 19723
        let batch = dates(vec![Some(19722), Some(19723), None, Some(30000)]);
        let parts = router
            .split(&batch, &t.partition_keys(&batch, &[]).unwrap())
            .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, 0);
        assert_eq!(parts[0].1.num_rows(), 2); // 2023-12-31 and NULL
        assert_eq!(parts[1].1.num_rows(), 2);
    }

    #[test]
    fn a_row_outside_every_partition_fails_the_batch() {
        let t = table(vec![(
            "p1",
            PartitionBounds::Range {
                lower: vec!["2024-01-01".into()],
                upper: Some(vec!["2025-01-01".into()]),
            },
        )]);
        let router = PartitionRouter::new(&t).unwrap();
        let batch = dates(vec![Some(19723), Some(20089)]);
        let err = router
            .split(&batch, &t.partition_keys(&batch, &[]).unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Table has no partition for value 2025-01-01"
        );
    }

    #[test]
    fn list_partitions() {
        let mut t = table(vec![
            (
                "pa",
                PartitionBounds::List {
                    values: vec![vec![Some("1".into())], vec![Some("2".into())]],
                },
            ),
            (
                "pb",
                PartitionBounds::List {
                    values: vec![vec![Some("3".into())]],
                },
            ),
        ]);
        t.columns[0].column_type = ColumnType::Int;
        let schema = Arc::new(Schema::new(vec![Field::new("dt", DataType::Int32, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![1, 3, 2]))]).unwrap();
        let keys = t.partition_keys(&batch, &[]).unwrap();
        let parts = PartitionRouter::new(&t)
            .unwrap()
            .split(&batch, &keys)
            .unwrap();
        assert_eq!(
            parts
                .iter()
                .map(|(i, b)| (*i, b.num_rows()))
                .collect::<Vec<_>>(),
            vec![(0, 2), (1, 1)]
        );
    }

    #[test]
    fn bounds_are_normalized() {
        assert_eq!(
            normalize_bound("d", &ColumnType::DateTime, "2024-01-01").unwrap(),
            "2024-01-01 00:00:00"
        );
        assert_eq!(normalize_bound("d", &ColumnType::Int, "007").unwrap(), "7");
        assert!(normalize_bound("d", &ColumnType::Date, "not a date").is_err());
    }
}
